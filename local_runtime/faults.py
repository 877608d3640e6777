"""A tests-only fault of the local runtime, so a test can crash it halfway through a request.

LOCAL_FAULT_HANG_BEFORE=<Operation> (e.g. SendMessage) makes every call of that AWS operation made by the functions
hang until the process is killed, after logging "hanging before <Operation>". Refused in production: the hook lives
here, in the local runtime, never in the functions' code.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("local_runtime")
HANG_BEFORE = "LOCAL_FAULT_HANG_BEFORE"


def install_faults(environ: Mapping[str, str]) -> None:
    operation = environ.get(HANG_BEFORE)
    if not operation:
        return
    if environ.get("ENVIRONMENT") == "production":
        raise RuntimeError(f"{HANG_BEFORE} is a test fault, refused in production")
    log.warning("%s=%s: every %s of the functions hangs (tests only)", HANG_BEFORE, operation, operation)

    def hang(model: Any, **_: Any) -> None:
        if model.name == operation:
            log.warning("hanging before %s", operation)
            threading.Event().wait()  # until the test kills the process

    # The functions' clients come from one botocore session (clara.aws) and copy its handlers when they are created.
    from clara.aws import aws_session

    aws_session().register("before-call", hang, unique_id="local-fault-hang")

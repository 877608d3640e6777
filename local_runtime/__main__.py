"""`python -m local_runtime [--template template.yaml]`: serve every function of the template on one port."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import warnings
from types import FrameType

from local_runtime.server import LocalRuntime, Settings
from local_runtime.template import load_template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    arguments = parser.parse_args(argv)

    # Our own lines at INFO; botocore's and werkzeug's (moto's request log included) only when they matter.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("local_runtime").setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Metrics are disabled locally, so Powertools' "no metrics to publish" would follow every request.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

    runtime = LocalRuntime(load_template(arguments.template), Settings.from_environ())

    def stop(signum: int, _: FrameType | None) -> None:
        logging.getLogger("local_runtime").info("%s: stopping", signal.Signals(signum).name)
        runtime.stop_event.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    runtime.start()
    while not runtime.stop_event.wait(0.5):
        pass
    runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

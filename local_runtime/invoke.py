"""`python -m local_runtime.invoke FUNCTION EVENT` (`make invoke`): `sam local invoke` without Docker.

One event through the function's real `lambda_handler`, in this process, with the environment `sam local invoke
--env-vars events/env.json --parameter-overrides <DEVELOPMENT_OVERRIDES>` gives it: the template's variables
(Globals merged with the function's own) with the parameters resolved, a resource's `!Ref` as its logical id
(as SAM does), then the shell's values, then events/env.json's, for the names the template declares and no
others. events/env.json points the functions at the AWS emulation of `make run` as a Docker container reaches it
(host.docker.internal:5010); here, on the same machine, that host is 127.0.0.1 and the port the MOTO_PORT `make run`
honours, when set. The response is printed as SAM prints it: the handler's return value, as JSON, on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_runtime.environment import LOCAL_PARAMETERS, function_environment
from local_runtime.events import REGION
from local_runtime.functions import FunctionRegistry, add_layers_to_path
from local_runtime.server import Settings
from local_runtime.template import Template, load_template

# The stack parameters of a development mode, as `make run` sets them (LOCAL_PARAMETERS, and the local analyzer
# it gives the functions), in `sam local invoke --parameter-overrides` syntax.
DEVELOPMENT_PARAMETERS = {**LOCAL_PARAMETERS, "Analyzer": "local"}
DEVELOPMENT_OVERRIDES = " ".join(f"{name}={value}" for name, value in DEVELOPMENT_PARAMETERS.items())
ENV_VARS_FILE = Path("events/env.json")
GENERATED_EVENTS = Path("events/local")  # where `make events` writes the events of the running `make run`
DOCKER_HOST = "host.docker.internal"  # how a Lambda container of `sam local invoke` reaches this machine
ENV_VARS_MOTO_PORT = 5010  # the emulation's port in events/env.json: `make run`'s MOTO_PORT unless set


def parse_parameter_overrides(text: str) -> dict[str, str]:
    """`Name=value Other=value` (the short form `sam --parameter-overrides` takes) as a dict."""
    overrides = {}
    for pair in text.split():
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise ValueError(f"parameter override {pair!r} is not Name=value")
        overrides[name] = value
    return overrides


def file_overrides(env_vars: Mapping[str, Any], function_id: str) -> dict[str, str]:
    """What an --env-vars file sets for one function: its "Parameters" (every function), then the function's own."""
    return {**env_vars.get("Parameters", {}), **env_vars.get(function_id, {})}


def on_this_machine(value: str, moto_port: int = 0) -> str:
    """A URL of events/env.json as this machine reaches it: host.docker.internal is 127.0.0.1 here, and the
    emulation's port (5010 there) is `moto_port`, the MOTO_PORT `make run` was started with, when one is given."""
    local = value.replace(f"//{DOCKER_HOST}:", "//127.0.0.1:").replace(f"//{DOCKER_HOST}/", "//127.0.0.1/")
    if moto_port:
        local = re.sub(rf"//127\.0\.0\.1:{ENV_VARS_MOTO_PORT}(?!\d)", f"//127.0.0.1:{moto_port}", local)
    return local


def invoke_environment(
    template: Template,
    function_id: str,
    env_vars: Mapping[str, Any],
    parameters: Mapping[str, str],
    shell: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The function's declared variables as `sam local invoke` resolves them (template < shell < --env-vars
    file), with every host.docker.internal URL made 127.0.0.1 (on the shell's MOTO_PORT, when set)."""
    shell = os.environ if shell is None else shell
    moto_port = Settings.from_environ(shell).moto_port
    declared = function_environment(template, function_id, physical_ids={}, parameters=dict(parameters))
    overrides = file_overrides(env_vars, function_id)
    environment = {}
    for name, value in declared.items():
        value = shell.get(name, value)
        value = overrides.get(name, value)
        environment[name] = on_this_machine(str(value), moto_port)
    return environment


def emulator_answers(endpoint_url: str) -> bool:
    parts = urlsplit(endpoint_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1):
            return True
    except OSError:
        return False


def emulator_refused(endpoint: str) -> str:
    """The hint when nothing answers where the functions would reach the AWS emulation."""
    port = os.environ.get("MOTO_PORT") or f"unset: events/env.json's {ENV_VARS_MOTO_PORT}"
    return f"nothing answers at {endpoint}, where `make run` would serve its AWS emulation (MOTO_PORT {port})"


def read_json(path: Path, what: str) -> Any:
    """A JSON file of the command line, or a ValueError that names the file and what is wrong with it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = " (`make events` writes it)" if GENERATED_EVENTS in path.parents else ""
        raise ValueError(f"no {what} file {path}{hint}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read the {what} file {path}: {error}") from None


def invoke(template: Template, function_id: str, event: Any, environment: Mapping[str, str]) -> Any:
    """Run the handler once in this process, with `environment` added to the process's."""
    # Lambda's own variables, and what `sam local` gives a function without credentials; Powertools' tracer and
    # metrics off, as in `make run` (SAM's AWS_SAM_LOCAL turns the tracer off in a container).
    os.environ.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"})
    os.environ.update(environment)
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    add_layers_to_path(template)
    # The function's logs (and Powertools' metrics lines) on stderr, as SAM shows them; stdout has the response.
    with contextlib.redirect_stdout(sys.stderr):
        return FunctionRegistry(template).invoke(function_id, event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.invoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("function", help="logical id of the function, e.g. UsersFunction")
    parser.add_argument("event", type=Path, help="event file, e.g. events/users.json")
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    parser.add_argument("--env-vars", type=Path, default=ENV_VARS_FILE, help=f"default: {ENV_VARS_FILE}")
    parser.add_argument(
        "--parameter-overrides", default=DEVELOPMENT_OVERRIDES, help=f"default: {DEVELOPMENT_OVERRIDES}"
    )
    arguments = parser.parse_args(argv)

    template = load_template(arguments.template)
    if arguments.function not in template.functions:
        parser.error(f"no function {arguments.function}; the template has {', '.join(sorted(template.functions))}")
    try:
        event, env_vars = read_json(arguments.event, "event"), read_json(arguments.env_vars, "--env-vars")
    except ValueError as error:
        print(f"make invoke: {error}", file=sys.stderr)
        return 2
    environment = invoke_environment(
        template, arguments.function, env_vars, parse_parameter_overrides(arguments.parameter_overrides)
    )
    endpoint = environment.get("AWS_ENDPOINT_URL")
    if endpoint and not emulator_answers(endpoint):
        print(f"make invoke: {emulator_refused(endpoint)}", file=sys.stderr)
        return 2
    result = invoke(template, arguments.function, event, environment)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

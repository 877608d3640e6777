"""`make events` and `make invoke` against a `make run` on other ports than the defaults: they follow PORT, MOTO_PORT
and MAILBOX_DIR as `make run` does, and when something does not answer they name it.

The runtime of this module listens on free ports (harness/runtime.py), never 3000 and 5010, as a developer's
`PORT=3001 MOTO_PORT=5011 make run` beside another clone would.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.runtime import ROOT, Runtime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(module: str, *arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m module`, as the Makefile runs it from the clone, in a shell that has only `env` set (no AWS_*)."""
    shell = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_"))}
    for name in ("PORT", "MOTO_PORT", "MAILBOX_DIR"):
        shell.pop(name, None)
    command = [sys.executable, "-m", module, *arguments]
    return subprocess.run(command, cwd=ROOT, env={**shell, **env}, capture_output=True, text=True, timeout=120)


def make_run_env(runtime: Runtime, runtime_env: dict[str, str]) -> dict[str, str]:
    """What the developer's shell says to `make events` and `make invoke`: the variables `make run` was given."""
    return {
        **runtime_env,
        "PORT": str(urlsplit(runtime.base_url).port),
        "MOTO_PORT": str(urlsplit(runtime.moto_url).port),
        "MAILBOX_DIR": str(runtime.mailbox_dir),
    }


def test_make_events_then_make_invoke_reach_make_run_on_its_ports(
    module_runtime: Runtime, runtime_env: dict[str, str], tmp_path: Path
):
    env = make_run_env(module_runtime, runtime_env)

    events = run("local_runtime.sample_events", "--out", str(tmp_path), env=env)

    assert events.returncode == 0, events.stderr
    assert (tmp_path / "users.json").exists()
    invoked = run("local_runtime.invoke", "UsersFunction", str(tmp_path / "users.json"), env=env)
    assert invoked.returncode == 0, invoked.stderr
    response: dict[str, Any] = json.loads(invoked.stdout)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["message"] == "User fetched successfully."


def test_make_events_names_the_emulation_that_does_not_answer_not_the_api_that_does(
    module_runtime: Runtime, runtime_env: dict[str, str], tmp_path: Path
):
    closed = free_port()
    env = {**make_run_env(module_runtime, runtime_env), "MOTO_PORT": str(closed)}

    events = run("local_runtime.sample_events", "--out", str(tmp_path), env=env)

    assert events.returncode == 1
    assert f"nothing answers at http://127.0.0.1:{closed}" in events.stderr, events.stderr
    assert f"MOTO_PORT {closed}" in events.stderr
    assert module_runtime.base_url not in events.stderr  # the API answered: no question about it


def test_make_events_names_the_api_address_that_does_not_answer(tmp_path: Path):
    closed = free_port()

    events = run("local_runtime.sample_events", "--out", str(tmp_path), env={"PORT": str(closed)})

    assert events.returncode == 1
    assert f"nothing answers at http://127.0.0.1:{closed}/api/v1" in events.stderr, events.stderr


def test_make_invoke_names_the_missing_event_file_and_the_emulation_that_does_not_answer(tmp_path: Path):
    missing = run("local_runtime.invoke", "UsersFunction", "events/local/nothing-here.json", env={})
    closed = free_port()
    refused = run("local_runtime.invoke", "UsersFunction", "events/users.json", env={"MOTO_PORT": str(closed)})

    assert missing.returncode == 2
    assert "no event file events/local/nothing-here.json (`make events` writes it)" in missing.stderr, missing.stderr
    assert refused.returncode == 2
    assert f"nothing answers at http://127.0.0.1:{closed}, where `make run` would serve" in refused.stderr

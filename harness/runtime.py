"""Starts `python -m local_runtime` in a subprocess on free ports and waits until it serves over HTTP.

`running_runtime(template, workdir, env)` runs one for the length of a `with` block, then stops it with SIGTERM
and checks its clean exit. The end-to-end tests' fixtures (tests/e2e/conftest.py) and the benchmark's throughput
figure (bench/throughput.py) start it this way.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PROJECT_TEMPLATE = ROOT / "template.yaml"
STARTUP_TIMEOUT = 60.0  # a loaded 2-core machine (CI, the suite on two workers) takes 15-30 s to load every function


@dataclass
class Runtime:
    base_url: str  # http://127.0.0.1:<port>; the API is under /api/v1
    moto_url: str
    mailbox_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    killed: bool = False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a developer's Ctrl-C or a container stop would send; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL, as a crash or an out-of-memory kill would end it: no cleanup, no clean exit to check."""
        self.killed = True
        self.process.kill()
        self.process.wait(timeout=15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(runtime: Runtime) -> None:
    """Serving means answering HTTP at all: the runtime binds its port only once every function is loaded."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if runtime.process.poll() is not None:
            raise RuntimeError(f"local runtime exited with {runtime.process.returncode}:\n{runtime.log()}")
        try:
            requests.get(f"{runtime.base_url}/api/v1/health", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    runtime.stop()
    raise TimeoutError(f"local runtime not serving after {STARTUP_TIMEOUT:g} s:\n{runtime.log()}")


@contextmanager
def running_runtime(template: Path, workdir: Path, env: dict[str, str] | None = None) -> Iterator[Runtime]:
    port, moto_port = _free_port(), _free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    environment.update(
        PORT=str(port),
        MOTO_PORT=str(moto_port),
        MAILBOX_DIR=str(workdir / "mailbox"),
        PYTHONUNBUFFERED="1",
        **(env or {}),
    )
    log_path = workdir / "runtime.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime", "--template", str(template)],
            cwd=ROOT,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    runtime = Runtime(
        base_url=f"http://127.0.0.1:{port}",
        moto_url=f"http://127.0.0.1:{moto_port}",
        mailbox_dir=workdir / "mailbox",
        log_path=log_path,
        process=process,
    )
    try:
        _wait_until_serving(runtime)
        yield runtime
    finally:
        exit_code = runtime.stop()
    assert exit_code == 0 or runtime.killed, f"local runtime exited with {exit_code}:\n{runtime.log()}"

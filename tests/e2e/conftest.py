"""Starts `python -m local_runtime` in a subprocess on free ports and talks HTTP to it (harness/runtime.py).

`start_runtime(template=..., env=...)` starts one for a test (stopped, with a check of its clean exit, at the
end); `runtime` (the project's template.yaml) and `fixture_runtime` (the fixture stack) are shared by the tests of
one (xdist) worker.
"""

import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import pytest

from harness.client import RUNTIME_ENV, Api, Mailbox
from harness.runtime import PROJECT_TEMPLATE, ROOT, Runtime, running_runtime

FIXTURE_TEMPLATE = ROOT / "tests" / "fixtures" / "runtime" / "template.yaml"


StartRuntime = Callable[..., Runtime]


@pytest.fixture
def start_runtime(tmp_path: Path) -> Iterator[StartRuntime]:
    """Call with `template=` (default: the project's) and `env=` overrides; stopped at the end of the test."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(template: Path = PROJECT_TEMPLATE, env: dict[str, str] | None = None) -> Runtime:
            workdir = tmp_path / f"runtime-{next(numbers)}"
            manager: AbstractContextManager[Runtime] = running_runtime(Path(template), workdir, env)
            return stack.enter_context(manager)

        yield start


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The local runtime of the project's template.yaml, shared by the tests of one (xdist) worker."""
    with running_runtime(PROJECT_TEMPLATE, tmp_path_factory.mktemp("runtime")) as started:
        yield started


@pytest.fixture(scope="session")
def fixture_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The local runtime of tests/fixtures/runtime/template.yaml, failed SQS messages retried at once."""
    workdir = tmp_path_factory.mktemp("fixture-runtime")
    with running_runtime(FIXTURE_TEMPLATE, workdir, {"LOCAL_SQS_RETRY_SECONDS": "0"}) as started:
        yield started


@pytest.fixture(scope="module")
def runtime_env() -> dict[str, str]:
    """The environment of `module_runtime`; a module widens it by defining its own `runtime_env`."""
    return RUNTIME_ENV


@pytest.fixture(scope="module")
def module_runtime(tmp_path_factory: pytest.TempPathFactory, runtime_env: dict[str, str]) -> Iterator[Runtime]:
    """One runtime per test module (and xdist worker): the tests' keys, bcrypt cost 4, the rate limit out of the way."""
    with running_runtime(PROJECT_TEMPLATE, tmp_path_factory.mktemp("module-runtime"), runtime_env) as started:
        yield started


@pytest.fixture(scope="module")
def api(module_runtime: Runtime) -> Api:
    return Api(module_runtime.base_url)


@pytest.fixture(scope="module")
def mailbox(module_runtime: Runtime) -> Mailbox:
    return Mailbox(module_runtime.mailbox_dir)

"""What a function's cold start must not import (docs/budgets.md, Cold start): each handler module is imported in a
fresh interpreter, as Lambda does, and the modules it loaded are checked against what only some routes need.

`make bench` judges the cost in instructions; this keeps the deferrals that bring a function under the budget from
quietly coming back (an import moved to the top of a module, a package that starts importing a heavy sibling).
"""

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parents[2]

# In every function: boto3 (clara.aws makes botocore's clients) and the SDKs packaged with one function only,
# imported by the code that calls them.
EVERYWHERE = ("boto3", "stripe", "google.auth", "pypdf", "segno")
# By function: what its common routes do not need, imported where used.
NOT_AT_COLD_START: dict[str, tuple[str, ...]] = {
    # Reading a user: accounts (mail, 2FA, Google sign-in) only for an update or a deletion, the ledger for credits.
    "UsersFunction": (
        "clara.domain.accounts.profile",
        "clara.domain.accounts.notices",
        "clara.integrations.mail",
        "clara.domain.credits",
        "clara.domain.analysis.results",
    ),
    "ApiKeysFunction": ("clara.domain.accounts.sign_in", "clara.contract.requests", "clara.domain.analysis.results"),
    "TransactionsFunction": ("clara.domain.accounts.sign_in", "clara.domain.analysis.results"),
    # The listing and the view: the cancel's settle (ledger, webhook events) only for a cancel.
    "TasksFunction": (
        "clara.domain.accounts.sign_in",
        "clara.domain.analysis.settlement",
        "clara.domain.analysis.cancel",
        "clara.domain.credits",
    ),
    "WebhooksFunction": (
        "clara.domain.accounts.sign_in",
        "clara.domain.webhooks.events",
        "clara.domain.analysis.results",
    ),
    "StripeFunction": ("clara.domain.accounts.sign_in", "clara.domain.analysis.results"),
    "MiscFunction": ("clara.domain", "clara.store", "pynamodb", "jwt"),
}

PROBE = """
import importlib.util, sys
sys.path[:0] = [{code!r}, {layer!r}]  # the dev venv holds every function's own packages
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("\\n".join(sorted(sys.modules)))
"""


def handler_paths() -> dict[str, Path]:
    template = load_template(ROOT / "template.yaml")
    return {
        name: (ROOT / function.code_uri / (function.handler.rsplit(".", 1)[0] + ".py")).resolve()
        for name, function in sorted(template.functions.items())
    }


@cache
def imported_at_cold_start(path: Path) -> frozenset[str]:
    """The modules a fresh interpreter has loaded once the handler module at `path` is imported."""
    code = PROBE.format(
        code=str(path.parent),
        layer=str(ROOT / "layers" / "shared"),
        path=str(path),
    )
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_", "PYTHON"))
    }
    environment |= {"AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "cold-start-imports"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=True
    )
    return frozenset(result.stdout.split())


def loaded(modules: frozenset[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules if any(name == p or name.startswith(p + ".") for p in prefixes))


HANDLERS = handler_paths()


@pytest.mark.parametrize("function", sorted(HANDLERS))
def test_a_cold_start_imports_only_what_its_common_routes_need(function: str) -> None:
    modules = imported_at_cold_start(HANDLERS[function])

    assert loaded(modules, EVERYWHERE + NOT_AT_COLD_START.get(function, ())) == []


def test_every_function_named_is_in_the_template() -> None:
    assert set(NOT_AT_COLD_START) <= set(HANDLERS)


def test_the_check_sees_what_a_handler_imports() -> None:
    modules = imported_at_cold_start(HANDLERS["UsersFunction"])

    assert "clara.http.auth" in modules
    assert loaded(modules, ("clara.records.accounts",)) == ["clara.records.accounts"]

"""clara.snapstart: an environment restored from a SnapStart snapshot gets its own entropy and fresh clients."""

import random
import sys
import types
from collections.abc import Callable

import pytest

from clara import aws, snapstart
from clara.integrations import google_identity
from clara.settings import get_settings
from clara.store import table


def test_random_is_reseeded_after_a_restore() -> None:
    """Two environments restored from one snapshot start from the same `random` state: each must leave it."""
    snapshot = random.getstate()
    random.setstate(snapshot)
    without_hook = [random.random() for _ in range(3)]  # noqa: S311 (the state under test, not a secret)
    random.setstate(snapshot)
    snapstart.reset_after_restore()

    assert [random.random() for _ in range(3)] != without_hook  # noqa: S311


def test_clients_settings_and_key_sets_are_created_again_after_a_restore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    before = (
        aws.aws_session(),
        aws.aws_client("sqs"),
        table.client(),
        get_settings(),
        google_identity.jwks_client("https://k.example"),
    )

    snapstart.reset_after_restore()

    after = (
        aws.aws_session(),
        aws.aws_client("sqs"),
        table.client(),
        get_settings(),
        google_identity.jwks_client("https://k.example"),
    )
    assert all(old is not new for old, new in zip(before, after, strict=True))
    google_identity.jwks_client.cache_clear()


def test_the_secrets_read_from_secrets_manager_are_dropped_after_a_restore() -> None:
    from clara import secrets

    secrets.fetched["arn:jwt"] = (0.0, "the value read before the snapshot")

    snapstart.reset_after_restore()

    assert secrets.fetched == {}


def test_the_hook_imports_nothing_the_function_did_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """AgentFunction never loads clara.integrations.google_identity: resetting must not load it (and PyJWKClient)
    either."""
    monkeypatch.delitem(sys.modules, "clara.integrations.google_identity")
    monkeypatch.delitem(sys.modules, "clara.integrations.analyzers.bedrock", raising=False)

    snapstart.reset_after_restore()

    assert "clara.integrations.google_identity" not in sys.modules
    assert "clara.integrations.analyzers.bedrock" not in sys.modules


def test_the_hook_is_registered_with_lambdas_runtime_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)

    assert snapstart.register() is True
    assert registered == [snapstart.reset_after_restore]


def test_outside_lambda_there_is_nothing_to_register(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # None: `import` raises ImportError

    assert snapstart.register() is False


def test_every_function_registers_the_hook_at_import() -> None:
    """clara.observability registers it, and every handler imports clara.observability (through clara.http.app or
    directly), so no function can be snapshotted without it."""
    from local_runtime.template import load_template
    from tests.unit.test_iam import import_closure
    from tests.unit.test_requirements import ROOT

    functions = load_template(ROOT / "template.yaml").functions
    assert [name for name in functions if "clara.observability" not in import_closure(name)] == []
    assert "snapstart.register()" in (ROOT / "layers/shared/clara/observability.py").read_text()

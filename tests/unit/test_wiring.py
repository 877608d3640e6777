"""Each function plugs an adapter into every port its code calls, and into no other (clara.domain.ports).

Read from the code, as tests/unit/test_iam.py reads a function's AWS calls: the ports are the `name: Port[...] =
Port(...)` of the domain's ports modules; a module of the function's import closure uses one when it calls it
(`ports.mail()`, or a port imported by name); the function plugs one with `<ports module>.<port>.plug(...)` in its
own code. A port used but not plugged fails at the first request that reaches it (LookupError); one plugged but not
used widens what the function imports and what test_iam reads it may call.
"""

import ast
from pathlib import Path

import pytest

from tests.unit.test_iam import FUNCTIONS, functions, import_closure

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "layers" / "shared" / "clara" / "domain"


def declared_ports() -> dict[str, set[str]]:
    """ports module -> the names of its ports."""
    declared: dict[str, set[str]] = {}
    for path in DOMAIN.rglob("ports.py"):
        module = ".".join(path.relative_to(DOMAIN.parents[1]).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id == "Port"
            ):
                declared.setdefault(module, set()).add(node.target.id)
    return declared


PORTS = declared_ports()


def _ports_aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to a ports module: `from clara.domain.analysis import ports as analysis`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in PORTS:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _port_of(node: ast.expr, aliases: dict[str, str]) -> tuple[str, str] | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
        module = aliases[node.value.id]
        if node.attr in PORTS[module]:
            return module, node.attr
    return None


def used(path: Path) -> set[tuple[str, str]]:
    """The ports a module calls."""
    tree = ast.parse(path.read_text())
    aliases = _ports_aliases(tree)
    found = set()
    by_name = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in PORTS:
            by_name.update({alias.asname or alias.name: (node.module, alias.name) for alias in node.names})
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            port = _port_of(node.func, aliases)
            if port is None and isinstance(node.func, ast.Name) and node.func.id in by_name:
                module, name = by_name[node.func.id]
                port = (module, name) if name in PORTS[module] else None
            if port:
                found.add(port)
    return found


def plugged(path: Path) -> set[tuple[str, str]]:
    """The ports a module plugs: `<ports module>.<port>.plug(...)`."""
    tree = ast.parse(path.read_text())
    aliases = _ports_aliases(tree)
    return {
        port
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "plug"
        if (port := _port_of(node.func.value, aliases))
    }


def function_dir(function: str) -> Path:
    return (ROOT / functions()[function]["Properties"]["CodeUri"]).resolve()


def uses_and_plugs(function: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    closure = import_closure(function).values()
    own = [path for path in closure if function_dir(function) in path.parents]
    return set().union(*(used(path) for path in closure)), set().union(*(plugged(path) for path in own))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_plugs_every_port_its_code_calls_and_no_other(function: str) -> None:
    uses, plugs = uses_and_plugs(function)

    assert sorted(uses - plugs) == [], f"{function} calls ports it does not plug"
    assert sorted(plugs - uses) == [], f"{function} plugs ports its code never calls"


def test_the_check_sees_the_ports_of_each_area() -> None:
    assert {
        "clara.domain.accounts.ports": {"mail", "google"},
        "clara.domain.analysis.ports": {"analyzer", "attachments", "task_queue"},
        "clara.domain.credits.ports": {"payments"},
        "clara.domain.webhooks.ports": {"event_queue", "receivers"},
    } == PORTS
    worker_uses, _ = uses_and_plugs("AnalysisWorkerFunction")
    assert ("clara.domain.analysis.ports", "analyzer") in worker_uses
    assert uses_and_plugs("MiscFunction") == (set(), set())


def test_the_check_sees_a_port_imported_by_name(tmp_path: Path) -> None:
    module = tmp_path / "sample.py"
    module.write_text(
        "from clara.domain.analysis.ports import attachments\n"
        "from clara.domain.accounts import ports as accounts\n"
        "def f():\n    attachments().delete_under('u/')\n    accounts.mail().send_otp()\n"
        "accounts.google.plug(object)\n"
    )

    assert used(module) == {("clara.domain.analysis.ports", "attachments"), ("clara.domain.accounts.ports", "mail")}
    assert plugged(module) == {("clara.domain.accounts.ports", "google")}

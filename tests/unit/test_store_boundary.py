"""DynamoDB has one home, clara.store (docs/architecture.md): outside it, no code of the layer or of a function
imports PynamoDB, makes a DynamoDB client, writes a key of the table or names one of its indexes.

The check reads the code: each rule is a pattern over a module's syntax tree, and the test names file:line."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / "layers" / "shared" / "clara" / "store"
CODE = sorted(
    path
    for folder in (ROOT / "layers" / "shared" / "clara", ROOT / "functions")
    for path in folder.rglob("*.py")
    if STORE not in path.parents
)
# The start of every key the table's items have (clara.store.items), and the names of its indexes and key attributes.
KEY = re.compile(
    r"\b(USER|USERS|EMAIL|SESSION|OTP|TOTP|API_KEY|TRANSACTIONS?|TASKS?|OPEN_TASKS|AUDIT|LOGIN|RATE|MAILCAP|IDEMPOTENCY)#"
)
TABLE_NAMES = re.compile(r"^(gsi[12](pk|sk)?|pk|sk)$")


def strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string literal, f-strings' literal parts included, with its line (docstrings excepted)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def breaches(path: Path, root: Path = ROOT) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(root)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module.split(".")[0] == "pynamodb" or module.startswith("boto3.dynamodb"):
                    yield f"{where}:{node.lineno} imports {module}"
    for line, text in sorted(strings(tree)):
        if text == "dynamodb":
            yield f"{where}:{line} makes a DynamoDB client"
        elif KEY.search(text):
            yield f"{where}:{line} writes a key of the table: {text!r}"
        elif TABLE_NAMES.match(text):
            yield f"{where}:{line} names the table's key or index {text!r}"


def test_the_check_sees_what_it_is_meant_to(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring may say USER#<id>."""\n'
        "from pynamodb.models import Model\n"
        "client = aws_client('dynamodb')\n"
        "key = f'SESSION#{session_id}'\n"
        "index = 'gsi2'\n"
    )
    found = list(breaches(sample, tmp_path))

    assert [entry.split(" ", 1)[1] for entry in found] == [
        "imports pynamodb.models",
        "makes a DynamoDB client",
        "writes a key of the table: 'SESSION#'",
        "names the table's key or index 'gsi2'",
    ]


@pytest.mark.parametrize("path", CODE, ids=lambda path: str(path.relative_to(ROOT)))
def test_only_the_store_knows_the_table(path: Path) -> None:
    assert list(breaches(path)) == []

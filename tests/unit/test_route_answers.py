"""Each route states its success once: one `Success` constant that its OpenAPI declaration (`documented`) reads
and its handler answers with (issue 14, rule 4).

The check reads every API function's handler module (functions/*/app.py that declares routes, with
`@<routes>.<method>(path, summary, ok, ...)` for a module's `<routes> = Routes(app, ...)` of clara.http.routes, or
`@app.<method>(path, **documented(summary, ok, ...))`):

* a route declares its success as a constant's name (or a tuple of names, for one route with two outcomes),
  never as a `Success(...)` written inline;
* the handler's body refers to each Success it declares, and to no other route's;
* the module never imports or calls clara.http.envelope's `success`/`no_content` (a message and status of its own),
  never hands `.answer()` a string literal, and never writes a status literal into a `Response(...)`;
* every Success constant of the module is declared by a route.
"""

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from clara.http.openapi import NO_CONTENT, Success, documented

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(
    path
    for path in (ROOT / "functions").glob("*/app.py")
    if any(form in path.read_text(encoding="utf-8") for form in ("documented(", "Routes("))
)
ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}
ANSWERING_HELPERS = {"success", "no_content"}  # clara.http.envelope's: a message and a status not declared anywhere


def _route_tables(tree: ast.Module) -> set[str]:
    """Module-level names bound to `Routes(...)`: a function may declare its routes with a few, by their defaults."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "Routes"
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _declaration(function: ast.FunctionDef, tables: set[str]) -> tuple[ast.Call, int] | None:
    """The call that declares the function a route, with the position of its `ok`: `@<routes>.<method>(path,
    summary, ok, ...)` for one of the module's `tables`, or the `documented(summary, ok, ...)` of
    `@app.<method>(path, **documented(...))`."""
    for decorator in function.decorator_list:
        if not isinstance(decorator, ast.Call):
            continue
        func = decorator.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ROUTE_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id in tables
        ):
            return decorator, 2
        for keyword in decorator.keywords:
            value = keyword.value
            if (
                keyword.arg is None
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "documented"
            ):
                return value, 1
    return None


def _declared_ok(call: ast.Call, position: int) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((keyword.value for keyword in call.keywords if keyword.arg == "ok"), None)


def _success_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to `Success(...)`, and the upper-case names imported from clara.http.openapi."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "Success":
                names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.ImportFrom) and node.module == "clara.http.openapi":
            names.update(alias.asname or alias.name for alias in node.names if alias.name.isupper())
    return names


def problems(source: str, filename: str = "app.py") -> tuple[list[str], int]:
    """What breaks rule 4 in a handler module's source, as `file:line: what`, and how many routes it declares."""
    tree = ast.parse(source, filename)
    constants = _success_constants(tree)
    tables = _route_tables(tree)
    found: list[str] = []
    declared_anywhere: set[str] = set()
    routes = 0

    def report(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "clara.http.envelope":
            for alias in node.names:
                if alias.name in ANSWERING_HELPERS:
                    report(node, f"imports clara.http.envelope.{alias.name}: answer with the route's Success instead")
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if called in ANSWERING_HELPERS:
                report(node, f"calls {called}(): answer with the route's Success instead")
            if called == "answer":
                for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
                    if isinstance(argument, ast.JoinedStr) or (
                        isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                    ):
                        report(node, "a string literal handed to .answer(): the message is the Success's")
            if called == "Response" and node.args:
                status = node.args[0]
                if isinstance(status, ast.Constant) and isinstance(status.value, int):
                    report(node, f"Response({status.value}, ...): the status is the declared Success's `.status`")

    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        declaration = _declaration(function, tables)
        if declaration is None:
            continue
        routes += 1
        ok = _declared_ok(*declaration)
        items = ok.elts if isinstance(ok, ast.Tuple) else [ok]
        declared = {item.id for item in items if isinstance(item, ast.Name)}
        if ok is None or len(declared) != len(items) or not declared <= constants:
            report(function, f"{function.name} declares its success inline, not as a module constant of Success")
            continue
        declared_anywhere |= declared
        referenced = {
            node.id
            for statement in function.body
            for node in ast.walk(statement)
            if isinstance(node, ast.Name) and node.id in constants
        }
        for name in sorted(declared - referenced):
            report(function, f"{function.name} declares {name} but does not answer with it")
        for name in sorted(referenced - declared):
            report(function, f"{function.name} answers with {name}, which another route declares")

    for name in sorted(constants - declared_anywhere - {"NO_CONTENT"}):
        found.append(f"{filename}: {name} is declared by no route")
    return found, routes


@pytest.mark.parametrize("path", HANDLERS, ids=lambda path: path.parent.name)
def test_each_route_states_its_success_once(path: Path) -> None:
    found, routes = problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))

    assert routes > 0
    assert found == []


def test_every_api_function_is_checked() -> None:
    assert {path.parent.name for path in HANDLERS} >= {
        "agent",
        "api_keys",
        "auth",
        "misc",
        "stripe",
        "tasks",
        "transactions",
        "users",
    }


BAD_MODULE = """
from clara.http.envelope import success
from clara.http.openapi import NO_CONTENT, Success, documented

FETCHED = Success(200, None, "Fetched.")
UNUSED = Success(201, None, "Never declared.")
OTHER = Success(200, None, "Other.")
routes = Routes(app)


@app.get("/inline", **documented("Inline", Success(200, None, "Inline.")))
def inline():
    return success(None, "Inline.")


@app.get("/literal", **documented("Literal", FETCHED))
def literal():
    return FETCHED.answer("Fetched.")


@app.get("/forgotten", **documented("Forgotten", OTHER))
def forgotten():
    return Response(200, "text/plain", "")


@app.get("/borrowed", **documented("Borrowed", NO_CONTENT))
def borrowed():
    NO_CONTENT.answer()
    return FETCHED.answer()


@routes.get("/declared", "Declared", OTHER, auth=USER)
def declared(call):
    return FETCHED.answer()
"""


def test_the_check_finds_each_kind_of_breach() -> None:
    found, routes = problems(BAD_MODULE, "bad.py")

    assert routes == 5
    assert [line.split(": ", 1)[1] for line in found] == [
        "imports clara.http.envelope.success: answer with the route's Success instead",
        "calls success(): answer with the route's Success instead",
        "a string literal handed to .answer(): the message is the Success's",
        "Response(200, ...): the status is the declared Success's `.status`",
        "inline declares its success inline, not as a module constant of Success",
        "forgotten declares OTHER but does not answer with it",
        "borrowed answers with FETCHED, which another route declares",
        "declared declares OTHER but does not answer with it",
        "declared answers with FETCHED, which another route declares",
        "UNUSED is declared by no route",
    ]


# ------------------------------------------------------------------------------------------- Success itself


class Item(BaseModel):
    name: str


def test_an_answer_is_the_envelope_with_the_declared_status_and_message() -> None:
    created = Success(201, Item, "Item created successfully.")

    response = created.answer(Item(name="lamp"))

    assert response.status_code == 201
    assert json.loads(str(response.body)) == {
        "data": {"name": "lamp"},
        "message": "Item created successfully.",
        "status": "success",
    }


def test_no_content_has_no_body() -> None:
    response = NO_CONTENT.answer()

    assert (response.status_code, response.body) == (204, "")


def test_one_route_may_declare_outcomes_that_differ_by_message_only() -> None:
    first = Success(201, Item, "Item created successfully.")
    again = Success(201, Item, "Item found again.")

    declared: dict[str, Any] = documented("Make an item", (first, again))["responses"]

    assert declared[201]["description"] == "Item created successfully. | Item found again."
    with pytest.raises(ValueError, match="differ by message only"):
        documented("Make an item", (first, Success(200, Item, "Item found again.")))

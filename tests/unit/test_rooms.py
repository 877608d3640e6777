"""The shared layer's rooms and who may import whom (docs/architecture.md, Shared layer): read from the code.

From the top floor down (a room imports only rooms below it, or itself):

    http/           API Gateway's side: events, credentials, bodies, the envelope, OpenAPI
    integrations/   adapters of the services beyond the table (email, Google, Stripe, S3, SQS, link fetching, the
                    analyzers), each implementing an interface the domain declares (clara.domain.*.ports)
    domain/         the product's rules by area (accounts, credits, analysis, webhooks); it raises contract errors,
                    calls the store, and reaches outside services only through its ports, which each function plugs
    store/          the table (clara.store; tests/unit/test_store_boundary.py keeps DynamoDB in it)
    records/        the plain models the store returns and the domain works on
    batch, observability, secrets, snapstart, aws, contract/ (the API's promises: errors and request bodies), settings,
    formats: what every floor above uses

Each module's imports (module level and inside functions) are checked against its room's floor and rules; a breach
names file:line.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLARA = ROOT / "layers" / "shared" / "clara"
ROOMS = ("contract", "http", "domain", "store", "integrations", "records")
# Bottom up; a module may import its own room and the rooms of lower floors, never one of its floor or above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("formats",),
    ("settings",),
    ("contract",),
    ("aws",),
    ("secrets", "snapstart"),
    ("observability",),
    ("batch",),
    ("records",),
    ("store",),
    ("domain",),
    ("integrations",),
    ("http",),
)
FLOOR = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}
# API Gateway's events and Powertools' event handler: the HTTP side only (and the functions).
HTTP_ONLY = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes", "clara.http")
# Nowhere in the layer nor in a function: boto3 (clara.aws makes botocore's clients; boto3's import costs about
# 19 ms of cold start, docs/budgets.md) and Powertools' parameters, which imports it (clara.secrets reads secrets).
COLD_START = ("boto3", "aws_lambda_powertools.utilities.parameters")
# What each room may not import (a prefix of the imported module's name).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "contract": (*HTTP_ONLY, *COLD_START, "clara.store", "clara.integrations", "botocore"),
    # The store raises domain conflicts, never botocore's; AWS's and other services' clients are the adapters'.
    "domain": (*HTTP_ONLY, *COLD_START, "botocore", "pynamodb", "clara.aws", "stripe", "jwt.PyJWKClient"),
    "records": (*HTTP_ONLY, *COLD_START, "botocore", "pynamodb"),
    "store": (*HTTP_ONLY, *COLD_START),
    "integrations": (*HTTP_ONLY, *COLD_START, "clara.store"),
    "http": (*COLD_START, "clara.store", "pynamodb"),  # the handlers' side reaches the table through the domain
    "top": (*HTTP_ONLY, *COLD_START, "clara.store", "pynamodb"),  # settings, secrets, aws, formats, observability...
}


def room_of(path: Path, clara: Path = CLARA) -> str:
    inner = path.relative_to(clara).parts
    return inner[0] if len(inner) > 1 and inner[0] in ROOMS else "top"


def floor_room(path: Path, clara: Path = CLARA) -> str:
    """The room a module stands in for the floors: its package, or a top module's own name."""
    inner = path.relative_to(clara).with_suffix("").parts
    return inner[0]


def room_of_module(name: str) -> str | None:
    """The room of an imported clara module (`clara.domain.ports` -> domain), None outside the layer."""
    parts = name.split(".")
    return parts[1] if parts[0] == "clara" and len(parts) > 1 and parts[1] in FLOOR else None


def imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def breaches(path: Path, clara: Path = CLARA) -> list[str]:
    room = room_of(path, clara) if clara in path.parents else "function"
    rules = FORBIDDEN.get(room, COLD_START)
    found = {
        f"{path.relative_to(clara.parents[2])}:{line} ({room}) imports {name}"
        for line, name in imports(path)
        if any(name == rule or name.startswith(rule + ".") for rule in rules)
    }
    if clara in path.parents and (own := floor_room(path, clara)) in FLOOR:
        found |= {
            f"{path.relative_to(clara.parents[2])}:{line} ({own}) imports {name}, of a floor not below it"
            for line, name in imports(path)
            if (other := room_of_module(name)) is not None and other != own and FLOOR[other] >= FLOOR[own]
        }
    return sorted(found)


MODULES = sorted(CLARA.rglob("*.py"))
FUNCTION_MODULES = sorted(path for path in (ROOT / "functions").rglob("*.py") if "tests" not in path.parts)


def test_every_module_is_in_a_room_or_one_of_the_few_at_the_top() -> None:
    top = sorted(path.name for path in MODULES if room_of(path) == "top")

    assert top == [
        "__init__.py",
        "aws.py",
        "batch.py",
        "formats.py",
        "observability.py",
        "secrets.py",
        "settings.py",
        "snapstart.py",
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(CLARA)))
def test_a_room_imports_only_what_its_rules_allow(path: Path) -> None:
    assert breaches(path) == []


@pytest.mark.parametrize("path", FUNCTION_MODULES, ids=lambda path: str(path.relative_to(ROOT / "functions")))
def test_a_function_imports_neither_boto3_nor_powertools_parameters(path: Path) -> None:
    assert breaches(path) == []


def test_the_check_sees_boto3_in_the_layer_and_in_a_function(tmp_path: Path) -> None:
    fake_clara = tmp_path / "layers" / "shared" / "clara"
    fake_clara.mkdir(parents=True)
    (tmp_path / "functions" / "users").mkdir(parents=True)
    (fake_clara / "aws.py").write_text("def client():\n    import boto3\n")
    (tmp_path / "functions" / "users" / "app.py").write_text("from aws_lambda_powertools.utilities import parameters\n")

    assert breaches(fake_clara / "aws.py", fake_clara) == ["layers/shared/clara/aws.py:2 (top) imports boto3"]
    assert breaches(tmp_path / "functions" / "users" / "app.py", fake_clara) == [
        "functions/users/app.py:1 (function) imports aws_lambda_powertools.utilities.parameters"
    ]


def test_every_room_and_top_module_has_a_floor() -> None:
    assert {floor_room(path) for path in MODULES} - {"__init__"} == set(FLOOR)


def test_the_check_sees_an_import_that_runs_up_or_across_a_floor(tmp_path: Path) -> None:
    fake_clara = tmp_path / "layers" / "shared" / "clara"
    for room in ("store", "domain", "records"):
        (fake_clara / room).mkdir(parents=True)
    (fake_clara / "store" / "users.py").write_text("from clara.domain.accounts import User\n")
    (fake_clara / "domain" / "notices.py").write_text("def f():\n    from clara.integrations.mail import Mailer\n")
    (fake_clara / "records" / "users.py").write_text(
        "from clara.records.tasks import Task\nfrom clara import formats\n"
    )
    (fake_clara / "secrets.py").write_text("from clara import snapstart\nfrom clara.aws import aws_client\n")

    assert [each.split(" imports ")[1] for each in breaches(fake_clara / "store" / "users.py", fake_clara)] == [
        "clara.domain.accounts, of a floor not below it",
        "clara.domain.accounts.User, of a floor not below it",
    ]
    assert [each.split(" (domain) ")[1] for each in breaches(fake_clara / "domain" / "notices.py", fake_clara)] == [
        "imports clara.integrations.mail, of a floor not below it",
        "imports clara.integrations.mail.Mailer, of a floor not below it",
    ]
    assert breaches(fake_clara / "records" / "users.py", fake_clara) == []
    assert breaches(fake_clara / "secrets.py", fake_clara) == [
        "layers/shared/clara/secrets.py:1 (secrets) imports clara.snapstart, of a floor not below it"
    ]


def test_the_check_sees_a_domain_module_reading_an_api_gateway_event(tmp_path: Path) -> None:
    fake_clara = tmp_path / "layers" / "shared" / "clara"
    (fake_clara / "domain").mkdir(parents=True)
    module = fake_clara / "domain" / "sample.py"
    module.write_text(
        "from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent\n"
        "def f():\n"
        "    from clara.http.auth import authenticate\n"
        "    import botocore.exceptions\n"
    )

    assert [breach.split(" imports ")[1] for breach in breaches(module, fake_clara)] == [
        "aws_lambda_powertools.utilities.data_classes",
        "aws_lambda_powertools.utilities.data_classes.APIGatewayProxyEvent",
        "clara.http.auth",
        "clara.http.auth, of a floor not below it",
        "clara.http.auth.authenticate",
        "clara.http.auth.authenticate, of a floor not below it",
        "botocore.exceptions",
    ]

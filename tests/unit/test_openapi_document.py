"""The committed OpenAPI document is the one the code generates, and it documents every route of the template."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local_runtime.openapi import DOCUMENT
from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
DOC = json.loads(DOCUMENT.read_text())
# The catch-all that answers 404 to every path no function owns.
UNDOCUMENTED = {"/{proxy+}"}
API_ROUTES = sorted(
    (route.path.removeprefix("/api/v1"), route.method)
    for function in TEMPLATE.functions.values()
    for route in function.api_routes
    if route.path not in UNDOCUMENTED
)
OPERATIONS = [(path, method, operation) for path, item in DOC["paths"].items() for method, operation in item.items()]


def test_the_committed_document_matches_the_code():
    # A fresh interpreter: generating imports every function's handler module.
    checked = subprocess.run(
        [sys.executable, "-m", "local_runtime.openapi", "--check"], cwd=ROOT, capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stderr


def _gateway_path(path: str) -> str:
    """API Gateway allows one variable name per level: the template says {user_id} where the API says {user_email}."""
    return path.replace("{user_email}", "{user_id}")


@pytest.mark.parametrize(("path", "method"), API_ROUTES)
def test_every_route_of_the_template_is_documented(path: str, method: str):
    documented = {
        method.upper() for doc_path, item in DOC["paths"].items() if _gateway_path(doc_path) == path for method in item
    }

    assert documented, f"{path} has no operation in {DOCUMENT.name}"
    assert method == "ANY" or method in documented


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_operation_declares_its_success_and_its_errors(path: str, method: str, operation: dict):
    statuses = {int(status) for status in operation["responses"]}

    assert operation["summary"] and not operation["summary"].startswith(method.upper())
    assert any(200 <= status < 300 for status in statuses)
    assert any(400 <= status < 500 for status in statuses) or path in ("/health", "/version")
    for status, response in operation["responses"].items():
        assert response["description"]
        if status != "204" and int(status) >= 400 and "content" in response:
            assert "application/json" in response["content"]


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_every_reference_resolves(path: str, method: str, operation: dict):
    text = json.dumps(operation)
    references = {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}

    assert references <= set(DOC["components"]["schemas"])


def test_a_204_declares_no_body():
    no_content = [op["responses"]["204"] for _, _, op in OPERATIONS if "204" in op["responses"]]

    assert no_content and all("content" not in response for response in no_content)


@pytest.mark.parametrize("path", ["/users/{user_id}/agent/analysis", "/users/{user_id}/transactions"])
def test_the_idempotent_posts_declare_their_idempotency_key_header(path: str):
    parameters = DOC["paths"][path]["post"]["parameters"]

    [key] = [p for p in parameters if p["in"] == "header" and p["name"] == "Idempotency-Key"]
    assert key["required"] is False and key["schema"]["type"] == "string" and key["description"]


def test_the_analysis_201_declares_its_location_header():
    created = DOC["paths"]["/users/{user_id}/agent/analysis"]["post"]["responses"]["201"]

    assert created["headers"]["Location"]["schema"] == {"type": "string", "format": "uri"}
    assert created["headers"]["Location"]["description"]

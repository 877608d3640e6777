"""MiscFunction through its real lambda_handler: health, version and the API's catch-all."""

import json

import pytest

from clara import __version__


def test_health_reports_the_service(call_api):
    response = call_api("GET", "/api/v1/health")

    assert response.status == 200
    assert response.json == {
        "data": {"service": "clara-backend", "status": "healthy"},
        "message": "Health check successful.",
        "status": "success",
    }
    assert response.headers["Content-Type"] == "application/json"


def test_version_defaults_to_the_project_version(call_api):
    response = call_api("GET", "/api/v1/version")

    assert response.status == 200
    assert response.json == {
        "data": {"version": __version__},
        "message": "Version check successful.",
        "status": "success",
    }


def test_version_comes_from_the_version_variable(call_api):
    response = call_api("GET", "/api/v1/version", env={"VERSION": "2.4.1"})

    assert response.json["data"] == {"version": "2.4.1"}


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/users/abc/unknown", "/api/v2/health", "/anything"])
def test_unknown_paths_are_the_404_envelope(call_api, path: str):
    response = call_api("GET", path)

    assert response.status == 404
    assert response.json == {"data": None, "message": "The requested route does not exist.", "status": "error"}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_other_methods_on_health_are_the_405_envelope(call_api, method: str):
    response = call_api(
        method, "/api/v1/health", body=json.dumps({"a": 1}), headers={"Content-Type": "application/json"}
    )

    assert response.status == 405
    assert response.json == {
        "data": None,
        "message": "The requested method is not allowed for this route.",
        "status": "error",
    }
    assert response.headers["Allow"] == "GET"  # RFC 9110: what the route does allow


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/api/v1/health", {"Content-Type": "application/json"}, "{not json"),
        ("/api/v1/health", {"Content-Type": "text/plain"}, "hello"),
        ("/api/v1/health", {"Content-Type": "application/json"}, "x" * (5 * 1024 * 1024)),
        ("/api/v1/%2e%2e/health", None, None),
        ("/api/v1/he%00alth", None, None),
        ("/api/v1/h%C3%A9alth/%F0%9F%98%80", None, None),
        ("/api/v1//health", None, None),
    ],
    ids=["malformed-json", "text-body", "5mb-body", "dot-dot", "nul", "unicode", "double-slash"],
)
def test_bad_input_gets_an_envelope_never_a_500(call_api, path: str, headers, body):
    response = call_api("GET", path, headers=headers, body=body)

    assert response.status < 500
    assert response.json["status"] == "error" or response.status == 200
    assert set(response.json) == {"data", "message", "status"}


# ------------------------------------------------------------------------------------------- API docs


def test_the_openapi_document_is_served_when_enabled(call_api):
    response = call_api("GET", "/api/v1/openapi.json", env={"API_DOCS": "enabled"})

    assert response.status == 200 and response.headers["Content-Type"] == "application/json"
    assert response.json["openapi"].startswith("3.1")
    assert "/users/{user_id}/transactions" in response.json["paths"]


def test_swagger_ui_points_at_the_document(call_api):
    response = call_api("GET", "/api/v1/docs", env={"API_DOCS": "enabled"})

    assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    assert 'url: "/api/v1/openapi.json"' in response.text


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs"])
def test_the_docs_are_no_route_in_a_stack_that_did_not_enable_them(call_api, path: str):
    response = call_api("GET", path, env={"API_DOCS": "disabled"})

    assert response.status == 404
    assert response.json == {"data": None, "message": "The requested route does not exist.", "status": "error"}

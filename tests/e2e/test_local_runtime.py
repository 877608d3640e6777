"""The local runtime serving the project's template.yaml, over HTTP, as a client would see it."""

import pytest
import requests

pytestmark = pytest.mark.e2e

ROUTE_NOT_FOUND = {"data": None, "message": "The requested route does not exist.", "status": "error"}


def test_health(runtime):
    response = requests.get(f"{runtime.base_url}/api/v1/health", timeout=10)

    assert response.status_code == 200
    assert response.json() == {
        "data": {"service": "clara-backend", "status": "healthy"},
        "message": "Health check successful.",
        "status": "success",
    }


def test_version(runtime):
    response = requests.get(f"{runtime.base_url}/api/v1/version", timeout=10)

    assert response.status_code == 200
    assert response.json()["status"] == "success"
    assert response.json()["data"]["version"]


def test_an_unknown_route_is_the_404_envelope(runtime):
    response = requests.get(f"{runtime.base_url}/api/v1/no/such/route", timeout=10)

    assert (response.status_code, response.json()) == (404, ROUTE_NOT_FOUND)


def test_the_root_is_answered_by_the_gateway_in_the_envelope(runtime):
    response = requests.get(f"{runtime.base_url}/", timeout=10)

    assert (response.status_code, response.json()) == (404, ROUTE_NOT_FOUND)
    assert response.headers["Content-Type"] == "application/json"


def test_a_method_a_route_does_not_have_is_405(runtime):
    response = requests.post(f"{runtime.base_url}/api/v1/health", timeout=10)

    assert response.status_code == 405
    assert response.json() == {
        "data": None,
        "message": "The requested method is not allowed for this route.",
        "status": "error",
    }


def test_a_body_over_10_mb_is_413(runtime):
    response = requests.post(f"{runtime.base_url}/api/v1/health", data=b"x" * (11 * 1024 * 1024), timeout=30)

    assert (response.status_code, response.json()["status"], response.json()["data"]) == (413, "error", None)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/%2e%2e/health", "/api/v1/he%00alth", "/api/v1/%E2%9C%93", "/api/v1/h%C3%A9alth/", "/api/v1//health"],
)
def test_odd_paths_get_an_envelope_never_a_500(runtime, path):
    response = requests.get(f"{runtime.base_url}{path}", timeout=10)

    assert response.status_code < 500
    assert response.json()["status"] in ("error", "success")


def test_sigterm_stops_the_runtime_cleanly(start_runtime):
    started = start_runtime()

    assert started.stop() == 0
    assert "Clara local runtime ready: http://127.0.0.1:" in started.log()

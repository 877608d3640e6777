"""MiscFunction through its real lambda_handler: health, version, the API docs and the API's catch-all."""

import json
import re
from urllib.parse import urljoin, urlparse

import pytest

from clara import __version__
from local_runtime.openapi import DOCUMENT


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


def test_the_committed_document_is_served_as_is_where_the_url_has_no_prefix(call_api):
    response = call_api("GET", "/api/v1/openapi.json", env={"API_DOCS": "enabled"}, base_path="")

    assert response.text == DOCUMENT.read_text()
    assert response.json["servers"] == [{"url": "/api/v1"}]


def _page_urls(page: str) -> list[str]:
    """Every URL the page loads or fetches: stylesheets, scripts and the document Swagger UI is given."""
    linked = [url for url in re.findall(r'(?:href|src)="([^"]+)"', page) if not url.startswith("data:")]
    urls = linked + re.findall(r'new URL\("([^"]+)", document\.baseURI\)', page)
    assert len(urls) == 3, page
    return urls


@pytest.mark.parametrize(
    ("base_path", "browser_prefix"),
    [(None, "/prod"), ("", ""), ("/clara", "/clara")],
    ids=["execute-api-endpoint-stage-prod", "local-runtime-or-custom-domain-at-its-root", "custom-domain-base-path"],
)
def test_the_page_its_assets_and_try_it_out_stay_under_the_prefix_the_browser_used(
    call_api, base_path: str | None, browser_prefix: str
):
    """On AWS the browser's URL is /prod/api/v1/docs (the REST event: path /api/v1/docs, stage prod,
    requestContext.path /prod/api/v1/docs): every URL the page uses must stay under /prod, or API Gateway 404s it."""
    docs = {"API_DOCS": "enabled"}
    page_url = f"https://api.example.com{browser_prefix}/api/v1/docs"
    page = call_api("GET", "/api/v1/docs", env=docs, base_path=base_path)

    assert page.status == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "cdn" not in page.text.lower() and "//" not in "".join(_page_urls(page.text))
    loaded = {urlparse(urljoin(page_url, url)).path for url in _page_urls(page.text)}
    assert loaded == {
        f"{browser_prefix}/api/v1/docs/swagger-ui.css",
        f"{browser_prefix}/api/v1/docs/swagger-ui-bundle.js",
        f"{browser_prefix}/api/v1/openapi.json",
    }
    for path in loaded:  # what API Gateway routes: the path after the stage (or base path)
        assert call_api("GET", path.removeprefix(browser_prefix), env=docs, base_path=base_path).status == 200
    document = call_api("GET", "/api/v1/openapi.json", env=docs, base_path=base_path)
    # "Try it out" sends GET /health to the server URL + the path: /prod/api/v1/health on the execute-api endpoint.
    assert document.json["servers"] == [{"url": f"{browser_prefix}/api/v1"}]
    assert document.json["paths"] == json.loads(DOCUMENT.read_text())["paths"]


def test_swagger_ui_assets_are_served_as_text_with_their_content_types(call_api):
    docs = {"API_DOCS": "enabled"}
    script = call_api("GET", "/api/v1/docs/swagger-ui-bundle.js", env=docs)
    stylesheet = call_api("GET", "/api/v1/docs/swagger-ui.css", env=docs)

    assert script.status == 200 and script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert stylesheet.status == 200 and stylesheet.headers["Content-Type"] == "text/css; charset=utf-8"
    # Text, not base64: API Gateway passes it through whatever the Accept header and the binary media types.
    assert not script.is_base64_encoded and not stylesheet.is_base64_encoded
    assert "SwaggerUIBundle" in script.text and ".swagger-ui" in stylesheet.text
    assert script.headers["Cache-Control"] == stylesheet.headers["Cache-Control"] == "public, max-age=86400"
    assert len(script.text) + len(stylesheet.text) < 2_000_000  # well inside Lambda's 6 MB response payload


def test_the_documented_asset_names_are_the_served_ones(call_api):
    (parameter,) = json.loads(DOCUMENT.read_text())["paths"]["/docs/{asset}"]["get"]["parameters"]

    for name in parameter["schema"]["enum"]:
        assert call_api("GET", f"/api/v1/docs/{name}", env={"API_DOCS": "enabled"}).status == 200


@pytest.mark.parametrize("name", ["swagger-ui.css.map", "html.py", "..%2Fhtml.py", "swagger-ui-bundle.min.js"])
def test_anything_else_under_docs_is_the_404_envelope(call_api, name: str):
    response = call_api("GET", f"/api/v1/docs/{name}", env={"API_DOCS": "enabled"})

    assert response.status == 404
    assert response.json == {"data": None, "message": "The requested route does not exist.", "status": "error"}


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/swagger-ui-bundle.js"])
def test_the_docs_are_no_route_in_a_stack_that_did_not_enable_them(call_api, path: str):
    response = call_api("GET", path, env={"API_DOCS": "disabled"})

    assert response.status == 404
    assert response.json == {"data": None, "message": "The requested route does not exist.", "status": "error"}

"""Misc: GET /health and GET /version; the OpenAPI document and Swagger UI when API_DOCS is enabled; also the
API's catch-all route, so unknown paths get the 404 envelope."""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import __version__
from clara.api import create_app, lambda_handler_for
from clara.envelope import success
from clara.errors import RouteNotFound
from clara.formats import LazyModel
from clara.openapi import Success, documented
from clara.settings import API_PREFIX, SERVICE_NAME, get_settings

app = create_app()
# Generated from every function's routes by `make openapi` (local_runtime/openapi.py); CI checks it is current.
OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.json")
# Swagger UI from its CDN: the browser fetches it, the function only serves this page.
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Clara API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{API_PREFIX}/openapi.json", dom_id: "#swagger-ui"}});</script>
</body>
</html>
"""


class HealthView(LazyModel):
    service: str
    status: str


class VersionView(LazyModel):
    version: str


@app.get("/health", **documented("Liveness", Success(200, HealthView, "Health check successful.")))
def health() -> Response[Any]:
    return success(HealthView(service=SERVICE_NAME, status="healthy"), "Health check successful.")


@app.get("/version", **documented("The deployed version", Success(200, VersionView, "Version check successful.")))
def version() -> Response[Any]:
    return success(VersionView(version=get_settings().version or __version__), "Version check successful.")


@app.get(
    "/openapi.json",
    **documented(
        "This document (when the ApiDocs parameter enables it)",
        Success(200, None, "The OpenAPI document"),
        ok_content={"application/json": {"schema": {"type": "object"}}},
        errors=(RouteNotFound,),
    ),
)
def openapi_document() -> Response[Any]:
    _docs_enabled()
    return Response(200, "application/json", OPENAPI_DOCUMENT.read_text())


@app.get(
    "/docs",
    **documented(
        "Swagger UI on this document (when the ApiDocs parameter enables it)",
        Success(200, None, "The Swagger UI page"),
        ok_content={"text/html": {"schema": {"type": "string"}}},
        errors=(RouteNotFound,),
    ),
)
def docs_page() -> Response[Any]:
    _docs_enabled()
    return Response(200, "text/html; charset=utf-8", DOCS_PAGE)


def _docs_enabled() -> None:
    """Off in a deployed stack unless its ApiDocs parameter enables them: to everyone else, no such route."""
    if get_settings().api_docs != "enabled":
        raise RouteNotFound()


lambda_handler = lambda_handler_for(app)

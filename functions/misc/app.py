"""Misc: GET /health and GET /version; the OpenAPI document and Swagger UI when API_DOCS is enabled; also the
API's catch-all route, so unknown paths get the 404 envelope."""

from typing import Any

import api_docs  # a sibling module: the local runtime can import it only while this module loads
from aws_lambda_powertools.event_handler import Response

from clara import __version__
from clara.contract.errors import RouteNotFound
from clara.formats import LazyModel
from clara.http.app import create_app, lambda_handler_for
from clara.http.openapi import Success, documented
from clara.http.urls import served_prefix
from clara.settings import SERVICE_NAME, get_settings

app = create_app()


class HealthView(LazyModel):
    service: str
    status: str


class VersionView(LazyModel):
    version: str


HEALTHY = Success(200, HealthView, "Health check successful.")


@app.get("/health", **documented("Liveness", HEALTHY))
def health() -> Response[Any]:
    return HEALTHY.answer(HealthView(service=SERVICE_NAME, status="healthy"))


VERSION_FETCHED = Success(200, VersionView, "Version check successful.")


@app.get("/version", **documented("The deployed version", VERSION_FETCHED))
def version() -> Response[Any]:
    return VERSION_FETCHED.answer(VersionView(version=get_settings().version or __version__))


# Not envelopes: the document, the page and its assets are answered as they are, with the declared status.
DOCUMENT = Success(200, None, "The OpenAPI document")


@app.get(
    "/openapi.json",
    **documented(
        "This document (when the ApiDocs parameter enables it)",
        DOCUMENT,
        ok_content={"application/json": {"schema": {"type": "object"}}},
        errors=(RouteNotFound,),
    ),
)
def openapi_document() -> Response[Any]:
    _docs_enabled()
    # Its servers under the prefix this request came with (/prod on the execute-api endpoint): see api_docs.
    return Response(DOCUMENT.status, "application/json", api_docs.document(served_prefix(app.current_event)))


DOCS_PAGE = Success(200, None, "The Swagger UI page")


@app.get(
    "/docs",
    **documented(
        "Swagger UI on this document (when the ApiDocs parameter enables it)",
        DOCS_PAGE,
        ok_content={"text/html": {"schema": {"type": "string"}}},
        errors=(RouteNotFound,),
    ),
)
def docs_page() -> Response[Any]:
    _docs_enabled()
    return Response(DOCS_PAGE.status, "text/html; charset=utf-8", api_docs.PAGE)


DOCS_ASSET = Success(200, None, "The asset")


@app.get(
    "/docs/<asset>",
    **documented(
        "Swagger UI's script and stylesheet, for the page (same switch)",
        DOCS_ASSET,
        ok_content={media: {"schema": {"type": "string"}} for media in ("text/javascript", "text/css")},
        errors=(RouteNotFound,),
    ),
)
def docs_asset(asset: api_docs.Asset) -> Response[Any]:
    _docs_enabled()
    found = api_docs.asset(asset)
    if found is None:
        raise RouteNotFound()
    text, content_type = found
    return Response(DOCS_ASSET.status, content_type, text, headers={"Cache-Control": api_docs.ASSET_CACHE_CONTROL})


def _docs_enabled() -> None:
    """Off in a deployed stack unless its ApiDocs parameter enables them: to everyone else, no such route."""
    if get_settings().api_docs != "enabled":
        raise RouteNotFound()


lambda_handler = lambda_handler_for(app)

"""MiscFunction's API docs: the OpenAPI document, and Swagger UI's page, script and stylesheet, all served from here.

Swagger UI comes from aws-lambda-powertools, already in the shared layer: it ships Swagger UI's minified bundle
and stylesheet (aws_lambda_powertools/event_handler/openapi/swagger_ui/) for its own docs route. No CDN, so the
page works offline, and no extra package in any build.

Where the browser sees the API depends on how it is reached: `/prod/api/v1` on API Gateway's execute-api endpoint
(the stage is in the URL), a custom domain's base path before `/api/v1`, or plain `/api/v1` under `make run`.
So the page refers to its assets and to the document by relative URLs, and the document's `servers` gets the
request's prefix (clara.http.urls.served_prefix) when it is served, so that Swagger UI's "Try it out" calls go
where the page came from.
"""

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

import aws_lambda_powertools

# Generated from every function's routes by `make openapi` (local_runtime/openapi.py); a test checks it is current.
DOCUMENT = Path(__file__).with_name("openapi.json")
SWAGGER_UI = Path(aws_lambda_powertools.__file__).parent / "event_handler" / "openapi" / "swagger_ui"

Asset = Literal["swagger-ui-bundle.js", "swagger-ui.css"]
# Our name for each asset (under /api/v1/docs/): its file in Powertools' folder and its Content-Type. Both are
# UTF-8 text, so they go back as text (isBase64Encoded false), which API Gateway passes through as it does every
# JSON answer, whatever the API's binary media types and the request's Accept header.
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.min.css", "text/css; charset=utf-8"),
}
# The assets change only with the layer's Powertools: a day in the browser's cache.
ASSET_CACHE_CONTROL = "public, max-age=86400"

# Relative URLs: the page is .../api/v1/docs, so `docs/...` is .../api/v1/docs/... and `openapi.json` is
# .../api/v1/openapi.json, under whatever prefix the browser used. No icon: the browser would ask the host's root.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Clara API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: new URL("openapi.json", document.baseURI).href, dom_id: "#swagger-ui"});</script>
</body>
</html>
"""


@cache
def _committed_document() -> str:
    return DOCUMENT.read_text()


@lru_cache(maxsize=8)
def document(prefix: str) -> str:
    """The committed document with each server URL under `prefix`; with no prefix, the committed text itself."""
    text = _committed_document()
    if not prefix:
        return text
    parsed = json.loads(text)
    parsed["servers"] = [{**server, "url": prefix + server["url"]} for server in parsed.get("servers", [])]
    return json.dumps(parsed, indent=2) + "\n"


@cache
def asset(name: str) -> tuple[str, str] | None:
    """The asset's text and Content-Type, or None for a name that is not one of ours."""
    if name not in ASSETS:
        return None
    file, content_type = ASSETS[name]
    return (SWAGGER_UI / file).read_text(encoding="utf-8"), content_type

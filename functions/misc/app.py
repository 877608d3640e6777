"""Misc: GET /health and GET /version; also the API's catch-all route, so unknown paths get the 404 envelope."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import __version__
from clara.api import create_app, lambda_handler_for
from clara.envelope import success
from clara.settings import SERVICE_NAME, get_settings

app = create_app()


@app.get("/health")
def health() -> Response[Any]:
    return success({"service": SERVICE_NAME, "status": "healthy"}, "Health check successful.")


@app.get("/version")
def version() -> Response[Any]:
    return success({"version": get_settings().version or __version__}, "Version check successful.")


lambda_handler = lambda_handler_for(app)

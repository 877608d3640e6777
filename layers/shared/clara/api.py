"""The one resolver factory every API function uses, and the Lambda entry point around it.

Everything that can go wrong in a request becomes the envelope here, once: the contract's errors, 404 and 405
for routes, 400 for empty or invalid bodies, and 500 for anything unhandled (the detail goes to the log only).
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from clara.envelope import failure
from clara.errors import ClaraError, EmptyBody, InvalidSchema, MethodNotAllowed, RouteNotFound, SomethingWentWrong
from clara.observability import logger, metrics, tracer
from clara.settings import API_PREFIX

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_app() -> APIGatewayRestResolver:
    """A REST resolver whose routes are written without the `/api/v1` prefix and whose errors are envelopes."""
    app = APIGatewayRestResolver(strip_prefixes=[API_PREFIX], enable_validation=True)

    @app.exception_handler(ClaraError)
    def contract_error(error: ClaraError) -> Response:
        return failure(error)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        body_missing = not (app.current_event.body or "").strip()
        about_body = any(detail.get("loc", ("",))[0] == "body" for detail in error.errors())
        return failure(EmptyBody() if body_missing and about_body else InvalidSchema())

    # Its own handler: Powertools derives it from NotImplementedError, so the catch-all would make it a 500.
    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_body(_: RequestUnsupportedContentType) -> Response:
        return failure(InvalidSchema())

    @app.exception_handler(NotFoundError)
    def no_route(_: NotFoundError) -> Response:
        path = app.context.get("_path") or ""
        return failure(MethodNotAllowed() if _path_has_routes(app, path) else RouteNotFound())

    @app.exception_handler(Exception)
    def unhandled(error: Exception) -> Response:
        logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return failure(SomethingWentWrong())

    return app


def _path_has_routes(app: APIGatewayRestResolver, path: str) -> bool:
    """True when some method is routed for this path, so the request's method is the problem (405, not 404)."""
    routes = app._static_routes + app._dynamic_routes  # Powertools keeps its route table private
    return any(route.rule.match(path) for route in routes)


def lambda_handler_for(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda entry point of an API function: correlation id in every log line, traces and metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler

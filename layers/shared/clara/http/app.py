"""The one resolver factory every API function uses, and the Lambda entry point around it.

Everything that can go wrong in a request becomes the envelope here, once: the contract's errors, 404 and 405
for routes, 400 for empty or invalid bodies, 503 with Retry-After when an AWS service is throttling or unavailable
after the SDK's retries (clara.aws.overloaded), and 500 for anything else unhandled (the detail goes to the log
only).
"""

import base64
import binascii
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, ValidationError

from clara.aws import unexpected_error
from clara.contract.errors import (
    ClaraError,
    EmptyBody,
    InvalidSchema,
    MethodNotAllowed,
    RouteNotFound,
    ServiceBusy,
    problems,
)
from clara.formats import LazyModel
from clara.http.cors import add_cors_headers, preflight
from clara.http.envelope import failure
from clara.observability import logger, metrics, traced
from clara.settings import API_PREFIX

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
Model = TypeVar("Model", bound=BaseModel)


def create_app() -> APIGatewayRestResolver:
    """A REST resolver whose routes are written without the `/api/v1` prefix and whose errors are envelopes.

    Powertools' own validation stays off: routes authenticate first (clara.http.routes) and then read their body
    with read_body, so an anonymous caller learns nothing about a schema (and the validation middleware would cost every
    request and ~11 ms of every cold start).
    """
    app = APIGatewayRestResolver(strip_prefixes=[API_PREFIX])

    @app.exception_handler(ClaraError)
    def contract_error(error: ClaraError) -> Response:
        answer = unexpected_error(error)  # a SomethingWentWrong raised from AWS throttling is a 503
        if answer is not error:
            logger.warning("AWS is busy", extra={"error_type": type(error.__cause__).__name__}, exc_info=error)
        return failure(answer)

    @app.exception_handler(NotFoundError)
    def no_route(_: NotFoundError) -> Response:
        allowed = _methods_routed(app, app.context.get("_path") or "")
        if not allowed:
            return failure(RouteNotFound())
        if app.current_event.http_method == "OPTIONS":
            answer = preflight(app.current_event.headers.get("Origin"))
            if answer is not None:
                return answer
        # RFC 9110: a 405 lists the methods the resource does support.
        return failure(MethodNotAllowed(headers={"Allow": ", ".join(allowed)}))

    @app.exception_handler(Exception)
    def unhandled(error: Exception) -> Response:
        answer = unexpected_error(error)
        if isinstance(answer, ServiceBusy):  # throttling or unavailable after the SDK's retries: retryable
            logger.warning("AWS is busy", extra={"error_type": type(error).__name__}, exc_info=error)
        else:
            logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return failure(answer)

    return app


def _methods_routed(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods routed for this path: when there are some, the request's method is the problem (405, not 404)."""
    routes = app._static_routes + app._dynamic_routes  # Powertools keeps its route table private
    return sorted({route.method for route in routes if route.rule.match(path)})


def lambda_handler_for(app: APIGatewayRestResolver) -> LambdaHandler:
    """The Lambda entry point of an API function: correlation id in every log line, traces and metrics."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @traced
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return add_cors_headers(event, app.resolve(event, context))

    return lambda_handler


def read_body(event: APIGatewayProxyEvent, model: type[Model]) -> Model:
    """The JSON body as `model`: 400 "Request body is empty." when there is none (or it is not JSON by its
    Content-Type: the contract's answer, its data saying so), 400 Invalid Schema when it is malformed, not UTF-8,
    or fails validation (its data naming the fields).

    Handlers call this after authenticating, so an anonymous caller learns nothing about the schema.
    """
    body = optional_body(event, model)
    if body is None:
        content_type = _content_type(event)
        if event.body and not content_type.endswith("json"):  # e.g. curl -d without -H 'Content-Type: ...'
            raise EmptyBody(data=problems([("Content-Type", f"{content_type} is not JSON: the body was not read")]))
        raise EmptyBody()
    return body


def optional_body(event: APIGatewayProxyEvent, model: type[Model]) -> Model | None:
    """Like read_body, but no body at all is None (a login without a 2FA code), and so is one that is not JSON by
    its Content-Type (the login reads its body only when 2FA is on)."""
    raw = event.body
    if raw is None or not _content_type(event).endswith("json"):
        return None
    try:
        payload = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode()
    except (binascii.Error, UnicodeEncodeError) as error:
        raise InvalidSchema(data=problems([("body", "not valid UTF-8 text")])) from error
    if not payload.strip():
        return None
    try:
        return model.model_validate_json(payload)
    except ValidationError as error:
        raise InvalidSchema.of(error) from error


def _content_type(event: APIGatewayProxyEvent) -> str:
    """The media type of the request's Content-Type, lower case; none given reads as JSON."""
    return (event.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()


# The bounds of every listing, the REST routes' query strings and the MCP tools' arguments alike.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(LazyModel):
    """docs/contract.md, Pagination: `limit` 1..100 (default 20) and `offset` >= 0 (default 0), honoured exactly."""

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0)


def parsed(model: type[Model], values: dict[str, Any]) -> Model:
    """`values` (query strings or MCP tool arguments) as `model`; 400 Invalid Schema when they do not fit."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidSchema.of(error) from error


def page_of(values: dict[str, Any]) -> Page:
    """The page `values` ask for (query strings or tool arguments); 400 Invalid Schema when out of range."""
    return parsed(Page, values)


def read_page(event: APIGatewayProxyEvent) -> Page:
    """The page of a listing route's query string."""
    query = event.query_string_parameters or {}
    return page_of({name: query[name] for name in ("limit", "offset") if name in query})

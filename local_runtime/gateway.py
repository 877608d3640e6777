"""The WSGI app in front of the functions: API Gateway (REST) for every path, Function URLs under /_url/<id>/."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from local_runtime.events import api_gateway_event, function_url_event
from local_runtime.functions import FunctionRegistry, FunctionTimeout
from local_runtime.template import Template

log = logging.getLogger("local_runtime")

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
API_GATEWAY_TIMEOUT = 29.0  # API Gateway gives up on an integration after 29 s
FUNCTION_URL_PREFIX = "/_url/"

# What API Gateway answers when a template does not customise a response type: status and message.
_DEFAULT_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    # A Lambda error or malformed proxy response is 502 on AWS (the type's nominal default is 504).
    "INTEGRATION_FAILURE": (502, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
}


class InvalidProxyResponse(ValueError):
    """The handler's result is not a Lambda proxy response (API Gateway answers 502)."""


def _raw_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded), as API Gateway routes and forwards it."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
    return raw.split("?", 1)[0] or "/"


class Gateway:
    def __init__(self, template: Template, functions: FunctionRegistry):
        self.template = template
        self.functions = functions

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        started = time.perf_counter()
        path = _raw_path(request)
        try:
            if path.startswith(FUNCTION_URL_PREFIX):
                response = self.function_url(request, path)
            else:
                response = self.api(request, path)
        except Exception:  # a fault of the runtime itself still answers in the envelope
            log.exception("local runtime failed on %s %s", request.method, path)
            response = self.gateway_response("INTEGRATION_FAILURE")
        elapsed = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms", request.method, path, response.status_code, elapsed)
        return response(environ, start_response)

    # ----------------------------------------------------------------------- API Gateway (REST, v1 events)

    def gateway_response(self, response_type: str, message: str | None = None) -> Response:
        """A response of the gateway itself, rendered from the template's AWS::ApiGateway::GatewayResponse."""
        default_status, default_message = _DEFAULT_RESPONSES.get(response_type, (500, "Internal server error"))
        message = message or default_message
        # An undeclared response type inherits DEFAULT_4XX/5XX's templates but keeps its own status.
        specific = self.template.gateway_responses.get(response_type)
        family = self.template.gateway_responses.get("DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX")
        configured = specific or family
        status = (specific.status if specific else None) or default_status
        body_template = configured.body_template if configured else None
        body = (
            (body_template or '{"message":$context.error.messageString}')
            .replace("$context.error.messageString", json.dumps(message))
            .replace("$context.error.message", message)
        )
        headers = configured.headers if configured else {}
        return Response(body, status=status, headers=headers, content_type="application/json")

    def api(self, request: Request, path: str) -> Response:
        if (request.content_length or 0) > MAX_REQUEST_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE")
        body = request.stream.read(MAX_REQUEST_BYTES + 1)  # also bounds chunked bodies without a length
        if len(body) > MAX_REQUEST_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE")
        # This server's URLs need no stage, as on a custom domain that maps the stage at its root; with the stage
        # first (/prod/api/v1/...) they are the execute-api endpoint's, and the event says so (requestContext.path).
        stage = self.template.stage_name
        base_path: str | None = ""
        if path.startswith(f"/{stage}/"):
            path, base_path = path[len(stage) + 1 :], None
        match = self.template.match_route(request.method, path)
        if match is None:
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN")
        headers = list(request.headers.items())
        headers.append(("X-Forwarded-For", request.remote_addr or "127.0.0.1"))
        headers.append(("X-Forwarded-Proto", request.scheme))
        event = api_gateway_event(
            request.method,
            path,
            resource=match.route.path,
            path_parameters={name: unquote(value) for name, value in match.path_parameters.items()},
            headers=headers,
            query=list(request.args.items(multi=True)),
            body=body,
            binary_media_types=self.template.binary_media_types,
            stage=stage,
            base_path=base_path,
            source_ip=request.remote_addr or "127.0.0.1",
        )
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE")
        function = match.function
        try:
            result = self.functions.invoke(function.logical_id, event, min(function.timeout, API_GATEWAY_TIMEOUT))
            return _proxy_response(result)
        except FunctionTimeout as error:
            log.error("%s", error)
            return self.gateway_response("INTEGRATION_TIMEOUT")
        except Exception:
            log.exception("%s failed on %s %s", function.logical_id, request.method, path)
            return self.gateway_response("INTEGRATION_FAILURE")

    # ----------------------------------------------------------------------- Function URLs (v2 events)

    def function_url(self, request: Request, path: str) -> Response:
        function_id, _, rest = path[len(FUNCTION_URL_PREFIX) :].partition("/")
        function = self.template.functions.get(function_id)
        if function is None or not function.has_function_url:
            return Response('{"Message":null}', status=403, content_type="application/json")
        body = request.get_data(cache=False)
        event = function_url_event(
            request.method,
            "/" + rest,
            request.query_string.decode("latin-1"),
            list(request.headers.items()),
            body,
            query=list(request.args.items(multi=True)),
            source_ip=request.remote_addr or "127.0.0.1",
            domain_name=request.host,
        )
        try:
            return _url_response(self.functions.invoke(function_id, event))
        except Exception:
            log.exception("%s failed on %s %s", function_id, request.method, path)
            return Response("Internal Server Error", status=502, content_type="text/plain")


def _proxy_response(result: Any) -> Response:
    """A Lambda proxy result as HTTP; anything malformed raises InvalidProxyResponse (API Gateway's 502)."""
    if not isinstance(result, dict):
        raise InvalidProxyResponse(f"result is {type(result).__name__}, not an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidProxyResponse(f"statusCode {status!r}")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise InvalidProxyResponse("body is not a string")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.set(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.remove(name)  # multiValueHeaders win over a header of the same name
        for value in values:
            headers.add(name, str(value))
    payload = base64.b64decode(body) if body and result.get("isBase64Encoded") else (body or "").encode("utf-8")
    headers.setdefault("Content-Type", "application/json")  # API Gateway's default for proxy responses
    return Response(payload, status=status, headers=headers)


def _url_response(result: Any) -> Response:
    """A Function URL result: a response object with statusCode, or any JSON value meaning 200 with that JSON."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return Response(json.dumps(result), status=200, content_type="application/json")
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers.set(name, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("Set-Cookie", cookie)
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
    headers.setdefault("Content-Type", "application/json")
    return Response(payload, status=int(result["statusCode"]), headers=headers)

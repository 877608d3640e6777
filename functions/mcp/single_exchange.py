"""A plain stateless MCP POST answered by the SDK's own request handling, without its HTTP transport.

Stateless, the SDK's streamable HTTP transport builds a Starlette app, a session manager, a transport, a JSON-RPC
dispatcher, memory streams and task groups for every POST, only to hand its one message to the SDK's ServerRunner:
about 80% of a warm tools/list's own time. For the plain case (a POST of one JSON-RPC request, at a handshake-era
protocol version, that the transport would accept) `answer` hands the message to that runner itself (serve_one,
the SDK's single-exchange driver) and frames the reply as the transport does in JSON-response mode: 200,
Content-Type application/json, the result or the JSON-RPC error the SDK's dispatcher makes of a failure. Anything
else (a notification, a posted response, a body that does not parse or validate, a refused header or host, an
oversized body, a 2026-era version, which the SDK serves on a path of its own) is left to the transport, which
answers it as it always has; so the SDK stays the source of every protocol answer, and only this framing is ours.
"""

import logging
from typing import Any

import pydantic_core
from mcp.server._streamable_http_modern import _SingleExchangeDispatchContext
from mcp.server.connection import Connection
from mcp.server.lowlevel.server import Server
from mcp.server.runner import serve_one
from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data, progress_token_from_params
from mcp.shared.message import ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp.types import (
    DEFAULT_NEGOTIATED_VERSION,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
    jsonrpc_message_adapter,
)
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

logger = logging.getLogger(__name__)

JSON = "application/json"


async def answer(
    server: Server[Any], security: TransportSecuritySettings, scope: Scope, body: bytes, max_body: int
) -> Response | None:
    """The response to a plain request (the module's docstring), or None for the transport to answer it."""
    request = Request(scope)
    version = request.headers.get(MCP_PROTOCOL_VERSION_HEADER)
    message = _plain_request(request, body, max_body, version)
    if message is None:
        return None
    if await TransportSecurityMiddleware(security).validate_request(request, is_post=True) is not None:
        return None  # refused: the transport gives the SDK's answer
    # As the stateless transport's connection: born ready, at the header's version (or the spec's default).
    connection = Connection.from_envelope(version or DEFAULT_NEGOTIATED_VERSION, None, None)
    # Its dispatch context carries no server-to-client channel: in JSON-response mode nothing but the answer has a
    # wire, so the SDK's single-exchange context, given no sink, drops a handler's notifications as the transport does.
    dispatch = _SingleExchangeDispatchContext(
        transport=TransportContext(kind="streamable-http", can_send_request=False),
        request_id=message.id,
        message_metadata=ServerMessageMetadata(request_context=request, can_send_request=False),
        progress_token=progress_token_from_params(message.params),
    )
    reply: JSONRPCResponse | JSONRPCError
    async with server.lifespan(server) as lifespan_state:  # entered per request, as the per-request manager does
        try:
            result = await serve_one(
                server, dispatch, message.method, message.params, connection=connection, lifespan_state=lifespan_state
            )
            reply = JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)
        except Exception as error:
            reply = JSONRPCError(jsonrpc="2.0", id=message.id, error=_error_data(message, error))
    return Response(reply.model_dump_json(by_alias=True, exclude_unset=True), headers={"Content-Type": JSON})


def _plain_request(request: Request, body: bytes, max_body: int, version: str | None) -> JSONRPCRequest | None:
    """The body's JSON-RPC request when the transport would take the POST as it is, else None."""
    if request.method != "POST" or (version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS):
        return None
    content_type, declared = request.headers.get("content-type", ""), request.headers.get("content-length", "0")
    # Stricter than the transport's checks (a JSON media type, the body within the limit), never looser.
    if content_type.split(";")[0].strip() != JSON or not check_accept_headers(request)[0]:
        return None
    if len(body) > max_body or not declared.isdigit() or int(declared) > max_body:
        return None
    try:  # parsed, then validated, as the transport does it
        message = jsonrpc_message_adapter.validate_python(pydantic_core.from_json(body), by_name=False)
    except (ValueError, ValidationError):
        return None
    return message if isinstance(message, JSONRPCRequest) else None


def _error_data(message: JSONRPCRequest, error: Exception) -> ErrorData:
    """A handler's failure as the SDK's JSON-RPC dispatcher answers it (an error it does not map keeps code 0)."""
    mapped = handler_exception_to_error_data(error)
    if mapped is not None:
        return mapped
    logger.exception("handler for %r raised", message.method)
    return ErrorData(code=0, message=str(error))

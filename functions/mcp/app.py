"""MCP: Clara's API as tools for AI agents, at POST /api/v1/mcp (the MCP streamable HTTP transport).

The transport is the official MCP SDK's, stateless with JSON responses, since any POST may reach a fresh
Lambda instance; the SDK negotiates the protocol version. Every request is authenticated here first, exactly
as the REST routes authenticate (`Authorization: Bearer <user or API key token>`, the same rate limit, active
users only), and an optional `User-Id` header must name that user; a refusal is the contract's envelope with
its status, before the SDK sees the request. The tools then run the REST routes' own logic (tools.py, beside
this module) for that user, and a contract error comes back as an MCP tool error (isError) carrying the
contract's message.

A plain request skips the transport's per-request machinery for the SDK's own request handling (single_exchange.py,
beside this module); anything else is the transport's to answer.
"""

import inspect
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import lambda_asgi  # sibling modules: the local runtime can import them only while this module loads
import single_exchange
import tools
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import (
    INVALID_REQUEST,
    CallToolResult,
    ErrorData,
    InputRequiredResult,
    JSONRPCError,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as ToolDescription
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from clara import __version__
from clara.aws import unexpected_error
from clara.contract.errors import (
    AuthenticationFailed,
    ClaraError,
    InvalidSchema,
    MethodNotAllowed,
    NoAccess,
    RateLimitExceeded,
)
from clara.domain.analysis import ports as analysis_ports
from clara.domain.credits import ports as credits_ports
from clara.domain.webhooks import ports as webhooks_ports
from clara.formats import json_text
from clara.http.auth import Caller, Role, authenticate
from clara.http.cors import add_cors_headers, allowed_origin, preflight
from clara.http.envelope import failure, proxy_result
from clara.integrations.s3_attachments import S3Attachments
from clara.integrations.sqs_queues import TaskQueue, WebhookEventQueue
from clara.integrations.stripe_payments import StripePayments
from clara.observability import logger, metrics, traced
from clara.settings import API_PREFIX

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
analysis_ports.attachments.plug(S3Attachments)
analysis_ports.task_queue.plug(TaskQueue)
credits_ports.payments.plug(StripePayments)
webhooks_ports.event_queue.plug(WebhookEventQueue)

MCP_PATH = f"{API_PREFIX}/mcp"
# Lambda takes events of at most 6 MB, so no larger body can arrive; the SDK's own default is 4 MiB.
MAX_BODY_BYTES = 6 * 1024 * 1024

# Checked here, then withheld: the SDK (with its auth off) has no use for them, and nothing passes them on.
CREDENTIAL_HEADERS = ("authorization", "cookie")
# The SDK logs a session manager starting and stopping on every request at INFO: noise for a Lambda.
logging.getLogger("mcp").setLevel(logging.WARNING)


_JSON_RPC_MESSAGE = {"type": "object", "description": "A JSON-RPC 2.0 message"}
_JSON_RPC = {"application/json": {"schema": _JSON_RPC_MESSAGE}}
_ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}
_ERROR = {"application/json": {"schema": _ENVELOPE}}
# The one route, for the API's OpenAPI document (local_runtime/openapi.py): the messages are MCP's JSON-RPC, as
# the MCP specification defines them; refusals before the SDK are the contract's envelope.
OPENAPI_PATHS = {
    "/mcp": {
        "post": {
            "summary": "MCP streamable HTTP transport (stateless, JSON responses) with Clara's tools",
            "operationId": "mcp_post",
            "security": [{"BearerToken": []}],
            "parameters": [
                {"name": "User-Id", "in": "header", "required": False, "schema": {"type": "string"}},
                {"name": "Mcp-Protocol-Version", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "requestBody": {"required": True, "content": _JSON_RPC},
            "responses": {
                "200": {"description": "The JSON-RPC response", "content": _JSON_RPC},
                "202": {"description": "A notification or response was accepted"},
                "400": {
                    "description": "A malformed JSON-RPC message (a JSON-RPC error), or a request no event could carry",
                    "content": {"application/json": {"schema": {"anyOf": [_JSON_RPC_MESSAGE, _ENVELOPE]}}},
                },
                "401": {"description": AuthenticationFailed.message, "content": _ERROR},
                "403": {"description": NoAccess.message, "content": _ERROR},
                "406": {"description": "Accept must allow application/json and text/event-stream"},
                "415": {"description": "Content-Type must be application/json"},
                "429": {"description": RateLimitExceeded.message, "content": _ERROR},
            },
        }
    }
}


@dataclass(frozen=True)
class McpRequest:
    """The authenticated request the tools act for."""

    caller: Caller
    request_id: str  # API Gateway's; Stripe's idempotency keys use it, as on REST


_current: ContextVar[McpRequest] = ContextVar("clara_mcp_request")


def _caller() -> Caller:
    return _current.get().caller


# ------------------------------------------------------------------------------------------- the server


def _text_result(text: str, *, is_error: bool = False) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=is_error)


def _error_result(error: ClaraError) -> CallToolResult:
    """A tool's failure as the REST route answers it: the contract's message as the text, and the envelope's
    data (the fields of an Invalid Schema and why, say), when there is some, as the structured content."""
    result = _text_result(error.message, is_error=True)
    if error.data is not None:
        result.structured_content = json.loads(json_text(error.data))
    return result


def _result(data: Any) -> CallToolResult:
    """The REST response's `data` as JSON text (money exact, as on REST), and structured (an object, so a list is
    under `result`; the SDK writes its numbers as JSON floats)."""
    text = json_text(data)
    structured = json.loads(text)
    result = _text_result(text)
    result.structured_content = structured if isinstance(structured, dict) else {"result": structured}
    return result


class ClaraMCPServer(MCPServer[Any]):
    """MCPServer whose tool errors carry the contract's messages.

    The SDK reports a tool's failure as "Error executing tool <name>: ..." (with pydantic's text for invalid
    arguments, and nothing for an exception it did not expect); here a contract error gives its own message,
    invalid arguments the 400 Invalid Schema message, AWS throttling or unavailable the 503's "The service is busy"
    message, and anything else "Something went wrong." (logged).
    """

    _tools: list[ToolDescription] | None = None

    async def list_tools(self) -> list[ToolDescription]:
        # Every tool is registered at import and none changes: their descriptions (a model per tool, with its JSON
        # schemas validated) are built by the instance's first tools/list, not by each one.
        if self._tools is None:
            self._tools = await super().list_tools()
        return self._tools

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as error:
            cause = error.__cause__
            if isinstance(cause, ClaraError):
                return _error_result(unexpected_error(cause))
            if isinstance(error, UnexpectedToolError):
                logger.error("MCP tool failed", extra={"tool": name}, exc_info=cause or error)
                return _error_result(unexpected_error(cause or error))
            if isinstance(cause, ValidationError):  # the arguments do not match the tool's input schema
                return _error_result(InvalidSchema.of(cause))
            raise  # the SDK's own refusals (an unknown tool) keep their text


server = ClaraMCPServer(
    name="clara",
    title="Clara",
    version=__version__,
    instructions=(
        "Clara fact-checks text and media. Submit a claim with agent_analysis (it costs credits; user_view shows "
        "the balance, agent_supported_attachments the accepted files), then poll task_view with the task's id "
        "until its status is COMPLETED (the verdict is in `result`) or FAILED (`error` says why, and the credits "
        "were refunded); task_cancel stops a task still PENDING and refunds it. Credits are bought through stripe_rate "
        "and stripe_buy."
    ),
)

# What the SDK is not to take from the agent: the tools' own context, supplied per call from the request.
CONTEXT: dict[str, Callable[[McpRequest], Any]] = {
    "caller": lambda request: request.caller,
    "request_id": lambda request: request.request_id,
}


def register(function: Callable[..., Any]) -> None:
    """Register one tool of tools.TOOLS as declared there: its name, parameters (less CONTEXT's), docstring (as one
    paragraph: the description agents read) and hints; each call answers the REST route's data (_result)."""
    signature = inspect.signature(function, eval_str=True)
    supplied = [name for name in signature.parameters if name in CONTEXT]

    def call(**arguments: Any) -> CallToolResult:
        request = _current.get()
        return _result(function(**{name: CONTEXT[name](request) for name in supplied}, **arguments))

    call.__name__ = function.__name__
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]  # what the SDK reads the input from
        parameters=[parameter for name, parameter in signature.parameters.items() if name not in CONTEXT],
        return_annotation=CallToolResult,
    )
    hints: tools.Hints = function.hints  # type: ignore[attr-defined]
    server.add_tool(
        call,
        name=function.__name__,
        description=" ".join((function.__doc__ or "").split()),
        annotations=ToolAnnotations(
            read_only_hint=hints.read_only,
            destructive_hint=hints.destructive,
            idempotent_hint=hints.idempotent,
            open_world_hint=hints.open_world,
        ),
    )


for declared in tools.TOOLS:
    register(declared)


_tool_lists: dict[str, HandlerResult] = {}


async def _tool_list_once(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """A tools/list without params answered by the SDK once per protocol version, then repeated: no tool changes
    after import, while the SDK checks and reshapes the whole list against the version's schema on every call (most
    of a warm tools/list's own time). The SDK copies what middleware returns before shaping the wire answer."""
    if ctx.method != "tools/list" or ctx.params:
        return await call_next(ctx)
    if ctx.protocol_version not in _tool_lists:
        _tool_lists[ctx.protocol_version] = await call_next(ctx)
    return _tool_lists[ctx.protocol_version]


server.middleware.append(_tool_list_once)  # innermost: the SDK's own middleware still sees every request


# ------------------------------------------------------------------------------------------- the handler


def _json_rpc_error(status: int, message: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A JSON-RPC error about the request as a whole (id null), as the SDK answers its own transport errors."""
    body = JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=INVALID_REQUEST, message=message))
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": body.model_dump_json(by_alias=True, exclude_unset=True),
    }


def _no_stream() -> dict[str, Any]:
    """The answer to GET. The SDK would open its standalone SSE stream, which a buffered Lambda response can never
    deliver (the invocation would wait out its timeout); the transport's answer when no stream is offered is 405,
    here with the JSON-RPC error body the SDK gives its own 405s."""
    return _json_rpc_error(405, "Method Not Allowed: no SSE stream is offered; POST messages", {"Allow": "POST"})


def _is_batch(body: bytes) -> bool:
    """A JSON array body: a JSON-RPC batch, which the streamable HTTP transport (since 2025-06-18) does not take;
    the SDK would answer it with pydantic's validation text."""
    return body.lstrip()[:1] == b"["


def _check_user_id(event: APIGatewayProxyEvent, caller: Caller) -> None:
    """A `User-Id` header, when sent, names the caller's own user (403 otherwise, as a path id would be)."""
    user_id = event.headers.get("User-Id")
    if user_id is not None and user_id.strip() != caller.own_user().id:
        raise NoAccess()


def _transport_security(event: APIGatewayProxyEvent) -> TransportSecuritySettings:
    """DNS-rebinding protection allowing the API's own host (the one API Gateway accepted the request on: its
    execute-api host or a custom domain; the local runtime reports the host it was called on), and the browser
    origins CORS_ALLOW_ORIGIN admits."""
    host = event.request_context.domain_name or ""
    origins = [f"https://{host}", f"http://{host}"]
    request_origin = event.headers.get("Origin")
    if request_origin and allowed_origin(request_origin) is not None:
        origins.append(request_origin)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=[host], allowed_origins=origins
    )


def _serving(request: McpRequest, security: TransportSecuritySettings, body: bytes) -> lambda_asgi.Serve:
    """This request's ASGI call, the caller in the context: a plain request answered by the SDK's request handling
    (single_exchange), anything else by its transport, through a fresh session manager (one may run only once)."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        _current.set(request)  # tool calls run in tasks and threads that copy this context
        # The low-level server MCPServer wraps (the SDK's own in-memory client reaches it the same way).
        plain = await single_exchange.answer(server._lowlevel_server, security, scope, body, MAX_BODY_BYTES)
        if plain is not None:
            await plain(scope, receive, send)
            return
        app = server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            transport_security=security,
            max_request_body_size=MAX_BODY_BYTES,
        )
        async with server.session_manager.run():
            await app(scope, receive, send)

    return serve


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Browser-based MCP clients get the same CORS answer as the REST routes.
    return add_cors_headers(event, _answer(event))


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    request = APIGatewayProxyEvent(event)
    if request.http_method == "OPTIONS":  # a browser's preflight carries no credential
        answer = preflight(request.headers.get("Origin"))
        return proxy_result(answer if answer is not None else failure(MethodNotAllowed()))
    try:
        caller = authenticate(request, Role.USER, Role.API_KEY, active=True)
        _check_user_id(request, caller)
        if request.http_method == "GET":
            return _no_stream()
        body = lambda_asgi.request_body(event)
        if _is_batch(body):
            return _json_rpc_error(400, "Invalid Request: batches are not supported")
        mcp_request = McpRequest(caller, request.request_context.request_id)
        serve = _serving(mcp_request, _transport_security(request), body)
        return lambda_asgi.invoke(serve, event, MCP_PATH, withheld=CREDENTIAL_HEADERS)
    except ClaraError as error:
        return proxy_result(failure(unexpected_error(error)))
    except lambda_asgi.InvalidEvent:
        return proxy_result(failure(InvalidSchema()))
    except Exception as error:
        logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return proxy_result(failure(unexpected_error(error)))  # 503 when AWS is throttling or unavailable

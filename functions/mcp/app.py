"""MCP: Clara's API as tools for AI agents, at POST /api/v1/mcp (the MCP streamable HTTP transport).

The transport is the official MCP SDK's, stateless with JSON responses, since any POST may reach a fresh
Lambda instance; the SDK negotiates the protocol version. Every request is authenticated here first, exactly
as the REST routes authenticate (`Authorization: Bearer <user or API key token>`, the same rate limit, active
users only), and an optional `User-Id` header must name that user; a refusal is the contract's envelope with
its status, before the SDK sees the request. The tools then run the REST routes' own logic (tools.py, beside
this module) for that user, and a contract error comes back as an MCP tool error (isError) carrying the
contract's message.
"""

import json
import logging
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import lambda_asgi  # sibling modules: the local runtime can import them only while this module loads
import tools
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
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
from pydantic import Field, ValidationError
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
from clara.formats import json_text
from clara.http.app import DEFAULT_LIMIT, MAX_LIMIT
from clara.http.auth import Caller, Role, authenticate
from clara.http.cors import add_cors_headers, allowed_origin, preflight
from clara.http.envelope import failure
from clara.observability import logger, metrics, tracer
from clara.settings import API_PREFIX, Settings

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


Tool = TypeVar("Tool", bound=Callable[..., CallToolResult])
_current: ContextVar[McpRequest] = ContextVar("clara_mcp_request")


def _caller() -> Caller:
    return _current.get().caller


# ------------------------------------------------------------------------------------------- the server


def _text_result(text: str, *, is_error: bool = False) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=is_error)


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
                return _text_result(unexpected_error(cause).message, is_error=True)
            if isinstance(error, UnexpectedToolError):
                logger.error("MCP tool failed", extra={"tool": name}, exc_info=cause or error)
                return _text_result(unexpected_error(cause or error).message, is_error=True)
            if isinstance(cause, ValidationError):  # the arguments do not match the tool's input schema
                return _text_result(InvalidSchema.message, is_error=True)
            raise  # the SDK's own refusals (an unknown tool) keep their text


# The tools' schemas show the default limits; nothing is read from the environment at import (the configured
# limits are enforced per call by tools.py, through the settings).
MAX_TEXT = Settings.model_fields["max_text_characters"].default
MAX_FILES = Settings.model_fields["max_attachments"].default

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

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def tool(annotations: ToolAnnotations) -> Callable[[Tool], Tool]:
    """Register the function as a tool, its docstring (as one paragraph) being the description agents read."""

    def register(function: Tool) -> Tool:
        server.add_tool(function, description=" ".join((function.__doc__ or "").split()), annotations=annotations)
        return function

    return register


Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"How many to return: 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, Field(ge=0, description="How many of the newest to skip, for the next page.")]


@tool(READ_ONLY)
def user_view() -> CallToolResult:
    """The signed-in user: id, email, first and last name, credit balance (`credits`), and whether the account
    is active, has two-factor authentication and prefers dark mode."""
    return _result(tools.user_view(_caller()))


@tool(READ_ONLY)
def transaction_view_all(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> CallToolResult:
    """The user's credit transactions, newest first, a page at a time: each has id, type (CREDIT for a purchase
    or refund, DEBIT for an analysis), description, value_in_credits, value_in_fiat (dollars) and dates."""
    return _result(tools.transaction_view_all(_caller(), limit, offset))


@tool(READ_ONLY)
def transaction_view(
    transaction_id: Annotated[str, Field(description="The transaction's id, e.g. transaction_<32 hex digits>.")],
) -> CallToolResult:
    """One of the user's credit transactions by its id."""
    return _result(tools.transaction_view(_caller(), transaction_id))


@tool(READ_ONLY)
def task_view_all(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> CallToolResult:
    """The user's analysis tasks, newest first, a page at a time, each with its status and, once COMPLETED,
    its result."""
    return _result(tools.task_view_all(_caller(), limit, offset))


@tool(READ_ONLY)
def task_view(
    task_id: Annotated[str, Field(description="The task's id, as agent_analysis returned it (task_<hex>).")],
) -> CallToolResult:
    """One analysis task of the user: status PENDING or PROCESSING (call again in a few seconds), COMPLETED
    (the verdict and its explanation are in `result`) or FAILED (`error` says why; the credits were refunded)."""
    return _result(tools.task_view(_caller(), task_id))


@tool(ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False))
def task_cancel(
    task_id: Annotated[str, Field(description="The task's id, as agent_analysis returned it (task_<hex>).")],
) -> CallToolResult:
    """Cancel one of the user's analysis tasks while it is PENDING: it ends FAILED ("Cancelled at the user's
    request.") and its credits are refunded. Fails with "The task can no longer be cancelled." once it is
    PROCESSING, COMPLETED or FAILED."""
    return _result(tools.task_cancel(_caller(), task_id))


@tool(READ_ONLY)
def agent_supported_attachments() -> CallToolResult:
    """The file extensions agent_analysis accepts, by kind (image, video, audio, pdf)."""
    return _result(tools.agent_supported_attachments())


@tool(ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
def agent_analysis(
    text: Annotated[
        str, Field(description=f"The claim or passage to fact-check (up to {MAX_TEXT:,} characters).")
    ] = "",
    files: Annotated[
        Sequence[tools.AttachmentFile],
        Field(
            max_length=MAX_FILES,
            description=f"Up to {MAX_FILES} files (image, video, audio, PDF) with distinct names, base64-encoded.",
        ),
    ] = (),
) -> CallToolResult:
    """Fact-check a claim: text, files, or both. Charges the analysis cost in credits and returns the new task
    (status PENDING) at once; poll task_view with its id until the status is COMPLETED or FAILED. Fails with
    "You do not have enough credits ..." when the balance is too low (stripe_buy sells credits)."""
    return _result(tools.agent_analysis(_caller(), text, files))


@tool(READ_ONLY)
def stripe_rate() -> CallToolResult:
    """The prices of credits: bands of purchase amounts in whole dollars (lower_limit to upper_limit) and the
    credits each dollar buys in that band (rate)."""
    return _result(tools.stripe_rate())


@tool(ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True))
def stripe_buy(
    amount: Annotated[int, Field(ge=1, description="Whole dollars to spend; must fall in a band of stripe_rate.")],
    return_path: Annotated[
        str, Field(max_length=512, description="Path on the Clara web app to return to after paying, e.g. /billing.")
    ],
) -> CallToolResult:
    """Start buying credits: a Stripe Checkout page (`url`) for a person to pay at, with the credits it will
    add (value_in_credits). Nothing is charged or credited until that payment completes."""
    request = _current.get()
    return _result(tools.stripe_buy(request.caller, amount, return_path, request.request_id))


# ------------------------------------------------------------------------------------------- the handler


def _proxy(response: Response[Any]) -> dict[str, Any]:
    """A Powertools response (an envelope) as the Lambda proxy result."""
    return {"statusCode": response.status_code, "headers": response.headers, "body": response.body}


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


def _is_batch(event: dict[str, Any]) -> bool:
    """A JSON array body: a JSON-RPC batch, which the streamable HTTP transport (since 2025-06-18) does not take;
    the SDK would answer it with pydantic's validation text."""
    return lambda_asgi.request_body(event).lstrip()[:1] == b"["


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


def _serving(request: McpRequest, security: TransportSecuritySettings) -> lambda_asgi.Serve:
    """This request's ASGI call: a fresh session manager (one may run only once), the caller in the context."""

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        _current.set(request)  # tool calls run in tasks and threads that copy this context
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
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Browser-based MCP clients get the same CORS answer as the REST routes.
    return add_cors_headers(event, _answer(event))


def _answer(event: dict[str, Any]) -> dict[str, Any]:
    request = APIGatewayProxyEvent(event)
    if request.http_method == "OPTIONS":  # a browser's preflight carries no credential
        answer = preflight(request.headers.get("Origin"))
        return _proxy(answer if answer is not None else failure(MethodNotAllowed()))
    try:
        caller = authenticate(request, Role.USER, Role.API_KEY, active=True)
        _check_user_id(request, caller)
        if request.http_method == "GET":
            return _no_stream()
        if _is_batch(event):
            return _json_rpc_error(400, "Invalid Request: batches are not supported")
        serve = _serving(McpRequest(caller, request.request_context.request_id), _transport_security(request))
        return lambda_asgi.invoke(serve, event, MCP_PATH, withheld=CREDENTIAL_HEADERS)
    except ClaraError as error:
        return _proxy(failure(unexpected_error(error)))
    except lambda_asgi.InvalidEvent:
        return _proxy(failure(InvalidSchema()))
    except Exception as error:
        logger.exception("Unhandled error", extra={"error_type": type(error).__name__})
        return _proxy(failure(unexpected_error(error)))  # 503 when AWS is throttling or unavailable

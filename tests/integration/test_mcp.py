"""The MCP server (POST /api/v1/mcp) through its real lambda_handler, as API Gateway invokes it: JSON-RPC over the
streamable HTTP transport (stateless, JSON responses), the REST API's authentication in front of it, and tools
whose results carry the REST responses' data and whose failures carry the contract's messages."""

import base64
import inspect
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION
from werkzeug.serving import make_server

from harness import media
from harness.accounts import (
    API,
    INACTIVE,
    INVALID,
    NO_ACCESS,
    NO_CREDITS,
    PRIVATE,
    RATE_LIMITED,
    UNAUTHENTICATED,
    Account,
    Accounts,
    bearer,
    error,
    freeze_rate_clock,
)
from harness.inprocess import FUNCTIONS, ApiResponse
from harness.mcp import TOOLS
from local_runtime.stripe_standin import StripeStandIn

MCP = f"{API}/mcp"
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"  # API Gateway always forwards the Host it was called on
VERSION = "2025-06-18"
TASK_NOT_FOUND = "Task with the given identifier does not exist."
CANCELLED_ERROR = "Cancelled at the user's request."
NOT_CANCELLABLE = "The task can no longer be cancelled."
TRANSACTION_NOT_FOUND = "Transaction with the given identifier does not exist."
NO_RATE = "No credits rate found for the given amount."
CLIENT_URL = "https://app.example.com"


@dataclass
class Rpc(ApiResponse):
    """One HTTP exchange with the MCP endpoint."""

    @property
    def result(self) -> Any:
        assert self.status == 200, self.text
        return self.json["result"]


class McpClient:
    """JSON-RPC to POST /api/v1/mcp through call_api, with the headers a streamable HTTP client sends."""

    def __init__(self, call_api: Any, token: str, env: dict[str, str] | None = None):
        self.call_api = call_api
        self.token = token
        self.env = env
        self.ids = iter(range(1, 10_000))

    def post(self, body: Any, *, raw: bool = False, version: str | None = VERSION, **extra: str) -> Rpc:
        headers = {
            "Host": HOST,
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Authorization": bearer(self.token),
            **({"MCP-Protocol-Version": version} if version else {}),
            **extra,
        }
        payload = body if raw else json.dumps(body)
        response = self.call_api("POST", MCP, headers=headers, body=payload, env=self.env)
        return Rpc(response.status, response.headers, response.text)

    def request(self, method: str, params: dict[str, Any] | None = None, **headers: str) -> Rpc:
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self.ids), "method": method}
        if params is not None:
            message["params"] = params
        return self.post(message, **headers)

    def initialize(self, version: str = VERSION) -> Rpc:
        params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}}
        # The initialize request carries no MCP-Protocol-Version header: nothing is negotiated yet.
        return self.post(
            {"jsonrpc": "2.0", "id": next(self.ids), "method": "initialize", "params": params}, version=None
        )

    def call(self, tool: str, arguments: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "tools/call", {"name": tool, "arguments": arguments or {}}, **headers
        ).result
        return result

    def data(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        """A successful tool's data: the JSON text, which the structured content repeats."""
        result = self.call(tool, arguments)
        assert result["isError"] is False, result
        data = json.loads(result["content"][0]["text"])
        assert result["structuredContent"] == (data if isinstance(data, dict) else {"result": data})
        return data

    def tool_error(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        result = self.call(tool, arguments)
        assert result["isError"] is True, result
        assert [content["type"] for content in result["content"]] == ["text"]
        text: str = result["content"][0]["text"]
        return text


def set_credits(call_api: Any, account: Account, credits: float) -> None:
    response = call_api(
        "PUT",
        f"{API}/users/{account.id}/credits",
        headers={"Authorization": PRIVATE, "Content-Type": "application/json"},
        body=json.dumps({"credits": credits}),
    )
    assert response.status == 200, response.text


def rest(call_api: Any, account: Account, path: str, **query: str) -> Any:
    """The `data` of a REST GET, for comparing with the tools' results."""
    response = call_api("GET", f"{API}{path}", headers={"Authorization": account.auth}, query=query or None)
    assert response.status == 200, response.text
    return response.json["data"]


@pytest.fixture
def user(accounts: Accounts) -> Account:
    return accounts.active()


@pytest.fixture
def mcp(call_api, accounts: Accounts, user: Account) -> McpClient:
    """The user's MCP client, with their API key token (what an agent is configured with)."""
    return McpClient(call_api, accounts.api_key_token(user))


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


# ------------------------------------------------------------------------------------------- the transport


@pytest.mark.parametrize("version", HANDSHAKE_PROTOCOL_VERSIONS)
def test_initialize_echoes_a_supported_protocol_version(mcp: McpClient, version: str):
    result = mcp.initialize(version).result

    assert result["protocolVersion"] == version
    assert result["serverInfo"]["name"] == "clara"
    assert "tools" in result["capabilities"]
    assert "task_view" in result["instructions"]


def test_initialize_offers_the_latest_version_for_an_unsupported_one(mcp: McpClient):
    assert mcp.initialize("1999-01-01").result["protocolVersion"] == LATEST_HANDSHAKE_VERSION


def test_the_answer_is_json_not_a_stream(mcp: McpClient):
    response = mcp.initialize()

    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "mcp-session-id" not in {name.lower() for name in response.headers}  # stateless: no session


def test_the_initialized_notification_is_accepted(mcp: McpClient):
    response = mcp.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    assert response.status == 202 and response.text == ""


def test_tools_list_has_the_ten_tools_with_descriptions_and_input_schemas(mcp: McpClient):
    tools = {tool["name"]: tool for tool in mcp.request("tools/list").result["tools"]}

    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool["description"]) > 40 and "\n" not in tool["description"]
        assert tool["inputSchema"]["type"] == "object"
    page = tools["task_view_all"]["inputSchema"]["properties"]
    assert {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}.items() <= page["limit"].items()
    assert {"type": "integer", "minimum": 0, "default": 0}.items() <= page["offset"].items()
    assert tools["task_view"]["inputSchema"]["required"] == ["task_id"]
    assert tools["task_cancel"]["inputSchema"]["required"] == ["task_id"]
    assert tools["transaction_view"]["inputSchema"]["required"] == ["transaction_id"]
    assert sorted(tools["stripe_buy"]["inputSchema"]["required"]) == ["amount", "return_path"]
    analysis = tools["agent_analysis"]["inputSchema"]
    assert set(analysis["properties"]) == {"text", "files"} and "required" not in analysis
    file_schema = json.dumps(analysis)
    assert "content_base64" in file_schema and "name" in file_schema
    assert tools["user_view"]["annotations"]["readOnlyHint"] is True
    assert tools["agent_analysis"]["annotations"]["readOnlyHint"] is False
    assert tools["task_cancel"]["annotations"]["readOnlyHint"] is False
    assert tools["task_cancel"]["annotations"]["destructiveHint"] is True


def test_a_repeated_tools_list_is_the_sdks_answer_at_its_version(mcp: McpClient):
    tool_lists = inspect.unwrap(FUNCTIONS.handler("McpFunction")).__globals__["_tool_lists"]
    for version in HANDSHAKE_PROTOCOL_VERSIONS:  # each version's answer kept, if it was not already
        mcp.request("tools/list", version=version)
    assert set(HANDSHAKE_PROTOCOL_VERSIONS) <= set(tool_lists)
    repeated = {version: mcp.request("tools/list", version=version).result for version in HANDSHAKE_PROTOCOL_VERSIONS}
    fresh = {}
    for version in HANDSHAKE_PROTOCOL_VERSIONS:
        tool_lists.clear()  # the SDK answers anew
        fresh[version] = mcp.request("tools/list", version=version).result

    assert repeated == fresh


def test_a_charset_in_the_content_type_is_accepted(mcp: McpClient):
    response = mcp.request("tools/list", **{"Content-Type": "application/json; charset=utf-8"})

    assert response.status == 200 and len(response.result["tools"]) == len(TOOLS)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        '[1, "two", {"three": 3}]',
        '{"jsonrpc": "1.0", "id": 1, "method": "tools/list"}',
        '{"jsonrpc": "2.0", "id": 1}',
        '"just a string"',
        "",
    ],
    ids=["invalid-json", "array-of-garbage", "wrong-jsonrpc-version", "no-method", "a-string", "empty"],
)
def test_malformed_json_rpc_is_a_json_rpc_error_never_a_5xx(mcp: McpClient, body: str):
    response = mcp.post(body, raw=True)

    assert 400 <= response.status < 500, response.text
    assert response.json["jsonrpc"] == "2.0" and isinstance(response.json["error"]["code"], int)


@pytest.mark.parametrize(
    "body",
    [
        '[{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, {"jsonrpc": "2.0", "id": 2, "method": "ping"}]',
        '[1, "two", {"three": 3}]',
        "  []",
    ],
    ids=["two-requests", "array-of-garbage", "empty-array"],
)
def test_a_batch_is_a_plain_json_rpc_error_without_pydantic_text(mcp: McpClient, body: str):
    response = mcp.post(body, raw=True)

    assert response.status == 400, response.text
    assert response.json == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "Invalid Request: batches are not supported"},
    }
    assert "pydantic" not in response.text and "validation" not in response.text.lower()


def test_an_unknown_method_is_a_json_rpc_error(mcp: McpClient):
    response = mcp.request("no/such/method")

    assert response.status == 200
    assert response.json["error"]["code"] == -32601


def test_get_is_405_as_no_sse_stream_is_offered(call_api, mcp: McpClient):
    response = call_api(
        "GET", MCP, headers={"Host": HOST, "Accept": "text/event-stream", "Authorization": bearer(mcp.token)}
    )

    assert response.status == 405
    assert response.headers["Allow"] == "POST"
    assert json.loads(response.text)["error"]["message"].startswith("Method Not Allowed")


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_other_methods_are_405(call_api, mcp: McpClient, method: str):
    response = call_api(method, MCP, headers={"Host": HOST, "Authorization": bearer(mcp.token)})

    assert response.status == 405


# ------------------------------------------------------------------------------------------- authentication


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Bearer ", "test-public-key"])
def test_a_missing_or_bad_token_is_the_401_envelope(mcp: McpClient, authorization: str | None):
    headers = {"Host": HOST, "Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = mcp.call_api(
        "POST", MCP, headers=headers, body=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    )

    expected = 403 if authorization == "test-public-key" else 401  # the public key is valid, just not here
    assert response.status == expected
    assert response.json == error(NO_ACCESS if expected == 403 else UNAUTHENTICATED)


def test_the_private_key_is_refused(mcp: McpClient):
    response = mcp.request("tools/list", Authorization=PRIVATE)

    assert response.status == 403 and response.json == error(NO_ACCESS)


def test_a_user_token_works_too(call_api, user: Account):
    assert McpClient(call_api, user.token).data("user_view")["id"] == user.id


def test_an_inactive_user_is_refused(call_api, accounts: Accounts):
    inactive = accounts.register()

    response = McpClient(call_api, inactive.token).request("tools/list")

    assert response.status == 401 and response.json == error(INACTIVE)


def test_a_user_id_header_must_name_the_tokens_user(mcp: McpClient, user: Account, accounts: Accounts):
    other = accounts.active()

    mismatch = mcp.request("tools/list", **{"User-Id": other.id})
    match = mcp.request("tools/list", **{"User-Id": user.id})

    assert mismatch.status == 403 and mismatch.json == error(NO_ACCESS)
    assert match.status == 200


def test_the_rate_limit_applies(mcp: McpClient, monkeypatch):
    freeze_rate_clock(monkeypatch, 1_900_000_100.5)
    mcp.env = {"RATE_LIMIT_PER_SECOND": "2"}

    answers = [mcp.request("tools/list") for _ in range(3)]

    assert [answer.status for answer in answers] == [200, 200, 429]
    assert answers[2].json == error(RATE_LIMITED) and answers[2].headers["Retry-After"] == "1"


def test_an_unknown_tool_is_a_tool_error(mcp: McpClient):
    assert "no_such_tool" in mcp.tool_error("no_such_tool")


# One JSON-RPC request of each kind single_exchange answers itself: (method, params, MCP-Protocol-Version header).
PLAIN_REQUESTS: dict[str, tuple[str, dict[str, Any] | None, str | None]] = {
    "initialize": (
        "initialize",
        {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}},
        None,
    ),
    "tools-list": ("tools/list", None, VERSION),
    "tools-list-no-version": ("tools/list", None, None),
    "ping": ("ping", None, VERSION),
    "a-tool": ("tools/call", {"name": "user_view", "arguments": {}}, VERSION),
    "an-unknown-tool": ("tools/call", {"name": "no_such_tool", "arguments": {}}, VERSION),
    "invalid-arguments": ("tools/call", {"name": "task_view", "arguments": {}}, VERSION),
    "no-tool-name": ("tools/call", {"arguments": {}}, VERSION),
    "an-unknown-method": ("no/such/method", None, VERSION),
}


@pytest.mark.parametrize("case", PLAIN_REQUESTS.values(), ids=PLAIN_REQUESTS.keys())
def test_a_plain_request_is_answered_as_the_sdks_transport_answers_it(
    mcp: McpClient, monkeypatch, case: tuple[str, dict[str, Any] | None, str | None]
):
    method, params, version = case
    message = {"jsonrpc": "2.0", "id": 7, "method": method, **({"params": params} if params is not None else {})}
    single_exchange = inspect.unwrap(FUNCTIONS.handler("McpFunction")).__globals__["single_exchange"]
    answer, answered = single_exchange.answer, []

    async def spied(*args: Any) -> Any:
        response = await answer(*args)
        answered.append(response is not None)
        return response

    async def declined(*args: Any) -> None:
        return None

    monkeypatch.setattr(single_exchange, "answer", spied)
    direct = mcp.post(message, version=version)
    monkeypatch.setattr(single_exchange, "answer", declined)
    by_transport = mcp.post(message, version=version)

    assert answered == [True]  # single_exchange answered the first, the SDK's transport the second
    assert (direct.status, direct.headers) == (by_transport.status, by_transport.headers)
    assert direct.json == by_transport.json


# ------------------------------------------------------------------------------------------- user and transactions


def test_user_view_is_the_rest_user(call_api, mcp: McpClient, user: Account):
    viewed = mcp.data("user_view")
    assert viewed == rest(call_api, user, f"/users/{user.id}")
    assert (viewed["two_factor_method"], viewed["recovery_codes_left"]) == ("email", 0)  # issue 15's fields


def test_transactions_are_the_rest_transactions(call_api, mcp: McpClient, user: Account):
    set_credits(call_api, user, 40)
    set_credits(call_api, user, 60)
    listed = rest(call_api, user, f"/users/{user.id}/transactions")

    assert mcp.data("transaction_view_all") == listed and len(listed) == 2
    assert mcp.data("transaction_view_all", {"limit": 1, "offset": 1}) == listed[1:]
    assert mcp.data("transaction_view", {"transaction_id": listed[0]["id"]}) == listed[0]


def test_another_users_transaction_is_not_found(call_api, mcp: McpClient, accounts: Accounts):
    other = accounts.active()
    set_credits(call_api, other, 10)
    theirs = rest(call_api, other, f"/users/{other.id}/transactions")[0]["id"]

    assert mcp.tool_error("transaction_view", {"transaction_id": theirs}) == TRANSACTION_NOT_FOUND


@pytest.mark.parametrize(
    "arguments",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}, {"limit": 1.5}],
)
@pytest.mark.parametrize("tool", ["transaction_view_all", "task_view_all"])
def test_a_page_outside_the_limits_is_invalid(mcp: McpClient, tool: str, arguments: dict[str, Any]):
    assert mcp.tool_error(tool, arguments) == INVALID


def test_a_missing_id_is_invalid(mcp: McpClient):
    assert mcp.tool_error("task_view") == INVALID
    assert mcp.tool_error("transaction_view", {"transaction_id": 7}) == INVALID


# ------------------------------------------------------------------------------------------- agent and tasks


def test_supported_attachments_are_the_rest_ones(call_api, mcp: McpClient, user: Account):
    expected = rest(call_api, user, f"/users/{user.id}/agent/supported_attachments")

    assert mcp.data("agent_supported_attachments") == expected


def test_analysis_creates_a_paid_task_that_the_task_tools_show(call_api, mcp: McpClient, user: Account):
    set_credits(call_api, user, 100)

    task = mcp.data(
        "agent_analysis",
        {
            "text": "  The Eiffel Tower is in Paris.  ",
            "files": [{"name": "tower.png", "content_base64": b64(media.png())}],
        },
    )

    assert task["status"] == "PENDING" and task["user_id"] == user.id
    assert task["attachments"] == [{"name": "tower.png", "media_type": "image/png", "size_bytes": len(media.png())}]
    assert mcp.data("task_view", {"task_id": task["id"]}) == rest(
        call_api, user, f"/users/{user.id}/tasks/{task['id']}"
    )
    assert mcp.data("task_view_all") == rest(call_api, user, f"/users/{user.id}/tasks") == [task]
    assert mcp.data("user_view")["credits"] == 80
    debit = mcp.data("transaction_view_all")[0]
    assert debit["type"] == "DEBIT" and debit["value_in_credits"] == 20


def test_analysis_takes_text_alone_or_files_alone(call_api, mcp: McpClient, user: Account):
    set_credits(call_api, user, 100)

    text_only = mcp.data("agent_analysis", {"text": "Water boils at 100 C at sea level."})
    file_only = mcp.data("agent_analysis", {"files": [{"name": "a.gif", "content_base64": b64(media.gif())}]})

    assert text_only["attachments"] == [] and [a["name"] for a in file_only["attachments"]] == ["a.gif"]


def test_another_users_task_is_not_found(call_api, mcp: McpClient, accounts: Accounts):
    other = accounts.active()
    set_credits(call_api, other, 100)
    theirs = McpClient(call_api, accounts.api_key_token(other)).data("agent_analysis", {"text": "A claim."})

    assert mcp.tool_error("task_view", {"task_id": theirs["id"]}) == TASK_NOT_FOUND
    assert mcp.data("task_view_all") == []


def test_task_cancel_cancels_a_pending_task_as_the_rest_route_does(call_api, mcp: McpClient, user: Account):
    set_credits(call_api, user, 100)
    task = mcp.data("agent_analysis", {"text": "A claim."})

    cancelled = mcp.data("task_cancel", {"task_id": task["id"]})

    assert (cancelled["id"], cancelled["status"], cancelled["error"]) == (task["id"], "FAILED", CANCELLED_ERROR)
    assert cancelled == rest(call_api, user, f"/users/{user.id}/tasks/{task['id']}")
    assert mcp.data("user_view")["credits"] == 100
    assert sorted(t["type"] for t in mcp.data("transaction_view_all")) == ["CREDIT", "CREDIT", "DEBIT"]  # admin's
    assert mcp.tool_error("task_cancel", {"task_id": task["id"]}) == NOT_CANCELLABLE
    assert mcp.data("user_view")["credits"] == 100


def test_another_users_task_or_an_unknown_one_cannot_be_cancelled(call_api, mcp: McpClient, accounts: Accounts):
    other = accounts.active()
    set_credits(call_api, other, 100)
    theirs = McpClient(call_api, accounts.api_key_token(other)).data("agent_analysis", {"text": "A claim."})

    assert mcp.tool_error("task_cancel", {"task_id": theirs["id"]}) == TASK_NOT_FOUND
    assert mcp.tool_error("task_cancel", {"task_id": "task_00000000000000000000000000000000"}) == TASK_NOT_FOUND
    assert mcp.tool_error("task_cancel") == INVALID
    assert rest(call_api, other, f"/users/{other.id}/tasks/{theirs['id']}")["status"] == "PENDING"


def test_analysis_without_enough_credits_is_a_tool_error_and_costs_nothing(call_api, mcp: McpClient, user: Account):
    set_credits(call_api, user, 19)

    assert mcp.tool_error("agent_analysis", {"text": "A claim."}) == NO_CREDITS
    assert mcp.data("task_view_all") == [] and mcp.data("user_view")["credits"] == 19


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"text": "   "},
        {"text": "x" * 20_001},
        {"files": [{"name": "a.png", "content_base64": "not base64!"}]},
        {"files": [{"name": "a.png", "content_base64": b64(media.png())[:-2]}]},  # bad padding
        {"files": [{"name": "a.png", "content_base64": b64(b"plain text, not a PNG")}]},
        {"files": [{"name": "a.exe", "content_base64": b64(media.png())}]},
        {"files": [{"name": "../a.png", "content_base64": b64(media.png())}]},
        {"files": [{"name": "invoice\u202egnp.exe.png", "content_base64": b64(media.png())}]},
        {"files": [{"name": "a.png", "content_base64": b64(media.png())}] * 2},
        {"files": [{"name": f"{n}.png", "content_base64": b64(media.png())} for n in range(6)]},
        {"files": [{"name": "a.png"}]},
        {"files": "a.png"},
        {"text": 42},
    ],
    ids=[
        "nothing",
        "blank-text",
        "text-too-long",
        "not-base64",
        "bad-padding",
        "wrong-magic-bytes",
        "unsupported-extension",
        "path-in-name",
        "bidi-override-in-name",
        "duplicate-names",
        "too-many-files",
        "no-content",
        "files-not-a-list",
        "text-not-a-string",
    ],
)
def test_a_refused_analysis_is_invalid_and_costs_nothing(call_api, mcp: McpClient, user: Account, arguments):
    set_credits(call_api, user, 100)

    assert mcp.tool_error("agent_analysis", arguments) == INVALID
    assert mcp.data("user_view")["credits"] == 100


# ------------------------------------------------------------------------------------------- Stripe


@pytest.fixture
def stripe_base() -> Iterator[str]:
    """The local Stripe stand-in on a free port (STRIPE_API_BASE for the functions, no STRIPE_SECRET_KEY)."""
    server = make_server("127.0.0.1", 0, StripeStandIn("whsec_mcp_tests", webhook_path=None), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_stripe_rate_is_the_rest_rate(call_api, mcp: McpClient, user: Account):
    assert mcp.data("stripe_rate") == rest(call_api, user, "/stripe/rate")


def test_stripe_buy_starts_a_checkout(mcp: McpClient, stripe_base: str):
    mcp.env = {"STRIPE_API_BASE": stripe_base, "CLIENT_URL": CLIENT_URL}
    band = mcp.data("stripe_rate")[0]

    checkout = mcp.data("stripe_buy", {"amount": band["lower_limit"], "return_path": "/billing"})

    assert checkout["return_path"] == "/billing" and checkout["value_in_fiat"] == band["lower_limit"]
    assert checkout["value_in_credits"] == band["lower_limit"] * band["rate"]
    assert checkout["url"].startswith("http")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"amount": 10**9, "return_path": "/billing"}, NO_RATE),
        ({"amount": 0, "return_path": "/billing"}, INVALID),
        ({"amount": 5, "return_path": "https://evil.example.com/"}, INVALID),
        ({"amount": 5}, INVALID),
    ],
    ids=["no-band", "zero", "url-not-path", "no-return-path"],
)
def test_a_refused_purchase_is_a_tool_error(mcp: McpClient, stripe_base: str, arguments, message: str):
    mcp.env = {"STRIPE_API_BASE": stripe_base, "CLIENT_URL": CLIENT_URL}

    assert mcp.tool_error("stripe_buy", arguments) == message


def test_a_browser_client_gets_the_rest_routes_cors_answers(call_api, user: Account):
    env = {"CORS_ALLOW_ORIGIN": "https://inspector.example.com"}
    origin = {"Origin": "https://inspector.example.com"}

    preflight = call_api("OPTIONS", MCP, headers={"Host": HOST, **origin}, env=env)
    refused = call_api("OPTIONS", MCP, headers={"Host": HOST, "Origin": "https://evil.example.com"}, env=env)
    listed = McpClient(call_api, user.token, env=env).request("tools/list", Origin=origin["Origin"])

    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://inspector.example.com"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert refused.status == 405
    assert listed.status == 200 and listed.headers["Access-Control-Allow-Origin"] == "https://inspector.example.com"

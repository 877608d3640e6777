"""The MCP server over HTTP against the local runtime, with the MCP SDK's own client (streamable HTTP transport and
ClientSession), configured as an agent would be: the URL and `Authorization: Bearer <API key token>`."""

import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

from harness import media
from harness.client import PRIVATE_KEY, Account, Api, Mailbox, active_account, bearer, expect
from harness.mcp import TOOLS
from harness.runtime import Runtime

pytestmark = pytest.mark.e2e

COMPLETION_TIMEOUT = 15.0
TASK_NOT_FOUND = "Task with the given identifier does not exist."
UNAUTHENTICATED = "Authorization header or OTP is either missing, invalid or expired."


def funded_account(api: Api, mailbox: Mailbox, credits: float = 100) -> Account:
    account = active_account(api, mailbox, "mcp")
    expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": credits}), 200)
    return account


def api_key_token(api: Api, account: Account) -> str:
    token: str = expect(api.call("GET", f"/users/{account.id}/api_key", auth=bearer(account.token)), 200)["token"]
    return token


@asynccontextmanager
async def mcp_session(
    runtime: Runtime, token: str, responses: list[httpx2.Response] | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized SDK client session to the runtime's MCP endpoint, authenticated by `token`; the HTTP
    responses the client receives are appended to `responses`."""

    async def record(response: httpx2.Response) -> None:
        await response.aread()
        if responses is not None:
            responses.append(response)

    async with (
        httpx2.AsyncClient(
            headers={"Authorization": bearer(token)}, timeout=30, event_hooks={"response": [record]}
        ) as http,
        streamable_http_client(f"{runtime.base_url}/api/v1/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def data_of(result: CallToolResult) -> Any:
    assert not result.is_error, result
    content = result.content[0]
    assert isinstance(content, TextContent)
    return json.loads(content.text)


def error_of(result: CallToolResult) -> str:
    assert result.is_error, result
    content = result.content[0]
    assert isinstance(content, TextContent)
    return content.text


def test_an_agent_analyses_a_claim_and_polls_the_task_until_completed(module_runtime: Runtime, api: Api, mailbox):
    account = funded_account(api, mailbox)
    token = api_key_token(api, account)
    png = base64.b64encode(media.png()).decode()

    async def scenario() -> dict[str, Any]:
        async with mcp_session(module_runtime, token) as session:
            listed = await session.list_tools()
            assert {tool.name for tool in listed.tools} == TOOLS
            assert all(tool.description and tool.input_schema["type"] == "object" for tool in listed.tools)

            user = data_of(await session.call_tool("user_view", {}))
            assert user["id"] == account.id and user["credits"] == 100

            task = data_of(
                await session.call_tool(
                    "agent_analysis",
                    {"text": "The Eiffel Tower is in Paris.", "files": [{"name": "tower.png", "content_base64": png}]},
                )
            )
            assert task["status"] == "PENDING" and [a["name"] for a in task["attachments"]] == ["tower.png"]

            deadline = time.monotonic() + COMPLETION_TIMEOUT
            while task["status"] in ("PENDING", "PROCESSING"):
                assert time.monotonic() < deadline, f"task still {task['status']} after {COMPLETION_TIMEOUT:g} s"
                await anyio.sleep(0.25)
                task = data_of(await session.call_tool("task_view", {"task_id": task["id"]}))
            found: dict[str, Any] = task
            return found

    task = anyio.run(scenario)

    assert task["status"] == "COMPLETED", task
    assert task["result"] is not None and task["error"] is None
    rest = expect(api.call("GET", f"/users/{account.id}/tasks/{task['id']}", auth=bearer(account.token)), 200)
    assert rest == task
    assert expect(api.call("GET", f"/users/{account.id}", auth=bearer(account.token)), 200)["credits"] == 80


def test_another_users_task_is_a_tool_error(module_runtime: Runtime, api: Api, mailbox):
    owner, other = funded_account(api, mailbox), funded_account(api, mailbox)

    async def scenario() -> str:
        async with mcp_session(module_runtime, api_key_token(api, owner)) as session:
            task = data_of(await session.call_tool("agent_analysis", {"text": "Water is wet."}))
        async with mcp_session(module_runtime, api_key_token(api, other)) as session:
            return error_of(await session.call_tool("task_view", {"task_id": task["id"]}))

    assert anyio.run(scenario) == TASK_NOT_FOUND


def test_a_bad_token_is_an_http_401_for_the_client(module_runtime: Runtime):
    responses: list[httpx2.Response] = []

    async def scenario() -> None:
        async with mcp_session(module_runtime, "clara_api_not-a-token", responses):
            pass

    with pytest.raises(BaseException) as raised:  # the SDK reports a non-JSON-RPC 4xx as an MCPError
        anyio.run(scenario)

    assert isinstance(_leaf(raised.value), MCPError)
    assert [response.status_code for response in responses] == [401]
    assert responses[0].json() == {"data": None, "message": UNAUTHENTICATED, "status": "error"}


def _leaf(error: BaseException) -> BaseException:
    """The first exception that is not a group (anyio's task groups wrap what their tasks raise)."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error

"""A 400 that helps: the contract's message stays, and `data` says which fields were wrong and why, over REST and
MCP alike; a body under a non-JSON Content-Type is the contract's 400 Empty Body, its data saying so."""

import base64
import json
from typing import Any

import pytest

from harness.accounts import API, EMPTY_BODY, INVALID, PUBLIC, Accounts, bearer, headers

from .test_mcp import McpClient


def post(call_api: Any, path: str, authorization: str, payload: str, content_type: str = "application/json") -> Any:
    return call_api(
        "POST", f"{API}{path}", headers=headers(authorization, **{"Content-Type": content_type}), body=payload
    )


def test_a_missing_field_is_named_as_required(call_api: Any, accounts: Accounts):
    user = accounts.active()

    response = post(call_api, "/stripe/buy", bearer(user.token), json.dumps({"amount": 5}))

    assert response.status == 400
    assert response.json == {
        "data": {"errors": [{"field": "return_path", "problem": "required"}]},
        "message": INVALID,
        "status": "error",
    }


def test_each_bad_field_is_named_with_why_and_never_the_value_sent(call_api: Any):
    password = "short12"  # one character short of the 8 the contract asks
    sent = {"first_name": "Ada", "last_name": "Lovelace", "email": "not-an-email", "password": password, "x": 1}

    response = post(call_api, "/auth/register", PUBLIC, json.dumps(sent))

    assert (response.status, response.json["message"]) == (400, INVALID)
    problems = {item["field"]: item["problem"] for item in response.json["data"]["errors"]}
    assert set(problems) == {"email", "password", "x"}
    assert problems["email"] == "not an email address"
    assert problems["password"] == "String should have at least 8 characters"
    assert problems["x"] == "Extra inputs are not permitted"
    assert password not in response.text


def test_malformed_json_is_a_problem_of_the_body(call_api: Any):
    response = post(call_api, "/auth/register", PUBLIC, '{"first_name": "Ada",')

    assert (response.status, response.json["message"]) == (400, INVALID)
    [problem] = response.json["data"]["errors"]
    assert problem["field"] == "body" and problem["problem"].startswith("Invalid JSON")


def test_a_query_string_outside_its_bounds_is_named(call_api: Any, accounts: Accounts):
    user = accounts.active()

    response = call_api(
        "GET", f"{API}/users/{user.id}/tasks", headers=headers(bearer(user.token)), query={"limit": "0"}
    )

    assert (response.status, response.json["message"]) == (400, INVALID)
    assert response.json["data"] == {
        "errors": [{"field": "limit", "problem": "Input should be greater than or equal to 1"}]
    }


def test_a_body_under_another_content_type_says_so_with_the_contracts_message(call_api: Any):
    """docs/contract.md: a non-JSON body is 400 Empty Body; its data says why it was not read (curl -d without
    -H sends application/x-www-form-urlencoded)."""
    sent = json.dumps({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "password": "x" * 12})

    response = post(call_api, "/auth/register", PUBLIC, sent, content_type="application/x-www-form-urlencoded")

    assert response.status == 400
    assert response.json == {
        "data": {
            "errors": [
                {
                    "field": "Content-Type",
                    "problem": "application/x-www-form-urlencoded is not JSON: the body was not read",
                }
            ]
        },
        "message": EMPTY_BODY,
        "status": "error",
    }


def test_no_body_at_all_is_still_the_plain_empty_body(call_api: Any):
    response = call_api("POST", f"{API}/auth/register", headers=headers(PUBLIC))

    assert (response.status, response.json) == (400, {"data": None, "message": EMPTY_BODY, "status": "error"})


def test_mcp_tools_name_the_fields_as_the_rest_routes_do(call_api: Any, accounts: Accounts):
    user = accounts.active()
    mcp = McpClient(call_api, accounts.api_key_token(user))

    purchase = mcp.call("stripe_buy", {"amount": 5})
    page = mcp.call("transaction_view_all", {"limit": 0})

    assert purchase["isError"] is True
    assert [content["text"] for content in purchase["content"]] == [INVALID]
    assert purchase["structuredContent"] == {"errors": [{"field": "return_path", "problem": "required"}]}
    assert page["structuredContent"] == {
        "errors": [{"field": "limit", "problem": "Input should be greater than or equal to 1"}]
    }


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            [("setup.exe", b"MZ\x90\x00")],
            {"field": "setup.exe", "problem": ".exe is not a supported type of attachment"},
        ),
        ([("photo.png", b"plain text, not a PNG")], {"field": "photo.png", "problem": "its content is not .png"}),
        ([("photo.png", b"")], {"field": "photo.png", "problem": "empty"}),
        ([], {"field": "text", "problem": "required when no file is sent"}),
    ],
    ids=["unsupported-type", "wrong-magic-bytes", "empty-file", "nothing"],
)
def test_a_refused_analysis_names_the_file_and_why(call_api: Any, accounts: Accounts, files, expected):
    user = accounts.active()
    mcp = McpClient(call_api, accounts.api_key_token(user))
    arguments = {
        "files": [{"name": name, "content_base64": base64.b64encode(content).decode()} for name, content in files]
    }

    result = mcp.call("agent_analysis", arguments)

    assert [content["text"] for content in result["content"]] == [INVALID]
    assert result["structuredContent"] == {"errors": [expected]}

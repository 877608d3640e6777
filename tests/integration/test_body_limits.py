"""Bodies built to break a parser (issue 22): every route that reads a JSON body answers a deeply nested one as a
client error, never a 500.

The routes come from the OpenAPI document (functions/misc/openapi.json), so a new route is covered as soon as it
declares its body; the Stripe webhook, behind a Function URL, is not in it and is called as Stripe would.
"""

import json
from typing import Any

from harness.accounts import API, INVALID, PRIVATE, PUBLIC, Accounts, basic, bearer, error
from harness.stripe_events import WEBHOOK_SECRET
from local_runtime.openapi import DOCUMENT
from local_runtime.stripe_standin import sign

DEPTH = 60_000
DEEP = '{"credits": ' + "[" * DEPTH + "]" * DEPTH + "}"
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"  # the MCP transport checks the Host it was called on
JSON_RPC_ROUTES = {"/mcp"}  # their errors are JSON-RPC's, not the envelope


def json_body_routes() -> list[tuple[str, str, list[str]]]:
    """(method, path, security schemes) of every operation that declares a JSON request body."""
    document = json.loads(DOCUMENT.read_text())
    return [
        (method.upper(), path, [name for requirement in operation.get("security") or [] for name in requirement])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def test_every_json_body_reader_answers_a_deeply_nested_body_as_a_client_error(call_api, stack, webhook):
    accounts = Accounts(call_api, stack)
    account = accounts.active()
    credentials = {  # every credential a scheme may stand for: one of them is the route's, and its body is read
        "BearerToken": [bearer(account.token)],
        "ApiKey": [PUBLIC, PRIVATE],
        "BasicAuth": [basic(account.email, account.password)],
    }
    routes = json_body_routes()
    assert len(routes) >= 15  # the document was read, not an empty listing

    wrong: dict[str, Any] = {}
    for method, path, schemes in routes:
        url = API + path.format(user_id=account.id, user_email=account.email)
        answers = []
        for authorization in [value for scheme in schemes for value in credentials[scheme]] or [None]:
            headers = {
                "Host": HOST,
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
                **({"Authorization": authorization} if authorization else {}),
            }
            response = call_api(method, url, headers=headers, body=DEEP)
            # A credential whose route reads no body (support's DELETE /2fa with the private key) may answer 204.
            answers.append((response.status, response.json if response.text else None))
        if path in JSON_RPC_ROUTES:
            read = [body for status, body in answers if 400 <= status < 500 and "error" in body and "jsonrpc" in body]
        else:
            read = [body for status, body in answers if status == 400 and body == error(INVALID)]
        if not read or any(status >= 500 for status, _ in answers):
            wrong[f"{method} {path}"] = [(status, str(body)[:200]) for status, body in answers]

    try:
        signed = webhook(DEEP.encode(), sign(DEEP.encode(), WEBHOOK_SECRET))
        answer = (signed["statusCode"], json.loads(signed["body"]))
    except Exception as raised:  # Lambda answers an exception with a 5xx
        answer = (500, repr(raised)[:200])
    if answer != (400, error("The payload is not a Stripe event.")):
        wrong["POST stripe webhook"] = answer

    assert wrong == {}

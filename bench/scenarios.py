"""The representative request of each API function (and of the worker), made by one active user on a fresh
in-process stack. warm.py times them; round_trips.py counts their DynamoDB calls.

A scenario prepares a new event per request, outside any timer (a new request id, a new Checkout Session for the
webhook, a newly queued task for the worker), so every timed request does its full work rather than a replay.
Each scenario gets a stack of its own because moto copies a whole table for every TransactWriteItems: that time
is taken out of the figures, but on a table grown by every earlier scenario it would take minutes of wall time.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.inprocess import Harness, Invocation, emulated_stack
from harness import media
from harness.accounts import API, PRIVATE, PUBLIC, Account, Accounts, basic, bearer, headers
from harness.inprocess import TEMPLATE
from harness.stripe_events import WEBHOOK_SECRET, stripe_event
from local_runtime.events import function_url_event, sqs_event
from local_runtime.resources import get_att
from local_runtime.stripe_standin import sign

CLAIM = "The Eiffel Tower was completed in 1889 in Paris."
PAGE = 20  # the listings' default page size
COST_12, COST_12_EMAIL = {"BCRYPT_ROUNDS": "12"}, "cost12@example.com"


class User:
    """One active user with credits and an API key, on the stack of `harness`; what its requests look like."""

    def __init__(self, harness: Harness, credits: int = 1_000_000):
        self.harness = harness
        accounts = Accounts(harness.call_api, harness.stack)
        self.account: Account = accounts.active()
        payload = json.dumps({"credits": credits})
        response = harness.call_api("PUT", f"{API}{self.path()}/credits", headers=headers(PRIVATE), body=payload)
        assert response.status == 200, response.text
        self.api_key_token = accounts.api_key_token(self.account)

    def path(self, below: str = "") -> str:
        return f"/users/{self.account.id}{below}"

    def get(self, path: str, token: str | None = None, **query: str) -> Invocation:
        authorization = bearer(token) if token else self.account.auth
        return self.harness.request("GET", f"{API}{path}", headers={"Authorization": authorization}, query=query)

    def login(self, email: str | None = None, env: dict[str, str] | None = None) -> Invocation:
        authorization = basic(email or self.account.email, self.account.password)
        return self.harness.request("POST", f"{API}/auth/session", headers=headers(authorization), env=env)

    def register_at_production_cost(self, _: int = 0) -> None:
        """A second user, whose password hash is made at bcrypt cost 12 (the settings' default)."""
        payload = {"first_name": "a", "last_name": "b", "email": COST_12_EMAIL, "password": self.account.password}
        registered = self.harness.call_api(
            "POST", f"{API}/auth/register", headers=headers(PUBLIC), body=json.dumps(payload), env=COST_12
        )
        assert registered.status == 201, registered.text

    def login_at_production_cost(self) -> Invocation:
        return self.login(COST_12_EMAIL, env=COST_12)

    def analysis(self) -> Invocation:
        body, content_type = media.multipart([("text", CLAIM)])
        auth = {"Authorization": self.account.auth, "Content-Type": content_type}
        return self.harness.request("POST", f"{API}{self.path('/agent/analysis')}", headers=auth, body=body)

    def queue_analyses(self, count: int) -> None:
        for _ in range(count):
            assert self.analysis()()["statusCode"] == 201

    def worker_batch(self) -> Invocation:
        """The next queued task's message, alone in the batch the SQS event source sends (ANALYZER=local)."""
        queue_url = self.harness.stack.physical_ids["AnalysisQueue"]
        sqs = self.harness.stack.session.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
        )["Messages"]
        queue_arn = get_att(TEMPLATE, "AnalysisQueue", "Arn", self.harness.stack.physical_ids)
        return self.harness.invocation("AnalysisWorkerFunction", sqs_event(messages, queue_arn=queue_arn))

    def full_pages(self, _: int = 0) -> None:
        """PAGE analysed tasks, and as many debits, so a listing returns a full page."""
        self.queue_analyses(PAGE)
        for _ in range(PAGE):
            assert self.worker_batch()() == {"batchItemFailures": []}

    def webhook_credit(self) -> Invocation:
        """A signed checkout.session.completed of a new, paid session: the credit path, not the replay path."""
        payload = stripe_event(self.account.id, session_id=f"cs_bench_{uuid.uuid4().hex}")
        signature = sign(payload, WEBHOOK_SECRET)
        sent = {"Content-Type": "application/json", "User-Agent": "Stripe/1.0", "Stripe-Signature": signature}
        event = function_url_event("POST", "/", "", sent, payload)
        return self.harness.invocation("StripeWebhookFunction", event, env={"STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET})

    def mcp_tools_list(self) -> Invocation:
        """tools/list with the headers a streamable HTTP client sends (as tests/integration/test_mcp.py does)."""
        sent = {
            "Host": "abc123defg.execute-api.us-east-1.amazonaws.com",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Authorization": bearer(self.api_key_token),
            "MCP-Protocol-Version": "2025-06-18",
        }
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        return self.harness.request("POST", f"{API}/mcp", headers=sent, body=body)


@dataclass
class Scenario:
    name: str  # what the table calls it
    prepare: Callable[[User], Invocation]
    ok: Callable[[Any], bool]  # whether a result is the success this scenario exercises
    # Before the first request, given how many there will be. Setup runs other functions, so it comes first:
    # one process hosts every function here, and switching function re-reads the settings (a cold step).
    setup: Callable[[User, int], None] = lambda user, requests: None


def status(code: int) -> Callable[[Any], bool]:
    return lambda result: result["statusCode"] == code


SCENARIOS = [
    Scenario("GET /health", lambda user: user.harness.request("GET", f"{API}/health"), status(200)),
    Scenario("POST /auth/session (cost 4)", User.login, status(200)),
    Scenario("GET /users/{id}", lambda user: user.get(user.path()), status(200)),
    Scenario(
        f"GET /users/{{id}}/transactions?limit={PAGE}",
        lambda user: user.get(user.path("/transactions"), limit=str(PAGE)),
        status(200),
        User.full_pages,
    ),
    Scenario(
        f"GET /users/{{id}}/tasks?limit={PAGE}",
        lambda user: user.get(user.path("/tasks"), limit=str(PAGE)),
        status(200),
        User.full_pages,
    ),
    Scenario("GET /users/{id}/api_key", lambda user: user.get(user.path("/api_key")), status(200)),
    Scenario("GET /stripe/rate", lambda user: user.get("/stripe/rate"), status(200)),
    Scenario("POST /users/{id}/agent/analysis (text)", User.analysis, status(201)),
    Scenario(
        "SQS worker: 1 task, local analyzer",
        User.worker_batch,
        lambda result: result == {"batchItemFailures": []},
        User.queue_analyses,
    ),
    Scenario("Stripe webhook: a paid checkout.session", User.webhook_credit, status(200)),
    Scenario("POST /mcp tools/list (API key)", User.mcp_tools_list, status(200)),
]
LOGIN_AT_COST_12 = Scenario(
    "POST /auth/session (cost 12)", User.login_at_production_cost, status(200), User.register_at_production_cost
)


def named(name: str) -> Scenario:
    return next(scenario for scenario in SCENARIOS if scenario.name == name)


@contextmanager
def fresh_user() -> Iterator[User]:
    with emulated_stack() as harness:
        yield User(harness)

"""Integration fixtures: the real lambda_handler of each function, API Gateway events, AWS emulated by moto.

The stack and the caller are harness/inprocess.py's (shared with the benchmark); these fixtures give each test a
fresh emulated stack and set the process environment through monkeypatch, so it is restored after the test.
"""

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from moto import mock_aws

from clara.aws import aws_client
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis.results import AnalysisResult
from clara.settings import get_settings
from clara.store import table
from harness.accounts import Accounts
from harness.inprocess import AWS_ENVIRONMENT, FUNCTIONS, TEMPLATE, TEST_ENVIRONMENT, Stack, call
from harness.stripe_events import WEBHOOK_SECRET
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, function_url_event
from local_runtime.resources import create_resources
from tests.integration.test_analysis import Clara, CountingAnalyzer, DynamoCalls, fixed_result


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name, value in AWS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        yield Stack(session, create_resources(TEMPLATE, session, endpoint_url=None))
    get_settings.cache_clear()


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make in-process moto apply each request atomically, as DynamoDB does, for tests that race threads.

    moto's in-process stub runs a request in the calling thread without a lock, so two concurrent conditional
    writes could both pass their condition; DynamoDB (and the local runtime's emulator) never lets them.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    handle = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return handle(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", one_at_a_time)


@pytest.fixture
def call_api(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    """Send `method path` the way API Gateway would: to the function the template routes it to, as its event.

    `env` adds to (or overrides) the environment the template gives the function; `source_ip` is the client
    address API Gateway saw; `base_path` what the client's URL had before the path (None: `/prod`).
    """
    return partial(call, stack, monkeypatch.setenv)


@pytest.fixture
def accounts(call_api: Any, stack: Stack) -> Accounts:
    """Users, sessions and keys made through the API (harness/accounts.py), on this test's stack."""
    return Accounts(call_api, stack)


@pytest.fixture
def webhook(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    """POST a payload to the webhook function as its Function URL would, with the given Stripe-Signature."""
    environment = function_environment(
        TEMPLATE,
        "StripeWebhookFunction",
        stack.physical_ids,
        {**TEST_ENVIRONMENT, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET},
    )
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    handler = FUNCTIONS.handler("StripeWebhookFunction")

    def deliver(payload: bytes, signature: str | None, content_type: str = "application/json") -> dict[str, Any]:
        headers = {"Content-Type": content_type, "User-Agent": "Stripe/1.0"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        event = function_url_event("POST", "/", "", headers, payload)
        return handler(event, LambdaContext("StripeWebhookFunction", 15))

    return deliver


# ------------------------------------------------------------------------------------------- analysis
# tests/integration/test_analysis.py's views of the stack, for every test of tasks and what follows them.


@pytest.fixture
def clara(call_api: Any, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Clara:
    """A client's view (the API) and an operator's view (bucket, queue, table) of this test's stack."""
    return Clara(call_api, stack, monkeypatch)


@pytest.fixture
def fake_analyzer(clara: Clara, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CountingAnalyzer]:
    """Installs an analyzer that counts its calls and answers `outcome` (a fixed result unless given)."""

    def install(outcome: Callable[[str], AnalysisResult] = fixed_result) -> CountingAnalyzer:
        analyzer = CountingAnalyzer(clara, outcome)
        monkeypatch.setattr(analysis_ports.analyzer, "substitute", lambda: analyzer)
        return analyzer

    return install


@pytest.fixture
def dynamodb_calls(stack: Stack) -> Iterator[DynamoCalls]:
    """The names of the DynamoDB operations called while the test runs, in order."""
    aws_client.cache_clear()  # a client of this moto instance
    calls = DynamoCalls()
    events = table.client().meta.events
    events.register("before-call.dynamodb", calls, unique_id="analysis-round-trips")
    yield calls
    events.unregister("before-call.dynamodb", unique_id="analysis-round-trips")
    aws_client.cache_clear()

"""Stripe billing: the rate, Checkout and the customer portal through the API (the real stripe library talking to
the local stand-in on a free port), and the webhook handler with signed, forged, stale, replayed and concurrent
deliveries."""

import io
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from werkzeug.serving import make_server

from clara.contract.requests import BuyRequest
from clara.domain.accounts.tokens import issue_api_key_token
from clara.domain.credits import ledger, purchases
from clara.integrations.stripe_payments import StripePayments
from clara.settings import get_settings
from clara.store import table, users
from harness.accounts import PRIVATE, PUBLIC, Account, bearer, error, headers, signed_in_user
from harness.inprocess import FUNCTIONS, Stack
from harness.stripe_events import WEBHOOK_SECRET, stripe_event
from local_runtime.events import LambdaContext, function_url_event
from local_runtime.stripe_standin import StripeStandIn, sign

RATE_MESSAGE = (
    "Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. "
    "Any amount beyond the limits will not be credited."
)
NO_RATE = "No credits rate found for the given amount."
INACTIVE = "Please activate your account to access the requested resource."
INVALID = "One or more required parameters are either not given or have invalid schema."
CLIENT_URL = "https://app.example.com"


@dataclass
class StandIn:
    app: StripeStandIn
    base: str  # STRIPE_API_BASE for the functions


@pytest.fixture
def standin() -> Iterator[StandIn]:
    app = StripeStandIn(WEBHOOK_SECRET, webhook_path=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandIn(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def stripe_api(call_api, standin: StandIn):
    """call_api with the stripe library pointed at the stand-in (no STRIPE_SECRET_KEY, as locally)."""

    def call(method: str, path: str, token: str, body: Any = None, **env: str):
        environment = {"STRIPE_API_BASE": standin.base, "CLIENT_URL": CLIENT_URL, **env}
        payload = None if body is None else body if isinstance(body, str) else json.dumps(body)
        return call_api(method, f"/api/v1/stripe/{path}", headers=headers(bearer(token)), body=payload, env=environment)

    return call


@pytest.fixture
def user(call_api) -> Account:
    return signed_in_user(call_api)


def stored_user(stack: Stack, user_id: str) -> dict[str, Any]:
    table = stack.session.resource("dynamodb").Table(stack.physical_ids["ClaraTable"])
    return table.get_item(Key={"pk": f"USER#{user_id}", "sk": "USER"}, ConsistentRead=True)["Item"]


def api_key_token(stack: Stack, user_id: str) -> str:
    table = stack.session.resource("dynamodb").Table(stack.physical_ids["ClaraTable"])
    key = table.get_item(Key={"pk": f"USER#{user_id}", "sk": "API_KEY"}, ConsistentRead=True)["Item"]
    return issue_api_key_token(user_id, key["id"])


# ------------------------------------------------------------------------------------------- rate


def test_rate_answers_the_configured_band_with_the_contract_message(stripe_api, user, stack):
    for token in (user.token, api_key_token(stack, user.id)):
        response = stripe_api("GET", "rate", token)

        assert response.status == 200, response.text
        band = {"lower_limit": 5, "upper_limit": 10000, "rate": 100, "stripe_price_id": None}
        assert response.json == {"data": [band], "message": RATE_MESSAGE, "status": "success"}


def test_rate_bands_come_from_stripe_rates(stripe_api, user):
    bands = json.dumps(
        [{"lower_limit": 100, "upper_limit": 500, "rate": 110}, {"lower_limit": 1, "upper_limit": 99, "rate": 100}]
    )

    rates = stripe_api("GET", "rate", user.token, STRIPE_RATES=bands).json["data"]
    bought = stripe_api("POST", "buy", user.token, {"amount": 100, "return_path": ""}, STRIPE_RATES=bands)

    assert [band["lower_limit"] for band in rates] == [1, 100]
    assert bought.status == 201, bought.text
    assert bought.json["data"]["value_in_credits"] == 11000


def test_stripe_routes_refuse_an_inactive_user(call_api, stripe_api):
    registered = call_api(
        "POST",
        "/api/v1/auth/register",
        headers=headers(PUBLIC),
        body=json.dumps({"first_name": "Ada", "last_name": "L", "email": "new@example.com", "password": "pw-12345678"}),
    )
    token = registered.json["data"]["token"]

    for method, path, body in (("GET", "rate", None), ("POST", "portal", None), ("POST", "buy", {"amount": 5})):
        response = stripe_api(method, path, token, body)

        assert response.status == 401
        assert response.json == {"data": None, "message": INACTIVE, "status": "error"}


def test_stripe_routes_refuse_the_private_key_and_anonymous_callers(call_api):
    for authorization, status in ((PRIVATE, 403), (PUBLIC, 403), ("", 401)):
        response = call_api("GET", "/api/v1/stripe/rate", headers={"Authorization": authorization})

        assert response.status == status


# ------------------------------------------------------------------------------------------- buy


def test_buy_creates_a_checkout_session_for_the_users_customer(stripe_api, user, standin, stack):
    response = stripe_api("POST", "buy", user.token, {"amount": 5, "return_path": "billing?tab=credits"})

    assert response.status == 201, response.text
    assert response.json["message"] == "Checkout session created successfully."
    data = response.json["data"]
    assert data == {
        "return_path": "billing?tab=credits",
        "url": data["url"],
        "value_in_credits": 500,
        "value_in_fiat": 5,
    }
    session_id = data["url"].rsplit("/", 1)[1]
    assert data["url"] == f"{standin.base}/pay/{session_id}" and session_id.startswith("cs_test_")
    session = standin.app.sessions[session_id]
    assert session["customer"] == stored_user(stack, user.id)["stripe_customer_id"]
    assert session["client_reference_id"] == user.id
    assert session["amount_total"] == 500
    assert session["metadata"] == {"user_id": user.id, "credits": "500", "fiat": "5", "rate": "100"}
    assert session["_product"] == "500 Clara credits"
    assert session["success_url"] == f"{CLIENT_URL}/billing?tab=credits&stripe_status=success"
    assert session["cancel_url"] == f"{CLIENT_URL}/billing?tab=credits&stripe_status=cancel"


def test_buy_with_an_empty_return_path_returns_to_the_client_root(stripe_api, user, standin):
    data = stripe_api("POST", "buy", user.token, {"amount": 10000, "return_path": ""}).json["data"]

    session = standin.app.sessions[data["url"].rsplit("/", 1)[1]]
    assert session["success_url"] == f"{CLIENT_URL}/?stripe_status=success"
    assert data["value_in_credits"] == 1_000_000


@pytest.mark.parametrize("amount", [4, 10001])
def test_buy_outside_every_band_is_404(stripe_api, user, standin, amount):
    response = stripe_api("POST", "buy", user.token, {"amount": amount, "return_path": ""})

    assert response.status == 404
    assert response.json == {"data": None, "message": NO_RATE, "status": "error"}
    assert standin.app.sessions == {}


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "5", "return_path": ""},
        {"amount": 5.0, "return_path": ""},
        {"amount": True, "return_path": ""},
        {"amount": 0, "return_path": ""},
        {"amount": -5, "return_path": ""},
        {"amount": 5},
        {"return_path": ""},
        {"amount": 5, "return_path": "", "currency": "eur"},
        {"amount": 5, "return_path": None},
        {"amount": 5, "return_path": "https://evil.example.com/"},
        {"amount": 5, "return_path": "//evil.example.com"},
        {"amount": 5, "return_path": "javascript:alert(1)"},
        {"amount": 5, "return_path": "/\\evil.example.com"},
        {"amount": 5, "return_path": "x" * 513},
        "{not json",
    ],
)
def test_buy_with_a_bad_body_is_400(stripe_api, user, standin, body):
    response = stripe_api("POST", "buy", user.token, body)

    assert response.status == 400
    assert response.json == error(INVALID)
    assert standin.app.sessions == {}


def test_buy_without_a_body_is_400_empty(stripe_api, user):
    response = stripe_api("POST", "buy", user.token)

    assert (response.status, response.json["message"]) == (400, "Request body is empty.")


def test_a_return_path_of_512_characters_is_accepted(stripe_api, user):
    # The idempotency key is a digest, within Stripe's 255 characters whatever the path.
    assert stripe_api("POST", "buy", user.token, {"amount": 5, "return_path": "p" * 512}).status == 201


def test_a_retried_request_reuses_its_checkout_session(stripe_api, user, standin):
    stripe_api("GET", "rate", user.token)  # the function's environment, with the stand-in's base
    found = users.get_user(user.id)
    assert found is not None
    request = BuyRequest(amount=5, return_path="")

    first, retried = (purchases.checkout(found, request, "request-1") for _ in range(2))
    other = purchases.checkout(found, request, "request-2")

    assert first.url == retried.url != other.url
    assert len(standin.app.sessions) == 2


def test_without_a_stripe_key_or_stand_in_buying_is_a_500_not_a_silent_fallback(call_api, user, standin):
    # The template's secret holds the placeholder "replace-me", and no STRIPE_API_BASE is set.
    response = call_api(
        "POST",
        "/api/v1/stripe/buy",
        headers=headers(user.auth),
        body=json.dumps({"amount": 5, "return_path": ""}),
    )

    assert response.status == 500
    assert response.json["message"] == "Something went wrong."
    assert standin.app.sessions == {}


def test_production_never_uses_the_stand_in(stripe_api, user, standin):
    response = stripe_api("POST", "buy", user.token, {"amount": 5, "return_path": ""}, ENVIRONMENT="production")

    assert response.status == 500
    assert standin.app.customers == {}


# ------------------------------------------------------------------------------------------- portal


def test_portal_creates_the_customer_once(stripe_api, user, standin, stack):
    first = stripe_api("POST", "portal", user.token)
    second = stripe_api("POST", "portal", user.token)

    for response in (first, second):
        assert response.status == 201, response.text
        assert response.json["message"] == "Customer portal session created successfully."
        assert response.json["data"]["url"].startswith(f"{standin.base}/portal/bps_")
    assert first.json["data"]["url"] != second.json["data"]["url"]
    assert len(standin.app.customers) == 1
    (customer,) = standin.app.customers.values()
    assert customer["email"] == user.email and customer["metadata"] == {"user_id": user.id}
    assert stored_user(stack, user.id)["stripe_customer_id"] == customer["id"]
    portals = list(standin.app.portal_sessions.values())
    assert {portal["customer"] for portal in portals} == {customer["id"]}
    assert portals[0]["return_url"] == CLIENT_URL  # STRIPE_RETURN_URL unset


def test_portal_returns_to_stripe_return_url_when_set(stripe_api, user, standin):
    stripe_api("POST", "portal", user.token, STRIPE_RETURN_URL="https://app.example.com/account")

    assert [portal["return_url"] for portal in standin.app.portal_sessions.values()] == [
        "https://app.example.com/account"
    ]


def test_concurrent_first_purchases_share_one_customer(stripe_api, user, standin, stack):
    stripe_api("GET", "rate", user.token)  # sets the function's environment (the stand-in's base) for the threads
    found = users.get_user(user.id)
    assert found is not None
    start = threading.Barrier(8)
    customers: list[str] = []

    def first_purchase() -> None:
        start.wait()
        customers.append(purchases._customer_id(StripePayments(), found))

    threads = [threading.Thread(target=first_purchase) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(standin.app.customers) == 1
    assert set(customers) == {stored_user(stack, user.id)["stripe_customer_id"]}


# ------------------------------------------------------------------------------------------- webhook


def credits_of(user: Account) -> float:
    stored = users.get_user(user.id)
    assert stored is not None
    return stored.credits


def items_of(user_id: str) -> list[dict[str, Any]]:
    """Every item stored under the user, as the table holds it."""
    found = (
        boto3.resource("dynamodb")
        .Table(get_settings().table_name)
        .query(KeyConditionExpression=Key("pk").eq(f"USER#{user_id}"), ConsistentRead=True)
    )
    return found["Items"]


def credit_transactions(user_id: str) -> list[ledger.TransactionView]:
    return [t for t in ledger.list_transaction_views(user_id, 100, 0) if t.type == "CREDIT"]


def body_of(result: dict[str, Any]) -> dict[str, Any]:
    return json.loads(result["body"])


def test_a_signed_paid_session_is_credited_once(webhook, user):
    payload = stripe_event(user.id)

    result = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert result["statusCode"] == 200, result
    assert body_of(result)["data"] == {"outcome": "credited"}
    assert credits_of(user) == 500
    (transaction,) = credit_transactions(user.id)
    assert transaction.id == ledger.transaction_id_for("cs_test_a1")
    assert transaction.description == "User bought 500 credits for $5."
    assert (transaction.value_in_credits, transaction.value_in_fiat) == (500, 5)


def test_ten_deliveries_credit_once(webhook, user):
    payload = stripe_event(user.id)

    outcomes = [body_of(webhook(payload, sign(payload, WEBHOOK_SECRET)))["data"]["outcome"] for _ in range(10)]

    assert outcomes == ["credited"] + ["already_credited"] * 9
    assert credits_of(user) == 500
    assert len(credit_transactions(user.id)) == 1
    items = items_of(user.id)
    bought = [item for item in items if item.get("event") == "credits_bought"]
    assert [item["details"] for item in bought] == [{"checkout_session": "cs_test_a1", "credits": 500, "fiat": 5}]


@pytest.fixture
def atomic_moto_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a transaction atomically; moto copies the table, applies, and on a cancellation restores
    the copy, which can undo another thread's committed write. One transaction at a time restores atomicity
    (the racing application code above it still runs concurrently)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.transact_write_items

    def atomic(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with lock:
            original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", atomic)


@pytest.mark.usefixtures("atomic_moto_transactions")
def test_concurrent_deliveries_credit_once(webhook, user):
    payload = stripe_event(user.id)
    start = threading.Barrier(10)
    results: list[dict[str, Any]] = []

    def deliver() -> None:
        start.wait()
        results.append(webhook(payload, sign(payload, WEBHOOK_SECRET)))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result["statusCode"] for result in results] == [200] * 10
    assert sorted(body_of(result)["data"]["outcome"] for result in results).count("credited") == 1
    assert credits_of(user) == 500
    assert len(credit_transactions(user.id)) == 1


def test_a_base64_body_is_verified_on_its_decoded_bytes(webhook, user):
    payload = stripe_event(user.id)

    result = webhook(payload, sign(payload, WEBHOOK_SECRET), content_type="application/octet-stream")

    assert result["statusCode"] == 200
    assert credits_of(user) == 500


@pytest.mark.parametrize("forgery", ["missing", "wrong secret", "stale", "tampered", "garbage"])
def test_a_forged_or_stale_delivery_is_400_and_credits_nothing(webhook, user, forgery):
    payload = stripe_event(user.id)
    signature: str | None = {
        "missing": None,
        "wrong secret": sign(payload, "whsec_someone_else"),
        "stale": sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 301),
        "tampered": sign(payload, WEBHOOK_SECRET),
        "garbage": "t=abc,v1=zzz",
    }[forgery]
    if forgery == "tampered":
        payload = payload.replace(b'"credits": "500"', b'"credits": "50000"')

    result = webhook(payload, signature)

    assert result["statusCode"] == 400
    assert body_of(result) == {
        "data": None,
        "message": "The Stripe-Signature header is missing, invalid or too old.",
        "status": "error",
    }
    assert credits_of(user) == 0
    assert credit_transactions(user.id) == []


def test_a_signed_payload_that_is_not_json_is_400(webhook, user):
    result = webhook(b"not json", sign(b"not json", WEBHOOK_SECRET))

    assert result["statusCode"] == 400


def test_other_event_types_are_acknowledged_and_ignored(webhook, user):
    payload = stripe_event(user.id, kind="checkout.session.expired")

    result = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert result["statusCode"] == 200
    assert body_of(result)["data"] == {"outcome": "ignored"}
    assert credits_of(user) == 0


def test_an_unpaid_completed_session_waits_for_async_payment_succeeded(webhook, user):
    completed = stripe_event(user.id, payment_status="unpaid")
    succeeded = stripe_event(user.id, kind="checkout.session.async_payment_succeeded")

    first = webhook(completed, sign(completed, WEBHOOK_SECRET))
    assert (first["statusCode"], credits_of(user)) == (200, 0)

    second = webhook(succeeded, sign(succeeded, WEBHOOK_SECRET))
    assert second["statusCode"] == 200
    assert body_of(second)["data"] == {"outcome": "credited"}
    assert credits_of(user) == 500
    assert len(credit_transactions(user.id)) == 1


def test_fractional_credits_are_described_as_numbers(webhook, user, monkeypatch):
    monkeypatch.setenv("STRIPE_RATES", json.dumps([{"lower_limit": 1, "upper_limit": 100, "rate": 110.5}]))
    get_settings.cache_clear()
    payload = stripe_event(user.id, credits="552.5", fiat="5")

    webhook(payload, sign(payload, WEBHOOK_SECRET))

    (transaction,) = credit_transactions(user.id)
    assert transaction.description == "User bought 552.5 credits for $5."


def failing_transactions(patch: pytest.MonkeyPatch, code: str) -> None:
    """DynamoDB refuses the credit's TransactWriteItems with `code`."""

    def failing(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": code}}, "TransactWriteItems")

    patch.setattr(table.client(), "transact_write_items", failing)


def test_a_throttled_dynamodb_answers_503_so_stripe_retries(webhook, user, monkeypatch):
    payload = stripe_event(user.id)

    with monkeypatch.context() as patch:
        failing_transactions(patch, "ThrottlingException")
        busy = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert (busy["statusCode"], busy["headers"]["Retry-After"]) == (503, "2")
    assert json.loads(busy["body"]) == {
        "data": None,
        "message": "The service is busy. Please try again shortly.",
        "status": "error",
    }
    assert credits_of(user) == 0


def test_any_other_dynamodb_failure_raises_so_stripe_retries(webhook, user, monkeypatch):
    payload = stripe_event(user.id)

    with monkeypatch.context() as patch:
        failing_transactions(patch, "AccessDeniedException")
        with pytest.raises(ClientError):
            webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert webhook(payload, sign(payload, WEBHOOK_SECRET))["statusCode"] == 200  # the retry credits
    assert credits_of(user) == 500


def test_the_placeholder_webhook_secret_is_an_error_not_an_open_door(webhook, user, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")  # the template's secret id remains, and holds "replace-me"
    payload = stripe_event(user.id)

    with pytest.raises(Exception, match="replace-me"):
        webhook(payload, sign(payload, "replace-me"))

    assert credits_of(user) == 0


def test_a_webhook_credit_is_one_dynamodb_transaction(webhook, user):
    calls: list[str] = []
    events = table.client().meta.events
    events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name), unique_id="webhook-calls")
    payload = stripe_event(user.id, session_id="cs_test_round_trips")
    try:
        result = webhook(payload, sign(payload, WEBHOOK_SECRET))
    finally:
        events.unregister("before-call.dynamodb", unique_id="webhook-calls")

    print(f"\nDynamoDB round trips, webhook credit: {len(calls)} {calls}")
    assert result["statusCode"] == 200
    assert calls == ["TransactWriteItems"]


def test_the_webhook_accepts_only_post(webhook, user, stack):
    handler = FUNCTIONS.handler("StripeWebhookFunction")
    event = function_url_event("GET", "/", "", {"User-Agent": "curl/8"}, b"")

    result = handler(event, LambdaContext("StripeWebhookFunction", 15))

    assert result["statusCode"] == 405
    assert body_of(result)["message"] == "The requested method is not allowed for this route."
    assert credits_of(user) == 0


def test_a_signed_payload_that_is_json_but_not_an_object_is_400(webhook, user):
    for payload in (b"[]", b'"event"', b"5"):
        result = webhook(payload, sign(payload, WEBHOOK_SECRET))

        assert result["statusCode"] == 400
        assert body_of(result)["message"] == "The payload is not a Stripe event."


# ------------------------------------------------------------------------------------------- malformed, signed


@pytest.fixture
def observed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """What the deliveries wrote: (the log text, the names of the metrics they emitted, once per invocation)."""
    from clara.observability import logger

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # the stack fixture turns metrics off
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)

    def read() -> tuple[str, list[str]]:
        """Powertools prints one EMF document per invocation: the metric names of the Clara namespace in it."""
        names = []
        for line in capsys.readouterr().out.splitlines():
            document = json.loads(line) if line.startswith("{") and '"_aws"' in line else {}
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                if directive["Namespace"] == "Clara":
                    names += [metric["Name"] for metric in directive["Metrics"]]
        return stream.getvalue(), names

    yield read
    logger.registered_handler.setStream(previous)


def _set(path: str, value: Any) -> Any:
    """A change to the valid event: `path` (dotted, from the event) set to `value`, or removed for REMOVE."""

    def change(event: dict[str, Any]) -> None:
        *parents, name = path.split(".")
        target = event
        for parent in parents:
            target = target[parent]
        if value is REMOVE:
            del target[name]
        else:
            target[name] = value

    return change


REMOVE = object()
CREDITS = "data.object.metadata.credits"


@pytest.mark.parametrize(
    ("change", "check"),
    [
        pytest.param(_set(CREDITS, -500), "metadata.credits", id="credits -500"),
        pytest.param(_set(CREDITS, "-500"), "metadata.credits", id="credits '-500'"),
        pytest.param(_set(CREDITS, float("nan")), "metadata.credits", id="credits NaN"),
        pytest.param(_set(CREDITS, "NaN"), "metadata.credits", id="credits 'NaN'"),
        pytest.param(_set(CREDITS, float("inf")), "metadata.credits", id="credits Infinity"),
        pytest.param(_set(CREDITS, "Infinity"), "metadata.credits", id="credits 'Infinity'"),
        pytest.param(_set(CREDITS, "abc"), "metadata.credits", id="credits 'abc'"),
        pytest.param(_set(CREDITS, 1e-200), "metadata.credits", id="credits 1e-200"),
        pytest.param(_set(CREDITS, "1e-200"), "metadata.credits", id="credits '1e-200'"),
        pytest.param(_set(CREDITS, "1.0000001"), "metadata.credits", id="credits with 7 decimals"),
        pytest.param(_set(CREDITS, "0"), "metadata.credits", id="credits 0"),
        pytest.param(_set(CREDITS, "10000000000000"), "metadata.credits", id="credits above 10^12"),
        pytest.param(_set(CREDITS, 500), "metadata.credits", id="credits a number, not Stripe's string"),
        pytest.param(_set(CREDITS, "5000"), "metadata.credits", id="5000 credits for $5 at 100"),
        pytest.param(_set(CREDITS, REMOVE), "metadata.credits", id="credits missing"),
        pytest.param(_set("data.object.amount_total", REMOVE), "amount_total", id="amount_total missing"),
        pytest.param(_set("data.object.amount_total", -500), "amount_total", id="amount_total negative"),
        pytest.param(_set("data.object.amount_total", "500"), "amount_total", id="amount_total a string"),
        pytest.param(_set("data.object.amount_total", 550), "amount_total", id="amount_total not whole dollars"),
        pytest.param(_set("data.object.amount_total", 50000), "metadata.fiat", id="amount_total not the fiat"),
        pytest.param(_set("data.object.currency", "eur"), "currency", id="currency eur"),
        pytest.param(_set("data.object.metadata", "credits=500"), "metadata", id="metadata a string"),
        pytest.param(_set("data.object.metadata", REMOVE), "metadata", id="metadata missing"),
        pytest.param(_set("data.object", [1, 2]), "data.object", id="data.object a list"),
        pytest.param(_set("data", "checkout"), "data", id="data a string"),
        pytest.param(_set("data.object.id", {"id": "cs_test_a1"}), "id", id="session id an object"),
        pytest.param(_set("data.object.metadata.user_id", "USER#x"), "metadata.user_id", id="user id malformed"),
        pytest.param(_set("data.object.metadata.user_id", 5), "metadata.user_id", id="user id a number"),
        pytest.param(
            _set("data.object.client_reference_id", "user_" + "0" * 32), "client_reference_id", id="another user"
        ),
        pytest.param(_set("data.object.metadata.rate", "-100"), "metadata.rate", id="rate negative"),
        pytest.param(
            lambda event: event["data"]["object"]["metadata"].update(credits="5000000", rate="1000000"),
            "metadata.credits",
            id="a rate no band offers",
        ),
    ],
)
def test_a_signed_but_malformed_session_is_acknowledged_counted_and_credits_nothing(
    webhook, user, observed, change, check
):
    event = json.loads(stripe_event(user.id))
    change(event)
    payload = json.dumps(event).encode()
    signature = sign(payload, WEBHOOK_SECRET)

    result = webhook(payload, signature)

    assert result["statusCode"] == 200, result
    assert body_of(result) == {"data": {"outcome": "ignored"}, "message": "Webhook received.", "status": "success"}
    assert credits_of(user) == 0
    assert credit_transactions(user.id) == []
    logged, metrics_emitted = observed()
    assert metrics_emitted.count(purchases.WEBHOOK_REJECTED_METRIC) == 1
    (line,) = [json.loads(line) for line in logged.splitlines() if "Rejected a signed Stripe event" in line]
    assert (line["failed_check"], line["stripe_event_id"]) == (check, "evt_cs_test_a1_checkout.session.completed")
    assert line["stripe_event_type"] == "checkout.session.completed"
    for secret in (WEBHOOK_SECRET, signature, payload.decode()):
        assert secret not in logged


def test_a_valid_session_is_credited_once_and_counts_no_rejection(webhook, user, observed):
    payload = stripe_event(user.id, rate="100")

    outcomes = [body_of(webhook(payload, sign(payload, WEBHOOK_SECRET)))["data"]["outcome"] for _ in range(2)]

    assert outcomes == ["credited", "already_credited"]
    assert credits_of(user) == 500
    assert len(credit_transactions(user.id)) == 1
    assert purchases.WEBHOOK_REJECTED_METRIC not in observed()[1]


def test_an_unpaid_session_is_ignored_without_an_alarm(webhook, user, observed):
    payload = stripe_event(user.id, payment_status="unpaid", credits="-500")

    result = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert (result["statusCode"], body_of(result)["data"], credits_of(user)) == (200, {"outcome": "ignored"}, 0)
    assert purchases.WEBHOOK_REJECTED_METRIC not in observed()[1]


CHANGED_BANDS = json.dumps(
    [{"lower_limit": 1, "upper_limit": 99, "rate": 100}, {"lower_limit": 100, "upper_limit": 10000, "rate": 110}]
)


def test_a_session_sold_at_a_rate_a_band_still_offers_is_credited_as_sold(webhook, user, monkeypatch):
    # Sold at 110 credits a dollar; by payment, $5 is in the band of rate 100, but a band still offers 110.
    monkeypatch.setenv("STRIPE_RATES", CHANGED_BANDS)
    get_settings.cache_clear()
    payload = stripe_event(user.id, credits="550", rate="110")

    result = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert body_of(result)["data"] == {"outcome": "credited"}
    assert credits_of(user) == 550


def test_a_session_without_a_rate_is_priced_by_the_current_band(webhook, user, observed, monkeypatch):
    # A session of before checkout wrote the rate: only the current band's price is accepted.
    monkeypatch.setenv("STRIPE_RATES", CHANGED_BANDS)
    get_settings.cache_clear()
    sold_before = stripe_event(user.id, credits="550")
    priced_now = stripe_event(user.id, session_id="cs_test_a2", credits="500")

    rejected = webhook(sold_before, sign(sold_before, WEBHOOK_SECRET))
    credited = webhook(priced_now, sign(priced_now, WEBHOOK_SECRET))

    assert body_of(rejected)["data"] == {"outcome": "ignored"}
    assert body_of(credited)["data"] == {"outcome": "credited"}
    assert credits_of(user) == 500
    assert observed()[1].count(purchases.WEBHOOK_REJECTED_METRIC) == 1


def test_a_session_made_by_checkout_is_credited_by_the_webhook(stripe_api, webhook, user, standin):
    bought = stripe_api("POST", "buy", user.token, {"amount": 7, "return_path": ""}, STRIPE_RATES=CHANGED_BANDS)
    session = standin.app.sessions[bought.json["data"]["url"].rsplit("/", 1)[1]]
    session.update(status="complete", payment_status="paid")
    payload = standin.app.event_for(session)

    result = webhook(payload, sign(payload, WEBHOOK_SECRET))

    assert body_of(result)["data"] == {"outcome": "credited"}
    assert credits_of(user) == 700

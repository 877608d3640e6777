"""Billing through Stripe: the credit rate bands, Checkout for buying credits, the customer portal, and the
webhook's settlement, which credits each paid Checkout Session exactly once however often Stripe delivers it.

The stripe library is imported inside the functions that call Stripe: it costs ~160 ms of import, which no
other function's cold start should pay. Every POST to Stripe carries an idempotency key, so a retried request
(ours or the library's) never creates a second customer or session.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AfterValidator, Field, StrictInt, StringConstraints, TypeAdapter, ValidationError

from clara.contract.errors import CreditsRateNotFound, NotFound, SomethingWentWrong
from clara.contract.requests import Body, PositiveCredits
from clara.domain import ledger, users
from clara.domain.audit import audit_put
from clara.domain.users import User
from clara.formats import LazyModel, Money, decimal_text, money
from clara.observability import count, logger
from clara.secrets import optional_secret, secret
from clara.settings import get_settings
from clara.store import customers

if TYPE_CHECKING:
    from stripe import StripeClient

# The SecretString the template gives both Stripe secrets until the operator puts the real values in.
PLACEHOLDER = "replace-me"
# Any key works against the local stand-in; the library only insists on having one.
STANDIN_API_KEY = "sk_test_clara_local_standin"
SETTLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
WEBHOOK_TOLERANCE_SECONDS = 300
# Counted for each signed settling event whose session fails a check; WebhookEventsRejectedAlarm watches it.
WEBHOOK_REJECTED_METRIC = "WebhookEventsRejected"
_NOT_SIGNED = "The Stripe-Signature header is missing, invalid or too old."
_NOT_AN_EVENT = "The payload is not a Stripe event."

Outcome = Literal["credited", "already_credited", "ignored"]


class StripeNotConfigured(RuntimeError):
    """A Stripe secret is missing or still the placeholder: an operator's error (500), never a silent stand-in."""


class InvalidWebhook(ValueError):
    """A webhook request that is not a genuine, fresh Stripe event (the webhook answers 400)."""


# ------------------------------------------------------------------------------------------- rates


class RateBand(LazyModel):
    """Amounts from lower_limit to upper_limit dollars (inclusive) buy `rate` credits per dollar."""

    lower_limit: Annotated[int, Field(ge=1)]
    upper_limit: Annotated[int, Field(ge=1)]
    rate: Annotated[int | float, Field(gt=0)]
    # In the contract's Rate response; Checkout prices each purchase inline (price_data), so it is usually null.
    stripe_price_id: str | None = None

    def credits_for(self, amount: int) -> Decimal:
        """Exact: the rate through its shortest text, so a rate of 110.5 is 110.5 and not a binary fraction."""
        return money(Decimal(amount) * Decimal(str(self.rate)))


_BANDS = TypeAdapter(list[RateBand])


def rate_bands() -> list[RateBand]:
    """The bands of STRIPE_RATES, parsed and validated on each call (a bad value is a 500 that says why in the
    log, not a function that fails to start)."""
    bands = _BANDS.validate_json(get_settings().stripe_rates)
    for band in bands:
        if band.lower_limit > band.upper_limit:
            raise ValueError(f"STRIPE_RATES: lower_limit {band.lower_limit} is above upper_limit {band.upper_limit}")
    return sorted(bands, key=lambda band: band.lower_limit)


def band_for(amount: int) -> RateBand:
    """The band that prices `amount` dollars; 404 "No credits rate found ..." outside every band."""
    for band in rate_bands():
        if band.lower_limit <= amount <= band.upper_limit:
            return band
    raise CreditsRateNotFound()


def rates_view() -> list[dict[str, Any]]:
    return [band.model_dump() for band in rate_bands()]


# ------------------------------------------------------------------------------------------- Stripe


def stripe_client() -> "StripeClient":
    """A client for this call: the real Stripe with the configured key, or (outside production, with no key
    configured and STRIPE_API_BASE set) the local runtime's stand-in."""
    import stripe

    settings = get_settings()
    key = optional_secret("stripe_secret_key")
    standin: dict[str, Any] = {}
    if key is None or key == PLACEHOLDER:
        if not settings.stripe_api_base or settings.environment == "production":
            raise StripeNotConfigured(
                "STRIPE_SECRET_KEY is not configured (unset, or its secret still holds the placeholder "
                f"{PLACEHOLDER!r}): put the Stripe secret key into the StripeSecretKeySecret secret"
            )
        key, standin = STANDIN_API_KEY, {"base_addresses": {"api": settings.stripe_api_base}}
    return stripe.StripeClient(
        key,
        # Lambda gives the request 15 s; the library's default timeout is 80 s.
        http_client=stripe.RequestsClient(timeout=10),
        max_network_retries=1,  # safe: every POST below has an idempotency key
        **standin,
    )


def _idempotency_key(purpose: str, *parts: object) -> str:
    """Stripe takes keys of at most 255 characters; a digest of what makes the request unique fits any input."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"clara-{purpose}-{digest}"


def _customer_id(client: "StripeClient", user: User) -> str:
    """The user's Stripe customer, created on first need. Under a race both requests send the same
    idempotency key, so Stripe creates one customer, and the conditional write stores it once."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    customer = client.v1.customers.create(
        params={"email": user.email, "name": name, "metadata": {"user_id": user.id}},
        options={"idempotency_key": _idempotency_key("customer", user.id)},
    )
    if not customers.attach_stripe_customer(user.id, customer.id):
        stored = users.get_user(user.id)
        if stored is None:
            raise NotFound("User")
        if stored.stripe_customer_id:  # a concurrent request stored it first
            return stored.stripe_customer_id
        raise SomethingWentWrong()  # refused, yet the user has no customer: cannot happen
    return str(customer.id)


def portal_url(user: User, request_id: str) -> str:
    """A Billing Portal session for the user's customer; back to STRIPE_RETURN_URL (else CLIENT_URL)."""
    settings = get_settings()
    client = stripe_client()
    session = client.v1.billing_portal.sessions.create(
        params={
            "customer": _customer_id(client, user),
            "return_url": settings.stripe_return_url or settings.client_url,
        },
        options={"idempotency_key": _idempotency_key("portal", user.id, request_id)},
    )
    return str(session.url)


# ------------------------------------------------------------------------------------------- checkout


def _relative_path(value: str) -> str:
    """A path on the front end (CLIENT_URL/<path>), never a URL of its own: no scheme, host or backslash."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("return_path must be a path on the client, not a URL")
    return value


class BuyRequest(Body):
    amount: Annotated[StrictInt, Field(ge=1)]  # whole dollars
    return_path: Annotated[str, StringConstraints(max_length=512), AfterValidator(_relative_path)]


class PortalView(LazyModel):
    url: str


class CheckoutView(LazyModel):
    return_path: str
    url: str
    value_in_credits: Money
    value_in_fiat: Money


def return_url(return_path: str, status: Literal["success", "cancel"]) -> str:
    """CLIENT_URL/<return_path>?stripe_status=<status>, keeping any query the path already has."""
    base = get_settings().client_url.rstrip("/")
    parts = urlsplit(f"{base}/{return_path.lstrip('/')}")
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("stripe_status", status)])
    return urlunsplit(parts._replace(query=query))


def checkout(user: User, request: BuyRequest, request_id: str) -> CheckoutView:
    """A hosted Checkout Session (payment mode) selling `amount` dollars of credits at the band's rate.

    Nothing is credited here: the webhook does it once Stripe reports the session paid. The metadata carries
    what was sold (credits, dollars and the rate), so a later change of rates does not change what this purchase
    is worth (see _purchase).
    """
    amount = request.amount
    band = band_for(amount)
    credits = band.credits_for(amount)
    client = stripe_client()
    customer = _customer_id(client, user)
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "customer": customer,
            "client_reference_id": user.id,
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": amount * 100,
                        "product_data": {"name": f"{decimal_text(credits)} Clara credits"},
                    },
                    "quantity": 1,
                }
            ],
            "metadata": {
                "user_id": user.id,
                "credits": decimal_text(credits),
                "fiat": str(amount),
                "rate": decimal_text(money(band.rate)),
            },
            "success_url": return_url(request.return_path, "success"),
            "cancel_url": return_url(request.return_path, "cancel"),
        },
        # The same API request retried reuses its session; a new request (new request id) gets a new one.
        options={"idempotency_key": _idempotency_key("checkout", user.id, amount, request.return_path, request_id)},
    )
    return CheckoutView(
        return_path=request.return_path, url=str(session.url), value_in_credits=credits, value_in_fiat=Decimal(amount)
    )


# ------------------------------------------------------------------------------------------- webhook


def verified_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The Stripe event in `payload` once its Stripe-Signature is checked on these exact bytes (and is at most
    five minutes old); InvalidWebhook otherwise. StripeNotConfigured when there is no webhook secret."""
    if not signature:  # refused before any secret is read: junk costs nothing and needs no configuration
        raise InvalidWebhook(_NOT_SIGNED)
    import stripe

    webhook_secret = secret("stripe_webhook_secret")
    if webhook_secret == PLACEHOLDER:
        raise StripeNotConfigured(f"the StripeWebhookSecret secret still holds the placeholder {PLACEHOLDER!r}")
    try:
        text = payload.decode()
    except UnicodeDecodeError as error:
        raise InvalidWebhook(_NOT_AN_EVENT) from error
    try:
        stripe.WebhookSignature.verify_header(text, signature, webhook_secret, WEBHOOK_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(_NOT_SIGNED) from error
    # Parsed here, not by stripe.Webhook.construct_event, which fails on signed JSON that is not an object.
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than Python's recursion limit
        raise InvalidWebhook(_NOT_AN_EVENT) from error
    if not isinstance(event, dict):
        raise InvalidWebhook(_NOT_AN_EVENT)
    return event


class RejectedSession(ValueError):
    """A signed settling event whose Checkout Session fails a check; `check` names which (for the log)."""

    def __init__(self, check: str) -> None:
        super().__init__(check)
        self.check = check


@dataclass(frozen=True)
class Purchase:
    """A paid Checkout Session of Clara's, checked: what to credit to whom."""

    session_id: str
    user_id: str
    credits: Decimal
    fiat: Decimal


_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
_USER_ID = re.compile(r"user_[0-9a-f]{32}")
# Stripe's metadata values are strings; checkout writes plain decimals (no sign, exponent, NaN or Infinity).
_DECIMAL_TEXT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,20})?")
_POSITIVE_MONEY = TypeAdapter(PositiveCredits)


def _object(value: object, check: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RejectedSession(check)
    return value


def _money_text(value: object, check: str) -> Decimal:
    """A metadata amount under the API's money rules: above 0, at most 10^12, at most 6 decimal places."""
    if not isinstance(value, str) or not _DECIMAL_TEXT.fullmatch(value):
        raise RejectedSession(check)
    try:
        return _POSITIVE_MONEY.validate_python(Decimal(value))
    except ValidationError:
        raise RejectedSession(check) from None


def _credits_are_priced(credits: Decimal, dollars: int, rate: Decimal | None) -> bool:
    """Whether `credits` is what checkout sells for `dollars`: the current band's price, or the price at the
    session's own rate when that rate is one a band offers now.

    Why both: checkout writes the rate into the metadata, and a session may be paid hours or days later (delayed
    payment methods) after the bands changed; the customer paid for what they were shown. But a rate only counts
    when it is configured now, so a session made outside checkout (Stripe's dashboard, a leaked key) cannot name
    its own price. A session of before `rate` was written, paid after a change of rates, is rejected (alarm) and
    is credited by hand."""
    try:
        if credits == band_for(dollars).credits_for(dollars):
            return True
    except CreditsRateNotFound:
        pass
    offered = {money(band.rate) for band in rate_bands()}
    return rate is not None and rate in offered and credits == money(dollars * rate)


def _purchase(event: Mapping[str, Any]) -> Purchase | None:
    """The purchase a settling event reports; None while the session is unpaid. RejectedSession when anything in
    it is malformed or inconsistent: the event is signed, so Stripe sent it, but nothing in it is credited."""
    session = _object(_object(event.get("data"), "data").get("object"), "data.object")
    if session.get("payment_status") != "paid":
        return None
    session_id = session.get("id")
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise RejectedSession("id")
    metadata = _object(session.get("metadata"), "metadata")
    user_id = metadata.get("user_id")
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise RejectedSession("metadata.user_id")
    if session.get("client_reference_id") not in (None, user_id):
        raise RejectedSession("client_reference_id")
    if session.get("currency") != "usd":
        raise RejectedSession("currency")
    # Checkout sells whole dollars; amount_total is in cents.
    cents = session.get("amount_total")
    if type(cents) is not int or cents <= 0 or cents % 100:
        raise RejectedSession("amount_total")
    dollars = cents // 100
    if _money_text(metadata.get("fiat"), "metadata.fiat") != dollars:
        raise RejectedSession("metadata.fiat")
    credits = _money_text(metadata.get("credits"), "metadata.credits")
    rate = _money_text(metadata["rate"], "metadata.rate") if "rate" in metadata else None
    if not _credits_are_priced(credits, dollars, rate):
        raise RejectedSession("metadata.credits")
    return Purchase(session_id, user_id, credits, Decimal(dollars))


def settle(event: Mapping[str, Any]) -> Outcome:
    """Credit the user of a paid Checkout Session, once per session id; ignore every other event.

    `checkout.session.completed` may arrive unpaid (delayed payment methods): then the credit waits for
    `checkout.session.async_payment_succeeded`. A malformed session is logged, counted and ignored: a 2xx, since
    Stripe would deliver the same signed event again for days. Transient DynamoDB errors propagate, so Stripe
    retries.
    """
    if event.get("type") not in SETTLING_EVENTS:
        return "ignored"
    try:
        purchase = _purchase(event)
    except RejectedSession as rejected:
        count(WEBHOOK_REJECTED_METRIC)
        # The check only (the event's id and type are the logger's keys): never the payload or its values.
        logger.warning("Rejected a signed Stripe event: nothing credited", extra={"failed_check": rejected.check})
        return "ignored"
    if purchase is None:
        return "ignored"
    session_id, user_id, credits, fiat = purchase.session_id, purchase.user_id, purchase.credits, purchase.fiat
    try:
        _, was_new = ledger.record(
            user_id,
            ledger.transaction_id_for(session_id),
            "CREDIT",
            credits,
            fiat,
            f"User bought {credits} credits for ${fiat}.",
            also=(
                audit_put(
                    "credits_bought",
                    user_id=user_id,
                    source_ip=None,
                    checkout_session=session_id,
                    credits=credits,
                    fiat=fiat,
                ),
            ),
        )
    except NotFound:
        # Paid, but the account is gone: retrying cannot help, so no 5xx; the log line is the alert.
        logger.error("Paid Checkout Session of a deleted user", extra={"checkout_session": session_id})
        return "ignored"
    outcome: Outcome = "credited" if was_new else "already_credited"
    if was_new:
        count("CreditsBought", float(credits))  # a metric is a float anyway
    logger.info("Checkout Session settled", extra={"checkout_session": session_id, "outcome": outcome})
    return outcome

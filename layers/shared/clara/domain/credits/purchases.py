"""Buying credits through Stripe: Checkout for a purchase, the customer portal, and the webhook's settlement, which
credits each paid Checkout Session exactly once however often Stripe delivers it.

Stripe itself is behind clara.domain.credits.ports.Payments (clara.integrations.stripe_payments), whose module
alone imports the stripe library (~160 ms, which no other function's cold start should pay). Every POST to Stripe
carries an idempotency key, so a retried request (ours or the library's) never creates a second customer or
session.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import TypeAdapter, ValidationError

from clara.contract.errors import CreditsRateNotFound, NotFound, SomethingWentWrong
from clara.contract.requests import BuyRequest, PositiveCredits
from clara.domain.audit import audit_put
from clara.domain.credits import ledger, ports
from clara.domain.credits.ports import NOT_SIGNED, InvalidWebhook, Payments
from clara.domain.credits.rates import band_for, rate_bands
from clara.formats import LazyModel, Money, decimal_text, money
from clara.observability import count, logger
from clara.records.accounts import User
from clara.settings import get_settings
from clara.store import customers
from clara.store.users import get_user

SETTLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
WEBHOOK_TOLERANCE_SECONDS = 300
# Counted for each signed settling event whose session fails a check; WebhookEventsRejectedAlarm watches it.
WEBHOOK_REJECTED_METRIC = "WebhookEventsRejected"

Outcome = Literal["credited", "already_credited", "ignored"]


def _idempotency_key(purpose: str, *parts: object) -> str:
    """Stripe takes keys of at most 255 characters; a digest of what makes the request unique fits any input."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    return f"clara-{purpose}-{digest}"


def _customer_id(stripe: Payments, user: User) -> str:
    """The user's Stripe customer, created on first need. Under a race both requests send the same
    idempotency key, so Stripe creates one customer, and the conditional write stores it once."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    customer_id = stripe.create_customer(user.email, name, user.id, _idempotency_key("customer", user.id))
    if not customers.attach_stripe_customer(user.id, customer_id):
        stored = get_user(user.id)
        if stored is None:
            raise NotFound("User")
        if stored.stripe_customer_id:  # a concurrent request stored it first
            return stored.stripe_customer_id
        raise SomethingWentWrong()  # refused, yet the user has no customer: cannot happen
    return customer_id


def portal_url(user: User, request_id: str) -> str:
    """A Billing Portal session for the user's customer; back to STRIPE_RETURN_URL (else CLIENT_URL)."""
    settings = get_settings()
    stripe = ports.payments()
    return stripe.create_portal_session(
        _customer_id(stripe, user),
        settings.stripe_return_url or settings.client_url,
        _idempotency_key("portal", user.id, request_id),
    )


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
    stripe = ports.payments()
    customer = _customer_id(stripe, user)
    url = stripe.create_checkout_session(
        {
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
        _idempotency_key("checkout", user.id, amount, request.return_path, request_id),
    )
    return CheckoutView(
        return_path=request.return_path, url=url, value_in_credits=credits, value_in_fiat=Decimal(amount)
    )


# ------------------------------------------------------------------------------------------- webhook


def verified_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The Stripe event in `payload` once its Stripe-Signature is checked on these exact bytes (and is at most
    WEBHOOK_TOLERANCE_SECONDS old); InvalidWebhook otherwise. StripeNotConfigured when there is no webhook secret."""
    if not signature:  # refused before any secret is read: junk costs nothing and needs no configuration
        raise InvalidWebhook(NOT_SIGNED)
    return ports.payments().verified_event(payload, signature, WEBHOOK_TOLERANCE_SECONDS)


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

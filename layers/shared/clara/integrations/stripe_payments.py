"""Stripe, as clara.domain.credits.ports.Payments: customers, Checkout and portal sessions, and the check of a
webhook's signature.

The stripe library is imported inside the calls: it costs ~160 ms of import, which only the Stripe functions'
requests pay. Outside production, with no secret key configured and STRIPE_API_BASE set, the client talks to the
local runtime's stand-in.
"""

import json
from typing import TYPE_CHECKING, Any

from clara.domain.credits.ports import NOT_AN_EVENT, NOT_SIGNED, InvalidWebhook, StripeNotConfigured
from clara.secrets import optional_secret, secret
from clara.settings import get_settings

if TYPE_CHECKING:
    from stripe import StripeClient

# The SecretString the template gives both Stripe secrets until the operator puts the real values in.
PLACEHOLDER = "replace-me"
# Any key works against the local stand-in; the library only insists on having one.
STANDIN_API_KEY = "sk_test_clara_local_standin"


class StripePayments:
    def create_customer(self, email: str, name: str, user_id: str, idempotency_key: str) -> str:
        customer = stripe_client().v1.customers.create(
            params={"email": email, "name": name, "metadata": {"user_id": user_id}},
            options={"idempotency_key": idempotency_key},
        )
        return str(customer.id)

    def create_portal_session(self, customer_id: str, return_url: str, idempotency_key: str) -> str:
        session = stripe_client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url},
            options={"idempotency_key": idempotency_key},
        )
        return str(session.url)

    def create_checkout_session(self, params: dict[str, Any], idempotency_key: str) -> str:
        session = stripe_client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]  # built by clara.domain.credits.purchases.checkout
            options={"idempotency_key": idempotency_key},
        )
        return str(session.url)

    def verified_event(self, payload: bytes, signature: str, tolerance_seconds: int) -> dict[str, Any]:
        import stripe

        webhook_secret = secret("stripe_webhook_secret")
        if webhook_secret == PLACEHOLDER:
            raise StripeNotConfigured(f"the StripeWebhookSecret secret still holds the placeholder {PLACEHOLDER!r}")
        try:
            text = payload.decode()
        except UnicodeDecodeError as error:
            raise InvalidWebhook(NOT_AN_EVENT) from error
        try:
            stripe.WebhookSignature.verify_header(text, signature, webhook_secret, tolerance_seconds)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(NOT_SIGNED) from error
        # Parsed here, not by stripe.Webhook.construct_event, which fails on signed JSON that is not an object.
        try:
            event = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than Python's recursion limit
            raise InvalidWebhook(NOT_AN_EVENT) from error
        if not isinstance(event, dict):
            raise InvalidWebhook(NOT_AN_EVENT)
        return event


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

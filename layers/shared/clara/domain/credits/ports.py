"""What buying credits needs from outside, plugged in where a function is assembled (clara.domain.ports): Stripe
(clara.integrations.stripe_payments)."""

from typing import Any, Protocol

from clara.domain.ports import Port

NOT_SIGNED = "The Stripe-Signature header is missing, invalid or too old."
NOT_AN_EVENT = "The payload is not a Stripe event."


class StripeNotConfigured(RuntimeError):
    """A Stripe secret is missing or still the placeholder: an operator's error (500), never a silent stand-in."""


class InvalidWebhook(ValueError):
    """A webhook request that is not a genuine, fresh Stripe event (the webhook answers 400)."""


class Payments(Protocol):
    """Stripe's calls Clara makes; each POST carries the caller's idempotency key."""

    def create_customer(self, email: str, name: str, user_id: str, idempotency_key: str) -> str:
        """The new customer's id."""
        ...

    def create_portal_session(self, customer_id: str, return_url: str, idempotency_key: str) -> str:
        """The Billing Portal session's URL."""
        ...

    def create_checkout_session(self, params: dict[str, Any], idempotency_key: str) -> str:
        """The hosted Checkout Session's URL."""
        ...

    def verified_event(self, payload: bytes, signature: str, tolerance_seconds: int) -> dict[str, Any]:
        """The event in `payload` once `signature` is checked on these exact bytes and is at most
        `tolerance_seconds` old; InvalidWebhook otherwise, StripeNotConfigured without a webhook secret."""
        ...


payments: Port[Payments] = Port("payments")

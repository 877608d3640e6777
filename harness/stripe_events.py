"""The Stripe webhook's signing secret in the in-process stack, and the events Stripe sends it about a Checkout
Session (local_runtime/stripe_standin.py signs them as Stripe does)."""

import json

WEBHOOK_SECRET = "whsec_integration_tests"


def stripe_event(
    user_id: str,
    session_id: str = "cs_test_a1",
    kind: str = "checkout.session.completed",
    payment_status: str = "paid",
    credits: str = "500",
    fiat: str = "5",
    rate: str | None = None,
) -> bytes:
    """The event's JSON, as Stripe sends it (json.loads it to change a field before signing)."""
    metadata = {"user_id": user_id, "credits": credits, "fiat": fiat, **({"rate": rate} if rate else {})}
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": payment_status,
        "amount_total": int(fiat) * 100,
        "currency": "usd",
        "client_reference_id": user_id,
        "metadata": metadata,
    }
    event = {"id": f"evt_{session_id}_{kind}", "object": "event", "type": kind, "data": {"object": session}}
    return json.dumps(event).encode()

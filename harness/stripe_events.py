"""The Stripe webhook's signing secret in the in-process stack, and the events Stripe sends it about a Checkout
Session (local_runtime/stripe_standin.py signs them as Stripe does)."""

import json
from typing import Any

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
    return json.dumps(event_of(user_id, session_id, kind, payment_status, credits, fiat, rate)).encode()


def event_of(
    user_id: str,
    session_id: str = "cs_test_a1",
    kind: str = "checkout.session.completed",
    payment_status: str = "paid",
    credits: str = "500",
    fiat: str = "5",
    rate: str | None = None,
) -> dict[str, Any]:
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
    return {"id": f"evt_{session_id}_{kind}", "object": "event", "type": kind, "data": {"object": session}}

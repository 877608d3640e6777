"""`make run` with a Stripe test account, as docs/stripe.md describes it: with STRIPE_SECRET_KEY set there is no
stand-in, and the webhook function's local Function URL checks signatures with the STRIPE_WEBHOOK_SECRET of the
shell (the `whsec_` that `stripe listen` prints), as `stripe listen --forward-to` delivers them."""

import json
import time

import pytest
import requests

from harness.client import RUNTIME_ENV
from local_runtime.stripe_standin import DEVELOPMENT_WEBHOOK_SECRET, sign

pytestmark = pytest.mark.e2e

LISTEN_SECRET = "whsec_" + "0123456789abcdef" * 4  # the shape `stripe listen --print-secret` prints


def test_stripe_listen_forwards_to_the_webhook_function_url_with_its_own_secret(start_runtime):
    runtime = start_runtime(
        env={**RUNTIME_ENV, "STRIPE_SECRET_KEY": "sk_test_" + "x" * 24, "STRIPE_WEBHOOK_SECRET": LISTEN_SECRET}
    )
    url = f"{runtime.base_url}/_url/StripeWebhookFunction/"
    event = {"id": "evt_test_listen", "object": "event", "type": "customer.created", "created": int(time.time())}
    event["data"] = {"object": {"id": "cus_test", "object": "customer"}}
    payload = json.dumps(event).encode()

    def deliver(secret: str) -> requests.Response:
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret)}
        return requests.post(url, data=payload, headers=headers, timeout=10)

    delivered = deliver(LISTEN_SECRET)
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["data"] == {"outcome": "ignored"}  # signed and of no interest
    assert deliver(DEVELOPMENT_WEBHOOK_SECRET).status_code == 400  # the stand-in's secret is not used
    log = runtime.log()
    assert f"Function URL of StripeWebhookFunction: {url}" in log
    assert "Stripe: local stand-in" not in log

"""Buying credits over HTTP against the local runtime, with its Stripe stand-in: Checkout, the pay page, the
signed webhook it delivers to the webhook function's Function URL, and the credit that lands exactly once."""

import pytest
import requests

from harness.client import (
    LOGGED_IN,
    RUNTIME_ENV,
    Api,
    Mailbox,
    active_account,
    bearer,
    expect,
    login,
)

pytestmark = pytest.mark.e2e


def test_a_purchase_from_checkout_to_credits(start_runtime):
    runtime = start_runtime(env=RUNTIME_ENV)
    api, mailbox = Api(runtime.base_url), Mailbox(runtime.mailbox_dir)
    account = active_account(api, mailbox, "buyer")
    token = bearer(expect(login(api, account.email, account.password), 200, LOGGED_IN)["token"])
    assert "Stripe: local stand-in at" in runtime.log()

    rates = expect(api.call("GET", "/stripe/rate", auth=token), 200)
    assert rates[0]["rate"] == 100
    checkout = expect(
        api.call("POST", "/stripe/buy", auth=token, json={"amount": 5, "return_path": "billing"}),
        201,
        "Checkout session created successfully.",
    )
    assert (checkout["value_in_credits"], checkout["value_in_fiat"]) == (500, 5)
    assert checkout["url"].startswith(f"{runtime.base_url}/_stripe/pay/cs_test_")

    page = requests.get(checkout["url"], timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "500 Clara credits" in page.text and "$5.00" in page.text

    paid = requests.post(checkout["url"], timeout=30)  # follows the redirect to the "Payment complete" page
    assert paid.status_code == 200 and "Payment complete" in paid.text
    assert "stripe_status=success" in paid.text

    def credits_and_purchases() -> tuple[float, list[dict]]:
        user = expect(api.call("GET", f"/users/{account.id}", auth=token), 200)
        listed = expect(api.call("GET", f"/users/{account.id}/transactions", auth=token), 200)
        return user["credits"], [t for t in listed if t["type"] == "CREDIT"]

    credits, purchases = credits_and_purchases()
    assert credits == 500
    assert [(t["description"], t["value_in_credits"], t["value_in_fiat"]) for t in purchases] == [
        ("User bought 500 credits for $5.", 500, 5)
    ]

    again = requests.post(checkout["url"], timeout=30)
    assert again.status_code == 200 and "Payment complete" in again.text
    assert credits_and_purchases() == (credits, purchases)


def test_the_customer_portal_page(start_runtime):
    runtime = start_runtime(env=RUNTIME_ENV)
    api, mailbox = Api(runtime.base_url), Mailbox(runtime.mailbox_dir)
    account = active_account(api, mailbox, "portal")
    token = bearer(expect(login(api, account.email, account.password), 200, LOGGED_IN)["token"])

    portal = expect(
        api.call("POST", "/stripe/portal", auth=token), 201, "Customer portal session created successfully."
    )

    assert portal["url"].startswith(f"{runtime.base_url}/_stripe/portal/bps_")
    page = requests.get(portal["url"], timeout=10)
    assert page.status_code == 200 and account.email in page.text

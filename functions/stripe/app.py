"""Stripe: the credit rate, the customer portal, and Checkout for buying credits (user or API key token)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import billing
from clara.api import create_app, lambda_handler_for, read_body
from clara.auth import Role, authenticate
from clara.envelope import success

app = create_app()

RATE_MESSAGE = (
    "Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. "
    "Any amount beyond the limits will not be credited."
)


@app.get("/stripe/rate")
def rate() -> Response[Any]:
    authenticate(app.current_event, Role.USER, Role.API_KEY, active=True)
    return success(billing.rates_view(), RATE_MESSAGE)


@app.post("/stripe/portal")
def portal() -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, Role.API_KEY, active=True)
    url = billing.portal_url(caller.own_user(), app.current_event.request_context.request_id)
    return success({"url": url}, "Customer portal session created successfully.", 201)


@app.post("/stripe/buy")
def buy() -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, Role.API_KEY, active=True)
    request = read_body(app.current_event, billing.BuyRequest)
    session = billing.checkout(caller.own_user(), request, app.current_event.request_context.request_id)
    return success(session, "Checkout session created successfully.", 201)


lambda_handler = lambda_handler_for(app)

"""Stripe: the credit rate, the customer portal, and Checkout for buying credits (user or API key token)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import billing
from clara.api import create_app, lambda_handler_for, read_body
from clara.auth import Role, authenticate
from clara.envelope import success
from clara.errors import CreditsRateNotFound, InactiveUser
from clara.openapi import Success, documented

app = create_app()

RATE_MESSAGE = (
    "Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. "
    "Any amount beyond the limits will not be credited."
)


BUYERS = (Role.USER, Role.API_KEY)


@app.get(
    "/stripe/rate",
    **documented(
        "The credit rate bands",
        Success(200, list[billing.RateBand], RATE_MESSAGE),
        auth=BUYERS,
        errors=(InactiveUser,),
    ),
)
def rate() -> Response[Any]:
    authenticate(app.current_event, *BUYERS, active=True)
    return success(billing.rates_view(), RATE_MESSAGE)


@app.post(
    "/stripe/portal",
    **documented(
        "A Stripe Customer Portal session for the user",
        Success(201, billing.PortalView, "Customer portal session created successfully."),
        auth=BUYERS,
        errors=(InactiveUser,),
    ),
)
def portal() -> Response[Any]:
    caller = authenticate(app.current_event, *BUYERS, active=True)
    url = billing.portal_url(caller.own_user(), app.current_event.request_context.request_id)
    return success(billing.PortalView(url=url), "Customer portal session created successfully.", 201)


@app.post(
    "/stripe/buy",
    **documented(
        "A Stripe Checkout Session that buys credits for `amount` dollars",
        Success(201, billing.CheckoutView, "Checkout session created successfully."),
        auth=BUYERS,
        body=billing.BuyRequest,
        errors=(InactiveUser, CreditsRateNotFound),
    ),
)
def buy() -> Response[Any]:
    caller = authenticate(app.current_event, *BUYERS, active=True)
    request = read_body(app.current_event, billing.BuyRequest)
    session = billing.checkout(caller.own_user(), request, app.current_event.request_context.request_id)
    return success(session, "Checkout session created successfully.", 201)


lambda_handler = lambda_handler_for(app)

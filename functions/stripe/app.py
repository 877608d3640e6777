"""Stripe: the credit rate, the customer portal, and Checkout for buying credits (user or API key token)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import CreditsRateNotFound, InactiveUser
from clara.domain import billing
from clara.http.app import create_app, lambda_handler_for, read_body
from clara.http.auth import Role, authenticate
from clara.http.openapi import Success, documented

app = create_app()

BUYERS = (Role.USER, Role.API_KEY)

RATE_FETCHED = Success(
    200,
    list[billing.RateBand],
    "Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. "
    "Any amount beyond the limits will not be credited.",
)


@app.get(
    "/stripe/rate",
    **documented(
        "The credit rate bands",
        RATE_FETCHED,
        auth=BUYERS,
        errors=(InactiveUser,),
    ),
)
def rate() -> Response[Any]:
    authenticate(app.current_event, *BUYERS, active=True)
    return RATE_FETCHED.answer(billing.rates_view())


PORTAL_CREATED = Success(201, billing.PortalView, "Customer portal session created successfully.")


@app.post(
    "/stripe/portal",
    **documented(
        "A Stripe Customer Portal session for the user",
        PORTAL_CREATED,
        auth=BUYERS,
        errors=(InactiveUser,),
    ),
)
def portal() -> Response[Any]:
    caller = authenticate(app.current_event, *BUYERS, active=True)
    url = billing.portal_url(caller.own_user(), app.current_event.request_context.request_id)
    return PORTAL_CREATED.answer(billing.PortalView(url=url))


CHECKOUT_CREATED = Success(201, billing.CheckoutView, "Checkout session created successfully.")


@app.post(
    "/stripe/buy",
    **documented(
        "A Stripe Checkout Session that buys credits for `amount` dollars",
        CHECKOUT_CREATED,
        auth=BUYERS,
        body=billing.BuyRequest,
        errors=(InactiveUser, CreditsRateNotFound),
    ),
)
def buy() -> Response[Any]:
    caller = authenticate(app.current_event, *BUYERS, active=True)
    request = read_body(app.current_event, billing.BuyRequest)
    session = billing.checkout(caller.own_user(), request, app.current_event.request_context.request_id)
    return CHECKOUT_CREATED.answer(session)


lambda_handler = lambda_handler_for(app)

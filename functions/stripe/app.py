"""Stripe: the credit rate, the customer portal, and Checkout for buying credits (user or API key token)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import CreditsRateNotFound, InactiveUser
from clara.contract.requests import BuyRequest
from clara.domain.credits import ports as credits_ports
from clara.domain.credits import purchases, rates
from clara.domain.credits.purchases import CheckoutView, PortalView
from clara.http.app import create_app, lambda_handler_for, read_body
from clara.http.auth import Role, authenticate
from clara.http.openapi import Success, documented
from clara.integrations.stripe_payments import StripePayments

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
credits_ports.payments.plug(StripePayments)

app = create_app()

BUYERS = (Role.USER, Role.API_KEY)

RATE_FETCHED = Success(
    200,
    list[rates.RateBand],
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
    return RATE_FETCHED.answer(rates.rates_view())


PORTAL_CREATED = Success(201, PortalView, "Customer portal session created successfully.")


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
    url = purchases.portal_url(caller.own_user(), app.current_event.request_context.request_id)
    return PORTAL_CREATED.answer(PortalView(url=url))


CHECKOUT_CREATED = Success(201, CheckoutView, "Checkout session created successfully.")


@app.post(
    "/stripe/buy",
    **documented(
        "A Stripe Checkout Session that buys credits for `amount` dollars",
        CHECKOUT_CREATED,
        auth=BUYERS,
        body=BuyRequest,
        errors=(InactiveUser, CreditsRateNotFound),
    ),
)
def buy() -> Response[Any]:
    caller = authenticate(app.current_event, *BUYERS, active=True)
    request = read_body(app.current_event, BuyRequest)
    session = purchases.checkout(caller.own_user(), request, app.current_event.request_context.request_id)
    return CHECKOUT_CREATED.answer(session)


lambda_handler = lambda_handler_for(app)

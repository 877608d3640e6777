"""Stripe: the credit rate, the customer portal, and Checkout for buying credits (user or API key token)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import CreditsRateNotFound
from clara.contract.requests import BuyRequest
from clara.domain.credits import ports as credits_ports
from clara.domain.credits import purchases, rates
from clara.domain.credits.purchases import CheckoutView, PortalView
from clara.http.app import create_app, lambda_handler_for
from clara.http.auth import Role
from clara.http.openapi import Success
from clara.http.routes import Call, Routes
from clara.integrations.stripe_payments import StripePayments

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
credits_ports.payments.plug(StripePayments)

app = create_app()
# Every route is an active user's, by a user or API key token.
routes = Routes(app, auth=(Role.USER, Role.API_KEY), active=True)

RATE_FETCHED = Success(
    200,
    list[rates.RateBand],
    "Credits rate fetched successfully. Upper limit and lower limit are in fiat. Rate is in credits per dollar. "
    "Any amount beyond the limits will not be credited.",
)


@routes.get("/stripe/rate", "The credit rate bands", RATE_FETCHED)
def rate(call: Call[None]) -> Response[Any]:
    return RATE_FETCHED.answer(rates.rates_view())


PORTAL_CREATED = Success(201, PortalView, "Customer portal session created successfully.")


@routes.post("/stripe/portal", "A Stripe Customer Portal session for the user", PORTAL_CREATED)
def portal(call: Call[None]) -> Response[Any]:
    url = purchases.portal_url(call.caller.own_user(), call.event.request_context.request_id)
    return PORTAL_CREATED.answer(PortalView(url=url))


CHECKOUT_CREATED = Success(201, CheckoutView, "Checkout session created successfully.")


@routes.post(
    "/stripe/buy",
    "A Stripe Checkout Session that buys credits for `amount` dollars",
    CHECKOUT_CREATED,
    body=BuyRequest,
    errors=(CreditsRateNotFound,),
)
def buy(call: Call[BuyRequest]) -> Response[Any]:
    session = purchases.checkout(call.caller.own_user(), call.body, call.event.request_context.request_id)
    return CHECKOUT_CREATED.answer(session)


lambda_handler = lambda_handler_for(app)

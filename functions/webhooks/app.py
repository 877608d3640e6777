"""Webhooks: a user's endpoints for signed completion events (clara.domain.webhooks; docs/webhooks.md).

The owner manages them with a user token or its API key token; the private key may read them. A secret is shown
when the endpoint is created and when it is rotated, never again.
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import NotFound, WebhookLimitReached, WebhookUrlRefused
from clara.contract.requests import NewWebhookRequest
from clara.domain.webhooks import endpoints
from clara.domain.webhooks import ports as webhooks_ports
from clara.domain.webhooks.endpoints import DeliveryView, NewWebhookView, SecretView, WebhookView
from clara.http.app import Page, create_app, lambda_handler_for, read_page
from clara.http.auth import Role
from clara.http.openapi import NO_CONTENT, Success
from clara.http.routes import Call, Routes
from clara.integrations.sqs_queues import WebhookEventQueue
from clara.integrations.web.receivers import WebReceivers

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
webhooks_ports.event_queue.plug(WebhookEventQueue)
webhooks_ports.receivers.plug(WebReceivers)

app = create_app()
# Each route acts for an active user, who may be gone (404), and a webhook its path names may not be the user's
# (404); who may call it is its own: the owner (OWNER) or, for a read, the private key too (READERS).
routes = Routes(app, active=True, errors=(NotFound("User"),), not_found={"webhook_id": "Webhook"})
OWNER = (Role.USER, Role.API_KEY)
READERS = (Role.USER, Role.API_KEY, Role.PRIVATE)


WEBHOOK_CREATED = Success(201, NewWebhookView, "Webhook created successfully.")


@routes.post(
    "/users/<user_id>/webhooks",
    "Add an endpoint for signed events (at most 5); its secret is shown here only",
    WEBHOOK_CREATED,
    auth=OWNER,
    body=NewWebhookRequest,
    errors=(WebhookUrlRefused, WebhookLimitReached),
)
def create(call: Call[NewWebhookRequest]) -> Response[Any]:
    return WEBHOOK_CREATED.answer(endpoints.create(call.user.id, call.body))


WEBHOOKS_FETCHED = Success(200, list[WebhookView], "Webhooks fetched successfully.")


@routes.get(
    "/users/<user_id>/webhooks",
    "The user's webhook endpoints, oldest first (never their secrets)",
    WEBHOOKS_FETCHED,
    auth=READERS,
)
def view_all(call: Call[None]) -> Response[Any]:
    return WEBHOOKS_FETCHED.answer([endpoints.view(each) for each in endpoints.list_webhooks(call.user.id)])


WEBHOOK_FETCHED = Success(200, WebhookView, "Webhook fetched successfully.")


@routes.get(
    "/users/<user_id>/webhooks/<webhook_id>",
    "One webhook endpoint (never its secret)",
    WEBHOOK_FETCHED,
    auth=READERS,
)
def view(call: Call[None], webhook_id: str) -> Response[Any]:
    return WEBHOOK_FETCHED.answer(endpoints.view(endpoints.webhook_of(call.user.id, webhook_id)))


@routes.delete(
    "/users/<user_id>/webhooks/<webhook_id>",
    "Delete a webhook endpoint: nothing more is sent to it",
    NO_CONTENT,
    auth=OWNER,
)
def delete(call: Call[None], webhook_id: str) -> Response[Any]:
    endpoints.delete(call.user.id, webhook_id)
    return NO_CONTENT.answer()


SECRET_ROTATED = Success(201, SecretView, "Webhook secret rotated successfully.")


@routes.post(
    "/users/<user_id>/webhooks/<webhook_id>/secret",
    "A new signing secret; for 24 hours deliveries carry a signature by the old one too",
    SECRET_ROTATED,
    auth=OWNER,
)
def rotate_secret(call: Call[None], webhook_id: str) -> Response[Any]:
    return SECRET_ROTATED.answer(endpoints.rotate_secret(call.user.id, webhook_id))


TEST_SENT = Success(202, None, "Test event sent.")


@routes.post(
    "/users/<user_id>/webhooks/<webhook_id>/test",
    "Send a webhook.test event to the endpoint (its delivery shows in the endpoint's log)",
    TEST_SENT,
    auth=OWNER,
)
def send_test(call: Call[None], webhook_id: str) -> Response[Any]:
    from clara.domain.webhooks.events import record_and_dispatch

    webhook = endpoints.webhook_of(call.user.id, webhook_id)
    record_and_dispatch(webhook, "webhook.test", {"webhook_id": webhook.id, "url": webhook.url})
    return TEST_SENT.answer()


DELIVERIES_FETCHED = Success(200, list[DeliveryView], "Deliveries fetched successfully.")


@routes.get(
    "/users/<user_id>/webhooks/<webhook_id>/deliveries",
    "The endpoint's delivery attempts, newest first (kept 30 days)",
    DELIVERIES_FETCHED,
    auth=READERS,
    query=Page,
)
def deliveries(call: Call[None], webhook_id: str) -> Response[Any]:
    page = read_page(call.event)
    return DELIVERIES_FETCHED.answer(endpoints.deliveries(call.user.id, webhook_id, page.limit, page.offset))


lambda_handler = lambda_handler_for(app)

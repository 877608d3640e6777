"""Webhooks: a user's endpoints for signed completion events (clara.domain.webhooks; docs/webhooks.md).

The owner manages them with a user token or its API key token; the private key may read them. A secret is shown
when the endpoint is created and when it is rotated, never again.
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import InactiveUser, NotFound, WebhookLimitReached, WebhookUrlRefused
from clara.contract.requests import NewWebhookRequest
from clara.domain.webhooks import endpoints
from clara.domain.webhooks import ports as webhooks_ports
from clara.domain.webhooks.endpoints import DeliveryView, NewWebhookView, SecretView, WebhookView
from clara.http.app import Page, create_app, lambda_handler_for, read_body, read_page
from clara.http.auth import Role, authenticate, user_in_path
from clara.http.openapi import NO_CONTENT, Success, documented
from clara.integrations.sqs_queues import WebhookEventQueue
from clara.integrations.web.receivers import WebReceivers

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
webhooks_ports.event_queue.plug(WebhookEventQueue)
webhooks_ports.receivers.plug(WebReceivers)

app = create_app()
# Who may call each route: documented on the route and checked by authenticate, from one tuple.
OWNER = (Role.USER, Role.API_KEY)
READERS = (Role.USER, Role.API_KEY, Role.PRIVATE)


WEBHOOK_CREATED = Success(201, NewWebhookView, "Webhook created successfully.")


@app.post(
    "/users/<user_id>/webhooks",
    **documented(
        "Add an endpoint for signed events (at most 5); its secret is shown here only",
        WEBHOOK_CREATED,
        auth=OWNER,
        body=NewWebhookRequest,
        errors=(InactiveUser, NotFound("User"), WebhookUrlRefused, WebhookLimitReached),
    ),
)
def create(user_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *OWNER, active=True), user_id)
    request = read_body(app.current_event, NewWebhookRequest)
    return WEBHOOK_CREATED.answer(endpoints.create(user.id, request))


WEBHOOKS_FETCHED = Success(200, list[WebhookView], "Webhooks fetched successfully.")


@app.get(
    "/users/<user_id>/webhooks",
    **documented(
        "The user's webhook endpoints, oldest first (never their secrets)",
        WEBHOOKS_FETCHED,
        auth=READERS,
        errors=(InactiveUser, NotFound("User")),
    ),
)
def view_all(user_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *READERS, active=True), user_id)
    return WEBHOOKS_FETCHED.answer([endpoints.view(each) for each in endpoints.list_webhooks(user.id)])


WEBHOOK_FETCHED = Success(200, WebhookView, "Webhook fetched successfully.")


@app.get(
    "/users/<user_id>/webhooks/<webhook_id>",
    **documented(
        "One webhook endpoint (never its secret)",
        WEBHOOK_FETCHED,
        auth=READERS,
        errors=(InactiveUser, NotFound("User"), NotFound("Webhook")),
    ),
)
def view(user_id: str, webhook_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *READERS, active=True), user_id)
    return WEBHOOK_FETCHED.answer(endpoints.view(endpoints.webhook_of(user.id, webhook_id)))


@app.delete(
    "/users/<user_id>/webhooks/<webhook_id>",
    **documented(
        "Delete a webhook endpoint: nothing more is sent to it",
        NO_CONTENT,
        auth=OWNER,
        errors=(InactiveUser, NotFound("User"), NotFound("Webhook")),
    ),
)
def delete(user_id: str, webhook_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *OWNER, active=True), user_id)
    endpoints.delete(user.id, webhook_id)
    return NO_CONTENT.answer()


SECRET_ROTATED = Success(201, SecretView, "Webhook secret rotated successfully.")


@app.post(
    "/users/<user_id>/webhooks/<webhook_id>/secret",
    **documented(
        "A new signing secret; for 24 hours deliveries carry a signature by the old one too",
        SECRET_ROTATED,
        auth=OWNER,
        errors=(InactiveUser, NotFound("User"), NotFound("Webhook")),
    ),
)
def rotate_secret(user_id: str, webhook_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *OWNER, active=True), user_id)
    return SECRET_ROTATED.answer(endpoints.rotate_secret(user.id, webhook_id))


TEST_SENT = Success(202, None, "Test event sent.")


@app.post(
    "/users/<user_id>/webhooks/<webhook_id>/test",
    **documented(
        "Send a webhook.test event to the endpoint (its delivery shows in the endpoint's log)",
        TEST_SENT,
        auth=OWNER,
        errors=(InactiveUser, NotFound("User"), NotFound("Webhook")),
    ),
)
def send_test(user_id: str, webhook_id: str) -> Response[Any]:
    from clara.domain.webhooks.events import record_and_dispatch

    user = user_in_path(authenticate(app.current_event, *OWNER, active=True), user_id)
    webhook = endpoints.webhook_of(user.id, webhook_id)
    record_and_dispatch(webhook, "webhook.test", {"webhook_id": webhook.id, "url": webhook.url})
    return TEST_SENT.answer()


DELIVERIES_FETCHED = Success(200, list[DeliveryView], "Deliveries fetched successfully.")


@app.get(
    "/users/<user_id>/webhooks/<webhook_id>/deliveries",
    **documented(
        "The endpoint's delivery attempts, newest first (kept 30 days)",
        DELIVERIES_FETCHED,
        auth=READERS,
        query=Page,
        errors=(InactiveUser, NotFound("User"), NotFound("Webhook")),
    ),
)
def deliveries(user_id: str, webhook_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *READERS, active=True), user_id)
    page = read_page(app.current_event)
    return DELIVERIES_FETCHED.answer(endpoints.deliveries(user.id, webhook_id, page.limit, page.offset))


lambda_handler = lambda_handler_for(app)

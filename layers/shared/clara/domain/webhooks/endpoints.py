"""A user's webhook endpoints: create (the secret shown once), list, view, delete, rotate the secret, send a test.

A URL must pass the receivers' address policy (the receivers port: clara.integrations.web.receivers).

The secret is `whsec_` and the base64 of SECRET_BYTES random bytes (the Standard Webhooks form), stored sealed
(clara.domain.sealed). A rotation keeps the previous secret for ROTATION_OVERLAP_SECONDS: deliveries meanwhile
carry a signature by each.
"""

import base64
import secrets as random
import time

from pydantic import BaseModel

from clara.contract.errors import NotFound, WebhookLimitReached
from clara.contract.requests import NewWebhookRequest
from clara.domain.sealed import seal
from clara.domain.webhooks import ports
from clara.formats import HttpDate, LazyModel, new_id, utc_now
from clara.observability import count
from clara.records.webhooks import EVENT_TYPES, SEALED_AS, Delivery, EventType, Outcome, Webhook
from clara.store import unit
from clara.store import webhooks as store

MAX_ENDPOINTS = 5
SECRET_BYTES = 24
ROTATION_OVERLAP_SECONDS = 24 * 60 * 60


class WebhookView(LazyModel):
    """An endpoint as its owner sees it; never its secret."""

    id: str
    url: str
    events: list[EventType]
    description: str | None
    enabled: bool
    created_at: HttpDate


class NewWebhookView(WebhookView):
    secret: str  # shown here only, and on rotation


class SecretView(BaseModel):
    secret: str


class DeliveryView(LazyModel):
    event_id: str
    type: EventType
    attempt: int
    outcome: Outcome
    status_code: int | None
    error: str | None
    duration_ms: int
    created_at: HttpDate
    next_attempt_at: HttpDate | None


def view(webhook: Webhook) -> WebhookView:
    return WebhookView.model_validate(webhook.model_dump())


def delivery_view(delivery: Delivery) -> DeliveryView:
    return DeliveryView.model_validate(delivery.model_dump())


def new_secret() -> str:
    return "whsec_" + base64.b64encode(random.token_bytes(SECRET_BYTES)).decode()


def create(user_id: str, request: NewWebhookRequest) -> NewWebhookView:
    ports.receivers().check(request.url)
    secret = new_secret()
    webhook = Webhook(
        id=new_id("webhook"),
        user_id=user_id,
        url=request.url,
        events=list(dict.fromkeys(request.events or EVENT_TYPES)),
        description=request.description or None,
        enabled=True,
        secret_ciphertext=seal(SEALED_AS, user_id, secret),
        created_at=utc_now(),
    )
    try:
        store.create(webhook, MAX_ENDPOINTS)
    except unit.Refused as refused:
        if refused.failed(store.COUNT):
            raise WebhookLimitReached(MAX_ENDPOINTS) from refused
        raise
    count("WebhooksCreated")
    return NewWebhookView.model_validate({**webhook.model_dump(), "secret": secret})


def webhook_of(user_id: str, webhook_id: str) -> Webhook:
    """The user's endpoint: another user's is not found under this one."""
    webhook = store.get_webhook(user_id, webhook_id)
    if webhook is None:
        raise NotFound("Webhook")
    return webhook


def list_webhooks(user_id: str) -> list[Webhook]:
    return store.list_webhooks(user_id)


def delete(user_id: str, webhook_id: str) -> None:
    if not store.delete(user_id, webhook_id):
        raise NotFound("Webhook")


def rotate_secret(user_id: str, webhook_id: str) -> SecretView:
    """A new secret; the one it replaces still signs for ROTATION_OVERLAP_SECONDS. A rotation that loses a race
    with another is retried on the endpoint as it is then, so neither secret shown is lost."""
    for _ in range(3):
        webhook = webhook_of(user_id, webhook_id)
        secret = new_secret()
        if store.rotate_secret(webhook, seal(SEALED_AS, user_id, secret), time.time() + ROTATION_OVERLAP_SECONDS):
            return SecretView(secret=secret)
    raise NotFound("Webhook")  # gone, or rotated by others three times meanwhile: nothing was changed by this call


def deliveries(user_id: str, webhook_id: str, limit: int, offset: int) -> list[DeliveryView]:
    webhook_of(user_id, webhook_id)
    return [delivery_view(each) for each in store.list_deliveries(user_id, webhook_id, limit, offset)]

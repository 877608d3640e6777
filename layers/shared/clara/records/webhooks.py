"""The records of webhooks as clara.store.webhooks reads and writes them."""

from datetime import datetime
from typing import Literal

from clara.formats import LazyModel

EventType = Literal["task.completed", "task.failed", "webhook.test"]
EVENT_TYPES: tuple[EventType, ...] = ("task.completed", "task.failed", "webhook.test")
Outcome = Literal["delivered", "retrying", "failed"]
# An endpoint every delivery to which has failed for this long is disabled, and its owner emailed.
DISABLE_AFTER_DAYS = 5
# The HKDF info of the key the signing secrets are sealed under (clara.domain.sealed).
SEALED_AS = b"clara webhook secret v1"


class Webhook(LazyModel):
    """An endpoint: its secret sealed (clara.domain.sealed), and for 24 hours after a rotation the previous one."""

    id: str
    user_id: str
    url: str
    events: list[EventType]
    description: str | None = None
    enabled: bool = True
    secret_ciphertext: str
    previous_secret_ciphertext: str | None = None
    previous_secret_until: float | None = None
    failing_since: float | None = None  # the first failed attempt since the last delivery (epoch seconds)
    disabled_at: float | None = None
    created_at: datetime

    def wants(self, event_type: EventType) -> bool:
        return self.enabled and event_type in self.events


class WebhookEvent(LazyModel):
    """An event for the user's endpoints `webhook_ids`; `body` is the JSON every one of them receives, as signed."""

    id: str
    user_id: str
    type: EventType
    body: str
    webhook_ids: list[str]
    created_at: datetime


class Delivery(LazyModel):
    """One attempt to deliver an event to an endpoint."""

    event_id: str
    webhook_id: str
    type: EventType
    attempt: int
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    duration_ms: int
    created_at: datetime
    next_attempt_at: datetime | None = None

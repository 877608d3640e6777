"""Webhooks in the table (clara.domain.webhooks): the user's endpoints with their count, the events waiting for the
delivery queue (an outbox, as notices are), and each endpoint's delivery log.

The cap on endpoints is one conditional update of the user's count in the unit that creates one, so concurrent
creations cannot pass it; a delete lowers the count in its own unit.
"""

from datetime import datetime
from itertools import islice
from typing import Any

from pynamodb.exceptions import UpdateError

from clara.records.webhooks import Delivery, Webhook, WebhookEvent
from clara.store import outbox, unit
from clara.store.items import (
    WebhookCountItem,
    WebhookDeliveryItem,
    WebhookEventItem,
    WebhookItem,
    typed_values,
    user_pk,
)
from clara.store.table import query_every_kind

# Names of writes in a unit, as Refused.reasons gives them.
COUNT = "webhook_count"
WEBHOOK = "webhook"
EVENT_KEPT_SECONDS = 86_400  # an event not handed to the queue within a day goes (its TTL)
DELIVERY_LOG_DAYS = 30


def _webhook(item: WebhookItem) -> Webhook:
    return Webhook.model_validate(item.stored_values())


def create(webhook: Webhook, cap: int) -> None:
    """Store the endpoint and count it, refused (unit.Refused, COUNT failed) when the user has `cap` already."""
    count = WebhookCountItem(*WebhookCountItem.key(webhook.user_id))
    below_cap = WebhookCountItem.endpoints.does_not_exist() | (WebhookCountItem.endpoints < cap)
    item = WebhookItem(*WebhookItem.key(webhook.user_id, webhook.id), **webhook.model_dump(exclude_none=True))
    unit.commit(
        unit.update(COUNT, count, [WebhookCountItem.endpoints.add(1)], below_cap),
        unit.put(WEBHOOK, item, WebhookItem.pk.does_not_exist()),
    )


def delete(user_id: str, webhook_id: str) -> bool:
    """Delete the endpoint and uncount it: False when it does not exist."""
    count = WebhookCountItem(*WebhookCountItem.key(user_id))
    try:
        unit.commit(
            unit.delete(WEBHOOK, WebhookItem(*WebhookItem.key(user_id, webhook_id)), WebhookItem.pk.exists()),
            unit.update(COUNT, count, [WebhookCountItem.endpoints.add(-1)], WebhookCountItem.endpoints > 0),
        )
    except unit.Refused:
        return False
    return True


def get_webhook(user_id: str, webhook_id: str) -> Webhook | None:
    try:
        return _webhook(WebhookItem.get(*WebhookItem.key(user_id, webhook_id), consistent_read=True))
    except WebhookItem.DoesNotExist:
        return None


def list_webhooks(user_id: str) -> list[Webhook]:
    """The user's endpoints, oldest first (strongly consistent: one created a moment ago is there)."""
    endpoints = WebhookItem.sk.startswith(WebhookItem.PREFIX)
    items = query_every_kind(user_pk(user_id), typed_values, range_key_condition=endpoints, consistent_read=True)
    return [Webhook.model_validate(values) for item_class, values in items if item_class is WebhookItem]


def rotate_secret(webhook: Webhook, new_ciphertext: str, previous_until: float) -> bool:
    """The new secret, the one it replaces kept until `previous_until`: False when the endpoint is gone or its
    secret changed since it was read (a concurrent rotation)."""
    return _update(
        webhook,
        [
            WebhookItem.secret_ciphertext.set(new_ciphertext),
            WebhookItem.previous_secret_ciphertext.set(webhook.secret_ciphertext),
            WebhookItem.previous_secret_until.set(previous_until),
        ],
        WebhookItem.secret_ciphertext == webhook.secret_ciphertext,
    )


def mark_failing(webhook: Webhook, since: float) -> bool:
    """Remember the first failure after a delivery: False when one is remembered already."""
    return _update(webhook, [WebhookItem.failing_since.set(since)], WebhookItem.failing_since.does_not_exist())


def clear_failing(webhook: Webhook) -> bool:
    return _update(webhook, [WebhookItem.failing_since.remove()], WebhookItem.failing_since.exists())


def disable(webhook: Webhook, at: float, *also: unit.Write) -> bool:
    """Disable the endpoint (with `also`, its owner's notice, in the same unit): False when it was not enabled."""
    item = WebhookItem(*WebhookItem.key(webhook.user_id, webhook.id))
    actions = [WebhookItem.enabled.set(False), WebhookItem.disabled_at.set(at)]
    try:
        unit.commit(unit.update(WEBHOOK, item, actions, WebhookItem.enabled == True), *also)  # noqa: E712
    except unit.Refused as refused:
        if refused.failed(WEBHOOK):
            return False
        raise
    return True


def _update(webhook: Webhook, actions: list[Any], condition: Any) -> bool:
    item = WebhookItem(*WebhookItem.key(webhook.user_id, webhook.id))
    try:
        item.update(actions=actions, condition=WebhookItem.pk.exists() & condition)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


# ------------------------------------------------------------------------------------------- events (the outbox)


def put_event(event: WebhookEvent) -> unit.Write:
    """The write that records the event in the unit of the change it tells of, listed for the sweeper until
    delete_event."""
    item = WebhookEventItem(
        *WebhookEventItem.key(event.user_id, event.id),
        **outbox.listed(WebhookEventItem.LISTING, event.created_at, event.id, EVENT_KEPT_SECONDS),
        **event.model_dump(),
    )
    return unit.put(f"webhook_event_{event.id}", item)


def delete_event(event: WebhookEvent) -> None:
    WebhookEventItem(*WebhookEventItem.key(event.user_id, event.id)).delete()


def pending_events(created_before: datetime, limit: int) -> list[WebhookEvent]:
    """The events not handed to the queue yet, written before `created_before`, oldest first, at most `limit`."""
    items = outbox.pending(WebhookEventItem, WebhookEventItem.LISTING, created_before, limit)
    return [WebhookEvent.model_validate(item.stored_values()) for item in items]


# ------------------------------------------------------------------------------------------- the delivery log


def record_delivery(user_id: str, delivery: Delivery) -> None:
    created = delivery.created_at.isoformat()
    WebhookDeliveryItem(
        *WebhookDeliveryItem.key(user_id, delivery.webhook_id, created, delivery.event_id, delivery.attempt),
        expires_at=int(delivery.created_at.timestamp()) + DELIVERY_LOG_DAYS * 86_400,
        **delivery.model_dump(exclude_none=True),
    ).save()


def list_deliveries(user_id: str, webhook_id: str, limit: int, offset: int) -> list[Delivery]:
    """The endpoint's attempts, newest first."""
    wanted = offset + limit
    items = WebhookDeliveryItem.query(
        user_pk(user_id),
        WebhookDeliveryItem.sk.startswith(WebhookDeliveryItem.prefix(webhook_id)),
        scan_index_forward=False,
        limit=wanted,
        page_size=min(wanted, 1000),
    )
    return [
        Delivery.model_validate(item.stored_values())
        for item in islice(items, offset, wanted)
        if isinstance(item, WebhookDeliveryItem)
    ]

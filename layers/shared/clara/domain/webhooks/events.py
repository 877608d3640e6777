"""Webhook events, recorded with what they tell of and handed to the delivery queue.

A task's end (COMPLETED by the worker; FAILED by the worker, a backstop, the dead-letter settlement or a cancel)
writes its event in the same transaction as the task's final state, for the user's endpoints that want it then:
a crash between the two never loses the event, and a task that ends once has one event. After the commit the
event is handed to the delivery queue (one message per endpoint, one SendMessageBatch) and deleted; what a crash
or a queue failure left, the sweeper hands over a minute later (dispatch_pending). At least once: a crash between
the send and the delete sends it again, under the same event id (the `webhook-id` receivers drop duplicates by).

Users with no endpoint pay one Query per task end, and nothing is written.
"""

import json
from datetime import datetime
from typing import Any

from clara.domain.outbox import Outbox
from clara.domain.webhooks import ports
from clara.formats import json_text, new_id, utc_now
from clara.records.analysis import Task
from clara.records.webhooks import EventType, Webhook, WebhookEvent
from clara.store import unit
from clara.store import webhooks as store


def event(user_id: str, event_type: EventType, data: Any, webhook_ids: list[str], at: datetime) -> WebhookEvent:
    """The event of `event_type` for the endpoints `webhook_ids`; its body as Standard Webhooks has it."""
    body = json_text({"type": event_type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data})
    return WebhookEvent(
        id=new_id("msg"),
        user_id=user_id,
        type=event_type,
        body=body,
        webhook_ids=webhook_ids,
        created_at=at,
    )


def task_ended(task: Task, refund: dict[str, Any] | None = None) -> tuple[WebhookEvent | None, tuple[unit.Write, ...]]:
    """The event of the task's end (`task` as it will be stored: COMPLETED or FAILED, with the `refund` of a failure
    beside the task's view) and the write recording it, to join the unit that ends the task; (None, ()) when no
    endpoint of the user wants it."""
    event_type: EventType = "task.completed" if task.status == "COMPLETED" else "task.failed"
    webhook_ids = [webhook.id for webhook in store.list_webhooks(task.user_id) if webhook.wants(event_type)]
    if not webhook_ids:
        return None, ()
    from clara.domain.analysis.tasks import task_view  # the result's schema: only when an endpoint will receive it
    from clara.formats import json_ready

    data = json_ready(task_view(task))
    if refund is not None:
        data["refund"] = refund
    made = event(task.user_id, event_type, data, webhook_ids, task.updated_at)
    return made, (store.put_event(made),)


def _send(each: WebhookEvent) -> None:
    if not each.webhook_ids:
        return
    messages = [
        json.dumps(
            {
                "user_id": each.user_id,
                "webhook_id": webhook_id,
                "event_id": each.id,
                "type": each.type,
                "body": each.body,
            }
        )
        for webhook_id in each.webhook_ids
    ]
    ports.event_queue().send_batch(messages)


_OUTBOX = Outbox("webhook event", _send, store.delete_event, store.pending_events, "WebhookEventsQueued")


def dispatch(*events: WebhookEvent | None) -> list[str]:
    """Hand each recorded event to the delivery queue and delete it: the ids handed over. One the queue refused
    stays for the sweeper, as does one whose delete failed (it will be sent again)."""
    return _OUTBOX.hand_over(*events)


def dispatch_pending(now: datetime | None = None) -> list[str]:
    """Hand over the events their writers left (a crash, a queue failure): the ids handed over this run."""
    return _OUTBOX.hand_over_pending(now or utc_now())


def record_and_dispatch(webhook: Webhook, event_type: EventType, data: Any) -> WebhookEvent:
    """An event for one endpoint alone, whatever types it wants (webhook.test), recorded then handed over."""
    made = event(webhook.user_id, event_type, data, [webhook.id], utc_now())
    unit.commit(store.put_event(made))
    dispatch(made)
    return made

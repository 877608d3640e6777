"""Delivering one event to one endpoint (WebhookDeliveryFunction, on the webhook queue): each message is an event
for an endpoint, tried once per receive.

* The endpoint is read as it is now: a deleted one gets nothing, a disabled one is logged as failed.
* The POST goes through the safe fetcher's address policy (the receivers port: clara.integrations.web.receivers): the
  address actually dialled is checked, no redirect is followed, 10 s in all, and at most 64 KB of the answer are read
  and dropped. A 2xx is delivered; anything else is retried.
* Signed as Standard Webhooks says (the `standardwebhooks` package): webhook-id is the event id, the same on every
  attempt; webhook-timestamp is the attempt's; webhook-signature carries a `v1,` signature per live secret (two for
  24 hours after a rotation).
* A failed attempt hides its message for the next delay of RETRY_SCHEDULE_SECONDS (ChangeMessageVisibility; under
  `make run` the local runtime brings it back within seconds); after MAX_ATTEMPTS the event is logged as failed and
  the message deleted. The queue's maxReceiveCount (10) is above MAX_ATTEMPTS, so only a message that crashes the
  function again and again is dead-lettered.
* An endpoint whose deliveries have all failed for DISABLE_AFTER_DAYS is disabled, and its owner emailed (a notice
  in the same transaction, clara.domain.accounts.notices).
"""

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clara.domain.accounts import notices
from clara.domain.sealed import unseal
from clara.domain.webhooks import ports
from clara.domain.webhooks.ports import ReceiverUnreachable
from clara.observability import count, logger
from clara.records.webhooks import DISABLE_AFTER_DAYS, SEALED_AS, Delivery, EventType, Outcome, Webhook
from clara.store import webhooks as store
from clara.store.users import get_user

# Seconds before each retry: about a day and four hours from the first attempt to the last.
RETRY_SCHEDULE_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS) + 1
USER_AGENT = "Clara-Webhooks/1.0"


class DeliveryFailed(Exception):
    """The attempt failed and the event will be tried again: the message is a batch item failure."""


@dataclass(frozen=True)
class Message:
    user_id: str
    webhook_id: str
    event_id: str
    type: EventType
    body: str

    @classmethod
    def parse(cls, text: str) -> "Message | None":
        try:
            values = json.loads(text)
            return cls(**{name: str(values[name]) for name in cls.__dataclass_fields__})  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError):
            return None


def deliver_message(text: str, attempt: int, receipt_handle: str | None = None) -> Outcome | None:
    """Try the message's event at its endpoint (`attempt`: the message's receive count): the outcome logged, None
    when there is nothing to deliver to. Raises DeliveryFailed when it will be retried."""
    message = Message.parse(text)
    if message is None:
        logger.error("Dropping a malformed webhook message")
        return None
    webhook = store.get_webhook(message.user_id, message.webhook_id)
    if webhook is None:
        return None  # deleted since the event: nothing to deliver to
    now = time.time()
    started = time.monotonic()
    status, error = _post(webhook, message, now) if webhook.enabled else (None, "The endpoint is disabled.")
    duration_ms = round((time.monotonic() - started) * 1000)
    delivered = status is not None and 200 <= status < 300
    if delivered:
        outcome: Outcome = "delivered"
        if webhook.failing_since is not None:
            store.clear_failing(webhook)
    elif not webhook.enabled:
        outcome = "failed"
    else:
        disabled = _disabled_for_failing(webhook, now)  # every failure counts, the last attempt's too
        outcome = "failed" if disabled or attempt >= MAX_ATTEMPTS else "retrying"
    delay = RETRY_SCHEDULE_SECONDS[attempt - 1] if outcome == "retrying" else None
    store.record_delivery(
        message.user_id,
        Delivery(
            event_id=message.event_id,
            webhook_id=webhook.id,
            type=message.type,
            attempt=attempt,
            outcome=outcome,
            status_code=status,
            error=error,
            duration_ms=duration_ms,
            created_at=datetime.fromtimestamp(now, UTC),
            next_attempt_at=datetime.fromtimestamp(now, UTC) + timedelta(seconds=delay) if delay else None,
        ),
    )
    count({"delivered": "WebhooksDelivered", "retrying": "WebhookRetries", "failed": "WebhooksGivenUp"}[outcome])
    if delay is not None:
        if receipt_handle:
            _retry_later(receipt_handle, delay)
        raise DeliveryFailed(message.event_id)
    return outcome


def signature_header(webhook: Webhook, event_id: str, at: datetime, body: str) -> str:
    """A `v1,<base64 HMAC>` per live secret: the current one, and the previous one within 24 h of a rotation."""
    from standardwebhooks.webhooks import Webhook as Signer

    sealed = [webhook.secret_ciphertext]
    if webhook.previous_secret_ciphertext and (webhook.previous_secret_until or 0) > at.timestamp():
        sealed.append(webhook.previous_secret_ciphertext)
    return " ".join(Signer(unseal(SEALED_AS, webhook.user_id, each)).sign(event_id, at, body) for each in sealed)


def _post(webhook: Webhook, message: Message, now: float) -> tuple[int | None, str | None]:
    """The answer's status, or the reason there was none (never the receiver's words: its answer is dropped)."""
    at = datetime.fromtimestamp(int(now), UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message.event_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signature_header(webhook, message.event_id, at, message.body),
    }
    try:
        status = ports.receivers().post(webhook.url, message.body.encode(), headers)
    except ReceiverUnreachable as error:
        return None, str(error)
    return status, None


def _disabled_for_failing(webhook: Webhook, now: float) -> bool:
    """Remember the first failure since the last delivery; once they have lasted DISABLE_AFTER_DAYS, disable the
    endpoint and tell its owner: whether it is disabled now."""
    if webhook.failing_since is None:
        store.mark_failing(webhook, now)
        return False
    if now - webhook.failing_since < DISABLE_AFTER_DAYS * 86_400:
        return False
    user = get_user(webhook.user_id)
    at = datetime.fromtimestamp(now, UTC)
    told = [notices.notice(user, "webhook_disabled", None, at, webhook.url)] if user else []
    if not store.disable(webhook, now, *(write for _, write in told)):
        return True  # another attempt disabled it a moment ago
    logger.warning("Webhook endpoint disabled after days of failed deliveries", extra={"webhook_id": webhook.id})
    count("WebhooksDisabled")
    notices.deliver(*(made for made, _ in told))
    return True


def _retry_later(receipt_handle: str, delay: int) -> None:
    """Hide the message until its next attempt. Best effort: without it, it comes back after the queue's
    visibility timeout, sooner than planned."""
    try:
        ports.event_queue().retry_after(receipt_handle, delay)
    except Exception:
        logger.warning("Could not delay the webhook's next attempt", extra={"delay": delay}, exc_info=True)

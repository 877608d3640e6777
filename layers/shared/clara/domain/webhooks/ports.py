"""What webhooks need from outside, plugged in where a function is assembled (clara.domain.ports): the queue that
carries each event to each endpoint (SQS, clara.integrations.sqs_queues) and the receivers themselves, reached under
the safe fetcher's address policy (clara.integrations.web.receivers)."""

from typing import Protocol

from clara.domain.ports import Port


class ReceiverUnreachable(Exception):
    """No answer came from the receiver: refused by the address policy, a timeout, a connection error. The message
    says why, never what the receiver said."""


class EventQueue(Protocol):
    def send_batch(self, bodies: list[str]) -> None:
        """Up to 10 messages at once; raises unless every one was queued."""
        ...

    def retry_after(self, receipt_handle: str, seconds: int) -> None: ...


class Receivers(Protocol):
    def check(self, url: str) -> None:
        """WebhookUrlRefused (400) unless deliveries may go to `url` now."""
        ...

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST `body` to `url`, checked again on the address actually dialled, no redirect followed: the answer's
        status (its body read up to a bound and dropped); ReceiverUnreachable when there was no answer."""
        ...


event_queue: Port[EventQueue] = Port("webhook event queue")
receivers: Port[Receivers] = Port("webhook receivers")

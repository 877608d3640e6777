"""Clara's SQS queues: the analysis tasks' (clara.domain.analysis.ports.TaskQueue) and the webhook events'
(clara.domain.webhooks.ports.EventQueue)."""

from typing import Any

from clara.aws import aws_client
from clara.settings import get_settings


class _Queue:
    def __init__(self, url: str) -> None:
        self.url = url

    @staticmethod
    def _sqs() -> Any:
        return aws_client("sqs")

    def retry_after(self, receipt_handle: str, seconds: int) -> None:
        """Hide a received message for `seconds`: its next receive comes then, not after the whole visibility
        timeout."""
        self._sqs().change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


class TaskQueue(_Queue):
    def __init__(self) -> None:
        super().__init__(get_settings().analysis_queue_url)

    def send(self, body: str) -> None:
        self._sqs().send_message(QueueUrl=self.url, MessageBody=body)


class WebhookEventQueue(_Queue):
    def __init__(self) -> None:
        super().__init__(get_settings().webhook_queue_url)

    def send_batch(self, bodies: list[str]) -> None:
        """Up to 10 messages in one SendMessageBatch; raises unless every one was queued."""
        entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)]
        answer = self._sqs().send_message_batch(QueueUrl=self.url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} of {len(entries)} messages were not queued")

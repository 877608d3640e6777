"""The SQS event source: one poller per (function, queue) that batches messages into the function, as Lambda does.

Redrive needs no code here: moto's SQS moves a message to the dead-letter queue itself when a receive would
exceed maxReceiveCount (verified with moto 5.2.5 in server mode), like SQS does.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from local_runtime.events import sqs_event
from local_runtime.functions import FunctionRegistry
from local_runtime.template import SqsSource

log = logging.getLogger("local_runtime")


def failed_message_ids(result: Any, message_ids: list[str], report_batch_item_failures: bool) -> set[str]:
    """Which messages of a successful invocation failed: none, or those of `batchItemFailures`.

    As Lambda does, a malformed response, or an item identifier that is empty or not in the batch, fails the
    whole batch.
    """
    if not report_batch_item_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    if not isinstance(failures, list):
        return set(message_ids)
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class QueuePoller(threading.Thread):
    def __init__(
        self,
        sqs: Any,
        functions: FunctionRegistry,
        function_id: str,
        source: SqsSource,
        queue_url: str,
        queue_arn: str,
        stop: threading.Event,
    ):
        super().__init__(name=f"sqs-{function_id}-{source.queue_id}", daemon=True)
        self.sqs = sqs
        self.functions = functions
        self.function_id = function_id
        self.source = source
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.stop_event = stop
        # Failed messages come back after a few seconds instead of the queue's (long) visibility timeout.
        self.retry_seconds = int(os.environ.get("LOCAL_SQS_RETRY_SECONDS", "2"))

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("SQS poller %s failed; retrying", self.name)
                self.stop_event.wait(1)

    def poll_once(self) -> None:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.source.batch_size, 10),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages or self.stop_event.is_set():
            return  # a batch received while stopping comes back after its visibility timeout
        message_ids = [message["MessageId"] for message in messages]
        try:
            result = self.functions.invoke(self.function_id, sqs_event(messages, queue_arn=self.queue_arn))
            failed = failed_message_ids(result, message_ids, self.source.report_batch_item_failures)
        except Exception:
            log.exception("%s failed on a batch of %d from %s", self.function_id, len(messages), self.source.queue_id)
            failed = set(message_ids)
        log.info(
            "SQS %s -> %s: %d handled, %d failed",
            self.source.queue_id,
            self.function_id,
            len(messages) - len(failed),
            len(failed),
        )
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_seconds,
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


def start_pollers(
    sqs: Any,
    functions: FunctionRegistry,
    physical_ids: dict[str, str],
    queue_arns: dict[str, str],
    stop: threading.Event,
) -> list[QueuePoller]:
    """One poller per SQS event of every function; they run until `stop` is set."""
    pollers = [
        QueuePoller(
            sqs, functions, function_id, source, physical_ids[source.queue_id], queue_arns[source.queue_id], stop
        )
        for function_id, function in functions.template.functions.items()
        for source in function.sqs_sources
    ]
    for poller in pollers:
        poller.start()
    return pollers

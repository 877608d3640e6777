"""The queue consumers' side: an SQS batch handled one message at a time with Powertools' partial batch response.

A message whose handling raises is a batch item failure, so only it comes back (after its visibility timeout or
the delay its handler set); a batch whose every message failed is still an answer (batchItemFailures), not a
Lambda error.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from clara.observability import logger, metrics, traced, tracer

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
# Handles one message, Powertools' SQSRecord (not imported here: the layer's top modules stay off the data classes,
# tests/unit/test_rooms.py).
MessageHandler = Callable[[Any], None]


def paced(handle: Callable[[str, int, str], object]) -> MessageHandler:
    """The record's handler for `handle(body, receive_count, receipt_handle)`: a consumer that paces its own retries
    reads how many times SQS has delivered the message (the first is 1) and changes its visibility by the receipt
    handle (the analysis worker, the webhook delivery)."""

    @wraps(handle)  # traced under the consumer's own name
    def handle_record(record: Any) -> None:
        handle(record.body, int(record.attributes.approximate_receive_count), record.receipt_handle)

    return handle_record


def sqs_batch(handle: MessageHandler) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """The batch's answer, each record handled by `handle` (traced)."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    record_handler = tracer.capture_method(capture_response=False)(handle)

    def process(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return process


def sqs_lambda_handler(handle: MessageHandler) -> LambdaHandler:
    """The Lambda entry point of a function whose every event is an SQS batch: sqs_batch, with the Lambda context in
    every log line, traces and metrics."""
    process = sqs_batch(handle)

    @logger.inject_lambda_context(clear_state=True)
    @traced
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return dict(process(event, context))

    return lambda_handler

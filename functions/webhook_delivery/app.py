"""Webhook delivery: SQS batches of (event, endpoint) messages; each is one signed POST to the endpoint
(clara.domain.webhooks.delivery). A failed attempt is a batch item failure whose message comes back after the next
delay of the retry schedule; the last failure is logged and the message let go.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from clara.domain.accounts import ports as accounts_ports
from clara.domain.webhooks import ports as webhooks_ports
from clara.domain.webhooks.delivery import deliver_message
from clara.integrations.mail import Mailer
from clara.integrations.sqs_queues import WebhookEventQueue
from clara.integrations.web.receivers import WebReceivers
from clara.observability import logger, metrics, tracer

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
accounts_ports.mail.plug(Mailer)
webhooks_ports.event_queue.plug(WebhookEventQueue)
webhooks_ports.receivers.plug(WebReceivers)

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@tracer.capture_method
def deliver(record: SQSRecord) -> None:
    deliver_message(record.body, int(record.attributes.approximate_receive_count), record.receipt_handle)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)

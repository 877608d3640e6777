"""The backstops (clara.domain.analysis.backstops): every minute, a sweep of the open tasks (EventBridge schedule), the
security notices a request left unsent (clara.domain.accounts.notices) and the webhook events their writers left
unqueued (clara.domain.webhooks.events); and the dead-letter queue's messages, each settling its task (failed and
refunded once).

A dead-lettered task that a run holds right now is a batch item failure: it comes back after the dead-letter
queue's visibility timeout, when that run has ended.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from clara.batch import sqs_batch
from clara.domain.accounts import ports as accounts_ports
from clara.domain.accounts.notices import deliver_pending
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis.backstops import settle_dead_letter, sweep
from clara.domain.webhooks import ports as webhooks_ports
from clara.domain.webhooks.events import dispatch_pending
from clara.integrations.mail import Mailer
from clara.integrations.s3_attachments import S3Attachments
from clara.integrations.sqs_queues import TaskQueue, WebhookEventQueue
from clara.observability import logger, metrics, traced

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
accounts_ports.mail.plug(Mailer)
analysis_ports.attachments.plug(S3Attachments)
analysis_ports.task_queue.plug(TaskQueue)
webhooks_ports.event_queue.plug(WebhookEventQueue)


def settle(record: SQSRecord) -> None:
    settle_dead_letter(record.body)


settle_batch = sqs_batch(settle)


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:  # the dead-letter queue
        return settle_batch(event, context)
    # The schedule. The sweep first: the tasks it settles record their events, which it hands over itself.
    return {**sweep().as_dict(), "notices_sent": deliver_pending(), "webhook_events_queued": dispatch_pending()}

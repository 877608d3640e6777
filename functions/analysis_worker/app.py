"""The analysis worker: SQS batches of task ids; each message runs its task once (clara.domain.analysis.worker).

A message whose task fails transiently is reported as a batch item failure, so only it comes back, after a delay
that doubles per receive (30 s, 60 s, ... by ChangeMessageVisibility); after the queue's last receive the task is
failed and refunded instead, and the message is not redriven for nothing.
"""

from clara.batch import paced, sqs_lambda_handler
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis.worker import process_message
from clara.domain.webhooks import ports as webhooks_ports
from clara.integrations.analyzers import analyzer_for_settings
from clara.integrations.s3_attachments import S3Attachments
from clara.integrations.sqs_queues import TaskQueue, WebhookEventQueue

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
analysis_ports.analyzer.plug(analyzer_for_settings)
analysis_ports.attachments.plug(S3Attachments)
analysis_ports.task_queue.plug(TaskQueue)
webhooks_ports.event_queue.plug(WebhookEventQueue)

lambda_handler = sqs_lambda_handler(paced(process_message))

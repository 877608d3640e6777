"""Webhook delivery: SQS batches of (event, endpoint) messages; each is one signed POST to the endpoint
(clara.domain.webhooks.delivery). A failed attempt is a batch item failure whose message comes back after the next
delay of the retry schedule; the last failure is logged and the message let go.
"""

from clara.batch import paced, sqs_lambda_handler
from clara.domain.accounts import ports as accounts_ports
from clara.domain.webhooks import ports as webhooks_ports
from clara.domain.webhooks.delivery import deliver_message
from clara.integrations.mail import Mailer
from clara.integrations.sqs_queues import WebhookEventQueue
from clara.integrations.web.receivers import WebReceivers

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
accounts_ports.mail.plug(Mailer)
webhooks_ports.event_queue.plug(WebhookEventQueue)
webhooks_ports.receivers.plug(WebReceivers)

lambda_handler = sqs_lambda_handler(paced(deliver_message))

"""The Stripe webhook, behind a Lambda Function URL (payload 2.0), not API Gateway: no resolver, but the same
errors and envelope as every route (clara.contract.errors, clara.http.envelope).

400 for anything that is not a genuine, fresh Stripe event; 200 once an event is credited, was credited before,
is of no interest, or is signed but malformed (purchases.settle logs and counts it; a 2xx, so that Stripe does
not deliver it again for days); 503 with Retry-After when AWS is throttling or unavailable
(Stripe delivers the event again). Any other failure raises: Lambda answers 5xx and Stripe
delivers the event again later, which the ledger makes harmless.
"""

import base64
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from clara.aws import unexpected_error
from clara.contract.errors import MethodNotAllowed, ServiceBusy, StripeEventRefused
from clara.domain.credits import ports as credits_ports
from clara.domain.credits import purchases
from clara.domain.credits.ports import InvalidWebhook
from clara.http.envelope import failure_result, success_result
from clara.integrations.stripe_payments import StripePayments
from clara.observability import logger, metrics, traced

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
credits_ports.payments.plug(StripePayments)


def _raw_body(event: dict[str, Any]) -> bytes:
    """The exact bytes Stripe signed: Function URLs pass a text body as is and anything else base64-encoded."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("requestContext", {}).get("http", {}).get("method") != "POST":
        return failure_result(MethodNotAllowed())
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        stripe_event = purchases.verified_event(_raw_body(event), headers.get("stripe-signature"))
        logger.append_keys(stripe_event_id=stripe_event.get("id"), stripe_event_type=stripe_event.get("type"))
        outcome = purchases.settle(stripe_event)
    except InvalidWebhook as error:
        logger.warning("Rejected a webhook request", extra={"reason": str(error)})
        return failure_result(StripeEventRefused(str(error)))
    except Exception as error:
        busy = unexpected_error(error)
        if not isinstance(busy, ServiceBusy):
            raise
        logger.warning("AWS is busy; Stripe will deliver the event again", exc_info=error)
        return failure_result(busy)
    if outcome == "credited":
        metrics.add_metric(name="CheckoutSessionsCredited", unit=MetricUnit.Count, value=1)
    return success_result({"outcome": outcome}, "Webhook received.")

"""Webhook receivers (clara.domain.webhooks.ports.Receivers): where webhook events may go, by the safe fetcher's
address policy (clara.integrations.web), checked when an endpoint is created and again at every delivery on the
address actually dialled. https only in production; loopback allowed in development (`make run`, so a developer can
point a webhook at a local receiver) and in tests (FETCH_ALLOW_LOOPBACK); private, link-local, metadata and every
other non-public form never.
"""

from clara.contract.errors import WebhookUrlRefused
from clara.domain.webhooks.ports import ReceiverUnreachable
from clara.integrations.web.client import SafeClient
from clara.integrations.web.errors import FetchError
from clara.settings import get_settings

DELIVERY_TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024


def sender() -> SafeClient:
    """The fetcher's policy for a receiver's address: no redirect followed, DELIVERY_TIMEOUT_SECONDS in all."""
    settings = get_settings()
    return SafeClient(
        max_bytes=MAX_ANSWER_BYTES,
        timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
        max_redirects=0,
        allow_loopback=settings.environment == "development" or settings.fetch_allow_loopback,
    )


class WebReceivers:
    def check(self, url: str) -> None:
        """400 unless the URL is one deliveries may go to now."""
        try:
            sender().check(url, https_only=get_settings().environment == "production")
        except FetchError as error:
            raise WebhookUrlRefused(str(error)) from error

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            return sender().post(url, body, headers, max_answer_bytes=MAX_ANSWER_BYTES)
        except FetchError as error:
            raise ReceiverUnreachable(str(error)) from error

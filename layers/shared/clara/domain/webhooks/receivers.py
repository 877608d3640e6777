"""Where webhook events may go: the safe fetcher's address policy (clara.integrations.web) applied to receivers,
when an endpoint is created and again at every delivery on the address actually dialled; and the key the signing
secrets are sealed under. https only in production; loopback allowed in development (`make run`, so a developer can
point a webhook at a local receiver) and in tests (FETCH_ALLOW_LOOPBACK); private, link-local, metadata and every
other non-public form never.
"""

from clara.contract.errors import WebhookUrlRefused
from clara.integrations.web.client import SafeClient
from clara.integrations.web.errors import FetchError
from clara.settings import get_settings

DELIVERY_TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024
# The HKDF info of the signing secrets' key (clara.domain.sealed).
SEALED_AS = b"clara webhook secret v1"


def sender() -> SafeClient:
    """The fetcher's policy for a receiver's address: no redirect followed, DELIVERY_TIMEOUT_SECONDS in all."""
    settings = get_settings()
    return SafeClient(
        max_bytes=MAX_ANSWER_BYTES,
        timeout_seconds=DELIVERY_TIMEOUT_SECONDS,
        max_redirects=0,
        allow_loopback=settings.environment == "development" or settings.fetch_allow_loopback,
    )


def check_url(url: str) -> None:
    """400 unless the URL is one deliveries may go to now."""
    try:
        sender().check(url, https_only=get_settings().environment == "production")
    except FetchError as error:
        raise WebhookUrlRefused(str(error)) from error

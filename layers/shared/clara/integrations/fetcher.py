"""The safe fetcher: reads the links found in content being fact-checked, without becoming a way into our network.

The rules are clara.integrations.web's: links finds the links, addresses and client request them under the address
policy and one deadline, text reads what a page says. Here they meet: SafeFetcher.fetch() reads one link into a
FetchedPage, read_links() every link of a text (never raising: each link has an outcome).
"""

import http.client
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from clara.integrations.deadline import Deadline
from clara.integrations.web.addresses import Target
from clara.integrations.web.client import SafeClient
from clara.integrations.web.errors import FetchError, FetchFailed, FetchRefused
from clara.integrations.web.links import find_links
from clara.integrations.web.text import ACCEPT, MEDIA_LABELS, MediaType, declared_type, one_line, page_text, sniff
from clara.observability import logger
from clara.settings import get_settings

MAX_TEXT_CHARACTERS = 20_000
MAX_TITLE_CHARACTERS = 300


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    title: str  # <title> or first heading for HTML; the PDF's title or file name; else the host name
    text: str  # readable text, whitespace-normalised, at most MAX_TEXT_CHARACTERS characters
    media_type: MediaType


@dataclass(frozen=True)
class LinkOutcome:
    url: str  # the link as found in the content
    page: FetchedPage | None  # set when read
    status: Literal["read", "refused", "failed"]
    notes: str  # "Read: 1,234 words of HTML." or the FetchError's note


class SafeFetcher(SafeClient):
    """Reads one link at a time under the rules of clara.integrations.web; see fetch()."""

    def fetch(self, url: str) -> FetchedPage:
        """The page behind the link, after at most max_redirects redirects; raises FetchRefused or FetchFailed."""
        return self.get(url, self._read_page, accept=ACCEPT)

    def _read_page(self, target: Target, response: http.client.HTTPResponse, deadline: Deadline) -> FetchedPage:
        if response.status >= 300:
            raise FetchFailed(f"The site answered {response.status}.")
        declared = declared_type(response.getheader("Content-Type"))
        body = self.read_body(response, deadline)
        media_type = declared or sniff(body)
        title, text = page_text(body, media_type, response.headers.get_content_charset())
        if media_type == "application/pdf":
            title = title or target.file_name
        return FetchedPage(
            url=target.url,
            title=one_line(title or target.host)[:MAX_TITLE_CHARACTERS],
            text=text[:MAX_TEXT_CHARACTERS].rstrip(),
            media_type=media_type,
        )


# ------------------------------------------------------------------------------------------- entry points


def fetcher_for_settings() -> SafeFetcher:
    settings = get_settings()
    return SafeFetcher(
        max_bytes=settings.fetch_max_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
        max_redirects=settings.fetch_max_redirects,
        allow_loopback=settings.fetch_allow_loopback,
    )


def read_links(text: str, fetcher: SafeFetcher | None = None, limit: int | None = None) -> list[LinkOutcome]:
    """Read the first `limit` links of the text (settings.fetch_max_urls by default); report the rest as not read.

    Never raises for a bad link: a refusal, a failure or an unexpected error is an outcome like a success.
    """
    links = find_links(text)
    if not links:
        return []
    if limit is None:
        limit = get_settings().fetch_max_urls
    fetcher = fetcher or fetcher_for_settings()
    over_limit = f"Not read: at most {limit} {'link is' if limit == 1 else 'links are'} read per task."
    return [
        _read_link(fetcher, link) if index < limit else LinkOutcome(link, None, "refused", over_limit)
        for index, link in enumerate(links)
    ]


def _read_link(fetcher: SafeFetcher, link: str) -> LinkOutcome:
    try:
        page = fetcher.fetch(link)
    except FetchRefused as error:
        return LinkOutcome(link, None, "refused", str(error))
    except FetchError as error:
        return LinkOutcome(link, None, "failed", str(error))
    except Exception as error:
        # The type and host only: the message of an unexpected error may quote the page or the link's query.
        logger.warning(
            "Reading a link failed unexpectedly", extra={"error_type": type(error).__name__, "host": _host(link)}
        )
        return LinkOutcome(link, None, "failed", "The link could not be read.")
    words = len(page.text.split())
    return LinkOutcome(link, page, "read", f"Read: {words:,} words of {MEDIA_LABELS[page.media_type]}.")


def _host(link: str) -> str | None:
    try:
        return urlsplit(link).hostname
    except ValueError:
        return None

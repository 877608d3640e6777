"""Writes every email sent through the emulated SES as an .eml file, so a developer can open what users would get.

moto keeps sent mail in its backend, visible at `GET /moto-api/data.json` under "ses": "Message" for send_email
(SES v1 and v2; only one body is kept, the HTML one when both were given) and "RawMessage" for raw mail.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger("local_runtime")

_HTML_TAG = re.compile(r"</?[a-zA-Z][\w-]*(\s[^>]*)?/?>")


class _TextExtractor(HTMLParser):
    """The text of the HTML, each link followed by its address in parentheses (a text part without the href of
    "activate your account here" would lose the link itself)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, index of the link's first part) of each open <a>

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            if href and "".join(self.parts[start:]).strip() != href:
                self.parts.append(f" ({href})")


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    lines = (line.strip() for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def render_message(message: dict[str, Any], sent_at: datetime) -> bytes:
    """moto's record of a send_email as RFC 5322: text and HTML alternatives when the body is HTML."""
    email = EmailMessage()
    destinations = message.get("destinations") or {}
    email["From"] = message.get("source", "")
    for header, key in (("To", "ToAddresses"), ("Cc", "CcAddresses"), ("Bcc", "BccAddresses")):
        if destinations.get(key):
            email[header] = ", ".join(destinations[key])
    email["Subject"] = message.get("subject") or ""
    email["Date"] = format_datetime(sent_at)
    email["Message-ID"] = make_msgid(idstring=message.get("id"), domain="local.clara")
    body = message.get("body") or ""
    if _HTML_TAG.search(body):
        # moto dropped the text part; a text rendering of the HTML stands in for it.
        email.set_content(html_to_text(body))
        email.add_alternative(body, subtype="html")
    else:
        email.set_content(body)
    return email.as_bytes()


def render_raw_message(message: dict[str, Any]) -> bytes:
    raw = message.get("raw_data") or ""
    return raw.encode("utf-8", errors="surrogateescape") if isinstance(raw, str) else bytes(raw)


class MailboxPoller(threading.Thread):
    def __init__(self, moto_url: str, mailbox_dir: Path, stop: threading.Event, interval: float = 0.5):
        super().__init__(name="mailbox", daemon=True)
        self.moto_url = moto_url.rstrip("/")
        self.mailbox_dir = mailbox_dir
        self.stop_event = stop
        self.interval = interval
        self.seen: set[str] = set()

    def run(self) -> None:
        self.mailbox_dir.mkdir(parents=True, exist_ok=True)
        while not self.stop_event.wait(self.interval):
            try:
                self.collect()
            except Exception:
                log.exception("mailbox: cannot read sent mail from moto")

    def collect(self) -> list[Path]:
        """Write each email not seen before; return the new files."""
        response = requests.get(f"{self.moto_url}/moto-api/data.json", timeout=5)
        response.raise_for_status()
        ses = response.json().get("ses") or {}
        written = []
        for kind, render in (("Message", None), ("RawMessage", render_raw_message)):
            for message in ses.get(kind) or []:
                message_id = str(message.get("id"))
                if message_id in self.seen:
                    continue
                self.seen.add(message_id)
                now = datetime.now(UTC)
                content = render(message) if render else render_message(message, now)
                written.append(self._write(message_id, now, content))
        return written

    def _write(self, message_id: str, sent_at: datetime, content: bytes) -> Path:
        path = self.mailbox_dir / f"{sent_at:%Y%m%dT%H%M%S%fZ}-{message_id}.eml"
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(content)
        partial.replace(path)  # readers never see half a message
        log.info("mail: %s", path)
        return path

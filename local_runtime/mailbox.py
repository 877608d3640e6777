"""Writes every email sent through the emulated SES as an .eml file, so a developer can open what users would get.

The mailbox hears each email as moto's SES backend accepts it, in the process that embeds moto's server
(local_runtime/emulator.py): SESBackend's send_email (SES v1 and v2; moto keeps only one body, the HTML one when
both were given) and send_raw_email. It used to poll `GET /moto-api/data.json`, moto's whole state, which grows
with every request: after a few hundred requests a poll took tens of seconds and slowed every request with it.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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


Listener = Callable[[str, dict[str, Any]], None]  # (kind: "Message" or "RawMessage", moto's record of the email)
_listeners: list[Listener] = []
_install_lock = threading.Lock()


def listen_to_sent_mail(listener: Listener) -> Callable[[], None]:
    """Call `listener` with each email moto's SES accepts in this process from now on; returns the unsubscribe."""
    _install_hooks()
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def _install_hooks() -> None:
    """Wraps SESBackend's sends once per process; moto still keeps each message (the in-process tests read it)."""
    from moto.ses.models import SESBackend  # moto is slow to import: only when the mailbox runs

    with _install_lock:
        if getattr(SESBackend, "_clara_mailbox", False):
            return
        for name, kind in (("send_email", "Message"), ("send_raw_email", "RawMessage")):
            setattr(SESBackend, name, _announcing(getattr(SESBackend, name), kind))
        SESBackend._clara_mailbox = True  # type: ignore[attr-defined]


def _announcing(send: Callable[..., Any], kind: str) -> Callable[..., Any]:
    def announced(backend: Any, *args: Any, **kwargs: Any) -> Any:
        message = send(backend, *args, **kwargs)  # a rejected email raises here, and no one hears of it
        for listener in list(_listeners):
            listener(kind, dict(vars(message)))
        return message

    return announced


class Mailbox(threading.Thread):
    """Writes the emails moto's SES accepts to `mailbox_dir`, off the request's thread, as soon as they are sent."""

    def __init__(self, mailbox_dir: Path, stop: threading.Event):
        super().__init__(name="mailbox", daemon=True)
        self.mailbox_dir = mailbox_dir
        self.stop_event = stop
        self.sent: queue.Queue[tuple[str, dict[str, Any], datetime]] = queue.Queue()
        self._unsubscribe = listen_to_sent_mail(lambda kind, message: self.sent.put((kind, message, datetime.now(UTC))))

    def run(self) -> None:
        self.mailbox_dir.mkdir(parents=True, exist_ok=True)
        try:
            while not self.stop_event.is_set():
                try:
                    kind, message, sent_at = self.sent.get(timeout=0.5)  # the timeout only notices a stop
                except queue.Empty:
                    continue
                try:
                    content = render_raw_message(message) if kind == "RawMessage" else render_message(message, sent_at)
                    self._write(str(message.get("id")), sent_at, content)
                except Exception:
                    log.exception("mailbox: cannot write an email sent to %s", message.get("destinations"))
        finally:
            self._unsubscribe()

    def _write(self, message_id: str, sent_at: datetime, content: bytes) -> Path:
        path = self.mailbox_dir / f"{sent_at:%Y%m%dT%H%M%S%fZ}-{message_id}.eml"
        partial = path.with_suffix(".eml.part")
        partial.write_bytes(content)
        partial.replace(path)  # readers never see half a message
        log.info("mail: %s", path)
        return path

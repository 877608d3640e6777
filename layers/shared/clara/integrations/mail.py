"""The emails Clara sends (welcome, one-time codes, generated passwords, security notices), through Amazon SES.

Every email carries a plain-text and an HTML body; user-provided values are escaped in the HTML one.
Codes and passwords never reach the log: only the kind of email and SES's message id do.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from clara.aws import aws_client
from clara.domain.accounts.ports import SecurityChange
from clara.formats import http_date
from clara.observability import logger
from clara.settings import get_settings

# The subject line, and what the code is for, of each kind of one-time code.
OTP_PURPOSES: dict[str, tuple[str, str]] = {
    "ACTIVATION": ("Your Clara activation code", "activate your account"),
    "TWO_FACTOR_AUTH": ("Your Clara sign-in code", "finish signing in"),
    "CHANGE_PASSWORD": ("Your Clara password change code", "change your password"),
}


# Every change to how an account is secured is emailed to its owner: its subject and the sentence that says what
# changed.
SECURITY_CHANGES: dict[SecurityChange, tuple[str, str]] = {
    "authenticator_on": (
        "An authenticator app now protects your Clara account",
        "Two-factor authentication was turned on with an authenticator app: signing in now needs a code from "
        "that app (or one of its recovery codes).",
    ),
    "authenticator_removed": (
        "The authenticator app was removed from your Clara account",
        "The authenticator app and its recovery codes were removed: sign-in codes now come by email.",
    ),
    "2fa_on": (
        "Two-factor authentication is on for your Clara account",
        "Two-factor authentication was turned on: signing in now needs a code sent to this address.",
    ),
    "2fa_off": (
        "Two-factor authentication was turned off on your Clara account",
        "Two-factor authentication was turned off: signing in now needs only your password.",
    ),
    "2fa_off_by_support": (
        "Clara support turned two-factor authentication off on your account",
        "Clara support turned two-factor authentication off (any authenticator app and its recovery codes were "
        "removed): signing in now needs only your password.",
    ),
    "recovery_codes_regenerated": (
        "New recovery codes for your Clara account",
        "New recovery codes were generated for your authenticator app: the old ones no longer work.",
    ),
    "recovery_code_used": (
        "A recovery code of your Clara account was used",
        "One of your recovery codes was used in place of your authenticator app.",
    ),
    "password_changed": (
        "Your Clara password was changed",
        "Your password was changed: every other session was signed out and your API key was replaced.",
    ),
}
# A notice of something Clara did, not the owner: a webhook endpoint disabled after days of failed deliveries.

IF_NOT_YOU = (
    "If this was you, there is nothing to do. If it was not, someone else can act on your account: change your "
    "password at once (ask for a CHANGE_PASSWORD code), which signs out every other session and replaces your API "
    "key, then turn two-factor authentication back on. If you can no longer sign in, reply to this email: Clara "
    "support can turn two-factor authentication off for you."
)


# What a URL or a domain looks like inside a name: a scheme, "www.", or two words joined by a dot ("evil.example").
_LINK_LIKE = re.compile(r"://|www\.|[^\W_]{2,}\.[^\W_]{2,}", re.IGNORECASE)
MAX_GREETING_NAME = 50


def greeting_name(first_name: str | None) -> str:
    """The name to greet with, or "" when it could carry a link: names are user text, and an email from Clara must
    not present attacker text such as "Reset now at http://evil.example" as Clara's words (the schemas refuse such
    names; this also covers names stored before they did, and Google's)."""
    name = " ".join((first_name or "").split())
    if not name or len(name) > MAX_GREETING_NAME or _LINK_LIKE.search(name):
        return ""
    return name


def _hi(first_name: str) -> tuple[str, str]:
    """The greeting line as text and as HTML."""
    name = greeting_name(first_name)
    return (f"Hi {name}," if name else "Hi,"), (f"<p>Hi {escape(name)},</p>" if name else "<p>Hi,</p>")


def _ses_client() -> Any:
    return aws_client("ses")


@dataclass(frozen=True)
class _Email:
    subject: str
    text: str
    html: str


class Mailer:
    """Sends Clara's emails; an SES failure raises, and the caller decides whether that fails its request."""

    def __init__(self, client: Any = None) -> None:
        self._client = client or _ses_client()

    def send_welcome(self, to: str, first_name: str, code: str, activation_link: str) -> None:
        minutes = get_settings().otp_expiry_in_minutes
        hi_text, hi_html = _hi(first_name)
        self._send(
            to,
            "welcome",
            _Email(
                subject="Welcome to Clara",
                text=(
                    f"{hi_text}\n\nWelcome to Clara! Your activation code is {code}.\n"
                    f"You can also activate your account here: {activation_link}\n\n"
                    f"The code and the link expire in {minutes} minutes."
                ),
                html=(
                    f"{hi_html}<p>Welcome to Clara! Your activation code is "
                    f"<strong>{escape(code)}</strong>.</p>"
                    f'<p>You can also <a href="{escape(activation_link)}">activate your account here</a>.</p>'
                    f"<p>The code and the link expire in {minutes} minutes.</p>"
                ),
            ),
        )

    def send_otp(self, to: str, first_name: str, otp_type: str, code: str) -> None:
        if otp_type not in OTP_PURPOSES:
            raise ValueError(f"Unknown OTP type: {otp_type}")
        subject, purpose = OTP_PURPOSES[otp_type]
        minutes = get_settings().otp_expiry_in_minutes
        hi_text, hi_html = _hi(first_name)
        self._send(
            to,
            f"otp {otp_type}",
            _Email(
                subject=subject,
                text=(
                    f"{hi_text}\n\nUse the code {code} to {purpose}.\n"
                    f"It expires in {minutes} minutes. If you did not ask for it, you can ignore this email."
                ),
                html=(
                    f"{hi_html}<p>Use the code <strong>{escape(code)}</strong> to {purpose}.</p>"
                    f"<p>It expires in {minutes} minutes. If you did not ask for it, you can ignore this email.</p>"
                ),
            ),
        )

    def send_generated_password(self, to: str, first_name: str, password: str) -> None:
        hi_text, hi_html = _hi(first_name)
        self._send(
            to,
            "generated password",
            _Email(
                subject="Your Clara password",
                text=(
                    f"{hi_text}\n\nYou signed up to Clara with Google. You can also sign in with your email "
                    f"and this password:\n\n{password}\n\nWe recommend changing it after you first sign in."
                ),
                html=(
                    f"{hi_html}<p>You signed up to Clara with Google. You can also sign in "
                    f"with your email and this password:</p><p><code>{escape(password)}</code></p>"
                    "<p>We recommend changing it after you first sign in.</p>"
                ),
            ),
        )

    def send_webhook_disabled(self, to: str, first_name: str, url: str, days: int, at: datetime) -> None:
        """A webhook endpoint every delivery to which failed for `days` was disabled (clara.domain.webhooks)."""
        what = (
            f"Clara disabled your webhook endpoint {url}: every delivery to it has failed for {days} days. "
            "No more events are sent to it. Once it answers again, delete it and create it anew "
            "(POST /users/{user_id}/webhooks); its delivery log (GET .../deliveries) shows what failed."
        )
        hi_text, hi_html = _hi(first_name)
        when = http_date(at)
        self._send(
            to,
            "webhook disabled",
            _Email(
                subject="A Clara webhook endpoint was disabled",
                text=f"{hi_text}\n\n{what}\n\nWhen: {when}",
                html=f"{hi_html}<p>{escape(what)}</p><p>When: {escape(when)}</p>",
            ),
        )

    def send_security_notice(
        self, to: str, first_name: str, change: SecurityChange, at: datetime, source_ip: str | None
    ) -> None:
        """What changed, when, from which client address (None: by Clara support), and what to do if it was not
        the owner."""
        subject, what = SECURITY_CHANGES[change]
        when = http_date(at)
        by = f"From the address: {source_ip}" if source_ip else "By: Clara support"
        hi_text, hi_html = _hi(first_name)
        self._send(
            to,
            f"security {change}",
            _Email(
                subject=subject,
                text=f"{hi_text}\n\n{what}\n\nWhen: {when}\n{by}\n\n{IF_NOT_YOU}",
                html=(
                    f"{hi_html}<p>{escape(what)}</p><p>When: {escape(when)}<br>{escape(by)}</p>"
                    f"<p>{escape(IF_NOT_YOU)}</p>"
                ),
            ),
        )

    def _send(self, to: str, kind: str, email: _Email) -> None:
        response = self._client.send_email(
            Source=get_settings().mail_sender,
            Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {
                    "Text": {"Data": email.text, "Charset": "UTF-8"},
                    "Html": {"Data": email.html, "Charset": "UTF-8"},
                },
            },
        )
        logger.info("Email sent", extra={"email_kind": kind, "message_id": response["MessageId"]})

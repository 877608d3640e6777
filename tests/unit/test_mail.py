"""Clara's emails, sent to moto's SES: what the recipient would see, and what must never be seen."""

import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from clara.aws import aws_client
from clara.integrations.mail import Mailer
from clara.observability import logger
from clara.settings import get_settings
from local_runtime.mailbox import render_message

REGION = "us-east-1"
SENDER_ADDRESS = "no-reply@clara.local"


@dataclass(frozen=True)
class Delivered:
    source: str
    to: list[str]
    subject: str
    text: str
    html: str


@dataclass
class Outbox:
    """An SES client on moto, plus the text bodies: moto keeps only the HTML body of a two-part email."""

    client: Any
    text_bodies: list[str] = field(default_factory=list)

    def emails(self) -> list[Delivered]:
        messages = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        return [
            Delivered(message.source, message.destinations["ToAddresses"], message.subject, text, message.body)
            for message, text in zip(messages, self.text_bodies, strict=True)
        ]


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbox]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    get_settings.cache_clear()
    with mock_aws():
        client = boto3.client("ses", region_name=REGION)
        client.verify_email_identity(EmailAddress=SENDER_ADDRESS)
        box = Outbox(client)

        def record_text_body(params: dict[str, Any], **_: Any) -> None:
            box.text_bodies.append(params["Message"]["Body"]["Text"]["Data"])

        client.meta.events.register("before-parameter-build.ses.SendEmail", record_text_body)
        yield box
    get_settings.cache_clear()


def test_the_welcome_email_carries_the_code_the_link_and_the_expiry(outbox: Outbox):
    link = "http://localhost:3000/activate?email=ada%40example.com&code=123456"

    Mailer(outbox.client).send_welcome("ada@example.com", "Ada", "123456", link)

    [email] = outbox.emails()
    assert email.source == "Clara <no-reply@clara.local>"
    assert email.to == ["ada@example.com"]
    assert email.subject == "Welcome to Clara"
    for body in (email.text, email.html):
        assert "Ada" in body
        assert "123456" in body
        assert "expire in 10 minutes" in body
    assert link in email.text
    assert 'href="http://localhost:3000/activate?email=ada%40example.com&amp;code=123456"' in email.html


def test_the_welcome_email_in_the_local_mailbox_has_the_activation_link_in_its_text_part(outbox: Outbox):
    """moto keeps the HTML body only, so `make run`'s mailbox writes the text/plain part from it: the link of
    "activate your account here" must come along, as it does in the text body SES is given."""
    link = "https://app.example.com/auth/email/activate?email=ada%40example.com&code=123456"
    Mailer(outbox.client).send_welcome("ada@example.com", "Ada", "123456", link)
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    recorded = {"id": sent.id, "source": sent.source, "destinations": sent.destinations, "body": sent.body}

    eml = message_from_bytes(render_message(recorded, datetime.now(UTC)), policy=policy.default)

    text = eml.get_body(preferencelist=("plain",)).get_content()
    assert f"activate your account here ({link})" in text
    assert link in outbox.emails()[0].text  # what SES sends as the text part


@pytest.mark.parametrize(
    ("otp_type", "subject"),
    [
        ("ACTIVATION", "Your Clara activation code"),
        ("TWO_FACTOR_AUTH", "Your Clara sign-in code"),
        ("CHANGE_PASSWORD", "Your Clara password change code"),
    ],
)
def test_each_kind_of_code_has_its_own_subject(outbox: Outbox, otp_type: str, subject: str):
    Mailer(outbox.client).send_otp("ada@example.com", "Ada", otp_type, "654321")

    [email] = outbox.emails()
    assert (email.to, email.subject) == (["ada@example.com"], subject)
    assert "654321" in email.text
    assert "<strong>654321</strong>" in email.html


def test_the_expiry_follows_the_settings(outbox: Outbox, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OTP_EXPIRY_IN_MINUTES", "5")
    get_settings.cache_clear()

    Mailer(outbox.client).send_otp("ada@example.com", "Ada", "TWO_FACTOR_AUTH", "654321")

    [email] = outbox.emails()
    assert "expires in 5 minutes" in email.text


def test_an_unknown_kind_of_code_is_a_programming_error(outbox: Outbox):
    with pytest.raises(ValueError, match="Unknown OTP type"):
        Mailer(outbox.client).send_otp("ada@example.com", "Ada", "PASSWORD_RESET", "654321")

    assert outbox.emails() == []


def test_the_generated_password_is_sent_and_escaped_in_html(outbox: Outbox):
    Mailer(outbox.client).send_generated_password("ada@example.com", "Ada", "x<7&Qp>z")

    [email] = outbox.emails()
    assert (email.to, email.subject) == (["ada@example.com"], "Your Clara password")
    assert "x<7&Qp>z" in email.text
    assert "<code>x&lt;7&amp;Qp&gt;z</code>" in email.html


def test_a_hostile_first_name_cannot_inject_markup(outbox: Outbox):
    hostile = '<script>alert("hi")</script>'
    mailer = Mailer(outbox.client)

    mailer.send_welcome("eve@example.com", hostile, "123456", "http://localhost:3000/activate")
    mailer.send_otp("eve@example.com", hostile, "ACTIVATION", "123456")
    mailer.send_generated_password("eve@example.com", hostile, "secret-password")

    for email in outbox.emails():
        assert "<script>" not in email.html
        assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;" in email.html


@pytest.fixture
def log_text() -> Iterator[Callable[[], str]]:
    """Everything the functions' Powertools logger writes."""
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream.getvalue
    handler.setStream(previous)


def test_codes_and_passwords_never_reach_the_log(outbox: Outbox, log_text: Callable[[], str]):
    mailer = Mailer(outbox.client)

    mailer.send_welcome("ada@example.com", "Ada", "918273", "http://localhost:3000/activate")
    mailer.send_generated_password("ada@example.com", "Ada", "correct-horse-battery")

    logged = log_text()
    assert logged.count("Email sent") == 2
    assert "918273" not in logged
    assert "correct-horse-battery" not in logged


def test_an_ses_failure_reaches_the_caller(outbox: Outbox, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MAIL_SENDER", "Clara <unverified@elsewhere.example>")
    get_settings.cache_clear()

    with pytest.raises(ClientError, match="not verified"):
        Mailer(outbox.client).send_otp("ada@example.com", "Ada", "ACTIVATION", "123456")


def test_the_default_client_is_a_shared_ses_client(outbox: Outbox):
    aws_client.cache_clear()
    try:
        first, second = Mailer(), Mailer()
        assert first._client is second._client

        first.send_otp("ada@example.com", "Ada", "ACTIVATION", "123456")
        assert len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages) == 1
    finally:
        aws_client.cache_clear()


LINK_NAMES = [
    "there. Reset now at http://evil.example/r",
    "Visit evil.example",
    "www.evil",
    "hxxp://evil",
    "x" * 51,
]


@pytest.mark.parametrize("name", LINK_NAMES)
def test_a_name_that_could_carry_a_link_is_left_out_of_every_greeting(outbox: Outbox, name: str):
    mailer = Mailer(outbox.client)

    mailer.send_welcome("eve@example.com", name, "123456", "http://localhost:3000/activate")
    mailer.send_otp("eve@example.com", name, "ACTIVATION", "123456")
    mailer.send_generated_password("eve@example.com", name, "secret-password")

    for email in outbox.emails():
        assert "evil" not in email.text and "evil" not in email.html
        assert email.text.startswith("Hi,\n\n") and email.html.startswith("<p>Hi,</p>")


@pytest.mark.parametrize("name", ["Ada", "Jean-Luc", "O'Brien", "J.R.R.", "Zoë", "李 小龍"])
def test_ordinary_names_are_greeted(outbox: Outbox, name: str):
    Mailer(outbox.client).send_otp("ada@example.com", name, "ACTIVATION", "123456")

    [email] = outbox.emails()
    assert email.text.startswith(f"Hi {name},")


def test_no_name_greets_without_a_dangling_space(outbox: Outbox):
    Mailer(outbox.client).send_otp("ada@example.com", "", "ACTIVATION", "123456")

    [email] = outbox.emails()
    assert email.text.startswith("Hi,\n\n")

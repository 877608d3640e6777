"""What accounts need from outside, plugged in where a function is assembled (clara.domain.ports): email (Amazon SES,
clara.integrations.mail) and Google's check of an ID token (clara.integrations.google_identity)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from clara.domain.ports import Port

# Every change to how an account is secured is emailed to its owner (clara.domain.accounts.notices).
SecurityChange = Literal[
    "authenticator_on",
    "authenticator_removed",
    "2fa_on",
    "2fa_off",
    "2fa_off_by_support",
    "recovery_codes_regenerated",
    "recovery_code_used",
    "password_changed",
]
WebhookDisabled = Literal["webhook_disabled"]


@dataclass(frozen=True)
class GoogleIdentity:
    """Who a verified Google ID token names."""

    subject: str
    email: str
    email_verified: bool
    name: str
    given_name: str | None
    family_name: str | None


class Mail(Protocol):
    """The emails Clara sends; codes and passwords never reach the log."""

    def send_welcome(self, to: str, first_name: str, code: str, activation_link: str) -> None: ...

    def send_otp(self, to: str, first_name: str, otp_type: str, code: str) -> None: ...

    def send_generated_password(self, to: str, first_name: str, password: str) -> None: ...

    def send_webhook_disabled(self, to: str, first_name: str, url: str, days: int, at: datetime) -> None: ...

    def send_security_notice(
        self, to: str, first_name: str, change: SecurityChange, at: datetime, source_ip: str | None
    ) -> None: ...


mail: Port[Mail] = Port("mail")
# The identity a Google ID token names once its signature, expiry, issuer and audience are checked; the contract's
# 401 otherwise.
google: Port[Callable[[str], GoogleIdentity]] = Port("Google identity")

"""The owner is told of every change to how the account is secured (the account-security rule of
docs/architecture.md): after the change is stored, with its audit item, an email says what changed, when and from
which address. A notice that cannot be sent does not undo the change: it is logged, without the email's text."""

from datetime import datetime

from clara.domain.models import User
from clara.formats import utc_now
from clara.integrations.mail import Mailer, SecurityChange
from clara.observability import logger


def notify_owner(user: User, change: SecurityChange, source_ip: str | None, at: datetime | None = None) -> None:
    """Email `user` that `change` happened at `at` from `source_ip` (None: by Clara support, with the private key)."""
    try:
        Mailer().send_security_notice(user.email, user.first_name or "", change, at or utc_now(), source_ip)
    except Exception:
        logger.exception("Security notice not sent", extra={"email_kind": f"security {change}"})

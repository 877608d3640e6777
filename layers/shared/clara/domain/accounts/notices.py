"""The owner is told of every change to how the account is secured (docs/architecture.md, Account security), and
of a webhook endpoint Clara disabled (clara.domain.webhooks.delivery).

The notice is an outbox item written in the same transaction as the change (with its audit item), so a crash or a
mail failure between the change and its email delays the email and never loses it: the request sends it right
after the change is stored and deletes it; whatever is left, the sweeper sends a minute later
(`deliver_pending`, AnalysisSweeperFunction's schedule). At least once: a crash between the email and the delete
sends it again. What a notice says (what changed, when, from which address, what to do) is the mail port's
(clara.domain.accounts.ports).
"""

from datetime import datetime
from typing import cast

from clara.domain.accounts import ports
from clara.domain.accounts.ports import SecurityChange, WebhookDisabled
from clara.domain.outbox import Outbox
from clara.formats import new_id, utc_now
from clara.records.accounts import Notice, User
from clara.records.webhooks import DISABLE_AFTER_DAYS
from clara.store import notices as stored
from clara.store import unit


def notice(
    user: User, change: SecurityChange | WebhookDisabled, source_ip: str | None, at: datetime, detail: str | None = None
) -> tuple[Notice, unit.Write]:
    """The notice of `change` to `user`, made at `at` from `source_ip` (None: by Clara support with the private
    key, or by Clara itself), and the write that stores it in the change's unit."""
    made = Notice(
        id=new_id("notice"),
        user_id=user.id,
        change=change,
        email=user.email,
        first_name=user.first_name,
        source_ip=source_ip,
        detail=detail,
        created_at=at,
    )
    return made, stored.put_notice(made)


def _send(notice: Notice) -> None:
    mail = ports.mail()
    if notice.change == "webhook_disabled":
        mail.send_webhook_disabled(
            notice.email, notice.first_name or "", notice.detail or "", DISABLE_AFTER_DAYS, notice.created_at
        )
    else:
        change = cast(SecurityChange, notice.change)  # written from a SecurityChange by `notice`
        mail.send_security_notice(notice.email, notice.first_name or "", change, notice.created_at, notice.source_ip)


_OUTBOX = Outbox("security notice", _send, stored.delete_notice, stored.pending_notices, "SecurityNoticesSent")


def deliver(*notices: Notice) -> list[str]:
    """Email each notice and delete it: the ids sent. One SES cannot send stays for the sweeper, and so does one
    whose delete fails (it will be sent again)."""
    return _OUTBOX.hand_over(*notices)


def deliver_pending(now: datetime | None = None) -> list[str]:
    """Send the notices requests left (a crash, a mail failure): the ids sent this run."""
    return _OUTBOX.hand_over_pending(now or utc_now())

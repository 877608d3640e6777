"""The owner is told of every change to how the account is secured (docs/architecture.md, Account security), and
of a webhook endpoint Clara disabled (clara.domain.webhooks.delivery).

The notice is an outbox item written in the same transaction as the change (with its audit item), so a crash or a
mail failure between the change and its email delays the email and never loses it: the request sends it right
after the change is stored and deletes it; whatever is left, the sweeper sends a minute later
(`deliver_pending`, AnalysisSweeperFunction's schedule). At least once: a crash between the email and the delete
sends it again. What a notice says (what changed, when, from which address, what to do) is the mail port's
(clara.domain.accounts.ports).
"""

from datetime import datetime, timedelta
from typing import cast

from clara.domain.accounts import ports
from clara.domain.accounts.ports import SecurityChange, WebhookDisabled
from clara.formats import new_id, utc_now
from clara.observability import count, logger
from clara.records.accounts import Notice, User
from clara.records.webhooks import DISABLE_AFTER_DAYS
from clara.store import notices as stored
from clara.store import unit

# A notice younger than this is the request's own to send: the sweeper leaves it alone.
SWEEP_AFTER_SECONDS = 60
SWEEP_LIMIT = 100


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


def deliver(*notices: Notice) -> list[str]:
    """Email each notice and delete it: the ids sent. One SES cannot send stays for the sweeper (logged, never
    its text), and so does one whose delete fails (it will be sent again)."""
    sent = []
    for each in notices:
        mail = ports.mail()
        try:
            if each.change == "webhook_disabled":
                mail.send_webhook_disabled(
                    each.email, each.first_name or "", each.detail or "", DISABLE_AFTER_DAYS, each.created_at
                )
            else:
                change = cast(SecurityChange, each.change)  # written from a SecurityChange by `notice`
                mail.send_security_notice(each.email, each.first_name or "", change, each.created_at, each.source_ip)
            stored.delete_notice(each)
        except Exception:
            logger.exception("Security notice not delivered; the sweeper tries again", extra={"notice_id": each.id})
            continue
        count("SecurityNoticesSent")
        sent.append(each.id)
    return sent


def deliver_pending(now: datetime | None = None) -> list[str]:
    """Send the notices requests left (a crash, a mail failure): the ids sent this run."""
    created_before = (now or utc_now()) - timedelta(seconds=SWEEP_AFTER_SECONDS)
    pending = stored.pending_notices(created_before, SWEEP_LIMIT)
    if pending:
        logger.warning("Sending security notices requests left", extra={"notices": len(pending)})
    return deliver(*pending)

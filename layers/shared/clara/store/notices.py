"""Security notices waiting to be emailed (clara.domain.accounts.notices): each written in the unit of the change it
tells of, deleted once sent, and listed for the sweeper until then (NoticeItem)."""

from datetime import datetime

from clara.records.accounts import Notice
from clara.store import outbox, unit
from clara.store.items import NoticeItem

KEPT_SECONDS = 86_400  # a notice not sent within a day goes (its TTL): its change is in the audit trail anyway


def put_notice(notice: Notice) -> unit.Write:
    item = NoticeItem(
        *NoticeItem.key(notice.user_id, notice.id),
        **outbox.listed(NoticeItem.LISTING, notice.created_at, notice.id, KEPT_SECONDS),
        **notice.model_dump(),
    )
    return unit.put(f"notice_{notice.id}", item)


def delete_notice(notice: Notice) -> None:
    NoticeItem(*NoticeItem.key(notice.user_id, notice.id)).delete()


def pending_notices(created_before: datetime, limit: int) -> list[Notice]:
    """The notices not sent yet that were written before `created_before`, oldest first, at most `limit`."""
    return [_notice(item) for item in outbox.pending(NoticeItem, NoticeItem.LISTING, created_before, limit)]


def _notice(item: NoticeItem) -> Notice:
    values = item.stored_values()
    return Notice(**{name: values[name] for name in Notice.model_fields if name in values})

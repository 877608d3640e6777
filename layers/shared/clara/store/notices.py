"""Security notices waiting to be emailed (clara.domain.notices): each written in the unit of the change it
tells of, deleted once sent, and listed for the sweeper until then (NoticeItem)."""

from datetime import datetime
from itertools import islice

from clara.domain.models import Notice
from clara.store import unit
from clara.store.items import NoticeItem

KEPT_SECONDS = 86_400  # a notice not sent within a day goes (its TTL): its change is in the audit trail anyway


def put_notice(notice: Notice) -> unit.Write:
    item = NoticeItem(
        *NoticeItem.key(notice.user_id, notice.id),
        gsi1pk=NoticeItem.LISTING,
        gsi1sk=f"{notice.created_at.isoformat()}#{notice.id}",
        expires_at=int(notice.created_at.timestamp()) + KEPT_SECONDS,
        **notice.model_dump(),
    )
    return unit.put(f"notice_{notice.id}", item)


def delete_notice(notice: Notice) -> None:
    NoticeItem(*NoticeItem.key(notice.user_id, notice.id)).delete()


def pending_notices(created_before: datetime, limit: int) -> list[Notice]:
    """The notices not sent yet that were written before `created_before`, oldest first, at most `limit`."""
    items = NoticeItem.by_email.query(
        NoticeItem.LISTING, NoticeItem.gsi1sk < created_before.isoformat(), limit=limit, page_size=limit
    )
    return [_notice(item) for item in islice(items, limit) if isinstance(item, NoticeItem)]


def _notice(item: NoticeItem) -> Notice:
    values = item.stored_values()
    return Notice(**{name: values[name] for name in Notice.model_fields if name in values})

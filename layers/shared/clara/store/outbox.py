"""Outboxes: items written in the unit of the change they tell of (a security notice, a webhook event), deleted
once handled, and listed until then on gsi1 under their class's LISTING, oldest first, for the sweeper to handle what
a request or a worker left (a crash, a failed send). gsi1 otherwise finds items by email, which never is a listing's
name. Each is expired by TTL after `kept_seconds`, so one that keeps failing is not tried for ever.
"""

from datetime import datetime
from itertools import islice
from typing import TypedDict, TypeVar

from clara.store.table import TableItem

_Item = TypeVar("_Item", bound=TableItem)


class Listed(TypedDict):
    """The attributes that list an outbox item and expire it."""

    gsi1pk: str
    gsi1sk: str
    expires_at: int


def listed(listing: str, created_at: datetime, item_id: str, kept_seconds: int) -> Listed:
    return Listed(
        gsi1pk=listing,
        gsi1sk=f"{created_at.isoformat()}#{item_id}",
        expires_at=int(created_at.timestamp()) + kept_seconds,
    )


def pending(item_class: type[_Item], listing: str, created_before: datetime, limit: int) -> list[_Item]:
    """The items of the listing written before `created_before`, oldest first, at most `limit`."""
    items = item_class.by_email.query(
        listing, item_class.gsi1sk < created_before.isoformat(), limit=limit, page_size=limit
    )
    return [item for item in islice(items, limit) if isinstance(item, item_class)]

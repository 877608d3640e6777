"""The Idempotency-Keys of analysis requests (AnalysisKeyItem): which task a key made, for which request, until when.

A key is claimed by a write in the task's own transaction (the debit, the task), refused while the key names a
task and has not expired: two requests with one key, even at once, make one task. The refusal brings the item as it
is (DynamoDB's ALL_OLD), so the request that lost learns the task without reading the key back.
"""

from dataclasses import dataclass

from clara.store import unit
from clara.store.items import AnalysisKeyItem

# The name of the key's write in a unit, as Refused.reasons gives it.
KEY = "analysis_key"


@dataclass(frozen=True)
class KeyUse:
    """What a key made: its task, the digest of the request that made it, and when the key is free again."""

    task_id: str
    request_hash: str
    expires_at: float


def claim(
    user_id: str, idempotency_key: str, task_id: str, request_hash: str, *, now: float, until: float
) -> unit.Write:
    """The write that gives the user's key to `task_id` until `until` (seconds since the epoch), refused while the
    key names a task and `now` is before its expiry."""
    item = AnalysisKeyItem(
        *AnalysisKeyItem.key(user_id, idempotency_key), task_id=task_id, request_hash=request_hash, expires_at=until
    )
    condition = AnalysisKeyItem.pk.does_not_exist() | (AnalysisKeyItem.expires_at <= now)
    return unit.put(KEY, item, condition, old_on_refusal=True)


def holder(refused: unit.Refused, user_id: str, idempotency_key: str) -> KeyUse | None:
    """The key's use that refused a claim; None when the claim's own condition held (another write refused the
    unit) or the key is gone since."""
    if not refused.failed(KEY):
        return None
    raw = refused.old.get(KEY)
    if raw is not None:
        item: AnalysisKeyItem | None = AnalysisKeyItem.from_raw_data(raw)
    else:  # a store that does not return the old item: read it (strongly consistent)
        try:
            item = AnalysisKeyItem.get(*AnalysisKeyItem.key(user_id, idempotency_key), consistent_read=True)
        except AnalysisKeyItem.DoesNotExist:
            item = None
    if item is None:
        return None
    return KeyUse(item.task_id, item.request_hash, float(item.expires_at))


def release(user_id: str, idempotency_key: str, task_id: str, *, now: float) -> unit.Write:
    """The write that frees the key at `now` if it still names `task_id` (its task failed before it was queued, so
    a retry with the key makes a new task). An update, not a delete: the key's item is then expired, as after its
    24 hours, and TTL removes it."""
    item = AnalysisKeyItem(*AnalysisKeyItem.key(user_id, idempotency_key))
    return unit.update(KEY, item, [AnalysisKeyItem.expires_at.set(now)], AnalysisKeyItem.task_id == task_id)

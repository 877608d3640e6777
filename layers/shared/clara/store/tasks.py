"""Analysis tasks: the task item (with the user), its listings, and its conditional status changes.

A task moves PENDING -> PROCESSING -> COMPLETED | FAILED only by conditional writes: each names the states it may
leave and, structured, what else must hold (the run that holds it, its lease run out, no change since it was
read). While open it is in the sparse open-task listing of gsi1, by shard (TaskItem), which the sweeper reads.
"""

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from itertools import islice
from operator import or_
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from clara.formats import utc_now
from clara.records.analysis import Task, TaskStatus
from clara.store import unit
from clara.store.items import TaskItem
from clara.store.table import get_values, newest_first

# Only ever grow this: the sweeper reads shards 0..N-1, so a task written to a shard past a lowered N is unseen.
OPEN_TASK_SHARDS = 4
TERMINAL: tuple[TaskStatus, ...] = ("COMPLETED", "FAILED")
# The name of a task's write in a unit, as Refused.reasons gives it.
TASK = "task"


@dataclass(frozen=True)
class StoredTask:
    """A task as read, with what a later conditional write compares: `updated_at` is the stored text itself (a
    task written before a change of its format still matches), and `requeued_at` the sweeper's last re-queue."""

    task: Task
    updated_at: str
    requeued_at: float | None


def open_task_shard(task_id: str) -> int:
    return zlib.crc32(task_id.encode()) % OPEN_TASK_SHARDS


def _stored(values: dict[str, Any]) -> StoredTask:
    return StoredTask(Task.model_validate(values), values["updated_at"], values.get("requeued_at"))


def new_task(task: Task) -> unit.Write:
    """The write that creates the task (refused if it exists), in the open-task listing until it ends."""
    # Its attributes as JSON has them: the times as pydantic writes them ("...Z"), as tasks always were stored.
    attributes = task.model_dump(mode="json", exclude_none=True)
    listed = f"{task.created_at.isoformat()}#{task.id}"
    item = TaskItem(
        *TaskItem.key(task.user_id, task.id),
        gsi2pk=TaskItem.listing(task.user_id),
        gsi2sk=listed,
        gsi1pk=TaskItem.open_listing(open_task_shard(task.id)),
        gsi1sk=listed,
        **attributes,
    )
    return unit.put(TASK, item, TaskItem.pk.does_not_exist())


def _get(user_id: str, task_id: str) -> dict[str, Any] | None:
    return get_values(TaskItem, TaskItem.key(user_id, task_id), consistent_read=True)


def get_task(user_id: str, task_id: str) -> Task | None:
    """The user's task (strongly consistent), or None: another user's task is not under this user."""
    values = _get(user_id, task_id)
    return Task.model_validate(values) if values else None


def read_task(user_id: str, task_id: str) -> StoredTask | None:
    """The task as stored (strongly consistent), for a write conditional on its being unchanged."""
    values = _get(user_id, task_id)
    return _stored(values) if values else None


def list_tasks(user_id: str, limit: int, offset: int) -> list[Task]:
    return [Task.model_validate(values) for values in newest_first(TaskItem, TaskItem.listing(user_id), limit, offset)]


def open_tasks(created_before: datetime, limit: int) -> Iterator[StoredTask]:
    """The open tasks created before `created_before`, oldest first, at most `limit` of each shard; a shard is
    read when the one before it is done."""
    for shard in range(OPEN_TASK_SHARDS):
        items = TaskItem.by_email.query(
            TaskItem.open_listing(shard),
            TaskItem.gsi1sk < created_before.isoformat(),
            limit=limit,
            page_size=limit,
        )
        for item in islice(items, limit):
            if isinstance(item, TaskItem):  # only tasks are listed under OPEN_TASKS#
                yield _stored(item.attribute_values)


def change_status(
    task: Task,
    status: TaskStatus,
    *,
    allowed_from: tuple[TaskStatus, ...],
    held_by: str | None = None,
    claimable_at: float | None = None,
    unchanged_since: str | None = None,
    run_id: str | None = None,
    lease_until: float | None = None,
    result_json: str | None = None,
    result_format: int | None = None,
    error: str | None = None,
    at: datetime | None = None,
) -> unit.Write:
    """The write moving the task to `status` (and setting the fields given; its updated_at to `at`, else now),
    refused unless the task exists in one of `allowed_from` and, when given:
    * held_by: the run holding it is this one (run_id);
    * claimable_at: it is PENDING, or its lease ran out before this moment (seconds since the epoch);
    * unchanged_since: its stored updated_at is this text (StoredTask.updated_at): no run touched it since.
    A finished task leaves the open-task listing."""
    condition = TaskItem.pk.exists() & reduce(or_, (TaskItem.status == state for state in allowed_from))
    if held_by is not None:
        condition &= TaskItem.run_id == held_by
    if claimable_at is not None:
        condition &= (TaskItem.status == "PENDING") | (TaskItem.lease_until < claimable_at)
    if unchanged_since is not None:
        condition &= TaskItem.updated_at == unchanged_since
    actions: list[Action] = [TaskItem.status.set(status), TaskItem.updated_at.set((at or utc_now()).isoformat())]
    changes: list[tuple[Any, Any]] = [
        (TaskItem.run_id, run_id),
        (TaskItem.lease_until, lease_until),
        (TaskItem.result_json, result_json),
        (TaskItem.result_format, result_format),
        (TaskItem.error, error),
    ]
    actions += [attribute.set(value) for attribute, value in changes if value is not None]
    if status in TERMINAL:
        actions += [TaskItem.gsi1pk.remove(), TaskItem.gsi1sk.remove()]
    return unit.update(TASK, TaskItem(*TaskItem.key(task.user_id, task.id)), actions, condition)


def mark_requeued(task: Task, now: float) -> bool:
    """Remember the sweeper's re-queue (not a change the user sees: updated_at stays), only while the task is
    PENDING: False when it is not (or is gone)."""
    item = TaskItem(*TaskItem.key(task.user_id, task.id))
    try:
        item.update(actions=[TaskItem.requeued_at.set(now)], condition=TaskItem.status == "PENDING")
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True

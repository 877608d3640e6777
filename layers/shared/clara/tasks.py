"""Analysis tasks: the model, its public view, and the repository (conditional status changes).

An open task (PENDING or PROCESSING) is also in the sparse "open tasks" listing of gsi1: gsi1pk =
"OPEN_TASKS#<shard>", gsi1sk = "<created_at>#<task id>", written with the task and removed by the change to
COMPLETED or FAILED. gsi1 otherwise finds items by email, which never starts with "OPEN_TASKS#", so the two uses
cannot meet; the shards spread the index's writes over a few partitions. The sweeper (clara.sweeper) reads it.
"""

import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from clara import dynamo
from clara.analyzers import AnalysisResult
from clara.errors import NotFound
from clara.formats import HttpDate, LazyModel, utc_now

TaskStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


class StoredAttachment(LazyModel):
    name: str
    media_type: str
    size_bytes: int
    key: str  # the S3 key (server-generated); never shown


class Task(LazyModel):
    id: str
    user_id: str
    status: TaskStatus
    text: str = ""
    attachments: list[StoredAttachment] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    cost_credits: float = 0
    # The worker run that holds the task while PROCESSING, and until when (a crashed run's lease runs out).
    run_id: str | None = None
    lease_until: float | None = None
    created_at: datetime
    updated_at: datetime

    def view(self) -> "TaskView":
        return TaskView(
            id=self.id,
            user_id=self.user_id,
            status=self.status,
            attachments=[AttachmentView(**a.model_dump()) for a in self.attachments],
            result=AnalysisResult.model_validate(self.result) if self.result is not None else None,
            error=self.error,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class AttachmentView(BaseModel):
    name: str
    media_type: str
    size_bytes: int


class TaskView(LazyModel):
    """The task as clients see it (docs/contract.md, Tasks and results)."""

    id: str
    user_id: str
    status: TaskStatus
    attachments: list[AttachmentView]
    result: AnalysisResult | None  # stored as the analyzer made it; older results gain the added fields' defaults
    error: str | None
    created_at: HttpDate
    updated_at: HttpDate


def task_sk(task_id: str) -> str:
    return f"TASK#{task_id}"


# Only ever grow this: the sweeper reads shards 0..N-1, so a task written to a shard past a lowered N is unseen.
OPEN_TASK_SHARDS = 4
TERMINAL: tuple[TaskStatus, ...] = ("COMPLETED", "FAILED")


def open_task_shard(task_id: str) -> str:
    return f"OPEN_TASKS#{zlib.crc32(task_id.encode()) % OPEN_TASK_SHARDS}"


def open_tasks(shard: int, created_before: datetime, limit: int) -> Iterator[dict[str, Any]]:
    """The open tasks of one shard created before `created_before`, oldest first (raw items)."""
    return dynamo.query(
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :shard AND gsi1sk < :before",
        ExpressionAttributeValues=dynamo.values(shard=f"OPEN_TASKS#{shard}", before=created_before.isoformat()),
        Limit=limit,
    )


def task_put(task: Task) -> dict[str, Any]:
    """The new task as a transaction operation (it must not exist yet)."""
    item = {
        **task.model_dump(mode="json", exclude_none=True),
        "pk": dynamo.user_pk(task.user_id),
        "sk": task_sk(task.id),
        "kind": "task",
        "gsi2pk": f"TASKS#{task.user_id}",
        "gsi2sk": f"{task.created_at.isoformat()}#{task.id}",
        # In the open-task listing until COMPLETED or FAILED (status_update removes it).
        "gsi1pk": open_task_shard(task.id),
        "gsi1sk": f"{task.created_at.isoformat()}#{task.id}",
    }
    return {"Put": dynamo.put(item, "attribute_not_exists(pk)")}


def get_task(user_id: str, task_id: str) -> Task | None:
    item = dynamo.get(dynamo.user_pk(user_id), task_sk(task_id))
    return Task.model_validate(item) if item else None


def task_of(user_id: str, task_id: str) -> Task:
    """The user's task, for the REST route and the MCP tool alike: another user's is not found under this one."""
    task = get_task(user_id, task_id)
    if task is None:
        raise NotFound("Task")
    return task


def list_tasks(user_id: str, limit: int, offset: int) -> list[Task]:
    return [Task.model_validate(item) for item in dynamo.newest_first(f"TASKS#{user_id}", limit, offset)]


def status_update(
    task: Task,
    status: TaskStatus,
    *,
    allowed_from: tuple[TaskStatus, ...],
    also_if: str = "",
    also_if_values: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A transaction operation moving the task to `status`, only from one of `allowed_from` and when `also_if`
    holds (else the transaction is cancelled). A finished task leaves the open-task listing."""
    changes = {"status": status, "updated_at": utc_now().isoformat(), **fields}
    names = {f"#{name}": name for name in changes} | {"#status": "status"}
    condition = " OR ".join(f"#status = :from{index}" for index in range(len(allowed_from)))
    if also_if:
        condition = f"({condition}) AND ({also_if})"
    return {
        "Update": {
            "TableName": dynamo.table(),
            "Key": dynamo.key(dynamo.user_pk(task.user_id), task_sk(task.id)),
            "UpdateExpression": "SET "
            + ", ".join(f"#{name} = :{name}" for name in changes)
            + (" REMOVE gsi1pk, gsi1sk" if status in TERMINAL else ""),
            "ConditionExpression": f"attribute_exists(pk) AND ({condition})",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": dynamo.values(
                **changes,
                **{f"from{index}": state for index, state in enumerate(allowed_from)},
                **(also_if_values or {}),
            ),
        }
    }

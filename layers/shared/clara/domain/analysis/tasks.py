"""Analysis tasks as clients see them: the public view, and a user's tasks (clara.store.tasks keeps them).

The task itself (Task, its attachments and states) is a record of clara.records.analysis; the other modules of
clara.domain.analysis run it.
"""

from pydantic import BaseModel

from clara.contract.errors import NotFound
from clara.domain.analysis.results import AnalysisResult
from clara.formats import HttpDate, LazyModel
from clara.records.analysis import Task, TaskStatus
from clara.store import tasks as store


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


def task_view(task: Task) -> TaskView:
    return TaskView(
        id=task.id,
        user_id=task.user_id,
        status=task.status,
        attachments=[AttachmentView(**a.model_dump()) for a in task.attachments],
        result=AnalysisResult.model_validate(task.result) if task.result is not None else None,
        error=task.error,
        created_at=task.created_at,
        updated_at=task.updated_at,
    )


def task_of(user_id: str, task_id: str) -> Task:
    """The user's task, for the REST route and the MCP tool alike: another user's is not found under this one."""
    task = store.get_task(user_id, task_id)
    if task is None:
        raise NotFound("Task")
    return task


def tasks_page(user_id: str, limit: int, offset: int) -> list[Task]:
    """A page of the user's tasks, newest first."""
    return store.list_tasks(user_id, limit, offset)

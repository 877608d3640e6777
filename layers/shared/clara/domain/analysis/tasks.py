"""Analysis tasks as clients see them: the public view, and a user's tasks (clara.store.tasks keeps them).

The task itself (Task, its attachments and states) is a record of clara.records.analysis; the other modules of
clara.domain.analysis run it.
"""

from typing import Any

from pydantic import BaseModel

from clara.contract.errors import NotFound
from clara.domain.analysis.results import RESULT_FORMAT, AnalysisResult
from clara.formats import HttpDate, JsonFragment, LazyModel, texts_ready
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
    return _view(task, _result(task))


def task_views_ready(tasks: list[Task]) -> list[dict[str, Any]]:
    """[text_ready(task_view(task)) for task in tasks], the form the envelope writes, in one dump: a result stored
    in the current format is its stored text (a JsonFragment), not read, validated and dumped again on every page
    that lists it."""
    as_stored = [task.result_json if task.result_format == RESULT_FORMAT else None for task in tasks]
    views = [_view(task, _result(task) if text is None else None) for task, text in zip(tasks, as_stored, strict=True)]
    ready: list[dict[str, Any]] = texts_ready(views)
    for shown, text in zip(ready, as_stored, strict=True):
        if text is not None:
            shown["result"] = JsonFragment(text)
    return ready


def _result(task: Task) -> AnalysisResult | None:
    """The result of any task: as stored since result_json (older formats gain the fields added since), or as the
    map of a task completed before it."""
    if task.result_json is not None:
        return AnalysisResult.model_validate_json(task.result_json)
    return AnalysisResult.model_validate(task.result) if task.result is not None else None


def _view(task: Task, result: AnalysisResult | None) -> TaskView:
    return TaskView(
        id=task.id,
        user_id=task.user_id,
        status=task.status,
        attachments=[AttachmentView(**a.model_dump()) for a in task.attachments],
        result=result,
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

"""The records of analysis tasks as clara.store.tasks reads and writes them."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from clara.formats import LazyModel

TaskStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


class StoredAttachment(LazyModel):
    name: str
    media_type: str
    size_bytes: int
    key: str  # the S3 key (server-generated); never shown


class Task(LazyModel):
    """An analysis task (the modules of clara.domain.analysis run it). Its view, the contract's TaskView, is
    clara.domain.analysis.tasks.task_view: it carries the result schema, which only the functions that serve tasks
    import."""

    id: str
    user_id: str
    status: TaskStatus
    text: str = ""
    attachments: list[StoredAttachment] = Field(default_factory=list)
    # The result as JSON text (the view's, clara.domain.analysis.results.result_json) and the version of that JSON;
    # a task completed before the result was stored as text has it as a map in `result`.
    result_json: str | None = None
    result_format: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    cost_credits: float = 0
    # The worker run that holds the task while PROCESSING, and until when (a crashed run's lease runs out).
    run_id: str | None = None
    lease_until: float | None = None
    created_at: datetime
    updated_at: datetime

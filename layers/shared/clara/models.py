"""The domain's records, as the rest of the code sees them: plain models that know nothing of how they are stored
(clara.store turns items into these and back) or shown (a view is made where its token is at hand)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from clara.formats import HttpDate, LazyModel, Money

TransactionType = Literal["CREDIT", "DEBIT"]


class Transaction(LazyModel):
    id: str
    user_id: str
    type: TransactionType
    description: str
    value_in_credits: Money
    value_in_fiat: Money
    created_at: datetime
    updated_at: datetime
    # The digest of the request an Idempotency-Key recorded (never shown): a reuse must repeat it.
    request_hash: str | None = None

    def view(self) -> "TransactionView":
        return TransactionView.model_validate(self.model_dump())


class TransactionView(LazyModel):
    id: str
    user_id: str
    type: TransactionType
    description: str
    value_in_credits: Money
    value_in_fiat: Money
    created_at: HttpDate
    updated_at: HttpDate


class ApiKey(LazyModel):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime


TaskStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "FAILED"]


class StoredAttachment(LazyModel):
    name: str
    media_type: str
    size_bytes: int
    key: str  # the S3 key (server-generated); never shown


class Task(LazyModel):
    """An analysis task (clara.analysis runs it). Its view, the contract's TaskView, is clara.tasks.task_view: it
    carries the analyzer's result schema, which only the functions that serve tasks import."""

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

"""A user's cancel of their PENDING analysis task (issue 24): the task FAILED and its cost credited back once,
through clara.domain.analysis.settlement (fail_and_refund, whose refund has the task's deterministic id).

The cancel and the worker's claim are one conditional write each: the cancel's needs the task PENDING and unchanged
since it was read, the claim's needs it PENDING (or its lease run out), so exactly one of them wins. A cancelled
task is FAILED: its message, arriving later, is dropped by the worker, and the backstops pass it by.
"""

from clara.contract.errors import NotFound, TaskNotCancellable
from clara.domain.analysis.settlement import fail_and_refund
from clara.observability import count
from clara.records.analysis import Task
from clara.store import tasks as store
from clara.store import unit

CANCELLED_ERROR = "Cancelled at the user's request."


def cancel_task(user_id: str, task_id: str) -> Task:
    """The user's PENDING task, FAILED with CANCELLED_ERROR and refunded: the task as stored. 404 for a task that
    is not the user's; 409 once a worker has claimed it or it has ended, also when that happens after the read."""
    stored = store.read_task(user_id, task_id)
    if stored is None:
        raise NotFound("Task")
    if stored.task.status != "PENDING":
        raise TaskNotCancellable()
    try:
        cancelled = fail_and_refund(
            stored.task, CANCELLED_ERROR, unchanged_since=stored.updated_at, allowed_from=("PENDING",)
        )
    except unit.Refused as refused:  # a worker claimed it since the read
        raise TaskNotCancellable() from refused
    if cancelled is None:  # it ended since the read
        raise TaskNotCancellable()
    count("AnalysesCancelled")
    return cancelled

"""Every charged task ends, whatever crashes: the backstops behind the worker (AnalysisSweeperFunction).

* The sweep (every minute): a PENDING task older than ANALYSIS_REQUEUE_AFTER_SECONDS may have lost its message
  (the API crashed between its debit+task transaction and SendMessage), so it is queued again, at most once per
  REQUEUE_EVERY_SECONDS (a task waiting in a backlog does have its message; a duplicate is harmless, the worker's
  claim is conditional). A PROCESSING task untouched for longer than a lease plus every receive the queue still
  allows (its worker died and its message is gone) is failed and refunded, as is a task that has waited longer
  than the queue keeps a message.
* The dead-letter queue: a message SQS gave up on (a worker killed on the last receive) fails and refunds its task,
  unless a run holds it right now (then it comes back later).

Both settle through analysis.fail_and_refund under the condition that the task is unchanged since it was read, so
a worker that claims the task meanwhile wins, and the refund's deterministic id credits it once.
"""

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from clara.domain.analysis.leases import LEASE_SECONDS, TaskBusy
from clara.domain.analysis.settlement import fail_and_refund
from clara.domain.analysis.submission import queue_task
from clara.observability import count, logger
from clara.records.analysis import Task
from clara.settings import get_settings
from clara.store import tasks as store
from clara.store.tasks import StoredTask

# The analysis queue's VisibilityTimeout and MessageRetentionPeriod (template.yaml; a test keeps them equal).
QUEUE_VISIBILITY_SECONDS = 2160
QUEUE_RETENTION_SECONDS = 345_600
REQUEUE_EVERY_SECONDS = 900
# Per shard and run, so one run stays well inside its timeout; the rest wait for the next minute.
SWEEP_LIMIT = 250

DEAD_LETTER_ERROR = "The analysis could not be completed. Your credits were refunded."
ABANDONED_ERROR = "The analysis could not be completed. Your credits were refunded."
NEVER_STARTED_ERROR = "The analysis could not be started in time. Your credits were refunded."


def processing_abandoned_after() -> float:
    """Seconds after a PROCESSING task's last change when no worker can hold it or receive its message again: its
    lease has run out and every receive the queue still allows would have come (each within the visibility
    timeout) and claimed it, changing it."""
    return LEASE_SECONDS + QUEUE_VISIBILITY_SECONDS * get_settings().analysis_max_receives


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # tasks the sweep could not act on (logged; next run retries)

    def as_dict(self) -> dict[str, Any]:
        return {"requeued": self.requeued, "settled": self.settled, "failed": self.failed}


def sweep(now: float | None = None) -> SweepReport:
    """One pass over the open tasks old enough to need a look (every shard)."""
    now = time.time() if now is None else now
    settings = get_settings()
    report = SweepReport()
    created_before = datetime.fromtimestamp(now, UTC) - timedelta(seconds=settings.analysis_requeue_after_seconds)
    for stored in store.open_tasks(created_before, SWEEP_LIMIT):
        try:
            _sweep_one(stored, now, report)
        except Exception:
            logger.exception("Could not sweep a task", extra={"task_id": stored.task.id})
            report.failed.append(stored.task.id)
    if report.requeued or report.settled:
        logger.warning("Swept open tasks", extra=report.as_dict())
    return report


def _sweep_one(stored: StoredTask, now: float, report: SweepReport) -> None:
    task = stored.task
    age = now - task.created_at.timestamp()
    if task.status == "PENDING" and age > QUEUE_RETENTION_SECONDS:
        _settle(task, stored.updated_at, NEVER_STARTED_ERROR, report)
    elif task.status == "PENDING" and now - float(stored.requeued_at or 0) > REQUEUE_EVERY_SECONDS:
        queue_task(task)  # first: a crash before the mark below only sends one more harmless duplicate
        # Remembered only while the task is PENDING (not a change the user sees: updated_at stays).
        store.mark_requeued(task, now)
        count("AnalysesRequeued")
        report.requeued.append(task.id)
    elif task.status == "PROCESSING" and (task.lease_until or 0) < now:
        idle = now - task.updated_at.timestamp()
        if idle > processing_abandoned_after():
            _settle(task, stored.updated_at, ABANDONED_ERROR, report)


def _settle(task: Task, seen_updated_at: str, error: str, report: SweepReport) -> None:
    fail_and_refund(task, error, unchanged_since=seen_updated_at)
    count("AnalysesSettledByBackstop")
    report.settled.append(task.id)


def settle_dead_letter(body: str) -> None:
    """Fail and refund the task of a message SQS dead-lettered. Raises TaskBusy while a run holds the task (the
    message comes back after the dead-letter queue's visibility timeout)."""
    try:
        payload = json.loads(body)
        user_id, task_id = str(payload["user_id"]), str(payload["task_id"])
    except (ValueError, KeyError, TypeError):
        logger.error("Dropping a malformed dead-lettered message")
        return
    stored = store.read_task(user_id, task_id)
    if stored is None:
        return  # deleted with its user
    task = stored.task
    if task.status in ("COMPLETED", "FAILED"):
        return  # a duplicate message of a finished task: nothing to settle
    if task.status == "PROCESSING" and (task.lease_until or 0) > time.time():
        raise TaskBusy(task.id)
    logger.warning("Settling a dead-lettered analysis task", extra={"task_id": task.id, "status": task.status})
    fail_and_refund(task, DEAD_LETTER_ERROR, unchanged_since=stored.updated_at)
    count("AnalysesSettledByBackstop")

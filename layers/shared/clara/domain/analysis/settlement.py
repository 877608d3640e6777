"""A task that fails for good is FAILED and refunded exactly once (a CREDIT keyed by the task id), with its
task.failed webhook event, in one transaction: the worker, the backstops, a cancel and a request whose task could not
be queued all settle through here."""

from clara.domain.credits import ledger
from clara.domain.webhooks import events as webhook_events
from clara.formats import money, utc_now
from clara.observability import count
from clara.records.analysis import Task, TaskStatus
from clara.store import tasks as store
from clara.store import unit
from clara.store.tasks import get_task


def fail_and_refund(
    task: Task,
    error: str,
    *,
    unchanged_since: str | None = None,
    allowed_from: tuple[TaskStatus, ...] = ("PENDING", "PROCESSING"),
    also: tuple[unit.Write, ...] = (),
) -> Task | None:
    """FAILED with `error` and the cost credited back, in one transaction, once whatever the retries: the task as
    this call stored it, or None when another run had settled it already.

    `unchanged_since` (the task's stored updated_at, as read) settles it only if no run touched it since: a sweeper or
    the dead-letter queue must not fail a task a worker has just claimed again. `allowed_from` narrows the states
    it may leave (a cancel: PENDING only). `also` joins the transaction (the release of the request's
    Idempotency-Key). Raises unit.Refused when the task is open but not settleable so."""
    count("AnalysesFailed")
    now = utc_now()
    failed = task.model_copy(update={"status": "FAILED", "error": error, "lease_until": 0, "updated_at": now})
    refund_id = ledger.transaction_id_for(f"refund:{task.id}")
    # The task.failed event, with its refund, in the same transaction (clara.domain.webhooks.events).
    event, recorded = webhook_events.task_ended(
        failed, refund={"transaction_id": refund_id, "value_in_credits": money(task.cost_credits)}
    )
    fail = store.change_status(
        task,
        "FAILED",
        allowed_from=allowed_from,
        unchanged_since=unchanged_since,
        error=error,
        lease_until=0,
        at=now,
    )
    try:
        _, settled = ledger.record(
            task.user_id,
            refund_id,
            "CREDIT",
            task.cost_credits,
            0.0,
            f"Refund of failed analysis task {task.id}.",
            also=(fail, *recorded, *also),
        )
    except Exception as cancelled:
        current = get_task(task.user_id, task.id)
        if current is None or current.status in ("FAILED", "COMPLETED"):
            return None  # already settled by another run (or the user is gone)
        raise cancelled
    if not settled:
        return None  # its refund was there already: settled by another run, nothing written now
    webhook_events.dispatch(event)
    return failed

"""The lease a worker run holds on its task: claimed by one conditional write (PENDING, or a lease that ran out),
released when the run fails in a way a retry may fix, so the next delivery need not wait for it. The backstops
settle only what no lease holds."""

import time

from clara.observability import logger
from clara.records.analysis import Task
from clara.store import tasks as store
from clara.store import unit

LEASE_SECONDS = 390  # longer than the worker's timeout (360 s): a crashed run's task can be claimed again after it


class TaskBusy(Exception):
    """Another run holds the task (a duplicate delivery): retry the message later, when it will be finished."""


def claim(task: Task, run_id: str) -> None:
    """PROCESSING under `run_id` until LEASE_SECONDS from now, if PENDING or its lease ran out; TaskBusy otherwise."""
    now = time.time()
    try:
        unit.commit(
            store.change_status(
                task,
                "PROCESSING",
                allowed_from=("PENDING", "PROCESSING"),
                claimable_at=now,  # PENDING, or its lease ran out
                run_id=run_id,
                lease_until=now + LEASE_SECONDS,
            )
        )
    except unit.Refused as refused:
        raise TaskBusy(task.id) from refused


def release(task: Task, run_id: str) -> None:
    """Let the next delivery claim the task at once instead of waiting for the lease."""
    try:
        release = store.change_status(task, "PROCESSING", allowed_from=("PROCESSING",), held_by=run_id, lease_until=0)
        unit.commit(release)
    except Exception:
        logger.warning("Could not release the task's lease", extra={"task_id": task.id})

"""The worker's side of a task (AnalysisWorkerFunction): run it once, PENDING -> PROCESSING -> COMPLETED|FAILED, by
conditional writes; a transient failure is retried later, one that retrying cannot fix fails the task and refunds
it (clara.domain.analysis.settlement)."""

import json
from collections.abc import Callable
from typing import Any

from clara.domain.analysis import ports
from clara.domain.analysis.leases import claim, release
from clara.domain.analysis.ports import AttachmentInput, PermanentAnalysisError
from clara.domain.analysis.settlement import fail_and_refund
from clara.domain.webhooks import events as webhook_events
from clara.formats import new_id, utc_now
from clara.observability import count, logger
from clara.records.analysis import Task
from clara.settings import get_settings
from clara.store import tasks as store
from clara.store import unit
from clara.store.tasks import get_task


def process_message(body: str, receive_count: int, receipt_handle: str | None = None) -> None:
    """Run one queued task once. Raises to have SQS deliver the message again (a transient failure), after a
    delay that grows with each receive (retry_later)."""
    try:
        _run_task(body, receive_count)
    except Exception:
        if receipt_handle:
            retry_later(receipt_handle, receive_count)
        raise


def retry_delay(receive_count: int) -> int:
    """Seconds before the next try: base, then doubled per receive (30, 60, 120, 240 s by default), capped."""
    settings = get_settings()
    exponent = min(max(receive_count, 1) - 1, 16)  # 2**16 times any base is past SQS's 12-hour cap
    return min(settings.analysis_retry_base_seconds * 2**exponent, settings.analysis_retry_max_seconds)


def retry_later(receipt_handle: str, receive_count: int) -> None:
    """Hide the message for retry_delay() instead of the queue's whole visibility timeout, so a throttled or
    briefly failing model is tried again soon but not at once. Best effort: without it the message still comes
    back, after the visibility timeout."""
    delay = retry_delay(receive_count)
    try:
        ports.task_queue().retry_after(receipt_handle, delay)
    except Exception:
        logger.warning("Could not shorten the message's visibility", extra={"delay": delay}, exc_info=True)
        return
    logger.info("Analysis will be retried", extra={"delay_seconds": delay, "receive_count": receive_count})


def _run_task(body: str, receive_count: int) -> None:
    try:
        payload = json.loads(body)
        task = get_task(str(payload["user_id"]), str(payload["task_id"]))
    except (ValueError, KeyError, TypeError):
        logger.error("Dropping a malformed analysis message")
        return
    if task is None or task.status in ("COMPLETED", "FAILED"):
        return  # deleted with its user, or a redelivery of a finished task: nothing to do twice
    run_id = new_id("run")
    claim(task, run_id)
    try:
        result = ports.analyzer().analyze(task.text, _inputs(task))
    except PermanentAnalysisError as error:
        fail_and_refund(task, f"The analysis failed: {error}")
        return
    except Exception:
        if receive_count >= get_settings().analysis_max_receives:
            logger.exception("Analysis failed on its last try", extra={"task_id": task.id})
            fail_and_refund(task, "The analysis failed after every retry. Your credits were refunded.")
            return
        release(task, run_id)
        raise
    # Imported here, as the analyzers import it: at module level the result's models added 44 M instructions to
    # the worker's cold start (bench/cold_start.py's count), which its first analysis pays anyway.
    from clara.domain.analysis.results import RESULT_FORMAT, result_json

    text, now = result_json(result), utc_now()
    completed = task.model_copy(
        update={"status": "COMPLETED", "result_json": text, "result_format": RESULT_FORMAT, "updated_at": now}
    )
    event, recorded = webhook_events.task_ended(completed)  # in the task's own unit: a crash never loses it
    unit.commit(
        store.change_status(
            task,
            "COMPLETED",
            allowed_from=("PROCESSING",),
            held_by=run_id,
            result_json=text,
            result_format=RESULT_FORMAT,
            at=now,
        ),
        *recorded,
    )
    count("AnalysesCompleted")
    webhook_events.dispatch(event)


def _inputs(task: Task) -> list[AttachmentInput]:
    files = ports.attachments()

    def reader(key: str) -> Callable[[], bytes]:
        return lambda: files.read(key)

    return [
        AttachmentInput(
            name=attachment.name,
            media_type=attachment.media_type,
            kind=_kind(attachment.media_type),
            size_bytes=attachment.size_bytes,
            s3_uri=files.uri(attachment.key),
            read=reader(attachment.key),
        )
        for attachment in task.attachments
    ]


def _kind(media_type: str) -> Any:
    return "pdf" if media_type == "application/pdf" else media_type.split("/")[0]

"""Analysis end to end, at least once: a request becomes a paid PENDING task (files in S3, one transaction for
the debit and the task, one SQS message); the worker runs it once, PENDING -> PROCESSING -> COMPLETED|FAILED, by
conditional writes, and a task that fails for good is refunded exactly once (a CREDIT keyed by the task id).

A request with an Idempotency-Key claims the key in that same transaction (clara.store.analysis_keys): for
KEY_SECONDS the same request under the key answers the key's task, charged and queued once; another request is 409.
"""

import hashlib
import json
import time
from typing import Any

from clara.aws import aws_client
from clara.contract.errors import (
    ClaraError,
    IdempotencyKeyReused,
    InsufficientCredits,
    InvalidSchema,
    NotFound,
    SomethingWentWrong,
)
from clara.domain import ledger
from clara.domain.attachments import Upload
from clara.domain.tasks import StoredAttachment, Task, TaskStatus, get_task
from clara.domain.users import User
from clara.domain.webhooks import events as webhook_events
from clara.formats import money, new_id, utc_now
from clara.integrations.analyzers import AttachmentInput, PermanentAnalysisError, analyzer_for_settings
from clara.observability import count, logger
from clara.settings import get_settings
from clara.store import analysis_keys, unit
from clara.store import tasks as store

LEASE_SECONDS = 390  # longer than the worker's timeout (360 s): a crashed run's task can be claimed again after it
# How long an Idempotency-Key answers its task, from the request that made it (a replay does not extend it).
KEY_SECONDS = 24 * 60 * 60


def _s3() -> Any:
    return aws_client("s3")


def _sqs() -> Any:
    return aws_client("sqs")


# ------------------------------------------------------------------------------------------- the request


def checked_request(text: str, uploads: list[Upload]) -> tuple[str, list[Upload]]:
    """The rules of one analysis request, whatever carried it (a multipart form, read by clara.http.multipart, or base64
    JSON over MCP): at most MAX_ATTACHMENTS files with distinct names, a text of at most MAX_TEXT_CHARACTERS once
    stripped, not both empty. 400 Invalid Schema otherwise."""
    settings = get_settings()
    text = text.strip()
    names = [upload.name for upload in uploads]
    if len(uploads) > settings.max_attachments:
        raise InvalidSchema.because("files", f"at most {settings.max_attachments} files")
    if len(set(names)) != len(names):
        raise InvalidSchema.because("files", "two files have the same name")
    if len(text) > settings.max_text_characters:
        raise InvalidSchema.because("text", f"at most {settings.max_text_characters} characters")
    if not (text or uploads):
        raise InvalidSchema.because("text", "required when no file is sent")
    return text, uploads


def request_hash(text: str, uploads: list[Upload]) -> str:
    """The digest of a request as checked: its text (stripped) and each file's name, media type and bytes, in order.
    The multipart body's own bytes (its boundary) do not count: a retry repeats the request, not its encoding."""
    files = [[upload.name, upload.media_type, hashlib.sha256(upload.content).hexdigest()] for upload in uploads]
    canonical = json.dumps({"text": text, "files": files}, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit(user: User, text: str, uploads: list[Upload], idempotency_key: str | None = None) -> Task:
    """Store the files, charge the user and create the task in one transaction, then queue it.

    Nothing is charged when anything before the queue fails (a transaction whose answer was lost but which was
    applied counts as done: the task is read back); when the queue fails, the task is marked FAILED and refunded
    before the error is reported (a 503 when SQS is throttling or unavailable). A crash before the message is
    sent leaves a paid PENDING task that the sweeper queues again (clara.domain.sweeper).

    With an `idempotency_key` the transaction also claims the user's key. When the key already names a task
    (within KEY_SECONDS of the request that made it), nothing is charged or queued: the same request answers that
    task as it is now (whatever the balance), another request is 409. A task that could not be queued frees its
    key with its refund, so a retry makes a new one.
    """
    settings = get_settings()
    cost = settings.analysis_cost_credits
    key = idempotency_key or None  # an empty header is none, as for the ledger's admin transactions
    if user.credits < cost and key is None:
        raise InsufficientCredits()  # checked again, atomically, by the debit below (a retry with a key may not pay)
    now = utc_now()
    task_id = new_id("task")
    task = Task(
        id=task_id,
        user_id=user.id,
        status="PENDING",
        text=text,
        cost_credits=cost,
        created_at=now,
        updated_at=now,
        attachments=[
            StoredAttachment(
                name=upload.name,
                media_type=upload.media_type,
                size_bytes=len(upload.content),
                key=f"{user.id}/{task_id}/{index}{upload.extension}",  # server-generated, never the client's name
            )
            for index, upload in enumerate(uploads)
        ],
    )
    digest = request_hash(text, uploads) if key else ""
    clock = time.time()
    claim = (analysis_keys.claim(user.id, key, task.id, digest, now=clock, until=clock + KEY_SECONDS),) if key else ()
    stored: list[str] = []
    try:
        for attachment, upload in zip(task.attachments, uploads, strict=True):
            _s3().put_object(
                Bucket=settings.attachments_bucket,
                Key=attachment.key,
                Body=upload.content,
                ContentType=upload.media_type,
            )
            stored.append(attachment.key)
        ledger.record(
            user.id,
            ledger.transaction_id_for(f"analysis:{task.id}"),
            "DEBIT",
            cost,
            0.0,
            f"Analysis task {task.id}.",
            also=(store.new_task(task), *claim),
        )
    except Exception as error:
        earlier = analysis_keys.holder(error, user.id, key) if key and isinstance(error, unit.Refused) else None
        if earlier is not None:
            _delete_files(stored)  # this request's copies: the key's task has its own
            return _task_of_key(user, earlier, digest)
        # A timeout may hide a transaction DynamoDB did apply: then the task exists, paid, and is queued below.
        if isinstance(error, ClaraError) or not _created(task):
            _delete_files(stored)
            raise
        logger.warning("The task was created though its transaction failed to answer", extra={"task_id": task.id})
    try:
        queue_task(task)
    except Exception as error:
        logger.exception("Analysis task not queued; refunding", extra={"task_id": task.id})
        release = (analysis_keys.release(user.id, key, task.id, now=time.time()),) if key else ()
        fail_and_refund(task, "The analysis could not be queued. Your credits were refunded.", also=release)
        _delete_files(stored)
        raise SomethingWentWrong() from error
    count("AnalysesCreated")
    count("CreditsSpent", cost)
    return task


def _task_of_key(user: User, earlier: analysis_keys.KeyUse, digest: str) -> Task:
    """The task an Idempotency-Key made, as it is now, for the same request; 409 for another."""
    if earlier.request_hash != digest:
        raise IdempotencyKeyReused()
    task = get_task(user.id, earlier.task_id)
    if task is None:  # the key and its task are written together and go only with their user
        raise NotFound("User")
    logger.info("Analysis request replayed under its Idempotency-Key", extra={"task_id": task.id})
    return task


def _created(task: Task) -> bool:
    try:
        return get_task(task.user_id, task.id) is not None
    except Exception:
        return False  # unknown: treated as not created (a paid task without its files fails and is refunded)


def queue_task(task: Task) -> None:
    """One message naming the task. Sent again by the sweeper when a crash lost it; the worker's conditional claim
    makes a duplicate harmless."""
    _sqs().send_message(
        QueueUrl=get_settings().analysis_queue_url,
        MessageBody=json.dumps({"task_id": task.id, "user_id": task.user_id}),
    )


def _delete_files(keys: list[str]) -> None:
    if keys:
        _s3().delete_objects(
            Bucket=get_settings().attachments_bucket, Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True}
        )


# ------------------------------------------------------------------------------------------- the worker


class TaskBusy(Exception):
    """Another run holds the task (a duplicate delivery): retry the message later, when it will be finished."""


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
        _sqs().change_message_visibility(
            QueueUrl=get_settings().analysis_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=delay
        )
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
    _claim(task, run_id)
    try:
        result = analyzer_for_settings().analyze(task.text, _inputs(task))
    except PermanentAnalysisError as error:
        fail_and_refund(task, f"The analysis failed: {error}")
        return
    except Exception:
        if receive_count >= get_settings().analysis_max_receives:
            logger.exception("Analysis failed on its last try", extra={"task_id": task.id})
            fail_and_refund(task, "The analysis failed after every retry. Your credits were refunded.")
            return
        _release(task, run_id)
        raise
    stored_result, now = result.model_dump(mode="json"), utc_now()
    completed = task.model_copy(update={"status": "COMPLETED", "result": stored_result, "updated_at": now})
    event, recorded = webhook_events.task_ended(completed)  # in the task's own unit: a crash never loses it
    unit.commit(
        store.change_status(
            task, "COMPLETED", allowed_from=("PROCESSING",), held_by=run_id, result=stored_result, at=now
        ),
        *recorded,
    )
    count("AnalysesCompleted")
    webhook_events.dispatch(event)


def _claim(task: Task, run_id: str) -> None:
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


def _release(task: Task, run_id: str) -> None:
    """Let the next delivery claim the task at once instead of waiting for the lease."""
    try:
        release = store.change_status(task, "PROCESSING", allowed_from=("PROCESSING",), held_by=run_id, lease_until=0)
        unit.commit(release)
    except Exception:
        logger.warning("Could not release the task's lease", extra={"task_id": task.id})


def _inputs(task: Task) -> list[AttachmentInput]:
    bucket = get_settings().attachments_bucket

    def reader(key: str) -> Any:
        return lambda: _s3().get_object(Bucket=bucket, Key=key)["Body"].read()

    return [
        AttachmentInput(
            name=attachment.name,
            media_type=attachment.media_type,
            kind=_kind(attachment.media_type),
            size_bytes=attachment.size_bytes,
            s3_uri=f"s3://{bucket}/{attachment.key}",
            read=reader(attachment.key),
        )
        for attachment in task.attachments
    ]


def _kind(media_type: str) -> Any:
    return "pdf" if media_type == "application/pdf" else media_type.split("/")[0]


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

"""An analysis request becomes a paid PENDING task (files in S3, one transaction for
the debit and the task, one SQS message); the worker runs it once, PENDING -> PROCESSING -> COMPLETED|FAILED, by
conditional writes, and a task that fails for good is refunded exactly once (a CREDIT keyed by the task id).

A request with an Idempotency-Key claims the key in that same transaction (clara.store.analysis_keys): for
KEY_SECONDS the same request under the key answers the key's task, charged and queued once; another request is 409.
"""

import hashlib
import json
import time

from clara.contract.errors import (
    ClaraError,
    IdempotencyKeyReused,
    InsufficientCredits,
    InvalidSchema,
    NotFound,
    SomethingWentWrong,
)
from clara.domain.analysis import ports
from clara.domain.analysis.attachments import Upload
from clara.domain.analysis.settlement import fail_and_refund
from clara.domain.credits import ledger
from clara.formats import new_id, utc_now
from clara.observability import count, logger
from clara.records.accounts import User
from clara.records.analysis import StoredAttachment, Task
from clara.settings import get_settings
from clara.store import analysis_keys, unit
from clara.store import tasks as store
from clara.store.tasks import get_task

# How long an Idempotency-Key answers its task, from the request that made it (a replay does not extend it).
KEY_SECONDS = 24 * 60 * 60


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
    sent leaves a paid PENDING task that the sweeper queues again (clara.domain.analysis.backstops).

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
        files = ports.attachments()
        for attachment, upload in zip(task.attachments, uploads, strict=True):
            files.put(attachment.key, upload.content, upload.media_type)
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
    ports.task_queue().send(json.dumps({"task_id": task.id, "user_id": task.user_id}))


def _delete_files(keys: list[str]) -> None:
    if keys:
        ports.attachments().delete(keys)

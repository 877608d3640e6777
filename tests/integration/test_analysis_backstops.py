"""Every charged task ends, whatever crashes: the sweeper (a schedule) and the dead-letter queue, both run through
AnalysisSweeperFunction's real handler against moto.

A crash is a BaseException raised where the process would die: nothing in the code may catch and compensate it.
The sweeper's clock is moved forward instead of waiting."""

import json
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

import clara.domain.analysis.backstops as sweeper
from clara.domain.analysis import leases, settlement
from clara.domain.analysis import ports as analysis_ports
from clara.records.analysis import Task
from clara.settings import get_settings
from clara.store import unit
from clara.store.tasks import get_task
from harness import media
from harness.accounts import set_attributes, table
from harness.inprocess import FUNCTIONS, TEMPLATE, TEST_ENVIRONMENT
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, scheduled_event, sqs_event
from tests.integration.test_analysis import COST, Clara, delivered

SWEEPER = "AnalysisSweeperFunction"
REFUNDED = "The analysis could not be completed. Your credits were refunded."


class Crash(BaseException):
    """The process dies here (SIGKILL, the Lambda sandbox torn down): no except clause sees it."""


class CrashingQueue:
    def send(self, body: str) -> None:
        raise Crash()


def environment(clara: Clara) -> None:
    for name, value in function_environment(TEMPLATE, SWEEPER, clara.stack.physical_ids, TEST_ENVIRONMENT).items():
        clara.monkeypatch.setenv(name, value)
    get_settings.cache_clear()


def sweep(clara: Clara, later_by: float = 0) -> dict[str, Any]:
    """Run the scheduled sweep, `later_by` seconds from now."""
    environment(clara)
    now = time.time() + later_by
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweeper, "time", SimpleNamespace(time=lambda: now))
        return FUNCTIONS.handler(SWEEPER)(scheduled_event("every-minute"), LambdaContext(SWEEPER, 60))


def dead_letter(clara: Clara, task: dict[str, Any], account_id: str, copies: int = 1) -> dict[str, Any]:
    """Deliver the task's message as SQS hands a dead-lettered one to the sweeper."""
    environment(clara)
    body = json.dumps({"task_id": task["id"], "user_id": account_id})
    messages = [
        {
            "MessageId": f"dead-{index}",
            "ReceiptHandle": f"handle-{index}",
            "Body": body,
            "MD5OfBody": "",
            "Attributes": {},
        }
        for index in range(copies)
    ]
    event = sqs_event(messages, queue_arn="arn:aws:sqs:us-east-1:123456789012:AnalysisDeadLetterQueue")
    return FUNCTIONS.handler(SWEEPER)(event, LambdaContext(SWEEPER, 60))


def submit_and_crash_before_queueing(clara: Clara, account: Any) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analysis_ports.task_queue, "substitute", CrashingQueue)
        with pytest.raises(Crash):
            clara.analyse(account)
    [task] = clara.tasks(account).json["data"]
    return task


def claim_and_die(clara: Clara, account: Any, task: dict[str, Any]) -> None:
    """A worker claims the task, then is killed: the task stays PROCESSING under its lease."""
    leases.claim(Task.model_validate(clara.stored_task(account, task["id"])), "run_killed")


def refunds(clara: Clara, account: Any) -> list[str]:
    return [t["type"] for t in clara.task_transactions(account) if t["type"] == "CREDIT"]


def test_a_task_charged_but_never_queued_is_queued_by_the_sweeper_and_completes(clara, fake_analyzer):
    account = clara.user(credits=100)
    task = submit_and_crash_before_queueing(clara, account)
    assert (task["status"], clara.balance(account), clara.messages_in_queue()) == ("PENDING", 100 - COST, 0)

    assert sweep(clara)["requeued"] == []  # too young: its message may still be on its way
    assert sweep(clara, later_by=121)["requeued"] == [task["id"]]
    assert sweep(clara, later_by=180)["requeued"] == []  # queued again at most every 15 minutes
    analyzer = fake_analyzer()
    assert clara.run_worker([delivered(m, 1) for m in clara.receive()]) == {"batchItemFailures": []}

    assert analyzer.calls == 1
    assert clara.task(account, task["id"])["status"] == "COMPLETED"
    assert clara.balance(account) == 100 - COST
    assert "gsi1pk" not in clara.stored_task(account, task["id"])  # out of the open-task listing
    assert sweep(clara, later_by=3600) == {
        "requeued": [],
        "settled": [],
        "failed": [],
        "notices_sent": [],
        "webhook_events_queued": [],
    }


def test_an_open_task_is_in_the_sparse_listing_until_it_ends(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    stored = clara.stored_task(account, created["id"])
    assert stored["gsi1pk"].startswith("OPEN_TASKS#") and stored["gsi1sk"].endswith(f"#{created['id']}")

    fake_analyzer()
    clara.run_worker(clara.receive())

    assert {"gsi1pk", "gsi1sk"}.isdisjoint(clara.stored_task(account, created["id"]))


def test_a_pending_task_with_its_message_is_at_worst_run_once_more_than_needed(clara, fake_analyzer):
    """A re-queued duplicate of a task waiting in a backlog is harmless: the worker's claim runs it once."""
    account = clara.user(credits=100)
    created = clara.submit(account)
    assert sweep(clara, later_by=121)["requeued"] == [created["id"]]
    analyzer = fake_analyzer()

    messages = clara.receive()
    assert len(messages) == 2
    for message in messages:
        clara.run_worker([delivered(message, 1)])

    assert analyzer.calls == 1
    assert clara.balance(account) == 100 - COST
    assert [t["type"] for t in clara.task_transactions(account)] == ["DEBIT"]


def test_a_processing_task_whose_worker_and_message_are_gone_is_failed_and_refunded_once(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    clara.receive()  # the message is gone with its worker (say it expired)
    claim_and_die(clara, account, created)
    abandoned = sweeper.processing_abandoned_after()

    assert sweep(clara, later_by=leases.LEASE_SECONDS + 60)["settled"] == []  # its message may still come back
    assert sweep(clara, later_by=abandoned + 60)["settled"] == [created["id"]]
    assert sweep(clara, later_by=abandoned + 120)["settled"] == []
    assert dead_letter(clara, created, account.id) == {"batchItemFailures": []}  # a late dead letter: nothing

    task = clara.task(account, created["id"])
    assert (task["status"], task["error"]) == ("FAILED", REFUNDED)
    assert clara.balance(account) == 100
    assert refunds(clara, account) == ["CREDIT"]


def test_a_task_never_started_within_the_queues_retention_is_failed_and_refunded(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)

    report = sweep(clara, later_by=sweeper.QUEUE_RETENTION_SECONDS + 60)

    assert report["settled"] == [created["id"]]
    task = clara.task(account, created["id"])
    assert task["status"] == "FAILED" and "refunded" in task["error"]
    assert clara.balance(account) == 100


def test_a_dead_lettered_task_is_failed_and_refunded_once_even_delivered_twice(clara):
    """A worker killed on the last receive: the message goes to the dead-letter queue once the lease is over."""
    account = clara.user(credits=100)
    created = clara.submit(account)
    clara.receive()
    claim_and_die(clara, account, created)
    lease_over = Decimal(int(time.time()) - 1)
    set_attributes(clara.stack, f"USER#{account.id}", f"TASK#{created['id']}", lease_until=lease_over)

    assert dead_letter(clara, created, account.id, copies=2) == {"batchItemFailures": []}
    assert dead_letter(clara, created, account.id) == {"batchItemFailures": []}

    task = clara.task(account, created["id"])
    assert (task["status"], task["error"], task["result"]) == ("FAILED", REFUNDED, None)
    assert clara.balance(account) == 100
    assert refunds(clara, account) == ["CREDIT"]


def test_a_dead_letter_waits_while_a_run_holds_the_task(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    clara.receive()
    claim_and_die(clara, account, created)  # its lease (390 s) is still running

    assert dead_letter(clara, created, account.id) == {"batchItemFailures": [{"itemIdentifier": "dead-0"}]}
    assert clara.task(account, created["id"])["status"] == "PROCESSING"
    assert clara.balance(account) == 100 - COST


def test_a_dead_letter_of_a_completed_task_changes_nothing(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    fake_analyzer()
    clara.run_worker(clara.receive())

    assert dead_letter(clara, created, account.id) == {"batchItemFailures": []}
    assert clara.task(account, created["id"])["status"] == "COMPLETED"
    assert clara.balance(account) == 100 - COST


def test_a_worker_claiming_the_task_meanwhile_wins_over_a_backstop(clara):
    """The backstop read the task, then a worker claimed it: the settle is refused, nothing is refunded."""
    account = clara.user(credits=100)
    created = clara.submit(account)
    seen = clara.stored_task(account, created["id"])
    claim_and_die(clara, account, created)

    with pytest.raises(unit.Refused):  # the task's condition (unchanged since read) failed: nothing was written
        settlement.fail_and_refund(Task.model_validate(seen), REFUNDED, unchanged_since=seen["updated_at"])

    stored = get_task(account.id, created["id"])
    assert stored is not None and stored.status == "PROCESSING"
    assert clara.balance(account) == 100 - COST


def test_a_task_is_stored_as_it_always_was_and_a_stored_one_is_settled(clara, fake_analyzer):
    """The task item's attributes keep the form they have always had (but the result, text since RESULT_FORMAT 1),
    so the items already in the table read back, a result stored as a map included, and the backstops' "unchanged
    since" condition matches their stored updated_at text."""
    account = clara.user(credits=100)
    png = media.png()
    created = clara.submit(account, text=None, files=[("photo.png", png)])  # no text: stored as ""
    stored = clara.stored_task(account, created["id"])
    assert stored["kind"] == "task" and stored["gsi2pk"] == f"TASKS#{account.id}"
    assert stored["created_at"].endswith("Z") and stored["updated_at"] == stored["created_at"]  # as JSON writes it
    assert stored["gsi2sk"] == stored["gsi1sk"] and stored["gsi2sk"].endswith(f"+00:00#{created['id']}")
    assert stored["cost_credits"] == Decimal(str(COST)) and stored["text"] == ""
    assert [(a["name"], a["media_type"], a["size_bytes"]) for a in stored["attachments"]] == [
        ("photo.png", "image/png", len(png))
    ]
    fake_analyzer()
    clara.run_worker(clara.receive())
    done = clara.stored_task(account, created["id"])
    assert done["updated_at"].endswith("+00:00") and "lease_until" in done
    # The result as its JSON text since RESULT_FORMAT 1 (a task completed before holds a map in `result`).
    assert isinstance(json.loads(done["result_json"]), dict) and done["result_format"] == 1 and "result" not in done
    # The same task as a release before the text stored it (its result a map) is shown alike, alone and listed.
    mapped = {name: value for name, value in done.items() if name not in ("result_json", "result_format")}
    mapped |= {"sk": "TASK#task_mapped", "id": "task_mapped", "gsi2sk": f"{done['created_at']}#task_mapped"}
    table(clara.stack).put_item(Item={**mapped, "result": json.loads(done["result_json"], parse_float=Decimal)})
    shown = {each: clara.task(account, each) for each in (created["id"], "task_mapped")}
    assert shown[created["id"]]["result"] is not None
    assert shown[created["id"]]["result"] == shown["task_mapped"]["result"]
    listed = {each["id"]: each for each in clara.tasks(account).json["data"]}
    assert listed[created["id"]] == shown[created["id"]] and listed["task_mapped"] == shown["task_mapped"]

    # An item as an earlier release wrote it, waiting since before the queue could still hold its message.
    old = "2026-01-02T03:04:05.678901"
    legacy = {
        **{name: stored[name] for name in ("pk", "kind", "gsi2pk", "attachments")},
        "sk": "TASK#task_legacy",
        "id": "task_legacy",
        "user_id": account.id,
        "status": "PENDING",
        "text": "an old one",
        "cost_credits": Decimal("2.5"),
        "created_at": f"{old}Z",
        "updated_at": f"{old}Z",
        "gsi1pk": "OPEN_TASKS#0",
        "gsi1sk": f"{old}+00:00#task_legacy",
        "gsi2sk": f"{old}+00:00#task_legacy",
    }
    table(clara.stack).put_item(Item=legacy)
    balance = clara.balance(account)

    assert clara.task(account, "task_legacy")["attachments"] == [
        {"name": "photo.png", "media_type": "image/png", "size_bytes": len(png)}
    ]
    assert sweep(clara)["settled"] == ["task_legacy"]
    settled = clara.task(account, "task_legacy")
    assert (settled["status"], settled["error"]) == ("FAILED", sweeper.NEVER_STARTED_ERROR)
    assert clara.balance(account) == balance + 2.5
    assert {"gsi1pk", "gsi1sk"}.isdisjoint(clara.stored_task(account, "task_legacy"))

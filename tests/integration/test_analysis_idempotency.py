"""Idempotent analysis requests and the 201's Location (issue 24, items 4 and 6), as a client sees them: the status,
the envelope, the headers, the balance, the user's tasks and transactions, and what is left in the bucket and the
queue.

A request with an `Idempotency-Key` is answered once per key and user for 24 hours: the same request again is the
same task (201, no second debit, no second message), another request under the key is 409. Requests without a key
are what they always were. Races are run in process, as tests/integration/test_guards.py runs them."""

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import clara.domain.credits.ledger as ledger
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis import submission
from clara.domain.analysis.attachments import check_upload
from clara.store.users import get_user
from harness import media
from harness.accounts import API, PRIVATE, Account, error
from tests.integration import test_analysis
from tests.integration.test_analysis import COST, CREATED, Clara
from tests.integration.test_guards import outcome

KEY = "Idempotency-Key"
REUSED = "The Idempotency-Key was already used with a different request."
TEXT = "The Eiffel Tower was completed in 1889 in Paris."
DAY = 24 * 60 * 60


def photo() -> list[tuple[str, bytes]]:
    return [("photo.png", media.png())]


def analyse(
    clara: Clara,
    account: Account,
    key: str | None,
    text: str | None = TEXT,
    files: list[tuple[str, bytes]] | None = None,
    *,
    headers: dict[str, str] | None = None,
    **call: Any,
) -> Any:
    """POST an analysis, each time as a new multipart body (a fresh boundary): a retry repeats the request, not
    its bytes."""
    body, content_type = media.multipart([("text", text)] if text is not None else [], files or [])
    sent = {"Authorization": account.auth, "Content-Type": content_type, **(headers or {})}
    if key is not None:
        sent[KEY] = key
    return clara.call_api("POST", f"{API}/users/{account.id}/agent/analysis", headers=sent, body=body, **call)


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """clara.domain.analysis sees the time `seconds` later."""
    monkeypatch.setattr(submission, "time", SimpleNamespace(time=lambda: time.time() + seconds))


def assert_one_task_charged_once(clara: Clara, account: Account, task_id: str, balance: float) -> None:
    assert clara.balance(account) == balance
    assert [(t["type"], t["value_in_credits"]) for t in clara.task_transactions(account)] == [("DEBIT", COST)]
    assert [task["id"] for task in clara.tasks(account).json["data"]] == [task_id]
    assert clara.messages_in_queue() == 1
    assert all(key.startswith(f"{account.id}/{task_id}/") for key in clara.stored_keys())


# =========================================================================================== the same request again


def test_the_same_key_and_request_again_answers_the_same_task_and_charges_once(clara):
    account = clara.user(credits=100)
    files = [("photo.png", media.png()), ("report.pdf", media.pdf("Sales doubled."))]

    first = analyse(clara, account, "retry-1", files=files)
    again = analyse(clara, account, "retry-1", files=files)

    assert (first.status, again.status) == (201, 201), (first.text, again.text)
    assert again.json == first.json
    task = clara.task(account, first.json["data"]["id"])
    assert again.json == {"data": task, "message": CREATED, "status": "success"}
    assert again.headers["Location"] == first.headers["Location"]
    assert_one_task_charged_once(clara, account, first.json["data"]["id"], 100 - COST)
    assert len(clara.stored_keys()) == 2  # the first request's files; the retry's were not kept


def test_a_key_is_read_whatever_the_case_of_the_header_name(clara):
    account = clara.user(credits=100)

    first = analyse(clara, account, None, headers={"idempotency-key": "lower"})
    again = analyse(clara, account, None, headers={"IDEMPOTENCY-KEY": "lower"})

    assert (first.status, again.status) == (201, 201)
    assert again.json["data"]["id"] == first.json["data"]["id"]
    assert clara.balance(account) == 100 - COST


def test_a_retry_answers_the_task_as_it_is_now_even_when_the_balance_no_longer_covers_a_new_one(clara, fake_analyzer):
    account = clara.user(credits=COST)
    fake_analyzer()
    first = analyse(clara, account, "lost-answer", files=photo())
    assert first.status == 201, first.text
    clara.run_worker([test_analysis.delivered(m, 1) for m in clara.receive()])

    again = analyse(clara, account, "lost-answer", files=photo())

    assert again.status == 201, again.text
    task = clara.task(account, first.json["data"]["id"])
    assert task["status"] == "COMPLETED"
    assert again.json == {"data": task, "message": CREATED, "status": "success"}
    assert clara.balance(account) == 0
    assert [t["type"] for t in clara.task_transactions(account)] == ["DEBIT"]


def test_a_task_that_could_not_be_queued_frees_its_key_for_the_retry(clara, monkeypatch):
    account = clara.user(credits=100)
    with monkeypatch.context() as patch:
        patch.setattr(analysis_ports.task_queue, "substitute", test_analysis.FailingQueue)
        failed = analyse(clara, account, "flaky-queue", files=photo())

    retried = analyse(clara, account, "flaky-queue", files=photo())

    assert failed.status == 500 and retried.status == 201, retried.text
    assert retried.json["data"]["status"] == "PENDING"
    assert sorted(task["status"] for task in clara.tasks(account).json["data"]) == ["FAILED", "PENDING"]
    assert clara.balance(account) == 100 - COST  # the failed task's debit was refunded
    assert clara.messages_in_queue() == 1


def test_a_new_key_below_the_cost_is_403_and_leaves_nothing(clara):
    account = clara.user(credits=COST - 1)

    refused = analyse(clara, account, "too-poor", files=photo())

    assert (refused.status, refused.json) == (403, error(test_analysis.NO_CREDITS))
    test_analysis.assert_nothing_charged_or_left(clara, account, COST - 1)


# =========================================================================================== another request


OTHER_REQUESTS: dict[str, Callable[[], tuple[str | None, list[tuple[str, bytes]]]]] = {
    "another text": lambda: ("The Eiffel Tower was completed in 1890.", photo()),
    "no text": lambda: (None, photo()),
    "another file's bytes": lambda: (TEXT, [("photo.png", media.png(width=4))]),
    "another file name": lambda: (TEXT, [("picture.png", media.png())]),
    "another media type": lambda: (TEXT, [("photo.jpg", media.jpeg())]),
    "one more file": lambda: (TEXT, [*photo(), ("speech.wav", media.wav())]),
    "no file": lambda: (TEXT, []),
}


@pytest.mark.parametrize("case", list(OTHER_REQUESTS))
def test_the_same_key_with_another_request_is_409_and_changes_nothing(clara, case):
    account = clara.user(credits=100)
    first = analyse(clara, account, "reused", files=photo())
    assert first.status == 201, first.text
    text, files = OTHER_REQUESTS[case]()

    other = analyse(clara, account, "reused", text, files)

    assert (other.status, other.json) == (409, error(REUSED))
    assert "Location" not in other.headers
    assert_one_task_charged_once(clara, account, first.json["data"]["id"], 100 - COST)
    assert len(clara.stored_keys()) == 1


def test_keys_are_per_user(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)

    for_ada = analyse(clara, ada, "shared-key", files=photo())
    for_grace = analyse(clara, grace, "shared-key", "Another claim altogether.")

    assert (for_ada.status, for_grace.status) == (201, 201), (for_ada.text, for_grace.text)
    assert for_ada.json["data"]["id"] != for_grace.json["data"]["id"]
    assert (clara.balance(ada), clara.balance(grace)) == (100 - COST, 100 - COST)


def test_without_a_key_every_request_is_a_new_task_as_before(clara):
    account = clara.user(credits=100)

    first = analyse(clara, account, None, files=photo())
    second = analyse(clara, account, None, files=photo())

    assert (first.status, second.status) == (201, 201)
    assert first.json["data"]["id"] != second.json["data"]["id"]
    assert clara.balance(account) == 100 - 2 * COST
    assert clara.messages_in_queue() == 2


# =========================================================================================== 24 hours


def test_a_key_answers_its_task_for_24_hours_then_makes_a_new_one(clara, monkeypatch):
    account = clara.user(credits=100)
    first = analyse(clara, account, "daily", files=photo())

    later(monkeypatch, DAY - 60)
    within = analyse(clara, account, "daily", files=photo())
    later(monkeypatch, DAY + 1)
    after = analyse(clara, account, "daily", files=photo())
    again = analyse(clara, account, "daily", files=photo())

    assert [r.status for r in (first, within, after, again)] == [201] * 4
    assert within.json["data"]["id"] == first.json["data"]["id"]
    assert after.json["data"]["id"] != first.json["data"]["id"]
    assert again.json["data"]["id"] == after.json["data"]["id"]
    assert clara.balance(account) == 100 - 2 * COST
    assert len(clara.tasks(account).json["data"]) == 2


def test_after_24_hours_the_key_takes_another_request(clara, monkeypatch):
    account = clara.user(credits=100)
    analyse(clara, account, "daily", files=photo())

    later(monkeypatch, DAY + 1)
    other = analyse(clara, account, "daily", "A different claim.")

    assert other.status == 201, other.text
    assert clara.balance(account) == 100 - 2 * COST


# =========================================================================================== races


def race_submissions(clara: Clara, account: Account, requests: list[tuple[str, list[tuple[str, bytes]]]]) -> list[Any]:
    """Submit each request in its own thread with the same key: every one has stored its files and built its writes
    before any commits (a barrier in front of the ledger's transaction). Each answers its task id, or its error's
    name."""
    clara.call_api(  # the agent function's environment: its table, bucket and queue
        "GET", f"{API}/users/{account.id}/agent/supported_attachments", headers={"Authorization": PRIVATE}
    )
    user = get_user(account.id)
    assert user is not None
    everyone_ready = threading.Barrier(len(requests))
    record = ledger.record

    def record_after_the_others(*arguments: Any, **keywords: Any) -> Any:
        everyone_ready.wait(timeout=30)
        return record(*arguments, **keywords)

    answers: list[Any] = [None] * len(requests)

    def submit(index: int, text: str, files: list[tuple[str, bytes]]) -> None:
        uploads = [check_upload(name, content) for name, content in files]
        tasks: list[str] = []
        answer = outcome(lambda: tasks.append(submission.submit(user, text, uploads, idempotency_key="raced").id))()
        answers[index] = tasks[0] if answer == "ok" else answer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ledger, "record", record_after_the_others)
        threads = [threading.Thread(target=submit, args=(i, *request)) for i, request in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return answers


def test_two_concurrent_identical_requests_make_one_task_and_one_debit(clara, atomic_dynamodb):
    account = clara.user(credits=100)

    answers = race_submissions(clara, account, [(TEXT, photo()), (TEXT, photo())])

    assert answers[0] == answers[1] and answers[0].startswith("task_"), answers
    assert_one_task_charged_once(clara, account, answers[0], 100 - COST)
    assert len(clara.stored_keys()) == 1


def test_two_concurrent_different_requests_under_one_key_make_one_task_and_one_409(clara, atomic_dynamodb):
    account = clara.user(credits=100)

    answers = race_submissions(clara, account, [(TEXT, photo()), ("Another claim.", [])])

    task_ids = [answer for answer in answers if answer.startswith("task_")]
    assert sorted(answers, key=lambda a: a.startswith("task_")) == ["IdempotencyKeyReused", *task_ids], answers
    assert_one_task_charged_once(clara, account, task_ids[0], 100 - COST)


# =========================================================================================== round trips


def test_round_trips_of_an_analysis_with_a_key_fresh_replayed_and_reused(clara, dynamodb_calls):
    account = clara.user(credits=100)
    measured = {}
    for name, text in (("fresh", TEXT), ("replayed", TEXT), ("another request", "Other.")):
        dynamodb_calls.names.clear()
        response = analyse(clara, account, "counted", text, photo())
        measured[name] = (response.status, list(dynamodb_calls.names))
        print(f"\nDynamoDB round trips, POST /agent/analysis with a key ({name}): {measured[name]}")

    fresh, replayed, reused = measured["fresh"], measured["replayed"], measured["another request"]
    assert (fresh[0], replayed[0], reused[0]) == (201, 201, 409)
    assert len(fresh[1]) <= 3 and fresh[1].count("TransactWriteItems") == 1, fresh  # as without a key
    # The refused transaction brings the key's record back with its refusal; the replay then reads the task.
    assert len(replayed[1]) <= 4 and replayed[1].count("TransactWriteItems") == 1, replayed
    assert len(reused[1]) <= 3, reused

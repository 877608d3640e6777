"""Cancelling a PENDING task (POST /users/{user_id}/tasks/{task_id}/cancel) through the tasks function's real
handler, the worker and the backstops on moto: the task ends FAILED and its credits come back once, and the
cancel and the worker's claim, each one conditional write, never both win.

Run with -s to see the DynamoDB round trips of one cancel printed."""

import threading
from collections.abc import Callable
from typing import Any

import pytest

from clara.domain.analysis import leases, settlement, worker
from clara.domain.analysis.cancel import cancel_task
from clara.domain.analysis.ports import PermanentAnalysisError
from clara.records.analysis import Task
from clara.store import tasks as task_store
from harness.accounts import API, PRIVATE, PUBLIC, bearer
from tests.integration.test_analysis import (
    COST,
    INACTIVE,
    NO_ACCESS,
    TASK_NOT_FOUND,
    UNAUTHENTICATED,
    Clara,
    assert_not_allowed,
    delivered,
    error,
    raising,
)
from tests.integration.test_analysis_backstops import claim_and_die, dead_letter, refunds, sweep
from tests.integration.test_guards import outcome

CANCELLED = "Task cancelled successfully."
CANCELLED_ERROR = "Cancelled at the user's request."
NOT_CANCELLABLE = "The task can no longer be cancelled."
UNKNOWN_TASK = "task_00000000000000000000000000000000"


def cancel(clara: Clara, user_id: str, task_id: str, authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return clara.call_api("POST", f"{API}/users/{user_id}/tasks/{task_id}/cancel", headers=headers)


# =========================================================================================== the route


def test_a_pending_task_is_cancelled_failed_and_refunded_once(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)

    response = cancel(clara, account.id, created["id"], account.auth)

    assert response.status == 200, response.text
    assert response.json["message"] == CANCELLED and response.json["status"] == "success"
    task = response.json["data"]
    assert (task["id"], task["status"], task["error"], task["result"]) == (
        created["id"],
        "FAILED",
        CANCELLED_ERROR,
        None,
    )
    assert clara.task(account, created["id"]) == task  # what the client got back is what is stored
    assert clara.balance(account) == 100
    history = clara.task_transactions(account)
    assert sorted((t["type"], t["value_in_credits"]) for t in history) == [("CREDIT", COST), ("DEBIT", COST)]
    assert all(created["id"] in t["description"] for t in history)


@pytest.mark.parametrize("credential", ["API key token", "private key"])
def test_the_owners_api_key_token_and_the_private_key_may_cancel(clara, credential):
    account = clara.user(credits=100)
    created = clara.submit(account)
    authorization = bearer(clara.accounts.api_key_token(account)) if credential == "API key token" else PRIVATE

    response = cancel(clara, account.id, created["id"], authorization)

    assert (response.status, response.json["message"]) == (200, CANCELLED)
    assert response.json["data"]["status"] == "FAILED"
    assert clara.balance(account) == 100


def test_a_task_cancelled_twice_is_refunded_once(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    assert cancel(clara, account.id, created["id"], account.auth).status == 200

    again = cancel(clara, account.id, created["id"], account.auth)

    assert (again.status, again.json) == (409, error(NOT_CANCELLABLE))
    assert clara.balance(account) == 100
    assert refunds(clara, account) == ["CREDIT"]


def test_a_claimed_task_can_no_longer_be_cancelled(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    claim_and_die(clara, account, created)  # a worker holds it: PROCESSING

    response = cancel(clara, account.id, created["id"], account.auth)

    assert (response.status, response.json) == (409, error(NOT_CANCELLABLE))
    assert clara.task(account, created["id"])["status"] == "PROCESSING"
    assert clara.balance(account) == 100 - COST


def test_a_completed_or_failed_task_can_no_longer_be_cancelled(clara, fake_analyzer):
    account = clara.user(credits=100)
    completed = clara.submit(account, text="This claim completes.")
    fake_analyzer()
    clara.run_worker(clara.receive())
    failed = clara.submit(account, text="This claim fails.")
    fake_analyzer(raising(PermanentAnalysisError("the video could not be decoded")))
    clara.run_worker(clara.receive())
    before = [clara.task(account, task["id"]) for task in (completed, failed)]
    assert [task["status"] for task in before] == ["COMPLETED", "FAILED"]

    answers = [cancel(clara, account.id, task["id"], account.auth) for task in (completed, failed)]

    assert [(a.status, a.json) for a in answers] == [(409, error(NOT_CANCELLABLE))] * 2
    assert [clara.task(account, task["id"]) for task in (completed, failed)] == before
    assert clara.balance(account) == 100 - COST  # the failed one's refund only
    assert refunds(clara, account) == ["CREDIT"]


def test_another_users_task_or_an_unknown_one_does_not_exist_for_you(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)
    graces = clara.submit(grace)

    theirs = cancel(clara, ada.id, graces["id"], ada.auth)
    unknown = cancel(clara, ada.id, UNKNOWN_TASK, ada.auth)

    assert (theirs.status, theirs.json) == (404, error(TASK_NOT_FOUND))
    assert (unknown.status, unknown.json) == (404, error(TASK_NOT_FOUND))
    assert clara.task(grace, graces["id"])["status"] == "PENDING"
    assert clara.balance(grace) == 100 - COST


def test_another_users_id_in_the_path_is_forbidden(clara):
    ada, grace = clara.user(credits=100), clara.user(credits=100)
    graces = clara.submit(grace)

    response = cancel(clara, grace.id, graces["id"], ada.auth)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert clara.task(grace, graces["id"])["status"] == "PENDING"
    assert clara.balance(grace) == 100 - COST


def test_a_cancel_needs_a_credential_of_the_route_and_an_active_user(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    inactive = clara.accounts.register()

    anonymous = cancel(clara, account.id, created["id"], None)
    public = cancel(clara, account.id, created["id"], PUBLIC)
    not_active = cancel(clara, inactive.id, UNKNOWN_TASK, inactive.auth)

    assert (anonymous.status, anonymous.json) == (401, error(UNAUTHENTICATED))
    assert (public.status, public.json) == (403, error(NO_ACCESS))
    assert (not_active.status, not_active.json) == (401, error(INACTIVE))
    assert clara.task(account, created["id"])["status"] == "PENDING"


def test_a_cancel_refuses_other_methods(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)

    for method in ("GET", "DELETE"):
        assert_not_allowed(clara, account, method, f"tasks/{created['id']}/cancel")
    assert clara.task(account, created["id"]) == created


# =========================================================================================== after a cancel


def test_a_cancelled_tasks_message_arriving_later_is_a_no_op_for_the_worker(clara, fake_analyzer):
    account = clara.user(credits=100)
    created = clara.submit(account)
    cancelled = cancel(clara, account.id, created["id"], account.auth).json["data"]
    analyzer = fake_analyzer()

    outcome = clara.run_worker([delivered(message, 1) for message in clara.receive()])

    assert outcome == {"batchItemFailures": []}  # not retried either
    assert analyzer.calls == 0
    assert clara.task(account, created["id"]) == cancelled
    assert clara.balance(account) == 100
    assert refunds(clara, account) == ["CREDIT"]


def test_the_sweeper_and_the_dead_letter_queue_do_not_refund_a_cancelled_task_again(clara):
    account = clara.user(credits=100)
    created = clara.submit(account)
    seen = clara.stored_task(account, created["id"])  # as a backstop read it, PENDING, before the cancel
    cancelled = cancel(clara, account.id, created["id"], account.auth).json["data"]

    assert dead_letter(clara, created, account.id, copies=2) == {"batchItemFailures": []}
    assert sweep(clara, later_by=leases.LEASE_SECONDS + 60)["settled"] == []
    # A backstop acting on what it read before the cancel: the refund's id is the task's, so nothing is credited.
    settlement.fail_and_refund(Task.model_validate(seen), "A late settle.")

    assert clara.task(account, created["id"]) == cancelled
    assert clara.balance(account) == 100
    assert refunds(clara, account) == ["CREDIT"]


# =========================================================================================== the race


RACE_RUNS = 40


class ReadBarrier:
    """Holds each racing thread after its first read of the task until the other has read it too, so both act on
    the same PENDING task: the cancel reads it with clara.store.tasks.read_task, the worker with get_task."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, names: tuple[str, ...]):
        self.names = names
        self.reset()
        for module, name in ((task_store, "read_task"), (worker, "get_task")):
            monkeypatch.setattr(module, name, self.wrap(getattr(module, name)))

    def reset(self) -> None:
        self.barrier = threading.Barrier(len(self.names))
        self.waiting = set(self.names)

    def wrap(self, read: Callable[..., Any]) -> Callable[..., Any]:
        def read_then_wait(*arguments: Any) -> Any:
            found = read(*arguments)
            name = threading.current_thread().name
            if name in self.waiting:
                self.waiting.discard(name)
                self.barrier.wait(timeout=30)
            return found

        return read_then_wait


def race_once(account: Any, task_id: str, message: dict[str, Any], reads: ReadBarrier) -> dict[str, str]:
    """The cancel and the worker's run of the task's message, in two threads that both read the task first."""
    reads.reset()
    racers = {
        "cancel": outcome(lambda: cancel_task(account.id, task_id)),
        "worker": outcome(lambda: worker.process_message(message["Body"], 1)),
    }
    answers: dict[str, str] = {}
    threads = [
        threading.Thread(target=lambda name=name, racer=racer: answers.__setitem__(name, racer()), name=name)
        for name, racer in racers.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_cancel_racing_the_workers_claim_has_exactly_one_winner_and_refunds_at_most_once(
    clara, fake_analyzer, monkeypatch, atomic_dynamodb
):
    account = clara.user(credits=COST * RACE_RUNS)
    analyzer = fake_analyzer()
    reads = ReadBarrier(monkeypatch, ("cancel", "worker"))
    cancels_won: list[str] = []
    workers_won: list[str] = []

    for run in range(RACE_RUNS):
        created = clara.submit(account, text=f"Claim number {run}.")
        [message] = clara.receive()
        calls_before = analyzer.calls

        answers = race_once(account, created["id"], message, reads)

        task = clara.task(account, created["id"])
        worker_claimed = analyzer.calls - calls_before == 1
        if answers["cancel"] == "ok":
            assert not worker_claimed and answers["worker"] == "TaskBusy", (run, answers)
            assert (task["status"], task["error"]) == ("FAILED", CANCELLED_ERROR), run
            cancels_won.append(created["id"])
        else:
            assert worker_claimed and answers == {"cancel": "TaskNotCancellable", "worker": "ok"}, (run, answers)
            assert (task["status"], task["error"]) == ("COMPLETED", None), run
            workers_won.append(created["id"])

    print(f"\n{RACE_RUNS} races, a cancel against the worker: cancel won {len(cancels_won)}, worker {len(workers_won)}")
    assert clara.balance(account) == COST * len(cancels_won)  # refunded at most once: once per cancel that won
    credited = [
        task_id
        for transaction in clara.task_transactions(account)
        if transaction["type"] == "CREDIT"
        for task_id in cancels_won + workers_won
        if task_id in transaction["description"]
    ]
    assert sorted(credited) == sorted(cancels_won)


# =========================================================================================== round trips


def test_round_trips_of_a_cancel(clara, dynamodb_calls):
    account = clara.user(credits=100)
    created = clara.submit(account)
    dynamodb_calls.names.clear()

    response = cancel(clara, account.id, created["id"], account.auth)

    names = list(dynamodb_calls.names)
    print(f"\nDynamoDB round trips, POST /tasks/{{task_id}}/cancel (user token): {len(names)} {names}")
    assert response.status == 200
    assert names.count("TransactWriteItems") == 1  # the task FAILED and its refund: one ledger transaction
    # An authenticated request (2 at most), the task's read, the user's webhook endpoints (a task's end records
    # its event in its own transaction, for the endpoints that want it) and that transaction.
    assert len(names) <= 5, names
    assert names.count("Query") == 1, names

"""Analysis over HTTP against the local runtime, as a client does it: upload with `requests`, poll the task until
the runtime's own SQS poller has run the worker, check the charge in the transactions. Run with -s to see the
measured throughput (analysis tasks per second through the local runtime's worker and the local analyzer)."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from harness import media
from harness.client import (
    COST,
    INVALID_SCHEMA,
    PRIVATE_KEY,
    RUNTIME_ENV,
    Account,
    Api,
    Mailbox,
    active_account,
    analyse,
    bearer,
    expect,
    tasks,
    wait_for,
)

pytestmark = pytest.mark.e2e

CREATED = "Analysis task created successfully."
TASK_FETCHED = "Task fetched successfully."
NO_CREDITS = "You do not have enough credits to perform this action."
TOO_LARGE = {"data": None, "message": "The request is too large.", "status": "error"}


@pytest.fixture(scope="module")
def runtime_env() -> dict[str, str]:
    return {**RUNTIME_ENV, "LOCAL_SQS_RETRY_SECONDS": "0"}  # failed SQS messages come back at once


@pytest.fixture
def user(api: Api, mailbox: Mailbox) -> Callable[[float], Account]:
    def make(credits: float) -> Account:
        account = active_account(api, mailbox, "analysis")
        expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": credits}), 200)
        return account

    return make


def balance(api: Api, account: Account) -> float:
    return expect(api.call("GET", f"/users/{account.id}", auth=bearer(account.token)), 200)["credits"]


def task_transactions(api: Api, account: Account) -> list[dict[str, Any]]:
    """The account's transactions other than the admin's setting of its balance."""
    found = expect(
        api.call("GET", f"/users/{account.id}/transactions", auth=bearer(account.token), params={"limit": "100"}), 200
    )
    return [t for t in found if not t["description"].startswith("Admin")]


def assert_not_charged(api: Api, account: Account, credits: float) -> None:
    assert balance(api, account) == credits
    assert task_transactions(api, account) == []
    assert tasks(api, account) == []


# ------------------------------------------------------------------------------------------- the whole flow


def test_text_and_three_files_become_a_completed_analysis_charged_once(api: Api, user) -> None:
    account = user(100)
    photo, document, speech = media.png(32, 16), media.pdf("The bridge opened in 1937."), media.wav(seconds=1.0)

    response = analyse(
        api,
        account,
        "The Golden Gate Bridge is painted red. Who built it?",
        [("bridge.png", photo), ("history.pdf", document), ("guide.wav", speech)],
    )

    created = expect(response, 201, CREATED)
    assert set(created) == media.TASK_FIELDS
    assert (created["status"], created["result"], created["error"]) == ("PENDING", None, None)
    assert created["attachments"] == [
        {"name": "bridge.png", "media_type": "image/png", "size_bytes": len(photo)},
        {"name": "history.pdf", "media_type": "application/pdf", "size_bytes": len(document)},
        {"name": "guide.wav", "media_type": "audio/wav", "size_bytes": len(speech)},
    ]

    task = wait_for(api, account, created["id"], timeout=10)

    assert task["status"] == "COMPLETED", task
    assert media.result_problems(task["result"]) == []
    assert [claim["text"] for claim in task["result"]["claims"]] == [
        "The Golden Gate Bridge is painted red.",
        "The bridge opened in 1937.",
    ]
    assert [report["notes"] for report in task["result"]["attachments"]] == [
        "PNG image, 32x16 pixels.",
        "PDF, 1 page(s), 5 words of text.",
        "Audio file, 1.0 seconds long.",
    ]
    assert balance(api, account) == 100 - COST
    [debit] = task_transactions(api, account)
    assert (debit["type"], debit["value_in_credits"]) == ("DEBIT", COST)
    assert created["id"] in debit["description"]


# ------------------------------------------------------------------------------------------- refusals


REFUSED: dict[str, Callable[[], tuple[str | None, list[tuple[str, bytes]]]]] = {
    "six files": lambda: ("Too many.", [(f"photo{index}.png", media.png()) for index in range(6)]),
    "text named .png": lambda: ("hi", [("photo.png", b"This is plain text wearing a .png name.")]),
    "an image over its cap": lambda: ("hi", [("huge.png", media.png() + b"\x00" * 3_750_001)]),
    "an .exe": lambda: ("hi", [("setup.exe", b"MZ\x90\x00" + b"\x00" * 100)]),
    "an empty file": lambda: ("hi", [("empty.pdf", b"")]),
    "no text and no file": lambda: ("", []),
}


# The field each refusal names: the form's body, the file, or the Content-Type (no file: requests sends a plain form).
REFUSED_FIELD = {
    "six files": "body",
    "text named .png": "photo.png",
    "an image over its cap": "huge.png",
    "an .exe": "setup.exe",
    "an empty file": "empty.pdf",
    "no text and no file": "Content-Type",
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_request_is_400_and_costs_nothing(api: Api, user, case: str) -> None:
    account = user(100)
    text, files = REFUSED[case]()

    response = analyse(api, account, text, files)

    [problem] = expect(response, 400, INVALID_SCHEMA)["errors"]  # what was refused, and why
    assert problem["field"] == REFUSED_FIELD[case], problem
    assert_not_charged(api, account, 100)


def test_below_the_cost_is_403_and_costs_nothing(api: Api, user) -> None:
    account = user(COST - 1)

    response = analyse(api, account, "The moon landing happened in 1969.", [("photo.png", media.png())])

    expect(response, 403, NO_CREDITS, None)
    assert_not_charged(api, account, COST - 1)


def test_an_upload_over_6_mb_is_refused_by_the_gateway_with_413(api: Api, user) -> None:
    account = user(100)
    big = media.pdf() + b"\x00" * (6 * 1024 * 1024)

    response = analyse(api, account, "hi", [("big.pdf", big)])

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert_not_charged(api, account, 100)


# ------------------------------------------------------------------------------------------- throughput


def test_analysis_throughput_through_the_local_worker(api: Api, user) -> None:
    count = 30
    account = user(COST * count)
    files = [("photo.png", media.png()), ("notes.pdf", media.pdf("The sample PDF holds one claim here."))]

    started = time.perf_counter()
    ids = [
        expect(analyse(api, account, f"Claim number {index} is being checked now.", files), 201, CREATED)["id"]
        for index in range(count)
    ]
    submitted = time.perf_counter()
    deadline = submitted + 60
    statuses: dict[str, str] = {}
    while time.perf_counter() < deadline:
        statuses = {task["id"]: task["status"] for task in tasks(api, account)}
        if all(statuses.get(task_id) in ("COMPLETED", "FAILED") for task_id in ids):
            break
        time.sleep(0.05)
    finished = time.perf_counter()

    print(
        f"\nAnalysis throughput (local runtime, local analyzer, {count} tasks of text + 2 files): "
        f"submitted in {submitted - started:.2f} s ({count / (submitted - started):.1f} requests/s), "
        f"all completed {finished - started:.2f} s after the first submit: {count / (finished - started):.1f} tasks/s"
    )
    assert sorted(statuses.get(task_id, "missing") for task_id in ids) == ["COMPLETED"] * count
    assert balance(api, account) == 0
    assert [t["type"] for t in task_transactions(api, account)] == ["DEBIT"] * count

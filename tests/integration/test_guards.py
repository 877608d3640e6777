"""The guards under concurrency and from many addresses (issue 13): the OTP attempt cap and the login lockout
are atomic, the lockout is per (account, client address) with a cap per account per hour, and a revoked token
is counted against its sender, not the user it names.

The local runtime runs one event per function at a time, so races are tested here, in process: threads call
the real handlers on moto, made atomic per request by the `atomic_dynamodb` fixture as DynamoDB is. A barrier
after each request's read forces the interleaving the race needs: every request reads before any writes.
"""

import threading
from collections.abc import Callable
from typing import Any

import clara.domain.accounts.codes
import clara.domain.accounts.sign_in
import clara.store.users
from clara.http.auth import Caller, Role
from harness.accounts import (
    API,
    PUBLIC,
    RATE_LIMITED,
    UNAUTHENTICATED,
    basic,
    bearer,
    body,
    error,
    freeze_rate_clock,
    headers,
    item,
    latest_code,
    login_counter,
    sessions_of,
    shift_login_clock,
    user_item,
)

OWNER = "10.0.0.2"
GUESSER = "203.0.113.7"


def other_code(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


def race(monkeypatch, wrong: list[Callable[[], Any]], right: Callable[[], Any]) -> tuple[list[Any], Any]:
    """Run `wrong` and `right` in threads; every one reads the user (find_by_email) before any goes on, and
    `right` goes on only after every `wrong` finished: the last request, acting on what it read first."""
    everyone_read = threading.Barrier(len(wrong) + 1)
    wrong_done = threading.Event()
    right_thread = "right"
    find_by_email = clara.store.users.find_by_email

    def read_then_wait(email: str) -> Any:
        found = find_by_email(email)
        everyone_read.wait(timeout=30)
        if threading.current_thread().name == right_thread:
            wrong_done.wait(timeout=30)
        return found

    monkeypatch.setattr(clara.store.users, "find_by_email", read_then_wait)
    answers: list[Any] = []
    right_answer: list[Any] = []
    threads = [threading.Thread(target=lambda call=call: answers.append(call())) for call in wrong]
    last = threading.Thread(target=lambda: right_answer.append(right()), name=right_thread)
    for thread in [*threads, last]:
        thread.start()
    for thread in threads:
        thread.join()
    wrong_done.set()
    last.join()
    monkeypatch.setattr(clara.store.users, "find_by_email", find_by_email)
    return answers, right_answer[0]


# ------------------------------------------------------------------------------------------- 1. atomic guards


def outcome(action: Callable[[], Any]) -> Callable[[], str]:
    """What the logic answered: "ok", or the name of the error it raised (the handlers' resolver holds one event
    at a time, so threads call the logic the handlers call)."""

    def run() -> str:
        try:
            action()
            return "ok"
        except Exception as raised:
            return type(raised).__name__

    return run


def test_20_concurrent_wrong_codes_then_the_right_one_do_not_activate(
    call_api, stack, accounts, monkeypatch, atomic_dynamodb
):
    account = accounts.register()
    code = latest_code(account.email)
    caller = Caller(Role.PUBLIC, GUESSER)

    def activate(guess: str) -> Callable[[], str]:
        return outcome(lambda: clara.domain.accounts.codes.activate(caller, account.email, guess))

    wrong, right = race(monkeypatch, [activate(other_code(code, n)) for n in range(1, 21)], activate(code))

    assert wrong == ["AuthenticationFailed"] * 20
    assert right == "AuthenticationFailed"
    assert user_item(stack, account.id)["is_active"] is False
    assert item(stack, f"USER#{account.id}", "OTP#ACTIVATION")["attempts"] == 5  # the code is dead after 5
    response = call_api(
        "POST", f"{API}/users/{account.email}/activate", headers=headers(PUBLIC), body=body({"code": code})
    )
    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


def test_19_concurrent_wrong_passwords_then_the_right_one_is_refused(stack, accounts, monkeypatch, atomic_dynamodb):
    account = accounts.register()

    def login(password: str) -> Callable[[], str]:
        return outcome(lambda: clara.domain.accounts.sign_in.login(basic(account.email, password), None, GUESSER))

    wrong, right = race(monkeypatch, [login(f"wrong password {n}") for n in range(19)], login(account.password))

    assert wrong == ["AuthenticationFailed"] * 19
    assert right == "AuthenticationFailed"  # as a locked login is answered: 401 with the contract's message
    assert login_counter(stack, account.id, GUESSER)["attempts"] == 19  # no failure lost
    assert len(sessions_of(stack, account.id)) == 1  # registration's only
    locked = accounts.login(account.email, source_ip=GUESSER)
    assert (locked.status, locked.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- 3. lockout per address


def test_five_wrong_passwords_lock_the_guessing_address_not_the_owner(stack, accounts):
    account = accounts.register()

    for _ in range(5):
        assert accounts.login(account.email, "wrong password", source_ip=GUESSER).status == 401
    locked = accounts.login(account.email, source_ip=GUESSER)
    owner = accounts.login(account.email, source_ip=OWNER)

    assert (locked.status, locked.json) == (401, error(UNAUTHENTICATED))
    assert owner.status == 200
    assert login_counter(stack, account.id, GUESSER)["attempts"] == 5  # the owner's login does not unlock it
    assert accounts.login(account.email, source_ip=GUESSER).status == 401


def test_100_failures_an_hour_from_any_addresses_lock_the_account_until_the_hour_ends(stack, accounts, monkeypatch):
    account = accounts.register()
    shift_login_clock(monkeypatch, 0)  # one clock for the whole test
    addresses = [f"198.51.100.{n}" for n in range(25)]

    for address in addresses:  # 4 each: no address is locked on its own
        for _ in range(4):
            assert accounts.login(account.email, "wrong password", source_ip=address).status == 401
    # 100 failures in the hour: every address is refused, the owner's and fresh ones too.
    for address in (OWNER, "192.0.2.99", addresses[0]):
        refused = accounts.login(account.email, source_ip=address)
        assert (refused.status, refused.json) == (401, error(UNAUTHENTICATED)), address

    shift_login_clock(monkeypatch, 3600)
    assert accounts.login(account.email, source_ip=OWNER).status == 200


def test_99_failures_in_the_hour_still_let_the_owner_in(stack, accounts):
    account = accounts.register()
    for n in range(33):
        for _ in range(3):
            accounts.login(account.email, "wrong password", source_ip=f"198.51.100.{n}")

    assert accounts.login(account.email, source_ip=OWNER).status == 200


def test_the_address_window_ends_15_minutes_after_its_last_failure(stack, accounts, monkeypatch):
    account = accounts.register()
    for _ in range(5):
        accounts.login(account.email, "wrong password", source_ip=GUESSER)

    shift_login_clock(monkeypatch, 14 * 60)
    assert accounts.login(account.email, source_ip=GUESSER).status == 401
    shift_login_clock(monkeypatch, 16 * 60)
    assert accounts.login(account.email, source_ip=GUESSER).status == 200


# ------------------------------------------------------------------------------------------- 4. revoked tokens


def test_a_rotated_api_key_token_does_not_use_up_its_owners_rate_limit(call_api, stack, accounts, monkeypatch):
    account = accounts.active()
    old = accounts.api_key_token(account)
    rotated = call_api("POST", f"{API}/users/{account.id}/api_key", headers={"Authorization": account.auth})
    assert rotated.status in (200, 201), rotated.text
    freeze_rate_clock(monkeypatch, 1_900_000_100.5)
    limit = {"RATE_LIMIT_PER_SECOND": "3"}

    hammered = [
        call_api(
            "GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(old)}, env=limit, source_ip=GUESSER
        )
        for _ in range(50)
    ]
    owner = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth}, env=limit)

    assert [a.status for a in hammered[:3]] == [401] * 3
    assert {a.status for a in hammered[3:]} == {429} and hammered[3].json == error(RATE_LIMITED)
    assert owner.status == 200
    # The failures were counted against the address that sent them.
    assert int(item(stack, f"RATE#ip#{GUESSER}", "1900000100")["hits"]) == 50
    assert int(item(stack, f"RATE#user#{account.id}", "1900000100")["hits"]) == 1

"""Authenticator-app 2FA (issue 15): enrol, confirm, log in with a TOTP or recovery code, manage, and the guards.

Codes are computed with pyotp from the secret the enrolment answered, at a clock the test sets
(clara.domain.accounts.totp's).
"""

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pyotp
import pytest

import clara.domain.accounts.sign_in
import clara.domain.accounts.totp
from harness.accounts import (
    ALREADY_EXISTS,
    API,
    INVALID,
    UNAUTHENTICATED,
    Account,
    Accounts,
    all_items,
    audit_events,
    basic,
    error,
    headers,
    item,
    user_item,
)
from harness.accounts import body as json_body
from tests.integration.test_guards import outcome, race

TWO_FA = {"is_2fa_enabled": True}
STEP = 30


class Clock:
    """clara.domain.accounts.totp's clock, in the middle of a time step so that a step either side is one step away."""

    def __init__(self, monkeypatch: Any):
        self.now = (time.time() // STEP) * STEP + STEP / 2
        monkeypatch.setattr(clara.domain.accounts.totp, "time", SimpleNamespace(time=lambda: self.now))

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def post(call_api: Any, account: Account, path: str, payload: Any = None, method: str = "POST") -> Any:
    return call_api(
        method,
        f"{API}/users/{account.id}/2fa{path}",
        headers=headers(account.auth),
        body=json_body(payload) if payload is not None else None,
    )


def code_at(secret: str, clock: Clock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.now + steps * STEP)


def enrol(call_api: Any, account: Account) -> str:
    response = post(call_api, account, "/totp")
    assert response.status == 201, response.text
    return response.json["data"]["secret"]


def with_authenticator(call_api: Any, accounts: Accounts, clock: Clock) -> tuple[Account, str, list[str]]:
    """An active user with 2FA on by an authenticator app: the account, the app's secret, its recovery codes.
    The clock moves on a step, past the confirming code's."""
    account = accounts.active()
    secret = enrol(call_api, account)
    confirmed = post(call_api, account, "/totp/confirm", {"code": code_at(secret, clock), "password": account.password})
    assert confirmed.status == 200, confirmed.text
    clock.shift(STEP)
    return account, secret, confirmed.json["data"]["recovery_codes"]


def login(accounts: Accounts, account: Account, code: str | None = None) -> Any:
    return accounts.login(account.email, account.password, code)


# ------------------------------------------------------------------------------------------- the core path


def test_enrol_confirm_then_log_in_with_the_app(call_api, stack, accounts, clock):
    account = accounts.active()

    started = post(call_api, account, "/totp")
    assert started.status == 201 and started.json["message"] == "Authenticator enrolment started successfully."
    enrolment = started.json["data"]
    secret = enrolment["secret"]
    assert set(enrolment) == {"secret", "provisioning_uri", "qr_svg"}
    parsed = pyotp.parse_uri(enrolment["provisioning_uri"])
    assert enrolment["provisioning_uri"].startswith("otpauth://totp/Clara:")
    assert (parsed.issuer, parsed.name, parsed.secret) == ("Clara", account.email, secret)
    assert enrolment["qr_svg"].startswith("<svg") and enrolment["qr_svg"].rstrip().endswith("</svg>")
    assert user_item(stack, account.id)["is_2fa_enabled"] is False  # pending until confirmed

    confirmed = post(call_api, account, "/totp/confirm", {"code": code_at(secret, clock), "password": account.password})
    assert (confirmed.status, confirmed.json["message"]) == (200, "User 2FA enabled successfully.")
    codes = confirmed.json["data"]["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    stored = user_item(stack, account.id)
    assert (stored["is_2fa_enabled"], stored["two_factor_method"], stored["recovery_codes_left"]) == (True, "totp", 10)
    # The secret and the recovery codes are stored only encrypted or hashed; no item holds them in clear.
    everything = repr(all_items(stack))
    assert secret not in everything and not any(code in everything for code in codes)
    assert item(stack, f"USER#{account.id}", "TOTP#PENDING") is None
    assert "2fa_enabled" in audit_events(stack, account.id)

    without = login(accounts, account)
    assert (without.status, without.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    clock.shift(STEP)
    logged_in = login(accounts, account, code_at(secret, clock))
    assert logged_in.status == 200, logged_in.text
    data = logged_in.json["data"]
    assert (data["is_2fa_enabled"], data["two_factor_method"], data["recovery_codes_left"]) == (True, "totp", 10)
    view = call_api("GET", f"{API}/users/{account.id}", headers=headers(account.auth)).json["data"]
    assert (view["two_factor_method"], view["recovery_codes_left"]) == ("totp", 10)


def test_a_wrong_code_is_refused(call_api, accounts, clock):
    account, secret, _ = with_authenticator(call_api, accounts, clock)
    wrong = f"{(int(code_at(secret, clock)) + 1) % 10**6:06d}"

    refused = login(accounts, account, wrong)
    assert (refused.status, refused.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert login(accounts, account, code_at(secret, clock)).status == 200


def test_a_code_is_accepted_once(call_api, accounts, clock):
    account, secret, _ = with_authenticator(call_api, accounts, clock)
    code = code_at(secret, clock)

    assert login(accounts, account, code).status == 200
    replayed = login(accounts, account, code)
    assert (replayed.status, replayed.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    # An earlier step's code is refused too: only steps after the last one used count.
    assert login(accounts, account, code_at(secret, clock, -1)).status == 401


def test_the_confirming_code_does_not_log_in(call_api, accounts, clock):
    account = accounts.active()
    secret = enrol(call_api, account)
    code = code_at(secret, clock)
    assert post(call_api, account, "/totp/confirm", {"code": code, "password": account.password}).status == 200

    assert login(accounts, account, code).status == 401


@pytest.mark.parametrize(("steps", "status"), [(-1, 200), (1, 200), (-2, 401), (2, 401)])
def test_a_code_of_the_step_before_or_after_is_accepted(call_api, accounts, clock, steps, status):
    account, secret, _ = with_authenticator(call_api, accounts, clock)
    clock.shift(2 * STEP)  # so that the step before is after the confirming code's

    assert login(accounts, account, code_at(secret, clock, steps)).status == status


def test_enrolling_while_an_app_is_in_use_is_400(call_api, accounts, clock):
    account, _, _ = with_authenticator(call_api, accounts, clock)

    response = post(call_api, account, "/totp")

    assert (response.status, response.json) == (400, error(ALREADY_EXISTS.replace("User", "Authenticator")))


def test_a_pending_enrolment_expires_after_10_minutes(call_api, stack, accounts, clock):
    account = accounts.active()
    secret = enrol(call_api, account)
    clock.shift(10 * 60 + 1)

    response = post(call_api, account, "/totp/confirm", {"code": code_at(secret, clock), "password": account.password})

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert user_item(stack, account.id)["is_2fa_enabled"] is False


def test_a_newer_enrolment_replaces_a_pending_one(call_api, accounts, clock):
    account = accounts.active()
    first = enrol(call_api, account)
    second = enrol(call_api, account)

    assert (
        post(call_api, account, "/totp/confirm", {"code": code_at(first, clock), "password": account.password}).status
        == 401
    )
    assert (
        post(call_api, account, "/totp/confirm", {"code": code_at(second, clock), "password": account.password}).status
        == 200
    )


# ------------------------------------------------------------------------------------------- recovery codes


def test_a_recovery_code_logs_in_once(call_api, stack, accounts, clock):
    account, _, codes = with_authenticator(call_api, accounts, clock)

    used = login(accounts, account, codes[0].upper())  # as typed from a printout
    assert used.status == 200, used.text
    assert used.json["data"]["recovery_codes_left"] == 9
    assert user_item(stack, account.id)["recovery_codes_left"] == 9

    again = login(accounts, account, codes[0])
    assert (again.status, again.json) == (401, error(UNAUTHENTICATED, TWO_FA))


def test_recovery_codes_run_out(call_api, stack, accounts, clock):
    account, secret, codes = with_authenticator(call_api, accounts, clock)

    for code in codes:
        assert login(accounts, account, code).status == 200

    assert user_item(stack, account.id)["recovery_codes_left"] == 0
    assert login(accounts, account, codes[-1]).status == 401
    assert login(accounts, account, code_at(secret, clock)).status == 200  # the app still works


def test_new_recovery_codes_replace_the_old_ones(call_api, stack, accounts, clock):
    account, secret, old = with_authenticator(call_api, accounts, clock)

    with_recovery_code = post(call_api, account, "/recovery-codes", {"code": old[0]})
    assert with_recovery_code.status == 400  # only the app's own code (the body's schema is six digits)
    renewed = post(call_api, account, "/recovery-codes", {"code": code_at(secret, clock)})
    assert (renewed.status, renewed.json["message"]) == (201, "Recovery codes generated successfully.")
    new = renewed.json["data"]["recovery_codes"]

    assert len(new) == 10 and not set(new) & set(old)
    assert login(accounts, account, old[1]).status == 401
    assert login(accounts, account, new[0]).status == 200
    assert user_item(stack, account.id)["recovery_codes_left"] == 9
    assert "2fa_recovery_codes_regenerated" in audit_events(stack, account.id)


# ------------------------------------------------------------------------------------------- turning it off


@pytest.mark.parametrize("by", ["app", "recovery"])
def test_disable_2fa_with_the_app_or_a_recovery_code(call_api, stack, accounts, clock, by):
    account, secret, codes = with_authenticator(call_api, accounts, clock)
    code = code_at(secret, clock) if by == "app" else codes[3]

    wrong = post(call_api, account, "", {"code": "000000" if code != "000000" else "111111"}, method="DELETE")
    assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    disabled = post(call_api, account, "", {"code": code}, method="DELETE")

    assert disabled.status == 204, disabled.text
    stored = user_item(stack, account.id)
    assert (stored["is_2fa_enabled"], stored["two_factor_method"], stored["recovery_codes_left"]) == (False, "email", 0)
    assert item(stack, f"USER#{account.id}", "TOTP") is None
    assert login(accounts, account).status == 200
    assert "2fa_disabled" in audit_events(stack, account.id)


def test_switch_back_to_emailed_codes(call_api, stack, accounts, clock):
    account, secret, _ = with_authenticator(call_api, accounts, clock)

    switched = post(call_api, account, "/totp", {"code": code_at(secret, clock)}, method="DELETE")

    assert switched.status == 204, switched.text
    stored = user_item(stack, account.id)
    assert (stored["is_2fa_enabled"], stored["two_factor_method"]) == (True, "email")
    clock.shift(STEP)
    assert login(accounts, account, code_at(secret, clock)).status == 401  # the app no longer counts
    emailed = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    assert login(accounts, account, emailed).status == 200
    assert "2fa_method_changed" in audit_events(stack, account.id)


def test_the_app_routes_need_the_app_in_use(call_api, accounts, clock):
    account = accounts.active()
    accounts.enable_2fa(account)  # emailed codes

    switched = post(call_api, account, "/totp", {"code": "123456"}, method="DELETE")
    renewed = post(call_api, account, "/recovery-codes", {"code": "123456"})

    assert (switched.status, switched.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert (renewed.status, renewed.json) == (401, error(UNAUTHENTICATED, TWO_FA))


# ------------------------------------------------------------------------------------------- emailed 2FA unchanged


def test_emailed_2fa_is_unchanged_by_an_unconfirmed_enrolment(call_api, stack, accounts, clock):
    account = accounts.active()
    accounts.enable_2fa(account)
    secret = enrol(call_api, account)

    assert login(accounts, account, code_at(secret, clock)).status == 401
    recovery_shaped = login(accounts, account, "abcde-fghij")
    assert (recovery_shaped.status, recovery_shaped.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    logged_in = login(accounts, account, code)
    assert logged_in.status == 200
    assert (logged_in.json["data"]["two_factor_method"], logged_in.json["data"]["recovery_codes_left"]) == ("email", 0)


def test_a_malformed_code_is_400(call_api, accounts):
    account = accounts.active()

    response = call_api(
        "POST",
        f"{API}/auth/session",
        headers=headers(basic(account.email, account.password)),
        body=json_body({"code": "abcdef"}),
    )

    assert (response.status, response.json) == (400, error(INVALID))


# ------------------------------------------------------------------------------------------- the attempt cap


def test_20_concurrent_wrong_codes_then_the_right_one_do_not_log_in(
    call_api, stack, accounts, clock, monkeypatch, atomic_dynamodb
):
    account, secret, _ = with_authenticator(call_api, accounts, clock)
    right = code_at(secret, clock)
    guesses = [f"{(int(right) + n) % 10**6:06d}" for n in range(1, 21)]

    def log_in(code: str) -> Callable[[], str]:
        credentials = basic(account.email, account.password)
        return outcome(lambda: clara.domain.accounts.sign_in.login(credentials, code, "203.0.113.7"))

    wrong, last = race(monkeypatch, [log_in(guess) for guess in guesses], log_in(right))

    assert wrong == ["TwoFactorRequired"] * 20
    assert last == "TwoFactorRequired"  # past the cap, not even compared
    window = int(clock.now // 600)
    assert item(stack, f"USER#{account.id}", f"LOGIN#CODE#{window}#203.0.113.7")["attempts"] == 5
    assert item(stack, f"USER#{account.id}", "TOTP")["attempts"] == 5  # the 15 refused never reached the ceiling
    clock.shift(10 * 60)  # the address's next attempt window
    assert accounts.login(account.email, account.password, code_at(secret, clock), "203.0.113.7").status == 200
    assert item(stack, f"USER#{account.id}", f"LOGIN#CODE#{window + 1}#203.0.113.7") is None  # a right code clears it


def test_replacing_emailed_2fa_with_the_app_needs_an_emailed_code_too(call_api, stack, accounts, clock):
    account = accounts.active()
    accounts.enable_2fa(account)
    secret = enrol(call_api, account)

    alone = post(call_api, account, "/totp/confirm", {"code": code_at(secret, clock), "password": account.password})
    assert (alone.status, alone.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert user_item(stack, account.id)["two_factor_method"] == "email"

    emailed = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    both = post(call_api, account, "/totp/confirm", {"code": code_at(secret, clock), "email_code": emailed})
    assert both.status == 200, both.text
    assert user_item(stack, account.id)["two_factor_method"] == "totp"

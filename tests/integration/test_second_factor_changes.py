"""Second-factor hardening (issue 22): a stolen user token alone cannot put an authenticator app in the owner's way,
every change to how the account is secured ends a pending enrolment and is emailed to the owner, support can turn
2FA off, and someone else's wrong codes do not refuse the owner's right one.

Codes are computed with pyotp at the clock test_totp's Clock sets (clara.domain.accounts.totp's)."""

from datetime import timedelta
from typing import Any

import pytest

import clara.domain.accounts.notices
from clara.formats import utc_now
from clara.integrations.mail import Mailer
from clara.settings import get_settings
from harness.accounts import (
    API,
    NO_ACCESS,
    NOT_FOUND,
    PRIVATE,
    UNAUTHENTICATED,
    Account,
    Accounts,
    audit_events,
    error,
    headers,
    item,
    items_of,
    login_counter,
    sent_messages,
    user_item,
)
from harness.accounts import body as json_body
from harness.inprocess import FUNCTIONS, TEMPLATE, TEST_ENVIRONMENT
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, scheduled_event
from tests.integration.test_totp import STEP, TWO_FA, Clock, code_at, enrol, login, post, with_authenticator


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def confirm(call_api: Any, account: Account, secret: str, clock: Clock, source_ip: str = "127.0.0.1", **proof: str):
    return call_api(
        "POST",
        f"{API}/users/{account.id}/2fa/totp/confirm",
        headers=headers(account.auth),
        body=json_body({"code": code_at(secret, clock), **proof}),
        source_ip=source_ip,
    )


def change_password(call_api: Any, accounts: Accounts, account: Account) -> str:
    """Change the account's password with an emailed CHANGE_PASSWORD code: the new password."""
    new = "a brand new password"
    code = accounts.send_otp(account.email, "CHANGE_PASSWORD")
    changed = call_api(
        "PATCH",
        f"{API}/users/{account.email}/password",
        headers=headers(account.auth),
        body=json_body({"password": new, "code": code}),
    )
    assert changed.status == 200, changed.text
    return new


# ------------------------------------------------------------------------------------------- 1. the fresh proof


def test_a_user_token_alone_does_not_turn_on_an_authenticator_app(call_api, stack, accounts, clock):
    account = accounts.active()
    secret = enrol(call_api, account)

    alone = confirm(call_api, account, secret, clock)

    assert (alone.status, alone.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    stored = user_item(stack, account.id)
    assert (stored["is_2fa_enabled"], stored["two_factor_method"]) == (False, "email")
    assert item(stack, f"USER#{account.id}", "TOTP") is None
    assert login(accounts, account).status == 200  # the owner still signs in with the password alone


@pytest.mark.parametrize("proof", ["password", "email_code"])
def test_the_password_or_an_emailed_code_turns_on_an_authenticator_app(call_api, stack, accounts, clock, proof):
    account = accounts.active()
    secret = enrol(call_api, account)
    value = account.password if proof == "password" else accounts.send_otp(account.email, "TWO_FACTOR_AUTH")

    confirmed = confirm(call_api, account, secret, clock, **{proof: value})

    assert confirmed.status == 200, confirmed.text
    assert len(confirmed.json["data"]["recovery_codes"]) == 10
    assert user_item(stack, account.id)["two_factor_method"] == "totp"


def test_a_wrong_password_is_refused_and_counted_as_a_failed_login(call_api, stack, accounts, clock):
    account = accounts.active()
    secret = enrol(call_api, account)

    for _ in range(5):
        wrong = confirm(call_api, account, secret, clock, password="not the password")
        assert (wrong.status, wrong.json) == (401, error(UNAUTHENTICATED, TWO_FA))

    assert login_counter(stack, account.id)["attempts"] == 5
    # The address is locked as login locks it: the right password no longer helps from there, not even here.
    assert confirm(call_api, account, secret, clock, password=account.password).status == 401
    assert login(accounts, account).status == 401
    assert user_item(stack, account.id)["is_2fa_enabled"] is False
    assert accounts.login(account.email, account.password, source_ip="198.51.100.4").status == 200


@pytest.mark.parametrize("change", ["emailed_2fa_on", "password_changed"])
def test_a_pending_enrolment_ends_when_2fa_or_the_password_changes(call_api, stack, accounts, clock, change):
    account = accounts.active()
    secret = enrol(call_api, account)
    if change == "emailed_2fa_on":
        accounts.enable_2fa(account)
        proof = {"email_code": accounts.send_otp(account.email, "TWO_FACTOR_AUTH")}
    else:
        proof = {"password": change_password(call_api, accounts, account)}

    late = confirm(call_api, account, secret, clock, **proof)

    assert (late.status, late.json) == (401, error(UNAUTHENTICATED, TWO_FA))
    assert item(stack, f"USER#{account.id}", "TOTP#PENDING") is None
    assert user_item(stack, account.id)["two_factor_method"] == "email"


# ------------------------------------------------------------------------------------------- emails to the owner


def notices(email: str) -> list[Any]:
    return [message for message in sent_messages(email) if "If this was you" in message.body]


def assert_notice(account: Account, subject_has: str, source_ip: str | None = "127.0.0.1") -> None:
    last = notices(account.email)[-1]
    assert subject_has in last.subject, last.subject
    assert "When: " in last.body and " GMT" in last.body
    assert (f"From the address: {source_ip}" if source_ip else "By: Clara support") in last.body
    assert "change your password" in last.body


def test_the_owner_is_emailed_on_every_second_factor_change(call_api, stack, accounts, clock):
    account = accounts.active()
    accounts.enable_2fa(account)
    assert_notice(account, "Two-factor authentication is on")

    off = post(call_api, account, "", {"code": accounts.send_otp(account.email, "TWO_FACTOR_AUTH")}, method="DELETE")
    assert off.status == 204, off.text
    assert_notice(account, "turned off")
    assert len(notices(account.email)) == 2

    account, secret, codes = with_authenticator(call_api, accounts, clock)
    assert_notice(account, "An authenticator app now protects")

    renewed = post(call_api, account, "/recovery-codes", {"code": code_at(secret, clock)})
    assert renewed.status == 201, renewed.text
    assert_notice(account, "New recovery codes")
    codes = renewed.json["data"]["recovery_codes"]

    assert accounts.login(account.email, account.password, codes[0], source_ip="192.0.2.8").status == 200
    assert_notice(account, "recovery code", source_ip="192.0.2.8")

    clock.shift(STEP)
    switched = post(call_api, account, "/totp", {"code": code_at(secret, clock)}, method="DELETE")
    assert switched.status == 204, switched.text
    assert_notice(account, "authenticator app was removed")

    change_password(call_api, accounts, account)
    assert_notice(account, "password was changed")
    assert len(notices(account.email)) == 5
    assert not [each for each in items_of(stack, account.id) if each["sk"].startswith("NOTICE#")]  # all sent
    # A notice carries no code: nothing in it signs anyone in.
    assert all(code not in message.body for message in notices(account.email) for code in codes)


class Crash(BaseException):
    """The process dies here (the Lambda sandbox torn down): no except clause sees it."""


def sweep(stack: Any, monkeypatch: Any, later_by: float) -> dict[str, Any]:
    """AnalysisSweeperFunction's scheduled run, `later_by` seconds from now."""
    sweeper = "AnalysisSweeperFunction"
    for name, value in function_environment(TEMPLATE, sweeper, stack.physical_ids, TEST_ENVIRONMENT).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    later = utc_now() + timedelta(seconds=later_by)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clara.domain.accounts.notices, "utc_now", lambda: later)
        return FUNCTIONS.handler(sweeper)(scheduled_event("every-minute"), LambdaContext(sweeper, 60))


@pytest.mark.parametrize("failure", ["ses_refuses", "process_dies"])
def test_a_notice_the_request_could_not_send_is_sent_by_the_sweeper_once(
    call_api, stack, accounts, monkeypatch, failure
):
    account = accounts.active()
    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    send = Mailer.send_security_notice

    def fail(*_: Any, **__: Any) -> None:
        raise Crash() if failure == "process_dies" else RuntimeError("SES refused the message")

    monkeypatch.setattr(Mailer, "send_security_notice", fail)
    if failure == "process_dies":  # right after the change was stored, before its email
        with pytest.raises(Crash):
            post(call_api, account, "", {"code": code})
    else:
        assert post(call_api, account, "", {"code": code}).status == 200
    monkeypatch.setattr(Mailer, "send_security_notice", send)

    assert user_item(stack, account.id)["is_2fa_enabled"] is True  # the change is stored...
    assert notices(account.email) == []  # ...its email is not sent yet, and not lost:
    assert sweep(stack, monkeypatch, later_by=0)["notices_sent"] == []  # a minute is the request's own
    assert len(sweep(stack, monkeypatch, later_by=61)["notices_sent"]) == 1
    assert_notice(account, "Two-factor authentication is on")
    assert sweep(stack, monkeypatch, later_by=122)["notices_sent"] == []  # sent once
    assert len(notices(account.email)) == 1


# ------------------------------------------------------------------------------------------- 2. support


@pytest.mark.parametrize("method", ["app", "email"])
def test_support_turns_2fa_off_with_the_private_key(call_api, stack, accounts, clock, method):
    if method == "app":
        account, _, _ = with_authenticator(call_api, accounts, clock)
    else:
        account = accounts.active()
        accounts.enable_2fa(account)

    reset = call_api("DELETE", f"{API}/users/{account.id}/2fa", headers=headers(PRIVATE))

    assert (reset.status, reset.text) == (204, "")
    stored = user_item(stack, account.id)
    assert (stored["is_2fa_enabled"], stored["two_factor_method"], stored["recovery_codes_left"]) == (False, "email", 0)
    assert item(stack, f"USER#{account.id}", "TOTP") is None
    assert login(accounts, account).status == 200
    assert "2fa_reset_by_support" in audit_events(stack, account.id)
    assert_notice(account, "Clara support turned two-factor authentication off", source_ip=None)


def test_support_reset_of_an_unknown_user_is_404_and_the_api_key_token_is_403(call_api, stack, accounts):
    unknown = call_api("DELETE", f"{API}/users/user_{'0' * 32}/2fa", headers=headers(PRIVATE))
    assert (unknown.status, unknown.json) == (404, error(NOT_FOUND))

    account = accounts.active()
    accounts.enable_2fa(account)
    by_key = call_api(
        "DELETE", f"{API}/users/{account.id}/2fa", headers=headers(f"Bearer {accounts.api_key_token(account)}")
    )
    assert (by_key.status, by_key.json) == (403, error(NO_ACCESS))
    assert user_item(stack, account.id)["is_2fa_enabled"] is True


# ------------------------------------------------------------------------------------------- 3. the try caps


def wrong_code(secret: str, clock: Clock, n: int) -> str:
    return f"{(int(code_at(secret, clock)) + n) % 10**6:06d}"


def test_someone_elses_wrong_codes_do_not_refuse_the_owners_right_code(call_api, stack, accounts, clock):
    account, secret, _ = with_authenticator(call_api, accounts, clock)
    attacker, owner = "203.0.113.66", "198.51.100.7"

    for n in range(1, 17):
        guess = accounts.login(account.email, account.password, wrong_code(secret, clock, n), source_ip=attacker)
        assert (guess.status, guess.json) == (401, error(UNAUTHENTICATED, TWO_FA))

    # The attacker's address is out of tries, even for a right code...
    assert accounts.login(account.email, account.password, code_at(secret, clock), source_ip=attacker).status == 401
    # ...and the owner, from another address, signs in.
    signed_in = accounts.login(account.email, account.password, code_at(secret, clock), source_ip=owner)
    assert signed_in.status == 200, signed_in.text


def test_many_addresses_reach_the_accounts_ceiling_then_the_next_hour_opens(call_api, stack, accounts, clock):
    account, secret, codes = with_authenticator(call_api, accounts, clock)
    clock.now = (clock.now // 3600 + 1) * 3600 + STEP / 2 + 60  # early in the next hour: the guesses share it

    for n in range(30):  # the default ceiling, from 6 addresses (5 each, each within its own cap)
        address = f"203.0.113.{n // 5 + 1}"
        assert (
            accounts.login(account.email, account.password, wrong_code(secret, clock, n + 1), source_ip=address).status
            == 401
        )

    right_from_elsewhere = accounts.login(
        account.email, account.password, code_at(secret, clock), source_ip="198.51.100.9"
    )
    assert right_from_elsewhere.status == 401  # every address together is bounded too
    # Recovery codes are counted apart: a recovery code still works within its own ceiling.
    assert accounts.login(account.email, account.password, codes[0], source_ip="198.51.100.9").status == 200
    clock.shift(3600)
    assert (
        accounts.login(account.email, account.password, code_at(secret, clock), source_ip="198.51.100.9").status == 200
    )


def test_recovery_code_guessing_is_bounded_on_its_own(call_api, stack, accounts, clock):
    account, secret, codes = with_authenticator(call_api, accounts, clock)
    clock.now = (clock.now // 3600 + 1) * 3600 + STEP / 2 + 60  # early in the next hour: the guesses share it

    for n in range(10):  # the default recovery ceiling, from 2 addresses (5 each, each within its own cap)
        guess = accounts.login(
            account.email, account.password, f"zzzzz-zzz{chr(97 + n)}z", source_ip=f"203.0.113.{n // 5 + 1}"
        )
        assert guess.status == 401

    refused = accounts.login(account.email, account.password, codes[0], source_ip="198.51.100.9")
    assert refused.status == 401
    assert user_item(stack, account.id)["recovery_codes_left"] == 10
    assert (
        accounts.login(account.email, account.password, code_at(secret, clock), source_ip="198.51.100.9").status == 200
    )

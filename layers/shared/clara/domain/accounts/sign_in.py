"""Password login (with the second factor and the lockout) and logout."""

import base64
from datetime import datetime
from typing import Any, NoReturn

from clara.contract.errors import (
    AuthenticationFailed,
    TwoFactorRequired,
)
from clara.domain.accounts import lockout, otp, totp
from clara.domain.accounts.lockout import LoginGuard
from clara.domain.accounts.notices import deliver, notice
from clara.domain.accounts.passwords import verify_password
from clara.domain.accounts.sessions import new_session, stored_user, update_user_write
from clara.domain.audit import audit_put, record
from clara.domain.caller import Caller
from clara.formats import utc_now
from clara.observability import count
from clara.records.accounts import LoginCounters, Notice, User
from clara.store import credentials, unit, users


def read_basic_credentials(authorization: str | None) -> tuple[str, str]:
    """(email, password) of `Basic base64(email:password)`; 401 for anything else."""
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise AuthenticationFailed()
    try:
        email, separator, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError as error:  # not base64 (binascii.Error), not ASCII, not UTF-8
        raise AuthenticationFailed() from error
    if not separator or not email or not password:
        raise AuthenticationFailed()
    return email.strip().lower(), password


def login(authorization: str | None, code: str | None, source_ip: str) -> tuple[User, str]:
    """A new session for the right email and password (and 2FA code when 2FA is on).

    Three DynamoDB round trips with the rate counter: one Query finds the user with its live codes and login
    counters, one transaction stores the session (or counts the failure); 2FA adds one, to take one of the
    code's tries. Unknown emails, wrong passwords and locked logins all cost one bcrypt check and get the same
    401; the lockout (clara.domain.accounts.lockout) is per (account, client address), with a cap per account per hour.
    """
    email, password = read_basic_credentials(authorization)
    records = users.find_by_email(email)
    user = records.user if records else None
    password_ok = verify_password(password, user.password_hash if user else None)
    now = utc_now()

    if records is None or user is None:
        count("LoginsFailed")
        record("login_failed", user_id=None, source_ip=source_ip, reason="unknown_email")
        raise AuthenticationFailed()
    guard = LoginGuard(user.id, user.email, source_ip, now.timestamp(), records.login_counters)
    if guard.locked:
        _refuse_locked(user, source_ip)
    if not password_ok:
        count("LoginsFailed")
        _count_failed_login(guard, source_ip)
        raise AuthenticationFailed()

    operations: list[unit.Write] = [*guard.success_writes()]
    used_recovery_code = False
    if user.is_2fa_enabled:
        second_factor, used_recovery_code = second_factor_or_refuse(user, code, source_ip)
        operations += second_factor
    token, session_put = new_session(user.id)
    operations.append(session_put)
    told: list[Notice] = []
    if used_recovery_code:
        operations.append(update_user_write(user.id, {}, now=now, add=recovery_code_used(True)))
        user = stored_user(user, now, recovery_codes_left=user.recovery_codes_left - 1)
        told, tell = notice_of_recovery_code(user, source_ip, now)
        operations.append(tell)
    operations.append(
        audit_put("login_succeeded", user_id=user.id, source_ip=source_ip, two_factor=user.is_2fa_enabled)
    )
    try:
        unit.commit(*operations)
    except unit.Refused as refused:
        if any(refused.failed(name) for name in lockout.REFUSED_BY):
            _refuse_locked(user, source_ip)  # locked meanwhile, by failures this login's read did not see
        if user.is_2fa_enabled:
            raise TwoFactorRequired() from refused  # the code was used by a concurrent login
        raise
    count("LoginsSucceeded")
    deliver(*told)
    return user, token


def _second_factor(user: User, code: str | None, source_ip: str) -> tuple[list[unit.Write], bool]:
    """The writes that use the 2FA code of the user's method, and whether it was a recovery code;
    401 when it is wrong (clara.domain.accounts.otp, clara.domain.accounts.totp)."""
    if user.two_factor_method == "totp":
        proof = totp.verify(user.id, code, source_ip)
        return proof.use(), proof.recovery
    return [otp.check(user.id, "TWO_FACTOR_AUTH", code)], False


def second_factor_or_refuse(
    user: User, code: str | None, source_ip: str, **audited: Any
) -> tuple[list[unit.Write], bool]:
    """_second_factor for a sign-in (password or Google): a wrong code is a failed login, counted and audited, and
    answered 401 with the 2FA hint."""
    try:
        return _second_factor(user, code, source_ip)
    except AuthenticationFailed:
        count("LoginsFailed")
        record("login_failed", user_id=user.id, source_ip=source_ip, reason="2fa_code", **audited)
        raise TwoFactorRequired() from None


def recovery_code_used(used: bool) -> dict[str, int] | None:
    return {"recovery_codes_left": -1} if used else None


def notice_of_recovery_code(user: User, source_ip: str, now: datetime) -> tuple[list[Notice], unit.Write]:
    """The owner's notice that a recovery code signed in (delivered once the sign-in is stored), and its write."""
    told, tell = notice(user, "recovery_code_used", source_ip, now)
    return [told], tell


def _refuse_locked(user: User, source_ip: str) -> NoReturn:
    count("LoginsFailed")
    record("login_failed", user_id=user.id, source_ip=source_ip, reason="locked")
    raise AuthenticationFailed()


def _count_failed_login(guard: LoginGuard, source_ip: str) -> None:
    """Count a wrong password on the address's and the account's counters, with its audit, in one transaction.

    Each counter changes by one atomic update conditional on what the login read; when a concurrent failure
    changed it meanwhile, the other update applies (so no failure goes uncounted).
    """
    audits = [audit_put("login_failed", user_id=guard.user_id, source_ip=source_ip, reason="password")]
    audits += [
        audit_put("lockout", user_id=guard.user_id, source_ip=source_ip, scope=scope)
        for scope in guard.caps_reached_by_a_failure()
    ]
    window_open = guard.window_open
    for attempt in range(2):
        try:
            unit.commit(*guard.failure_writes(window_open), *audits)
            return
        except unit.Refused as refused:
            if attempt or not refused.failed(lockout.REFUSED_BY[0]):
                raise
            window_open = not window_open


def password_proof(user: User, password: str | None, source_ip: str) -> list[unit.Write]:
    """The writes that hold a fresh proof by the account's password to the login lockout (its unit is refused if
    the address or the account got locked meanwhile); 401 for no password, a wrong one, or a locked login.

    A password checked anywhere is a login attempt: a wrong one is counted as login counts it, so a stolen token
    cannot guess the password here past the lockout."""
    records = users.find_by_email(user.email)
    counted = records.login_counters if records is not None else LoginCounters()
    guard = LoginGuard(user.id, user.email, source_ip, utc_now().timestamp(), counted)
    password_ok = verify_password(password, user.password_hash) if password else False
    if guard.locked:
        _refuse_locked(user, source_ip)
    if not password_ok:
        if password:
            _count_failed_login(guard, source_ip)
        raise AuthenticationFailed()
    return [*guard.success_writes()]


def logout(caller: Caller) -> None:
    user = caller.own_user()
    unit.commit(
        credentials.end_session(user.id, caller.session_id or ""),
        audit_put("logout", user_id=user.id, source_ip=caller.source_ip),
    )

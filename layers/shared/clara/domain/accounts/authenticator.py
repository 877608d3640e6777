"""The authenticator app: enrolment, its confirmation, recovery codes, and going back to emailed codes."""

from typing import Any

from clara.contract.errors import (
    AlreadyExists,
    AuthenticationFailed,
    TwoFactorRequired,
)
from clara.domain.accounts import otp, totp
from clara.domain.accounts.notices import deliver, notice
from clara.domain.accounts.sessions import stored_user, update_user_write
from clara.domain.accounts.sign_in import password_proof
from clara.domain.audit import AuditEvent, audit_put
from clara.domain.caller import Caller
from clara.formats import utc_now
from clara.records.accounts import User
from clara.store import credentials, unit


def start_authenticator(caller: Caller, user: User) -> totp.Enrolment:
    """A pending enrolment (clara.domain.accounts.totp): the secret, shown this once, to add to an authenticator app.
    400 while an app is in use: 2FA off or back to emailed codes first, each proven with a code of the app in use."""
    if user.two_factor_method == "totp":
        raise AlreadyExists("Authenticator")
    enrolment, pending_put = totp.enrol(user.id, user.email)
    unit.commit(pending_put, audit_put("2fa_totp_enrolment_started", user_id=user.id, source_ip=caller.source_ip))
    return enrolment


def confirm_authenticator(
    caller: Caller, user: User, code: str | None, *, password: str | None = None, email_code: str | None = None
) -> tuple[User, list[str]]:
    """2FA on with the app, by a current code of the pending enrolment: the user and its recovery codes (shown
    this once). 401 with is_2fa_enabled for a wrong or expired one, as enabling emailed 2FA answers.

    A user token alone (a stolen one) must not put a factor its holder controls in the owner's way, so a fresh
    proof comes too: with 2FA on by emailed codes, an emailed TWO_FACTOR_AUTH code (replacing the factor in use
    takes a proof of it); otherwise that code or the account's password (held to the login lockout)."""
    fresh = _fresh_proof(caller, user, password, email_code)
    try:
        codes, factor_operations = totp.confirm(user.id, code)
    except AuthenticationFailed:
        raise TwoFactorRequired() from None
    changes = {"is_2fa_enabled": True, "two_factor_method": "totp", "recovery_codes_left": len(codes)}
    now = utc_now()
    told, tell = notice(user, "authenticator_on", caller.source_ip, now)
    try:
        unit.commit(
            *fresh,
            *factor_operations,
            update_user_write(user.id, changes, now=now),
            audit_put("2fa_enabled", user_id=user.id, source_ip=caller.source_ip, method="totp"),
            tell,
        )
    except unit.Refused as refused:
        # Confirmed by a concurrent request, a newer enrolment, a code used meanwhile, or a lockout meanwhile.
        raise TwoFactorRequired() from refused
    deliver(told)
    return stored_user(user, now, **changes), codes


def _fresh_proof(caller: Caller, user: User, password: str | None, email_code: str | None) -> list[unit.Write]:
    """The writes that use the proof besides the token (an emailed code, or the password); 401 with
    is_2fa_enabled when it is missing or wrong."""
    try:
        if user.is_2fa_enabled or email_code is not None or password is None:
            return [otp.check(user.id, "TWO_FACTOR_AUTH", email_code)]
        return password_proof(user, password, caller.source_ip)
    except AuthenticationFailed:
        raise TwoFactorRequired() from None


def regenerate_recovery_codes(caller: Caller, user: User, code: str | None) -> tuple[User, list[str]]:
    """New recovery codes in place of the old ones, for a current code of the app (not a recovery code)."""
    proof = _authenticator_proof(caller, user, code)
    if proof.recovery:
        raise TwoFactorRequired()
    codes, hashes = totp.new_recovery_codes(user.id)
    now = utc_now()
    told, tell = notice(user, "recovery_codes_regenerated", caller.source_ip, now)
    _transact_proven(
        *proof.replace_recovery_codes(hashes),
        update_user_write(user.id, {"recovery_codes_left": len(codes)}, now=now),
        audit_put("2fa_recovery_codes_regenerated", user_id=user.id, source_ip=caller.source_ip),
        tell,
    )
    deliver(told)
    return stored_user(user, now, recovery_codes_left=len(codes)), codes


def switch_to_emailed_codes(caller: Caller, user: User, code: str | None) -> None:
    """2FA stays on with emailed codes; the app (and its recovery codes) is removed, proven by one of its codes."""
    drop_authenticator(caller, user, code, turn_off=False)


def drop_authenticator(caller: Caller, user: User, code: str | None, *, turn_off: bool) -> None:
    """The app removed, by one of its codes or a recovery code: 2FA goes off (`turn_off`) or back to emailed
    codes."""
    proof = _authenticator_proof(caller, user, code)
    changes: dict[str, Any] = {"is_2fa_enabled": False} if turn_off else {}
    event: AuditEvent = "2fa_disabled" if turn_off else "2fa_method_changed"
    now = utc_now()
    told = [notice(user, "2fa_off" if turn_off else "authenticator_removed", caller.source_ip, now)]
    if proof.recovery:
        told.append(notice(user, "recovery_code_used", caller.source_ip, now))
    _transact_proven(
        *proof.remove_factor(),
        credentials.end_totp_pending(user.id),
        update_user_write(user.id, {**changes, "two_factor_method": "email", "recovery_codes_left": 0}, now=now),
        audit_put(event, user_id=user.id, source_ip=caller.source_ip, method="email", recovery_code=proof.recovery),
        *(tell for _, tell in told),
    )
    deliver(*(each for each, _ in told))


def _authenticator_proof(caller: Caller, user: User, code: str | None) -> totp.Proof:
    if not (user.is_2fa_enabled and user.two_factor_method == "totp"):
        raise TwoFactorRequired()
    try:
        return totp.verify(user.id, code, caller.source_ip)
    except AuthenticationFailed:
        raise TwoFactorRequired() from None


def _transact_proven(*writes: unit.Write) -> None:
    try:
        unit.commit(*writes)
    except unit.Refused as refused:
        raise TwoFactorRequired() from refused  # the code was used by a concurrent request

"""The authenticator app: enrolment, its confirmation, recovery codes, and going back to emailed codes."""

from typing import Any

from clara.contract.errors import (
    AlreadyExists,
    AuthenticationFailed,
    TwoFactorRequired,
)
from clara.domain import otp, totp
from clara.domain.accounts.sessions import stored_user, update_user_write
from clara.domain.audit import AuditEvent, audit_put
from clara.domain.caller import Caller
from clara.domain.models import User
from clara.formats import utc_now
from clara.store import unit


def start_authenticator(caller: Caller, user: User) -> totp.Enrolment:
    """A pending enrolment (clara.domain.totp): the secret, shown this once, to add to an authenticator app. 400 while
    an app is in use: 2FA off or back to emailed codes first, each proven with a code of the app in use."""
    if user.two_factor_method == "totp":
        raise AlreadyExists("Authenticator")
    enrolment, pending_put = totp.enrol(user.id, user.email)
    unit.commit(pending_put, audit_put("2fa_totp_enrolment_started", user_id=user.id, source_ip=caller.source_ip))
    return enrolment


def confirm_authenticator(
    caller: Caller, user: User, code: str | None, email_code: str | None = None
) -> tuple[User, list[str]]:
    """2FA on with the app, by a current code of the pending enrolment: the user and its recovery codes (shown
    this once). 401 with is_2fa_enabled for a wrong or expired one, as enabling emailed 2FA answers.

    When 2FA is on with emailed codes, an emailed TWO_FACTOR_AUTH code is needed too: a user token alone (a
    stolen one) must not swap the factor in use for one its holder controls."""
    try:
        operations = [otp.check(user.id, "TWO_FACTOR_AUTH", email_code)] if user.is_2fa_enabled else []
        codes, factor_operations = totp.confirm(user.id, code)
        operations += factor_operations
    except AuthenticationFailed:
        raise TwoFactorRequired() from None
    changes = {"is_2fa_enabled": True, "two_factor_method": "totp", "recovery_codes_left": len(codes)}
    now = utc_now()
    try:
        unit.commit(
            *operations,
            update_user_write(user.id, changes, now=now),
            audit_put("2fa_enabled", user_id=user.id, source_ip=caller.source_ip, method="totp"),
        )
    except unit.Refused as refused:
        raise TwoFactorRequired() from refused  # confirmed by a concurrent request, or a newer enrolment
    return stored_user(user, now, **changes), codes


def regenerate_recovery_codes(caller: Caller, user: User, code: str | None) -> tuple[User, list[str]]:
    """New recovery codes in place of the old ones, for a current code of the app (not a recovery code)."""
    proof = _authenticator_proof(user, code)
    if proof.recovery:
        raise TwoFactorRequired()
    codes, hashes = totp.new_recovery_codes(user.id)
    now = utc_now()
    _transact_proven(
        proof.replace_recovery_codes(hashes),
        update_user_write(user.id, {"recovery_codes_left": len(codes)}, now=now),
        audit_put("2fa_recovery_codes_regenerated", user_id=user.id, source_ip=caller.source_ip),
    )
    return stored_user(user, now, recovery_codes_left=len(codes)), codes


def switch_to_emailed_codes(caller: Caller, user: User, code: str | None) -> None:
    """2FA stays on with emailed codes; the app (and its recovery codes) is removed, proven by one of its codes."""
    drop_authenticator(caller, user, code, {}, "2fa_method_changed")


def drop_authenticator(
    caller: Caller, user: User, code: str | None, changes: dict[str, Any], event: AuditEvent
) -> None:
    proof = _authenticator_proof(user, code)
    _transact_proven(
        proof.remove_factor(),
        update_user_write(user.id, {**changes, "two_factor_method": "email", "recovery_codes_left": 0}),
        audit_put(event, user_id=user.id, source_ip=caller.source_ip, method="email", recovery_code=proof.recovery),
    )


def _authenticator_proof(user: User, code: str | None) -> totp.Proof:
    if not (user.is_2fa_enabled and user.two_factor_method == "totp"):
        raise TwoFactorRequired()
    try:
        return totp.verify(user.id, code)
    except AuthenticationFailed:
        raise TwoFactorRequired() from None


def _transact_proven(*writes: unit.Write) -> None:
    try:
        unit.commit(*writes)
    except unit.Refused as refused:
        raise TwoFactorRequired() from refused  # the code was used by a concurrent request

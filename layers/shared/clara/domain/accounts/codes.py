"""One-time codes: sending them, activation, the password change and turning emailed 2FA on or off."""

from clara.contract.errors import (
    AuthenticationFailed,
    InvalidSchema,
    NoAccess,
    NotFound,
    RateLimitExceeded,
    ServiceBusy,
    TwoFactorRequired,
)
from clara.contract.requests import (
    ChangePasswordRequest,
)
from clara.domain.accounts import lockout, mail_cap, otp, ports
from clara.domain.accounts.authenticator import drop_authenticator
from clara.domain.accounts.notices import deliver, notice
from clara.domain.accounts.passwords import hash_password
from clara.domain.accounts.sessions import OTP_TYPES, stored_user, update_user_write
from clara.domain.audit import AuditEvent, audit_put
from clara.domain.caller import Caller
from clara.formats import utc_now
from clara.observability import logger
from clara.records.accounts import OtpType, User, UserRecords
from clara.settings import get_settings
from clara.store import credentials, unit
from clara.store import users as stored


def _user_by_email(email: str) -> UserRecords:
    records = stored.find_by_email(email)
    if records is None:
        raise NotFound("User")
    return records


def _same_user(caller: Caller, user: User) -> None:
    """A user token acts only on its own account (403); the public and private keys on any."""
    if caller.user is not None and caller.user.id != user.id:
        raise NoAccess()


def ensure_may_act_on_email(caller: Caller, email: str) -> None:
    """403 before anything else when a user token names another account's email (nothing about it leaks)."""
    if caller.user is not None and caller.user.email != email:
        raise NoAccess()


def send_otp(caller: Caller, email: str, otp_type: str) -> None:
    if otp_type not in OTP_TYPES:
        raise InvalidSchema.because("otp_type", f"one of {', '.join(sorted(OTP_TYPES))}")
    records = _user_by_email(email)
    user = records.user
    _same_user(caller, user)
    code, otp_put = otp.issue(user.id, user.email, otp_type, records.otps.get(otp_type))
    counted_at = mail_cap.now()
    cap = mail_cap.count_code_email(user.email, counted_at)
    try:
        unit.commit(otp_put, cap, audit_put("otp_sent", user_id=user.id, source_ip=caller.source_ip, type=otp_type))
    except unit.Refused as refused:
        if refused.failed(cap.name):  # the recipient's hourly cap
            raise RateLimitExceeded(retry_after_seconds=mail_cap.seconds_until_next_hour(counted_at)) from refused
        # A concurrent request sent one.
        raise RateLimitExceeded(retry_after_seconds=get_settings().otp_resend_seconds) from refused
    try:
        ports.mail().send_otp(user.email, user.first_name or "", otp_type, code)
    except Exception as error:
        logger.exception("Email not sent", extra={"email_kind": f"otp {otp_type}"})
        _withdraw_code(user, otp_type, code, counted_at, caller.source_ip)
        raise ServiceBusy() from error


def _withdraw_code(user: User, otp_type: OtpType, code: str, counted_at: float, source_ip: str) -> None:
    """Delete a code whose email was not sent, and give back its count, so the client may ask again at once."""
    try:
        unit.commit(
            otp.withdraw(user.id, otp_type, code),
            mail_cap.refund_code_email(user.email, counted_at),
            audit_put("email_not_sent", user_id=user.id, source_ip=source_ip, type=otp_type),
        )
    except Exception:  # a newer code replaced it meanwhile, or DynamoDB failed too: the resend cooldown still ends
        logger.exception("Unsent code not withdrawn", extra={"email_kind": f"otp {otp_type}"})


def _use_code(user_id: str, otp_type: OtpType, code: str | None, caller: Caller, *effects: unit.Write) -> None:
    """Consume the code and apply `effects` in one transaction (401 when the code is wrong, used, expired or out
    of tries)."""
    consume = otp.check(user_id, otp_type, code)
    audit = audit_put("otp_used", user_id=user_id, source_ip=caller.source_ip, type=otp_type)
    try:
        unit.commit(consume, *effects, audit)
    except unit.Refused as refused:
        raise AuthenticationFailed() from refused  # used by a concurrent request


def activate(caller: Caller, email: str, code: str) -> User:
    records = _user_by_email(email)
    now = utc_now()
    _use_code(
        records.user.id,
        "ACTIVATION",
        code,
        caller,
        update_user_write(records.user.id, {"is_active": True}, now=now),
        audit_put("activated", user_id=records.user.id, source_ip=caller.source_ip),
    )
    return stored_user(records.user, now, is_active=True)


def change_password(caller: Caller, email: str, request: ChangePasswordRequest) -> None:
    """New password; every other session of the user ends (the caller's own token keeps working), and the API key
    is replaced in the same transaction, so a token taken with the old password stops working too."""
    records = _user_by_email(email)
    user = records.user
    _same_user(caller, user)
    now = utc_now()
    told, tell = notice(user, "password_changed", caller.source_ip, now)
    _use_code(
        user.id,
        "CHANGE_PASSWORD",
        request.code,
        caller,
        update_user_write(user.id, {"password_hash": hash_password(request.password)}, now=now),
        credentials.new_api_key(user.id, now)[1],
        credentials.end_totp_pending(user.id),
        audit_put("password_changed", user_id=user.id, source_ip=caller.source_ip, api_key_replaced=True),
        tell,
    )
    deliver(told)
    # The owner proved the mailbox: the guesses at the old password no longer lock any address out.
    stale = credentials.session_keys(user.id, keep=caller.session_id) + lockout.counter_keys(user.id)
    stored.delete_items(stale)


def set_two_factor(caller: Caller, user: User, code: str | None, enabled: bool) -> None:
    """Turn 2FA on or off with a TWO_FACTOR_AUTH code; a wrong code is 401 with is_2fa_enabled, as the contract.
    With an authenticator app, turning 2FA off takes its code or a recovery code, and removes the app. Either way
    a pending enrolment ends and the owner is emailed."""
    if not enabled and user.is_2fa_enabled and user.two_factor_method == "totp":
        drop_authenticator(caller, user, code, turn_off=True)
        return
    event: AuditEvent = "2fa_enabled" if enabled else "2fa_disabled"
    now = utc_now()
    told, tell = notice(user, "2fa_on" if enabled else "2fa_off", caller.source_ip, now)
    try:
        _use_code(
            user.id,
            "TWO_FACTOR_AUTH",
            code,
            caller,
            update_user_write(user.id, {"is_2fa_enabled": enabled}, now=now),
            credentials.end_totp_pending(user.id),
            audit_put(event, user_id=user.id, source_ip=caller.source_ip),
            tell,
        )
    except AuthenticationFailed:
        raise TwoFactorRequired() from None
    deliver(told)


def reset_two_factor(caller: Caller, user: User) -> None:
    """Support's way back in for an owner who lost the second factor (the private key, no code): 2FA off whatever
    the method, the app, its recovery codes and any pending enrolment removed, audited, and the owner emailed."""
    now = utc_now()
    told, tell = notice(user, "2fa_off_by_support", None, now)
    try:
        unit.commit(
            credentials.delete_totp(user.id),
            credentials.end_totp_pending(user.id),
            update_user_write(
                user.id, {"is_2fa_enabled": False, "two_factor_method": "email", "recovery_codes_left": 0}, now=now
            ),
            audit_put(
                "2fa_reset_by_support", user_id=user.id, source_ip=caller.source_ip, method=user.two_factor_method
            ),
            tell,
        )
    except unit.Refused as refused:
        raise NotFound("User") from refused  # erased meanwhile: the user update's condition
    deliver(told)

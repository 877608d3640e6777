"""Account logic in one place: registration, sign-in (password, 2FA, Google), sessions, one-time codes,
activation, the profile, and the admin's user operations. Handlers call these; these call the repositories.

Every change is one DynamoDB transaction with its audit item, so nothing is half-done and every security event
is recorded. Emails go out after the change is stored.
"""

import base64
import contextlib
import secrets as random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlencode

from clara.aws import aws_client
from clara.contract.errors import (
    AlreadyExists,
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
    RegisterRequest,
    UpdateUserRequest,
    normalise_email,
    valid_name,
)
from clara.domain import lockout, mail_cap, otp, totp, users
from clara.domain.audit import AuditEvent, audit_put, record
from clara.domain.caller import Caller
from clara.domain.lockout import LoginGuard
from clara.domain.models import OtpType, Session, User, UserRecords
from clara.domain.passwords import hash_password, verify_password
from clara.domain.tokens import issue_user_token
from clara.formats import new_id, utc_now
from clara.integrations.mail import Mailer
from clara.observability import count, logger
from clara.settings import get_settings
from clara.store import credentials, unit
from clara.store import users as stored

if TYPE_CHECKING:
    from clara.integrations.google_identity import GoogleIdentity

OTP_TYPES: tuple[OtpType, ...] = ("ACTIVATION", "TWO_FACTOR_AUTH", "CHANGE_PASSWORD")


def capitalise(name: str | None) -> str | None:
    """Each word capitalised, as the contract stores names."""
    return " ".join(word[:1].upper() + word[1:] for word in name.split()) if name else name


# ------------------------------------------------------------------------------------------- sessions


def _new_session(user_id: str) -> tuple[str, unit.Write]:
    """A user token and the write that stores its session."""
    now = time.time()
    expires_at = now + get_settings().session_expiry_in_days * 86400
    session = Session(
        id=new_id("session"), user_id=user_id, created_at=utc_now().isoformat(), expires_at=int(expires_at)
    )
    return issue_user_token(user_id, session.id, expires_at), credentials.new_session(session)


def _update_user(
    user_id: str,
    changes: dict[str, Any],
    remove: tuple[str, ...] = (),
    *,
    now: datetime | None = None,
    add: dict[str, int] | None = None,
) -> unit.Write:
    """Set each change (and updated_at) on an existing user; remove the named attributes; add to counters."""
    return stored.update_user(user_id, changes, now=now or utc_now(), removed=remove, added=add)


def _stored(user: User, now: datetime, **changes: Any) -> User:
    """The user as an update at `now` left it, without reading it back (the same updated_at as stored)."""
    return user.model_copy(update={**changes, "updated_at": now})


# ------------------------------------------------------------------------------------------- registration


def register(request: RegisterRequest, caller: Caller) -> tuple[User, str]:
    """A new inactive user with its session, API key and activation code; the welcome email carries the code."""
    settings = get_settings()
    now = utc_now()
    user = User(
        id=new_id("user"),
        email=request.email,
        first_name=capitalise(request.first_name),
        last_name=capitalise(request.last_name),
        password_hash=hash_password(request.password),
        credits=settings.signup_credits,
        created_at=now,
        updated_at=now,
    )
    token, session_put = _new_session(user.id)
    code, otp_put = otp.issue(user.id, user.email, "ACTIVATION", live=None)
    counted_at = mail_cap.now()
    _create_user(
        user,
        session_put,
        otp_put,
        mail_cap.count_code_email(user.email, counted_at),
        audit_put("register", user_id=user.id, source_ip=caller.source_ip),
    )
    link = f"{settings.client_url}/auth/email/activate?" + urlencode({"email": user.email, "code": code})
    send = lambda: Mailer().send_welcome(user.email, user.first_name or "", code, link)  # noqa: E731
    _mail_or_undo(user, send, "welcome", caller.source_ip, counted_at)
    count("Registrations")
    return user, token


def _create_user(user: User, *writes: unit.Write) -> None:
    """The user, the reservation of its email (uniqueness), its API key and `writes`, all or nothing."""
    _, api_key_put = credentials.new_api_key(user.id, user.created_at)
    try:
        unit.commit(*stored.create_user(user), api_key_put, *writes)
    except unit.Refused as refused:
        if refused.failed(stored.EMAIL):
            raise AlreadyExists("User") from refused
        # The only other condition a new account's writes can fail: the recipient's hourly cap on code emails.
        raise RateLimitExceeded(retry_after_seconds=mail_cap.seconds_until_next_hour(mail_cap.now())) from refused


def _mail_or_undo(
    user: User, send: Callable[[], None], kind: str, source_ip: str, counted_at: float | None = None
) -> None:
    """Send a new account's first email; when SES fails, undo the account and answer 503, so the client can simply
    retry. An account whose first email never left would hold the address with its code unsent."""
    try:
        send()
    except Exception as error:
        logger.exception("Email not sent", extra={"email_kind": kind})
        try:
            stored.delete_items(stored.erasure_keys(user.id, user.email))
            if counted_at is not None:
                _refund_code_email(user.email, counted_at)
            record("registration_undone", user_id=None, source_ip=source_ip, undone_user_id=user.id, email_kind=kind)
        except Exception:
            logger.exception("Registration not undone", extra={"email_kind": kind})
        raise ServiceBusy() from error


def _refund_code_email(email: str, counted_at: float) -> None:
    with contextlib.suppress(unit.Refused):  # the hour's item expired or was never written: nothing to take back
        unit.commit(mail_cap.refund_code_email(email, counted_at))


# ------------------------------------------------------------------------------------------- Google


def google_sign_in(id_token: str, code: str | None, source_ip: str) -> tuple[User, str, bool]:
    """Sign in (or up) with a verified Google id_token: the user, a token, and whether the user is new.

    As login does, an account with 2FA on also needs its TWO_FACTOR_AUTH code (401 with is_2fa_enabled otherwise).
    """
    from clara.integrations.google_identity import verify_google_id_token  # only the sign-in needs it

    identity = verify_google_id_token(id_token)
    try:
        email = normalise_email(identity.email)
    except ValueError:
        raise AuthenticationFailed() from None
    records = users.find_by_email(email)
    if records is None:
        return _google_sign_up(identity, email, source_ip)

    user = records.user
    if user.google_user_id not in (None, identity.subject) or (
        user.google_user_id is None and not identity.email_verified
    ):
        # Linking needs Google to vouch for the address; another Google account never takes this one over.
        raise AuthenticationFailed()
    operations: list[unit.Write] = []
    used_recovery_code = False
    if user.is_2fa_enabled:
        operation, used_recovery_code = _second_factor_or_refuse(user, code, source_ip, google=True)
        operations.append(operation)
    if not user.is_active:
        user = _take_unverified_account(user, identity, source_ip)
    token, session_put = _new_session(user.id)
    changes: dict[str, Any] = {"google_user_id": identity.subject, "is_active": True}
    now = utc_now()
    try:
        unit.commit(
            *operations,
            session_put,
            _update_user(user.id, changes, now=now, add=_recovery_code_used(used_recovery_code)),
            audit_put("google_sign_in", user_id=user.id, source_ip=source_ip, new=False),
        )
    except unit.Refused as refused:
        if operations:
            raise TwoFactorRequired() from refused  # the code was used by a concurrent sign-in
        raise
    if used_recovery_code:
        changes["recovery_codes_left"] = user.recovery_codes_left - 1
    return _stored(user, now, **changes), token, False


def _google_names(identity: "GoogleIdentity") -> tuple[str | None, str | None]:
    """Google's names as Clara stores them; one the schemas would refuse is left out (the user can add one)."""
    first, last = valid_name(identity.given_name or identity.name), valid_name(identity.family_name)
    return capitalise(first), capitalise(last)


def _google_sign_up(identity: "GoogleIdentity", email: str, source_ip: str) -> tuple[User, str, bool]:
    if not identity.email_verified:
        raise AuthenticationFailed()  # an unproven address must not claim an account its owner may register
    password = random.token_urlsafe(12)[:16]
    now = utc_now()
    first_name, last_name = _google_names(identity)
    user = User(
        id=new_id("user"),
        email=email,
        first_name=first_name,
        last_name=last_name,
        password_hash=hash_password(password),
        is_active=True,
        google_user_id=identity.subject,
        credits=get_settings().signup_credits,
        created_at=now,
        updated_at=now,
    )
    token, session_put = _new_session(user.id)
    _create_user(user, session_put, audit_put("google_sign_in", user_id=user.id, source_ip=source_ip, new=True))
    send = lambda: Mailer().send_generated_password(user.email, user.first_name or "", password)  # noqa: E731
    _mail_or_undo(user, send, "password", source_ip)
    count("Registrations")
    return user, token, True


def _take_unverified_account(user: User, identity: "GoogleIdentity", source_ip: str) -> User:
    """Google proves the address; this account's email never was. Whoever registered it need not own the address
    (pre-registration takeover), so nothing they set survives the link: the password goes, every session ends,
    the API key is replaced (its old token fails at once) and the names become Google's.

    The account stays inactive until the caller's own transaction activates it, and each step can be repeated, so
    a take-over interrupted half-way is finished by the next Google sign-in.
    """
    now = utc_now()
    names = dict(zip(("first_name", "last_name"), _google_names(identity), strict=True))
    changes: dict[str, Any] = {"google_user_id": identity.subject}
    changes.update((field, name) for field, name in names.items() if name)
    removed = ("password_hash", *(field for field, name in names.items() if not name))
    unit.commit(
        _update_user(user.id, changes, remove=removed, now=now),
        credentials.new_api_key(user.id, now)[1],
        audit_put("google_took_unverified_account", user_id=user.id, source_ip=source_ip),
    )
    # Without a password no new session can start, so this finds every session there will be; the guesses at the
    # dropped password no longer count against any address either.
    stored.delete_items(credentials.session_keys(user.id) + lockout.counter_keys(user.id))
    cleared = {"password_hash": None}
    return _stored(user, now, **{**changes, **names, **cleared})


# ------------------------------------------------------------------------------------------- login, logout


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
    401; the lockout (clara.domain.lockout) is per (account, client address), with a cap per account per hour.
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
        operation, used_recovery_code = _second_factor_or_refuse(user, code, source_ip)
        operations.append(operation)
    token, session_put = _new_session(user.id)
    operations.append(session_put)
    if used_recovery_code:
        operations.append(_update_user(user.id, {}, now=now, add=_recovery_code_used(True)))
        user = _stored(user, now, recovery_codes_left=user.recovery_codes_left - 1)
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
    return user, token


def _second_factor(user: User, code: str | None) -> tuple[unit.Write, bool]:
    """The write that uses the 2FA code of the user's method, and whether it was a recovery code;
    401 when it is wrong (clara.domain.otp, clara.domain.totp)."""
    if user.two_factor_method == "totp":
        proof = totp.verify(user.id, code)
        return proof.use(), proof.recovery
    return otp.check(user.id, "TWO_FACTOR_AUTH", code), False


def _second_factor_or_refuse(user: User, code: str | None, source_ip: str, **audited: Any) -> tuple[unit.Write, bool]:
    """_second_factor for a sign-in (password or Google): a wrong code is a failed login, counted and audited, and
    answered 401 with the 2FA hint."""
    try:
        return _second_factor(user, code)
    except AuthenticationFailed:
        count("LoginsFailed")
        record("login_failed", user_id=user.id, source_ip=source_ip, reason="2fa_code", **audited)
        raise TwoFactorRequired() from None


def _recovery_code_used(used: bool) -> dict[str, int] | None:
    return {"recovery_codes_left": -1} if used else None


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


def logout(caller: Caller) -> None:
    user = caller.own_user()
    unit.commit(
        credentials.end_session(user.id, caller.session_id or ""),
        audit_put("logout", user_id=user.id, source_ip=caller.source_ip),
    )


# ------------------------------------------------------------------------------------------- codes


def _user_by_email(email: str) -> UserRecords:
    records = users.find_by_email(email)
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
        raise InvalidSchema()
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
        Mailer().send_otp(user.email, user.first_name or "", otp_type, code)
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
        _update_user(records.user.id, {"is_active": True}, now=now),
        audit_put("activated", user_id=records.user.id, source_ip=caller.source_ip),
    )
    return _stored(records.user, now, is_active=True)


def change_password(caller: Caller, email: str, request: ChangePasswordRequest) -> None:
    """New password; every other session of the user ends (the caller's own token keeps working), and the API key
    is replaced in the same transaction, so a token taken with the old password stops working too."""
    records = _user_by_email(email)
    user = records.user
    _same_user(caller, user)
    now = utc_now()
    _use_code(
        user.id,
        "CHANGE_PASSWORD",
        request.code,
        caller,
        _update_user(user.id, {"password_hash": hash_password(request.password)}, now=now),
        credentials.new_api_key(user.id, now)[1],
        audit_put("password_changed", user_id=user.id, source_ip=caller.source_ip, api_key_replaced=True),
    )
    # The owner proved the mailbox: the guesses at the old password no longer lock any address out.
    stale = credentials.session_keys(user.id, keep=caller.session_id) + lockout.counter_keys(user.id)
    stored.delete_items(stale)


def set_two_factor(caller: Caller, user: User, code: str | None, enabled: bool) -> None:
    """Turn 2FA on or off with a TWO_FACTOR_AUTH code; a wrong code is 401 with is_2fa_enabled, as the contract.
    With an authenticator app, turning 2FA off takes its code or a recovery code, and removes the app."""
    event: AuditEvent = "2fa_enabled" if enabled else "2fa_disabled"
    if not enabled and user.is_2fa_enabled and user.two_factor_method == "totp":
        _drop_authenticator(caller, user, code, {"is_2fa_enabled": False}, event)
        return
    try:
        _use_code(
            user.id,
            "TWO_FACTOR_AUTH",
            code,
            caller,
            _update_user(user.id, {"is_2fa_enabled": enabled}),
            audit_put(event, user_id=user.id, source_ip=caller.source_ip),
        )
    except AuthenticationFailed:
        raise TwoFactorRequired() from None


# ------------------------------------------------------------------------------------------- authenticator app


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
            _update_user(user.id, changes, now=now),
            audit_put("2fa_enabled", user_id=user.id, source_ip=caller.source_ip, method="totp"),
        )
    except unit.Refused as refused:
        raise TwoFactorRequired() from refused  # confirmed by a concurrent request, or a newer enrolment
    return _stored(user, now, **changes), codes


def regenerate_recovery_codes(caller: Caller, user: User, code: str | None) -> tuple[User, list[str]]:
    """New recovery codes in place of the old ones, for a current code of the app (not a recovery code)."""
    proof = _authenticator_proof(user, code)
    if proof.recovery:
        raise TwoFactorRequired()
    codes, hashes = totp.new_recovery_codes(user.id)
    now = utc_now()
    _transact_proven(
        proof.replace_recovery_codes(hashes),
        _update_user(user.id, {"recovery_codes_left": len(codes)}, now=now),
        audit_put("2fa_recovery_codes_regenerated", user_id=user.id, source_ip=caller.source_ip),
    )
    return _stored(user, now, recovery_codes_left=len(codes)), codes


def switch_to_emailed_codes(caller: Caller, user: User, code: str | None) -> None:
    """2FA stays on with emailed codes; the app (and its recovery codes) is removed, proven by one of its codes."""
    _drop_authenticator(caller, user, code, {}, "2fa_method_changed")


def _drop_authenticator(
    caller: Caller, user: User, code: str | None, changes: dict[str, Any], event: AuditEvent
) -> None:
    proof = _authenticator_proof(user, code)
    _transact_proven(
        proof.remove_factor(),
        _update_user(user.id, {**changes, "two_factor_method": "email", "recovery_codes_left": 0}),
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


# ------------------------------------------------------------------------------------------- profile, admin


def update_user(caller: Caller, user: User, request: UpdateUserRequest) -> User:
    changes = request.model_dump(exclude_unset=True, exclude_none=True)
    for name in ("first_name", "last_name"):
        if name in changes:
            changes[name] = capitalise(changes[name])
    if not changes:
        return user
    now = utc_now()
    unit.commit(
        _update_user(user.id, changes, now=now),
        audit_put("user_updated", user_id=user.id, source_ip=caller.source_ip, fields=sorted(changes)),
    )
    return _stored(user, now, **changes)


def delete_user(caller: Caller, user: User) -> None:
    """Erase every item of the user (sessions, codes, key, ledger, tasks, its own audit), its uploaded files,
    and free its email."""
    stored.delete_items(stored.erasure_keys(user.id, user.email))
    _delete_files_of(user.id)
    record("admin_user_deleted", user_id=None, source_ip=caller.source_ip, deleted_user_id=user.id)


def _delete_files_of(user_id: str) -> None:
    """Attachments live under `<user id>/` in the bucket (clara.domain.analysis)."""
    bucket = get_settings().attachments_bucket
    if not bucket:
        return
    s3 = aws_client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{user_id}/"):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})

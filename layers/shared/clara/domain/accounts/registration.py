"""Registration: a new inactive user with its session, API key and activation code, and its welcome email."""

import contextlib
from collections.abc import Callable
from urllib.parse import urlencode

from clara.contract.errors import (
    AlreadyExists,
    RateLimitExceeded,
    ServiceBusy,
)
from clara.contract.requests import (
    RegisterRequest,
)
from clara.domain.accounts import mail_cap, otp, ports
from clara.domain.accounts.passwords import hash_password
from clara.domain.accounts.sessions import capitalise, new_session
from clara.domain.audit import audit_put, record
from clara.domain.caller import Caller
from clara.formats import new_id, utc_now
from clara.observability import count, logger
from clara.records.accounts import User
from clara.settings import get_settings
from clara.store import credentials, unit
from clara.store import users as stored


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
    token, session_put = new_session(user.id)
    code, otp_put = otp.issue(user.id, user.email, "ACTIVATION", live=None)
    counted_at = mail_cap.now()
    create_user(
        user,
        session_put,
        otp_put,
        mail_cap.count_code_email(user.email, counted_at),
        audit_put("register", user_id=user.id, source_ip=caller.source_ip),
    )
    link = f"{settings.client_url}/auth/email/activate?" + urlencode({"email": user.email, "code": code})
    send = lambda: ports.mail().send_welcome(user.email, user.first_name or "", code, link)  # noqa: E731
    mail_or_undo(user, send, "welcome", caller.source_ip, counted_at)
    count("Registrations")
    return user, token


def create_user(user: User, *writes: unit.Write) -> None:
    """The user, the reservation of its email (uniqueness), its API key and `writes`, all or nothing."""
    _, api_key_put = credentials.new_api_key(user.id, user.created_at)
    try:
        unit.commit(*stored.create_user(user), api_key_put, *writes)
    except unit.Refused as refused:
        if refused.failed(stored.EMAIL):
            raise AlreadyExists("User") from refused
        # The only other condition a new account's writes can fail: the recipient's hourly cap on code emails.
        raise RateLimitExceeded(retry_after_seconds=mail_cap.seconds_until_next_hour(mail_cap.now())) from refused


def mail_or_undo(
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

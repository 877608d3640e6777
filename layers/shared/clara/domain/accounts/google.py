"""Google sign-in: an account by a verified Google identity, taken over from an unverified squatter if need be."""

import secrets as random
from typing import Any

from clara.contract.errors import (
    AuthenticationFailed,
    TwoFactorRequired,
)
from clara.contract.requests import (
    normalise_email,
    valid_name,
)
from clara.domain.accounts import lockout, ports
from clara.domain.accounts.notices import deliver
from clara.domain.accounts.passwords import hash_password
from clara.domain.accounts.ports import GoogleIdentity
from clara.domain.accounts.registration import create_user, mail_or_undo
from clara.domain.accounts.sessions import capitalise, new_session, stored_user, update_user_write
from clara.domain.accounts.sign_in import notice_of_recovery_code, recovery_code_used, second_factor_or_refuse
from clara.domain.audit import audit_put
from clara.formats import new_id, utc_now
from clara.observability import count
from clara.records.accounts import Notice, User
from clara.settings import get_settings
from clara.store import credentials, unit
from clara.store import users as stored


def google_sign_in(id_token: str, code: str | None, source_ip: str) -> tuple[User, str, bool]:
    """Sign in (or up) with a verified Google id_token: the user, a token, and whether the user is new.

    As login does, an account with 2FA on also needs its TWO_FACTOR_AUTH code (401 with is_2fa_enabled otherwise).
    """
    identity = ports.google()(id_token)
    try:
        email = normalise_email(identity.email)
    except ValueError:
        raise AuthenticationFailed() from None
    records = stored.find_by_email(email)
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
        operations, used_recovery_code = second_factor_or_refuse(user, code, source_ip, google=True)
    if not user.is_active:
        user = _take_unverified_account(user, identity, source_ip)
    token, session_put = new_session(user.id)
    changes: dict[str, Any] = {"google_user_id": identity.subject, "is_active": True}
    now = utc_now()
    told: list[Notice] = []
    if used_recovery_code:
        told, tell = notice_of_recovery_code(user, source_ip, now)
        operations.append(tell)
    try:
        unit.commit(
            *operations,
            session_put,
            update_user_write(user.id, changes, now=now, add=recovery_code_used(used_recovery_code)),
            audit_put("google_sign_in", user_id=user.id, source_ip=source_ip, new=False),
        )
    except unit.Refused as refused:
        if operations:
            raise TwoFactorRequired() from refused  # the code was used by a concurrent sign-in
        raise
    if used_recovery_code:
        changes["recovery_codes_left"] = user.recovery_codes_left - 1
    deliver(*told)
    return stored_user(user, now, **changes), token, False


def _google_names(identity: GoogleIdentity) -> tuple[str | None, str | None]:
    """Google's names as Clara stores them; one the schemas would refuse is left out (the user can add one)."""
    first, last = valid_name(identity.given_name or identity.name), valid_name(identity.family_name)
    return capitalise(first), capitalise(last)


def _google_sign_up(identity: GoogleIdentity, email: str, source_ip: str) -> tuple[User, str, bool]:
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
    token, session_put = new_session(user.id)
    create_user(user, session_put, audit_put("google_sign_in", user_id=user.id, source_ip=source_ip, new=True))
    send = lambda: ports.mail().send_generated_password(user.email, user.first_name or "", password)  # noqa: E731
    mail_or_undo(user, send, "password", source_ip)
    count("Registrations")
    return user, token, True


def _take_unverified_account(user: User, identity: GoogleIdentity, source_ip: str) -> User:
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
        update_user_write(user.id, changes, remove=removed, now=now),
        credentials.new_api_key(user.id, now)[1],
        credentials.end_totp_pending(user.id),  # the password went: an enrolment started with it ends too
        audit_put("google_took_unverified_account", user_id=user.id, source_ip=source_ip),
    )
    # Without a password no new session can start, so this finds every session there will be; the guesses at the
    # dropped password no longer count against any address either.
    stored.delete_items(credentials.session_keys(user.id) + lockout.counter_keys(user.id))
    cleared = {"password_hash": None}
    return stored_user(user, now, **{**changes, **names, **cleared})

"""Credentials stored with the user: its sessions, its one-time codes, its authenticator app (a pending enrolment
and the confirmed factor) and its API key (one per user; the API key token names the key's id).

A code or an authenticator counts its tries with `_take_attempt`: one conditional update of the item itself,
which also reads it strongly consistent, so concurrent guesses cannot share an attempt, and a try past the cap
is refused without being compared.
"""

from datetime import datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from clara.formats import new_id
from clara.records.accounts import ApiKey, Otp, OtpType, Session, TotpFactor, TotpPending
from clara.store import unit
from clara.store.items import ApiKeyItem, OtpItem, SessionItem, TotpItem, TotpPendingItem, user_pk
from clara.store.table import TableItem, query_every_kind

# Names of the writes, as Refused.reasons gives them.
SESSION = "session"
OTP = "otp"
TOTP = "totp"
TOTP_PENDING = "totp_pending"

CONDITION_FAILED = "ConditionalCheckFailedException"


def _take_attempt(item: TableItem, attempts: NumberAttribute, live: Condition, max_attempts: int) -> bool:
    """Count one try on `item` (one UpdateItem that reads it back, ALL_NEW): False, with nothing counted, when
    `live` does not hold or its tries are spent."""
    try:
        item.update(actions=[attempts.add(1)], condition=live & (attempts.does_not_exist() | (attempts < max_attempts)))
    except UpdateError as error:
        if error.cause_response_code == CONDITION_FAILED:
            return False
        raise
    return True


# ------------------------------------------------------------------------------------------- sessions


def new_session(session: Session) -> unit.Write:
    return unit.put(SESSION, SessionItem(*SessionItem.key(session.user_id, session.id), **session.model_dump()))


def end_session(user_id: str, session_id: str) -> unit.Write:
    return unit.delete(SESSION, SessionItem(*SessionItem.key(user_id, session_id)))


def session_keys(user_id: str, *, keep: str | None = None) -> list[tuple[str, str]]:
    """The keys of the user's sessions but `keep` (a session id), to delete them (clara.store.users.delete_items)."""
    items = query_every_kind(
        user_pk(user_id),
        TableItem.from_raw_data,
        range_key_condition=TableItem.sk.startswith(SessionItem.sk_prefix()),
        consistent_read=True,  # revocation must see a session created a moment ago
        attributes_to_get=["pk", "sk"],
    )
    kept = SessionItem.key(user_id, keep) if keep else None
    return [(item.pk, item.sk) for item in items if (item.pk, item.sk) != kept]


# ------------------------------------------------------------------------------------------- one-time codes


def put_otp(otp: Otp, email: str, *, resend_before: float, now: int) -> unit.Write:
    """The write that stores `otp` in place of the live code, refused (OTP) while that one was sent after
    `resend_before` and has not expired by `now`."""
    gsi1pk, gsi1sk = OtpItem.by_email_key(email, otp.type)
    item = OtpItem(
        *OtpItem.key(otp.user_id, otp.type),
        gsi1pk=gsi1pk,
        gsi1sk=gsi1sk,
        **{**otp.model_dump(), "expires_at": int(otp.expires_at)},
    )
    condition = OtpItem.pk.does_not_exist() | (OtpItem.sent_at < resend_before) | (OtpItem.expires_at < now)
    return unit.put(OTP, item, condition)


def delete_otp(user_id: str, otp_type: OtpType, code_hash: str) -> unit.Write:
    """The write that deletes the code whose hash is `code_hash` (refused, as OTP, for any other)."""
    return unit.delete(OTP, OtpItem(*OtpItem.key(user_id, otp_type)), OtpItem.code_hash == code_hash)


def take_otp_attempt(user_id: str, otp_type: OtpType, now: float, max_attempts: int) -> Otp | None:
    """The live code after counting one try; None when there is none, it expired or its tries are spent."""
    item = OtpItem(*OtpItem.key(user_id, otp_type))
    live = OtpItem.code_hash.exists() & (OtpItem.expires_at > now)
    if not _take_attempt(item, OtpItem.attempts, live, max_attempts):
        return None
    return Otp.model_validate(item.stored_values())


# ------------------------------------------------------------------------------------------- authenticator app


def put_totp_pending(pending: TotpPending) -> unit.Write:
    item = TotpPendingItem(*TotpPendingItem.key(pending.user_id), **pending.model_dump(exclude={"user_id"}))
    return unit.put(TOTP_PENDING, item)


def end_totp_pending(user_id: str) -> unit.Write:
    """The write that ends any pending enrolment: one started before a change of 2FA or of the password must not be
    confirmed after it."""
    return unit.delete(TOTP_PENDING, TotpPendingItem(*TotpPendingItem.key(user_id)))


def take_totp_pending_attempt(user_id: str, now: float, max_attempts: int) -> TotpPending | None:
    """The live pending enrolment after counting one try; None when there is none, it expired or its tries are
    spent."""
    item = TotpPendingItem(*TotpPendingItem.key(user_id))
    live = TotpPendingItem.secret_ciphertext.exists() & (TotpPendingItem.expires_at > now)
    if not _take_attempt(item, TotpPendingItem.attempts, live, max_attempts):
        return None
    return TotpPending(user_id=user_id, **item.stored_values())


def confirm_totp(factor: TotpFactor) -> tuple[unit.Write, unit.Write]:
    """The writes that make `factor` of its pending enrolment: the pending item goes (refused as TOTP_PENDING
    when a newer enrolment replaced it), the factor is stored (refused as TOTP when one exists)."""
    pending = TotpPendingItem(*TotpPendingItem.key(factor.user_id))
    item = TotpItem(*TotpItem.key(factor.user_id), **factor.model_dump(exclude={"user_id"}))
    return (
        unit.delete(TOTP_PENDING, pending, TotpPendingItem.secret_ciphertext == factor.secret_ciphertext),
        unit.put(TOTP, item, TotpItem.pk.does_not_exist()),
    )


def _tries(recovery: bool) -> tuple[NumberAttribute, NumberAttribute]:
    """The factor's count and its window, for recovery codes or for app codes (each kind has its own ceiling)."""
    if recovery:
        return TotpItem.recovery_attempts, TotpItem.recovery_window
    return TotpItem.attempts, TotpItem.attempt_window


def take_totp_attempt(user_id: str, window: int, max_attempts: int, *, recovery: bool = False) -> TotpFactor | None:
    """The factor after counting one try (of a recovery code, or of an app code) in attempt window `window`; None
    when there is none or the window's tries are spent. One conditional update either counts on in this window or
    starts it; when a concurrent try started it meanwhile, counting on is tried once more, so no try goes
    uncounted."""
    item = TotpItem(*TotpItem.key(user_id))
    attempts, attempt_window = _tries(recovery)
    in_window = attempt_window == window
    if _take_attempt(item, attempts, in_window, max_attempts):
        return _factor(user_id, item)
    try:
        item.update(
            actions=[attempts.set(1), attempt_window.set(window)],
            condition=TotpItem.pk.exists() & (attempt_window != window),
        )
        return _factor(user_id, item)
    except UpdateError as error:
        if error.cause_response_code != CONDITION_FAILED:
            raise
    if _take_attempt(item, attempts, in_window, max_attempts):
        return _factor(user_id, item)
    return None


def _factor(user_id: str, item: TotpItem) -> TotpFactor:
    values = item.stored_values()
    codes = values.pop("recovery_codes", None)
    return TotpFactor(user_id=user_id, recovery_codes=codes.as_dict() if codes is not None else {}, **values)


def _proof(step: int | None, recovery_hash: str | None) -> tuple[Condition, list[Action], list[Action]]:
    """What makes a code single-use: the condition, what using it sets and what it removes. A TOTP code's time
    step must be later than the last one used; a recovery code must still be stored."""
    if recovery_hash is not None:
        code = TotpItem.recovery_codes[recovery_hash]
        return code.exists(), [], [code.remove()]
    assert step is not None
    return TotpItem.last_step < step, [TotpItem.last_step.set(step)], []


def _try_taken_back(recovery_hash: str | None) -> Action:
    """A right code's own try no longer counts against the account's ceiling (the wrong ones still do)."""
    attempts, _ = _tries(recovery_hash is not None)
    return attempts.add(-1)


def use_totp(user_id: str, *, step: int | None = None, recovery_hash: str | None = None) -> unit.Write:
    """The write that uses a TOTP code of time step `step` or the recovery code of `recovery_hash` (refused as
    TOTP when it was used meanwhile), and takes its try back from the account's count."""
    condition, sets, removes = _proof(step, recovery_hash)
    actions = [*sets, _try_taken_back(recovery_hash), *removes]
    return unit.update(TOTP, TotpItem(*TotpItem.key(user_id)), actions, condition)


def remove_totp(user_id: str, *, step: int | None = None, recovery_hash: str | None = None) -> unit.Write:
    """The write that deletes the factor, on the condition of use_totp (2FA off, or back to emailed codes)."""
    condition, _, _ = _proof(step, recovery_hash)
    return unit.delete(TOTP, TotpItem(*TotpItem.key(user_id)), condition)


def delete_totp(user_id: str) -> unit.Write:
    """The write that deletes the factor whatever its state (support's reset, which takes no code)."""
    return unit.delete(TOTP, TotpItem(*TotpItem.key(user_id)))


def replace_recovery_codes(
    user_id: str, hashes: dict[str, bool], *, step: int | None = None, recovery_hash: str | None = None
) -> unit.Write:
    """The write that uses a code, as use_totp, and stores new recovery codes in place of every old one."""
    condition, sets, _ = _proof(step, recovery_hash)
    actions = [*sets, _try_taken_back(recovery_hash), TotpItem.recovery_codes.set(hashes)]
    return unit.update(TOTP, TotpItem(*TotpItem.key(user_id)), actions, condition)


# ------------------------------------------------------------------------------------------- API key


def api_key_from_item(item: ApiKeyItem) -> ApiKey:
    return ApiKey(id=item.id, user_id=item.user_id, created_at=item.created_at, updated_at=item.updated_at)


def _api_key_item(key: ApiKey) -> ApiKeyItem:
    return ApiKeyItem(
        *ApiKeyItem.key(key.user_id),
        id=key.id,
        user_id=key.user_id,
        created_at=key.created_at,
        updated_at=key.updated_at,
    )


def new_api_key(user_id: str, now: datetime) -> tuple[ApiKey, unit.Write]:
    """A fresh key (a new id, so any earlier token stops working) and the write that stores it."""
    key = ApiKey(id=new_id("api_key"), user_id=user_id, created_at=now, updated_at=now)
    return key, unit.put("api_key", _api_key_item(key))


def get_api_key(user_id: str) -> ApiKey | None:
    try:
        return api_key_from_item(ApiKeyItem.get(*ApiKeyItem.key(user_id), consistent_read=True))
    except ApiKeyItem.DoesNotExist:
        return None


def replace_api_key(old: ApiKey, now: datetime) -> tuple[ApiKey, unit.Write]:
    """A new key replacing `old`, refused ("api_key") if another replaced it meanwhile."""
    key = ApiKey(id=new_id("api_key"), user_id=old.user_id, created_at=now, updated_at=now)
    return key, unit.put("api_key", _api_key_item(key), ApiKeyItem.id == old.id)

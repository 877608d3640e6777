"""One-time codes: 6 digits from a CSPRNG, stored only as an HMAC, one live code per (user, type).

A code expires after OTP_EXPIRY_IN_MINUTES, is used once, allows OTP_MAX_ATTEMPTS tries, and is not
re-sent more than once per OTP_RESEND_SECONDS while it is live.
"""

import hashlib
import hmac
import secrets as random
import time

from clara.contract.errors import AuthenticationFailed, RateLimitExceeded
from clara.records.accounts import Otp, OtpType
from clara.secrets import secret
from clara.settings import get_settings
from clara.store import credentials, unit


def new_code() -> str:
    return f"{random.randbelow(1_000_000):06d}"


def code_hash(user_id: str, otp_type: str, code: str) -> str:
    """Keyed with the server secret: a leaked table does not give the 10^6 codes away to a brute force."""
    message = f"{user_id}:{otp_type}:{code}".encode()
    return hmac.new(secret("jwt_secret_key").encode(), message, hashlib.sha256).hexdigest()


def issue(user_id: str, email: str, otp_type: OtpType, live: Otp | None) -> tuple[str, unit.Write]:
    """A new code replacing any live one: the code (to email) and the write that stores it ("otp").

    429 while the live code was sent less than OTP_RESEND_SECONDS ago; the write's condition repeats that check
    in DynamoDB so two concurrent requests cannot both send.
    """
    settings = get_settings()
    now = time.time()
    if live and live.expires_at > now and now - live.sent_at < settings.otp_resend_seconds:
        raise RateLimitExceeded(retry_after_seconds=int(live.sent_at + settings.otp_resend_seconds - now) + 1)
    code = new_code()
    otp = Otp(
        user_id=user_id,
        type=otp_type,
        code_hash=code_hash(user_id, otp_type, code),
        expires_at=now + settings.otp_expiry_in_minutes * 60,
        sent_at=now,
    )
    return code, credentials.put_otp(otp, email, resend_before=now - settings.otp_resend_seconds, now=int(now))


def withdraw(user_id: str, otp_type: OtpType, code: str) -> unit.Write:
    """The write that deletes the code issued as `code` (and no newer one): a code whose email was not sent
    must not hold back a resend for OTP_RESEND_SECONDS."""
    return credentials.delete_otp(user_id, otp_type, code_hash(user_id, otp_type, code))


def check(user_id: str, otp_type: OtpType, code: str | None) -> unit.Write:
    """The write that consumes a correct, live code ("otp"); 401 otherwise.

    Every try first takes one of the code's OTP_MAX_ATTEMPTS in a single conditional update of the code's own
    item, which also reads it strongly consistent: concurrent guesses cannot share an attempt, and the try past
    the cap is refused without being compared. The delete is conditional on the stored hash, so a code is used
    once even by concurrent requests.
    """
    tries = get_settings().otp_max_attempts
    otp = credentials.take_otp_attempt(user_id, otp_type, time.time(), tries) if code else None
    if otp is None or code is None:
        raise AuthenticationFailed()
    if not hmac.compare_digest(otp.code_hash, code_hash(otp.user_id, otp.type, code)):
        raise AuthenticationFailed()
    return credentials.delete_otp(otp.user_id, otp.type, otp.code_hash)

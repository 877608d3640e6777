"""One-time codes: 6 digits from a CSPRNG, stored only as an HMAC, one live code per (user, type).

A code expires after OTP_EXPIRY_IN_MINUTES, is used once, allows OTP_MAX_ATTEMPTS tries, and is not
re-sent more than once per OTP_RESEND_SECONDS while it is live.
"""

import hashlib
import hmac
import secrets as random
import time

from clara import dynamo
from clara.errors import AuthenticationFailed, RateLimitExceeded
from clara.secrets import secret
from clara.settings import get_settings
from clara.users import Otp, OtpType, otp_item


def new_code() -> str:
    return f"{random.randbelow(1_000_000):06d}"


def code_hash(user_id: str, otp_type: str, code: str) -> str:
    """Keyed with the server secret: a leaked table does not give the 10^6 codes away to a brute force."""
    message = f"{user_id}:{otp_type}:{code}".encode()
    return hmac.new(secret("jwt_secret_key").encode(), message, hashlib.sha256).hexdigest()


def issue(user_id: str, email: str, otp_type: OtpType, live: Otp | None) -> tuple[str, dict]:
    """A new code replacing any live one: the code (to email) and the transaction operation that stores it.

    429 while the live code was sent less than OTP_RESEND_SECONDS ago; the condition repeats that check in
    DynamoDB so two concurrent requests cannot both send.
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
    put = dynamo.put(
        otp_item(otp, email),
        "attribute_not_exists(pk) OR sent_at < :resend OR expires_at < :now",
        resend=now - settings.otp_resend_seconds,
        now=int(now),
    )
    return code, {"Put": put}


def withdraw(user_id: str, otp_type: OtpType, code: str) -> dict:
    """The operation that deletes the code issued as `code` (and no newer one): a code whose email was not sent
    must not hold back a resend for OTP_RESEND_SECONDS."""
    return {
        "Delete": {
            "TableName": dynamo.table(),
            "Key": dynamo.key(dynamo.user_pk(user_id), f"OTP#{otp_type}"),
            "ConditionExpression": "code_hash = :hash",
            "ExpressionAttributeValues": dynamo.values(hash=code_hash(user_id, otp_type, code)),
        }
    }


def check(user_id: str, otp_type: OtpType, code: str | None) -> dict:
    """The transaction operation that consumes a correct, live code; 401 otherwise.

    Every try first takes one of the code's OTP_MAX_ATTEMPTS in a single conditional update of the code's own
    item, which also reads it strongly consistent: concurrent guesses cannot share an attempt, and the try past
    the cap is refused without being compared. The delete is conditional on the stored hash, so a code is used
    once even by concurrent requests.
    """
    otp = _take_attempt(user_id, otp_type) if code else None
    if otp is None or code is None:
        raise AuthenticationFailed()
    if not hmac.compare_digest(otp.code_hash, code_hash(otp.user_id, otp.type, code)):
        raise AuthenticationFailed()
    return {
        "Delete": {
            "TableName": dynamo.table(),
            "Key": dynamo.key(dynamo.user_pk(otp.user_id), f"OTP#{otp.type}"),
            "ConditionExpression": "code_hash = :hash",
            "ExpressionAttributeValues": dynamo.values(hash=otp.code_hash),
        }
    }


def _take_attempt(user_id: str, otp_type: OtpType) -> Otp | None:
    """The live code after counting one try; None when there is none, it expired or its tries are spent."""
    try:
        response = dynamo.client().update_item(
            TableName=dynamo.table(),
            Key=dynamo.key(dynamo.user_pk(user_id), f"OTP#{otp_type}"),
            UpdateExpression="ADD attempts :one",
            ConditionExpression="attribute_exists(code_hash) AND expires_at > :now AND "
            "(attribute_not_exists(attempts) OR attempts < :max)",
            ExpressionAttributeValues=dynamo.values(one=1, now=time.time(), max=get_settings().otp_max_attempts),
            ReturnValues="ALL_NEW",
        )
    except Exception as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return None
        raise
    return Otp.model_validate(dynamo.deserialize(response["Attributes"]))

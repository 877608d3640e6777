"""Authenticator-app 2FA: RFC 6238 TOTP codes (pyotp) and single-use recovery codes.

Two items under the user: TOTP#PENDING, an enrolment waiting for its first code (expires after
PENDING_MINUTES), and TOTP, the confirmed factor. Both hold the secret encrypted (AES-GCM, key derived with
HKDF from the token key, the user id as associated data), never in clear. The factor also holds the last
time step used (a code is accepted once: later codes only), the recovery codes as HMACs (like clara.otp's
codes) and its attempt counter.

As clara.otp.check does, every try first takes one attempt in a single conditional update of the factor's own
item (which also reads it strongly consistent): concurrent guesses cannot share an attempt, and past
OTP_MAX_ATTEMPTS in an OTP_EXPIRY_IN_MINUTES window a try is refused without being compared.
"""

import base64
import hashlib
import hmac
import os
import re
import secrets as random
import time
from dataclasses import dataclass, field
from typing import Any

import pyotp

from clara import dynamo
from clara.errors import AuthenticationFailed
from clara.formats import LazyModel
from clara.secrets import secret
from clara.settings import get_settings

FACTOR_SK = "TOTP"
PENDING_SK = "TOTP#PENDING"
ISSUER = "Clara"
PENDING_MINUTES = 10
RECOVERY_CODES = 10
STEP_SECONDS = 30  # pyotp's default and what authenticator apps use
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/1/8, nothing to misread
_TOTP_CODE = re.compile(r"^[0-9]{6}$")


class Enrolment(LazyModel):
    """What the app needs, shown once: the base32 secret, its otpauth:// URI and that URI as a QR code (SVG)."""

    secret: str
    provisioning_uri: str
    qr_svg: str


class RecoveryCodes(LazyModel):
    """Single-use codes that stand in for the app, shown once; only their HMACs are stored."""

    recovery_codes: list[str]


# ------------------------------------------------------------------------------------------- secrets at rest


def _key() -> bytes:
    """The AES-256 key, derived from the token key (a separate context, so the two never share a key).
    Rotating the token key makes stored secrets unreadable: users enrol again."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"clara totp secret v1")
    return hkdf.derive(secret("jwt_secret_key").encode())


def encrypt(user_id: str, plain: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_key()).encrypt(nonce, plain.encode(), user_id.encode())).decode()


def decrypt(user_id: str, stored: str) -> str:
    """The secret; the user id as associated data means a ciphertext copied to another user fails."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(stored)
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], user_id.encode()).decode()


# ------------------------------------------------------------------------------------------- enrolment


def enrol(user_id: str, email: str) -> tuple[Enrolment, dict[str, Any]]:
    """A new pending enrolment (replacing any earlier one) and the transaction operation that stores it."""
    import segno

    plain = pyotp.random_base32()
    uri = pyotp.TOTP(plain).provisioning_uri(name=email, issuer_name=ISSUER)
    now = time.time()
    item = {
        "pk": dynamo.user_pk(user_id),
        "sk": PENDING_SK,
        "kind": "totp_pending",
        "secret_ciphertext": encrypt(user_id, plain),
        "expires_at": int(now + PENDING_MINUTES * 60),  # also the item's TTL
        "attempts": 0,
    }
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return Enrolment(secret=plain, provisioning_uri=uri, qr_svg=qr_svg), {"Put": dynamo.put(item)}


def new_recovery_codes(user_id: str) -> tuple[list[str], dict[str, bool]]:
    """RECOVERY_CODES fresh codes (xxxxx-xxxxx, 50 bits each) and the map of their hashes to store."""
    codes = []
    for _ in range(RECOVERY_CODES):
        letters = "".join(random.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{letters[:5]}-{letters[5:]}")
    return codes, {recovery_hash(user_id, code): True for code in codes}


def recovery_hash(user_id: str, code: str) -> str:
    """Keyed with the server secret, as clara.otp.code_hash: a leaked table gives no code away."""
    message = f"{user_id}:RECOVERY:{code.strip().lower()}".encode()
    return hmac.new(secret("jwt_secret_key").encode(), message, hashlib.sha256).hexdigest()


def confirm(user_id: str, code: str | None) -> tuple[list[str], list[dict[str, Any]]]:
    """Check a code of the pending enrolment: the new recovery codes and the operations that make the factor
    (drop the pending item, store the factor; refused if one exists already). 401 otherwise."""
    pending = _take_pending_attempt(user_id) if code and _TOTP_CODE.match(code) else None
    if pending is None or code is None:
        raise AuthenticationFailed()
    ciphertext = pending["secret_ciphertext"]
    step = _matching_step(decrypt(user_id, ciphertext), code, time.time())
    if step is None:
        raise AuthenticationFailed()
    codes, hashes = new_recovery_codes(user_id)
    factor = {
        "pk": dynamo.user_pk(user_id),
        "sk": FACTOR_SK,
        "kind": "totp",
        "secret_ciphertext": ciphertext,
        "last_step": step,  # the confirming code is used
        "recovery_codes": hashes,
        "attempts": 0,
        "attempt_window": 0,
    }
    return codes, [
        {
            "Delete": {
                "TableName": dynamo.table(),
                "Key": dynamo.key(dynamo.user_pk(user_id), PENDING_SK),
                "ConditionExpression": "secret_ciphertext = :ciphertext",  # not a newer enrolment
                "ExpressionAttributeValues": dynamo.values(ciphertext=ciphertext),
            }
        },
        {"Put": dynamo.put(factor, "attribute_not_exists(pk)")},
    ]


def _take_pending_attempt(user_id: str) -> dynamo.Item | None:
    """The live pending enrolment after counting one try; None when there is none, it expired or its tries are
    spent."""
    try:
        response = dynamo.client().update_item(
            TableName=dynamo.table(),
            Key=dynamo.key(dynamo.user_pk(user_id), PENDING_SK),
            UpdateExpression="ADD attempts :one",
            ConditionExpression="attribute_exists(secret_ciphertext) AND expires_at > :now AND attempts < :max",
            ExpressionAttributeValues=dynamo.values(one=1, now=time.time(), max=get_settings().otp_max_attempts),
            ReturnValues="ALL_NEW",
        )
    except Exception as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return None
        raise
    return dynamo.deserialize(response["Attributes"])


# ------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Proof:
    """A correct code of the factor, and the condition that makes it single-use in the caller's transaction:
    a TOTP code's time step is later than the last one used; a recovery code is still stored."""

    user_id: str
    recovery: bool
    condition: str
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    sets: tuple[str, ...] = ()  # what using the code changes on the factor
    removes: tuple[str, ...] = ()

    def _operation(self, update: str | None = None, **values: Any) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "TableName": dynamo.table(),
            "Key": dynamo.key(dynamo.user_pk(self.user_id), FACTOR_SK),
            "ConditionExpression": self.condition,
        }
        if update:
            operation["UpdateExpression"] = update
        if self.values or values:
            operation["ExpressionAttributeValues"] = dynamo.values(**self.values, **values)
        if self.names:
            operation["ExpressionAttributeNames"] = self.names
        return operation

    def use(self) -> dict[str, Any]:
        """The operation that uses the code (and starts the attempt count again)."""
        update = "SET " + ", ".join((*self.sets, "attempts = :zero"))
        if self.removes:
            update += " REMOVE " + ", ".join(self.removes)
        return {"Update": self._operation(update, zero=0)}

    def remove_factor(self) -> dict[str, Any]:
        """The operation that deletes the factor, on the same condition (2FA off, or back to emailed codes)."""
        return {"Delete": self._operation()}

    def replace_recovery_codes(self, hashes: dict[str, bool]) -> dict[str, Any]:
        """Use a TOTP code and store new recovery codes in place of every old one."""
        update = "SET " + ", ".join((*self.sets, "attempts = :zero", "recovery_codes = :codes"))
        return {"Update": self._operation(update, zero=0, codes=hashes)}


def verify(user_id: str, code: str | None) -> Proof:
    """A Proof for a current TOTP code (this step, the one before or after: valid_window=1) not used before, or
    for a stored recovery code; 401 otherwise, and when the factor's tries are spent."""
    factor = _take_attempt(user_id) if code else None
    if factor is None or code is None:
        raise AuthenticationFailed()
    if _TOTP_CODE.match(code):
        step = _matching_step(decrypt(user_id, factor["secret_ciphertext"]), code, time.time())
        if step is None or step <= int(factor["last_step"]):  # wrong, or replayed within its window
            raise AuthenticationFailed()
        return Proof(user_id, False, "last_step < :step", values={"step": step}, sets=("last_step = :step",))
    hashed = recovery_hash(user_id, code)
    if hashed not in (factor.get("recovery_codes") or {}):
        raise AuthenticationFailed()
    return Proof(
        user_id,
        True,
        "attribute_exists(recovery_codes.#code)",
        names={"#code": hashed},
        removes=("recovery_codes.#code",),
    )


def _matching_step(plain: str, code: str, now: float) -> int | None:
    """The time step whose code `code` is, within one step either side (clock drift); None if none."""
    totp = pyotp.TOTP(plain, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _take_attempt(user_id: str) -> dynamo.Item | None:
    """The factor after counting one try in the current window; None when there is none or the window's tries
    are spent. One conditional update either counts on in this window or starts the next one; when a concurrent
    try started it meanwhile, counting on is tried once more, so no try goes uncounted."""
    settings = get_settings()
    now = time.time()
    window = int(now // (settings.otp_expiry_in_minutes * 60))
    key = dynamo.key(dynamo.user_pk(user_id), FACTOR_SK)
    updates = [
        ("ADD attempts :one", "attempt_window = :window AND attempts < :max"),
        ("SET attempts = :one, attempt_window = :window", "attribute_exists(pk) AND attempt_window <> :window"),
        ("ADD attempts :one", "attempt_window = :window AND attempts < :max"),
    ]
    for update, condition in updates:
        try:
            response = dynamo.client().update_item(
                TableName=dynamo.table(),
                Key=key,
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=dynamo.values(one=1, window=window, max=settings.otp_max_attempts)
                if ":max" in condition
                else dynamo.values(one=1, window=window),
                ReturnValues="ALL_NEW",
            )
        except Exception as error:
            if dynamo.error_code(error) != "ConditionalCheckFailedException":
                raise
            continue
        return dynamo.deserialize(response["Attributes"])
    return None

"""Authenticator-app 2FA: RFC 6238 TOTP codes (pyotp) and single-use recovery codes.

Two items under the user (clara.store.credentials): a pending enrolment waiting for its first code (expires
after PENDING_MINUTES), and the confirmed factor. Both hold the secret encrypted (AES-GCM, key derived with
HKDF from the token key, the user id as associated data), never in clear. The factor also holds the last
time step used (a code is accepted once: later codes only), the recovery codes as HMACs (like
clara.domain.accounts.otp's codes) and its attempt counter.

Every try is counted before its code is compared, each count one conditional update, so concurrent guesses cannot
share a try and a try past a cap is refused without being compared. The caps are keyed as the login lockout is:
* OTP_MAX_ATTEMPTS per (account, client address) in each OTP_EXPIRY_IN_MINUTES window (clara.store.counters), so
  someone else's wrong codes never refuse the owner's right one from another address;
* a ceiling per account per clock hour, on the factor's own item (the same update reads it strongly consistent):
  SECOND_FACTOR_MAX_TRIES_PER_ACCOUNT_PER_HOUR app codes, and RECOVERY_CODE_MAX_TRIES_PER_ACCOUNT_PER_HOUR
  recovery codes counted apart, so guesses stay bounded however many addresses try. A right code takes its own
  try back from the ceiling, and starts its address's count again.
"""

import hashlib
import hmac
import re
import secrets as random
import time
from dataclasses import dataclass

import pyotp

from clara.contract.errors import AuthenticationFailed
from clara.domain.sealed import seal, unseal
from clara.formats import LazyModel
from clara.records.accounts import TotpFactor, TotpPending
from clara.secrets import secret
from clara.settings import get_settings
from clara.store import counters, credentials, unit

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


# The HKDF info of the TOTP secret's key (clara.domain.sealed): the one secrets were always sealed under.
SEALED_AS = b"clara totp secret v1"


def encrypt(user_id: str, plain: str) -> str:
    return seal(SEALED_AS, user_id, plain)


def decrypt(user_id: str, stored: str) -> str:
    return unseal(SEALED_AS, user_id, stored)


# ------------------------------------------------------------------------------------------- enrolment


def enrol(user_id: str, email: str) -> tuple[Enrolment, unit.Write]:
    """A new pending enrolment (replacing any earlier one) and the write that stores it."""
    import segno

    plain = pyotp.random_base32()
    uri = pyotp.TOTP(plain).provisioning_uri(name=email, issuer_name=ISSUER)
    pending = TotpPending(
        user_id=user_id,
        secret_ciphertext=encrypt(user_id, plain),
        expires_at=int(time.time() + PENDING_MINUTES * 60),  # also the item's TTL
    )
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4)
    return Enrolment(secret=plain, provisioning_uri=uri, qr_svg=qr_svg), credentials.put_totp_pending(pending)


def new_recovery_codes(user_id: str) -> tuple[list[str], dict[str, bool]]:
    """RECOVERY_CODES fresh codes (xxxxx-xxxxx, 50 bits each) and the map of their hashes to store."""
    codes = []
    for _ in range(RECOVERY_CODES):
        letters = "".join(random.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{letters[:5]}-{letters[5:]}")
    return codes, {recovery_hash(user_id, code): True for code in codes}


def recovery_hash(user_id: str, code: str) -> str:
    """Keyed with the server secret, as clara.domain.accounts.otp.code_hash: a leaked table gives no code away."""
    message = f"{user_id}:RECOVERY:{code.strip().lower()}".encode()
    return hmac.new(secret("jwt_secret_key").encode(), message, hashlib.sha256).hexdigest()


def confirm(user_id: str, code: str | None) -> tuple[list[str], list[unit.Write]]:
    """Check a code of the pending enrolment: the new recovery codes and the writes that make the factor (drop
    the pending item, unless a newer enrolment replaced it; store the factor, unless one exists already). 401
    otherwise."""
    settings = get_settings()
    pending = (
        credentials.take_totp_pending_attempt(user_id, time.time(), settings.otp_max_attempts)
        if code and _TOTP_CODE.match(code)
        else None
    )
    if pending is None or code is None:
        raise AuthenticationFailed()
    step = _matching_step(decrypt(user_id, pending.secret_ciphertext), code, time.time())
    if step is None:
        raise AuthenticationFailed()
    codes, hashes = new_recovery_codes(user_id)
    factor = TotpFactor(
        user_id=user_id,
        secret_ciphertext=pending.secret_ciphertext,
        last_step=step,  # the confirming code is used
        recovery_codes=hashes,
    )
    return codes, list(credentials.confirm_totp(factor))


# ------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Proof:
    """A correct code of the factor, which the caller's unit uses once: a TOTP code's time step (later than the
    last one used), or a stored recovery code's hash. Each write is refused ("totp") if a concurrent request
    used the code meanwhile; each also starts the count of the address that proved it again."""

    user_id: str
    address: str
    window: int  # the address's attempt window
    step: int | None = None
    recovery_hash: str | None = None

    @property
    def recovery(self) -> bool:
        return self.recovery_hash is not None

    def use(self) -> list[unit.Write]:
        """The writes that use the code."""
        return [credentials.use_totp(self.user_id, step=self.step, recovery_hash=self.recovery_hash), self._clear()]

    def remove_factor(self) -> list[unit.Write]:
        """The writes that delete the factor, on the same condition (2FA off, or back to emailed codes)."""
        return [credentials.remove_totp(self.user_id, step=self.step, recovery_hash=self.recovery_hash), self._clear()]

    def replace_recovery_codes(self, hashes: dict[str, bool]) -> list[unit.Write]:
        """The writes that use a TOTP code and store new recovery codes in place of every old one."""
        replace = credentials.replace_recovery_codes(
            self.user_id, hashes, step=self.step, recovery_hash=self.recovery_hash
        )
        return [replace, self._clear()]

    def _clear(self) -> unit.Write:
        return counters.clear_code_tries(self.user_id, self.address, self.window)


def verify(user_id: str, code: str | None, address: str) -> Proof:
    """A Proof for a current TOTP code (this step, the one before or after: valid_window=1) not used before, or
    for a stored recovery code, tried from client `address`; 401 otherwise, and when a cap is reached."""
    if not code:
        raise AuthenticationFailed()
    is_app_code = bool(_TOTP_CODE.match(code))
    window = _address_window()
    factor = _take_attempt(user_id, address, window, recovery=not is_app_code)
    if factor is None:
        raise AuthenticationFailed()
    if is_app_code:
        step = _matching_step(decrypt(user_id, factor.secret_ciphertext), code, time.time())
        if step is None or step <= factor.last_step:  # wrong, or replayed within its window
            raise AuthenticationFailed()
        return Proof(user_id, address, window, step=step)
    hashed = recovery_hash(user_id, code)
    if hashed not in factor.recovery_codes:
        raise AuthenticationFailed()
    return Proof(user_id, address, window, recovery_hash=hashed)


def _matching_step(plain: str, code: str, now: float) -> int | None:
    """The time step whose code `code` is, within one step either side (clock drift); None if none."""
    totp = pyotp.TOTP(plain, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _address_window() -> int:
    return int(time.time() // (get_settings().otp_expiry_in_minutes * 60))


def _take_attempt(user_id: str, address: str, window: int, *, recovery: bool) -> TotpFactor | None:
    """The factor after counting one try on the address's count and on the account's ceiling of its kind; None
    when there is no factor or a cap is reached. The address is counted first: tries its cap refuses never reach
    the account's ceiling, so one address cannot spend the owner's hour."""
    settings = get_settings()
    window_seconds = settings.otp_expiry_in_minutes * 60
    if not counters.take_code_try(
        user_id, address, window, max_tries=settings.otp_max_attempts, expires_at=(window + 2) * window_seconds
    ):
        return None
    ceiling = (
        settings.recovery_code_max_tries_per_account_per_hour
        if recovery
        else settings.second_factor_max_tries_per_account_per_hour
    )
    hour = int(time.time() // 3600)
    return credentials.take_totp_attempt(user_id, hour, ceiling, recovery=recovery)

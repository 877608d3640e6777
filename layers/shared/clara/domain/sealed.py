"""Secrets Clara must read back (an authenticator app's TOTP secret, a webhook's signing secret), stored sealed:
AES-256-GCM under a key derived with HKDF from the token key, one key per purpose (its HKDF info), the owner's
user id as associated data, so a ciphertext copied to another user or another purpose does not open.

Rotating the token key makes what was sealed unreadable: users enrol their app again, webhooks get new secrets.
cryptography goes with the functions that seal or open (AuthFunction, WebhooksFunction, WebhookDeliveryFunction),
imported on first use: in the layer it would load into every function's cold start.
"""

import base64
import os

from clara.secrets import secret

NONCE_BYTES = 12


def _key(purpose: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return hkdf.derive(secret("jwt_secret_key").encode())


def seal(purpose: bytes, user_id: str, plain: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(_key(purpose)).encrypt(nonce, plain.encode(), user_id.encode())).decode()


def unseal(purpose: bytes, user_id: str, stored: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.b64decode(stored)
    return AESGCM(_key(purpose)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], user_id.encode()).decode()

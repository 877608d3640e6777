"""Google ID tokens, signed by a test key whose public half a local server publishes the way Google does: a JWK
Set, as https://www.googleapis.com/oauth2/v3/certs serves it."""

import hashlib
import hmac
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
)

from clara.contract.errors import AuthenticationFailed
from clara.domain.accounts.ports import GoogleIdentity
from clara.integrations import google_identity
from clara.integrations.google_identity import verify_google_id_token
from clara.observability import logger
from clara.settings import get_settings

CLIENT_ID = "clara-test.apps.googleusercontent.com"
KEY_ID = "test-key-1"


def public_jwk(key: rsa.RSAPrivateKey, key_id: str = KEY_ID) -> dict[str, Any]:
    """The public half of `key` as one of Google's JWKs."""
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": key_id, "alg": "RS256", "use": "sig"}


@dataclass
class JwksServer:
    """Serves `{"keys": [JWK, ...]}` like https://www.googleapis.com/oauth2/v3/certs; None answers 500."""

    url: str
    keys: list[dict[str, Any]] | None
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_server(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    published = JwksServer(url="", keys=[public_jwk(signing_key)])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            published.requests.append(self.path)
            keys = published.keys
            status, body = (500, b"{}") if keys is None else (200, json.dumps({"keys": keys}).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    published.url = f"http://127.0.0.1:{server.server_port}/oauth2/v3/certs"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # The client caches the key set per process: a server of an earlier module may have had this port.
    google_identity.jwks_client.cache_clear()
    yield published
    google_identity.jwks_client.cache_clear()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def google_settings(jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Every test fetches keys from the local server: none may reach Google. Each starts with no cached key set.
    monkeypatch.setenv("GOOGLE_JWKS_URL", jwks_server.url)
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    get_settings.cache_clear()
    google_identity.jwks_client.cache_clear()
    yield
    get_settings.cache_clear()
    google_identity.jwks_client.cache_clear()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    defaults = {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_ID,
        "sub": "110169484474386276334",
        "email": "Ada.Lovelace@Example.com",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "iat": now - 10,
        "exp": now + 3600,
    }
    return {name: value for name, value in {**defaults, **overrides}.items() if value is not None}


def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey, key_id: str = KEY_ID) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": key_id})


def test_a_valid_token_names_the_google_user(signing_key: rsa.RSAPrivateKey):
    identity = verify_google_id_token(sign(claims(), signing_key))

    assert identity == GoogleIdentity(
        subject="110169484474386276334",
        email="ada.lovelace@example.com",
        email_verified=True,
        name="Ada Lovelace",
        given_name="Ada",
        family_name="Lovelace",
    )


def test_the_issuer_may_come_without_its_scheme(signing_key: rsa.RSAPrivateKey):
    identity = verify_google_id_token(sign(claims(iss="accounts.google.com"), signing_key))

    assert identity.subject == "110169484474386276334"


def test_a_token_without_profile_claims_still_has_a_name(signing_key: rsa.RSAPrivateKey):
    token = sign(claims(name=None, given_name=None, family_name=None, email_verified=False), signing_key)

    identity = verify_google_id_token(token)

    assert (identity.name, identity.given_name, identity.family_name) == ("ada.lovelace@example.com", None, None)
    assert identity.email_verified is False


def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


TokenMaker = Callable[[rsa.RSAPrivateKey], str]

# Each bad token, and the PyJWT error it must be refused for (None: refused by our own claim checks), so that no
# case passes for an unrelated reason such as an unreachable key server.
REFUSED_TOKENS: dict[str, tuple[TokenMaker, type[Exception] | None]] = {
    "wrong audience": (lambda key: sign(claims(aud="someone-else.example.com"), key), InvalidAudienceError),
    "no audience": (lambda key: sign(claims(aud=None), key), MissingRequiredClaimError),
    "expired": (
        lambda key: sign(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), key),
        ExpiredSignatureError,
    ),
    "no expiry": (lambda key: sign(claims(exp=None), key), MissingRequiredClaimError),
    "no issued-at": (lambda key: sign(claims(iat=None), key), MissingRequiredClaimError),
    "wrong issuer": (lambda key: sign(claims(iss="https://evil.example.com"), key), InvalidIssuerError),
    "no issuer": (lambda key: sign(claims(iss=None), key), MissingRequiredClaimError),
    "unknown key id": (lambda key: sign(claims(), key, key_id="not-published"), PyJWKClientError),
    "signed by another key": (lambda key: sign(claims(), other_key()), InvalidSignatureError),
    "HS256 keyed with the public key": (lambda key: hs256_with_public_key(key), InvalidAlgorithmError),
    "no email": (lambda key: sign(claims(email=None), key), MissingRequiredClaimError),
    "empty email": (lambda key: sign(claims(email=""), key), None),
    "no subject": (lambda key: sign(claims(sub=None), key), MissingRequiredClaimError),
    "garbage": (lambda key: "not-a-jwt", DecodeError),
    "empty": (lambda key: "", DecodeError),
}


def hs256_with_public_key(key: rsa.RSAPrivateKey) -> str:
    """The algorithm-confusion attack: an HMAC token keyed with the published public key (PEM)."""
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KEY_ID}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(claims()).encode())
    signature = hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + jwt.utils.base64url_encode(signature)).decode()


@pytest.mark.parametrize(("make_token", "cause"), REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
def test_a_bad_token_is_refused(signing_key: rsa.RSAPrivateKey, make_token: TokenMaker, cause: type[Exception] | None):
    with pytest.raises(AuthenticationFailed) as refused:
        verify_google_id_token(make_token(signing_key))

    assert type(refused.value.__cause__) is (cause or type(None))


def test_without_a_configured_client_id_every_token_is_refused(
    signing_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "")
    get_settings.cache_clear()

    with pytest.raises(AuthenticationFailed):
        verify_google_id_token(sign(claims(aud=""), signing_key))


def test_unavailable_keys_refuse_the_token(signing_key: rsa.RSAPrivateKey, jwks_server: JwksServer):
    published, jwks_server.keys = jwks_server.keys, None
    try:
        with pytest.raises(AuthenticationFailed) as refused:
            verify_google_id_token(sign(claims(), signing_key))
    finally:
        jwks_server.keys = published
    assert isinstance(refused.value.__cause__, PyJWKClientConnectionError)


def test_an_unreachable_key_server_refuses_the_token(signing_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as unused:  # a port nobody listens on once this socket is closed
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("GOOGLE_JWKS_URL", f"http://127.0.0.1:{port}/oauth2/v3/certs")
    get_settings.cache_clear()

    with pytest.raises(AuthenticationFailed) as refused:
        verify_google_id_token(sign(claims(), signing_key))

    assert isinstance(refused.value.__cause__, PyJWKClientConnectionError)


def test_a_key_server_that_does_not_answer_refuses_the_token_within_the_timeout(
    signing_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(google_identity, "JWKS_TIMEOUT_SECONDS", 0.2)
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        monkeypatch.setenv("GOOGLE_JWKS_URL", f"http://127.0.0.1:{silent.getsockname()[1]}/oauth2/v3/certs")
        get_settings.cache_clear()
        started = time.monotonic()

        with pytest.raises(AuthenticationFailed) as refused:
            verify_google_id_token(sign(claims(), signing_key))

    assert time.monotonic() - started < 2
    assert isinstance(refused.value.__cause__, PyJWKClientConnectionError)


def test_the_key_set_is_fetched_once_per_process_and_has_a_timeout(
    signing_key: rsa.RSAPrivateKey, jwks_server: JwksServer
):
    jwks_server.requests.clear()

    for _ in range(3):
        verify_google_id_token(sign(claims(), signing_key))

    assert jwks_server.requests == ["/oauth2/v3/certs"]
    client = google_identity.jwks_client(jwks_server.url)
    assert client.timeout == google_identity.JWKS_TIMEOUT_SECONDS == 5


def test_a_new_key_of_google_is_fetched_when_a_token_names_it(
    signing_key: rsa.RSAPrivateKey, jwks_server: JwksServer, monkeypatch: pytest.MonkeyPatch
):
    """Google rotates its keys: a token signed with a key published after the set was cached still verifies."""
    monkeypatch.setattr(google_identity, "JWKS_REFETCH_COOLDOWN_SECONDS", 0)
    published, rotated = jwks_server.keys, other_key()
    assert published is not None
    verify_google_id_token(sign(claims(), signing_key))  # the set is cached
    jwks_server.requests.clear()
    jwks_server.keys = [*published, public_jwk(rotated, "rotated")]
    try:
        identity = verify_google_id_token(sign(claims(), rotated, key_id="rotated"))
    finally:
        jwks_server.keys = published
    assert identity.subject == "110169484474386276334"
    assert len(jwks_server.requests) == 1


def test_a_token_issued_a_little_in_the_future_is_accepted_within_the_leeway(signing_key: rsa.RSAPrivateKey):
    now = int(time.time())

    identity = verify_google_id_token(sign(claims(iat=now + 10), signing_key))

    assert identity.email == "ada.lovelace@example.com"
    with pytest.raises(AuthenticationFailed):
        verify_google_id_token(sign(claims(iat=now + 600), signing_key))


def test_the_log_names_the_failure_but_never_the_token(signing_key: rsa.RSAPrivateKey):
    token = sign(claims(aud="someone-else"), signing_key)
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        with pytest.raises(AuthenticationFailed):
            verify_google_id_token(token)
    finally:
        handler.setStream(previous)

    [logged] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert logged["message"] == "Google ID token refused"
    assert logged["error_type"] == "InvalidAudienceError"
    assert token not in stream.getvalue()
    assert token.split(".")[1] not in stream.getvalue()

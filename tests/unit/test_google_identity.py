"""Google ID tokens, signed by a test key whose certificate a local server publishes the way Google does."""

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth.exceptions import InvalidValue, MalformedError, TransportError

from clara.errors import AuthenticationFailed
from clara.google_identity import GoogleIdentity, verify_google_id_token
from clara.observability import logger
from clara.settings import get_settings

CLIENT_ID = "clara-test.apps.googleusercontent.com"
KEY_ID = "test-key-1"


def self_signed_certificate(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clara-test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class CertsServer:
    """Serves `{key id: PEM certificate}` like https://www.googleapis.com/oauth2/v1/certs; None answers 500."""

    url: str
    certs: dict[str, str] | None


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certs_server(signing_key: rsa.RSAPrivateKey) -> Iterator[CertsServer]:
    published = CertsServer(url="", certs={KEY_ID: self_signed_certificate(signing_key)})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = (500, b"{}") if published.certs is None else (200, json.dumps(published.certs).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    published.url = f"http://127.0.0.1:{server.server_port}/oauth2/v1/certs"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield published
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def google_settings(certs_server: CertsServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Every test fetches certificates from the local server: none may reach Google.
    monkeypatch.setenv("GOOGLE_CERTS_URL", certs_server.url)
    monkeypatch.setenv("GOOGLE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


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

# Each bad token, and the google-auth error it must be refused for (None: refused by our own claim checks), so
# that no case passes for an unrelated reason such as an unreachable certificate server.
REFUSED_TOKENS: dict[str, tuple[TokenMaker, type[Exception] | None]] = {
    "wrong audience": (lambda key: sign(claims(aud="someone-else.apps.googleusercontent.com"), key), InvalidValue),
    "expired": (lambda key: sign(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), key), InvalidValue),
    "wrong issuer": (lambda key: sign(claims(iss="https://evil.example.com"), key), None),
    "unknown key id": (lambda key: sign(claims(), key, key_id="not-published"), MalformedError),
    "signed by another key": (lambda key: sign(claims(), other_key()), MalformedError),
    "no email": (lambda key: sign(claims(email=None), key), None),
    "garbage": (lambda key: "not-a-jwt", MalformedError),
    "empty": (lambda key: "", MalformedError),
}


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


def test_unavailable_certificates_refuse_the_token(signing_key: rsa.RSAPrivateKey, certs_server: CertsServer):
    published, certs_server.certs = certs_server.certs, None
    try:
        with pytest.raises(AuthenticationFailed) as refused:
            verify_google_id_token(sign(claims(), signing_key))
    finally:
        certs_server.certs = published
    assert isinstance(refused.value.__cause__, TransportError)


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
    assert logged["error_type"] == "InvalidValue"
    assert token not in stream.getvalue()
    assert token.split(".")[1] not in stream.getvalue()

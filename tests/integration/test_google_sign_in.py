"""POST /auth/google through the real handler, with ID tokens signed by a test key whose public key (a JWK Set) a local
server publishes the way Google does (the approach of tests/unit/test_google_identity.py)."""

import re
import time

import pytest

from harness.accounts import (
    API,
    EMPTY_BODY,
    INACTIVE,
    INVALID,
    UNAUTHENTICATED,
    USER_FIELDS,
    audit_events,
    bearer,
    body,
    error,
    headers,
    item,
    sent_messages,
    sessions_of,
    user_item,
)
from tests.unit.test_google_identity import CLIENT_ID, claims, jwks_server, other_key, sign, signing_key

__all__ = ["jwks_server", "signing_key"]  # fixtures, used by name

SUBJECT = "110169484474386276334"
EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def google(call_api, jwks_server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    env = {"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_JWKS_URL": jwks_server.url}

    def sign_in(id_token, code=None, **extra_env):
        payload = {"id_token": id_token, **({"code": code} if code else {})}
        return call_api("POST", f"{API}/auth/google", headers=headers(), body=body(payload), env={**env, **extra_env})

    return sign_in


def users(call_api):
    return call_api("GET", f"{API}/users", headers={"Authorization": "test-private-key"}).json["data"]


def test_a_new_google_user_is_registered_active_and_gets_a_password_by_email(
    call_api, stack, accounts, google, signing_key
):
    response = google(sign(claims(), signing_key))

    assert response.status == 201
    assert (response.json["message"], response.json["status"]) == ("User registered successfully.", "success")
    data = response.json["data"]
    assert set(data) == USER_FIELDS | {"token"}
    assert (data["email"], data["first_name"], data["last_name"]) == (EMAIL, "Ada", "Lovelace")
    assert data["is_active"] is True and data["token"].startswith("calzo_user_")
    stored = user_item(stack, data["id"])
    assert stored["google_user_id"] == SUBJECT and stored["is_active"] is True
    assert item(stack, f"EMAIL#{EMAIL}", "EMAIL")["user_id"] == data["id"]
    assert len(sessions_of(stack, data["id"])) == 1
    [mail] = sent_messages(EMAIL)
    assert mail.subject == "Your Clara password"
    password = re.search(r"<code>([^<]+)</code>", mail.body).group(1)
    assert len(password) == 16
    assert accounts.login(EMAIL, password).status == 200
    assert call_api("GET", f"{API}/users/{data['id']}", headers={"Authorization": bearer(data["token"])}).status == 200


def test_signing_in_again_logs_in_the_same_user(call_api, stack, google, signing_key):
    first = google(sign(claims(), signing_key))

    again = google(sign(claims(), signing_key))

    assert again.status == 201 and again.json["message"] == "User logged in successfully."
    assert again.json["data"]["id"] == first.json["data"]["id"]
    assert len(users(call_api)) == 1
    assert len(sessions_of(stack, first.json["data"]["id"])) == 2
    assert len(sent_messages(EMAIL)) == 1  # no second password


def test_a_verified_google_email_links_an_activated_password_account(call_api, stack, accounts, google, signing_key):
    account = accounts.active(EMAIL)  # its owner proved the address: the password and sessions are theirs
    api_key_token = accounts.api_key_token(account)

    response = google(sign(claims(email="Ada.Lovelace@Example.com", email_verified=True), signing_key))

    assert response.status == 201 and response.json["message"] == "User logged in successfully."
    assert response.json["data"]["id"] == account.id and response.json["data"]["is_active"] is True
    assert user_item(stack, account.id)["google_user_id"] == SUBJECT
    assert accounts.login(EMAIL).status == 200  # the password still works
    for token in (account.token, api_key_token):
        assert call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(token)}).status == 200
    assert len(users(call_api)) == 1


def test_google_takes_an_unverified_account_without_its_password_sessions_or_api_key(
    call_api, stack, accounts, google, signing_key
):
    # Pre-registration takeover: someone registers the victim's address with their own password and names, keeps
    # a session and the API key token, and waits for the victim to sign in with Google.
    squatter = accounts.register(EMAIL, password="squatters password", first_name="Eve", last_name="Squatter")
    squatter_tokens = [squatter.token, accounts.login_token(squatter), accounts.api_key_token(squatter)]

    response = google(sign(claims(), signing_key))

    assert response.status == 201 and response.json["message"] == "User logged in successfully."
    data = response.json["data"]
    assert (data["id"], data["is_active"]) == (squatter.id, True)
    assert (data["first_name"], data["last_name"]) == ("Ada", "Lovelace")
    stored = user_item(stack, squatter.id)
    assert "password_hash" not in stored and stored["google_user_id"] == SUBJECT
    assert (accounts.login(EMAIL, "squatters password").status, accounts.login(EMAIL).status) == (401, 401)
    for token in squatter_tokens:
        revoked = call_api("GET", f"{API}/users/{squatter.id}", headers={"Authorization": bearer(token)})
        assert (revoked.status, revoked.json) == (401, error(UNAUTHENTICATED))
    assert len(sessions_of(stack, squatter.id)) == 1  # the victim's own
    own = call_api("GET", f"{API}/users/{squatter.id}", headers={"Authorization": bearer(data["token"])})
    assert own.status == 200
    assert "google_took_unverified_account" in audit_events(stack, squatter.id)


def test_google_sign_in_needs_the_2fa_code_when_2fa_is_on(call_api, stack, accounts, google, signing_key):
    account = accounts.active(EMAIL)
    accounts.enable_2fa(account)
    assert google(sign(claims(), signing_key)).status == 401  # no code: the first link is refused as well
    sessions = len(sessions_of(stack, account.id))

    for code in (None, "000000"):
        refused = google(sign(claims(), signing_key), code=code)
        assert (refused.status, refused.json) == (401, error(UNAUTHENTICATED, {"is_2fa_enabled": True}))
    assert len(sessions_of(stack, account.id)) == sessions
    assert "google_user_id" not in user_item(stack, account.id)

    code = accounts.send_otp(EMAIL, "TWO_FACTOR_AUTH")
    signed_in = google(sign(claims(), signing_key), code=code)
    assert signed_in.status == 201 and signed_in.json["data"]["id"] == account.id
    assert len(sessions_of(stack, account.id)) == sessions + 1
    again = google(sign(claims(), signing_key), code=code)  # used once
    assert (again.status, again.json) == (401, error(UNAUTHENTICATED, {"is_2fa_enabled": True}))


def test_an_unverified_google_email_does_not_link_an_existing_account(call_api, stack, accounts, google, signing_key):
    account = accounts.register(EMAIL)
    before = user_item(stack, account.id)

    response = google(sign(claims(email_verified=False), signing_key))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, account.id) == before
    assert len(sessions_of(stack, account.id)) == 1


def test_another_google_account_cannot_take_over_a_linked_user(call_api, stack, google, signing_key):
    first = google(sign(claims(), signing_key))
    before = user_item(stack, first.json["data"]["id"])

    response = google(sign(claims(sub="999999999999999999999"), signing_key))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))
    assert user_item(stack, first.json["data"]["id"]) == before


def test_an_unverified_google_email_does_not_create_an_account(call_api, google, signing_key):
    # Google does not vouch for the address: an active account under it would squat on someone else's email
    # (the owner could then neither register nor activate) and skip activation.
    response = google(sign(claims(email_verified=False), signing_key))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))
    assert users(call_api) == []


BAD_TOKENS = {
    "garbage": lambda key: "not-a-jwt",
    "wrong-audience": lambda key: sign(claims(aud="someone-else.apps.googleusercontent.com"), key),
    "expired": lambda key: sign(claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), key),
    "wrong-issuer": lambda key: sign(claims(iss="https://evil.example.com"), key),
    "other-key": lambda key: sign(claims(), other_key()),
    "unknown-kid": lambda key: sign(claims(), key, key_id="nope"),
    "no-email": lambda key: sign(claims(email=None), key),
}


@pytest.mark.parametrize("make", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_an_invalid_token_is_401_and_creates_nothing(call_api, google, signing_key, make):
    response = google(make(signing_key))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))
    assert users(call_api) == []
    assert sent_messages() == []


def test_without_a_client_id_every_token_is_401(call_api, google, signing_key):
    response = google(sign(claims(), signing_key), GOOGLE_CLIENT_ID="")

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))
    assert users(call_api) == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, EMPTY_BODY),
        (body({}), INVALID),
        (body({"id_token": ""}), INVALID),
        (body({"id_token": None}), INVALID),
        (body({"id_token": 123}), INVALID),
        (body({"id_token": "x" * 10_000}), INVALID),
        (body({"token": "x.y.z"}), INVALID),
    ],
    ids=["none", "missing", "empty", "null", "int", "10kb", "wrong-key"],
)
def test_a_missing_or_bad_id_token_is_400(call_api, jwks_server, payload, message):
    response = call_api(
        "POST",
        f"{API}/auth/google",
        headers=headers(),
        body=payload,
        env={"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_JWKS_URL": jwks_server.url},
    )

    assert (response.status, response.json) == (400, error(message))


def test_a_google_user_without_a_family_name_must_add_it_before_2fa(call_api, stack, google, signing_key):
    response = google(sign(claims(family_name=None, name="Ada"), signing_key))
    data = response.json["data"]
    assert response.status == 201 and data["last_name"] is None
    auth = headers(bearer(data["token"]))

    blocked = call_api("POST", f"{API}/users/{data['id']}/2fa", headers=auth, body=body({"code": "123456"}))
    assert (blocked.status, blocked.json) == (401, error(INACTIVE))

    named = call_api("PATCH", f"{API}/users/{data['id']}", headers=auth, body=body({"last_name": "lovelace"}))
    assert named.status == 200 and named.json["data"]["last_name"] == "Lovelace"
    wrong_code = call_api("POST", f"{API}/users/{data['id']}/2fa", headers=auth, body=body({"code": "123456"}))
    assert (wrong_code.status, wrong_code.json) == (401, error(UNAUTHENTICATED, {"is_2fa_enabled": True}))


def test_a_google_sign_up_whose_password_email_fails_is_undone_and_503(call_api, stack, google, signing_key):
    failed = google(sign(claims(), signing_key), MAIL_SENDER="Clara <unverified@elsewhere.example>")

    assert (failed.status, failed.json) == (503, error("The service is busy. Please try again shortly."))
    assert users(call_api) == []
    assert item(stack, f"EMAIL#{EMAIL}", "EMAIL") is None
    assert google(sign(claims(), signing_key)).status == 201  # a retry signs up


def test_google_sign_in_takes_the_authenticator_app_or_a_recovery_code(
    call_api, stack, accounts, google, signing_key, monkeypatch
):
    from tests.integration.test_totp import STEP, Clock, code_at, with_authenticator

    clock = Clock(monkeypatch)
    account, secret, codes = with_authenticator(call_api, accounts, clock)
    token = sign(claims(email=account.email), signing_key)

    refused = google(token, code=code_at(secret, clock, 3))
    assert (refused.status, refused.json) == (401, error(UNAUTHENTICATED, {"is_2fa_enabled": True}))
    assert google(token, code=code_at(secret, clock)).status == 201
    clock.shift(STEP)
    by_recovery = google(token, code=codes[0])
    assert by_recovery.status == 201 and by_recovery.json["data"]["recovery_codes_left"] == 9
    assert user_item(stack, account.id)["recovery_codes_left"] == 9
    assert google(token, code=codes[0]).status == 401

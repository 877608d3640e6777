"""API keys: one per account; view shows the same token until a reset, and a reset ends the old token at once."""

import pytest

from harness.accounts import PRIVATE, signed_in_user


def view_key(call_api, user, headers=None):
    return call_api("GET", f"/api/v1/users/{user.id}/api_key", headers=headers or {"Authorization": user.auth})


def test_an_account_comes_with_a_key_whose_token_authenticates(call_api):
    user = signed_in_user(call_api)

    response = view_key(call_api, user)

    assert (response.status, response.json["message"]) == (200, "API key fetched successfully.")
    key = response.json["data"]
    assert key["id"].startswith("api_key_") and key["user_id"] == user.id
    assert key["token"].startswith("clara_api_")
    assert set(key) == {"id", "user_id", "token", "created_at", "updated_at"}
    assert view_key(call_api, user).json["data"]["token"] == key["token"]  # the same token every time
    as_key = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": f"Bearer {key['token']}"})
    assert as_key.status == 200 and as_key.json["data"]["id"] == user.id


def test_after_a_reset_the_old_token_gets_401_and_the_new_one_works(call_api):
    user = signed_in_user(call_api)
    old = view_key(call_api, user).json["data"]

    reset = call_api("POST", f"/api/v1/users/{user.id}/api_key", headers={"Authorization": user.auth})

    assert (reset.status, reset.json["message"]) == (201, "API key reset successfully.")
    new = reset.json["data"]
    assert new["id"] != old["id"] and new["token"] != old["token"]
    old_answer = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": f"Bearer {old['token']}"})
    new_answer = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": f"Bearer {new['token']}"})
    assert (old_answer.status, old_answer.json["message"]) == (
        401,
        "Authorization header or OTP is either missing, invalid or expired.",
    )
    assert new_answer.status == 200
    assert view_key(call_api, user).json["data"]["token"] == new["token"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_api_key_token_cannot_manage_keys(call_api, method):
    user = signed_in_user(call_api)
    token = view_key(call_api, user).json["data"]["token"]

    response = call_api(method, f"/api/v1/users/{user.id}/api_key", headers={"Authorization": f"Bearer {token}"})

    assert (response.status, response.json["message"]) == (403, "You do not have access to the requested resource.")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_another_users_key_is_403_and_the_private_key_is_not_a_user(call_api, method):
    ada = signed_in_user(call_api)
    bob = signed_in_user(call_api, email="bob@example.com")

    theirs = call_api(method, f"/api/v1/users/{bob.id}/api_key", headers={"Authorization": ada.auth})
    admin = call_api(method, f"/api/v1/users/{bob.id}/api_key", headers={"Authorization": PRIVATE})

    assert theirs.status == 403
    assert admin.status == 403
    assert view_key(call_api, bob).status == 200


def test_no_credential_is_401(call_api):
    user = signed_in_user(call_api)

    assert view_key(call_api, user, headers={"Authorization": "Bearer clara_api_not-a-jwt"}).status == 401
    assert call_api("GET", f"/api/v1/users/{user.id}/api_key").status == 401


def test_two_resets_at_once_both_answer_the_key_that_is_stored_not_a_500(call_api, monkeypatch):
    """Two resets read the same old key; the second one's conditional write is refused. It answers the key the
    first stored (a fresh one either way), as a later view shows it."""
    from clara.store import credentials

    user = signed_in_user(call_api)
    stale = credentials.get_api_key(user.id)
    first = call_api("POST", f"/api/v1/users/{user.id}/api_key", headers={"Authorization": user.auth})
    reads = iter([stale])  # the second reset's read happened before the first reset landed; later reads are real
    real = credentials.get_api_key
    with monkeypatch.context() as patch:
        patch.setattr(credentials, "get_api_key", lambda user_id: next(reads, None) or real(user_id))
        second = call_api("POST", f"/api/v1/users/{user.id}/api_key", headers={"Authorization": user.auth})

    assert (first.status, second.status) == (201, 201), second.json
    assert second.json["message"] == "API key reset successfully."
    assert second.json["data"]["id"] == first.json["data"]["id"] == view_key(call_api, user).json["data"]["id"]

"""User view and update, the private key's admin routes, and who may call what on whose account."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from harness.accounts import (
    ADMIN_FIELDS,
    API,
    EMPTY_BODY,
    HTTP_DATE,
    INVALID,
    NO_ACCESS,
    NO_CREDITS,
    NOT_FOUND,
    PASSWORD,
    PRIVATE,
    PUBLIC,
    UNAUTHENTICATED,
    USER_FIELDS,
    basic,
    bearer,
    body,
    error,
    headers,
    item,
    items_of,
    sessions_of,
    success,
    table,
    user_item,
)

UNKNOWN_ID = "user_00000000000000000000000000000000"


# ------------------------------------------------------------------------------------------- GET /users/{id}


def test_view_own_user_with_a_user_token(call_api, accounts):
    account = accounts.register()  # inactive users may view themselves

    response = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})

    assert response.status == 200
    expected = {name: account.view[name] for name in USER_FIELDS}
    assert response.json == success(expected, "User fetched successfully.")


def test_view_own_user_with_an_api_key_token(call_api, accounts):
    account = accounts.active()

    response = call_api(
        "GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(accounts.api_key_token(account))}
    )

    assert response.status == 200
    assert set(response.json["data"]) == USER_FIELDS and response.json["data"]["id"] == account.id


def test_view_any_user_with_the_private_key_shows_hidden_fields(call_api, accounts):
    account = accounts.register()

    response = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": PRIVATE})

    assert response.status == 200 and response.json["message"] == "User fetched successfully."
    assert set(response.json["data"]) == ADMIN_FIELDS
    assert "password" not in response.text


def test_view_an_unknown_user_with_the_private_key_is_404(call_api):
    response = call_api("GET", f"{API}/users/{UNKNOWN_ID}", headers={"Authorization": PRIVATE})

    assert (response.status, response.json) == (404, error(NOT_FOUND))


@pytest.mark.parametrize("authorization", [None, "nonsense", "Bearer clara_api_x", basic("a@b.co", PASSWORD)])
def test_view_without_a_valid_credential_is_401(call_api, accounts, authorization):
    account = accounts.register()

    response = call_api(
        "GET", f"{API}/users/{account.id}", headers={"Authorization": authorization} if authorization else {}
    )

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


def test_view_with_the_public_key_is_403(call_api, accounts):
    account = accounts.register()

    response = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": PUBLIC})

    assert (response.status, response.json) == (403, error(NO_ACCESS))


def test_a_user_token_on_an_unknown_id_is_403_not_404(call_api, accounts):
    account = accounts.register()

    response = call_api("GET", f"{API}/users/{UNKNOWN_ID}", headers={"Authorization": account.auth})

    assert (response.status, response.json) == (403, error(NO_ACCESS))


# ------------------------------------------------------------------------------------------- PATCH /users/{id}


def test_update_own_profile(call_api, stack, accounts):
    account = accounts.register()

    response = call_api(
        "PATCH",
        f"{API}/users/{account.id}",
        headers=headers(account.auth),
        body=body({"first_name": "grace", "last_name": "hopper smith", "is_dark_mode": False}),
    )

    assert response.status == 200 and response.json["message"] == "User updated successfully."
    data = response.json["data"]
    assert set(data) == USER_FIELDS
    assert (data["first_name"], data["last_name"], data["is_dark_mode"]) == ("Grace", "Hopper Smith", False)
    assert HTTP_DATE.match(data["updated_at"])
    stored = user_item(stack, account.id)
    assert (stored["first_name"], stored["last_name"], stored["is_dark_mode"]) == ("Grace", "Hopper Smith", False)
    # A later read returns the stored values.
    view = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})
    assert view.json["data"] == data


def test_the_updated_profile_matches_a_later_read_even_across_a_second(call_api, accounts, monkeypatch):
    """The answer's updated_at is the stored one, not a second reading of the clock (CI once straddled a second)."""
    account = accounts.register()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ticks = itertools.count()
    monkeypatch.setattr("clara.domain.accounts.profile.utc_now", lambda: start + timedelta(seconds=next(ticks)))

    updated = call_api(
        "PATCH", f"{API}/users/{account.id}", headers=headers(account.auth), body=body({"is_dark_mode": True})
    )
    view = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})

    assert updated.status == 200 and view.json["data"] == updated.json["data"]


def test_update_a_subset_leaves_the_rest(call_api, stack, accounts):
    account = accounts.register()

    response = call_api(
        "PATCH", f"{API}/users/{account.id}", headers=headers(account.auth), body=body({"is_dark_mode": False})
    )

    assert response.status == 200
    assert (response.json["data"]["first_name"], response.json["data"]["last_name"]) == ("Ada", "Lovelace")
    assert user_item(stack, account.id)["first_name"] == "Ada"


def test_update_with_the_private_key(call_api, stack, accounts):
    account = accounts.register()

    response = call_api(
        "PATCH", f"{API}/users/{account.id}", headers=headers(PRIVATE), body=body({"first_name": "ada mary"})
    )

    assert response.status == 200 and set(response.json["data"]) == ADMIN_FIELDS
    assert user_item(stack, account.id)["first_name"] == "Ada Mary"


def test_update_an_unknown_user_with_the_private_key_is_404(call_api):
    response = call_api("PATCH", f"{API}/users/{UNKNOWN_ID}", headers=headers(PRIVATE), body=body({"first_name": "x"}))

    assert (response.status, response.json) == (404, error(NOT_FOUND))


def test_an_update_racing_the_admins_erasure_is_404_and_leaves_nothing(call_api, stack, accounts, monkeypatch):
    """The user was read, then erased before the update's write: the answer is the one a moment later, not a 500."""
    from clara.domain.accounts import profile

    account = accounts.register()
    update_user_write = profile.update_user_write

    def erased_first(user_id, *args, **kwargs):
        call_api("DELETE", f"{API}/users/{user_id}", headers={"Authorization": PRIVATE})
        return update_user_write(user_id, *args, **kwargs)

    monkeypatch.setattr(profile, "update_user_write", erased_first)
    response = call_api("PATCH", f"{API}/users/{account.id}", headers=headers(PRIVATE), body=body({"first_name": "x"}))

    assert (response.status, response.json) == (404, error(NOT_FOUND))
    assert user_item(stack, account.id) is None


FORBIDDEN = {
    "id": "user_11111111111111111111111111111111",
    "email": "new@example.com",
    "password": "another password",
    "credits": 1000,
    "is_2fa_enabled": True,
    "is_active": True,
    "created_at": "Wed, 26 Nov 2025 23:51:28 GMT",
    "updated_at": "Wed, 26 Nov 2025 23:51:28 GMT",
    "stripe_customer_id": "cus_123",
}


@pytest.mark.parametrize("key", FORBIDDEN)
@pytest.mark.parametrize("authorization", ["own", "private"])
def test_update_with_a_forbidden_key_is_400_and_changes_nothing(call_api, stack, accounts, key, authorization):
    account = accounts.register()
    before = user_item(stack, account.id)

    response = call_api(
        "PATCH",
        f"{API}/users/{account.id}",
        headers=headers(account.auth if authorization == "own" else PRIVATE),
        body=body({"first_name": "mallory", key: FORBIDDEN[key]}),
    )

    assert (response.status, response.json) == (400, error(INVALID))
    assert user_item(stack, account.id) == before


@pytest.mark.parametrize("credential", ["api_key", "public"])
def test_update_with_an_api_key_token_or_the_public_key_is_403(call_api, stack, accounts, credential):
    account = accounts.active()
    before = user_item(stack, account.id)
    authorization = bearer(accounts.api_key_token(account)) if credential == "api_key" else PUBLIC

    response = call_api(
        "PATCH", f"{API}/users/{account.id}", headers=headers(authorization), body=body({"first_name": "eve"})
    )

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert user_item(stack, account.id) == before


def test_update_without_a_token_is_401(call_api, stack, accounts):
    account = accounts.register()

    response = call_api("PATCH", f"{API}/users/{account.id}", headers=headers(), body=body({"first_name": "eve"}))

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- GET /users


def test_list_users_newest_first_with_limit_and_offset(call_api, accounts):
    created = [accounts.register() for _ in range(4)]

    everyone = call_api("GET", f"{API}/users", headers={"Authorization": PRIVATE})
    page = call_api("GET", f"{API}/users", headers={"Authorization": PRIVATE}, query={"limit": "2", "offset": "1"})

    assert everyone.status == 200 and everyone.json["message"] == "Users fetched successfully."
    assert [u["id"] for u in everyone.json["data"]] == [a.id for a in reversed(created)]
    assert all(set(u) == ADMIN_FIELDS for u in everyone.json["data"])
    assert [u["id"] for u in page.json["data"]] == [created[2].id, created[1].id]


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"limit": "abc"}, {"offset": "1.5"}]
)
def test_list_users_with_a_bad_page_is_400(call_api, query):
    response = call_api("GET", f"{API}/users", headers={"Authorization": PRIVATE}, query=query)

    assert (response.status, response.json) == (400, error(INVALID))


@pytest.mark.parametrize(("credential", "status"), [("user", 403), ("public", 403), ("api_key", 403), ("none", 401)])
def test_list_users_needs_the_private_key(call_api, accounts, credential, status):
    account = accounts.register()
    authorization = {
        "user": account.auth,
        "public": PUBLIC,
        "api_key": bearer(accounts.api_key_token(account)),
        "none": None,
    }[credential]

    response = call_api("GET", f"{API}/users", headers={"Authorization": authorization} if authorization else {})

    assert (response.status, response.json) == (status, error(NO_ACCESS if status == 403 else UNAUTHENTICATED))


# ------------------------------------------------------------------------------------------- PUT credits


def test_set_credits_records_the_difference(call_api, stack, accounts):
    account = accounts.register()

    response = call_api(
        "PUT", f"{API}/users/{account.id}/credits", headers=headers(PRIVATE), body=body({"credits": 50})
    )
    lower = call_api("PUT", f"{API}/users/{account.id}/credits", headers=headers(PRIVATE), body=body({"credits": 20.5}))

    assert response.status == 200 and response.json["message"] == "User credits updated successfully."
    assert set(response.json["data"]) == ADMIN_FIELDS and response.json["data"]["credits"] == 50
    assert lower.status == 200 and lower.json["data"]["credits"] == 20.5
    assert float(user_item(stack, account.id)["credits"]) == 20.5
    transactions = sorted(
        (i for i in items_of(stack, account.id) if i["sk"].startswith("TRANSACTION#")), key=lambda i: i["created_at"]
    )
    assert [(t["type"], float(t["value_in_credits"]), t["description"]) for t in transactions] == [
        ("CREDIT", 50.0, "Admin updated credits from 0 to 50."),
        ("DEBIT", 29.5, "Admin updated credits from 50 to 20.5."),
    ]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, EMPTY_BODY),
        (body({}), INVALID),
        (body({"credits": -1}), INVALID),
        (body({"credits": "lots"}), INVALID),
        (body({"credits": 1e13}), INVALID),
        ('{"credits": NaN}', INVALID),
        (body({"credits": 5, "user_id": "x"}), INVALID),
        # Found by the fuzzing: below DynamoDB's range, or past 6 decimals, this was a failed write and a 500.
        (body({"credits": 2.5e-140}), INVALID),
        (body({"credits": 1.1234567}), INVALID),
    ],
    ids=["none", "empty", "negative", "string", "huge", "nan", "unknown-key", "tiny", "seven-decimals"],
)
def test_set_credits_with_a_bad_body_is_400(call_api, stack, accounts, payload, message):
    assert_a_bad_body_changes_nothing(call_api, stack, accounts, "PUT", "credits", payload, message)


def assert_a_bad_body_changes_nothing(call_api, stack, accounts, method, route, payload, message):
    """The private key's `method /users/{id}/<route>` with `payload` is 400 `message`, and the user is as before."""
    account = accounts.register()
    before = user_item(stack, account.id)

    response = call_api(method, f"{API}/users/{account.id}/{route}", headers=headers(PRIVATE), body=payload)

    assert (response.status, response.json) == (400, error(message))
    assert user_item(stack, account.id) == before


def test_set_credits_of_an_unknown_user_is_404(call_api):
    response = call_api("PUT", f"{API}/users/{UNKNOWN_ID}/credits", headers=headers(PRIVATE), body=body({"credits": 5}))

    assert (response.status, response.json) == (404, error(NOT_FOUND))


# ------------------------------------------------------------------------------------------- DELETE /users/{id}


def test_delete_user_erases_every_item_and_frees_the_email(call_api, stack, accounts):
    account = accounts.active()
    other = accounts.register()
    accounts.login_token(account)
    call_api("PUT", f"{API}/users/{account.id}/credits", headers=headers(PRIVATE), body=body({"credits": 5}))
    assert len(items_of(stack, account.id)) > 3

    response = call_api("DELETE", f"{API}/users/{account.id}", headers={"Authorization": PRIVATE})

    assert (response.status, response.text) == (204, "")
    assert items_of(stack, account.id) == []
    assert item(stack, f"EMAIL#{account.email}", "EMAIL") is None
    leftovers = [i for i in table(stack).scan()["Items"] if i.get("user_id") == account.id and i.get("kind") != "audit"]
    assert leftovers == []
    assert call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": PRIVATE}).status == 404
    revoked = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": account.auth})
    assert (revoked.status, revoked.json) == (401, error(UNAUTHENTICATED))
    assert accounts.login(account.email).status == 401
    assert user_item(stack, other.id) is not None
    again = accounts.register(account.email)
    assert again.id != account.id


def test_delete_an_unknown_user_is_404(call_api):
    response = call_api("DELETE", f"{API}/users/{UNKNOWN_ID}", headers={"Authorization": PRIVATE})

    assert (response.status, response.json) == (404, error(NOT_FOUND))


# ------------------------------------------------------------------------------------------- POST transactions


def transaction(description="Top up", credits=10, fiat=1.5, kind="CREDIT"):
    return body({"description": description, "value_in_credits": credits, "value_in_fiat": fiat, "type": kind})


def test_admin_transaction_changes_the_balance(call_api, stack, accounts):
    account = accounts.register()

    response = call_api("POST", f"{API}/users/{account.id}/transactions", headers=headers(PRIVATE), body=transaction())

    assert response.status == 201 and response.json["message"] == "Transaction created successfully."
    data = response.json["data"]
    assert set(data) == {
        "id",
        "user_id",
        "type",
        "description",
        "value_in_credits",
        "value_in_fiat",
        "created_at",
        "updated_at",
    }
    assert (data["user_id"], data["type"], data["value_in_credits"], data["value_in_fiat"]) == (
        account.id,
        "CREDIT",
        10,
        1.5,
    )
    assert float(user_item(stack, account.id)["credits"]) == 10
    assert item(stack, f"USER#{account.id}", f"TRANSACTION#{data['id']}") is not None


def test_admin_transaction_retried_with_an_idempotency_key_is_recorded_once(call_api, stack, accounts):
    account = accounts.register()
    send = lambda: call_api(  # noqa: E731
        "POST",
        f"{API}/users/{account.id}/transactions",
        headers=headers(PRIVATE, **{"Idempotency-Key": "retry-1"}),
        body=transaction(),
    )

    first, second = send(), send()

    assert first.status == 201 and second.status == 201
    assert first.json["data"]["id"] == second.json["data"]["id"]
    assert float(user_item(stack, account.id)["credits"]) == 10
    assert len([i for i in items_of(stack, account.id) if i["sk"].startswith("TRANSACTION#")]) == 1


def test_admin_debit_beyond_the_balance_is_403(call_api, stack, accounts):
    account = accounts.register()
    call_api("POST", f"{API}/users/{account.id}/transactions", headers=headers(PRIVATE), body=transaction(credits=5))

    response = call_api(
        "POST",
        f"{API}/users/{account.id}/transactions",
        headers=headers(PRIVATE),
        body=transaction(credits=6, kind="DEBIT"),
    )

    assert (response.status, response.json) == (403, error(NO_CREDITS))
    assert float(user_item(stack, account.id)["credits"]) == 5


def test_admin_transaction_for_an_unknown_user_is_404(call_api):
    response = call_api("POST", f"{API}/users/{UNKNOWN_ID}/transactions", headers=headers(PRIVATE), body=transaction())

    assert (response.status, response.json) == (404, error(NOT_FOUND))


@pytest.mark.parametrize(
    "payload",
    [
        transaction(kind="REFUND"),
        transaction(credits=0),
        transaction(credits=-5),
        transaction(description=""),
        transaction(description="x" * 501),
        body({"description": "x", "value_in_credits": 1, "type": "CREDIT", "id": "transaction_1"}),
        body({"value_in_credits": 1, "type": "CREDIT"}),
    ],
    ids=["type", "zero", "negative", "empty-description", "long-description", "unknown-key", "no-description"],
)
def test_admin_transaction_with_a_bad_body_is_400(call_api, stack, accounts, payload):
    assert_a_bad_body_changes_nothing(call_api, stack, accounts, "POST", "transactions", payload, INVALID)


# ------------------------------------------------------------------------------------------- ownership matrix


def b_routes(b):
    """Every route that names user B, as (method, path, body)."""
    return {
        "view": ("GET", f"{API}/users/{b.id}", None),
        "update": ("PATCH", f"{API}/users/{b.id}", body({"first_name": "mallory"})),
        "enable-2fa": ("POST", f"{API}/users/{b.id}/2fa", body({"code": "123456"})),
        "disable-2fa": ("DELETE", f"{API}/users/{b.id}/2fa", body({"code": "123456"})),
        "change-password": (
            "PATCH",
            f"{API}/users/{b.email}/password",
            body({"password": "pwned pwned", "code": "123456"}),
        ),
        "set-credits": ("PUT", f"{API}/users/{b.id}/credits", body({"credits": 1000})),
        "delete": ("DELETE", f"{API}/users/{b.id}", None),
        "list": ("GET", f"{API}/users", None),
        "transaction": ("POST", f"{API}/users/{b.id}/transactions", transaction(credits=1000)),
    }


ROUTE_NAMES = [
    "view",
    "update",
    "enable-2fa",
    "disable-2fa",
    "change-password",
    "set-credits",
    "delete",
    "list",
    "transaction",
]


@pytest.mark.parametrize("route", ROUTE_NAMES)
def test_user_a_token_on_user_b_routes_is_403_and_b_is_unchanged(call_api, stack, accounts, route):
    a, b = accounts.active(), accounts.active()
    b_items = items_of(stack, b.id)
    method, path, payload = b_routes(b)[route]

    response = call_api(method, path, headers=headers(a.auth), body=payload)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    after = [i for i in items_of(stack, b.id) if i.get("kind") != "audit"]
    assert after == [i for i in b_items if i.get("kind") != "audit"]


@pytest.mark.parametrize(
    "route", ["update", "enable-2fa", "disable-2fa", "change-password", "set-credits", "delete", "list", "transaction"]
)
def test_an_api_key_token_on_its_own_user_is_403_except_view(call_api, stack, accounts, route):
    account = accounts.active()
    before = user_item(stack, account.id)
    method, path, payload = b_routes(account)[route]

    response = call_api(method, path, headers=headers(bearer(accounts.api_key_token(account))), body=payload)

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert user_item(stack, account.id) == before


def test_an_api_key_token_may_not_log_out(call_api, stack, accounts):
    account = accounts.active()

    response = call_api(
        "DELETE", f"{API}/auth/session", headers={"Authorization": bearer(accounts.api_key_token(account))}
    )

    assert (response.status, response.json) == (403, error(NO_ACCESS))
    assert len(sessions_of(stack, account.id)) == 1


def test_an_api_key_token_of_another_user_is_403_on_view(call_api, accounts):
    a, b = accounts.active(), accounts.active()

    response = call_api("GET", f"{API}/users/{b.id}", headers={"Authorization": bearer(accounts.api_key_token(a))})

    assert (response.status, response.json) == (403, error(NO_ACCESS))


def test_a_forged_api_key_token_with_a_wrong_key_id_is_401(call_api, accounts):
    from clara.domain.accounts.tokens import issue_api_key_token

    account = accounts.active()
    forged = issue_api_key_token(account.id, "api_key_00000000000000000000000000000000")

    response = call_api("GET", f"{API}/users/{account.id}", headers={"Authorization": bearer(forged)})

    assert (response.status, response.json) == (401, error(UNAUTHENTICATED))

"""The credits ledger through the API: exact paging, newest first, ownership, and no double spending."""

import json
import threading
from decimal import Decimal

import pytest

from clara.domain.credits import ledger
from harness.accounts import PRIVATE, headers, signed_in_user


def admin_transaction(call_api, user_id: str, credits: float | str, kind: str = "CREDIT", key: str | None = None):
    """`credits` as a number, or as the exact text of a JSON number ("0.1")."""
    extra = {"Idempotency-Key": key} if key else {}
    body = {"description": f"{kind} of {credits}", "value_in_credits": "<credits>", "type": kind}
    text = json.dumps(body).replace('"<credits>"', str(credits))
    return call_api("POST", f"/api/v1/users/{user_id}/transactions", headers=headers(PRIVATE, **extra), body=text)


def balance(call_api, user) -> float:
    return call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": user.auth}).json["data"]["credits"]


def test_every_page_window_over_25_transactions_is_the_expected_slice(call_api):
    user = signed_in_user(call_api)
    created = [admin_transaction(call_api, user.id, credits).json["data"]["id"] for credits in range(1, 26)]
    newest_first = list(reversed(created))

    for limit in (1, 5, 7, 25, 100):
        for offset in (0, 1, 6, 24, 25, 30):
            page = call_api(
                "GET",
                f"/api/v1/users/{user.id}/transactions",
                headers={"Authorization": user.auth},
                query={"limit": str(limit), "offset": str(offset)},
            )
            assert page.status == 200
            assert page.json["message"] == "Transactions fetched successfully."
            assert [item["id"] for item in page.json["data"]] == newest_first[offset : offset + limit], (limit, offset)


def test_paging_defaults_to_the_20_newest(call_api):
    user = signed_in_user(call_api)
    created = [admin_transaction(call_api, user.id, 1).json["data"]["id"] for _ in range(22)]

    page = call_api("GET", f"/api/v1/users/{user.id}/transactions", headers={"Authorization": user.auth})

    assert [item["id"] for item in page.json["data"]] == list(reversed(created))[:20]


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}, {"limit": "ten"}])
def test_a_bad_page_is_invalid_schema(call_api, query):
    user = signed_in_user(call_api)

    response = call_api(
        "GET", f"/api/v1/users/{user.id}/transactions", headers={"Authorization": user.auth}, query=query
    )

    assert response.status == 400
    assert response.json["message"] == "One or more required parameters are either not given or have invalid schema."


def test_one_transaction_is_viewable_by_its_owner_only(call_api):
    ada = signed_in_user(call_api)
    bob = signed_in_user(call_api, email="bob@example.com")
    transaction_id = admin_transaction(call_api, ada.id, 5).json["data"]["id"]

    mine = call_api("GET", f"/api/v1/users/{ada.id}/transactions/{transaction_id}", headers={"Authorization": ada.auth})
    theirs_via_own_path = call_api(
        "GET", f"/api/v1/users/{bob.id}/transactions/{transaction_id}", headers={"Authorization": bob.auth}
    )
    theirs_via_their_path = call_api(
        "GET", f"/api/v1/users/{ada.id}/transactions/{transaction_id}", headers={"Authorization": bob.auth}
    )

    assert (mine.status, mine.json["message"]) == (200, "Transaction fetched successfully.")
    assert mine.json["data"]["value_in_credits"] == 5.0
    assert (theirs_via_own_path.status, theirs_via_own_path.json["message"]) == (
        404,
        "Transaction with the given identifier does not exist.",
    )
    assert theirs_via_their_path.status == 403


def test_an_idempotency_key_records_a_retried_admin_transaction_once(call_api):
    user = signed_in_user(call_api)

    first = admin_transaction(call_api, user.id, 7, key="retry-me")
    second = admin_transaction(call_api, user.id, 7, key="retry-me")

    assert first.status == second.status == 201
    assert first.json["data"]["id"] == second.json["data"]["id"]
    assert "request_hash" not in first.json["data"] and "request_hash" not in second.json["data"]  # never shown
    assert balance(call_api, user) == 7


def test_an_idempotency_key_reused_with_another_body_is_409_and_changes_nothing(call_api):
    user = signed_in_user(call_api)
    first = admin_transaction(call_api, user.id, 7, key="once-only")

    other_amount = admin_transaction(call_api, user.id, 8, key="once-only")
    other_type = admin_transaction(call_api, user.id, 7, kind="DEBIT", key="once-only")
    same_written_otherwise = call_api(
        "POST",
        f"/api/v1/users/{user.id}/transactions",
        headers=headers(PRIVATE, **{"Idempotency-Key": "once-only"}),
        body='{"type": "CREDIT", "value_in_credits": 7.000, "description": "  CREDIT of 7 ", "value_in_fiat": 0}',
    )

    for response in (other_amount, other_type):
        assert response.status == 409, response.text
        assert response.json == {
            "data": None,
            "message": "The Idempotency-Key was already used with a different request.",
            "status": "error",
        }
    assert same_written_otherwise.status == 201  # 7.000 is the same amount as 7: the same request
    assert same_written_otherwise.json["data"]["id"] == first.json["data"]["id"]
    assert balance(call_api, user) == 7
    assert len(ledger.list_transaction_views(user.id, 100, 0)) == 1


@pytest.mark.parametrize("credits", [5.9e-229, 1e-7, 0.12345678])
def test_a_credit_past_6_decimals_is_refused_and_changes_nothing(call_api, credits: float):
    """Found by the fuzzing: DynamoDB could not store it, so it was a 500."""
    user = signed_in_user(call_api)
    admin_transaction(call_api, user.id, 100)

    response = admin_transaction(call_api, user.id, credits)

    assert response.status == 400
    assert balance(call_api, user) == 100


def test_setting_credits_records_the_difference(call_api):
    user = signed_in_user(call_api)
    admin = headers(PRIVATE)

    call_api("PUT", f"/api/v1/users/{user.id}/credits", headers=admin, body=json.dumps({"credits": 10}))
    response = call_api("PUT", f"/api/v1/users/{user.id}/credits", headers=admin, body=json.dumps({"credits": 4}))

    assert response.status == 200 and response.json["data"]["credits"] == 4
    listed = call_api("GET", f"/api/v1/users/{user.id}/transactions", headers={"Authorization": user.auth}).json["data"]
    assert [(t["type"], t["value_in_credits"], t["description"]) for t in listed] == [
        ("DEBIT", 6.0, "Admin updated credits from 10 to 4."),
        ("CREDIT", 10.0, "Admin updated credits from 0 to 10."),
    ]


def test_50_concurrent_debits_of_1_on_a_balance_of_10_succeed_exactly_10_times(call_api, atomic_dynamodb):
    user = signed_in_user(call_api)
    admin_transaction(call_api, user.id, 10)
    outcomes: list[str] = []
    start = threading.Barrier(50)

    def debit(number: int) -> None:
        start.wait()
        try:
            ledger.record(user.id, ledger.transaction_id_for(f"debit-{number}"), "DEBIT", 1, 0, "A concurrent debit.")
            outcomes.append("debited")
        except Exception as error:  # InsufficientCredits, or a transaction conflict DynamoDB cancels
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=debit, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("debited") == 10, outcomes
    assert balance(call_api, user) == 0
    debits = [t for t in ledger.list_transaction_views(user.id, 100, 0) if t.type == "DEBIT"]
    assert len(debits) == 10
    print(f"concurrent debits: {sorted({o: outcomes.count(o) for o in set(outcomes)}.items())}")


def test_replaying_a_ledger_transaction_changes_nothing(call_api):
    user = signed_in_user(call_api)
    transaction_id = ledger.transaction_id_for("checkout-session-cs_test_1")

    first = ledger.record(user.id, transaction_id, "CREDIT", 500, 5, "User bought 500 credits for $5.")
    replay = ledger.record(user.id, transaction_id, "CREDIT", 500, 5, "User bought 500 credits for $5.")

    assert (first[1], replay[1]) == (True, False)
    assert replay[0].id == first[0].id
    assert balance(call_api, user) == 500


# ------------------------------------------------------------------------------------------- exact money


def set_credits(call_api, user_id: str, credits: str):
    """PUT /users/{id}/credits with `credits` written into the JSON text exactly as given."""
    body = '{"credits": ' + credits + "}"
    return call_api("PUT", f"/api/v1/users/{user_id}/credits", headers=headers(PRIVATE), body=body)


def test_a_balance_set_after_a_huge_one_is_stored_and_answered_to_the_last_digit(call_api, stack):
    user = signed_in_user(call_api)

    huge = set_credits(call_api, user.id, "1e12")
    small = set_credits(call_api, user.id, "1.000001")

    assert (huge.status, small.status) == (200, 200)
    assert '"credits": 1000000000000,' in huge.text
    assert '"credits": 1.000001,' in small.text
    table = stack.session.client("dynamodb")
    stored = table.get_item(
        TableName=stack.physical_ids["ClaraTable"], Key={"pk": {"S": f"USER#{user.id}"}, "sk": {"S": "USER"}}
    )["Item"]["credits"]
    assert stored == {"N": "1.000001"}
    viewed = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": user.auth})
    assert '"credits": 1.000001,' in viewed.text
    listed = call_api("GET", f"/api/v1/users/{user.id}/transactions", headers={"Authorization": user.auth})
    assert '"value_in_credits": 999999999998.999999,' in listed.text  # the debit that took 1e12 to 1.000001
    assert "Admin updated credits from 1000000000000 to 1.000001." in listed.text


def test_a_balance_beyond_a_float_s_precision_is_answered_exactly(call_api):
    user = signed_in_user(call_api)
    set_credits(call_api, user.id, "1000000000000")

    credited = call_api(
        "POST",
        f"/api/v1/users/{user.id}/transactions",
        headers=headers(PRIVATE),
        body='{"description": "A millionth", "value_in_credits": 0.000001, "value_in_fiat": 0.000001, '
        '"type": "CREDIT"}',
    )
    viewed = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": user.auth})

    assert credited.status == 201, credited.text
    assert '"value_in_credits": 0.000001,' in credited.text and '"value_in_fiat": 0.000001,' in credited.text
    assert '"credits": 1000000000000.000001,' in viewed.text


def test_the_ledger_sums_to_the_balance_exactly_after_many_small_changes(call_api):
    user = signed_in_user(call_api)
    for _ in range(10):
        admin_transaction(call_api, user.id, "0.1")
    for _ in range(3):
        admin_transaction(call_api, user.id, "0.3", kind="DEBIT")

    viewed = call_api("GET", f"/api/v1/users/{user.id}", headers={"Authorization": user.auth})
    listed = call_api(
        "GET", f"/api/v1/users/{user.id}/transactions", headers={"Authorization": user.auth}, query={"limit": "100"}
    )

    # With binary floats 10 * 0.1 - 3 * 0.3 is 0.09999999999999987; exactly it is 0.1.
    assert '"credits": 0.1,' in viewed.text
    transactions = json.loads(listed.text, parse_float=Decimal)["data"]
    total = sum(
        (t["value_in_credits"] if t["type"] == "CREDIT" else -t["value_in_credits"] for t in transactions), Decimal(0)
    )
    assert total == json.loads(viewed.text, parse_float=Decimal)["data"]["credits"] == Decimal("0.1")


def test_a_listed_transaction_is_the_one_viewed_alone(call_api):
    """A page validates its entries straight as views; one transaction is a record made a view: the two agree."""
    user = signed_in_user(call_api)
    set_credits(call_api, user.id, "1e12")
    admin_transaction(call_api, user.id, "0.000001")
    admin_transaction(call_api, user.id, "999999999999.999999", kind="DEBIT")
    auth = {"Authorization": user.auth}

    listed = call_api("GET", f"/api/v1/users/{user.id}/transactions", headers=auth)

    assert listed.status == 200 and len(listed.json["data"]) == 3
    for entry in json.loads(listed.text, parse_float=Decimal)["data"]:
        alone = call_api("GET", f"/api/v1/users/{user.id}/transactions/{entry['id']}", headers=auth)
        assert json.loads(alone.text, parse_float=Decimal)["data"] == entry  # exact amounts, dates, every field

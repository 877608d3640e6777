"""clara.store.unit on the emulated table: all or nothing, refusals named by write, contention passed up as it
is, and the ClientRequestToken sent with the unit."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pynamodb.attributes import (
    Attribute,
    AttributeContainer,
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import AttributeNullError

from clara.store import table, unit
from clara.store.items import ApiKeyItem, AuditItem, TaskItem, UserItem
from clara.store.table import DecimalAttribute, DocumentAttribute, IsoDateTimeAttribute, TableItem


def user_item(user_id: str, credits: str) -> UserItem:
    now = datetime.now(UTC)
    return UserItem(
        *UserItem.key(user_id), id=user_id, email=f"{user_id}@example.com", credits=Decimal(credits),
        created_at=now, updated_at=now,
    )  # fmt: skip


def api_key_item(user_id: str, key_id: str) -> ApiKeyItem:
    now = datetime.now(UTC)
    return ApiKeyItem(*ApiKeyItem.key(user_id), id=key_id, user_id=user_id, created_at=now, updated_at=now)


def test_a_refused_unit_writes_nothing_and_names_the_write_that_was_refused(stack):
    unit.commit(unit.put("user", user_item("u1", "10")))
    debit = unit.update(
        "balance", UserItem(*UserItem.key("u1")), [UserItem.credits.add(Decimal(-20))], UserItem.credits >= 20
    )
    key = unit.put("api_key", api_key_item("u1", "k1"), ApiKeyItem.pk.does_not_exist())

    with pytest.raises(unit.Refused) as refused:
        unit.commit(debit, key)

    assert refused.value.reasons == {"balance": "ConditionalCheckFailed", "api_key": "None"}
    assert refused.value.failed("balance") and not refused.value.failed("api_key")
    assert UserItem.get(*UserItem.key("u1")).credits == Decimal(10)
    assert ApiKeyItem.count(ApiKeyItem.key("u1")[0], ApiKeyItem.sk == ApiKeyItem.key("u1")[1]) == 0


def test_exact_amounts_go_through_a_unit_to_the_last_digit(stack):
    unit.commit(unit.put("user", user_item("u2", "1000000000000.000001")))

    unit.commit(unit.update("balance", UserItem(*UserItem.key("u2")), [UserItem.credits.add(Decimal("0.000001"))]))

    assert UserItem.get(*UserItem.key("u2"), consistent_read=True).credits == Decimal("1000000000000.000002")


def test_a_document_keeps_every_value_and_stores_numbers_exactly(stack):
    """An audit item's details: a balance to its last digit, a float as its shortest text, nested maps and lists,
    booleans and nulls, as written; numbers stored in fixed point (moto's ADD misreads "1E+3")."""
    details = {
        "credits": Decimal("123456789012345678.000001"),
        "score": 0.1,
        "count": 1000,
        "big": 1e16,
        "flags": [True, False, None],
        "nested": {"claim": "the sky is green", "sources": [{"url": "https://a.example", "weight": 0.25}]},
    }
    unit.commit(unit.put("audit", AuditItem("AUDIT#d", "AUDIT#1", event="lockout", created_at="t", details=details)))

    stored = table.client().get_item(
        TableName=AuditItem.Meta.table_name, Key={"pk": {"S": "AUDIT#d"}, "sk": {"S": "AUDIT#1"}}
    )
    stored_details = stored["Item"]["details"]["M"]
    read = AuditItem.get("AUDIT#d", "AUDIT#1").details

    assert read == {
        **details,
        "score": Decimal("0.1"),
        "big": 10**16,
        "nested": {"claim": "the sky is green", "sources": [{"url": "https://a.example", "weight": Decimal("0.25")}]},
    }
    assert stored_details["credits"] == {"N": "123456789012345678.000001"}
    assert stored_details["big"] == {"N": "10000000000000000"} and stored_details["score"] == {"N": "0.1"}
    assert stored_details["flags"] == {"L": [{"BOOL": True}, {"BOOL": False}, {"NULL": True}]}


def test_a_listed_item_is_read_as_pynamodb_reads_it():
    """values_from_raw, the listings' own reader, gives what PynamoDB's model gives: whole and fractional numbers
    (with and without an exponent), a list of documents with a null in it, a document, attributes not stored."""
    raw = {
        "pk": {"S": "USER#u"}, "sk": {"S": "TASK#t"}, "kind": {"S": "task"}, "id": {"S": "t"}, "user_id": {"S": "u"},
        "status": {"S": "COMPLETED"}, "error": {"NULL": True}, "created_at": {"S": "a"}, "updated_at": {"S": "b"},
        "cost_credits": {"N": "20"}, "requeued_at": {"N": "1.5E+3"},
        "attachments": {"L": [{"M": {"name": {"S": "a.pdf"}, "size_bytes": {"N": "10"}}}, {"NULL": True}]},
        "result": {"M": {"confidence": {"N": "0.0"}, "claims": {"L": [{"M": {"end": {"N": "48"}}}]}}},
    }  # fmt: skip

    for lease_until in ("1796625896.8759959", "17"):  # a float, and a whole number (an int, as json.loads reads it)
        listed = {**raw, "lease_until": {"N": lease_until}}
        read, modelled = TaskItem.values_from_raw(listed), TaskItem.from_raw_data(listed).stored_values()

        assert read == modelled
        assert {name: type(value) for name, value in read.items()} == {n: type(v) for n, v in modelled.items()}


def test_the_token_goes_with_the_unit_as_its_client_request_token(stack):
    sent: list[dict] = []
    events = table.client().meta.events
    # What commit passes, copied before botocore's own handlers (which would add a token) see it.
    events.register("provide-client-params.dynamodb.TransactWriteItems", lambda params, **_: sent.append(dict(params)))
    try:
        unit.commit(unit.put("user", user_item("u3", "0")), token="checkout-cs_test_1")
        unit.commit(unit.put("key", api_key_item("u3", "k3")))
        unit.commit(unit.put("key", api_key_item("u3", "k4")))
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems")

    given, first, second = (params.get("ClientRequestToken") for params in sent)
    # Without a token of the caller's, commit makes one per unit: botocore's retries of the call send it again.
    assert given == "checkout-cs_test_1"
    assert first and second and len({given, first, second}) == 3


def test_contention_is_not_a_refusal_it_goes_up_as_dynamodb_said_it(stack, monkeypatch):
    conflict = ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict"}],
        },
        "TransactWriteItems",
    )

    def busy(**_):
        raise table.client().exceptions.TransactionCanceledException(conflict.response, "TransactWriteItems")

    monkeypatch.setattr(table.client(), "transact_write_items", busy)

    with pytest.raises(ClientError) as raised:
        unit.commit(unit.put("user", user_item("u4", "0")))

    assert not isinstance(raised.value, unit.Refused)
    assert raised.value.response["CancellationReasons"] == [{"Code": "TransactionConflict"}]


def sample(attribute: Attribute, name: str) -> Any:
    """A value of the attribute's type, with the awkward cases in it (nested nulls, exact decimals)."""
    if isinstance(attribute, ListAttribute):
        return [sample(attribute.element_type(), name)]
    samples = {
        UnicodeAttribute: f"{name} text",
        NumberAttribute: 7,
        BooleanAttribute: True,
        DecimalAttribute: Decimal("1000000000000.000001"),
        IsoDateTimeAttribute: datetime(2026, 12, 7, 6, 15, 22, 123456, tzinfo=UTC),
        DocumentAttribute: {"claims": [{"score": Decimal("0.25"), "note": None}], "done": True, "n": 3},
        MapAttribute: {"code": "hash"},
    }
    return samples[type(attribute)]


def every_item_values(*, optional: bool) -> list[tuple[type[TableItem], dict[str, Any]]]:
    """Every item class, with values for all its attributes, or for only those it must have."""
    return [
        (
            item_class,
            {
                name: sample(attribute, name)
                for name, attribute in item_class.get_attributes().items()
                if not isinstance(attribute, DiscriminatorAttribute) and (optional or not attribute.null)
            },
        )
        for item_class in TableItem.__subclasses__()
    ]


def every_item(*, optional: bool) -> list[TableItem]:
    """One item of every class: with all its attributes, or with only those it must have."""
    return [item_class(**values) for item_class, values in every_item_values(optional=optional)]


def comparable(values: dict[str, Any]) -> list[tuple[str, Any]]:
    # A MapAttribute's == builds a condition: compare its contents.
    return [(name, value.as_dict() if isinstance(value, MapAttribute) else value) for name, value in values.items()]


@pytest.mark.parametrize("optional", [True, False], ids=["every attribute", "required attributes only"])
def test_a_new_item_holds_what_pynamodbs_own_construction_gives_it(stack, optional):
    # TableItem stores a new item's values without PynamoDB's descriptors: the values, defaults and kind must be
    # those PynamoDB's own construction (AttributeContainer's) sets, in the same order.
    for item_class, values in every_item_values(optional=optional):
        by_pynamodb = item_class.__new__(item_class)
        by_pynamodb.attribute_values = {}
        AttributeContainer._set_discriminator(by_pynamodb)
        AttributeContainer._set_defaults(by_pynamodb, _user_instantiated=True)
        AttributeContainer._set_attributes(by_pynamodb, **values)

        assert comparable(item_class(**values).attribute_values) == comparable(by_pynamodb.attribute_values)
    with pytest.raises(ValueError, match="Attribute no_such_attribute specified does not exist"):
        UserItem(*UserItem.key("u6"), no_such_attribute=1)


@pytest.mark.parametrize("optional", [True, False], ids=["every attribute", "required attributes only"])
def test_writes_are_the_requests_pynamodb_builds_for_every_item_class(stack, optional):
    # The unit builds its requests without PynamoDB's model path (slow): they must be what that path sends.
    def plain(request: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in request.items() if value is not None}

    for item in every_item(optional=optional):
        condition = type(item).pk.does_not_exist() | (type(item).sk == "x")
        actions = [type(item).gsi1pk.set("a"), type(item).gsi2pk.remove()]
        if item.kind is None:  # the counters, only ever upserted: neither way may put one
            with pytest.raises(AttributeNullError):
                item.serialize(null_check=True)
            with pytest.raises(AttributeNullError):
                unit.put("p", item)
        else:
            assert item.raw() == item.serialize(null_check=True)
            refusal = "ALL_OLD"
            assert unit.put("p", item, condition, old_on_refusal=True).request == {
                "Put": plain(item.get_save_kwargs_from_instance(condition, return_values_on_condition_failure=refusal))
            }
            assert unit.put("p", item).request == {"Put": plain(item.get_save_kwargs_from_instance())}
        assert unit.update("u", item, actions, condition).request == {
            "Update": plain(item.get_update_kwargs_from_instance(actions=actions, condition=condition))
        }
        assert unit.delete("d", item, condition).request == {
            "Delete": plain(item.get_delete_kwargs_from_instance(condition=condition))
        }


def test_an_item_without_a_required_attribute_is_refused_before_it_is_sent(stack):
    user = UserItem(*UserItem.key("u5"), id="u5", created_at=datetime.now(UTC), updated_at=datetime.now(UTC))

    with pytest.raises(AttributeNullError):
        unit.put("user", user)

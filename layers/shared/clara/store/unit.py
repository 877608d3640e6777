"""One unit of work: several writes that happen all together or not at all (one TransactWriteItems call).

Writes are built from items (PynamoDB serializes their conditions and updates) and keep the order they are given
in, each with a name, so that a refusal says which condition failed: `Refused.reasons["balance"]`, not an index
into a list.
Contention and throttling are not refusals: those errors go up unchanged, and the API answers them with 503.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action, Update

from clara.settings import get_settings
from clara.store.table import TableItem, client

CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True)
class Write:
    """One write of a unit, as TransactWriteItems takes it ({"Put": {...}}), named for its refusal."""

    name: str
    request: Mapping[str, Any]


class Refused(Exception):
    """A condition of the unit did not hold: nothing was written. `reasons` maps each write's name to its code
    ("ConditionalCheckFailed", or "None" for a write whose condition held); `old` the item as it was, raw, of each
    refused write that asked for it (`put(..., old_on_refusal=True)`)."""

    def __init__(self, reasons: Mapping[str, str], old: Mapping[str, dict[str, Any]] | None = None) -> None:
        super().__init__(", ".join(f"{name}: {code}" for name, code in reasons.items()))
        self.reasons = dict(reasons)
        self.old = dict(old or {})

    def failed(self, name: str) -> bool:
        return self.reasons.get(name) == CONDITION_FAILED


def put(name: str, item: TableItem, condition: Condition | None = None, *, old_on_refusal: bool = False) -> Write:
    """`old_on_refusal`: when the condition fails, DynamoDB sends the item as it is with the refusal (Refused.old),
    which saves reading it back."""
    request = {"TableName": get_settings().table_name, "Item": item.raw(), **_expressions(condition)}
    if old_on_refusal:
        request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return Write(name, {"Put": request})


def update(name: str, item: TableItem, actions: Sequence[Action], condition: Condition | None = None) -> Write:
    request = {"TableName": get_settings().table_name, "Key": item.raw_key(), **_expressions(condition, actions)}
    return Write(name, {"Update": request})


def delete(name: str, item: TableItem, condition: Condition | None = None) -> Write:
    request = {"TableName": get_settings().table_name, "Key": item.raw_key(), **_expressions(condition)}
    return Write(name, {"Delete": request})


def _expressions(condition: Condition | None, actions: Sequence[Action] = ()) -> dict[str, Any]:
    """The expressions of a write as PynamoDB's get_operation_kwargs writes them (the condition first, so the
    placeholders are numbered alike); the request around them is built here, without a model's descriptors."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    found: dict[str, Any] = {}
    if condition is not None:
        found["ConditionExpression"] = condition.serialize(names, values)
    if actions:
        found["UpdateExpression"] = Update(*actions).serialize(names, values)
    if names:
        found["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    if values:
        found["ExpressionAttributeValues"] = values
    return found


def commit(*writes: Write, token: str | None = None) -> None:
    """Write all or nothing. Raises Refused when a condition fails.

    Every unit goes with a ClientRequestToken: `token` when the caller has one (the same writes sent again with
    it within ten minutes, even by another request, succeed without being applied; other writes with it are
    refused with IdempotentParameterMismatchException), else a fresh one per unit. botocore's retries of the call
    send the same token, so an attempt DynamoDB applied but whose answer was lost is not applied again and does
    not fail its own conditions: the retry answers success."""
    arguments: dict[str, Any] = {
        "TransactItems": [dict(write.request) for write in writes],
        "ClientRequestToken": token or str(uuid.uuid4()),
    }
    dynamodb = client()
    try:
        dynamodb.transact_write_items(**arguments)
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        codes = [reason.get("Code", "None") for reason in reasons]
        if CONDITION_FAILED not in codes:
            raise  # contention or throttling: not an answer, a reason to try again later
        old = {write.name: reason["Item"] for write, reason in zip(writes, reasons, strict=False) if reason.get("Item")}
        raise Refused({write.name: code for write, code in zip(writes, codes, strict=False)}, old) from error

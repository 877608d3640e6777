"""The one DynamoDB client of a function and the single-table conventions every repository shares.

Items are plain attribute maps; repositories turn them into domain models. Keys:
    pk = "USER#<user id>"    sk = "USER" (the user) | "SESSION#<id>" | "OTP#<type>" | "AUDIT#<time>#<id>"
                             | "LOGIN#ADDRESS#<ip>" | "LOGIN#HOUR#<hour>" (login counters, expired by TTL) ...
    pk = "EMAIL#<email>"     sk = "EMAIL"  (reserves an email address: uniqueness by condition)
    pk = "RATE#<key>"        sk = "<second>" (rate-limit counters, expired by TTL)
gsi1 (gsi1pk, gsi1sk) finds a user's items by email; gsi2 (gsi2pk, gsi2sk) lists users, newest first.
"""

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from functools import cache
from itertools import islice
from typing import Any

from clara.aws import aws_client
from clara.formats import decimal_text
from clara.settings import get_settings

Item = dict[str, Any]


@cache
def client() -> Any:
    """The DynamoDB client; tests register their round-trip counters on it."""
    return aws_client("dynamodb")


def table() -> str:
    return get_settings().table_name


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def email_pk(email: str) -> str:
    return f"EMAIL#{email}"


def _to_attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, Decimal):  # fixed-point: DynamoDB (and moto's ADD) read "1000", not "1E+3"
        return {"N": decimal_text(value)}
    if isinstance(value, int | float):
        return {"N": str(Decimal(str(value)))}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Mapping):
        return {"M": {key: _to_attribute(inner) for key, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [_to_attribute(inner) for inner in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def _from_attribute(attribute: Mapping[str, Any]) -> Any:
    (kind, value), *_ = attribute.items()
    if kind == "NULL":
        return None
    if kind == "N":
        number = Decimal(value)
        # A fraction stays an exact Decimal (money); float fields of the models convert it themselves.
        return int(number) if number == number.to_integral_value() and "." not in value else number
    if kind == "M":
        return {key: _from_attribute(inner) for key, inner in value.items()}
    if kind == "L":
        return [_from_attribute(inner) for inner in value]
    return value  # S, BOOL


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _to_attribute(value) for name, value in item.items()}


def deserialize(item: Mapping[str, Any]) -> Item:
    return {name: _from_attribute(value) for name, value in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(pk: str, sk: str, *, consistent: bool = True) -> Item | None:
    found = client().get_item(TableName=table(), Key=key(pk, sk), ConsistentRead=consistent).get("Item")
    return deserialize(found) if found else None


def batch_get(keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Item]:
    """Several items in one round trip (strongly consistent), by (pk, sk)."""
    request = {table(): {"Keys": [key(pk, sk) for pk, sk in keys], "ConsistentRead": True}}
    found: dict[tuple[str, str], Item] = {}
    while request:
        response = client().batch_get_item(RequestItems=request)
        for raw in response["Responses"].get(table(), []):
            item = deserialize(raw)
            found[(item["pk"], item["sk"])] = item
        request = response.get("UnprocessedKeys") or {}
    return found


def query(**arguments: Any) -> Iterator[Item]:
    """Every item of a query, following pages."""
    arguments = {"TableName": table(), **arguments}
    while True:
        response = client().query(**arguments)
        yield from (deserialize(raw) for raw in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def newest_first(listing: str, limit: int, offset: int) -> list[Item]:
    """One page of a gsi2 listing ("USERS", "TRANSACTIONS#<user id>", ...), newest first, `offset` exact.

    DynamoDB cannot skip, so the query reads offset + limit items (in pages of at most 1000).
    """
    items = query(
        IndexName="gsi2",
        KeyConditionExpression="gsi2pk = :listing",
        ExpressionAttributeValues=values(listing=listing),
        ScanIndexForward=False,
        Limit=min(offset + limit, 1000),
    )
    return list(islice(items, offset, offset + limit))


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(now=3) -> {":now": {"N": "3"}}."""
    return {f":{name}": _to_attribute(value) for name, value in named.items()}


def put(item: Mapping[str, Any], condition: str | None = None, **condition_values: Any) -> dict[str, Any]:
    """A Put for transact_write (or, unpacked, for put_item)."""
    request: dict[str, Any] = {"TableName": table(), "Item": serialize(item)}
    if condition:
        request["ConditionExpression"] = condition
    if condition_values:
        request["ExpressionAttributeValues"] = values(**condition_values)
    return request


def transact(*operations: Any, token: str | None = None) -> None:
    """All-or-nothing writes in one round trip. Each operation is {"Put": ...}, {"Update": ...}, ...

    `token` (ClientRequestToken) makes a retried call idempotent for ten minutes.
    """
    # A write of clara.store.unit joins as the request it carries.
    arguments: dict[str, Any] = {"TransactItems": [getattr(op, "request", op) for op in operations]}
    if token:
        arguments["ClientRequestToken"] = token
    client().transact_write_items(**arguments)


def cancellation_reasons(error: Exception) -> list[str]:
    """The per-operation codes of a cancelled transaction ("ConditionalCheckFailed", "None", ...)."""
    response = getattr(error, "response", {}) or {}
    return [reason.get("Code", "None") for reason in response.get("CancellationReasons", [])]


def error_code(error: Exception) -> str:
    response = getattr(error, "response", {}) or {}
    return str(response.get("Error", {}).get("Code", ""))

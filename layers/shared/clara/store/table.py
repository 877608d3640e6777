"""The single table on PynamoDB: the base of every item (pk, sk, the `kind` discriminator, the two indexes) and
the attribute types the items share. docs/architecture.md lists every item type with its keys.

Every item class talks to DynamoDB through one botocore client per function, the one `clara.aws` makes with the
stack's bounds (timeouts, attempts), so PynamoDB adds no second client (and no second cold start of one), and
tests count round trips on that one client. The table's name is read from the settings on first use, not at
import.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from functools import cache, partial
from itertools import islice
from typing import Any

from pynamodb.attributes import (
    Attribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.constants import (
    BATCH_GET_PAGE_LIMIT,
    BOOLEAN,
    ITEM,
    KEYS,
    LIST,
    MAP,
    NULL,
    NUMBER,
    RESPONSES,
    STRING,
    UNPROCESSED_KEYS,
)
from pynamodb.exceptions import AttributeDeserializationError, AttributeNullError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.pagination import ResultIterator

from clara.aws import aws_client
from clara.formats import decimal_text
from clara.settings import get_settings


def client() -> Any:
    """The function's DynamoDB client (botocore's); tests register their round-trip counters on it."""
    return aws_client("dynamodb")


class DecimalAttribute(Attribute[Decimal]):
    """An exact number (money): stored in fixed-point ("1000", not "1E+3", which moto's ADD misreads), read back
    as a Decimal. PynamoDB's NumberAttribute goes through a float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal | int | float) -> str:  # an int or a float through its shortest text
        return decimal_text(value if isinstance(value, Decimal) else Decimal(str(value)))

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class IsoDateTimeAttribute(Attribute[datetime]):
    """A moment as ISO 8601 text with its offset ("2026-11-27T06:15:22.123456+00:00"), the form every item has
    always stored, which also sorts in time order (the listings' sort keys start with it)."""

    attr_type = "S"

    def serialize(self, value: datetime) -> str:
        return value.isoformat()

    def deserialize(self, value: str) -> datetime:
        return datetime.fromisoformat(value)


class DocumentAttribute(Attribute[dict[str, Any]]):
    """A free-form map (a task's result, an audit item's details) of text, numbers, booleans, nulls, maps and lists,
    with numbers stored exactly: a balance in an audit item keeps its last digit, a float its shortest text.

    PynamoDB's raw MapAttribute takes numbers through a float (json), and boto3's TypeSerializer, exact, would
    bring boto3's import (about 19 ms) into the first request that stores or reads one, so the map is typed here,
    each number through DecimalAttribute."""

    attr_type = MAP

    def serialize(self, value: dict[str, Any]) -> dict[str, Any]:
        return {name: _typed(inner) for name, inner in value.items()}

    def deserialize(self, value: dict[str, Any]) -> dict[str, Any]:
        return {name: _untyped(inner) for name, inner in value.items()}


_NUMBER = DecimalAttribute()


def _typed(value: Any) -> dict[str, Any]:
    """`value` as a DynamoDB attribute value ({"S": "text"}, {"N": "0.25"}, {"M": {...}}, ...)."""
    if value is None:
        return {NULL: True}
    if isinstance(value, bool):  # before int: True is an int too
        return {BOOLEAN: value}
    if isinstance(value, str):
        return {STRING: value}
    if isinstance(value, int | float | Decimal):  # a float through its shortest text
        return {NUMBER: _NUMBER.serialize(value)}
    if isinstance(value, dict):
        return {MAP: {name: _typed(inner) for name, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {LIST: [_typed(inner) for inner in value]}
    raise TypeError(f"a document holds no {type(value).__name__}")


def _untyped(typed: dict[str, Any]) -> Any:
    """The value of a DynamoDB attribute value: a whole number as an int, a fraction as an exact Decimal (the
    models convert their floats). Tested by kind, commonest first: a page of tasks reads thousands of them."""
    if STRING in typed:
        return typed[STRING]
    if NUMBER in typed:
        return _exact_number(typed[NUMBER])
    if MAP in typed:
        return {name: _untyped(inner) for name, inner in typed[MAP].items()}
    if LIST in typed:
        return [_untyped(inner) for inner in typed[LIST]]
    if NULL in typed:
        return None
    if BOOLEAN in typed:
        return typed[BOOLEAN]
    raise TypeError(f"a document holds no {next(iter(typed), 'empty')} attribute")


def _exact_number(text: str) -> int | Decimal:
    if "e" not in text and "E" not in text:  # fixed point: "1000" is whole, "0.85" and "1.0" are fractions
        return int(text) if "." not in text else _NUMBER.deserialize(text)
    number = _NUMBER.deserialize(text)
    exponent = number.as_tuple().exponent  # "1E+3" is whole; "1.0" was written as a fraction and stays one
    return int(number) if isinstance(exponent, int) and exponent >= 0 else number


def _json_number(text: str) -> int | float:
    """NumberAttribute.deserialize (json.loads of the text) without the JSON parser: an int, else a float. Told
    apart by their text, not by int() failing: a raised ValueError costs more than the rest of the read."""
    return float(text) if "." in text or "e" in text or "E" in text else int(text)


def _documents(values: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """ListAttribute(of=DocumentAttribute).deserialize, without the element attribute it builds on every call."""
    return [None if NULL in value else _untyped(value) for value in values]


class _NameFromSettings(type):
    """The Meta of the table: its name is the settings' TABLE_NAME when first asked (PynamoDB asks each time it
    hands out a connection, and makes a new one when the name changed, as between tests)."""

    @property
    def table_name(cls) -> str:
        return get_settings().table_name


class ByEmail(GlobalSecondaryIndex["TableItem"]):
    """gsi1: a user's items by email (the user, its live codes and login counters, read by one login query);
    also the open tasks by shard, oldest first (the sweeper's listing)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class NewestFirst(GlobalSecondaryIndex["TableItem"]):
    """gsi2: the listings (all users, a user's transactions, a user's tasks), by creation time."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class TableItem(Model):
    """Every item of the table. `kind` names the item class, so a read of several kinds at once (BatchGetItem,
    a Query) gives each item as its own class."""

    class Meta(metaclass=_NameFromSettings):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)

    by_email = ByEmail()
    newest_first = NewestFirst()

    def stored_values(self) -> dict[str, Any]:
        """The attributes the item has (those it lacks are left out, not None)."""
        return {name: value for name, value in self.attribute_values.items() if value is not None}

    @classmethod
    def values_from_raw(cls, raw: dict[str, Any]) -> dict[str, Any]:
        """What from_raw_data(raw).stored_values() gives, without building the model: PynamoDB sets each attribute
        of a new model through its descriptor: about 30% of a 20-task page's own work (cProfile)."""
        values = {}
        for name, stored_name, attr_type, read, default in _readers(cls):
            typed = raw.get(stored_name)
            if typed and NULL not in typed:
                if attr_type not in typed:
                    raise AttributeDeserializationError(stored_name, attr_type)
                values[name] = read(typed[attr_type]) if read else typed[attr_type]
            elif default is not None:  # as from_raw_data sets the defaults of attributes not stored
                values[name] = default() if callable(default) else default
        return values

    # A new item's construction, as PynamoDB's, without a descriptor call per attribute where the descriptor only
    # stores the value (it was a third of building a write): the value goes where the descriptor would put it.
    def _set_defaults(self, _user_instantiated: bool = True) -> None:
        if not _user_instantiated:
            return super()._set_defaults(_user_instantiated)
        stored_as_is = _stored_as_is(type(self))
        for name, default in _defaults_for_new(type(self)):
            value = default() if callable(default) else default
            if value is None:
                continue
            if name in stored_as_is:
                self.attribute_values[name] = value
            else:
                setattr(self, name, value)

    def _set_attributes(self, **attributes: Any) -> None:
        stored_as_is = _stored_as_is(type(self))
        for name, value in attributes.items():
            if name in stored_as_is:
                self.attribute_values[name] = value
            elif name in self.get_attributes():
                setattr(self, name, value)
            else:
                raise ValueError(f"Attribute {name} specified does not exist")

    def raw(self) -> dict[str, dict[str, Any]]:
        """The item as DynamoDB stores it: what serialize(null_check=True) gives, through each class's cached
        writers. PynamoDB's serialize reads each attribute through its descriptor: about half of building a write."""
        values, found = self.attribute_values, {}
        for name, stored_name, attr_type, write, nullable in _writers(type(self)):
            value = values.get(name)
            if value is None:
                if not nullable:
                    raise AttributeNullError(name)
                continue
            if isinstance(value, MapAttribute) and not value.validate(null_check=True):
                raise ValueError(f"Attribute '{name}' is not correctly typed")
            found[stored_name] = {attr_type: write(value) if write else value}
        return found

    def raw_key(self) -> dict[str, dict[str, str]]:
        """The item's key as a request names it ({"pk": {"S": ...}, "sk": {"S": ...}})."""
        return raw_key(self.pk, self.sk)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        connection = super()._get_connection()
        # The function's one client (see the module's docstring); set on each use, since tests replace it.
        connection.connection._client = client()
        return connection


Reader = tuple[str, str, str, Callable[[Any], Any] | None, Any]


@cache
def _readers(item_class: type[TableItem]) -> tuple[Reader, ...]:
    """Per attribute of the class: its name, stored name, DynamoDB type, how its value is read (None: as stored)
    and its default. Text is read as stored and a number without the JSON parser: each value of a page goes
    through here."""
    readers = []
    for name, attribute in item_class.get_attributes().items():
        read: Callable[[Any], Any] | None = attribute.deserialize
        if type(attribute) is UnicodeAttribute:
            read = None
        elif type(attribute) is NumberAttribute:
            read = _json_number
        elif type(attribute) is ListAttribute and attribute.element_type is DocumentAttribute:
            read = _documents
        readers.append((name, attribute.attr_name, attribute.attr_type, read, attribute.default))
    return tuple(readers)


@cache
def _stored_as_is(item_class: type[TableItem]) -> frozenset[str]:
    """The attributes whose descriptor stores a value as it is given (no check, no conversion)."""
    return frozenset(
        name for name, attribute in item_class.get_attributes().items() if type(attribute).__set__ is Attribute.__set__
    )


@cache
def _defaults_for_new(item_class: type[TableItem]) -> tuple[tuple[str, Any], ...]:
    """The default of each attribute that has one, for a new item (default_for_new first, as PynamoDB takes it)."""
    found = []
    for name, attribute in item_class.get_attributes().items():
        default = attribute.default_for_new if attribute.default_for_new is not None else attribute.default
        if default is not None:
            found.append((name, default))
    return tuple(found)


def raw_key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"pk": {STRING: pk}, "sk": {STRING: sk}}


Writer = tuple[str, str, str, Callable[[Any], Any] | None, bool]


@cache
def _writers(item_class: type[TableItem]) -> tuple[Writer, ...]:
    """Per attribute of the class: its name, stored name, DynamoDB type, how its value is written (None: as it is)
    and whether it may be missing; as PynamoDB's serialize writes them (a list or a map checks its members)."""
    writers = []
    for name, attribute in item_class.get_attributes().items():
        write: Callable[[Any], Any] | None = attribute.serialize
        if type(attribute) is UnicodeAttribute:
            write = None
        elif isinstance(attribute, ListAttribute | MapAttribute):
            write = partial(attribute.serialize, null_check=True)
        writers.append((name, attribute.attr_name, attribute.attr_type, write, attribute.null))
    return tuple(writers)


def newest_first(item_class: type[TableItem], listing: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of a gsi2 listing of `item_class`, newest first, `offset` exact, each item's values_from_raw.
    DynamoDB cannot skip, so the query reads offset + limit items (in pages of at most 1000). The Query is the one
    item_class.newest_first.query sends (the class's kinds as its filter); only no model is built per item."""
    wanted = offset + limit
    arguments = {
        "index_name": item_class.newest_first.Meta.index_name,
        "scan_index_forward": False,
        "limit": min(wanted, 1000),
        "filter_condition": TableItem.kind.is_in(*TableItem.kind.get_registered_subclasses(item_class)),
    }
    items: ResultIterator[dict[str, Any]] = ResultIterator(
        TableItem._get_connection().query, (listing,), arguments, item_class.values_from_raw, wanted
    )
    return list(islice(items, offset, wanted))


def get_values(
    item_class: type[TableItem], key: tuple[str, str], *, consistent_read: bool = False
) -> dict[str, Any] | None:
    """What item_class.get(*key).stored_values() gives (one GetItem), without building the model; None when
    there is no such item."""
    answer = TableItem._get_connection().get_item(key[0], range_key=key[1], consistent_read=consistent_read)
    raw = answer.get(ITEM)
    if not raw:
        return None
    stored = raw.get("kind", {}).get(STRING)
    if stored is not None and not issubclass(TableItem.kind.deserialize(stored), item_class):
        raise ValueError(f"the item at {key} is a {stored}, not a {item_class.__name__}")
    return item_class.values_from_raw(raw)


def batch_get_raw(keys: Iterable[tuple[str, str]], *, consistent_read: bool = False) -> list[dict[str, Any]]:
    """The raw items at `keys` (pk, sk; at most 100) in one BatchGetItem, or more when DynamoDB leaves keys
    unprocessed: the round trips of TableItem.batch_get, whose models the callers do not need."""
    wanted: list[dict[str, Any]] = [{"pk": pk, "sk": sk} for pk, sk in set(keys)]
    if len(wanted) > BATCH_GET_PAGE_LIMIT:
        raise ValueError(f"one BatchGetItem reads at most {BATCH_GET_PAGE_LIMIT} keys")
    connection, table, found = TableItem._get_connection(), get_settings().table_name, []
    while wanted:
        # Key maps, as Model.batch_get passes them (PynamoDB hints a sequence of str).
        answer = connection.batch_get_item(wanted, consistent_read=consistent_read)  # type: ignore[arg-type]
        found += answer[RESPONSES].get(table, [])
        wanted = answer[UNPROCESSED_KEYS].get(table, {}).get(KEYS, [])
    return found


def query_every_kind(
    hash_key: str,
    map_fn: Callable[[dict[str, Any]], Any],
    *,
    range_key_condition: Condition | None = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    attributes_to_get: Iterable[str] | None = None,
) -> Iterator[Any]:
    """Every item of a Query, following pages, each given to `map_fn` raw. A Query of a class filters on its
    kinds (PynamoDB adds `kind IN (...)`); this one does not, so items with no kind (counters) come too."""
    connection = TableItem._get_connection()
    arguments = {
        "range_key_condition": range_key_condition,
        "index_name": index_name,
        "consistent_read": consistent_read,
        "attributes_to_get": list(attributes_to_get) if attributes_to_get is not None else None,
    }
    return ResultIterator(connection.query, (hash_key,), arguments, map_fn=map_fn)

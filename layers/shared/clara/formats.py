"""The wire formats of the contract: `<prefix>_<uuid4 hex>` ids, RFC 1123 dates, and exact money in JSON."""

import json
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from itertools import chain
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer, TypeAdapter, WithJsonSchema


def new_id(prefix: str) -> str:
    """An id such as `user_ac19b010fec5428a8ae131596731b7c8`."""
    return f"{prefix}_{uuid.uuid4().hex}"


def utc_now() -> datetime:
    return datetime.now(UTC)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(moment: datetime) -> str:
    """RFC 1123 date in GMT, as the contract shows: `Wed, 26 Nov 2025 23:51:28 GMT`. Written out rather than
    through email.utils.format_datetime (which builds a time tuple first): every listed item carries two."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    gmt = moment.astimezone(UTC)
    # %-formatting: a quarter faster than the f-string with six format specs (every listed item carries two).
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (  # noqa: UP031
        _DAYS[gmt.weekday()],
        gmt.day,
        _MONTHS[gmt.month - 1],
        gmt.year,
        gmt.hour,
        gmt.minute,
        gmt.second,
    )


# A datetime field that serialises the way every Clara response shows dates, in a python-mode dump too: the
# envelope's dump (text_ready) then holds the text, and json_text calls back for Decimals alone.
HttpDate = Annotated[datetime, PlainSerializer(http_date, return_type=str)]


class LazyModel(BaseModel):
    """A model whose validator is built on first use, not at import: a cold start pays only for the models its
    request touches (pydantic's defer_build)."""

    model_config = ConfigDict(defer_build=True)


# ------------------------------------------------------------------------------------------- money

# Credits and dollars are exact decimals with at most 6 decimal places; a request moves at most 10^12 at once.
# A balance is a sum of such amounts: exact in DynamoDB (38 significant digits) and in Python's default decimal
# context (28 digits) below 10^21, far beyond any real balance.
MONEY_PLACES = 6
MONEY_MAX = Decimal(10) ** 12
MONEY_DESCRIPTION = (
    f"An exact decimal number with at most {MONEY_PLACES} decimal places, answered digit for digit as stored "
    "(1000000000000.000001 stays 1000000000000.000001)"
)


def money(value: Decimal | float | int) -> Decimal:
    """The canonical Decimal of an amount: no trailing zeros, no exponent (1E+3 is 1000), no negative zero.
    A float (a setting) goes through its shortest text, so 0.1 is 0.1 and not the binary 0.1000000000000000055."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError("not a finite number")
    if not number:
        return Decimal(0)
    number = number.normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def decimal_text(value: Decimal) -> str:
    """The decimal as a JSON number, in fixed-point notation (DynamoDB and JSON readers both take it)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    return format(value, "f")


# A stored or answered amount: exact, documented as a JSON number (pydantic would document a string).
Money = Annotated[Decimal, AfterValidator(money), WithJsonSchema({"type": "number", "description": MONEY_DESCRIPTION})]


def json_ready(model: BaseModel, **options: Any) -> Any:
    """model_dump(mode="json"), except that Decimals stay Decimal: pydantic's JSON mode writes them as strings,
    and a float would round them. json_text and DynamoDB write them as exact numbers."""
    json_value = model.model_dump(mode="json", **options)
    if not _may_hold_decimals(type(model)):  # a task's view, its result included: one dump, no walk of it
        return json_value
    return _with_decimals(json_value, model.model_dump(**options))


@cache
def _may_hold_decimals(model: type[BaseModel]) -> bool:
    """Whether a field of the model, at any depth, is a Decimal or of any type (which may be one)."""
    model.model_rebuild()  # a deferred build (LazyModel) makes its schema on first use
    return _has_decimal_or_any(model.__pydantic_core_schema__)


def _has_decimal_or_any(schema: Any) -> bool:
    if isinstance(schema, dict):
        if schema.get("type") in ("decimal", "any"):
            return True
        return any(_has_decimal_or_any(value) for key, value in schema.items() if key != "metadata")
    if isinstance(schema, list):
        return any(_has_decimal_or_any(value) for value in schema)
    return False


def _with_decimals(json_value: Any, python_value: Any) -> Any:
    if isinstance(python_value, Decimal) and isinstance(json_value, str):
        return python_value
    if isinstance(json_value, dict) and isinstance(python_value, dict):
        return {name: _with_decimals(value, python_value.get(name)) for name, value in json_value.items()}
    if isinstance(json_value, list) and isinstance(python_value, list | tuple) and len(json_value) == len(python_value):
        return [_with_decimals(value, python_value[index]) for index, value in enumerate(json_value)]
    return json_value


def text_ready(model: BaseModel) -> Any:
    """json_ready(model) for json_text alone, in one dump where the model allows: a python-mode dump keeps
    Decimals (no second dump to find them) and writes HttpDate datetimes as HTTP dates.
    A model with anything else a python-mode dump keeps as an object (a plain datetime, an enum) goes through
    json_ready. The API's envelopes are written this way: a listed item is dumped once, not twice."""
    if _dumps_plain(type(model)):
        return model.model_dump()
    return json_ready(model)


def texts_ready(models: Sequence[BaseModel]) -> list[Any]:
    """[text_ready(model) for model in models], in one dump for a list of one model class (a page): one call into
    pydantic's serializer rather than one per item."""
    kinds = {type(model) for model in models}
    if len(kinds) != 1:
        return [text_ready(model) for model in models]
    [kind] = kinds
    if not _dumps_plain(kind):
        return [json_ready(model) for model in models]
    return _list_of(kind).dump_python(list(models))


@cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


_PLAIN_KINDS = frozenset(
    {"str", "int", "float", "bool", "none", "literal", "decimal", "any", "list", "dict", "model", "model-fields"}
    | {"model-field", "nullable", "default", "union", "tagged-union", "definitions", "definition-ref"}
)


@cache
def _dumps_plain(model: type[BaseModel]) -> bool:
    """Whether the model's python-mode dump holds only JSON's types, Decimals and HttpDate's text (an `Any`
    holds what it was given: the documents the table stores, JSON's types and Decimals)."""
    model.model_rebuild()  # a deferred build (LazyModel) makes its schema on first use
    return _plain_schema(model.__pydantic_core_schema__)


def _plain_schema(schema: Any) -> bool:
    if isinstance(schema, list):
        return all(_plain_schema(inner) for inner in schema)
    if not isinstance(schema, dict):
        return True
    kind, serialization = schema.get("type"), schema.get("serialization")
    if not isinstance(kind, str):  # a mapping of fields, one of which may be named "type"
        return all(_plain_schema(inner) for inner in schema.values())
    if kind == "datetime":
        return isinstance(serialization, dict) and serialization.get("function") is http_date
    if kind in ("function-after", "function-before") and serialization is None:  # a validator: dumped as its type
        return _plain_schema(schema["schema"])
    if kind not in _PLAIN_KINDS or serialization is not None:
        return False
    return all(_plain_schema(inner) for key, inner in schema.items() if key not in ("metadata", "config"))


class JsonFragment:
    """JSON text that json_text writes as it is, in its place: a value written once (a task's result, as the
    worker stored it) is not read, validated and written again on every page that shows it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def json_text(value: Any) -> str:
    """json.dumps, with a Decimal written as the exact JSON number it is (the standard encoder refuses it), and a
    JsonFragment as its text.

    One json.dumps call (C) rather than a Python walk of the value: each Decimal or fragment is first written as a
    string of a random nonce, which no text of the value can be by chance, then replaced by its text. json.dumps
    meets them in the order it writes them, so the n-th stand-in is the n-th text: one split, no search per value."""
    texts: list[str] = []
    nonce = os.urandom(16).hex()

    def stand_in(value: Any) -> str:
        if isinstance(value, Decimal):
            texts.append(decimal_text(value))
        elif isinstance(value, JsonFragment):
            texts.append(value.text)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
        return nonce

    text = json.dumps(value, default=stand_in)
    if not texts:
        return text
    pieces = text.split(f'"{nonce}"')
    return pieces[0] + "".join(chain.from_iterable(zip(texts, pieces[1:], strict=True)))

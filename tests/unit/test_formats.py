import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from email.utils import format_datetime
from typing import Any, Literal

from pydantic import BaseModel

from clara.formats import HttpDate, Money, http_date, json_ready, json_text, new_id, text_ready, texts_ready


def test_ids_are_prefixed_uuid4_hex_and_unique():
    ids = {new_id("user") for _ in range(1000)}

    assert len(ids) == 1000
    assert all(re.fullmatch(r"user_[0-9a-f]{32}", value) for value in ids)


def test_dates_are_rfc_1123_in_gmt():
    moment = datetime(2025, 11, 26, 23, 51, 28, 999_999, tzinfo=UTC)

    assert http_date(moment) == "Wed, 26 Nov 2025 23:51:28 GMT"


def test_dates_in_other_zones_are_converted_to_gmt():
    moment = datetime(2025, 11, 27, 1, 51, 28, tzinfo=timezone(timedelta(hours=2)))

    assert http_date(moment) == "Wed, 26 Nov 2025 23:51:28 GMT"


def test_dates_are_what_the_standard_library_writes_every_day_of_four_years():
    """http_date writes the date out itself (speed); the standard's formatter is the reference."""
    start = datetime(2024, 1, 1, 0, 0, 7, tzinfo=UTC)
    moments = [start + timedelta(days=day, hours=day % 24, minutes=day % 60) for day in range(4 * 366)]

    assert [http_date(moment) for moment in moments] == [format_datetime(moment, usegmt=True) for moment in moments]
    assert http_date(datetime(999, 3, 4, 5, 6, 7)) == "Mon, 04 Mar 0999 05:06:07 GMT"  # naive is GMT; year padded


def test_models_serialise_dates_the_contract_way():
    class Stamped(BaseModel):
        created_at: HttpDate

    dumped = Stamped(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)).model_dump(mode="json")

    assert dumped == {"created_at": "Fri, 02 Jan 2026 03:04:05 GMT"}


def test_json_text_writes_decimals_as_exact_numbers_and_leaves_look_alike_text_alone():
    look_alike = '"' + "0" * 32 + '1"'  # the shape of json_text's stand-in for a Decimal, as a client's text
    value = {"credits": Decimal("1000000000000.000001"), "amounts": [Decimal("1E+3"), 2, 0.5], "text": look_alike[1:-1]}

    text = json_text(value)

    assert text == (
        '{"credits": 1000000000000.000001, "amounts": [1000, 2, 0.5], "text": ' + json.dumps(look_alike[1:-1]) + "}"
    )
    assert json.loads(text, parse_float=Decimal)["credits"] == Decimal("1000000000000.000001")


def test_a_view_is_written_alike_in_one_dump_and_in_json_ready_s_two():
    """The envelope writes views through text_ready (one python-mode dump); the text must be json_ready's."""

    class Source(BaseModel):
        url: str
        weight: float | None = None

    class View(BaseModel):
        id: str
        kind: Literal["CREDIT", "DEBIT"]
        credits: Money
        created_at: HttpDate
        sources: list[Source]
        details: dict[str, Any]
        note: str | None = None

    view = View(
        id="t_1",
        kind="CREDIT",
        credits=Decimal("1000000000000.000001"),
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        sources=[Source(url="https://a.example", weight=0.25), Source(url="https://b.example")],
        details={"balance": Decimal("0.1"), "nested": [{"n": 1000, "ok": True, "none": None}]},
    )

    assert json_text(text_ready(view)) == json_text(json_ready(view))
    assert '"created_at": "Fri, 02 Jan 2026 03:04:05 GMT"' in json_text(text_ready(view))


def test_a_model_with_a_plain_datetime_is_written_as_json_mode_writes_it():
    class Logged(BaseModel):
        at: datetime

    logged = Logged(at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    assert json_text(text_ready(logged)) == '{"at": "2026-01-02T03:04:05Z"}'


def test_a_page_of_models_is_written_as_each_alone_in_one_dump_or_several():
    class Entry(BaseModel):
        credits: Money
        created_at: HttpDate

    class Logged(BaseModel):
        at: datetime

    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    entries = [Entry(credits=Decimal(f"{n}.000001"), created_at=moment + timedelta(days=n)) for n in range(3)]
    logged = [Logged(at=moment), Logged(at=moment)]
    for page in (entries, logged, [*entries, *logged], []):
        assert json_text(texts_ready(page)) == json_text([json_ready(model) for model in page])
    assert json_text(texts_ready(entries)).startswith('[{"credits": 0.000001, "created_at": "Fri, 02 Jan 2026')

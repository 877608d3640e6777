import re
from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel

from clara.formats import HttpDate, http_date, new_id


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


def test_models_serialise_dates_the_contract_way():
    class Stamped(BaseModel):
        created_at: HttpDate

    dumped = Stamped(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)).model_dump(mode="json")

    assert dumped == {"created_at": "Fri, 02 Jan 2026 03:04:05 GMT"}

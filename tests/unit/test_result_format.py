"""A task's result stored as the view's JSON text (RESULT_FORMAT) is shown by that text: the page answers exactly
what reading, validating and dumping the result would, and a result stored otherwise is read that way."""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from clara.domain.analysis.results import RESULT_FORMAT, AnalysisResult, result_json
from clara.domain.analysis.tasks import task_view, task_views_ready
from clara.formats import JsonFragment, json_text, text_ready
from clara.records.analysis import StoredAttachment, Task

# The digest of AnalysisResult's JSON as the view writes it, for RESULT_FORMAT 1.
FORMAT_1_SCHEMA = "deead31b75596947077060c29a73dd653695075ae0f239c0ead309e1b7ec43ff"

SOURCE = {"title": "Tour Eiffel", "url": 'https://example.org/tour?q="a"&b=1'}
RESULTS: list[dict[str, Any]] = [
    {  # the first release's shape: no links, no searches, sources without domain, quote or stance
        "verdict": "FALSE",
        "confidence": 0.1,
        "summary": "Too tall.",
        "claims": [{"text": "500 m", "verdict": "FALSE", "confidence": 1, "explanation": "330 m", "sources": [SOURCE]}],
        "attachments": [],
        "analyzer": {"name": "local", "model": None},
    },
    {  # every anchor kind, every optional field, text that JSON escapes, floats with long and short texts
        "verdict": "MIXED",
        "confidence": 0.30000000000000004,
        "summary": 'Quotes " and \\ and a newline\nand ünïcödé, emoji 🗼, a tab\t.',
        "claims": [
            {
                "text": "claim",
                "verdict": "MOSTLY_TRUE",
                "confidence": 1e-05,
                "explanation": "e",
                "sources": [{**SOURCE, "domain": "example.org", "quote": "« 330 m »", "stance": "supports"}],
                "anchor": {"in": "text", "start": 0, "end": 5},
            },
            {"text": "p", "verdict": "TRUE", "confidence": 1.0, "explanation": "", "anchor": {"index": 0, "page": 3}},
            {
                "text": "t",
                "verdict": "UNVERIFIABLE",
                "confidence": 0,
                "explanation": "",
                "anchor": {"in": "attachment", "index": 1, "start_seconds": 1.5, "end_seconds": 12},
            },
            {"text": "l", "verdict": "FALSE", "confidence": 0.5, "explanation": "", "anchor": {"url": "https://a.b/"}},
        ],
        "attachments": [{"name": "a.pdf", "media_type": "application/pdf", "size_bytes": 10**9, "notes": "read"}],
        "analyzer": {"name": "bedrock", "model": "us.amazon.nova-2-lite-v1:0"},
        "links": [
            {"url": "https://a.b/", "status": "read", "title": "A", "notes": ""},
            {"url": "http://10.0.0.1/", "status": "refused", "notes": "not public"},
        ],
        "searches": 3,
    },
]
MOMENT = datetime(2026, 12, 7, 10, 15, 50, 123456, tzinfo=UTC)


def task(**result: Any) -> Task:
    attachment = StoredAttachment(name="a.pdf", media_type="application/pdf", size_bytes=10, key="k")
    return Task(
        id="task_1",
        user_id="user_1",
        status="COMPLETED",
        attachments=[attachment],
        created_at=MOMENT,
        updated_at=MOMENT,
        **result,
    )


def ready_one(stored: Task) -> Any:
    [ready] = task_views_ready([stored])
    return ready


def answered(data: Any) -> str:
    return json_text({"data": data, "message": "Task fetched successfully.", "status": "success"})


def test_the_format_is_pinned_to_the_json_the_view_writes() -> None:
    schema = json.dumps(AnalysisResult.model_json_schema(mode="serialization"), sort_keys=True)
    assert (RESULT_FORMAT, hashlib.sha256(schema.encode()).hexdigest()) == (1, FORMAT_1_SCHEMA), (
        "AnalysisResult's JSON changed: bump RESULT_FORMAT (results stored in the old format are then read and "
        "validated again, gaining the new fields) and pin the new schema's digest here"
    )


@pytest.mark.parametrize("stored", RESULTS)
def test_a_result_stored_as_text_is_answered_as_reading_it_would(stored: dict[str, Any]) -> None:
    result = AnalysisResult.model_validate(stored)
    as_text = task(result_json=result_json(result), result_format=RESULT_FORMAT)
    as_map = task(result=result.model_dump(mode="json"))  # how tasks stored it before RESULT_FORMAT 1

    ready = ready_one(as_text)

    assert isinstance(ready["result"], JsonFragment)  # shown from the stored text, not dumped again
    expected = answered(text_ready(task_view(as_map)))
    assert answered(ready) == answered(text_ready(task_view(as_text))) == expected
    assert json.loads(answered(ready))["data"]["result"]["searches"] == stored.get("searches", 0)


def test_a_result_stored_in_another_format_is_read_and_gains_the_fields_added_since() -> None:
    first_release = json.dumps(RESULTS[0])  # no links, no searches
    for stored_as in (task(result_json=first_release, result_format=0), task(result_json=first_release)):
        shown = json.loads(answered(ready_one(stored_as)))["data"]["result"]
        assert (shown["links"], shown["searches"]) == ([], 0)
        assert shown["claims"][0]["sources"][0] == {**SOURCE, "domain": None, "quote": None, "stance": None}


def test_a_page_of_tasks_stored_every_way_shows_each_as_alone() -> None:
    result = AnalysisResult.model_validate(RESULTS[1])
    page = [
        task(result_json=result_json(result), result_format=RESULT_FORMAT),
        task(result=result.model_dump(mode="json")),
        task(result_json=json.dumps(RESULTS[0]), result_format=0),
        task(),
    ]
    assert answered(task_views_ready(page)) == answered([text_ready(task_view(each)) for each in page])


def test_a_task_without_a_result_shows_null() -> None:
    assert json.loads(answered(ready_one(task())))["data"]["result"] is None


def test_json_text_writes_a_fragment_as_it_is_and_decimals_exactly_beside_it() -> None:
    looks_like_a_stand_in = "0" * 32 + "1"  # a text shaped as json_text's stand-ins, under another nonce
    value = {"a": JsonFragment('{"x": [1, 2.50]}'), "b": Decimal("1.10"), "c": [looks_like_a_stand_in]}
    assert json_text(value) == f'{{"a": {{"x": [1, 2.50]}}, "b": 1.10, "c": ["{looks_like_a_stand_in}"]}}'

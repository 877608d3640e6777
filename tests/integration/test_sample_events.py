"""Every sample event in events/ (the ones `sam local invoke` uses) runs its function without a server error.

events/<group>.json (or events/<group>.<case>.json) belongs to the function whose CodeUri is functions/<group>/.
"""

import base64
import json
from pathlib import Path

import pytest

from clara.settings import get_settings
from harness.inprocess import FUNCTIONS, ROOT, TEMPLATE, Stack
from local_runtime.environment import function_environment
from local_runtime.events import LambdaContext, api_gateway_event

# events/env.json is the --env-vars file of `sam local invoke`, not an event.
EVENTS = sorted(path for path in (ROOT / "events").glob("*.json") if path.name != "env.json")


def function_for(event_file: Path) -> str:
    group = event_file.name.split(".")[0]
    owners = [fid for fid, function in TEMPLATE.functions.items() if function.code_uri.name == group]
    assert len(owners) == 1, f"{event_file.name}: no single function has CodeUri functions/{group}/"
    return owners[0]


def test_every_function_has_a_sample_event():
    groups = {event.name.split(".")[0] for event in EVENTS}

    assert {function.code_uri.name for function in TEMPLATE.functions.values()} <= groups


@pytest.mark.parametrize("event_file", EVENTS, ids=lambda path: path.name)
def test_sample_event_runs_without_a_server_error(event_file: Path, stack: Stack, monkeypatch: pytest.MonkeyPatch):
    function_id = function_for(event_file)
    for name, value in function_environment(TEMPLATE, function_id, stack.physical_ids).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()

    result = FUNCTIONS.handler(function_id)(json.loads(event_file.read_text()), LambdaContext(function_id, 15))

    if "statusCode" in result:  # API and Function URL events; SQS events answer with batchItemFailures
        assert result["statusCode"] < 500, result
        assert set(json.loads(result["body"])) == {"data", "message", "status"}


@pytest.mark.parametrize(
    "event_file", [path for path in EVENTS if "httpMethod" in path.read_text()], ids=lambda p: p.name
)
def test_an_api_event_is_encoded_as_api_gateway_sends_it(event_file: Path):
    """Base64 exactly when its Content-Type is one of the API's BinaryMediaTypes (JSON and multipart are), as the
    local runtime builds it."""
    event = json.loads(event_file.read_text())
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"]
    expected = api_gateway_event(
        event["httpMethod"],
        event["path"],
        resource=event["resource"],
        headers=event["headers"],
        body=raw,
        binary_media_types=TEMPLATE.binary_media_types,
    )

    assert (event["isBase64Encoded"], event["body"]) == (expected["isBase64Encoded"], expected["body"])

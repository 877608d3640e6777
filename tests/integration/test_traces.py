"""X-Ray keeps what a handler's subsegment is given as metadata. No answer goes there: an answer may carry a session
token, an API key or a customer's data (Powertools' Tracer captures a handler's answer unless told not to)."""

from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from harness.accounts import signed_in_user


@pytest.fixture
def traced_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each answer the Tracer would record in a sampled trace (it skips them itself when told not to capture)."""
    recorded: list[str] = []
    record = Tracer._add_response_as_metadata

    def spy(self: Tracer, method_name: Any = None, data: Any = None, subsegment: Any = None, **options: Any) -> None:
        if data is not None and options.get("capture_response", True):
            recorded.append(str(data))
        record(self, method_name=method_name, data=data, subsegment=subsegment, **options)

    monkeypatch.setattr(Tracer, "_add_response_as_metadata", spy)
    return recorded


def test_no_answer_goes_into_a_trace_neither_a_session_token_nor_an_api_key(call_api, traced_answers):
    user = signed_in_user(call_api)
    auth = {"Authorization": user.auth}
    key = call_api("GET", f"/api/v1/users/{user.id}/api_key", headers=auth)
    viewed = call_api("GET", f"/api/v1/users/{user.id}", headers=auth)

    assert key.status == viewed.status == 200
    token = user.auth.removeprefix("Bearer ")
    assert not [answer for answer in traced_answers if token in answer or "clara_api_" in answer]
    assert traced_answers == []

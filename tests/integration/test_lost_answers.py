"""A transaction DynamoDB applied whose answer was lost: botocore retries it with the same ClientRequestToken, and
DynamoDB answers the retry with success without applying it again (issue 22, finding 5). Without that, the
retry fails its own conditions (a code already used, a transaction id already written), and the user is told
401 for a change that was made.

The answer is lost at moto's stub (botocore's `before-send`, where AWS's answer would come back): the first
TransactWriteItems is applied, then the connection "closes", which botocore's standard retry mode retries.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError
from botocore.retries.standard import ExponentialBackoff
from moto.core.botocore_stubber import BotocoreStubber

from harness.accounts import API, PRIVATE, Accounts, audit_events, body, headers, user_item


class LostAnswers:
    """Loses the answer of the next `count` TransactWriteItems once moto has applied them."""

    def __init__(self) -> None:
        self.armed = 0
        self.lost = 0
        self.attempts = 0

    def arm(self, count: int = 1) -> None:
        """Lose the next `count` answers; attempts are counted from now."""
        self.armed, self.attempts = count, 0

    def after(self, event_name: str, request: Any, answer: Any) -> Any:
        if not event_name.endswith(".TransactWriteItems"):
            return answer
        self.attempts += 1
        if self.armed and answer is not None and answer.status_code == 200:
            self.armed -= 1
            self.lost += 1
            raise ConnectionClosedError(endpoint_url=request.url)
        return answer


@pytest.fixture
def lost_answers(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[LostAnswers]:
    lost = LostAnswers()
    handle = BotocoreStubber.__call__

    def applied_then_lost(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        return lost.after(event_name, request, handle(self, event_name, request, **kwargs))

    monkeypatch.setattr(BotocoreStubber, "__call__", applied_then_lost)
    # No backoff before botocore's retry: the wait tests nothing here.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    yield lost


def test_turning_2fa_off_whose_answer_was_lost_answers_204_and_turns_it_off_once(
    call_api: Any, stack: Any, accounts: Accounts, lost_answers: LostAnswers
):
    account = accounts.active()
    accounts.enable_2fa(account)
    code = accounts.send_otp(account.email, "TWO_FACTOR_AUTH")
    lost_answers.arm()

    response = call_api(
        "DELETE", f"{API}/users/{account.id}/2fa", headers=headers(account.auth), body=body({"code": code})
    )

    assert (lost_answers.lost, lost_answers.attempts) == (1, 2)  # applied, answer lost, retried once
    assert response.status == 204, response.text
    stored = user_item(stack, account.id)
    assert stored is not None and stored["is_2fa_enabled"] is False
    assert audit_events(stack, account.id).count("2fa_disabled") == 1


def test_an_admin_credit_whose_answer_was_lost_moves_the_balance_once(
    call_api: Any, stack: Any, accounts: Accounts, lost_answers: LostAnswers
):
    account = accounts.active()
    payload = body({"description": "goodwill", "value_in_credits": 25, "type": "CREDIT"})
    lost_answers.arm()

    response = call_api("POST", f"{API}/users/{account.id}/transactions", headers=headers(PRIVATE), body=payload)

    assert (lost_answers.lost, lost_answers.attempts) == (1, 2)
    assert response.status == 201, response.text
    stored = user_item(stack, account.id)
    assert stored is not None and stored["credits"] == 25
    listed = call_api("GET", f"{API}/users/{account.id}/transactions", headers={"Authorization": account.auth})
    assert [(t["type"], t["value_in_credits"]) for t in listed.json["data"]] == [("CREDIT", 25)]
    assert audit_events(stack, account.id).count("admin_transaction_added") == 1

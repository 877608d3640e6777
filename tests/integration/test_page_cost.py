"""A page's own work per item (docs/budgets.md, Warm handler time), counted as the Python and C function calls the
request makes outside botocore: unlike its time, the count does not move with the machine's load, and it grows with
the work done per item, as building a PynamoDB model per item (a descriptor call per attribute) or dumping and
walking each view twice did.

The per-item figure is the difference between a page of 20 items and one of 10, over 10: the authentication, the
Query's round trip and the envelope cost the same in both. Run with -s to see the figures printed."""

import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.client import BaseClient

from harness.accounts import API, PRIVATE, Account, Accounts, body, headers

# About 1.5x today's (75 to 90 calls per task or transaction on python3.11 and 3.13; 95 to 98 at 855ea90, before
# numbers were read without a raised ValueError and a transaction's view without a dump): room for a field or two,
# not for a new step per item. Through PynamoDB's models, with each view dumped twice and walked, a page cost 837 calls
# per task and 441 per transaction (33c9c24, before issue 26); reading each value through PynamoDB's attribute
# (json.loads for a number) and dumping each view with money twice, 193 per task and 176 per transaction (c5d2214).
# This bound fails all three.
CALLS_PER_ITEM = 130

# The work every authenticated read does whatever it reads (the credential, the user, the rate counter, the
# envelope), counted on GET /users/{id}: about 1.5x today's 598 calls. Checking the token's signature on every
# request (PyJWT), building the rate counter's update from expression objects and dumping the view twice made it
# 1441 (c5d2214), which this bound fails.
CALLS_PER_READ = 900


class OwnCalls:
    """The function calls made while counting, those inside botocore's API calls (moto's work, parsing) left out."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count, self.inside_aws = 0, 0
        api_call = BaseClient._make_api_call

        def outside_the_count(client: BaseClient, *arguments: Any) -> Any:
            self.inside_aws += 1
            try:
                return api_call(client, *arguments)
            finally:
                self.inside_aws -= 1

        monkeypatch.setattr(BaseClient, "_make_api_call", outside_the_count)

    def _event(self, frame: Any, event: str, argument: Any) -> None:
        if event in ("call", "c_call") and not self.inside_aws:
            self.count += 1

    def of(self, request: Callable[[], Any]) -> int:
        self.count = 0
        sys.setprofile(self._event)
        try:
            request()
        finally:
            sys.setprofile(None)
        return self.count


def calls_per_item(call_api, account: Account, listing: str, counter: OwnCalls) -> float:
    def page(limit: int) -> int:
        def request() -> None:
            response = call_api(
                "GET",
                f"{API}/users/{account.id}/{listing}",
                headers={"Authorization": account.auth},
                query={"limit": str(limit)},
            )
            assert response.status == 200 and len(response.json["data"]) == limit, response.text

        request()  # warm: the function's first request builds its models and clients
        return counter.of(request)

    per_item = (page(20) - page(10)) / 10
    print(f"\n{listing}: {per_item:.0f} function calls per item")
    return per_item


@pytest.fixture
def counter(monkeypatch: pytest.MonkeyPatch) -> OwnCalls:
    return OwnCalls(monkeypatch)


def test_a_page_of_analysed_tasks_costs_a_bounded_work_per_item(call_api, stack, counter):
    from clara.formats import utc_now
    from clara.integrations.analyzers.local import LocalAnalyzer
    from clara.records.analysis import Task
    from clara.store import tasks, unit

    account = Accounts(call_api, stack).active()
    result = LocalAnalyzer(read_links=lambda text: []).analyze("The Eiffel Tower is in Paris.", [])
    start = utc_now()
    for index in range(20):
        at = start + timedelta(seconds=index)
        task = Task(
            id=f"task_{index}",
            user_id=account.id,
            status="COMPLETED",
            result=result.model_dump(mode="json"),
            created_at=at,
            updated_at=at,
        )
        unit.commit(tasks.new_task(task))

    assert calls_per_item(call_api, account, "tasks", counter) <= CALLS_PER_ITEM


def test_a_page_of_transactions_costs_a_bounded_work_per_item(call_api, stack, counter):
    account = Accounts(call_api, stack).active()
    for credits in range(1, 21):
        payload = body({"description": "d", "value_in_credits": credits, "value_in_fiat": 0.5, "type": "CREDIT"})
        created = call_api("POST", f"{API}/users/{account.id}/transactions", headers=headers(PRIVATE), body=payload)
        assert created.status == 201, created.text

    assert calls_per_item(call_api, account, "transactions", counter) <= CALLS_PER_ITEM


def test_an_authenticated_read_costs_a_bounded_work(call_api, stack, counter):
    from harness.inprocess import FUNCTIONS, TEMPLATE, routed_event
    from local_runtime.events import LambdaContext

    account = Accounts(call_api, stack).active()
    path, authorization = f"{API}/users/{account.id}", {"Authorization": account.auth}
    # Warm, as a client's later requests find the function: its models and clients built, its settings read (by
    # call_api, which sets the function's environment), its token seen once.
    assert call_api("GET", path, headers=authorization).status == 200
    function_id, event = routed_event("GET", path, headers=authorization)
    handler, context = (
        FUNCTIONS.handler(function_id),
        LambdaContext(function_id, TEMPLATE.functions[function_id].timeout),
    )

    calls = counter.of(lambda: handler(event, context))
    print(f"\nGET /users/{{id}}: {calls} function calls")

    assert calls <= CALLS_PER_READ

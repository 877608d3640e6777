"""Webhooks over HTTP against the local runtime (`make run`'s): an endpoint on a receiver at 127.0.0.1 (loopback is
allowed in development), tasks analysed by the runtime's own worker, events carried by its SQS poller to the
delivery function. Run with -s to see the delivery latency, from a task's end (its updated_at) to the receiver,
the median of 20."""

import json
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from harness import media
from harness.client import PRIVATE_KEY, RUNTIME_ENV, Api, Mailbox, active_account, analyse, bearer, expect, wait_for

pytestmark = pytest.mark.e2e

TASKS = 20


@pytest.fixture(scope="module")
def runtime_env() -> dict[str, str]:
    return {**RUNTIME_ENV, "LOCAL_SQS_RETRY_SECONDS": "0"}  # a failed attempt comes back at once


class Receiver:
    """Records each POST with the moment it arrived; answers the next of `answers` (then 204)."""

    def __init__(self) -> None:
        self.arrived: list[tuple[float, dict[str, str], bytes]] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.arrived.append((time.time(), {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.answers.pop(0) if outer.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/clara"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()


def test_task_events_reach_a_local_receiver_signed_and_retried(api: Api, mailbox: Mailbox, receiver: Receiver) -> None:
    account = active_account(api, mailbox, "webhooks")
    auth = bearer(account.token)
    expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": 1000}), 200)
    made = expect(api.call("POST", f"/users/{account.id}/webhooks", auth=auth, json={"url": receiver.url}), 201)
    receiver.answers = [500]  # the first attempt fails: it comes back through the runtime's poller

    ended: set[str] = set()
    for number in range(TASKS):
        claim = f"Claim number {number}: the Moon orbits the Earth."
        task = expect(analyse(api, account, claim, [("moon.png", media.png(8, 8))]), 201)
        done = wait_for(api, account, task["id"], timeout=60)
        assert done["status"] == "COMPLETED", done
        ended.add(task["id"])
    deadline = time.monotonic() + 60
    while len(receiver.arrived) < TASKS + 1 and time.monotonic() < deadline:
        time.sleep(0.05)

    events = [(at, Verifier(made["secret"]).verify(body, headers), headers) for at, headers, body in receiver.arrived]
    assert sorted({event["data"]["id"] for _, event, _ in events}) == sorted(ended)
    assert {event["type"] for _, event, _ in events} == {"task.completed"}
    ids = [headers["webhook-id"] for _, _, headers in events]
    [retried] = [each for each in set(ids) if ids.count(each) == 2]  # the failed first attempt, sent again
    assert len(set(ids)) == TASKS and len(ids) == TASKS + 1
    deliveries = f"/users/{account.id}/webhooks/{made['id']}/deliveries"
    log = expect(api.call("GET", deliveries, auth=auth, params={"limit": "100"}), 200)
    assert [d["outcome"] for d in log if d["event_id"] == retried] == ["delivered", "retrying"]

    # Latency: from the task's end (the event's timestamp: the task's updated_at, to the microsecond) to the first
    # arrival of its event; the retried one aside.
    latencies = sorted(
        at - datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
        for at, event, headers in events
        if headers["webhook-id"] != retried
    )
    median = statistics.median(latencies)
    spread = f"median {median:.3f} s, max {latencies[-1]:.3f} s"
    print(f"\nwebhook delivery latency under the local runtime, {len(latencies)} events: {spread}")
    assert median < 5, json.dumps(latencies)

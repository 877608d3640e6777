"""Crashes of the real local runtime: SIGKILLed halfway through an analysis request, then a new runtime on the same
AWS emulation settles what the dead one left behind, on its own. The emulation runs as its own process
(`python -m local_runtime.emulator`) so that it outlives the killed runtime; the runtimes reach it through
AWS_ENDPOINT_URL, and this test writes its mailbox (the runtime does not with an external emulator)."""

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from harness import media
from harness.client import (
    COST,
    PRIVATE_KEY,
    RUNTIME_ENV,
    Account,
    Api,
    Mailbox,
    active_account,
    analyse,
    bearer,
    expect,
    tasks,
    wait_for,
)
from harness.runtime import ROOT, _free_port
from local_runtime.faults import install_faults
from tests.e2e.conftest import StartRuntime


@dataclass
class Emulator:
    url: str
    mailbox: Mailbox


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    url = f"http://127.0.0.1:{_free_port()}"
    with (tmp_path / "emulator.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_runtime.emulator", url.rsplit(":", 1)[1], str(tmp_path / "mailbox")],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/moto-api/data.json", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, (tmp_path / "emulator.log").read_text()
                time.sleep(0.1)
        yield Emulator(url, Mailbox(tmp_path / "mailbox"))
    finally:
        process.terminate()
        process.wait(timeout=15)


def wait_for_log(runtime: Any, line: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while line not in runtime.log():
        assert time.monotonic() < deadline, f"no {line!r} in the log:\n{runtime.log()}"
        time.sleep(0.1)


def balance_and_ledger(api: Api, account: Account) -> tuple[float, float]:
    auth = bearer(account.token)
    balance = expect(api.call("GET", f"/users/{account.id}", auth=auth), 200)["credits"]
    listed = expect(api.call("GET", f"/users/{account.id}/transactions", auth=auth, params={"limit": "100"}), 200)
    return balance, sum(t["value_in_credits"] * (1 if t["type"] == "CREDIT" else -1) for t in listed)


def test_the_hang_fault_is_refused_in_production() -> None:
    with pytest.raises(RuntimeError, match="refused in production"):
        install_faults({"LOCAL_FAULT_HANG_BEFORE": "SendMessage", "ENVIRONMENT": "production"})


def test_an_api_killed_between_its_charge_and_its_message_still_ends_the_task(
    emulator: Emulator,
    start_runtime: StartRuntime,  # the emulator first: it stops after the runtimes
) -> None:
    env = {**RUNTIME_ENV, "AWS_ENDPOINT_URL": emulator.url}
    crashing = start_runtime(env={**env, "LOCAL_FAULT_HANG_BEFORE": "SendMessage"})
    api = Api(crashing.base_url)
    account = active_account(api, emulator.mailbox, "crash")
    expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": 100}), 200)

    answered: list[Any] = []

    def request() -> None:
        # The runtime dies under the request: the client never gets an answer.
        with contextlib.suppress(requests.ConnectionError):
            answered.append(analyse(api, account, "The Eiffel Tower is in Paris.", [("tower.png", media.png())]))

    client = threading.Thread(target=request)
    client.start()
    wait_for_log(crashing, "hanging before SendMessage")  # charged, task stored, no message yet
    crashing.kill()
    client.join(timeout=15)
    assert answered == []

    # A new runtime on the same AWS: its sweeper (every second, re-queueing at once) finds the task with no message.
    recovering = start_runtime(env={**env, "LOCAL_SCHEDULE_SECONDS": "1", "ANALYSIS_REQUEUE_AFTER_SECONDS": "0"})
    api = Api(recovering.base_url)
    [task] = tasks(api, account)
    ended = wait_for(api, account, task["id"], timeout=60)

    assert ended["status"] in ("COMPLETED", "FAILED"), ended
    balance, ledger = balance_and_ledger(api, account)
    assert balance == ledger == (100 - COST if ended["status"] == "COMPLETED" else 100)
    assert "Swept open tasks" in recovering.log()


def test_a_worker_killed_on_its_last_receive_leaves_a_task_that_is_failed_and_refunded(
    emulator: Emulator,
    start_runtime: StartRuntime,  # the emulator first: it stops after the runtimes
) -> None:
    env = {**RUNTIME_ENV, "AWS_ENDPOINT_URL": emulator.url}
    crashing = start_runtime(env={**env, "LOCAL_FAULT_HANG_BEFORE": "GetObject"})  # the worker reads a file
    api = Api(crashing.base_url)
    account = active_account(api, emulator.mailbox, "crash")
    expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": 100}), 200)
    aws = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    sqs = aws.client("sqs", endpoint_url=emulator.url)
    queue_url = sqs.get_queue_url(QueueName="AnalysisQueue")["QueueUrl"]
    # The message the killed worker holds comes back after 45 s instead of 36 minutes: time enough to start the next
    # runtime (and lower the receive limit) first, even on a loaded machine.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "45"})
    time.sleep(1.5)  # the poller's current long poll (1 s) received with the old timeout

    task = expect(analyse(api, account, "The Eiffel Tower is in Paris.", [("tower.png", media.png())]), 201)
    wait_for_log(crashing, "hanging before GetObject")  # the worker has claimed the task
    crashing.kill()
    # The killed run's lease (390 s) has run out: as if that much time had passed.
    table = aws.resource("dynamodb", endpoint_url=emulator.url).Table("ClaraTable")
    key = {"pk": f"USER#{account.id}", "sk": f"TASK#{task['id']}"}
    assert table.get_item(Key=key)["Item"]["status"] == "PROCESSING"
    table.update_item(Key=key, UpdateExpression="SET lease_until = :zero", ExpressionAttributeValues={":zero": 0})

    recovering = start_runtime(env=env)
    # That receive was the last one the queue allows: the next sends the message to the dead-letter queue.
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
    )
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"RedrivePolicy": json.dumps({**policy, "maxReceiveCount": 1})}
    )
    api = Api(recovering.base_url)
    ended = wait_for(api, account, task["id"], timeout=120)

    assert ended["status"] == "FAILED", ended
    assert balance_and_ledger(api, account) == (100, 100)
    assert "Settling a dead-lettered analysis task" in recovering.log()

"""Analysis tasks per second through the local runtime (`python -m local_runtime`, started as the e2e tests start
it): the runtime's own SQS poller runs the worker, with the local analyzer. docs/budgets.md sets no budget for it; the
figure is what the machine does, to compare runs, so it is shown without one."""

import tempfile
import time
from pathlib import Path

from bench.table import NO_BUDGET, NOT_MEASURED, Row
from harness import media
from harness.client import COST, PRIVATE_KEY, RUNTIME_ENV, Api, Mailbox, active_account, analyse, expect, tasks
from harness.runtime import PROJECT_TEMPLATE, running_runtime

COUNT = 20
TIMEOUT = 60.0  # seconds after the last submission


def rows() -> list[Row]:
    section = "Throughput of the local runtime (HTTP, its SQS poller, the worker, ANALYZER=local)"
    name = f"{COUNT} analyses (text, PNG, PDF) in a row"
    try:
        figure = measure()
    except Exception as error:  # e.g. the runtime did not start: the other figures still stand
        return [Row(section, name, f"failed: {error}"[:100], "none in docs/budgets.md", NOT_MEASURED)]
    return [Row(section, name, figure, "none in docs/budgets.md", NO_BUDGET)]


def measure() -> str:
    with (
        tempfile.TemporaryDirectory() as workdir,
        running_runtime(PROJECT_TEMPLATE, Path(workdir), RUNTIME_ENV) as runtime,
    ):
        api = Api(runtime.base_url)
        account = active_account(api, Mailbox(runtime.mailbox_dir), "bench")
        expect(api.call("PUT", f"/users/{account.id}/credits", auth=PRIVATE_KEY, json={"credits": COST * COUNT}), 200)
        files = [("photo.png", media.png()), ("notes.pdf", media.pdf("The sample PDF holds one claim here."))]

        started = time.perf_counter()
        ids = [
            expect(analyse(api, account, f"Claim number {index} is being checked now.", files), 201)["id"]
            for index in range(COUNT)
        ]
        submitted = time.perf_counter()
        statuses: dict[str, str] = {}
        while time.perf_counter() < submitted + TIMEOUT:  # one listing per poll, not one request per task
            statuses = {task["id"]: task["status"] for task in tasks(api, account)}
            if all(statuses.get(task_id) in ("COMPLETED", "FAILED") for task_id in ids):
                break
            time.sleep(0.05)
        finished = time.perf_counter()

    completed = sum(statuses.get(task_id) == "COMPLETED" for task_id in ids)
    return (
        f"{completed / (finished - started):.1f} tasks/s: {completed} COMPLETED in {finished - started:.2f} s "
        f"(the posts took {submitted - started:.2f} s)"
    )

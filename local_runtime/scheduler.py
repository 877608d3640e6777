"""Schedule and ScheduleV2 events: one thread per schedule invokes its function with EventBridge's scheduled event.

Locally every schedule runs each LOCAL_SCHEDULE_SECONDS when that is set (tests use about a second), else at its
own rate (a cron expression: every minute). The first run comes one period after the start, as on AWS.
"""

from __future__ import annotations

import logging
import os
import threading

from local_runtime.events import scheduled_event
from local_runtime.functions import FunctionRegistry
from local_runtime.template import ScheduleSource

log = logging.getLogger("local_runtime")


def local_period(source: ScheduleSource) -> float:
    configured = os.environ.get("LOCAL_SCHEDULE_SECONDS")
    return float(configured) if configured else float(source.seconds)


class ScheduleRunner(threading.Thread):
    def __init__(self, functions: FunctionRegistry, function_id: str, source: ScheduleSource, stop: threading.Event):
        super().__init__(name=f"schedule-{function_id}-{source.name}", daemon=True)
        self.functions = functions
        self.function_id = function_id
        self.source = source
        self.period = local_period(source)
        self.stop_event = stop

    def run(self) -> None:
        while not self.stop_event.wait(self.period):
            self.run_once()

    def run_once(self) -> None:
        try:
            self.functions.invoke(self.function_id, scheduled_event(f"{self.function_id}{self.source.name}"))
        except Exception:  # EventBridge retries an asynchronous invocation; the next period does it here
            log.exception("%s failed on its schedule %s", self.function_id, self.source.name)


def start_schedules(functions: FunctionRegistry, stop: threading.Event) -> list[ScheduleRunner]:
    runners = [
        ScheduleRunner(functions, function_id, source, stop)
        for function_id, function in functions.template.functions.items()
        for source in function.schedules
    ]
    for runner in runners:
        runner.start()
    return runners

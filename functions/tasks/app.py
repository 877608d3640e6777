"""Tasks: a user's analysis tasks, newest first, one task with its result, and the cancel of a PENDING one."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import TaskNotCancellable
from clara.domain.analysis.tasks import TaskView, task_of, task_view, task_views_ready, tasks_page
from clara.domain.webhooks import ports as webhooks_ports
from clara.http.app import Page, create_app, lambda_handler_for, read_page
from clara.http.auth import Role
from clara.http.openapi import Success
from clara.http.routes import Call, Routes
from clara.integrations.sqs_queues import WebhookEventQueue

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
webhooks_ports.event_queue.plug(WebhookEventQueue)

app = create_app()
# Who may call each route: the user (a user or API key token) or the private key; an active user.
routes = Routes(app, auth=(Role.USER, Role.API_KEY, Role.PRIVATE), active=True, not_found={"task_id": "Task"})


TASKS_FETCHED = Success(200, list[TaskView], "Tasks fetched successfully.")


@routes.get("/users/<user_id>/tasks", "The user's analysis tasks, newest first", TASKS_FETCHED, query=Page)
def view_all(call: Call[None]) -> Response[Any]:
    page = read_page(call.event)
    return TASKS_FETCHED.answer(task_views_ready(tasks_page(call.user.id, page.limit, page.offset)))


TASK_FETCHED = Success(200, TaskView, "Task fetched successfully.")


@routes.get("/users/<user_id>/tasks/<task_id>", "One analysis task, with its result once COMPLETED", TASK_FETCHED)
def view(call: Call[None], task_id: str) -> Response[Any]:
    return TASK_FETCHED.answer(task_views_ready([task_of(call.user.id, task_id)])[0])


TASK_CANCELLED = Success(200, TaskView, "Task cancelled successfully.")


@routes.post(
    "/users/<user_id>/tasks/<task_id>/cancel",
    "Cancel a PENDING task: it ends FAILED and its credits are refunded once (409 once a worker claimed it)",
    TASK_CANCELLED,
    errors=(TaskNotCancellable,),
)
def cancel(call: Call[None], task_id: str) -> Response[Any]:
    # Imported here: the cancel's settle (analysis, ledger) is 20 M instructions (about 4 ms) that the listing and
    # the view, this function's common routes, would otherwise pay at every cold start.
    from clara.domain.analysis.cancel import cancel_task

    return TASK_CANCELLED.answer(task_view(cancel_task(call.user.id, task_id)))


lambda_handler = lambda_handler_for(app)

"""Agent: the supported attachments, and analysis requests that become paid, queued tasks."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import IdempotencyKeyReused, InsufficientCredits, InvalidSchema, PayloadTooLarge
from clara.domain.analysis import ports as analysis_ports
from clara.domain.analysis import submission
from clara.domain.analysis.attachments import supported_attachments_view
from clara.domain.analysis.tasks import TaskView, task_view
from clara.domain.webhooks import ports as webhooks_ports
from clara.http.app import create_app, lambda_handler_for
from clara.http.auth import Role
from clara.http.multipart import read_analysis_form
from clara.http.openapi import Success
from clara.http.routes import Call, Routes
from clara.http.urls import api_url
from clara.integrations.s3_attachments import S3Attachments
from clara.integrations.sqs_queues import TaskQueue, WebhookEventQueue

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
analysis_ports.attachments.plug(S3Attachments)
analysis_ports.task_queue.plug(TaskQueue)
webhooks_ports.event_queue.plug(WebhookEventQueue)

app = create_app()
# Who may call each route: the user (a user or API key token) or the private key.
routes = Routes(app, auth=(Role.USER, Role.API_KEY, Role.PRIVATE))
# The field `text` and up to 5 files, each file's field name being its file name.
ANALYSIS_FORM = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"text": {"type": "string", "description": "The claim or text to check"}},
            "additionalProperties": {"type": "string", "format": "binary"},
        }
    }
}


ATTACHMENTS_FETCHED = Success(200, dict[str, list[str]], "Supported attachments fetched successfully.")


@routes.get(
    "/users/<user_id>/agent/supported_attachments",
    "File extensions the analysis accepts, by media type",
    ATTACHMENTS_FETCHED,
)
def supported_attachments(call: Call[None]) -> Response[Any]:
    return ATTACHMENTS_FETCHED.answer(supported_attachments_view())


ANALYSIS_CREATED = Success(201, TaskView, "Analysis task created successfully.")
IDEMPOTENCY_KEY = {
    "Idempotency-Key": "Any text of the client's: the same request (text and files) under the same key within 24 "
    "hours answers the task it made (201, no second charge); another request under it is 409. Keys are per user."
}
# The 201 says where to poll the task (RFC 9110, 15.3.2): its URL under the base the request used.
TASK_LOCATION = {
    "Location": {
        "description": "The task's URL, under the base URL the request used: "
        "<base>/api/v1/users/{user_id}/tasks/{task_id}",
        "schema": {"type": "string", "format": "uri"},
    }
}


@routes.post(
    "/users/<user_id>/agent/analysis",
    "Request an analysis of a text and files: a paid task, queued for the agent",
    ANALYSIS_CREATED,
    active=True,
    body=ANALYSIS_FORM,
    headers=IDEMPOTENCY_KEY,
    errors=(InvalidSchema, InsufficientCredits, PayloadTooLarge, IdempotencyKeyReused),
    ok_headers=TASK_LOCATION,
)
def analyse(call: Call[None]) -> Response[Any]:
    text, uploads = read_analysis_form(call.event)
    # A retried request with the same Idempotency-Key answers the task it made (409 for another request).
    task = submission.submit(call.user, text, uploads, call.event.headers.get("Idempotency-Key"))
    location = api_url(call.event, f"/users/{task.user_id}/tasks/{task.id}")
    return ANALYSIS_CREATED.answer(task_view(task), headers={"Location": location})


lambda_handler = lambda_handler_for(app)

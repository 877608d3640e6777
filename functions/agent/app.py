"""Agent: the supported attachments, and analysis requests that become paid, queued tasks."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import analysis
from clara.api import create_app, lambda_handler_for
from clara.attachments import supported_attachments_view
from clara.auth import Role, authenticate, user_in_path
from clara.envelope import success

app = create_app()
CALLERS = (Role.USER, Role.API_KEY, Role.PRIVATE)


@app.get("/users/<user_id>/agent/supported_attachments")
def supported_attachments(user_id: str) -> Response[Any]:
    user_in_path(authenticate(app.current_event, *CALLERS), user_id)
    return success(supported_attachments_view(), "Supported attachments fetched successfully.")


@app.post("/users/<user_id>/agent/analysis")
def analyse(user_id: str) -> Response[Any]:
    user = user_in_path(authenticate(app.current_event, *CALLERS, active=True), user_id)
    text, uploads = analysis.read_analysis_request(app.current_event)
    task = analysis.submit(user, text, uploads)
    return success(task.view(), "Analysis task created successfully.", 201)


lambda_handler = lambda_handler_for(app)

"""What the MCP server's tools do: the REST routes' own logic, for the user behind the token, as JSON-ready data.

Each function returns what the matching REST route puts under the envelope's `data`, and raises the contract's
errors (ClaraError) where the route raises them; the MCP function turns those into MCP tool errors carrying the
same message (app.py, beside this module: the tools are the MCP function's own, not the shared layer's). The
caller is already authenticated (app.py does it before the MCP SDK sees the request), and every id a tool takes
is looked up under the caller's own user, so another user's id is "not found" as on the REST routes. The MCP SDK
is not imported here: app.py registers these functions as its tools.
"""

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from clara.contract.errors import InvalidSchema
from clara.domain import analysis, billing, ledger, tasks
from clara.domain.attachments import Upload, check_upload, supported_attachments_view
from clara.domain.caller import Caller
from clara.domain.cancel import cancel_task
from clara.formats import LazyModel, json_ready
from clara.http.app import DEFAULT_LIMIT, page_of, parsed
from clara.settings import get_settings

# Only shapes here: the size caps, supported extensions and magic bytes are check_upload's, as on REST.
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class AttachmentFile(LazyModel):
    """A file for the analysis: its name and its bytes in base64 (a multipart part on the REST route)."""

    name: FileName = Field(description="The file name; its extension decides the media type (e.g. photo.png).")
    content_base64: str = Field(description="The file's bytes, standard base64 (RFC 4648, with padding).")


def _json(model: BaseModel) -> dict[str, Any]:
    """The model as the REST envelope shows it (dates as RFC 1123, money as exact Decimals, and so on)."""
    return json_ready(model)


# ------------------------------------------------------------------------------------------- user


def user_view(caller: Caller) -> dict[str, Any]:
    """GET /users/{id} for one's own id."""
    return _json(caller.own_user().view())


# ------------------------------------------------------------------------------------------- transactions


def transaction_view_all(caller: Caller, limit: int = DEFAULT_LIMIT, offset: int = 0) -> list[dict[str, Any]]:
    """GET /users/{id}/transactions: newest first."""
    page = page_of({"limit": limit, "offset": offset})
    return [_json(found.view()) for found in ledger.list_transactions(caller.own_user().id, page.limit, page.offset)]


def transaction_view(caller: Caller, transaction_id: str) -> dict[str, Any]:
    """GET /users/{id}/transactions/{transaction_id}; another user's transaction is not found."""
    return _json(ledger.transaction_of(caller.own_user().id, transaction_id).view())


# ------------------------------------------------------------------------------------------- tasks


def task_view_all(caller: Caller, limit: int = DEFAULT_LIMIT, offset: int = 0) -> list[dict[str, Any]]:
    """GET /users/{id}/tasks: newest first."""
    page = page_of({"limit": limit, "offset": offset})
    return [_json(tasks.task_view(task)) for task in tasks.list_tasks(caller.own_user().id, page.limit, page.offset)]


def task_view(caller: Caller, task_id: str) -> dict[str, Any]:
    """GET /users/{id}/tasks/{task_id}; another user's task is not found."""
    return _json(tasks.task_view(tasks.task_of(caller.own_user().id, task_id)))


def task_cancel(caller: Caller, task_id: str) -> dict[str, Any]:
    """POST /users/{id}/tasks/{task_id}/cancel: the PENDING task FAILED and refunded; another user's is not found."""
    return _json(tasks.task_view(cancel_task(caller.own_user().id, task_id)))


# ------------------------------------------------------------------------------------------- agent


def agent_supported_attachments() -> dict[str, list[str]]:
    """GET /users/{id}/agent/supported_attachments."""
    return supported_attachments_view()


def agent_analysis(caller: Caller, text: str, files: Sequence[AttachmentFile]) -> dict[str, Any]:
    """POST /users/{id}/agent/analysis, with the files as base64 instead of multipart parts: a paid, queued task.

    The request's rules are the REST route's (clara.domain.analysis.checked_request, check_upload for each file).
    """
    user = caller.own_user()
    text, uploads = read_analysis_arguments(text, files)
    return _json(tasks.task_view(analysis.submit(user, text, uploads)))


def read_analysis_arguments(text: str, files: Sequence[AttachmentFile]) -> tuple[str, list[Upload]]:
    """The stripped text and the checked uploads; 400 Invalid Schema for anything the REST route refuses."""
    settings = get_settings()
    if len(files) > settings.max_attachments:  # before decoding anything
        raise InvalidSchema.because("files", f"at most {settings.max_attachments} files")
    return analysis.checked_request(text, [check_upload(file.name, _decode(file.content_base64)) for file in files])


def _decode(content_base64: str) -> bytes:
    """Strict base64: characters outside the alphabet, or bad padding, are 400 Invalid Schema."""
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidSchema.because("content_base64", "not valid base64") from error


# ------------------------------------------------------------------------------------------- billing


def stripe_rate() -> list[dict[str, Any]]:
    """GET /stripe/rate: the bands of amounts (in dollars) and their credits per dollar."""
    return billing.rates_view()


def stripe_buy(caller: Caller, amount: int, return_path: str, request_id: str) -> dict[str, Any]:
    """POST /stripe/buy: a Stripe Checkout Session for `amount` dollars of credits (credited once paid)."""
    user = caller.own_user()
    request = parsed(billing.BuyRequest, {"amount": amount, "return_path": return_path})
    return _json(billing.checkout(user, request, request_id))

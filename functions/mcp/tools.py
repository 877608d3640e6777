"""Clara's MCP tools, each declared once: its name (the function's), its input (the function's parameters, their
types and descriptions), what agents read of it (the docstring, as one paragraph), its hints, and its call: the
REST routes' own logic, for the user behind the token, returning what the matching REST route puts under the
envelope's `data`.

Two parameters are not the agent's: `caller` (the authenticated caller) and `request_id` (API Gateway's, which
Stripe's idempotency keys use, as on REST); app.py, beside this module, supplies them and registers every tool of
TOOLS with the MCP SDK, which is not imported here. The tools raise the contract's errors (ClaraError) where the
routes raise them; app.py turns those into MCP tool errors carrying the same message. Every id a tool takes is
looked up under the caller's own user, so another user's id is "not found", as on the REST routes.
"""

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, StringConstraints

from clara.contract.errors import InvalidSchema
from clara.contract.requests import BuyRequest
from clara.domain.analysis import submission, tasks
from clara.domain.analysis.attachments import Upload, check_upload, supported_attachments_view
from clara.domain.analysis.cancel import cancel_task
from clara.domain.caller import Caller
from clara.domain.credits import ledger, purchases, rates
from clara.formats import LazyModel, json_ready
from clara.http.app import DEFAULT_LIMIT, MAX_LIMIT, page_of, parsed
from clara.settings import Settings, get_settings

# Only shapes here: the size caps, supported extensions and magic bytes are check_upload's, as on REST.
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# The schemas show the default limits; nothing is read from the environment at import (the configured limits are
# enforced per call, through the settings).
MAX_TEXT = Settings.model_fields["max_text_characters"].default
MAX_FILES = Settings.model_fields["max_attachments"].default
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"How many to return: 1 to {MAX_LIMIT}.")]
Offset = Annotated[int, Field(ge=0, description="How many of the newest to skip, for the next page.")]
TaskId = Annotated[str, Field(description="The task's id, as agent_analysis returned it (task_<hex>).")]


class AttachmentFile(LazyModel):
    """A file for the analysis: its name and its bytes in base64 (a multipart part on the REST route)."""

    name: FileName = Field(description="The file name; its extension decides the media type (e.g. photo.png).")
    content_base64: str = Field(description="The file's bytes, standard base64 (RFC 4648, with padding).")


@dataclass(frozen=True)
class Hints:
    """MCP's tool annotations, which app.py hands to the SDK."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool


READ_ONLY = Hints(read_only=True, destructive=False, idempotent=True, open_world=False)
TOOLS: list[Callable[..., Any]] = []
Tool = TypeVar("Tool", bound=Callable[..., Any])


def tool(hints: Hints) -> Callable[[Tool], Tool]:
    """Declare the function a tool, with its hints; TOOLS keeps the order tools/list shows."""

    def declare(function: Tool) -> Tool:
        function.hints = hints  # type: ignore[attr-defined]
        TOOLS.append(function)
        return function

    return declare


def _json(model: BaseModel) -> dict[str, Any]:
    """The model as the REST envelope shows it (dates as RFC 1123, money as exact Decimals, and so on)."""
    return json_ready(model)


# ------------------------------------------------------------------------------------------- user


@tool(READ_ONLY)
def user_view(caller: Caller) -> dict[str, Any]:
    """The signed-in user: id, email, first and last name, credit balance (`credits`), and whether the account
    is active, has two-factor authentication and prefers dark mode."""
    # GET /users/{id} for one's own id.
    return _json(caller.own_user().view())


# ------------------------------------------------------------------------------------------- transactions


@tool(READ_ONLY)
def transaction_view_all(caller: Caller, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> list[dict[str, Any]]:
    """The user's credit transactions, newest first, a page at a time: each has id, type (CREDIT for a purchase
    or refund, DEBIT for an analysis), description, value_in_credits, value_in_fiat (dollars) and dates."""
    # GET /users/{id}/transactions.
    page = page_of({"limit": limit, "offset": offset})
    return [_json(view) for view in ledger.list_transaction_views(caller.own_user().id, page.limit, page.offset)]


@tool(READ_ONLY)
def transaction_view(
    caller: Caller,
    transaction_id: Annotated[str, Field(description="The transaction's id, e.g. transaction_<32 hex digits>.")],
) -> dict[str, Any]:
    """One of the user's credit transactions by its id."""
    # GET /users/{id}/transactions/{transaction_id}; another user's transaction is not found.
    return _json(ledger.transaction_of(caller.own_user().id, transaction_id).view())


# ------------------------------------------------------------------------------------------- tasks


@tool(READ_ONLY)
def task_view_all(caller: Caller, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> list[dict[str, Any]]:
    """The user's analysis tasks, newest first, a page at a time, each with its status and, once COMPLETED,
    its result."""
    # GET /users/{id}/tasks.
    page = page_of({"limit": limit, "offset": offset})
    return [_json(tasks.task_view(task)) for task in tasks.tasks_page(caller.own_user().id, page.limit, page.offset)]


@tool(READ_ONLY)
def task_view(caller: Caller, task_id: TaskId) -> dict[str, Any]:
    """One analysis task of the user: status PENDING or PROCESSING (call again in a few seconds), COMPLETED
    (the verdict and its explanation are in `result`) or FAILED (`error` says why; the credits were refunded)."""
    # GET /users/{id}/tasks/{task_id}; another user's task is not found.
    return _json(tasks.task_view(tasks.task_of(caller.own_user().id, task_id)))


@tool(Hints(read_only=False, destructive=True, idempotent=False, open_world=False))
def task_cancel(caller: Caller, task_id: TaskId) -> dict[str, Any]:
    """Cancel one of the user's analysis tasks while it is PENDING: it ends FAILED ("Cancelled at the user's
    request.") and its credits are refunded. Fails with "The task can no longer be cancelled." once it is
    PROCESSING, COMPLETED or FAILED."""
    # POST /users/{id}/tasks/{task_id}/cancel; another user's task is not found.
    return _json(tasks.task_view(cancel_task(caller.own_user().id, task_id)))


# ------------------------------------------------------------------------------------------- agent


@tool(READ_ONLY)
def agent_supported_attachments() -> dict[str, list[str]]:
    """The file extensions agent_analysis accepts, by kind (image, video, audio, pdf)."""
    # GET /users/{id}/agent/supported_attachments.
    return supported_attachments_view()


@tool(Hints(read_only=False, destructive=False, idempotent=False, open_world=False))
def agent_analysis(
    caller: Caller,
    text: Annotated[
        str, Field(description=f"The claim or passage to fact-check (up to {MAX_TEXT:,} characters).")
    ] = "",
    files: Annotated[
        Sequence[AttachmentFile],
        Field(
            max_length=MAX_FILES,
            description=f"Up to {MAX_FILES} files (image, video, audio, PDF) with distinct names, base64-encoded.",
        ),
    ] = (),
) -> dict[str, Any]:
    """Fact-check a claim: text, files, or both. Charges the analysis cost in credits and returns the new task
    (status PENDING) at once; poll task_view with its id until the status is COMPLETED or FAILED. Fails with
    "You do not have enough credits ..." when the balance is too low (stripe_buy sells credits)."""
    # POST /users/{id}/agent/analysis with the files as base64 instead of multipart parts; the request's rules are
    # the REST route's (clara.domain.analysis.submission.checked_request, check_upload for each file).
    user = caller.own_user()
    text, uploads = read_analysis_arguments(text, files)
    return _json(tasks.task_view(submission.submit(user, text, uploads)))


def read_analysis_arguments(text: str, files: Sequence[AttachmentFile]) -> tuple[str, list[Upload]]:
    """The stripped text and the checked uploads; 400 Invalid Schema for anything the REST route refuses."""
    settings = get_settings()
    if len(files) > settings.max_attachments:  # before decoding anything
        raise InvalidSchema.because("files", f"at most {settings.max_attachments} files")
    return submission.checked_request(text, [check_upload(file.name, _decode(file.content_base64)) for file in files])


def _decode(content_base64: str) -> bytes:
    """Strict base64: characters outside the alphabet, or bad padding, are 400 Invalid Schema."""
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidSchema.because("content_base64", "not valid base64") from error


# ------------------------------------------------------------------------------------------- billing


@tool(READ_ONLY)
def stripe_rate() -> list[dict[str, Any]]:
    """The prices of credits: bands of purchase amounts in whole dollars (lower_limit to upper_limit) and the
    credits each dollar buys in that band (rate)."""
    # GET /stripe/rate.
    return rates.rates_view()


@tool(Hints(read_only=False, destructive=False, idempotent=False, open_world=True))
def stripe_buy(
    caller: Caller,
    amount: Annotated[int, Field(ge=1, description="Whole dollars to spend; must fall in a band of stripe_rate.")],
    return_path: Annotated[
        str, Field(max_length=512, description="Path on the Clara web app to return to after paying, e.g. /billing.")
    ],
    request_id: str,
) -> dict[str, Any]:
    """Start buying credits: a Stripe Checkout page (`url`) for a person to pay at, with the credits it will
    add (value_in_credits). Nothing is charged or credited until that payment completes."""
    # POST /stripe/buy: a Checkout Session for `amount` dollars of credits (credited once paid).
    user = caller.own_user()
    request = parsed(BuyRequest, {"amount": amount, "return_path": return_path})
    return _json(purchases.checkout(user, request, request_id))

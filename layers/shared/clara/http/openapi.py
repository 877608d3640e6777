"""How a route documents itself for the OpenAPI document: its request, its success envelope and its errors.

Handlers authenticate before they read a body, so Powertools' validation stays off (clara.http.app.create_app) and
its OpenAPI generator cannot see request models in handler signatures. `documented()` therefore returns the
keyword arguments of Powertools' route decorators: the responses as envelope models (Powertools turns them into
schemas), the security, and the request body or query model as a reference that the document builder
(local_runtime/openapi.py) resolves when it merges every function's schema into one document.

Each route states its success once, as a module constant of its function (`TASK_FETCHED = Success(200, TaskView,
"Task fetched successfully.")`): `documented()` reads it for the document and the handler answers with it
(`TASK_FETCHED.answer(view)`), so the declared status and message are the ones sent (tests/unit/test_route_answers.py).

Nothing here builds a schema or a model class at import: declaring a route costs a few dicts. A success's
envelope, `Envelope[<its data type>]`, is a new pydantic class (about 3.5 M instructions each), made only when the
document is built (EnvelopeContent).
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from clara.contract.errors import (
    AuthenticationFailed,
    ClaraError,
    EmptyBody,
    InvalidSchema,
    NoAccess,
    RateLimitExceeded,
    ServiceBusy,
    SomethingWentWrong,
)
from clara.formats import LazyModel
from clara.http.envelope import no_content, success

Data = TypeVar("Data")

JSON = "application/json"
SCHEMAS = "#/components/schemas/"
# Request and query models by name, for the document builder: filled as routes are declared.
REQUEST_MODELS: dict[str, type[BaseModel]] = {}
QUERY_EXTENSION = "x-clara-query"
# Request headers a route reads (beyond its credential), as OpenAPI header parameters: the document builder adds them
# to the route's parameters (Powertools writes its own over any `parameters` given here).
HEADERS_EXTENSION = "x-clara-headers"


class Envelope(LazyModel, Generic[Data]):
    """Every successful JSON answer."""

    data: Data
    message: str
    status: Literal["success"]


class ErrorEnvelope(LazyModel):
    """Every error answer: the contract's message; `data` is null or says more: is_2fa_enabled on a 401, and on a
    400 Empty Body or Invalid Schema `errors`, each wrong `field` and its `problem` (`required`, or why)."""

    data: dict[str, Any] | None
    message: str
    status: Literal["error"]


class Success(NamedTuple):
    """The success answer of a route: its status, the type of the envelope's data and the contract's message."""

    status: int
    data: Any
    message: str

    def answer(self, data: Any = None, headers: dict[str, str] | None = None) -> Response[Any]:
        """The envelope of `data` with this status and message (and `headers`, which the route documents in
        `ok_headers`); a 204 carries no body at all."""
        if self.status == 204:
            return no_content()
        return success(data, self.message, self.status, headers)


NO_CONTENT = Success(204, None, "No content.")


class EnvelopeContent(Mapping[str, Any]):
    """`{"model": Envelope[data]}`, the success's media type as Powertools reads it for the OpenAPI document, with
    the envelope parametrised on first read rather than when the route is declared: requests never read it, so a
    cold start does not pay for a class per route (docs/budgets.md, Cold start)."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self._model: type[BaseModel] | None = None

    def __getitem__(self, key: str) -> Any:
        if key != "model":
            raise KeyError(key)
        if self._model is None:  # kept: Powertools finds the response's field by this very class
            self._model = Envelope[self.data]  # type: ignore[name-defined]  # a generic parametrised at runtime
        return self._model

    def __iter__(self) -> Iterator[str]:
        return iter(("model",))

    def __len__(self) -> int:
        return 1


# Roles as OpenAPI security schemes (the document builder declares the schemes themselves).
BEARER = "BearerToken"  # a user token or an API key token
API_KEY = "ApiKey"  # the raw public or private key
BASIC = "BasicAuth"  # email and password, for login only
# By clara.http.auth.Role's values (a StrEnum), so that documenting a route does not import the auth machinery.
_SCHEME_OF_ROLE = {"user": BEARER, "api_key": BEARER, "public": API_KEY, "private": API_KEY}

ErrorLike = ClaraError | type[ClaraError]


def documented(
    summary: str,
    ok: Success | tuple[Success, ...],
    *,
    auth: Iterable[str] = (),
    basic_auth: bool = False,
    body: type[BaseModel] | dict[str, Any] | None = None,
    body_required: bool = True,
    query: type[BaseModel] | None = None,
    headers: dict[str, str] | None = None,
    errors: Iterable[ErrorLike] = (),
    ok_content: dict[str, Any] | None = None,
    ok_headers: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `@app.<method>(path, **documented(...))` (clara.http.routes.Routes declares a route that
    takes a credential with these).

    `errors` lists what the route's own logic raises; the errors every credential, body or query can cause are
    added here, once: 401 and 429 with any credential, 403 for a credential the route does not take, 400 for a
    body or query, and 500. `ok_content` replaces the envelope for the few answers that are not JSON envelopes;
    `ok_headers` documents the headers of the success (OpenAPI Header Objects by name, e.g. a 201's Location);
    `headers` the optional request headers the route reads, by name with their description (an Idempotency-Key), so
    that Swagger UI's "Try it out" can send them.
    `ok` may be a few answers of one status and data type that differ by message (one route, two outcomes).
    """
    roles = tuple(auth)
    answers: list[ErrorLike] = list(errors)
    security: list[dict[str, list[str]]] = [{scheme: []} for scheme in dict.fromkeys(_SCHEME_OF_ROLE[r] for r in roles)]
    if basic_auth:
        security.append({BASIC: []})
    if roles or basic_auth:
        answers += [AuthenticationFailed, RateLimitExceeded]
    if roles:
        answers.append(NoAccess)
    extensions: dict[str, Any] = {}
    if body is not None:
        extensions["requestBody"] = _request_body(body, body_required)
        answers += [EmptyBody, InvalidSchema] if body_required else [InvalidSchema]
    if query is not None:
        REQUEST_MODELS[query.__name__] = query
        extensions[QUERY_EXTENSION] = query.__name__
        answers.append(InvalidSchema)
    if headers:
        extensions[HEADERS_EXTENSION] = [
            {"name": name, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        ]
    answers.append(SomethingWentWrong)
    return {
        "summary": summary,
        "responses": {_status(ok): _success(ok, ok_content, ok_headers), **_errors(answers)},
        "security": security or None,
        "openapi_extensions": extensions,
    }


def _request_body(body: type[BaseModel] | dict[str, Any], required: bool) -> dict[str, Any]:
    if isinstance(body, dict):  # a media type and schema written out (multipart uploads)
        return {"required": required, "content": body}
    REQUEST_MODELS[body.__name__] = body
    return {"required": required, "content": {JSON: {"schema": {"$ref": SCHEMAS + body.__name__}}}}


def _status(ok: Success | tuple[Success, ...]) -> int:
    return ok.status if isinstance(ok, Success) else ok[0].status


def _success(
    ok: Success | tuple[Success, ...], content: dict[str, Any] | None, headers: dict[str, dict[str, Any]] | None
) -> dict[str, Any]:
    outcomes = (ok,) if isinstance(ok, Success) else ok
    first = outcomes[0]
    if any((outcome.status, outcome.data) != (first.status, first.data) for outcome in outcomes):
        raise ValueError("one route's answers differ by message only")
    if first.status == 204:
        return {"description": "No content: the body is empty."}
    description = " | ".join(outcome.message for outcome in outcomes)
    if content is None:
        content = {JSON: EnvelopeContent(first.data)}
    return {"description": description, **({"headers": headers} if headers else {}), "content": content}


def _errors(answers: Iterable[ErrorLike]) -> dict[int, dict[str, Any]]:
    """One response per status; its description lists the contract's messages for that status."""
    messages: dict[int, list[str]] = {}
    for error in answers:
        status_messages = messages.setdefault(error.status_code, [])
        if error.message not in status_messages:
            status_messages.append(error.message)
    responses: dict[int, dict[str, Any]] = {}
    for status, texts in sorted(messages.items()):
        response: dict[str, Any] = {
            "description": " | ".join(texts),
            "content": {JSON: {"model": ErrorEnvelope}},
        }
        if status in (RateLimitExceeded.status_code, ServiceBusy.status_code):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
        responses[status] = response
    return responses

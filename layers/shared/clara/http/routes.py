"""A route that takes a credential, declared once: its method, path, summary, success, roles, body and errors are
both its OpenAPI declaration (clara.http.openapi.documented) and the checks a request goes through before its
handler runs, so what the document says about who may call cannot drift from what is checked.

    routes = Routes(create_app())

    @routes.post(
        "/users/<user_id>/webhooks",
        "Add an endpoint for signed events",
        WEBHOOK_CREATED,
        auth=OWNER,
        active=True,
        body=NewWebhookRequest,
        errors=(NotFound("User"), WebhookUrlRefused),
    )
    def create(call: Call[NewWebhookRequest]) -> Response[Any]:
        return WEBHOOK_CREATED.answer(endpoints.create(call.user.id, call.body))

Before the handler runs, the caller is authenticated by exactly the declared roles (clara.http.auth.authenticate;
with `active`, an inactive user is refused, and that 401 is documented), then a `<user_id>` in the path becomes the
user it names (clara.http.auth.user_in_path: 403 for another's). The body is read when the handler first asks for
`call.body`, so always after the credential (an anonymous caller learns nothing of a schema) and in the order the
handler needs (an ownership check may come first). The path's other parameters reach the handler as keyword
arguments, as Powertools passes them.

Powertools still routes and documents the route: what it registers carries the handler's name (the operationId)
and a signature of the path's parameters alone, which is what it reads for the document's path parameters.
Powertools' own `Depends()` could hand a handler its caller too, but the roles would then be written twice: in the
dependency and in the documented security.

Routes without a credential (health, the docs, Google sign-in, the Basic-auth login) are declared with
`@app.<method>(path, **documented(...))` directly.
"""

import inspect
import re
from collections.abc import Callable, Iterable
from functools import cached_property, partialmethod
from typing import Any, Generic, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from clara.contract.errors import InactiveUser
from clara.http.app import read_body
from clara.http.auth import Caller, Role, User, authenticate, user_in_path
from clara.http.openapi import ErrorLike, Success, documented

Body = TypeVar("Body")
Handler = Callable[..., Response[Any]]
_PATH_PARAMETER = re.compile(r"<(\w+)>")


class Call(Generic[Body]):
    """One authenticated request to a route: its event, its caller, the user its path names, and its body."""

    def __init__(
        self, event: APIGatewayProxyEvent, caller: Caller, user: User | None, body_model: type[BaseModel] | None
    ) -> None:
        self.event = event
        self.caller = caller
        self._user = user
        self._body_model = body_model

    @property
    def user(self) -> User:
        """The user the path's `<user_id>` names, the caller's own unless the caller is the admin."""
        if self._user is None:
            raise LookupError("this route's path names no <user_id>")
        return self._user

    @cached_property
    def body(self) -> Body:
        """The JSON body as the route's declared model, read on first use (clara.http.app.read_body: 400s)."""
        if self._body_model is None:
            raise LookupError("this route declares no JSON body")
        return cast(Body, read_body(self.event, self._body_model))


class Routes:
    """The routes of one resolver that take a credential; `get`, `post`, `put`, `patch` and `delete` declare one."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        self.app = app

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        ok: Success | tuple[Success, ...],
        *,
        auth: tuple[Role, ...],
        active: bool = False,
        body: type[BaseModel] | dict[str, Any] | None = None,
        query: type[BaseModel] | None = None,
        headers: dict[str, str] | None = None,
        errors: Iterable[ErrorLike] = (),
        ok_headers: dict[str, dict[str, Any]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare `handler(call, **other_path_parameters)` for `method path`: documented with `summary`, `ok` and
        `errors` (and what the roles, `active`, the body and the query imply), called once the caller holds one of
        `auth` (an active user's, with `active`). `body` is a JSON model, which `call.body` reads, or a media type
        and schema written out (multipart: the handler reads it from `call.event`)."""
        declaration = documented(
            summary,
            ok,
            auth=auth,
            body=body,
            query=query,
            headers=headers,
            errors=(InactiveUser, *errors) if active else errors,
            ok_headers=ok_headers,
        )
        body_model = body if isinstance(body, type) else None
        parameters = _PATH_PARAMETER.findall(path)

        def register(handler: Handler) -> Handler:
            def endpoint(**arguments: str) -> Response[Any]:
                event = self.app.current_event
                caller = authenticate(event, *auth, active=active)
                user_id = arguments.pop("user_id", None)
                user = None if user_id is None else user_in_path(caller, user_id)
                return handler(Call(event, caller, user, body_model), **arguments)

            endpoint.__name__ = handler.__name__
            endpoint.__qualname__ = handler.__qualname__
            endpoint.__module__ = handler.__module__
            # What Powertools reads for the path parameters: the path's, as the strings they arrive as.
            endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
                [
                    inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)
                    for name in parameters
                ],
                return_annotation=Response[Any],
            )
            self.app.route(path, method, **declaration)(endpoint)
            return handler

        return register

    # As Powertools' resolver spells them: `@routes.post(path, summary, ok, auth=..., ...)`.
    get = partialmethod(route, "GET")
    post = partialmethod(route, "POST")
    put = partialmethod(route, "PUT")
    patch = partialmethod(route, "PATCH")
    delete = partialmethod(route, "DELETE")

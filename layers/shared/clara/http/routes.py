"""A route that takes a credential, declared once: its method, path, summary, success, roles, body and errors are
both its OpenAPI declaration (clara.http.openapi.documented) and the checks a request goes through before its
handler runs, so what the document says about who may call cannot drift from what is checked.

    routes = Routes(create_app(), auth=OWNER, active=True)

    @routes.post("/users/<user_id>/webhooks", "Add an endpoint", CREATED, body=NewWebhook, errors=(UrlRefused,))
    def create(call: Call[NewWebhook]) -> Response[Any]:
        return CREATED.answer(endpoints.create(call.user.id, call.body))

`Routes(app, auth=..., active=..., errors=..., not_found=...)` states what a function's routes have in common, so
that each declaration states what is its own: a route's `auth` and `active` replace the function's, its `errors` add
to them. `not_found={"task_id": "Task"}` documents the 404 of every route whose path names a task.

Before the handler runs, the caller is authenticated by exactly the declared roles (clara.http.auth.authenticate;
with `active`, an inactive user is refused, and that 401 is documented), then a `<user_id>` in the path becomes the
user it names (clara.http.auth.user_in_path: 403 for another's; for the admin, 404 for a user that does not exist,
which a route the private key may call therefore documents). The body is read when the handler first asks for
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

from clara.contract.errors import InactiveUser, NotFound
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
    """The routes of one resolver that take a credential; `get`, `post`, `put`, `patch` and `delete` declare one.

    `auth`, `active` and `errors` are the defaults of its routes: their callers, whether those must be active users,
    and what each of them may answer besides its own errors; `not_found`, by path parameter, the name of what the
    parameter names (NotFound: 404 when there is none), for the routes whose path has it."""

    def __init__(
        self,
        app: APIGatewayRestResolver,
        *,
        auth: tuple[Role, ...] = (),
        active: bool = False,
        errors: Iterable[ErrorLike] = (),
        not_found: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.active = active
        self.errors = tuple(errors)
        self.not_found = not_found or {}

    def route(
        self,
        method: str,
        path: str,
        summary: str,
        ok: Success | tuple[Success, ...],
        *,
        auth: tuple[Role, ...] | None = None,
        active: bool | None = None,
        body: type[BaseModel] | dict[str, Any] | None = None,
        query: type[BaseModel] | None = None,
        headers: dict[str, str] | None = None,
        errors: Iterable[ErrorLike] = (),
        ok_headers: dict[str, dict[str, Any]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare `handler(call, **other_path_parameters)` for `method path`: documented with `summary`, `ok` and
        `errors` (and what the roles, `active`, the body and the query imply), called once the caller holds one of
        `auth` (an active user's, with `active`); without `auth` or `active`, the ones of these routes. `body` is a
        JSON model, which `call.body` reads, or a media type and schema written out (multipart: the handler reads it
        from `call.event`)."""
        roles = self.auth if auth is None else auth
        if not roles:
            raise TypeError(f"{method} {path} takes a credential: name its roles, here or in Routes(app, auth=...)")
        only_active = self.active if active is None else active
        parameters = _PATH_PARAMETER.findall(path)
        implied: list[ErrorLike] = [InactiveUser] if only_active else []
        if "user_id" in parameters and Role.PRIVATE in roles:
            implied.append(NotFound("User"))  # the admin may name any user, one that does not exist too (user_in_path)
        implied += self.errors
        implied += [NotFound(self.not_found[name]) for name in parameters if name in self.not_found]
        declaration = documented(
            summary,
            ok,
            auth=roles,
            body=body,
            query=query,
            headers=headers,
            errors=(*implied, *errors),
            ok_headers=ok_headers,
        )
        body_model = body if isinstance(body, type) else None

        def register(handler: Handler) -> Handler:
            def endpoint(**arguments: str) -> Response[Any]:
                event = self.app.current_event
                caller = authenticate(event, *roles, active=only_active)
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

    # As Powertools' resolver spells them: `@routes.post(path, summary, ok, ...)`.
    get = partialmethod(route, "GET")
    post = partialmethod(route, "POST")
    put = partialmethod(route, "PUT")
    patch = partialmethod(route, "PATCH")
    delete = partialmethod(route, "DELETE")

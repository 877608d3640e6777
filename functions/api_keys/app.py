"""API keys: view and reset one's API key (user token only; an API key token cannot manage keys)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import NotFound
from clara.domain.accounts.api_keys import ApiKeyView, get_api_key, reset_api_key, view
from clara.http.app import create_app, lambda_handler_for
from clara.http.auth import Role, authenticate, user_in_path
from clara.http.openapi import Success, documented

app = create_app()
# Who may call each route: documented on the route and checked by authenticate, from one tuple.
USER = (Role.USER,)


API_KEY_FETCHED = Success(200, ApiKeyView, "API key fetched successfully.")


@app.get(
    "/users/<user_id>/api_key",
    **documented(
        "The user's API key token",
        API_KEY_FETCHED,
        auth=USER,
        errors=(NotFound("API key"),),
    ),
)
def view_api_key(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER)
    return API_KEY_FETCHED.answer(view(get_api_key(user_in_path(caller, user_id))))


API_KEY_RESET = Success(201, ApiKeyView, "API key reset successfully.")


@app.post(
    "/users/<user_id>/api_key",
    **documented(
        "Replace the user's API key; the old token stops working at once",
        API_KEY_RESET,
        auth=USER,
    ),
)
def reset(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *USER)
    return API_KEY_RESET.answer(view(reset_api_key(caller, user_in_path(caller, user_id))))


lambda_handler = lambda_handler_for(app)

"""API keys: view and reset one's API key (user token only; an API key token cannot manage keys)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import NotFound
from clara.domain.accounts.api_keys import ApiKeyView, get_api_key, reset_api_key, view
from clara.http.app import create_app, lambda_handler_for
from clara.http.auth import Role
from clara.http.openapi import Success
from clara.http.routes import Call, Routes

app = create_app()
# A user token only: an API key token cannot manage keys.
routes = Routes(app, auth=(Role.USER,))


API_KEY_FETCHED = Success(200, ApiKeyView, "API key fetched successfully.")


@routes.get("/users/<user_id>/api_key", "The user's API key token", API_KEY_FETCHED, errors=(NotFound("API key"),))
def view_api_key(call: Call[None]) -> Response[Any]:
    return API_KEY_FETCHED.answer(view(get_api_key(call.user)))


API_KEY_RESET = Success(201, ApiKeyView, "API key reset successfully.")


@routes.post(
    "/users/<user_id>/api_key",
    "Replace the user's API key; the old token stops working at once",
    API_KEY_RESET,
)
def reset(call: Call[None]) -> Response[Any]:
    return API_KEY_RESET.answer(view(reset_api_key(call.caller, call.user)))


lambda_handler = lambda_handler_for(app)

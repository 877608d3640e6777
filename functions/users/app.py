"""Users: view and update one's profile; with the private key, list, delete and set the credits of any user."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import NotFound
from clara.contract.requests import SetCreditsRequest, UpdateUserRequest
from clara.domain import users
from clara.domain.users import AdminUserView, UserView
from clara.http.app import Page, create_app, lambda_handler_for, read_body, read_page
from clara.http.auth import Role, authenticate, user_in_path
from clara.http.openapi import NO_CONTENT, Success, documented

app = create_app()
# Who may call each route: documented on the route and checked by authenticate, from one tuple.
ADMIN = (Role.PRIVATE,)
READERS = (Role.USER, Role.API_KEY, Role.PRIVATE)
EDITORS = (Role.USER, Role.PRIVATE)


USERS_FETCHED = Success(200, list[AdminUserView], "Users fetched successfully.")


@app.get(
    "/users",
    **documented(
        "Every user, newest first (private key)",
        USERS_FETCHED,
        auth=ADMIN,
        query=Page,
    ),
)
def list_users() -> Response[Any]:
    authenticate(app.current_event, *ADMIN)
    page = read_page(app.current_event)
    found = users.list_users(page.limit, page.offset)
    return USERS_FETCHED.answer([user.admin_view() for user in found])


USER_FETCHED = Success(200, UserView | AdminUserView, "User fetched successfully.")


@app.get(
    "/users/<user_id>",
    **documented(
        "The user",
        USER_FETCHED,
        auth=READERS,
        errors=(NotFound("User"),),
    ),
)
def view_user(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *READERS)
    user = user_in_path(caller, user_id)
    return USER_FETCHED.answer(user.admin_view() if caller.is_admin else user.view())


USER_UPDATED = Success(200, UserView | AdminUserView, "User updated successfully.")


@app.patch(
    "/users/<user_id>",
    **documented(
        "Update the user's names or dark mode",
        USER_UPDATED,
        auth=EDITORS,
        body=UpdateUserRequest,
        errors=(NotFound("User"),),
    ),
)
def update_user(user_id: str) -> Response[Any]:
    # Imported here, as in delete_user: the accounts package (mail, notices, 2FA, Google sign-in) is a cost that
    # reading a user, this function's common route, would otherwise pay at every cold start.
    from clara.domain import accounts

    caller = authenticate(app.current_event, *EDITORS)
    user = user_in_path(caller, user_id)
    updated = accounts.update_user(caller, user, read_body(app.current_event, UpdateUserRequest))
    return USER_UPDATED.answer(updated.admin_view() if caller.is_admin else updated.view())


@app.delete(
    "/users/<user_id>",
    **documented(
        "Delete the user and everything it owns (private key)",
        NO_CONTENT,
        auth=ADMIN,
        errors=(NotFound("User"),),
    ),
)
def delete_user(user_id: str) -> Response[Any]:
    from clara.domain import accounts  # on first use: see update_user

    caller = authenticate(app.current_event, *ADMIN)
    accounts.delete_user(caller, user_in_path(caller, user_id))
    return NO_CONTENT.answer()


CREDITS_SET = Success(200, AdminUserView, "User credits updated successfully.")


@app.put(
    "/users/<user_id>/credits",
    **documented(
        "Set the user's balance; the ledger records the difference (private key)",
        CREDITS_SET,
        auth=ADMIN,
        body=SetCreditsRequest,
        errors=(NotFound("User"),),
    ),
)
def set_credits(user_id: str) -> Response[Any]:
    from clara.domain import ledger  # on first use: only the admin's credit changes write the ledger

    caller = authenticate(app.current_event, *ADMIN)
    user = user_in_path(caller, user_id)
    request = read_body(app.current_event, SetCreditsRequest)
    updated = ledger.set_balance(user, request.credits, source_ip=caller.source_ip)
    return CREDITS_SET.answer(updated.admin_view())


lambda_handler = lambda_handler_for(app)

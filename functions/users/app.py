"""Users: view and update one's profile; with the private key, list, delete and set the credits of any user."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.requests import SetCreditsRequest, UpdateUserRequest
from clara.domain.analysis import ports as analysis_ports
from clara.http.app import Page, create_app, lambda_handler_for, read_page
from clara.http.auth import Role
from clara.http.openapi import NO_CONTENT, Success
from clara.http.routes import Call, Routes
from clara.integrations.s3_attachments import S3Attachments
from clara.records.accounts import AdminUserView, UserView

# The adapters of the ports this function's code calls (clara.domain.ports; tests/unit/test_wiring.py).
analysis_ports.attachments.plug(S3Attachments)

app = create_app()
# Who may call each route (clara.http.routes checks the roles a route declares): the private key, but where a route
# names others.
routes = Routes(app, auth=(Role.PRIVATE,))
READERS = (Role.USER, Role.API_KEY, Role.PRIVATE)
EDITORS = (Role.USER, Role.PRIVATE)


USERS_FETCHED = Success(200, list[AdminUserView], "Users fetched successfully.")


@routes.get("/users", "Every user, newest first (private key)", USERS_FETCHED, query=Page)
def list_users(call: Call[None]) -> Response[Any]:
    page = read_page(call.event)
    from clara.domain.accounts import profile  # on first use: see update_user

    found = profile.users_page(page.limit, page.offset)
    return USERS_FETCHED.answer([user.admin_view() for user in found])


USER_FETCHED = Success(200, UserView | AdminUserView, "User fetched successfully.")


@routes.get("/users/<user_id>", "The user", USER_FETCHED, auth=READERS)
def view_user(call: Call[None]) -> Response[Any]:
    return USER_FETCHED.answer(call.user.admin_view() if call.caller.is_admin else call.user.view())


USER_UPDATED = Success(200, UserView | AdminUserView, "User updated successfully.")


@routes.patch(
    "/users/<user_id>",
    "Update the user's names or dark mode",
    USER_UPDATED,
    auth=EDITORS,
    body=UpdateUserRequest,
)
def update_user(call: Call[UpdateUserRequest]) -> Response[Any]:
    # Imported here, as in the other writes: the profile's rules (sessions, audit, notices) are a cost that reading
    # a user, this function's common route, would otherwise pay at every cold start
    # (tests/unit/test_cold_start_imports.py).
    from clara.domain.accounts import profile

    updated = profile.update_user(call.caller, call.user, call.body)
    return USER_UPDATED.answer(updated.admin_view() if call.caller.is_admin else updated.view())


@routes.delete("/users/<user_id>", "Delete the user and everything it owns (private key)", NO_CONTENT)
def delete_user(call: Call[None]) -> Response[Any]:
    from clara.domain.accounts import profile  # on first use: see update_user

    profile.delete_user(call.caller, call.user)
    return NO_CONTENT.answer()


CREDITS_SET = Success(200, AdminUserView, "User credits updated successfully.")


@routes.put(
    "/users/<user_id>/credits",
    "Set the user's balance; the ledger records the difference (private key)",
    CREDITS_SET,
    body=SetCreditsRequest,
)
def set_credits(call: Call[SetCreditsRequest]) -> Response[Any]:
    from clara.domain.credits import ledger  # on first use: only the admin's credit changes write the ledger

    updated = ledger.set_balance(call.user, call.body.credits, source_ip=call.caller.source_ip)
    return CREDITS_SET.answer(updated.admin_view())


lambda_handler = lambda_handler_for(app)

"""Transactions: a user's ledger entries, newest first. With the private key, POST records a new one."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import ledger
from clara.api import create_app, lambda_handler_for, read_body, read_page
from clara.auth import Role, authenticate, user_in_path
from clara.envelope import success
from clara.errors import NotFound
from clara.schemas import NewTransactionRequest

app = create_app()


@app.get("/users/<user_id>/transactions")
def list_transactions(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, Role.API_KEY, Role.PRIVATE, active=True)
    user = user_in_path(caller, user_id)
    page = read_page(app.current_event)
    found = ledger.list_transactions(user.id, page.limit, page.offset)
    return success([transaction.view() for transaction in found], "Transactions fetched successfully.")


@app.get("/users/<user_id>/transactions/<transaction_id>")
def view_transaction(user_id: str, transaction_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.USER, Role.API_KEY, Role.PRIVATE, active=True)
    user = user_in_path(caller, user_id)
    transaction = ledger.get_transaction(user.id, transaction_id)
    if transaction is None:  # another user's transaction is not found under this user either
        raise NotFound("Transaction")
    return success(transaction.view(), "Transaction fetched successfully.")


@app.post("/users/<user_id>/transactions")
def add_transaction(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, Role.PRIVATE)
    user = user_in_path(caller, user_id)
    request = read_body(app.current_event, NewTransactionRequest)
    # A retried request with the same Idempotency-Key records the transaction once.
    idempotency_key = app.current_event.headers.get("Idempotency-Key")
    transaction = ledger.admin_transaction(user, request, idempotency_key, source_ip=caller.source_ip)
    return success(transaction.view(), "Transaction created successfully.", 201)


lambda_handler = lambda_handler_for(app)

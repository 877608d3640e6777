"""Transactions: a user's ledger entries, newest first. With the private key, POST records a new one."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import IdempotencyKeyReused, InactiveUser, InsufficientCredits, NotFound
from clara.contract.requests import NewTransactionRequest
from clara.domain.credits import ledger
from clara.domain.credits.ledger import TransactionView
from clara.http.app import Page, create_app, lambda_handler_for, read_body, read_page
from clara.http.auth import Role, authenticate, user_in_path
from clara.http.openapi import Success, documented

app = create_app()
# Who may call each route: documented on the route and checked by authenticate, from one tuple.
READERS = (Role.USER, Role.API_KEY, Role.PRIVATE)
ADMIN = (Role.PRIVATE,)


TRANSACTIONS_FETCHED = Success(200, list[TransactionView], "Transactions fetched successfully.")


@app.get(
    "/users/<user_id>/transactions",
    **documented(
        "The user's transactions, newest first",
        TRANSACTIONS_FETCHED,
        auth=READERS,
        query=Page,
        errors=(InactiveUser, NotFound("User")),
    ),
)
def list_transactions(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *READERS, active=True)
    user = user_in_path(caller, user_id)
    page = read_page(app.current_event)
    found = ledger.list_transactions(user.id, page.limit, page.offset)
    return TRANSACTIONS_FETCHED.answer([transaction.view() for transaction in found])


TRANSACTION_FETCHED = Success(200, TransactionView, "Transaction fetched successfully.")


@app.get(
    "/users/<user_id>/transactions/<transaction_id>",
    **documented(
        "One transaction of the user",
        TRANSACTION_FETCHED,
        auth=READERS,
        errors=(InactiveUser, NotFound("User"), NotFound("Transaction")),
    ),
)
def view_transaction(user_id: str, transaction_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *READERS, active=True)
    user = user_in_path(caller, user_id)
    return TRANSACTION_FETCHED.answer(ledger.transaction_of(user.id, transaction_id).view())


TRANSACTION_CREATED = Success(201, TransactionView, "Transaction created successfully.")


@app.post(
    "/users/<user_id>/transactions",
    **documented(
        "Record a transaction (private key); a repeated Idempotency-Key with the same body records it once, with "
        "another body it is a 409",
        TRANSACTION_CREATED,
        auth=ADMIN,
        body=NewTransactionRequest,
        headers={
            "Idempotency-Key": "Any text of the client's: the same body under the same key records the transaction "
            "once and answers it again; another body under it is 409. Keys are per user."
        },
        errors=(NotFound("User"), InsufficientCredits, IdempotencyKeyReused),
    ),
)
def add_transaction(user_id: str) -> Response[Any]:
    caller = authenticate(app.current_event, *ADMIN)
    user = user_in_path(caller, user_id)
    request = read_body(app.current_event, NewTransactionRequest)
    # A retried request with the same Idempotency-Key records the transaction once (409 for another body).
    idempotency_key = app.current_event.headers.get("Idempotency-Key")
    transaction = ledger.admin_transaction(user, request, idempotency_key, source_ip=caller.source_ip)
    return TRANSACTION_CREATED.answer(transaction.view())


lambda_handler = lambda_handler_for(app)

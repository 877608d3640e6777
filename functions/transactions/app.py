"""Transactions: a user's ledger entries, newest first. With the private key, POST records a new one."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara.contract.errors import IdempotencyKeyReused, InsufficientCredits
from clara.contract.requests import NewTransactionRequest
from clara.domain.credits import ledger
from clara.domain.credits.ledger import TransactionView
from clara.http.app import Page, create_app, lambda_handler_for, read_page
from clara.http.auth import Role
from clara.http.openapi import Success
from clara.http.routes import Call, Routes

app = create_app()
# Who may call each route (clara.http.routes checks the roles a route declares): the user's ledger is read by an
# active user (a user or API key token) or the private key; only the private key writes to it.
routes = Routes(
    app, auth=(Role.USER, Role.API_KEY, Role.PRIVATE), active=True, not_found={"transaction_id": "Transaction"}
)
ADMIN = (Role.PRIVATE,)


TRANSACTIONS_FETCHED = Success(200, list[TransactionView], "Transactions fetched successfully.")


@routes.get("/users/<user_id>/transactions", "The user's transactions, newest first", TRANSACTIONS_FETCHED, query=Page)
def list_transactions(call: Call[None]) -> Response[Any]:
    page = read_page(call.event)
    return TRANSACTIONS_FETCHED.answer(ledger.list_transaction_views(call.user.id, page.limit, page.offset))


TRANSACTION_FETCHED = Success(200, TransactionView, "Transaction fetched successfully.")


@routes.get("/users/<user_id>/transactions/<transaction_id>", "One transaction of the user", TRANSACTION_FETCHED)
def view_transaction(call: Call[None], transaction_id: str) -> Response[Any]:
    return TRANSACTION_FETCHED.answer(ledger.transaction_of(call.user.id, transaction_id).view())


TRANSACTION_CREATED = Success(201, TransactionView, "Transaction created successfully.")


@routes.post(
    "/users/<user_id>/transactions",
    "Record a transaction (private key); a repeated Idempotency-Key with the same body records it once, with "
    "another body it is a 409",
    TRANSACTION_CREATED,
    auth=ADMIN,
    active=False,  # the private key is no user, active or not
    body=NewTransactionRequest,
    headers={
        "Idempotency-Key": "Any text of the client's: the same body under the same key records the transaction "
        "once and answers it again; another body under it is 409. Keys are per user."
    },
    errors=(InsufficientCredits, IdempotencyKeyReused),
)
def add_transaction(call: Call[NewTransactionRequest]) -> Response[Any]:
    # A retried request with the same Idempotency-Key records the transaction once (409 for another body).
    idempotency_key = call.event.headers.get("Idempotency-Key")
    transaction = ledger.admin_transaction(call.user, call.body, idempotency_key, source_ip=call.caller.source_ip)
    return TRANSACTION_CREATED.answer(transaction.view())


lambda_handler = lambda_handler_for(app)

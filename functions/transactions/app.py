"""Transactions: the ledger's entries of a user. With the private key, POST records a new one."""

from typing import Any

from aws_lambda_powertools.event_handler import Response

from clara import ledger
from clara.api import create_app, lambda_handler_for, read_body
from clara.auth import Role, authenticate, user_in_path
from clara.envelope import success
from clara.schemas import NewTransactionRequest

app = create_app()


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

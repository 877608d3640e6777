"""The credits ledger: the balance lives on the user; every change is one DynamoDB transaction that updates the
balance conditionally (never below zero) and writes an immutable transaction item under a deterministic id, so
a retry or a race can neither spend twice nor credit twice."""

import hashlib
import uuid
from decimal import Decimal

from clara.contract.errors import IdempotencyKeyReused, InsufficientCredits, NotFound, SomethingWentWrong
from clara.contract.requests import NewTransactionRequest
from clara.domain.audit import audit_put
from clara.formats import decimal_text, json_ready, json_text, money, new_id, utc_now
from clara.records.accounts import User
from clara.records.credits import Transaction, TransactionType, TransactionView
from clara.store import transactions, unit, users


class BalanceChanged(Exception):
    """The balance moved between reading it and writing (a concurrent change); read again and retry."""


_ID_NAMESPACE = uuid.UUID("6f1c2a52-7f0e-4d4e-9a55-3c1b9f0d2e11")

__all__ = [
    "Transaction",
    "TransactionType",
    "TransactionView",
    "get_transaction",
    "list_transaction_views",
    "record",
]
get_transaction = transactions.get_transaction
list_transaction_views = transactions.list_transaction_views


def transaction_id_for(source: str) -> str:
    """The id of the transaction caused by `source` (a Checkout Session, a task, an idempotency key)."""
    return f"transaction_{uuid.uuid5(_ID_NAMESPACE, source).hex}"


def transaction_of(user_id: str, transaction_id: str) -> Transaction:
    """The user's transaction, for the REST route and the MCP tool alike: another user's is not found here."""
    transaction = get_transaction(user_id, transaction_id)
    if transaction is None:
        raise NotFound("Transaction")
    return transaction


def record(
    user_id: str,
    transaction_id: str,
    kind: TransactionType,
    credits: Decimal | float,
    fiat: Decimal | float,
    description: str,
    *,
    expected_balance: Decimal | None = None,
    request_hash: str | None = None,
    also: tuple[unit.Write, ...] = (),
) -> tuple[Transaction, bool]:
    """Apply one transaction: (the transaction, whether it was new). Replaying the same id changes nothing.

    A DEBIT needs the balance to cover it (403 otherwise); `expected_balance`, when given, must be the balance
    at the moment of the write (an admin setting an absolute balance). `also` joins the same transaction; when a
    condition of `also` fails (and the transaction is not a replay), the caller answers it: unit.Refused goes up,
    even if the balance was refused too.
    """
    now = utc_now()
    credits, fiat = money(credits), money(fiat)  # a float (a configured cost) through its shortest text
    transaction = Transaction(
        id=transaction_id,
        user_id=user_id,
        type=kind,
        description=description,
        value_in_credits=credits,
        value_in_fiat=fiat,
        created_at=now,
        updated_at=now,
        request_hash=request_hash,
    )
    balance, put = transactions.change_balance(
        transaction, needed=credits if kind == "DEBIT" else None, expected_balance=expected_balance
    )
    try:
        unit.commit(balance, put, *also)
    except unit.Refused as refused:
        if refused.failed(transactions.TRANSACTION):
            existing = get_transaction(user_id, transaction_id)
            if existing:
                return existing, False
        if any(refused.failed(write.name) for write in also):
            raise
        if refused.failed(transactions.BALANCE):
            if not transactions.user_exists(user_id):
                raise NotFound("User") from refused
            if expected_balance is not None:
                raise BalanceChanged() from refused
            raise InsufficientCredits() from refused
        raise
    return transaction, True


def set_balance(user: User, balance: Decimal, *, source_ip: str) -> User:
    """The admin sets an absolute balance; the ledger records the difference as one transaction."""
    for _ in range(3):
        change = balance - user.credits
        if change == 0:
            return user
        description = f"Admin updated credits from {decimal_text(user.credits)} to {decimal_text(balance)}."
        try:
            transaction, _ = record(
                user.id,
                new_id("transaction"),
                "CREDIT" if change > 0 else "DEBIT",
                abs(change),
                Decimal(0),
                description,
                expected_balance=user.credits,
                also=(audit_put("admin_credits_set", user_id=user.id, source_ip=source_ip, credits=balance),),
            )
            # The same write stamped the user and the transaction.
            return user.model_copy(update={"credits": balance, "updated_at": transaction.updated_at})
        except BalanceChanged:
            fresh = users.get_user(user.id)
            if fresh is None:
                raise NotFound("User") from None
            user = fresh
    raise SomethingWentWrong()


def request_hash(request: NewTransactionRequest) -> str:
    """The digest of the request as validated (stripped, amounts canonical), so 5 and 5.0 are the same request."""
    return hashlib.sha256(json_text(json_ready(request)).encode()).hexdigest()


def admin_transaction(
    user: User, request: NewTransactionRequest, idempotency_key: str | None, *, source_ip: str
) -> Transaction:
    """A transaction the admin records by hand; the same Idempotency-Key with the same request records it once,
    with a different request it is a 409."""
    transaction_id = (
        transaction_id_for(f"admin:{user.id}:{idempotency_key}") if idempotency_key else new_id("transaction")
    )
    digest = request_hash(request)
    transaction, was_new = record(
        user.id,
        transaction_id,
        request.type,
        request.value_in_credits,
        request.value_in_fiat,
        request.description,
        request_hash=digest,
        also=(
            audit_put("admin_transaction_added", user_id=user.id, source_ip=source_ip, transaction_id=transaction_id),
        ),
    )
    # A transaction recorded before digests were kept has none to compare: its replay answers it, as it did.
    if not was_new and transaction.request_hash not in (None, digest):
        raise IdempotencyKeyReused()
    return transaction

"""The records of the credits ledger as clara.store.transactions reads and writes them."""

from datetime import datetime
from typing import Literal

from clara.formats import HttpDate, LazyModel, Money

TransactionType = Literal["CREDIT", "DEBIT"]


class Transaction(LazyModel):
    id: str
    user_id: str
    type: TransactionType
    description: str
    value_in_credits: Money
    value_in_fiat: Money
    created_at: datetime
    updated_at: datetime
    # The digest of the request an Idempotency-Key recorded (never shown): a reuse must repeat it.
    request_hash: str | None = None

    def view(self) -> "TransactionView":
        return TransactionView.model_validate(self.model_dump())


class TransactionView(LazyModel):
    id: str
    user_id: str
    type: TransactionType
    description: str
    value_in_credits: Money
    value_in_fiat: Money
    created_at: HttpDate
    updated_at: HttpDate

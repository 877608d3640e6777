"""The domain's records, as the rest of the code sees them: plain models that know nothing of how they are stored
(clara.store turns items into these and back) or shown (a view is made where its token is at hand)."""

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


class ApiKey(LazyModel):
    id: str
    user_id: str
    created_at: datetime
    updated_at: datetime

"""DynamoDB's ClientRequestToken on TransactWriteItems, which moto ignores.

DynamoDB remembers a token for ten minutes after the first request that used it completed: the same request
again succeeds without applying anything, the same token with other parameters is refused with
IdempotentParameterMismatchException (400). botocore sends one token through all its retries of a call, so an
attempt DynamoDB applied but whose answer was lost is answered success on retry. moto (5.2) applies the retry
again, and it fails its own conditions (a code already used): a 2FA change answered 401 although it was made
(issue 22, finding 5).

`install()` teaches moto's DynamoDB handler the token, once per process, for both moto's in-process stub
(tests/integration/conftest.py, harness/inprocess.py) and its server (local_runtime/emulator.py). Tokens are kept
per account and region backend, so a reset of moto's state forgets them with the tables. Only transactions that
succeeded are remembered, as DynamoDB does.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

WINDOW_SECONDS = 600.0
clock = time.monotonic  # (a test moves it past the window)
_TOKENS = "_clara_client_request_tokens"  # the attribute of a backend holding its tokens
_lock = threading.Lock()  # guards every backend's token table, not the transactions themselves


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            message="The ClientRequestToken was already used by a request with different parameters.",
        )


@dataclass
class _Token:
    parameters: str
    lock: threading.Lock = field(default_factory=threading.Lock)  # one request with this token at a time
    completed_at: float | None = None  # monotonic time of the first success; None: none succeeded yet

    def remembered(self, now: float) -> bool:
        return self.completed_at is not None and now - self.completed_at < WINDOW_SECONDS


def _tokens_of(backend: DynamoDBBackend) -> dict[str, _Token]:
    tokens: dict[str, _Token] = backend.__dict__.setdefault(_TOKENS, {})
    return tokens


def _token_of(backend: DynamoDBBackend, token: str, parameters: str, now: float) -> _Token:
    with _lock:
        tokens = _tokens_of(backend)
        # Oldest first: forget the tokens whose ten minutes are over (a transaction still running stops the sweep).
        for name, kept in list(tokens.items()):
            if kept.completed_at is None or kept.remembered(now):
                break
            del tokens[name]
        return tokens.setdefault(token, _Token(parameters))


def _forget(backend: DynamoDBBackend, token: str, kept: _Token) -> None:
    with _lock:
        tokens = _tokens_of(backend)
        if tokens.get(token) is kept and kept.completed_at is None:
            del tokens[token]


def honouring_tokens(apply: Callable[[DynamoHandler], ActionResult]) -> Callable[[DynamoHandler], ActionResult]:
    """moto's `DynamoHandler.transact_write_items`, remembering the token of each transaction that succeeded."""

    def transact_write_items(self: DynamoHandler) -> ActionResult:
        token = self.body.get("ClientRequestToken")
        if not token:
            return apply(self)
        backend = self.dynamodb_backend
        parameters = json.dumps(
            {name: value for name, value in self.body.items() if name != "ClientRequestToken"}, sort_keys=True
        )
        kept = _token_of(backend, token, parameters, clock())
        with kept.lock:
            if kept.remembered(clock()):
                if kept.parameters != parameters:
                    raise IdempotentParameterMismatch()
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})  # applied already
            kept.parameters = parameters  # none succeeded with this token (in the window): this one is the first
            try:
                answer = apply(self)
            except BaseException:
                _forget(backend, token, kept)  # a refused or invalid transaction leaves no token behind
                raise
            kept.completed_at = clock()
            return answer

    transact_write_items.honours_tokens = True  # type: ignore[attr-defined]
    return transact_write_items


def install() -> None:
    """Make moto's DynamoDB honour ClientRequestToken (idempotent: installing twice changes nothing)."""
    with _lock:
        if not getattr(DynamoHandler.transact_write_items, "honours_tokens", False):
            DynamoHandler.transact_write_items = honouring_tokens(DynamoHandler.transact_write_items)  # type: ignore[method-assign,assignment]

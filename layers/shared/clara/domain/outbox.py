"""The outbox rule, shared by every item a change writes in its own unit of work to be handled right after it (a
security notice, clara.domain.accounts.notices; a webhook event, clara.domain.webhooks.events): handle each item,
then delete it. One whose handling or delete fails stays for the sweeper (logged by its id, never its content), which
hands over what requests left once it is SWEEP_AFTER_SECONDS old, at most SWEEP_LIMIT a run. At least once: a crash
between the handling and the delete handles it again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from clara.observability import count, logger

# An item younger than this is its request's own to handle: the sweeper leaves it alone.
SWEEP_AFTER_SECONDS = 60
SWEEP_LIMIT = 100


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=_Identified)


@dataclass(frozen=True)
class Outbox(Generic[Item]):
    kind: str  # what an item is, in the log: "security notice", "webhook event"
    handle: Callable[[Item], None]
    delete: Callable[[Item], None]
    pending: Callable[[datetime, int], list[Item]]  # written before the moment, oldest first, at most the limit
    handled_metric: str

    def hand_over(self, *items: Item | None) -> list[str]:
        """Handle each item and delete it: the ids handled."""
        handled = []
        for each in items:
            if each is None:
                continue
            try:
                self.handle(each)
                self.delete(each)
            except Exception:
                logger.exception(f"The {self.kind} was not handled; the sweeper tries again", extra={"id": each.id})
                continue
            count(self.handled_metric)
            handled.append(each.id)
        return handled

    def hand_over_pending(self, now: datetime) -> list[str]:
        """Handle what requests left (a crash, a failed send): the ids handled this run."""
        left = self.pending(now - timedelta(seconds=SWEEP_AFTER_SECONDS), SWEEP_LIMIT)
        if left:
            logger.warning(f"Handling the {self.kind}s requests left", extra={"items": len(left)})
        return self.hand_over(*left)

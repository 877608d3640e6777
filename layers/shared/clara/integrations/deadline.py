"""A time budget on a monotonic clock: the safe fetcher's per-link limit and the analysis budget are both one."""

import time
from collections.abc import Callable


class Deadline:
    """Ends `seconds` after it is made, as `clock` counts (time.monotonic unless a test injects another)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        """The seconds left, 0 once it is spent."""
        return max(0.0, self._end - self._clock())

    def allows(self, seconds: float) -> bool:
        """Whether at least `seconds` are left: a step that takes that long may still start."""
        return self._end - self._clock() >= seconds

    def timeout(self) -> float:
        """The seconds left, as the timeout of the next blocking step; raises TimeoutError once it is spent."""
        left = self._end - self._clock()
        if left <= 0:
            raise TimeoutError("the time budget is spent")
        return left

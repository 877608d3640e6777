"""File descriptor 1 pointed elsewhere for a while: Powertools writes the functions' and analyzers' JSON log lines to
the stdout it found at import, which would bury a report printed there (bench, evaluation)."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal


@contextmanager
def stdout_redirected(to: Literal["devnull", "stderr"]) -> Iterator[None]:
    """Descriptor 1 to /dev/null or to stderr meanwhile, restored after; with no usable descriptor 1, nothing to
    protect: left as it is."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        if to == "stderr":
            os.dup2(2, 1)
        else:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)

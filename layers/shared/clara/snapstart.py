"""Lambda SnapStart: what an execution environment restored from a snapshot must not share with its siblings.

With SnapStart (template.yaml, parameter SnapStartFunctions) Lambda runs a function's init once, when it publishes a
version, snapshots the memory, and resumes every new execution environment from that one snapshot. Whatever init
left in memory is then the same in all of them, and as old as the snapshot.

Clara's init only imports: AWS clients, the secrets provider and its cache, the settings and Google's key set are
all created on first use, in an invocation, so none is in the snapshot. Two things still are: the state of Python's
`random` (seeded at interpreter start, used by botocore's retry jitter and by libraries; Clara's own codes, passwords
and keys use `secrets` and os.urandom, which the kernel keeps unique), and the clock readings of anything init
caches. After a restore, `reset_after_restore` reseeds `random` and empties every per-process cache that may hold a
connection, a credential or an expiry, so that a later change which warms one of them at import (priming) cannot
leak it into every restored environment.

`register()` runs at import (clara.observability, which every function imports). The hook module,
snapshot_restore_py, exists only in Lambda's Python runtimes; elsewhere registering is skipped.
"""

import sys
from collections.abc import Callable


def reset_after_restore() -> None:
    """Give this execution environment its own entropy and fresh clients, caches and connections."""
    import random

    random.seed()  # from os.urandom, which differs in every restored environment

    from clara.aws import aws_client, aws_session
    from clara.settings import get_settings

    aws_client.cache_clear()  # botocore clients and their pooled connections
    aws_session.cache_clear()  # and the session's resolved credentials
    get_settings.cache_clear()  # read again from the restored environment's variables
    # Caches of modules imported on first use: cleared only when there, so that the hook imports nothing.
    for module, cache in (
        # Google's key set, fetched with its own connection and expiry
        ("clara.integrations.google_identity", "jwks_client"),
        ("clara.integrations.analyzers.bedrock", "_default_bedrock"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            getattr(loaded, cache).cache_clear()
    secrets = sys.modules.get("clara.secrets")
    if secrets is not None:
        secrets.fetched.clear()  # the secrets read from Secrets Manager, held for up to five minutes


def register(importer: Callable[[], Callable[..., object]] | None = None) -> bool:
    """Register reset_after_restore with Lambda's runtime hooks; whether it was (False outside Lambda)."""
    try:
        register_after_restore = (importer or _snapshot_restore_hook)()
    except ImportError:
        return False
    register_after_restore(reset_after_restore)
    return True


def _snapshot_restore_hook() -> Callable[..., object]:
    from snapshot_restore_py import register_after_restore  # in Lambda's Python runtimes only

    return register_after_restore

"""How the domain reaches what lies beyond the table (email, Google, Stripe, S3, SQS, the analyzers, webhook
receivers) without importing it: each area declares the interfaces it needs and a Port for each (e.g.
clara.domain.analysis.ports), and the function that serves a route plugs an adapter of clara.integrations into every
port its routes use, where it is assembled (its app.py). tests/unit/test_wiring.py checks that each function plugs
what its code calls; a test substitutes a fake.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

Adapter = TypeVar("Adapter")


class Port(Generic[Adapter]):
    """One outside service the domain calls: `port()` makes the plugged adapter (a class or a factory, called each
    time, so it reads the settings of the moment, as the code did before ports; the AWS clients under it are
    cached by clara.aws)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.make: Callable[[], Adapter] | None = None
        # A test's stand-in (monkeypatch.setattr(port, "substitute", ...)): it wins over the plugged adapter
        # whatever the order in which the test and the function's app.py were imported.
        self.substitute: Callable[[], Adapter] | None = None

    def plug(self, make: Callable[[], Adapter]) -> None:
        self.make = make

    def __call__(self) -> Adapter:
        make = self.substitute or self.make
        if make is None:
            raise LookupError(f"Nothing is plugged into the {self.name} port: the function's app.py plugs it")
        return make()

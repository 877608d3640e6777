"""The embedded AWS emulation: moto's server, with DynamoDB requests applied one at a time.

DynamoDB applies each request atomically: a conditional write or a transaction sees no other write halfway.
moto's threaded server does not (two concurrent conditional updates can both pass their condition), so the
local runtime serialises DynamoDB requests, and only those: SQS long polls and the rest stay concurrent.
It also honours TransactWriteItems' ClientRequestToken as DynamoDB does (local_runtime/transaction_tokens.py), and
keeps no list of DynamoDB's model instances (untrack_dynamodb_models).
"""

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.common_models import BaseModel
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local_runtime import transaction_tokens

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def dynamodb_requests_in_turn(app: WsgiApp) -> WsgiApp:
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))  # the whole body, inside the lock

    return serve


def untrack_dynamodb_models() -> None:
    """moto's BaseModel lists every instance it ever made, for its dashboard (/moto-api/data.json), until a reset.
    TransactWriteItems deep-copies each table it writes (its rollback), so every transaction added a copy of every
    item to that list: after 100 registrations 3.7 M objects were alive, and memory, garbage collection and the
    runtime's exit grew with the square of the requests. DynamoDB's models are no longer listed (the dashboard
    listed the copies, not the table, anyway); once per process."""
    tracked_new = BaseModel.__new__
    if getattr(tracked_new, "untracks_dynamodb", False):
        return

    def new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
        if cls.__module__.startswith("moto.dynamodb."):
            return object.__new__(cls)
        return tracked_new(cls, *args, **kwargs)

    new.untracks_dynamodb = True  # type: ignore[attr-defined]
    BaseModel.__new__ = staticmethod(new)  # type: ignore[method-assign]


class EmulatorServer:
    def __init__(self, host: str, port: int):
        transaction_tokens.install()
        untrack_dynamodb_models()
        app = dynamodb_requests_in_turn(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()


def main(argv: list[str]) -> None:
    """`python -m local_runtime.emulator PORT [MAILBOX_DIR]`: the emulation alone, which outlives the runtimes a
    crash test kills (they use it through AWS_ENDPOINT_URL); with MAILBOX_DIR, the emails its SES accepts are written
    there, as `make run`'s mailbox does (it hears them in the emulation's own process)."""
    server = EmulatorServer("127.0.0.1", int(argv[0]))
    if len(argv) > 1:
        from pathlib import Path

        from local_runtime.mailbox import Mailbox

        Mailbox(Path(argv[1]), threading.Event()).start()
    print(f"AWS emulation at http://127.0.0.1:{server.get_host_and_port()[1]}", flush=True)
    server._server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])

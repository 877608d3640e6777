"""One API Gateway REST (payload 1.0) proxy event through an ASGI app, on an event loop of its own, and back.

Why not mangum: it drives the app on the event loop of the thread that constructed it (so an invocation from
another thread, as the local runtime makes, finds none) and runs the app's lifespan around every event, while
the MCP SDK's session manager may run only once per instance. Here each invocation runs on its thread's own event
loop, and its own `serve` call builds, runs and discards whatever it needs for the one request.
"""

import asyncio
import base64
import binascii
import threading
from collections.abc import Awaitable, Callable, Collection
from typing import Any
from urllib.parse import urlencode

import anyio
from starlette.types import Message, Receive, Scope, Send

# What an invocation runs: an ASGI application call (scope, receive, send) that serves the one request.
Serve = Callable[[Scope, Receive, Send], Awaitable[None]]

_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/javascript")


class InvalidEvent(ValueError):
    """The event is not an API Gateway REST proxy event this adapter can turn into a request."""


def request_body(event: dict[str, Any]) -> bytes:
    """The body bytes: decoded when API Gateway base64-encoded it (the API's binary media types include JSON)."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidEvent("the body is not base64") from error


def http_scope(event: dict[str, Any], path: str, withheld: Collection[str] = ()) -> Scope:
    """The ASGI HTTP scope of the event, served at `path` (API Gateway already routed the request here), without
    the headers named in `withheld` (lower case)."""
    pairs: list[tuple[str, str]] = []
    for name, values in (event.get("multiValueHeaders") or {}).items():
        pairs += [(name, value) for value in values]
    if not pairs:
        pairs = list((event.get("headers") or {}).items())
    headers = [
        (name.lower().encode("latin-1"), str(value).encode("latin-1"))
        for name, value in pairs
        if name.lower() not in withheld
    ]
    header = dict(headers)
    query = event.get("multiValueQueryStringParameters") or {}
    identity = (event.get("requestContext") or {}).get("identity") or {}
    host = header.get(b"host", b"").decode("latin-1")
    scheme = header.get(b"x-forwarded-proto", b"https").decode("latin-1")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": str(event.get("httpMethod") or "GET").upper(),
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode([(k, v) for k, values in query.items() for v in values]).encode(),
        "headers": headers,
        "server": (host.split(":")[0] or "localhost", 443 if scheme == "https" else 80),
        "client": (identity.get("sourceIp") or "unknown", 0),
        "state": {},
    }


async def _exchange(serve: Serve, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one request: the body in a single message, then a disconnect once the response is complete."""
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    answered = anyio.Event()
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # as a server does: the client "leaves" only after its answer
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = int(message["status"]), list(message.get("headers") or [])
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body") or b""))
            if not message.get("more_body"):
                answered.set()

    await serve(scope, receive, send)
    return status, headers, b"".join(chunks)


def proxy_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    """The Lambda proxy result: text bodies as text, anything else base64-encoded."""
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        multi.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    content_type = next((values[0] for name, values in multi.items() if name.lower() == "content-type"), "")
    text = _text(body) if not body or content_type.lower().startswith(_TEXT_TYPES) else None
    return {
        "statusCode": status,
        "multiValueHeaders": multi,
        "body": text if text is not None else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": text is None,
    }


def _text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


_threads = threading.local()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The calling thread's event loop, made on its first invocation and kept for the next: anyio.run would make
    and close a new one, with its thread pool, for each (about 0.3 ms of a warm request's own work, 1 ms under load).
    In Lambda, whose invocations come one at a time on one thread, that is one loop per instance, made after a
    SnapStart restore rather than kept in the snapshot."""
    if getattr(_threads, "loop", None) is None:
        _threads.loop = asyncio.new_event_loop()
    return _threads.loop


def invoke(serve: Serve, event: dict[str, Any], path: str, withheld: Collection[str] = ()) -> dict[str, Any]:
    """Serve the event's request with `serve` on this thread's event loop, without the `withheld` headers; the proxy
    result. InvalidEvent if the event is malformed."""
    scope, body = http_scope(event, path, withheld), request_body(event)
    status, headers, payload = _event_loop().run_until_complete(_exchange(serve, scope, body))
    return proxy_response(status, headers, payload)

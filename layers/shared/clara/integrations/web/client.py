"""The HTTP client under the address policy: a GET that follows redirects by hand, each new link checked from the
start, and a POST that follows none (webhook delivery); one deadline for every hop, the headers and the body, and at
most `max_bytes` read. It does not read what a page says: clara.integrations.fetcher does, through get()."""

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import urljoin

from clara.integrations.deadline import Deadline
from clara.integrations.web import addresses
from clara.integrations.web.addresses import Connector, IPAddress, Resolver, Target, parse_target
from clara.integrations.web.errors import FetchError, FetchFailed, FetchRefused

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

USER_AGENT = "ClaraFactCheck/1.0 (+link reader)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_SIZE = 16_384

Answer = TypeVar("Answer")
# Reads the final answer of a GET (not a redirect): the link it came from, the response, the deadline left.
Reader = Callable[[Target, http.client.HTTPResponse, Deadline], Answer]


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads it, each recv limited to the time left.

    http.client reads the status line and headers with readline(), which keeps reading until a newline; a socket
    timeout alone restarts at every byte, so a server dripping one byte at a time would never time out.
    """

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer") -> int:
        self._sock.settimeout(self._deadline.timeout())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What http.client.HTTPResponse needs of a socket: makefile("rb"), reading through _DeadlineReader."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _response(sock: socket.socket, deadline: Deadline, method: str) -> http.client.HTTPResponse:
    # HTTPResponse only calls makefile("rb") on what it is given.
    response = http.client.HTTPResponse(cast(socket.socket, _DeadlineSocket(sock, deadline)), method=method)
    response.begin()
    return response


class SafeClient:
    """Requests under the rules in clara.integrations.web: check(), get() and post()."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_seconds: float,
        max_redirects: int,
        allow_loopback: bool = False,
        resolve: Resolver | None = None,
        connect: Connector | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.max_redirects = max_redirects
        self.allow_loopback = allow_loopback
        self._resolve = resolve or addresses.resolve_host
        self._connect = connect or addresses.connect_to
        self._clock = clock

    def get(self, url: str, read: Reader[Answer], *, accept: str) -> Answer:
        """GET `url`, following at most max_redirects redirects; `read` reads the final answer within the same
        deadline. Raises FetchRefused or FetchFailed (whatever `read` raises is explained the same way)."""
        deadline = Deadline(self.timeout_seconds, self._clock)
        with self._failures_explained():
            return self._follow(url, deadline, read, accept)

    @contextmanager
    def _failures_explained(self) -> Iterator[None]:
        """Network, TLS and HTTP errors as FetchFailed with a note a user can read."""
        try:
            yield
        except FetchError:
            raise
        except TimeoutError as error:
            raise FetchFailed(f"The site did not answer within {self.timeout_seconds:g} s.") from error
        except ssl.SSLCertVerificationError as error:
            raise FetchFailed("The site's certificate could not be verified.") from error
        except ssl.SSLError as error:
            raise FetchFailed("A secure connection to the site could not be made.") from error
        except OSError as error:
            raise FetchFailed("The site could not be reached.") from error
        except http.client.HTTPException as error:
            raise FetchFailed("The site's answer was not valid HTTP.") from error

    def _follow(self, url: str, deadline: Deadline, read: Reader[Answer], accept: str) -> Answer:
        target = parse_target(url)
        redirects = 0
        while True:
            with self._open(target, deadline) as sock, self._request(sock, target, deadline, accept) as response:
                location = response.getheader("Location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return read(target, response, deadline)
            redirects += 1
            if redirects > self.max_redirects:
                raise FetchRefused(f"The link redirected more than {self.max_redirects} times.")
            target = parse_target(urljoin(target.url, location.strip()).partition("#")[0])

    # --------------------------------------------------------------------------- connecting (rule 2)

    def _open(self, target: Target, deadline: Deadline) -> socket.socket:
        sock = self._dial(self._checked_addresses(target), target.port, deadline)
        if target.scheme == "http":
            return sock
        try:
            sock.settimeout(deadline.timeout())
            # The name, not the dialled IP: SNI and the certificate check are about the host the link names.
            return ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        except BaseException:
            sock.close()
            raise

    def _checked_addresses(self, target: Target) -> list[str]:
        """The host's addresses, resolved once for this connection; all of them must be allowed."""
        literal = addresses.ip_literal(target.host)
        try:
            answers = [str(literal)] if literal is not None else self._resolve(target.host, target.port)
        except OSError as error:
            raise FetchFailed("The site's name could not be found.") from error
        if not answers:
            raise FetchFailed("The site's name could not be found.")
        checked = [addresses.ip_literal(answer) for answer in answers]
        if not all(address is not None and self._allowed(address) for address in checked):
            raise FetchRefused("The link leads to a non-public address, which Clara does not read.")
        return answers

    def _allowed(self, address: IPAddress) -> bool:
        return addresses.is_public_address(address) or (self.allow_loopback and addresses.is_loopback(address))

    def _dial(self, answers: list[str], port: int, deadline: Deadline) -> socket.socket:
        """The first of the checked addresses that answers; never the name, which could resolve differently now."""
        failure: OSError | None = None
        for address in answers:
            try:
                return self._connect((address, port), deadline.timeout())
            except TimeoutError:
                raise
            except OSError as error:
                failure = error
        raise failure or OSError("no address to connect to")

    # --------------------------------------------------------------------------- the exchange

    def _request(
        self, sock: socket.socket, target: Target, deadline: Deadline, accept: str
    ) -> http.client.HTTPResponse:
        request = (
            f"GET {target.path} HTTP/1.1\r\n"
            f"Host: {target.host_header}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            f"Accept: {accept}\r\n"
            "Accept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.settimeout(deadline.timeout())
        sock.sendall(request.encode("ascii"))
        return _response(sock, deadline, "GET")

    def read_body(self, response: http.client.HTTPResponse, deadline: Deadline) -> bytes:
        """At most max_bytes (rule 4), refused as soon as more is announced or arrives; within the deadline."""
        length = (response.getheader("Content-Length") or "").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise self._too_large()
        body = bytearray()
        while chunk := response.read1(CHUNK_SIZE):
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large()
            deadline.timeout()
        return bytes(body)

    def _too_large(self) -> FetchRefused:
        return FetchRefused(f"The page is larger than {_size(self.max_bytes)}, the most Clara reads from a link.")

    # --------------------------------------------------------------------------- sending (webhooks)

    def check(self, url: str, *, https_only: bool = False) -> None:
        """Whether a request to `url` would be allowed now: rules 1 and 2, the host resolved. Raises FetchRefused
        (the policy said no) or FetchFailed (the name could not be found)."""
        target = parse_target(url)
        if https_only and target.scheme != "https":
            raise FetchRefused("Only https addresses are allowed.")
        self._checked_addresses(target)

    def post(self, url: str, body: bytes, headers: dict[str, str], *, max_answer_bytes: int) -> int:
        """POST `body` to `url` under the same rules as a GET (the address checked at this connection and the
        checked address dialled, one deadline for everything), following no redirect: the answer's status. At most
        `max_answer_bytes` of the answer are read, then dropped: a receiver's answer is not Clara's to keep.
        Raises FetchRefused or FetchFailed as get() does."""
        deadline = Deadline(self.timeout_seconds, self._clock)
        target = parse_target(url)
        with self._failures_explained(), self._open(target, deadline) as sock:
            lines = [
                f"POST {target.path} HTTP/1.1",
                f"Host: {target.host_header}",
                *(f"{name}: {value}" for name, value in headers.items()),
                f"Content-Length: {len(body)}",
                "Connection: close",
            ]
            sock.settimeout(deadline.timeout())
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            with _response(sock, deadline, "POST") as response:
                left = max_answer_bytes
                while left > 0 and (chunk := response.read1(min(CHUNK_SIZE, left))):
                    left -= len(chunk)
                    deadline.timeout()
                return response.status


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g} MB"
    if count >= 1000:
        return f"{count / 1000:.3g} KB"
    return f"{count} bytes"

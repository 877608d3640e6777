"""clara.integrations.fetcher: the safe fetcher of links found in content, against real sockets on 127.0.0.1 (no
internet).

Hosts other than 127.0.0.1 are simulated through the fetcher's injection points: `resolve` answers DNS queries
as a test wants, and `connect` records the address the fetcher dials (and dials the local test server instead).
"""

import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from clara.integrations import fetcher as fetcher_module
from clara.integrations.fetcher import (
    MAX_TEXT_CHARACTERS,
    FetchedPage,
    LinkOutcome,
    SafeFetcher,
    fetcher_for_settings,
    read_links,
)
from clara.integrations.web import client as client_module
from clara.integrations.web.addresses import is_public_address
from clara.integrations.web.errors import FetchFailed, FetchRefused
from clara.integrations.web.links import find_links
from clara.settings import Settings, get_settings
from harness import media

PUBLIC_IP = "93.184.216.34"
NON_PUBLIC_NOTE = "The link leads to a non-public address, which Clara does not read."

# ------------------------------------------------------------------------------------------- test servers


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})
    framing: Literal["length", "chunked", "close"] = "length"  # Content-Length, chunked, or until the close


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


Route = Reply | Callable[[http.server.BaseHTTPRequestHandler], None]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        site: Site = self.server.site  # type: ignore[attr-defined]
        site.requests.append(Request(self.command, self.path, dict(self.headers)))
        route = site.routes.get(self.path, Reply(404, b"Not here."))
        self.close_connection = True
        if isinstance(route, Reply):
            self._reply(route)
        else:
            route(self)

    def _reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.framing == "length":
            self.send_header("Content-Length", str(len(reply.body)))
        elif reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        if reply.framing != "chunked":
            self.wfile.write(reply.body)
            return
        for start in range(0, len(reply.body), 700):
            piece = reply.body[start : start + 700]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # many tests make the fetcher hang up early on purpose


class Site:
    """An HTTP(S) server on 127.0.0.1 (an ephemeral port) in a thread: answers by path, records every request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.server_names: list[str | None] = []  # SNI, over TLS
        self.stop = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self  # type: ignore[attr-defined]
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)  # type: ignore[assignment]
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "Site":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()  # ends the dripping handlers
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


# ------------------------------------------------------------------------------------------- injection points


class Resolve:
    """An injected resolver: the nth call gets the nth answer (the last one after that); records every query."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class Connect:
    """An injected connect: records the (address, port) the fetcher dials, then connects to 127.0.0.1 instead
    (on `port`, else the port asked for) only if `through` is set; otherwise the connection is refused."""

    def __init__(self, *, through: bool = True, port: int | None = None) -> None:
        self.through = through
        self.port = port
        self.calls: list[tuple[str, int]] = []

    def __call__(self, address: tuple[str, int], timeout: float) -> socket.socket:
        self.calls.append(address)
        if not self.through:
            raise ConnectionRefusedError("the test's connect stub refuses")
        return socket.create_connection(("127.0.0.1", self.port or address[1]), timeout=timeout)


class LoopbackOnly(Connect):
    """Dials 127.0.0.1 for real; any other address is recorded and refused (there is no such host here)."""

    def __call__(self, address: tuple[str, int], timeout: float) -> socket.socket:
        self.calls.append(address)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("not a test host")
        return socket.create_connection(address, timeout=timeout)


def make_fetcher(**options: Any) -> SafeFetcher:
    """A fetcher for the local test server: loopback allowed, generous caps unless a test says otherwise."""
    settings: dict[str, Any] = {"max_bytes": 100_000, "timeout_seconds": 5, "max_redirects": 3, "allow_loopback": True}
    return SafeFetcher(**(settings | options))


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, b"", {"Location": location})


# ------------------------------------------------------------------------------------------- find_links


def test_find_links_keeps_the_order_of_appearance_and_each_link_once():
    text = "First https://b.example/2 then http://a.example/1, again https://b.example/2 and https://c.example."

    assert find_links(text) == ["https://b.example/2", "http://a.example/1", "https://c.example"]


def test_find_links_strips_trailing_punctuation_but_keeps_a_balanced_closing_parenthesis():
    text = (
        "Read (https://en.wikipedia.org/wiki/Mercury_(planet)). Is it http://x.example/a?! "
        "'http://q.example/s' \"http://d.example/q\"; [link](https://md.example/page) {http://br.example/x}"
    )

    assert find_links(text) == [
        "https://en.wikipedia.org/wiki/Mercury_(planet)",
        "http://x.example/a",
        "http://q.example/s",
        "http://d.example/q",
        "https://md.example/page",
        "http://br.example/x",
    ]


def test_find_links_reads_bare_www_hosts_as_https():
    assert find_links("See www.example.com/x. Or WWW.Other.org!") == [
        "https://www.example.com/x",
        "https://WWW.Other.org",
    ]


def test_find_links_ignores_www_inside_host_names_and_email_addresses_and_empty_links():
    assert find_links("mail me@www.example.com, see sub.www.example.com, or http:// or www. alone") == []


def test_find_links_returns_other_schemes_so_that_they_can_be_reported():
    text = "ftp://files.example/a.txt file:///etc/passwd gopher://g.example/ javascript:alert(1) https://ok.example"

    assert find_links(text) == [
        "ftp://files.example/a.txt",
        "file:///etc/passwd",
        "gopher://g.example/",
        "javascript:alert(1)",
        "https://ok.example",
    ]


# ------------------------------------------------------------------------------------------- schemes (rule 1)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example/a.txt",
        "file:///etc/passwd",
        "gopher://g.example/",
        "javascript:alert(1)",
        "http://user:pw@news.example/",
        "https://user@news.example/",
        "http://news.example:notaport/",
        "http:///no-host",
        "http://news.example/a b",
        "//news.example/no-scheme",
    ],
)
def test_links_that_are_not_plain_http_or_https_are_refused_before_any_lookup(url):
    resolve, connect = Resolve([PUBLIC_IP]), Connect()

    with pytest.raises(FetchRefused):
        make_fetcher(resolve=resolve, connect=connect).fetch(url)

    assert (resolve.calls, connect.calls) == ([], [])


def test_the_refusal_of_a_scheme_says_why():
    with pytest.raises(FetchRefused, match=r"^Only http and https links are read, not ftp links\.$"):
        make_fetcher().fetch("ftp://files.example/a.txt")
    with pytest.raises(FetchRefused, match="user name or password"):
        make_fetcher().fetch("http://user:pw@news.example/")


# ------------------------------------------------------------------------------------------- addresses (rule 2)

NON_PUBLIC = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",  # noqa: S104 (an address under test, not a bind)
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fc00::1",
    "fe80::1",
    "ff02::1",
    "ff0e::1",  # global-scope multicast
    "2001:db8::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:0:a00:1",  # IPv4-translated
    "::a00:1",  # IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:5db8:d822::1",  # 6to4 of a public address: 6to4 is refused whatever it carries (not global on 3.13)
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]


@pytest.mark.parametrize("address", NON_PUBLIC)
def test_a_host_resolving_to_a_non_public_address_is_refused_and_never_dialled(address):
    resolve, connect = Resolve([address]), Connect()

    with pytest.raises(FetchRefused, match="non-public address") as refusal:
        make_fetcher(allow_loopback=False, resolve=resolve, connect=connect).fetch("http://news.example/a")

    assert connect.calls == []
    assert resolve.calls == [("news.example", 80)]
    assert address not in str(refusal.value)  # never echo the internal address


@pytest.mark.parametrize(
    "address", [PUBLIC_IP, "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"]
)
def test_public_addresses_are_allowed(address):
    assert is_public_address(ipaddress.ip_address(address))


def test_a_host_with_one_private_address_among_public_ones_is_refused():
    resolve, connect = Resolve([PUBLIC_IP, "10.0.0.1", "8.8.8.8"]), Connect()

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(resolve=resolve, connect=connect).fetch("https://news.example/")

    assert connect.calls == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"]
)
def test_ip_literals_are_checked_without_dns(url):
    resolve, connect = Resolve([PUBLIC_IP]), Connect()

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=False, resolve=resolve, connect=connect).fetch(url)

    assert (resolve.calls, connect.calls) == ([], [])


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1", "017700000001"])
def test_legacy_numeric_forms_of_loopback_are_refused_by_what_they_resolve_to(host, site):
    site.routes["/"] = Reply(body=b"internal")  # reachable on 127.0.0.1 if the check were missing

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=False).fetch(f"http://{host}:{site.port}/")

    assert site.requests == []


def test_the_loopback_site_is_read_only_with_allow_loopback(site):
    site.routes["/hello"] = Reply(body=b"Hello from the test server.")

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=False).fetch(site.url("/hello"))
    assert site.requests == []

    page = make_fetcher(allow_loopback=True).fetch(site.url("/hello"))
    assert page.text == "Hello from the test server."


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "192.168.1.1", "::ffff:127.0.0.1", "fe80::1"])
def test_allow_loopback_opens_loopback_and_nothing_else(address):
    resolve, connect = Resolve([address]), Connect()

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=True, resolve=resolve, connect=connect).fetch("http://news.example/")

    assert connect.calls == []


# ------------------------------------------------------------------------------------------- DNS rebinding


def test_dns_rebinding_cannot_reach_a_private_address_the_checked_one_is_dialled(site):
    site.routes["/article"] = Reply(body=b"The public article.")
    resolve = Resolve([PUBLIC_IP], ["127.0.0.1"])  # a second lookup would get loopback
    connect = Connect(port=site.port)

    page = make_fetcher(allow_loopback=False, resolve=resolve, connect=connect).fetch("http://news.example/article")

    assert resolve.calls == [("news.example", 80)]  # resolved once
    assert connect.calls == [(PUBLIC_IP, 80)]  # the checked address, not a new answer for the name
    assert page.text == "The public article."
    assert site.requests[0].headers["Host"] == "news.example"


def test_dns_rebinding_private_answer_first_is_refused():
    resolve, connect = Resolve(["127.0.0.1"], [PUBLIC_IP]), Connect()

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=False, resolve=resolve, connect=connect).fetch("http://news.example/")

    assert (len(resolve.calls), connect.calls) == (1, [])


def test_every_redirect_hop_is_resolved_and_checked_again(site):
    site.routes["/first"] = redirect("/second")
    site.routes["/second"] = Reply(body=b"Should not be read.")
    resolve = Resolve([PUBLIC_IP], ["10.0.0.1"])  # the name rebinds between the two connections
    connect = Connect(port=site.port)

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=False, resolve=resolve, connect=connect).fetch("http://news.example/first")

    assert resolve.calls == [("news.example", 80), ("news.example", 80)]
    assert connect.calls == [(PUBLIC_IP, 80)]
    assert [request.path for request in site.requests] == ["/first"]


# ------------------------------------------------------------------------------------------- redirects (rule 3)


@pytest.mark.parametrize("location", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"])
def test_a_redirect_to_an_internal_address_is_refused_and_never_dialled(site, location):
    site.routes["/go"] = redirect(location)
    connect = LoopbackOnly()

    with pytest.raises(FetchRefused, match="non-public address"):
        make_fetcher(allow_loopback=True, connect=connect).fetch(site.url("/go"))

    assert connect.calls == [("127.0.0.1", site.port)]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://files.example/x", "http://u:p@news.example/"])
def test_a_redirect_to_another_scheme_or_to_userinfo_is_refused(site, location):
    site.routes["/go"] = redirect(location)

    with pytest.raises(FetchRefused):
        make_fetcher().fetch(site.url("/go"))


def chain(site: Site, hops: int) -> str:
    """/hop{hops} -> ... -> /hop1 -> /final, each Location relative or absolute, with every redirect status."""
    statuses = [301, 302, 303, 307, 308]
    site.routes["/final"] = Reply(body=b"The end of the chain.")
    for hop in range(1, hops + 1):
        target = "/final" if hop == 1 else f"/hop{hop - 1}"
        location = site.url(target) if hop % 2 else target.lstrip("/")  # relative on even hops
        site.routes[f"/hop{hop}"] = redirect(location, statuses[hop % len(statuses)])
    return site.url(f"/hop{hops}")


def test_exactly_max_redirects_are_followed(site):
    page = make_fetcher(max_redirects=3).fetch(chain(site, 3))

    assert page.text == "The end of the chain."
    assert page.url == site.url("/final")
    assert {request.method for request in site.requests} == {"GET"}


def test_one_redirect_more_than_max_redirects_is_refused(site):
    with pytest.raises(FetchRefused, match="redirected more than 3 times"):
        make_fetcher(max_redirects=3).fetch(chain(site, 4))

    assert "/final" not in [request.path for request in site.requests]


def test_no_redirect_is_followed_with_max_redirects_zero(site):
    with pytest.raises(FetchRefused, match="redirected more than 0 times"):
        make_fetcher(max_redirects=0).fetch(chain(site, 1))


def test_a_relative_location_is_resolved_against_the_current_url(site):
    site.routes["/docs/a/start"] = redirect("../b/end?x=1#part")
    site.routes["/docs/b/end?x=1"] = Reply(body=b"Relative worked.")

    page = make_fetcher().fetch(site.url("/docs/a/start"))

    assert (page.text, page.url) == ("Relative worked.", site.url("/docs/b/end?x=1"))


# ------------------------------------------------------------------------------------------- size (rule 4)


def test_a_declared_length_over_the_cap_is_refused_without_reading_the_body(site):
    # The header lies: only 10 bytes follow. A fetcher that read the body instead of trusting the header would
    # get a page; the cap must be applied to the declared length at once.
    site.routes["/big"] = Reply(body=b"0123456789", headers={"Content-Type": "text/plain", "Content-Length": "5000"})
    site.routes["/big"].framing = "close"

    with pytest.raises(FetchRefused, match=r"larger than 1 KB"):
        make_fetcher(max_bytes=1000).fetch(site.url("/big"))


def test_the_size_note_names_the_cap_in_megabytes(site):
    site.routes["/big"] = Reply(body=b"x", headers={"Content-Type": "text/plain", "Content-Length": "2000001"})
    site.routes["/big"].framing = "close"

    with pytest.raises(FetchRefused, match=r"larger than 2 MB"):
        make_fetcher(max_bytes=2_000_000).fetch(site.url("/big"))


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_a_body_over_the_cap_without_a_length_is_refused(site, framing):
    site.routes["/big"] = Reply(body=b"word " * 1000, framing=framing)

    with pytest.raises(FetchRefused, match="larger than 1 KB"):
        make_fetcher(max_bytes=1000).fetch(site.url("/big"))


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_body_of_exactly_the_cap_is_read(site, framing):
    site.routes["/full"] = Reply(body=b"abcd " * 200, framing=framing)  # 1000 bytes

    page = make_fetcher(max_bytes=1000).fetch(site.url("/full"))

    assert page.text == ("abcd " * 200).strip()


# ------------------------------------------------------------------------------------------- time (rule 5)


def drip(prefix: bytes, every: float = 0.2) -> Route:
    """A handler that sends `prefix`, then one byte every `every` seconds until the client leaves, for 4 s at most
    (so that a fetcher without a deadline makes the test fail rather than hang)."""

    def handler(request: http.server.BaseHTTPRequestHandler) -> None:
        stop = request.server.site.stop  # type: ignore[attr-defined]
        try:
            request.wfile.write(prefix)
            for _ in range(round(4 / every)):
                if stop.wait(every):
                    return
                request.wfile.write(b"x")
            request.wfile.write(b"\r\n\r\n")  # ends a dripping header too
        except OSError:
            pass

    return handler


def fetch_time(fetcher: SafeFetcher, url: str) -> tuple[FetchFailed, float]:
    started = time.monotonic()
    with pytest.raises(FetchFailed) as failure:
        fetcher.fetch(url)
    return failure.value, time.monotonic() - started


@pytest.mark.parametrize(
    "prefix",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",  # the body drips
        b"HTTP/1.1 200 OK\r\nX-Slow: ",  # a header line drips (http.client reads it with readline)
    ],
    ids=["body", "headers"],
)
def test_a_server_that_drips_bytes_fails_at_the_deadline(site, prefix):
    site.routes["/slow"] = drip(prefix)

    failure, elapsed = fetch_time(make_fetcher(timeout_seconds=1), site.url("/slow"))

    assert str(failure) == "The site did not answer within 1 s."
    assert 0.9 <= elapsed < 1.5


def test_a_server_that_never_answers_fails_at_the_deadline(silent_port):
    failure, elapsed = fetch_time(make_fetcher(timeout_seconds=1), f"http://127.0.0.1:{silent_port}/")

    assert str(failure) == "The site did not answer within 1 s."
    assert 0.9 <= elapsed < 1.5


def test_the_deadline_covers_every_redirect_hop_together(site):
    def slow_redirect(target: str) -> Route:
        def handler(request: http.server.BaseHTTPRequestHandler) -> None:
            request.server.site.stop.wait(0.3)  # type: ignore[attr-defined]
            request.send_response(302)
            request.send_header("Location", target)
            request.send_header("Content-Length", "0")
            request.end_headers()

        return handler

    site.routes["/a"], site.routes["/b"], site.routes["/c"] = (
        slow_redirect("/b"),
        slow_redirect("/c"),
        slow_redirect("/d"),
    )
    site.routes["/d"] = Reply(body=b"Too late.")

    # Each hop answers well within 1 s, but the three together take 0.9 s of a 0.7 s budget.
    failure, elapsed = fetch_time(make_fetcher(timeout_seconds=0.7), site.url("/a"))

    assert "did not answer within 0.7 s" in str(failure)
    assert elapsed < 1.2


def test_the_deadline_comes_from_the_injected_clock(site):
    site.routes["/page"] = Reply(body=b"Fast enough for a real clock.")
    now = [0.0]

    def clock() -> float:
        now[0] += 10  # every look at the clock: ten more seconds have passed
        return now[0]

    with pytest.raises(FetchFailed, match="within 5 s"):
        make_fetcher(timeout_seconds=5, clock=clock).fetch(site.url("/page"))


# ------------------------------------------------------------------------------------------- types (rules 6, 7)


def test_a_type_clara_does_not_read_is_refused(site):
    site.routes["/image"] = Reply(body=media.png(), headers={"Content-Type": "image/png"})

    with pytest.raises(FetchRefused, match="image/png is not a type Clara reads"):
        make_fetcher().fetch(site.url("/image"))


def test_plain_text_is_read_with_normalised_whitespace_and_the_host_as_title(site):
    site.routes["/notes.txt"] = Reply(body=b"\n  The sky\t is   blue.\r\nIt is day.\r\n \r\n\r\nWater is wet.  \n\n")

    page = make_fetcher().fetch(site.url("/notes.txt"))

    text = "The sky is blue.\nIt is day.\n\nWater is wet."  # lines kept, paragraphs one blank line apart
    assert page == FetchedPage(site.url("/notes.txt"), "127.0.0.1", text, "text/plain")


ARTICLE = (
    "The Moon is Earth's only natural satellite. It orbits at an average distance of 384,400 km, about thirty "
    "times the diameter of Earth, and always shows the same face to it because of tidal locking. "
)


def html_page(article: str) -> bytes:
    return f"""<!doctype html><html><head><title>Moon  facts | Daily</title>
<style>.x {{ color: red }}</style><script>var tracking = "SCRIPT-TEXT";</script></head>
<body><header>SITE-HEADER</header><nav><a href="/">NAV-MENU</a></nav>
<div>OUTSIDE-ARTICLE teaser</div>
<article><h1>The Moon</h1><p>{article}</p><p>Second<br>paragraph &amp; more.</p>
<noscript>NOSCRIPT-TEXT</noscript><aside>ASIDE-TEXT</aside></article>
<form>FORM-TEXT</form><iframe>IFRAME-TEXT</iframe><svg><text>SVG-TEXT</text></svg>
<template>TEMPLATE-TEXT</template><footer>FOOTER-TEXT</footer></body></html>""".encode()


CHROME = ["SCRIPT-TEXT", "SITE-HEADER", "NAV-MENU", "NOSCRIPT", "ASIDE", "FORM", "IFRAME", "SVG", "TEMPLATE", "FOOTER"]


def test_html_main_text_prefers_the_article_and_drops_scripts_and_chrome(site):
    site.routes["/moon"] = Reply(body=html_page(ARTICLE), headers={"Content-Type": "text/html; charset=utf-8"})

    page = make_fetcher().fetch(site.url("/moon"))

    assert page.media_type == "text/html"
    assert page.title == "Moon facts | Daily"
    assert page.text == f"The Moon\n\n{ARTICLE.strip()}\n\nSecond\nparagraph & more."
    assert not [marker for marker in [*CHROME, "OUTSIDE-ARTICLE", "color"] if marker in page.text]


def test_html_with_a_short_article_falls_back_to_the_body_and_the_first_heading(site):
    body = b"<html><body><h1>Headline</h1><p>Body text.</p><article>Short.</article><h1>Second</h1></body></html>"
    site.routes["/short"] = Reply(body=body, headers={"Content-Type": "application/xhtml+xml"})

    page = make_fetcher().fetch(site.url("/short"))

    assert (page.title, page.text, page.media_type) == (
        "Headline",
        "Headline\n\nBody text.\n\nShort.\n\nSecond",
        "text/html",
    )


def test_html_charset_comes_from_the_header_else_the_meta_tag(site):
    html = '<html><head><meta charset="iso-8859-1"><title>Caf\xe9</title></head><body><p>Cr\xe8me br\xfbl\xe9e</p>'
    site.routes["/meta"] = Reply(body=html.encode("latin-1"), headers={"Content-Type": "text/html"})
    site.routes["/header"] = Reply(
        body=html.replace("iso-8859-1", "utf-8").encode("cp1252"), headers={"Content-Type": "text/html; charset=cp1252"}
    )
    site.routes["/none"] = Reply(body="<p>Na\xefve \u2713</p>".encode(), headers={"Content-Type": "text/html"})

    fetcher = make_fetcher()
    assert (fetcher.fetch(site.url("/meta")).title, fetcher.fetch(site.url("/meta")).text) == (
        "Caf\xe9",
        "Cr\xe8me br\xfbl\xe9e",
    )
    assert fetcher.fetch(site.url("/header")).text == "Cr\xe8me br\xfbl\xe9e"
    assert fetcher.fetch(site.url("/none")).text == "Na\xefve \u2713"


def test_long_text_is_cut_to_max_text_characters(site):
    site.routes["/long.txt"] = Reply(body=b"word " * 10_000)

    page = make_fetcher().fetch(site.url("/long.txt"))

    assert len(page.text) == MAX_TEXT_CHARACTERS - 1  # cut at 20,000 characters, then the trailing space dropped
    assert page.text.startswith("word word")


def test_a_pdf_is_read_and_titled_by_its_file_name(site):
    site.routes["/reports/moon%20report.pdf"] = Reply(
        body=media.pdf("The Moon is made of rock."), headers={"Content-Type": "application/pdf"}
    )

    page = make_fetcher().fetch(site.url("/reports/moon%20report.pdf"))

    assert (page.media_type, page.text, page.title) == (
        "application/pdf",
        "The Moon is made of rock.",
        "moon report.pdf",
    )


@pytest.mark.parametrize("headers", [{"Content-Type": "application/octet-stream"}, {}], ids=["octet-stream", "none"])
def test_a_pdf_without_a_telling_type_is_sniffed(site, headers):
    site.routes["/download"] = Reply(body=media.pdf("Sniffed text."), headers=headers)
    site.routes["/blob"] = Reply(body=b"\x00\x01binary", headers=headers)

    assert make_fetcher().fetch(site.url("/download")).text == "Sniffed text."
    with pytest.raises(FetchRefused, match="type could not be told"):
        make_fetcher().fetch(site.url("/blob"))


def test_a_damaged_pdf_fails(site):
    site.routes["/broken.pdf"] = Reply(body=b"%PDF-1.4\ngarbage", headers={"Content-Type": "application/pdf"})

    with pytest.raises(FetchFailed, match=r"^The PDF could not be read\.$"):
        make_fetcher().fetch(site.url("/broken.pdf"))


# ------------------------------------------------------------------------------------------- HTTP (rule 8)


def test_an_error_status_fails_with_the_status(site):
    with pytest.raises(FetchFailed, match=r"^The site answered 404\.$"):
        make_fetcher().fetch(site.url("/missing"))


def test_the_request_identifies_clara_and_asks_for_readable_types_unencoded(site):
    site.routes["/page?q=1"] = Reply(body=b"ok")

    make_fetcher().fetch(site.url("/page?q=1#fragment"))

    request = site.requests[0]
    assert (request.method, request.path) == ("GET", "/page?q=1")
    assert request.headers["Host"] == f"127.0.0.1:{site.port}"
    assert request.headers["User-Agent"] == "ClaraFactCheck/1.0 (+link reader)"
    assert request.headers["Accept"] == "text/html, text/plain, application/pdf;q=0.9"
    assert request.headers["Accept-Encoding"] == "identity"


def test_a_refused_connection_fails():
    resolve = Resolve([PUBLIC_IP])

    with pytest.raises(FetchFailed, match="could not be reached"):
        make_fetcher(resolve=resolve, connect=Connect(through=False)).fetch("http://news.example/")


def test_a_name_that_does_not_resolve_fails():
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchFailed, match="name could not be found"):
        make_fetcher(resolve=resolve, connect=Connect()).fetch("http://nowhere.example/")


# ------------------------------------------------------------------------------------------- HTTPS


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for news.example signed by it: (ca.pem, cert.pem, key.pem)."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common_name: str) -> Any:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            # Python 3.13 verifies with VERIFY_X509_STRICT, which wants these key identifiers and a CA's key usage.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("news.example")]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    folder = tmp_path_factory.mktemp("tls")
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_cert = certificate("Clara Test CA", ca_key, "Clara Test CA", ca_key, ca=True)
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server_cert = certificate("news.example", server_key, "Clara Test CA", ca_key, ca=False)
    paths[1].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@pytest.fixture
def tls_site(certificates: tuple[Path, Path, Path]) -> Iterator[Site]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates[1], certificates[2])
    with Site(tls=context) as server:
        server.routes["/secure"] = Reply(body=b"Served over TLS.")
        yield server


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch, certificates: tuple[Path, Path, Path]) -> None:
    """The fetcher's default TLS context, trusting the test CA as well as the system's."""
    default_context = ssl.create_default_context

    def context() -> ssl.SSLContext:
        created = default_context()
        created.load_verify_locations(cafile=certificates[0])
        return created

    monkeypatch.setattr(client_module.ssl, "create_default_context", context)


def test_https_dials_the_checked_address_and_verifies_the_certificate_by_name(tls_site, trust_test_ca):
    connect = Connect(port=tls_site.port)

    page = make_fetcher(allow_loopback=False, resolve=Resolve([PUBLIC_IP]), connect=connect).fetch(
        "https://news.example/secure"
    )

    assert page.text == "Served over TLS."
    assert connect.calls == [(PUBLIC_IP, 443)]
    assert tls_site.server_names == ["news.example"]  # SNI carries the name, not the dialled address
    assert tls_site.requests[0].headers["Host"] == "news.example"


def test_https_refuses_a_certificate_for_another_name(tls_site, trust_test_ca):
    connect = Connect(port=tls_site.port)

    with pytest.raises(FetchFailed, match="certificate could not be verified"):
        make_fetcher(resolve=Resolve([PUBLIC_IP]), connect=connect).fetch("https://other.example/secure")

    assert tls_site.requests == []


def test_https_refuses_a_certificate_from_an_unknown_authority(tls_site):
    connect = Connect(port=tls_site.port)

    with pytest.raises(FetchFailed, match="certificate could not be verified"):
        make_fetcher(resolve=Resolve([PUBLIC_IP]), connect=connect).fetch("https://news.example/secure")

    assert tls_site.requests == []


# ------------------------------------------------------------------------------------------- read_links


@pytest.fixture
def default_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The defaults of clara.settings, whatever the environment of the test process holds."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_read_links_reads_the_first_links_and_reports_the_rest(site, default_settings):
    for number in range(1, 5):
        site.routes[f"/{number}"] = Reply(body=f"Page {number} has five words.".encode())
    text = " ".join(site.url(f"/{number}") for number in range(1, 5))

    outcomes = read_links(text, make_fetcher())

    assert [(outcome.status, outcome.notes) for outcome in outcomes] == [
        ("read", "Read: 5 words of plain text."),
        ("read", "Read: 5 words of plain text."),
        ("read", "Read: 5 words of plain text."),
        ("refused", "Not read: at most 3 links are read per task."),
    ]
    assert outcomes[0].page is not None and outcomes[0].page.text == "Page 1 has five words."
    assert [outcome.url for outcome in outcomes] == text.split()
    assert [request.path for request in site.requests] == ["/1", "/2", "/3"]


def test_read_links_turns_every_bad_link_into_an_outcome(site):
    site.routes["/ok"] = Reply(body=b"<title>Fine</title><p>One two three.</p>", headers={"Content-Type": "text/html"})
    text = f"{site.url('/ok')} {site.url('/missing')} file:///etc/passwd http://10.0.0.1/admin"

    outcomes = read_links(text, make_fetcher(), limit=4)

    page = FetchedPage(site.url("/ok"), "Fine", "One two three.", "text/html")
    assert outcomes == [
        LinkOutcome(site.url("/ok"), page, "read", "Read: 3 words of HTML."),
        LinkOutcome(site.url("/missing"), None, "failed", "The site answered 404."),
        LinkOutcome("file:///etc/passwd", None, "refused", "Only http and https links are read, not file links."),
        LinkOutcome("http://10.0.0.1/admin", None, "refused", NON_PUBLIC_NOTE),
    ]


def test_read_links_survives_an_unexpected_error_and_logs_no_content(monkeypatch):
    class Broken(SafeFetcher):
        def fetch(self, url: str) -> FetchedPage:
            raise RuntimeError("page content: SECRET-PAGE-TEXT")

    warnings: list[tuple[Any, ...]] = []
    monkeypatch.setattr(fetcher_module.logger, "warning", lambda *args, **kwargs: warnings.append((args, kwargs)))

    broken = Broken(max_bytes=1, timeout_seconds=1, max_redirects=0)
    outcomes = read_links("https://news.example/a?token=SECRET-QUERY", broken, limit=1)

    assert outcomes == [
        LinkOutcome("https://news.example/a?token=SECRET-QUERY", None, "failed", "The link could not be read.")
    ]
    assert len(warnings) == 1
    assert "SECRET" not in repr(warnings)
    assert "news.example" in repr(warnings)


def test_read_links_with_a_limit_of_one_and_no_links():
    fetcher = make_fetcher(resolve=Resolve(["10.0.0.1"]), connect=Connect())

    assert read_links("No links here.", fetcher) == []
    assert [outcome.notes for outcome in read_links("http://a.example http://b.example", fetcher, limit=1)] == [
        NON_PUBLIC_NOTE,
        "Not read: at most 1 link is read per task.",
    ]


# ------------------------------------------------------------------------------------------- settings


def settings_of(fetcher: SafeFetcher) -> tuple[int, float, int, bool]:
    return fetcher.max_bytes, fetcher.timeout_seconds, fetcher.max_redirects, fetcher.allow_loopback


def test_production_refuses_allow_loopback():
    with pytest.raises(ValidationError, match="FETCH_ALLOW_LOOPBACK"):
        Settings(environment="production", fetch_allow_loopback=True)


def test_fetcher_for_settings_carries_the_settings(monkeypatch, default_settings, site):
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("FETCH_MAX_BYTES", "1234")
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("FETCH_MAX_REDIRECTS", "1")
    monkeypatch.setenv("FETCH_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("FETCH_MAX_URLS", "2")
    get_settings.cache_clear()
    site.routes["/a"] = Reply(body=b"Loopback allowed by the settings.")

    fetcher = fetcher_for_settings()
    outcomes = read_links(f"{site.url('/a')} {site.url('/b')} {site.url('/c')}")  # the settings' fetcher and limit

    assert settings_of(fetcher) == (1234, 2.5, 1, True)
    assert [outcome.status for outcome in outcomes] == ["read", "failed", "refused"]
    assert outcomes[2].notes == "Not read: at most 2 links are read per task."


def test_fetcher_for_settings_refuses_loopback_by_default(default_settings):
    fetcher = fetcher_for_settings()

    assert settings_of(fetcher) == (2_000_000, 10, 3, False)

"""The safe fetcher: reads the links found in content being fact-checked, without becoming a way into our network.

The links come from users, so every fetch is treated as hostile (server-side request forgery):

* http and https only, no user:password@ in the link;
* the host is resolved once per connection and every address it resolves to must be public (no loopback, private,
  link-local, carrier-grade NAT, multicast, reserved or IPv6 forms wrapping such an IPv4 address); the checked
  address itself is then dialled, so a DNS answer that changes between the check and the connection (rebinding)
  cannot reach an internal host. TLS still verifies the certificate against the host *name*;
* redirects are followed by hand, each new link checked again from the start, at most `max_redirects` of them;
* at most `max_bytes` per link and `timeout_seconds` per link in total (every hop, the headers and the body), so a
  slow or endless server cannot hold a worker;
* only HTML, plain text and PDF are read; the result is the readable text, cut to MAX_TEXT_CHARACTERS.

Standard library only (plus pypdf for PDFs, imported when a PDF arrives), so the layer stays small.
"""

import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import quote, unquote, urljoin, urlsplit

from clara.observability import logger
from clara.settings import get_settings

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MAX_TEXT_CHARACTERS = 20_000
MAX_PDF_PAGES = 50
MAX_TITLE_CHARACTERS = 300
MIN_MAIN_CHARACTERS = 200  # less in <article>/<main> is a teaser or a caption: the whole body is read instead
USER_AGENT = "ClaraFactCheck/1.0 (+link reader)"
ACCEPT = "text/html, text/plain, application/pdf;q=0.9"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_SIZE = 16_384
DEFAULT_PORTS = {"http": 80, "https": 443}

MediaType = Literal["text/html", "text/plain", "application/pdf"]
_MEDIA_TYPES: dict[str, MediaType] = {
    "text/html": "text/html",
    "application/xhtml+xml": "text/html",
    "text/plain": "text/plain",
    "application/pdf": "application/pdf",
}
_MEDIA_LABELS: dict[MediaType, str] = {"text/html": "HTML", "text/plain": "plain text", "application/pdf": "PDF"}

Resolver = Callable[[str, int], list[str]]
Connector = Callable[[tuple[str, int], float], socket.socket]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the final URL, after redirects
    title: str  # <title> or first heading for HTML; the PDF's title or file name; else the host name
    text: str  # readable text, whitespace-normalised, at most MAX_TEXT_CHARACTERS characters
    media_type: MediaType


class FetchError(Exception):
    """A link that was not read; str(error) is a short note in plain English that can be shown to the user."""


class FetchRefused(FetchError):
    """The policy said no: scheme, address, type, size or redirects."""


class FetchFailed(FetchError):
    """The site could not be read: a network error, a timeout, an HTTP error status, a damaged file."""


@dataclass(frozen=True)
class LinkOutcome:
    url: str  # the link as found in the content
    page: FetchedPage | None  # set when read
    status: Literal["read", "refused", "failed"]
    notes: str  # "Read: 1,234 words of HTML." or the FetchError's note


# ------------------------------------------------------------------------------------------- finding links

# A scheme written as a URL (http://, ftp://, file://, ...), javascript:, or a bare www. host; never from inside a
# word, a host name or an e-mail address. The link runs to the next whitespace, quote or angle bracket.
_LINK = re.compile(
    r"""(?:(?<![\w+.\-])[a-z][a-z0-9+.\-]*://|(?<![\w.@/\-])www\.|(?<![\w.\-])javascript:)[^\s<>"`]+""",
    re.IGNORECASE,
)
# Sentence punctuation that ends a sentence rather than a link, ASCII and CJK full-width.
_TRAILING = ".,;:!?)]}'\"\u3002\uff0c\u3001\uff1b\uff1a\uff01\uff1f\uff09"
_BRACKETS = {")": "(", "]": "[", "}": "{"}


def find_links(text: str) -> list[str]:
    """http(s) URLs and bare www. hosts in the text, in order of appearance, each once.

    Trailing punctuation is sentence punctuation, not part of the link, except a closing bracket that closes one
    opened inside the link (https://en.wikipedia.org/wiki/Mercury_(planet)). `www.example.com/x` becomes
    `https://www.example.com/x`. Other schemes (ftp://, file://, javascript:, ...) are returned too, so that
    read_links can report them refused rather than silently skip them.
    """
    links: dict[str, None] = {}
    for match in _LINK.finditer(text):
        link = _strip_trailing(match.group())
        if link.lower().startswith("www."):
            link = "https://" + link
        if _has_body(link):
            links.setdefault(link, None)
    return list(links)


def _strip_trailing(link: str) -> str:
    while link and link[-1] in _TRAILING:
        opening = _BRACKETS.get(link[-1])
        if opening is not None and link.count(opening) >= link.count(link[-1]):
            break
        link = link[:-1]
    return link


def _has_body(link: str) -> bool:
    """Something after the scheme: `http://` or `www.` alone is not a link."""
    _, _, rest = link.partition("://") if "://" in link else link.partition(":")
    return bool(rest.strip("/.")) and not link.lower().endswith("://www.")


# ------------------------------------------------------------------------------------------- addresses

# Python 3.11 calls these global although no public host lives there: IPv4-compatible (::a.b.c.d, deprecated),
# IPv4-translated (SIIT) and local-use NAT64 addresses.
_NEVER_PUBLIC = (
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    # 6to4 (deprecated by RFC 7526): Python 3.13's ipaddress, as Lambda runs it, counts 2002::/16 as not global
    # (the IANA registry's reading); 3.11 and 3.12 before 3.12.4 do not. Refused here, so every version agrees.
    ipaddress.IPv6Network("2002::/16"),
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_IPV6_LOOPBACK = ipaddress.IPv6Address("::1")


def is_public_address(address: IPAddress) -> bool:
    """Whether a fetch may connect to the address: globally reachable, not multicast, and for IPv6 forms that
    carry an IPv4 address (mapped, NAT64, 6to4, Teredo) the IPv4 address must be public as well."""
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if any(address in network for network in _NEVER_PUBLIC):
        return False
    return all(is_public_address(embedded) for embedded in _embedded_ipv4(address))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> Iterator[ipaddress.IPv4Address]:
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address in _NAT64:
        yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        yield address.sixtofour
    if address.teredo is not None:
        yield from address.teredo  # the server and the (obfuscated) client


def _is_loopback(address: IPAddress) -> bool:
    """127.0.0.0/8 and ::1 only: not ::ffff:127.0.0.1 nor anything else allow_loopback should not open."""
    if isinstance(address, ipaddress.IPv4Address):
        return address in _IPV4_LOOPBACK
    return address == _IPV6_LOOPBACK


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal is its own answer, without DNS)."""
    literal = _ip_literal(host)
    if literal is not None:
        return [str(literal)]
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def connect_to(address: tuple[str, int], timeout: float) -> socket.socket:
    """A TCP connection to an address already checked; an IP literal, so no name is resolved here."""
    return socket.create_connection(address, timeout=timeout)


# ------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class _Target:
    """A link that passed the scheme checks (rule 1), split into what a request needs."""

    url: str
    scheme: str
    host: str  # lower case, IDNA-encoded, without brackets
    port: int
    path: str  # path and query, percent-encoded, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def file_name(self) -> str:
        return unquote(self.path.split("?", 1)[0].rstrip("/").rpartition("/")[2])


def _parse_target(url: str) -> _Target:
    if any(character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in url):
        raise FetchRefused("The link is not a valid web address.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise FetchRefused("The link is not a valid web address.") from error
    scheme = parts.scheme.lower()
    if not scheme:
        raise FetchRefused("The link is not a valid web address.")
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused(f"Only http and https links are read, not {scheme} links.")
    if "@" in parts.netloc:
        raise FetchRefused("Links with a user name or password are not read.")
    if not parts.hostname:
        raise FetchRefused("The link has no host name.")
    try:
        host = parts.hostname.encode("idna").decode("ascii") if not parts.hostname.isascii() else parts.hostname
    except UnicodeError as error:
        raise FetchRefused("The link's host name is not valid.") from error
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return _Target(url, scheme, host, port or DEFAULT_PORTS[scheme], path)


# ------------------------------------------------------------------------------------------- the fetcher


class _Deadline:
    """One fetch's time budget, shared by every hop; raises TimeoutError once it is spent."""

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        left = self._end - self._clock()
        if left <= 0:
            raise TimeoutError("the fetch's time budget is spent")
        return left


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads it, each recv limited to the time left.

    http.client reads the status line and headers with readline(), which keeps reading until a newline; a socket
    timeout alone restarts at every byte, so a server dripping one byte at a time would never time out.
    """

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "WriteableBuffer") -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What http.client.HTTPResponse needs of a socket: makefile("rb"), reading through _DeadlineReader."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class SafeFetcher:
    """Reads one link at a time under the rules in the module docstring; see fetch()."""

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
        self._resolve = resolve or resolve_host
        self._connect = connect or connect_to
        self._clock = clock

    def fetch(self, url: str) -> FetchedPage:
        """The page behind the link, after at most max_redirects redirects; raises FetchRefused or FetchFailed."""
        deadline = _Deadline(self.timeout_seconds, self._clock)
        with self._failures_explained():
            return self._follow(url, deadline)

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

    def _follow(self, url: str, deadline: _Deadline) -> FetchedPage:
        target = _parse_target(url)
        redirects = 0
        while True:
            with self._open(target, deadline) as sock, self._request(sock, target, deadline) as response:
                location = response.getheader("Location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return self._read_page(target, response, deadline)
            redirects += 1
            if redirects > self.max_redirects:
                raise FetchRefused(f"The link redirected more than {self.max_redirects} times.")
            target = _parse_target(urljoin(target.url, location.strip()).partition("#")[0])

    # --------------------------------------------------------------------------- connecting (rule 2)

    def _open(self, target: _Target, deadline: _Deadline) -> socket.socket:
        sock = self._dial(self._checked_addresses(target), target.port, deadline)
        if target.scheme == "http":
            return sock
        try:
            sock.settimeout(deadline.remaining())
            # The name, not the dialled IP: SNI and the certificate check are about the host the link names.
            return ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
        except BaseException:
            sock.close()
            raise

    def _checked_addresses(self, target: _Target) -> list[str]:
        """The host's addresses, resolved once for this connection; all of them must be allowed."""
        literal = _ip_literal(target.host)
        try:
            answers = [str(literal)] if literal is not None else self._resolve(target.host, target.port)
        except OSError as error:
            raise FetchFailed("The site's name could not be found.") from error
        if not answers:
            raise FetchFailed("The site's name could not be found.")
        addresses = [_ip_literal(answer) for answer in answers]
        if not all(address is not None and self._allowed(address) for address in addresses):
            raise FetchRefused("The link leads to a non-public address, which Clara does not read.")
        return answers

    def _allowed(self, address: IPAddress) -> bool:
        return is_public_address(address) or (self.allow_loopback and _is_loopback(address))

    def _dial(self, addresses: list[str], port: int, deadline: _Deadline) -> socket.socket:
        """The first of the checked addresses that answers; never the name, which could resolve differently now."""
        failure: OSError | None = None
        for address in addresses:
            try:
                return self._connect((address, port), deadline.remaining())
            except TimeoutError:
                raise
            except OSError as error:
                failure = error
        raise failure or OSError("no address to connect to")

    # --------------------------------------------------------------------------- the exchange

    def _request(self, sock: socket.socket, target: _Target, deadline: _Deadline) -> http.client.HTTPResponse:
        request = (
            f"GET {target.path} HTTP/1.1\r\n"
            f"Host: {target.host_header}\r\n"
            f"User-Agent: {USER_AGENT}\r\n"
            f"Accept: {ACCEPT}\r\n"
            "Accept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.settimeout(deadline.remaining())
        sock.sendall(request.encode("ascii"))
        # HTTPResponse only calls makefile("rb") on what it is given.
        response = http.client.HTTPResponse(cast(socket.socket, _DeadlineSocket(sock, deadline)), method="GET")
        response.begin()
        return response

    def _read_page(self, target: _Target, response: http.client.HTTPResponse, deadline: _Deadline) -> FetchedPage:
        if response.status >= 300:
            raise FetchFailed(f"The site answered {response.status}.")
        declared = _declared_type(response)
        body = self._read_body(response, deadline)
        media_type = declared or _sniff(body)
        charset = response.headers.get_content_charset()
        if media_type == "application/pdf":
            title, text = _pdf_text(body)
            title = title or target.file_name
        elif media_type == "text/html":
            title, text = _html_text(_decode(body, charset or _meta_charset(body)))
        else:
            title, text = "", _normalise(_decode(body, charset))
        return FetchedPage(
            url=target.url,
            title=_one_line(title or target.host)[:MAX_TITLE_CHARACTERS],
            text=text[:MAX_TEXT_CHARACTERS].rstrip(),
            media_type=media_type,
        )

    def _read_body(self, response: http.client.HTTPResponse, deadline: _Deadline) -> bytes:
        """At most max_bytes (rule 4), refused as soon as more is announced or arrives; within the deadline."""
        length = (response.getheader("Content-Length") or "").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise self._too_large()
        body = bytearray()
        while chunk := response.read1(CHUNK_SIZE):
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large()
            deadline.remaining()
        return bytes(body)

    def _too_large(self) -> FetchRefused:
        return FetchRefused(f"The page is larger than {_size(self.max_bytes)}, the most Clara reads from a link.")

    # --------------------------------------------------------------------------- sending (webhooks)

    def check(self, url: str, *, https_only: bool = False) -> None:
        """Whether a request to `url` would be allowed now: rules 1 and 2, the host resolved. Raises FetchRefused
        (the policy said no) or FetchFailed (the name could not be found)."""
        target = _parse_target(url)
        if https_only and target.scheme != "https":
            raise FetchRefused("Only https addresses are allowed.")
        self._checked_addresses(target)

    def post(self, url: str, body: bytes, headers: dict[str, str], *, max_answer_bytes: int) -> int:
        """POST `body` to `url` under the same rules as a fetch (the address checked at this connection and the
        checked address dialled, one deadline for everything), following no redirect: the answer's status. At most
        `max_answer_bytes` of the answer are read, then dropped: a receiver's answer is not Clara's to keep.
        Raises FetchRefused or FetchFailed as fetch() does."""
        deadline = _Deadline(self.timeout_seconds, self._clock)
        target = _parse_target(url)
        with self._failures_explained(), self._open(target, deadline) as sock:
            lines = [
                f"POST {target.path} HTTP/1.1",
                f"Host: {target.host_header}",
                *(f"{name}: {value}" for name, value in headers.items()),
                f"Content-Length: {len(body)}",
                "Connection: close",
            ]
            sock.settimeout(deadline.remaining())
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            response = http.client.HTTPResponse(cast(socket.socket, _DeadlineSocket(sock, deadline)), method="POST")
            response.begin()
            with response:
                left = max_answer_bytes
                while left > 0 and (chunk := response.read1(min(CHUNK_SIZE, left))):
                    left -= len(chunk)
                    deadline.remaining()
                return response.status


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g} MB"
    if count >= 1000:
        return f"{count / 1000:.3g} KB"
    return f"{count} bytes"


# ------------------------------------------------------------------------------------------- types and text


def _declared_type(response: http.client.HTTPResponse) -> MediaType | None:
    """The type the Content-Type header names (rule 6); None when missing or generic, to sniff the body."""
    header = response.getheader("Content-Type")
    name = (header or "").split(";", 1)[0].strip().lower()
    if name in ("", "application/octet-stream"):
        return None
    if name not in _MEDIA_TYPES:
        raise FetchRefused(f"{name} is not a type Clara reads; it reads web pages, plain text and PDF.")
    return _MEDIA_TYPES[name]


def _sniff(body: bytes) -> MediaType:
    if body.startswith(b"%PDF-"):
        return "application/pdf"
    raise FetchRefused("The link's type could not be told; Clara reads web pages, plain text and PDF.")


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def _decode(body: bytes, charset: str | None) -> str:
    """The charset named by the site, else utf-8; undecodable bytes become U+FFFD rather than failing."""
    if charset:
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, ValueError):
            pass  # an unknown or non-text codec name
    return body.decode("utf-8", errors="replace")


_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _normalise(text: str) -> str:
    """Paragraphs apart by one blank line, lines kept, runs of spaces made one space, every line stripped.

    Paragraph breaks matter downstream: the analyzers split claims at sentence ends and at blank lines, so a heading
    without a full stop must not run into the sentence under it.
    """
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _MainText(HTMLParser):
    """The readable text of a page: the body without scripts, menus and chrome, and the article or main part apart.

    Block elements become paragraph breaks (a blank line) and <br> a line break, so paragraphs stay apart; the
    title is the <title>, else the first <h1>.
    """

    SKIPPED = frozenset(
        {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form", "iframe"}
    )
    MAIN = frozenset({"article", "main"})
    BLOCKS = frozenset(
        {
            "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "hr", "tr", "td", "th", "table", "section",
            "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figure", "figcaption", "article", "main",
            "address", "details", "summary",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.body: list[str] = []
        self.main: list[str] = []
        self.title: list[str] = []
        self.heading: list[str] = []
        self._skipped: dict[str, int] = {}
        self._main_depth = 0
        self._in_title = False
        self._h1_state: Literal["before", "inside", "done"] = "before"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self._skipped[tag] = self._skipped.get(tag, 0) + 1
        elif tag in self.MAIN:
            self._main_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "h1" and self._h1_state == "before" and not self._skipping:
            self._h1_state = "inside"
        self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._break(tag)  # <br/>, <svg/>: nothing opened

    def handle_endtag(self, tag: str) -> None:
        if self._skipped.get(tag):
            self._skipped[tag] -= 1
        elif tag in self.MAIN and self._main_depth:
            self._main_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1_state == "inside":
            self._h1_state = "done"
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skipping:
            self.body.append(data)
            if self._main_depth:
                self.main.append(data)
            if self._h1_state == "inside":
                self.heading.append(data)

    @property
    def _skipping(self) -> bool:
        return any(self._skipped.values())

    def _break(self, tag: str) -> None:
        if self._skipping or (tag not in self.BLOCKS and tag != "br"):
            return
        separator = "\n" if tag == "br" else "\n\n"
        self.body.append(separator)
        if self._main_depth:
            self.main.append(separator)


def _html_text(html: str) -> tuple[str, str]:
    """(title, text): the article or main text when it holds a real amount of text, else the whole body."""
    parser = _MainText()
    parser.feed(html)
    parser.close()
    main = _normalise("".join(parser.main))
    text = main if len(main) >= MIN_MAIN_CHARACTERS else _normalise("".join(parser.body))
    title = _one_line("".join(parser.title)) or _one_line("".join(parser.heading))
    return title, text


def _pdf_text(body: bytes) -> tuple[str, str]:
    """(title, text) of at most MAX_PDF_PAGES pages; pypdf is imported here, as it is heavy for a cold start."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(body))
        pages = [reader.pages[index].extract_text() or "" for index in range(min(len(reader.pages), MAX_PDF_PAGES))]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as error:  # pypdf raises many kinds of error for a damaged file
        raise FetchFailed("The PDF could not be read.") from error
    return str(title), _normalise("\n\n".join(pages))


# ------------------------------------------------------------------------------------------- entry points


def fetcher_for_settings() -> SafeFetcher:
    settings = get_settings()
    return SafeFetcher(
        max_bytes=settings.fetch_max_bytes,
        timeout_seconds=settings.fetch_timeout_seconds,
        max_redirects=settings.fetch_max_redirects,
        allow_loopback=settings.fetch_allow_loopback,
    )


def read_links(text: str, fetcher: SafeFetcher | None = None, limit: int | None = None) -> list[LinkOutcome]:
    """Read the first `limit` links of the text (settings.fetch_max_urls by default); report the rest as not read.

    Never raises for a bad link: a refusal, a failure or an unexpected error is an outcome like a success.
    """
    links = find_links(text)
    if not links:
        return []
    if limit is None:
        limit = get_settings().fetch_max_urls
    fetcher = fetcher or fetcher_for_settings()
    over_limit = f"Not read: at most {limit} {'link is' if limit == 1 else 'links are'} read per task."
    return [
        _read_link(fetcher, link) if index < limit else LinkOutcome(link, None, "refused", over_limit)
        for index, link in enumerate(links)
    ]


def _read_link(fetcher: SafeFetcher, link: str) -> LinkOutcome:
    try:
        page = fetcher.fetch(link)
    except FetchRefused as error:
        return LinkOutcome(link, None, "refused", str(error))
    except FetchError as error:
        return LinkOutcome(link, None, "failed", str(error))
    except Exception as error:
        # The type and host only: the message of an unexpected error may quote the page or the link's query.
        logger.warning(
            "Reading a link failed unexpectedly", extra={"error_type": type(error).__name__, "host": _host(link)}
        )
        return LinkOutcome(link, None, "failed", "The link could not be read.")
    words = len(page.text.split())
    return LinkOutcome(link, page, "read", f"Read: {words:,} words of {_MEDIA_LABELS[page.media_type]}.")


def _host(link: str) -> str | None:
    try:
        return urlsplit(link).hostname
    except ValueError:
        return None

"""The address policy: which links may be requested (http and https, no user:password@) and which addresses may be
dialled (public ones; loopback only where a test or a developer allows it). clara.integrations.web says why."""

import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from clara.integrations.web.errors import FetchRefused

DEFAULT_PORTS = {"http": 80, "https": 443}

Resolver = Callable[[str, int], list[str]]
Connector = Callable[[tuple[str, int], float], socket.socket]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


def is_loopback(address: IPAddress) -> bool:
    """127.0.0.0/8 and ::1 only: not ::ffff:127.0.0.1 nor anything else allow_loopback should not open."""
    if isinstance(address, ipaddress.IPv4Address):
        return address in _IPV4_LOOPBACK
    return address == _IPV6_LOOPBACK


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (an IP literal is its own answer, without DNS)."""
    literal = ip_literal(host)
    if literal is not None:
        return [str(literal)]
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in answers))


def connect_to(address: tuple[str, int], timeout: float) -> socket.socket:
    """A TCP connection to an address already checked; an IP literal, so no name is resolved here."""
    return socket.create_connection(address, timeout=timeout)


@dataclass(frozen=True)
class Target:
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


def parse_target(url: str) -> Target:
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
    return Target(url, scheme, host, port or DEFAULT_PORTS[scheme], path)

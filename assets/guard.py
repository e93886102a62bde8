"""The SSRF guard: before any connection, a URL's host is resolved and every address it
resolves to must be public, else the URL is refused with the reason. A URL handed to the
assets worker comes from scraped data (an og:image, a thumbnail field), so it may point
anywhere: at loopback services, the private network or a cloud's metadata endpoint.

Refused: loopback, private (RFC 1918, unique-local), link-local, multicast, reserved,
unspecified (0.0.0.0, ::), shared (100.64/10) and other non-global addresses, the metadata
addresses by name, IPv4 hidden in IPv6 (::ffff:a.b.c.d, 6to4, NAT64) judged as the IPv4 it
carries, and the numeric host forms resolvers accept (2130706433, 0x7f.1, 0177.0.0.1) read the
way inet_aton reads them. The caller connects to the address checked here, never resolving the
name a second time, so a DNS answer cannot change between the check and the connection.

`Allowlist` lets chosen address:port pairs or networks through (the sandbox in tests and the
demo); `Resolver` is the DNS step, with fixed answers first (ASSETS_RESOLVE).
"""

import asyncio
import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from core.errors import Permanent, SourceUnavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA = {
    ipaddress.ip_address("169.254.169.254"): "cloud metadata address",  # AWS, GCP, Azure, ...
    ipaddress.ip_address("fd00:ec2::254"): "cloud metadata address",  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"): "cloud metadata address",  # Alibaba
    ipaddress.ip_address("169.254.170.2"): "container credentials address",  # ECS
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# What inet_aton accepts: one to four parts, each decimal, 0x-hex or 0-octal.
NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?",
                          re.IGNORECASE)


class Refused(Permanent):
    """The URL was refused before any connection: it is not one the worker may fetch."""

    kind = "refused"


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Why `address` may not be fetched from, or None for a public address."""
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = why_not_public(inner)
        return f"{reason} (as {inner} inside {address})" if reason else None
    for label, test in (("metadata", address in METADATA),
                        ("unspecified address", address.is_unspecified),
                        ("loopback address", address.is_loopback),
                        ("link-local address", address.is_link_local),
                        ("multicast address", address.is_multicast),
                        ("reserved address", address.is_reserved),
                        ("private address", address.is_private),
                        ("non-public address", not address.is_global)):
        if test:
            return METADATA[address] if label == "metadata" else label
    return None


def numeric_host(host: str) -> IPAddress | None:
    """The address a numeric host names, in every form a resolver would accept; None for a
    name."""
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(literal.split("%", 1)[0])
    except ValueError:
        pass
    if NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            raise Refused(f"{host!r} is not a valid address") from None
    return None


@dataclass(frozen=True, slots=True)
class Allowed:
    network: Network
    port: int | None  # None: any port


class Allowlist:
    """Addresses let through although not public: `ADDRESS:PORT`, `[V6]:PORT` or a network."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.entries = [self.parse(entry) for entry in entries]

    @staticmethod
    def parse(entry: str) -> Allowed:
        text = entry.strip()
        found = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:([0-9]+)|([0-9.]+):([0-9]+)", text)
        try:
            if found:
                address, port = found[1] or found[3], int(found[2] or found[4])
                return Allowed(ipaddress.ip_network(address), port)
            return Allowed(ipaddress.ip_network(text, strict=False), None)
        except ValueError:
            raise ValueError(f"ASSETS_ALLOW entry {entry!r}: ADDRESS:PORT or a network") from None

    def allows(self, address: IPAddress, port: int) -> bool:
        return any(address in a.network and a.port in (None, port) for a in self.entries)


class Resolver:
    """Host name -> addresses: the fixed answers first, then the system resolver."""

    def __init__(self, fixed: Mapping[str, str] | None = None) -> None:
        self.fixed = {host.lower(): ipaddress.ip_address(ip) for host, ip in
                      (fixed or {}).items()}

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        if host.lower() in self.fixed:
            return [self.fixed[host.lower()]]
        loop = asyncio.get_running_loop()
        try:
            answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno == socket.EAI_AGAIN:  # the resolver is down, not the name unknown
                raise SourceUnavailable(f"{host}: DNS lookup failed for now ({exc.strerror})") \
                    from None
            raise Refused(f"{host} does not resolve ({exc.strerror})") from None
        found: list[IPAddress] = []
        for *_, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        return found


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect for a checked URL: the address checked, and the name the server
    expects (Host header, TLS server name)."""

    url: str
    parts: SplitResult
    host: str
    port: int
    address: IPAddress

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{literal}:{self.port}"
        return self.parts._replace(netloc=netloc, fragment="").geturl()

    @property
    def host_header(self) -> str:
        default = 443 if self.parts.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class Guard:
    """Checks URLs before they are fetched (`check`), with an allowlist and a resolver."""

    def __init__(self, allowlist: Allowlist | None = None,
                 resolver: Resolver | None = None) -> None:
        self.allowlist = allowlist or Allowlist()
        self.resolver = resolver or Resolver()

    async def check(self, url: str) -> Target:
        """The address to connect to for `url`; Refused with the reason when it may not be
        fetched."""
        parts = split(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        numeric = numeric_host(host)
        addresses = [numeric] if numeric is not None else await self.resolver.resolve(host, port)
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        for address in addresses:
            reason = why_not_public(address)
            if reason and not self.allowlist.allows(address, port):
                named = host if numeric is not None else f"{host} ({address})"
                raise Refused(f"refused {named}: {reason}")
        return Target(url, parts, host, port, addresses[0])


def split(url: str) -> SplitResult:
    """`url` split, when it is an http(s) URL with a host and no credentials; Refused else."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs are fetched, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("the URL carries credentials")
    return parts

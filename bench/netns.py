"""Worker hosts on one machine: each in its own network namespace (iproute2), joined to the root
namespace by a veth pair, reaching the services (which listen on 127.0.0.1 only) through TCP
forwarders on its veth's root-side address: one forwarder per host and service, so each host's
connections can be counted, and one host cut off, on their own.

Cutting a host takes the root side of its veth down, as a pulled cable or a dead switch port
does: nothing is closed, no FIN or RST reaches either end; the host's open connections hang,
its new ones time out. Restoring brings the link back and TCP delivers what was held up.

Needs root (network namespaces and veth pairs need CAP_NET_ADMIN). Every name carries the
creating process's pid, so parallel runs cannot collide; `close()` removes what it created, by
name, and nothing else.
"""

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from bench.tcpproxy import TcpProxy

MAX_HOSTS = 60  # one /30 per host inside one /24


class NotRoot(RuntimeError):
    """Namespaced hosts need root: run as root (the CI machines do)."""


def require_root(what: str) -> None:
    """Fail with one line saying why when not root: never pass by doing nothing."""
    if os.geteuid() != 0:
        raise NotRoot(f"{what} needs root: it creates network namespaces and veth pairs "
                      f"(ip netns add, CAP_NET_ADMIN); run it as root")


def ip(*args: str, check: bool = True) -> None:
    """Run `ip ARGS`; a failure raises with iproute2's own words."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip() or done.returncode}")


@dataclass
class Host:
    """One namespaced host: its namespace, its veth pair and the forwarders it reaches the
    services through (by the upstream's "host:port")."""

    index: int
    namespace: str
    root_veth: str
    host_veth: str
    root_address: str
    host_address: str
    forwarders: dict[str, TcpProxy] = field(default_factory=dict)
    created: bool = False

    @property
    def name(self) -> str:
        return f"host{self.index}"

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside this host's network namespace, with the namespace's name as its
        host name (its own UTS namespace): worker ids, which start with the host name, then
        say which host a claim belongs to. Every step execs the next, so the pid is argv's."""
        return ["ip", "netns", "exec", self.namespace, "unshare", "--uts", "sh", "-c",
                'hostname "$0" && exec "$@"', self.namespace, *argv]

    def url(self, url: str) -> str:
        """`url` (postgresql://, redis://, amqp://, …) as this host reaches it: through its
        forwarder for that service."""
        parts = urlsplit(url)
        host, port = service_address(url)
        proxy = self.forwarders[f"{host}:{port}"]
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{proxy.host}:{proxy.port}"
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc}" if userinfo else netloc))

    def connections(self) -> dict[str, int]:
        """Open connections per service (upstream "host:port") this host holds right now."""
        return {upstream: proxy.open_connections() for upstream, proxy in self.forwarders.items()}

    def cut(self) -> None:
        ip("link", "set", self.root_veth, "down")

    def restore(self) -> None:
        ip("link", "set", self.root_veth, "up")

    def create(self, upstreams: Sequence[tuple[str, int]]) -> None:
        ip("netns", "add", self.namespace)
        self.created = True  # from here on, destroy() removes the namespace and the veth
        ip("link", "add", self.root_veth, "type", "veth", "peer", "name", self.host_veth,
           "netns", self.namespace)
        ip("addr", "add", f"{self.root_address}/30", "dev", self.root_veth)
        ip("link", "set", self.root_veth, "up")
        ip("-n", self.namespace, "addr", "add", f"{self.host_address}/30", "dev", self.host_veth)
        ip("-n", self.namespace, "link", "set", self.host_veth, "up")
        ip("-n", self.namespace, "link", "set", "lo", "up")
        # The host knows its gateway's hardware address for good, as a host behind a router
        # does: cut off, its packets then vanish (no failed ARP lookup answers "no route to
        # host" at once), so its connections hang the way a dead link makes them hang.
        ip("-n", self.namespace, "neigh", "replace", self.root_address, "lladdr",
           _mac_of(self.root_veth), "dev", self.host_veth, "nud", "permanent")
        for upstream_host, port in upstreams:
            proxy = TcpProxy(upstream_host, port, host=self.root_address, port=port)
            self.forwarders[f"{upstream_host}:{port}"] = proxy.start()

    def destroy(self) -> None:
        for proxy in self.forwarders.values():
            proxy.close()
        self.forwarders.clear()
        if self.created:
            ip("link", "del", self.root_veth, check=False)  # takes its peer with it
            ip("netns", "del", self.namespace, check=False)
            self.created = False


def _mac_of(interface: str) -> str:
    with open(f"/sys/class/net/{interface}/address") as address:
        return address.read().strip()


def plan_hosts(count: int, pid: int | None = None) -> list[Host]:
    """`count` hosts named after `pid` (this process by default), each on its own /30 of a
    10.x.y.0/24 chosen by the pid."""
    if not 1 <= count <= MAX_HOSTS:
        raise ValueError(f"1 to {MAX_HOSTS} hosts, not {count}")
    pid = os.getpid() if pid is None else pid
    subnet = f"10.{100 + (pid >> 8) % 100}.{pid & 255}"
    return [Host(index=i, namespace=f"beat-{pid}-host{i}", root_veth=f"bh{pid}r{i}",
                 host_veth=f"bh{pid}h{i}", root_address=f"{subnet}.{4 * i + 1}",
                 host_address=f"{subnet}.{4 * i + 2}")
            for i in range(1, count + 1)]


class HostNetwork:
    """`count` namespaced hosts with forwarders to `upstreams`; removed on exit, even when
    setting them up failed half-way."""

    def __init__(self, count: int, upstreams: Sequence[tuple[str, int]]) -> None:
        self.hosts = plan_hosts(count)
        self.upstreams = list(upstreams)

    def __enter__(self) -> Self:
        require_root("namespaced worker hosts")
        try:
            for host in self.hosts:
                host.create(self.upstreams)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for host in self.hosts:
            host.destroy()


DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "rediss": 6379,
                 "amqp": 5672, "amqps": 5671}


def service_address(url: str) -> tuple[str, int]:
    """The (host, port) a service URL points at (`postgresql+asyncpg`, `redis+cluster`: the
    part before the `+` says the default port)."""
    parts = urlsplit(url)
    scheme = parts.scheme.partition("+")[0]
    return parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[scheme]

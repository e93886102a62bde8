"""A TCP proxy the caller controls: the tests put it between Beat and PostgreSQL to simulate an
outage, and `beat bench hosts` (bench/netns.py) forwards a network namespace's connections to
services that listen on 127.0.0.1 only.

    proxy = TcpProxy("127.0.0.1", 5432).start()   # listens on 127.0.0.1:proxy.port
    proxy.cut()        # closes every current connection; new ones are refused (like a restart)
    proxy.cut("hold")  # ... or accepted but parked, silent, until restore()
    proxy.restore()    # accepts and forwards again (parked connections are forwarded now)
    proxy.close()
    proxied("postgresql://u@127.0.0.1:5432/db", proxy)  # the same URL, through the proxy

Plain threads: one accept loop, two pump threads per connection. It never touches the real
server beyond opening and closing its own client connections to it.
"""

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Self
from urllib.parse import urlsplit, urlunsplit


@dataclass(eq=False)
class _Pair:
    client: socket.socket
    upstream: socket.socket | None = None
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = port
        self.accepted = 0  # connections accepted so far
        self.forwarded = 0  # connections connected to the upstream so far
        self.cut_connections = 0  # connections closed by cut()
        self.state = "closed"  # "open", "refuse", "hold", "closed"
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._parked: list[_Pair] = []
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    # -- control ---------------------------------------------------------------------------

    def start(self) -> Self:
        self.state = "open"
        self._listen()
        return self

    def cut(self, mode: str = "refuse") -> int:
        """Close all current connections; `refuse` new ones (port closed) or `hold` them."""
        if mode not in ("refuse", "hold"):
            raise ValueError(f"unknown cut mode {mode!r}")
        with self._lock:
            self.state = mode
            pairs = list(self._pairs)
            self._pairs.clear()
        if mode == "refuse":
            self._stop_listening()
        for pair in pairs:
            pair.close()
        self.cut_connections += len(pairs)
        return len(pairs)

    def restore(self) -> None:
        with self._lock:
            previous, self.state = self.state, "open"
            parked, self._parked = self._parked, []
        if previous == "refuse":
            self._listen()
        for pair in parked:
            self._forward(pair)

    def close(self) -> None:
        with self._lock:
            self.state = "closed"
            pairs = list(self._pairs) + self._parked
            self._pairs.clear()
            self._parked = []
        self._stop_listening()
        for pair in pairs:
            pair.close()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 5
        while True:
            try:
                listener.bind((self.host, self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.05)
        listener.listen(512)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept_loop, args=(listener,),
                                          name=f"tcpproxy-accept-{self.port}", daemon=True)
        self._acceptor.start()

    def _stop_listening(self) -> None:
        listener, acceptor = self._listener, self._acceptor
        self._listener = self._acceptor = None
        if listener is not None:
            listener.close()
        if acceptor is not None:
            acceptor.join(timeout=2)

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(client)
            with self._lock:
                self.accepted += 1
                state = self.state
                if state == "hold":
                    self._parked.append(pair)
                    continue
            if state != "open":
                pair.close()
                continue
            self._forward(pair)

    def _forward(self, pair: _Pair) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            pair.close()
            return
        upstream.settimeout(None)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pair.upstream = upstream
        with self._lock:
            if self.state != "open":  # cut while connecting
                pair.close()
                return
            self._pairs.add(pair)
            self.forwarded += 1
        for src, dst in ((pair.client, upstream), (upstream, pair.client)):
            threading.Thread(target=self._pump, args=(pair, src, dst), daemon=True,
                             name=f"tcpproxy-pump-{self.port}").start()

    def _pump(self, pair: _Pair, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            pair.close()


def _postgresql(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return "postgresql://" + rest


def proxied(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(_postgresql(url))
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{proxy.host}:{proxy.port}" if userinfo else f"{proxy.host}:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def upstream_of(url: str) -> tuple[str, int]:
    parts = urlsplit(_postgresql(url))
    return parts.hostname or "127.0.0.1", parts.port or 5432

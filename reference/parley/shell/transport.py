"""TCP for the tool: addresses, connect/accept, and reads and writes under timeouts (§13.2).

The core reads no clock (§13.2): this module bounds every blocking socket
call with a timeout, and reports expiry as the registry's ``TIMEOUT`` (68).
A failure before a session exists (refused, unknown host, address in use)
is a ``LocalFailure`` with its own exit status (docs/tool.md); once a
session exists, the caller turns the end of the stream into the core's
``receive_eof()`` (``TRUNCATED``, §7.5).
"""

from __future__ import annotations

import errno
import select
import socket
import time

from ..errors import ParleyError
from .failures import LocalFailure

#: Socket buffers large enough to hold a few 256 KiB records in flight.
SOCKET_BUFFER = 4 << 20


class TransportClosed(Exception):
    """The peer closed or reset the connection."""


def parse_address(text: str, *, listen: bool) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or, to listen, ``:PORT`` / ``PORT``."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        if not listen:
            raise ValueError(f"{text!r}: give HOST:PORT")
        host = "127.0.0.1"
    try:
        number = int(port)
    except ValueError:
        raise ValueError(f"{text!r}: the port must be a number") from None
    if not 0 <= number <= 65535 or (number == 0 and not listen):
        raise ValueError(f"{text!r}: port out of range")
    return host, number


class Deadline:
    """A point on the monotonic clock; ``None`` seconds means never."""

    def __init__(self, seconds: float | None, what: str) -> None:
        self.what = what
        self.seconds = seconds
        self.at = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        if self.at is None:
            return None
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> ParleyError:
        """TIMEOUT naming the configured limit, not the time that was left."""
        limit = "no limit" if self.seconds is None else f"{self.seconds:g} s"
        return ParleyError("TIMEOUT", f"{self.what}: not done within {limit}")


def timeout_error(what: str, seconds: float | None) -> ParleyError:
    """TIMEOUT naming the configured limit ``seconds`` (not the time that was left)."""
    limit = "no limit" if seconds is None else f"{seconds:g} s"
    return ParleyError("TIMEOUT", f"{what}: nothing within {limit}")


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        except OSError:
            pass


def _describe(exc: OSError) -> str:
    return exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def connect(host: str, port: int, timeout: float | None) -> Connection:
    """Open a TCP connection; TIMEOUT if it takes longer than ``timeout`` seconds."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        raise timeout_error(f"connecting to {host}:{port}", timeout) from None
    except socket.gaierror as exc:
        raise LocalFailure("UNKNOWN_HOST", f"cannot resolve {host}: {exc.strerror}") from None
    except ConnectionRefusedError:
        raise LocalFailure(
            "CONNECTION_REFUSED",
            f"cannot connect to {host}:{port}: connection refused (is a receiver listening?)",
        ) from None
    except OSError as exc:
        raise LocalFailure(
            "NETWORK", f"cannot connect to {host}:{port}: {_describe(exc)}"
        ) from None
    _tune(sock)
    return Connection(sock, f"{host}:{port}")


class Listener:
    """A listening socket; ``accept`` hands out one connection at a time."""

    def __init__(self, host: str, port: int, backlog: int = 16) -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            family, _, _, _, addr = infos[0]
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            _tune(self.sock)  # inherited by accepted sockets, before the window is set
            self.sock.bind(addr)
            self.sock.listen(backlog)
        except socket.gaierror as exc:
            raise LocalFailure(
                "UNKNOWN_HOST", f"cannot listen on {host}:{port}: {exc.strerror}"
            ) from None
        except OSError as exc:
            kind = "ADDRESS_IN_USE" if exc.errno == errno.EADDRINUSE else "NETWORK"
            raise LocalFailure(kind, f"cannot listen on {host}:{port}: {_describe(exc)}") from None
        name = self.sock.getsockname()
        self.address = (name[0], name[1])

    def accept(self, timeout: float | None) -> Connection:
        self.sock.settimeout(timeout)
        try:
            sock, peer = self.sock.accept()
        except TimeoutError:
            raise timeout_error("waiting for a sender to connect", timeout) from None
        except OSError as exc:
            raise LocalFailure("NETWORK", f"accept failed: {_describe(exc)}") from None
        sock.settimeout(None)  # accepted sockets inherit the listener's timeout otherwise
        _tune(sock)
        host = peer[0]
        return Connection(sock, f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}", host)

    def close(self) -> None:
        self.sock.close()


class Connection:
    """One TCP connection with timeouts on every blocking call."""

    def __init__(self, sock: socket.socket, peer: str, host: str = "") -> None:
        self.sock = sock
        self.peer = peer
        self.host = host  # the peer's address without the port (per-source bounds)
        self.interrupted = False
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)
        self._timeout: float | None = -1.0

    def _set_timeout(self, seconds: float | None) -> None:
        if seconds != self._timeout:
            self.sock.settimeout(seconds)
            self._timeout = seconds

    def send(
        self, data, timeout: float | None, what: str, expired: ParleyError | None = None
    ) -> None:
        """Write all of ``data``; TIMEOUT (``expired`` if given) if the peer does not take it."""
        if not data:
            return
        self._set_timeout(timeout)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise (expired or timeout_error(what, timeout)) from None
        except OSError as exc:
            raise TransportClosed(_describe(exc)) from None

    def send_parts(self, parts: list[bytes], timeout: float | None, what: str) -> None:
        """Write the concatenation of ``parts`` with scatter-gather I/O (no joining copy).

        ``timeout`` bounds each wait for the peer to take more bytes.
        """
        views = [memoryview(p) for p in parts if p]
        if len(views) > 64 or not hasattr(self.sock, "sendmsg"):
            self.send(b"".join(views), timeout, what)
            return
        self._set_timeout(timeout)
        try:
            while views:
                n = self.sock.sendmsg(views)
                while n:
                    first = len(views[0])
                    if n < first:
                        views[0] = views[0][n:]
                        break
                    n -= first
                    del views[0]
        except TimeoutError:
            raise timeout_error(what, timeout) from None
        except OSError as exc:
            raise TransportClosed(_describe(exc)) from None

    def recv_into(
        self, buffer, timeout: float | None, what: str, expired: ParleyError | None = None
    ) -> int:
        """Read what has arrived (at least one byte; 0 at the end of the stream).

        On expiry raise ``expired`` if given (a deadline's own message, naming
        its configured limit), else TIMEOUT for ``what`` and ``timeout``.
        """
        self._set_timeout(timeout)
        try:
            return self.sock.recv_into(buffer)
        except TimeoutError:
            raise (expired or timeout_error(what, timeout)) from None
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
                return 0
            raise ParleyError("INTERNAL_ERROR", f"receive failed: {_describe(exc)}") from None

    def interrupt(self) -> None:
        """From another thread: end the connection under a blocked or later read or write.

        ``shutdown`` wakes a ``recv`` or ``send`` blocked in another thread
        (Linux); ``interrupted`` tells the session that it was us, not the peer.
        """
        self.interrupted = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def readable(self) -> bool:
        """True if a read would not block (bytes or the end of the stream arrived)."""
        return bool(self._poll.poll(0))

    def linger(self, seconds: float) -> None:
        """Close our side gracefully and wait briefly for the peer to close.

        Reading until the peer's end of stream (or ``seconds``) avoids a TCP
        reset that could destroy the ABORT frame we just sent before the
        peer reads it.
        """
        try:
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + seconds
            scratch = bytearray(1 << 16)
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                if not self.sock.recv_into(scratch):
                    break
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

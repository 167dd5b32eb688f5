"""``parley receive`` as a service: accept senders until stopped, one session per thread.

The core is sans-IO and each session owns its core object, buffers, sink and
socket, so sessions share nothing but the log; a thread per session is
enough (docs/tool.md, "Serving").  The listener:

* runs at most ``max_sessions`` sessions at once; while all slots are busy it
  accepts nobody (new connections wait in the kernel's backlog, their
  handshake deadline running on the sender's side);
* runs at most ``max_per_source`` sessions at once for one source address; a
  connection over that bound is closed at once and logged;
* logs every session's end in one line, success or failure (an idle, garbage,
  unauthenticated or failing connection ends only its own session, §9.3);
* stops on SIGINT/SIGTERM (``KeyboardInterrupt`` in the main thread): it
  closes the listener, interrupts every running session (each removes its
  part file and closes its connection) and waits for them.

What one connection costs before it authenticates is in §13.2 and
docs/tool.md: one ephemeral key pair, one DH and one signature, a 16 KiB
buffer and the kernel's socket buffers, for at most the handshake timeout.
"""

from __future__ import annotations

import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .transport import Connection, Listener


@dataclass
class Stats:
    """What the server did, for its last line."""

    succeeded: int = 0
    failed: int = 0
    refused: int = 0  # over the per-source bound
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, ok: bool) -> None:
        with self.lock:
            if ok:
                self.succeeded += 1
            else:
                self.failed += 1


class Server:
    """Accept connections and run ``handle(conn, number)`` for each in its own thread.

    ``handle`` returns True for a session that succeeded, False for one that
    failed (it has logged it); it must not raise.  ``log`` takes one line.
    """

    POLL = 0.25  # seconds between checks for a free slot or a stop

    def __init__(
        self,
        listener: Listener,
        handle: Callable[[Connection, int], bool],
        log: Callable[[str], None],
        *,
        max_sessions: int,
        max_per_source: int,
    ) -> None:
        self.listener = listener
        self.handle = handle
        self.log = log
        self.max_sessions = max_sessions
        self.max_per_source = max_per_source
        self.stats = Stats()
        self._lock = threading.Lock()
        self._active: dict[int, tuple[threading.Thread, Connection]] = {}
        self._per_source: dict[str, int] = {}
        self._free = threading.Condition(self._lock)
        self._number = 0
        self.peak = 0  # most sessions at once

    def serve(self) -> Stats:
        """Run until KeyboardInterrupt (SIGINT, or SIGTERM turned into it); return the stats."""
        try:
            while True:
                self._wait_for_slot()
                if not select.select([self.listener.sock], [], [], self.POLL)[0]:
                    continue
                try:
                    conn = self.listener.accept(None)
                except Exception as exc:  # noqa: BLE001 - the listener outlives one failed accept
                    self.log(f"accept failed: {exc}")
                    continue
                self._start(conn)
        finally:
            self.listener.close()
            self._stop_all()
        return self.stats

    def _wait_for_slot(self) -> None:
        with self._free:
            while len(self._active) >= self.max_sessions:
                self._free.wait(self.POLL)

    def _start(self, conn: Connection) -> None:
        with self._lock:
            self._number += 1
            number = self._number
            if self._per_source.get(conn.host, 0) >= self.max_per_source:
                self.stats.refused += 1
                over = True
            else:
                over = False
                self._per_source[conn.host] = self._per_source.get(conn.host, 0) + 1
                # A daemon: a session still stuck after the stop's grace cannot keep
                # the process alive.
                thread = threading.Thread(
                    target=self._run,
                    args=(conn, number),
                    name=f"parley-session-{number}",
                    daemon=True,
                )
                self._active[number] = (thread, conn)
                self.peak = max(self.peak, len(self._active))
        if over:
            conn.close()
            self.log(
                f"session {number} from {conn.peer} refused: {self.max_per_source} sessions "
                "from that address already run (--max-per-source)"
            )
            return
        thread.start()

    def _run(self, conn: Connection, number: int) -> None:
        ok = False
        try:
            ok = self.handle(conn, number)
        finally:
            conn.close()
            self.stats.count(ok)
            with self._free:
                self._active.pop(number, None)
                left = self._per_source.get(conn.host, 1) - 1
                if left:
                    self._per_source[conn.host] = left
                else:
                    self._per_source.pop(conn.host, None)
                self._free.notify_all()

    def _stop_all(self, grace: float = 10.0) -> None:
        with self._lock:
            running = list(self._active.values())
        for _, conn in running:
            conn.interrupt()
        for thread, _ in running:
            thread.join(grace)

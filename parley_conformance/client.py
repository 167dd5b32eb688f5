"""Talk to an adapter subprocess (adapter §2, adapter §5.1, adapter §5.2).

``AdapterClient`` owns one adapter process.  It starts the process in its own
process group, reads ``hello``, then sends one request at a time and reads
exactly one reply, with a deadline on every write and read.  It never trusts
the adapter:

* a reply's declared length is checked against a cap before anything is
  allocated (adapter §5.4);
* bytes that arrive when no reply is due, or that do not parse as a message,
  are reported as non-protocol bytes on stdout (adapter §2.1);
* standard error is drained by a thread into a bounded buffer, so an adapter
  that floods it cannot block, and its tail is shown in reports.

On a timeout, a crash or a protocol violation the caller calls ``kill()``,
which kills the whole process group; the next ``ensure_started()`` restarts
the adapter.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import threading
import time

from . import adapter_protocol as ap

STDERR_KEEP = 64 << 10  # adapter §5.4
READ_CHUNK = 1 << 16


class AdapterTimeout(Exception):
    """No complete reply before the deadline (adapter §5.1)."""


class AdapterCrashed(Exception):
    """The adapter process exited or closed its stdout (adapter §5.2)."""


class _StderrTail:
    """Drains a pipe in a thread; keeps the last STDERR_KEEP bytes and a running count."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buf = bytearray()
        self.total = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="adapter-stderr")
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, READ_CHUNK)
            except OSError:
                break
            if not chunk:
                break
            with self._lock:
                self._buf += chunk
                self.total += len(chunk)
                if len(self._buf) > 2 * STDERR_KEEP:
                    del self._buf[:-STDERR_KEEP]
        try:
            os.close(self._fd)
        except OSError:
            pass

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def since(self, mark: int, limit: int = 4096) -> bytes:
        """What was written after ``mark`` (a previous ``total``): at most the last ``limit``
        bytes."""
        with self._lock:
            new = self.total - mark
            keep = min(new, limit, len(self._buf))
            return bytes(self._buf[len(self._buf) - keep :]) if keep > 0 else b""


class AdapterClient:
    """One adapter process, restartable."""

    def __init__(
        self,
        command: list[str],
        *,
        read_timeout: float = 5.0,
        startup_timeout: float = 20.0,
        max_reply: int = ap.DEFAULT_MAX_REPLY,
        label: str = "adapter",
    ) -> None:
        self.command = list(command)
        self.read_timeout = read_timeout
        self.startup_timeout = startup_timeout
        self.max_reply = max_reply
        self.label = label
        self.proc: subprocess.Popen | None = None
        self.hello: ap.Hello | None = None
        self._stderr: _StderrTail | None = None
        self._sel: selectors.BaseSelector | None = None
        self._next_id = 0
        self._next_session = 0
        self.starts = 0
        self.exit_description = ""
        self._case_limited = False

    # -- process lifetime ----------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc is not None

    def ensure_started(self) -> ap.Hello:
        if self.proc is None:
            self.start()
        return self.hello

    def start(self) -> ap.Hello:
        """Start the process and read its hello (adapter §2.4)."""
        self.kill()
        self.starts += 1
        self.exit_description = ""
        try:
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            self.proc = None
            raise AdapterCrashed(
                f"could not start {self.command[0]!r}: {exc.strerror or exc}"
            ) from None
        os.set_blocking(self.proc.stdin.fileno(), False)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._stderr = _StderrTail(os.dup(self.proc.stderr.fileno()))
        self.proc.stderr.close()
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup_timeout
        try:
            msg = self._read_message(deadline, what="hello")
            self.hello = ap.parse_hello(msg)
        except BaseException:
            self.kill()
            raise
        return self.hello

    def kill(self) -> None:
        """Kill the whole process group (adapter §5.2) and reap it; keeps the stderr tail."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes(proc)

    def stop(self) -> None:
        """Orderly end: close stdin, give the adapter a moment to exit 0, then kill the group."""
        proc = self.proc
        if proc is None:
            return
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def close_stdin(self, timeout: float) -> int | None:
        """Close the adapter's standard input and wait for it to exit (adapter §2.4 step 3).

        Returns its exit status (negative: killed by that signal), or None when it did not
        exit within ``timeout``; either way the process group is then killed and reaped, so the
        next case starts a fresh adapter.
        """
        proc = self.proc
        if proc is None:
            return None
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            status: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            status = None
        self.kill()
        return status

    def _close_pipes(self, proc: subprocess.Popen) -> None:
        if self._sel is not None:
            self._sel.close()
            self._sel = None
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        if self._stderr is not None:
            self._stderr.join(1.0)

    # -- stderr ------------------------------------------------------------------

    def stderr_mark(self) -> tuple[int, int]:
        return (self.starts, self._stderr.total if self._stderr else 0)

    def stderr_since(self, mark: tuple[int, int], limit: int = 4096) -> str:
        """The adapter's stderr written since ``mark`` (across at most one restart)."""
        starts, total = mark
        if self._stderr is None:
            return ""
        if starts == self.starts:
            data = self._stderr.since(total, limit)
        else:
            data = self._stderr.since(0, limit)
        return data.decode("utf-8", "replace")

    # -- requests -----------------------------------------------------------------

    def new_session_id(self) -> int:
        self._next_session += 1
        return self._next_session

    def request(self, build, deadline: float) -> tuple[int, dict]:
        """Send one request built by ``build(id)`` and return (id, reply message)."""
        if self.proc is None:
            raise AdapterCrashed("the adapter is not running")
        self._next_id += 1
        rid = self._next_id
        data = ap.encode(build(rid))
        self._check_unsolicited()
        self._write(data, deadline)
        return rid, self._read_message(deadline, what="reply")

    def _read_deadline(self, deadline: float) -> float:
        own = time.monotonic() + self.read_timeout
        self._case_limited = deadline < own
        return min(deadline, own)

    def _check_unsolicited(self) -> None:
        """Nothing may be on stdout when no reply is due (adapter §2.4)."""
        if self._sel.select(0):
            raw = self._read_available(256)
            if not raw:
                raise self._crashed("closed its stdout")
            raise ap.AdapterProtocolError(
                "non-protocol bytes on stdout: the adapter wrote when no reply was due "
                f"(adapter §2.1, adapter §2.4): {ap.describe_bytes(raw)}",
                raw,
            )

    def _write(self, data: bytes, deadline: float) -> None:
        fd = self.proc.stdin.fileno()
        view = memoryview(data)
        try:  # the common case: the pipe takes the whole request at once
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            raise self._crashed("closed its stdin") from None
        if not view:
            return
        wdeadline = self._read_deadline(deadline)
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_WRITE)
        sel.register(self.proc.stdout.fileno(), selectors.EVENT_READ)
        try:
            while view:
                left = wdeadline - time.monotonic()
                if left <= 0:
                    raise AdapterTimeout(
                        "the case timeout expired while writing a request (adapter §5.1)"
                        if self._case_limited
                        else f"the adapter did not read its request "
                        f"within {self.read_timeout:g} s (adapter §5.1)"
                    )
                for key, _ in sel.select(left):
                    if key.fd == fd:
                        try:
                            n = os.write(fd, view[:READ_CHUNK])
                        except BlockingIOError:
                            continue
                        except (BrokenPipeError, ConnectionResetError):
                            raise self._crashed("closed its stdin") from None
                        view = view[n:]
                    else:
                        raw = self._read_available(256)
                        if not raw:
                            raise self._crashed("closed its stdout")
                        raise ap.AdapterProtocolError(
                            "non-protocol bytes on stdout: the adapter wrote before it had read "
                            f"the whole request (adapter §2.4): {ap.describe_bytes(raw)}",
                            raw,
                        )
                    if not view:
                        break
        finally:
            sel.close()

    def _read_available(self, n: int, wait: float = 0.0) -> bytes:
        """Up to n bytes that are already there (b"" at end of file or if none come)."""
        if not n or not self._sel.select(wait):
            return b""
        try:
            return os.read(self.proc.stdout.fileno(), n)
        except OSError:
            return b""

    def _read_exact(self, n: int, deadline: float, what: str, got: bytearray) -> bytearray:
        fd = self.proc.stdout.fileno()
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                partial = f" ({len(got)} of {n} bytes arrived)" if got else ""
                if what != "hello" and self._case_limited:
                    raise AdapterTimeout(
                        f"the case timeout expired while waiting for a {what}"
                        f"{partial} (adapter §5.1)"
                    )
                raise AdapterTimeout(
                    f"no {what} within {self._timeout_for(what):g} s{partial} (adapter §5.1)"
                )
            if not self._sel.select(left):
                continue
            try:
                chunk = os.read(fd, min(READ_CHUNK, n - len(got)))
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                where = f" in the middle of a {what} ({len(got)} of {n} bytes)" if got else ""
                raise self._crashed(f"closed its stdout{where}")
            got += chunk
        return got

    def _timeout_for(self, what: str) -> float:
        return self.startup_timeout if what == "hello" else self.read_timeout

    def _read_message(self, deadline: float, what: str) -> dict:
        limit_deadline = deadline if what == "hello" else self._read_deadline(deadline)
        head = self._read_exact(ap.LENGTH_PREFIX, limit_deadline, what, bytearray())
        n = int.from_bytes(head, "big")
        if n == 0 or n > self.max_reply:
            # Do not allocate or wait for the body: show what is there (adapter §5.4).
            raw = bytes(head) + self._read_available(124, wait=0.05)
            why = (
                "an empty message (length 0)"
                if n == 0
                else f"a declared length of {n} bytes, over the {self.max_reply}-byte cap "
                "(adapter §5.4)"
            )
            raise ap.AdapterProtocolError(
                f"non-protocol bytes on stdout where a {what} was due: {why}; "
                f"the bytes: {ap.describe_bytes(raw)}. Stdout carries only adapter messages; "
                "log to stderr (adapter §2.1)",
                raw,
            )
        body = bytes(self._read_exact(n, limit_deadline, what, bytearray()))
        try:
            return ap.decode(body)
        except ap.AdapterProtocolError as exc:
            raise ap.AdapterProtocolError(
                f"non-protocol bytes on stdout where a {what} was due: {exc} "
                f"(body starts {ap.describe_bytes(body, 40)})",
                bytes(head) + body[:124],
            ) from None

    def _crashed(self, how: str) -> AdapterCrashed:
        proc = self.proc
        status = None
        if proc is not None:
            try:
                status = proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                status = None
        if status is None:
            desc = f"the adapter {how} but is still running"
        elif status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            desc = f"the adapter was killed by {name}"
        else:
            desc = f"the adapter exited with status {status}"
        self.exit_description = desc
        return AdapterCrashed(desc)

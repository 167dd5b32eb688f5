"""Drive one Parley session over TCP: the tool's sender and receiver (§5, §7, §8, §9.3, §14).

The core (``Emitter``, ``Receiver``) decides everything about the protocol;
this shell moves bytes between it and a socket, a file and a clock:

* every blocking call has a timeout (connect, handshake, idle; §13.2), and
  expiry fails the session with ``TIMEOUT`` through ``abort()`` (§9.3);
* the sender reads its input in chunk-size pieces and writes each record
  out before reading the next, so memory stays a few records whatever the
  file size; the receiver writes each verified record to a temporary file;
* the receiver commits the file only after ``EndOfStream``, and only then
  calls ``acknowledge()``, which composes the ACK (§7.4, §8, §14); any
  refusal before that (the header, the size, the output) aborts the core,
  whose ABORT carries the registry code; the sender succeeds only on
  ``Acknowledged``;
* on any failure the queued ABORT goes out (§5.7) and the temporary file
  is removed, leaving an existing file of the same name untouched.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .. import keys
from ..connection import Emitter, Receiver, SessionConfig
from ..entropy import SystemEntropy
from ..errors import ParleyError
from ..events import Acknowledged, Data, EndOfStream, HandshakeComplete
from ..state import State
from . import header as app_header
from .failures import LocalFailure
from .pipeline import Worker
from .progress import Progress
from .sink import FileSink, StdoutSink
from .transport import Connection, Deadline, Listener, TransportClosed, connect, timeout_error

DEFAULT_CHUNK = 1 << 18  # the spec's largest DATA record (§7.1, §10)
RECV_BUFFER = 1 << 20
HANDSHAKE_BUFFER = 1 << 14  # a handshake frame is at most 8 KiB (§10)
LINGER = 2.0  # seconds to let an ABORT reach a peer that is still sending


@dataclass(frozen=True)
class Timeouts:
    """Seconds; None means no limit (§13.2)."""

    connect: float | None = 10.0
    handshake: float | None = 10.0
    idle: float | None = 30.0


@dataclass
class Summary:
    """What happened, for the human line and the ``--json`` line."""

    command: str
    suite_number: int
    suite: str
    peer_fingerprint: str
    transcript_hash: str
    bytes: int
    seconds: float
    name: str | None = None
    path: str | None = None
    peer_address: str | None = None
    warning: str | None = None


class SessionFailed(Exception):
    """A session failed; ``error`` is the ParleyError (or a local failure), ``peer_role``
    names the other side."""

    def __init__(self, error: ParleyError | LocalFailure, peer_role: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.peer_role = peer_role


def _summary(
    command: str,
    session: Emitter | Receiver,
    peer: keys.LongTermPublicKey,
    total: int,
    started: float,
    conn: Connection,
    **extra,
) -> Summary:
    return Summary(
        command,
        session.suite.number,
        session.suite.name,
        keys.fingerprint(peer),
        session.transcript_hash.hex(),
        total,
        time.monotonic() - started,
        peer_address=conn.peer,
        **extra,
    )


def _give_up(
    session: Emitter | Receiver, conn: Connection, exc: ParleyError, *, linger: bool
) -> None:
    """The failure rule's sending part (§9.3 step 4) for an error the core or the shell saw."""
    done = session.state is State.DONE
    if session.error is None:
        try:
            session.abort(exc.error.name, exc.detail)
        except ParleyError:
            pass
    out = session.data_to_send()
    if done:
        out = b""  # a completed session's queued ACK must not follow a local failure
    try:
        conn.send(out, 2.0, "sending ABORT")
    except (ParleyError, TransportClosed):
        linger = False
    if linger:
        conn.linger(LINGER)
    else:
        conn.close()


def _read_until(
    session: Emitter | Receiver,
    conn: Connection,
    wanted: type,
    deadline: Deadline,
    buffer: memoryview,
):
    """Feed received bytes to the core until it reports a ``wanted`` event."""
    while True:
        n = conn.recv_into(buffer, deadline.remaining(), deadline.what, deadline.expired())
        if n == 0:
            session.receive_eof()
            raise ParleyError("TRUNCATED", "the peer closed the connection")  # DONE: not reached
        found = None
        try:
            events = session.receive_data(buffer[:n])
        except ParleyError as exc:
            # Bytes after a verified ACK: the session stays DONE and the message
            # stays acknowledged (§9.3, last paragraph); anything else fails.
            found = next((e for e in exc.events if isinstance(e, wanted)), None)
            if found is None or session.state is not State.DONE:
                raise
            return found
        for event in events:
            if isinstance(event, wanted):
                found = event
        if found is not None:
            return found


def _check_peer(emitter: Emitter, conn: Connection, buffer: memoryview) -> None:
    """While streaming, the receiver sends nothing unless it gives up: read that now.

    An ABORT makes the core raise PEER_ABORTED (§5.7); the end of the stream
    makes it raise TRUNCATED (§7.5).
    """
    n = conn.recv_into(buffer, 1.0, "reading from the receiver")
    if n == 0:
        emitter.receive_eof()
    emitter.receive_data(buffer[:n])


def _fill(source, view: memoryview) -> int:
    """Read until ``view`` is full or the input ends (pipes return short reads)."""
    got = 0
    while got < len(view):
        try:
            n = source.readinto(view[got:])
        except OSError as exc:
            raise LocalFailure("INPUT", f"cannot read the input: {exc.strerror}") from None
        if not n:
            break
        got += n
    return got


def _stream(
    emitter: Emitter,
    conn: Connection,
    source,
    idle: float | None,
    size: int | None,
    chunk_size: int,
    progress: Progress | None,
    scratch: memoryview,
) -> None:
    """DATA records then FINAL (§7.3, §7.4), one record in memory at a time."""
    chunk = memoryview(bytearray(chunk_size))
    sent = 0
    while n := _fill(source, chunk):
        emitter.send_data(chunk[:n])  # the core encrypts from our buffer, keeps nothing of it
        conn.send_parts(emitter.data_to_send_parts(), idle, "sending data")
        sent += n
        if progress:
            progress.update(n)
        if conn.readable():  # an ABORT from the receiver, or its end of stream
            _check_peer(emitter, conn, scratch)
    if size is not None and sent != size:
        raise LocalFailure(
            "INPUT",
            f"the input changed size while being sent ({size} bytes announced, {sent} read)",
        )
    emitter.end_stream()
    conn.send(emitter.data_to_send(), idle, "sending FINAL")


def send(
    host: str,
    port: int,
    own: keys.LongTermPrivateKey,
    peer: keys.LongTermPublicKey,
    source,
    header: app_header.FileHeader,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    timeouts: Timeouts = Timeouts(),
    progress: Progress | None = None,
) -> Summary:
    """Send ``source`` (a raw binary file object) to a receiver; return when it acknowledged."""
    emitter = Emitter(
        SessionConfig(own, peer, SystemEntropy(), app_header=header.encode(), chunk_size=chunk_size)
    )
    conn = connect(host, port, timeouts.connect)
    started = time.monotonic()
    scratch = memoryview(bytearray(1 << 16))
    try:
        try:
            handshake = Deadline(timeouts.handshake, "the handshake")
            emitter.start()
            conn.send(
                emitter.data_to_send(), handshake.remaining(), handshake.what, handshake.expired()
            )
            _read_until(emitter, conn, HandshakeComplete, handshake, scratch)
            conn.send(emitter.data_to_send(), timeouts.idle, "sending E_AUTH")
            _stream(
                emitter, conn, source, timeouts.idle, header.size, chunk_size, progress, scratch
            )
            ack = _read_until(
                emitter,
                conn,
                Acknowledged,
                Deadline(timeouts.idle, "waiting for the acknowledgement"),
                scratch,
            )
        except TransportClosed as closed:
            # The receiver went away; an ABORT it sent first may still be readable.
            while True:
                _check_peer(emitter, conn, scratch)  # raises at the ABORT or the end
                if emitter.state is State.DONE:  # pragma: no cover - ACK before the reset
                    raise ParleyError("TRUNCATED", f"connection lost: {closed}") from None
    except LocalFailure as exc:  # the input failed: the receiver learns INTERNAL_ERROR (§11)
        _give_up(emitter, conn, ParleyError("INTERNAL_ERROR", exc.detail), linger=False)
        raise SessionFailed(exc, "receiver") from None
    except ParleyError as exc:
        _give_up(emitter, conn, exc, linger=False)
        raise SessionFailed(exc, "receiver") from None
    except BaseException:  # KeyboardInterrupt, SystemExit
        # No ABORT: nothing failed, the user stopped us.  Closing the connection
        # tells the receiver the truth (the stream ended early: TRUNCATED, §7.5),
        # where an ABORT could only say INTERNAL_ERROR, which reads as a bug (§11).
        conn.close()
        raise
    finally:
        if progress:
            progress.finish()
    conn.close()
    return _summary("send", emitter, peer, ack.total, started, conn, name=header.name)


@dataclass(frozen=True)
class ReceiveLimits:
    """What one receiving session may cost (§13.2; docs/tool.md, "Serving").

    ``max_size``: the most bytes a message may have (None: no cap); a header
    announcing more, or a stream carrying more, is refused with
    ``LIMIT_EXCEEDED``.  ``min_rate``: in the data phase the sender must have
    delivered ``min_rate`` bytes per second on average, after ``rate_grace``
    seconds of grace, or the session ends with ``TIMEOUT``: a trickle of one
    byte now and then cannot hold a slot (the idle timeout alone would let it).
    """

    max_size: int | None = None
    min_rate: float | None = 1024.0
    rate_grace: float = 10.0


def _open_sink(
    out: str, hdr: app_header.FileHeader, transcript_hash: bytes, *, force: bool, fsync: bool
):
    if out == "-":
        return StdoutSink()
    if out.endswith(os.sep) or os.path.isdir(out):
        name = app_header.sanitise_name(hdr.name) or f"parley-{transcript_hash.hex()[:8]}"
        return FileSink(os.path.join(out, name), replace=force, fsync=fsync)
    return FileSink(out, replace=True, fsync=fsync)


def _discard(writer: Worker | None, sink, committed: bool) -> None:
    if writer is not None:
        writer.stop(cancel=True)  # nothing writes to the temporary file after this
    if sink is not None and not committed:
        sink.discard()


class Interrupted(Exception):
    """The receiver is stopping (SIGINT/SIGTERM while serving): the session ends unfinished."""


class _Clock:
    """The receiving session's waits: the handshake deadline, then idle and minimum rate."""

    def __init__(self, timeouts: Timeouts, limits: ReceiveLimits) -> None:
        self.timeouts = timeouts
        self.limits = limits
        self.handshake = Deadline(timeouts.handshake, "the handshake")
        self.data_started: float | None = None
        self.wire_bytes = 0  # bytes read in the data phase

    def wait(self, streaming: bool) -> tuple[float | None, str, ParleyError]:
        """(timeout for the next read, what is waited for, the error on expiry)."""
        if not streaming:
            left = self.handshake.remaining()
            return left, self.handshake.what, self.handshake.expired()
        now = time.monotonic()
        if self.data_started is None:
            self.data_started = now
        idle = self.timeouts.idle
        idle_error = timeout_error("waiting for data", idle)
        rate = self.limits.min_rate
        if rate:
            due = self.data_started + self.limits.rate_grace + self.wire_bytes / rate
            slow = ParleyError(
                "TIMEOUT",
                f"the sender is too slow: {self.wire_bytes} bytes in "
                f"{now - self.data_started:.1f} s, below the minimum of {rate:g} bytes/s "
                f"after {self.limits.rate_grace:g} s (--min-rate)",
            )
            left = due - now
            if left <= 0:
                raise slow
            if idle is None or left < idle:
                return left, "waiting for data", slow
        return idle, "waiting for data", idle_error


def receive(
    listener: Listener,
    own: keys.LongTermPrivateKey,
    peer: keys.LongTermPublicKey,
    out: str,
    *,
    timeouts: Timeouts = Timeouts(),
    force: bool = False,
    fsync: bool = True,
    progress_factory=None,
    limits: ReceiveLimits = ReceiveLimits(),
) -> Summary:
    """Accept one sender and receive one message into ``out`` (a file, a folder/ or -)."""
    conn = listener.accept(timeouts.connect)
    listener.close()
    return receive_on(
        conn,
        own,
        peer,
        out,
        timeouts=timeouts,
        force=force,
        fsync=fsync,
        progress_factory=progress_factory,
        limits=limits,
    )


def receive_on(
    conn: Connection,
    own: keys.LongTermPrivateKey,
    peer: keys.LongTermPublicKey,
    out: str,
    *,
    timeouts: Timeouts = Timeouts(),
    force: bool = False,
    fsync: bool = True,
    progress_factory=None,
    limits: ReceiveLimits = ReceiveLimits(),
) -> Summary:
    """Receive one message from an accepted connection ``conn`` (one session; §5, §7).

    Thread-safe in the sense the server needs: everything here is this
    session's own (core, buffers, sink); ``conn.interrupt()`` from another
    thread ends it with ``Interrupted``.
    """
    receiver = Receiver(SessionConfig(own, peer, SystemEntropy()))
    started = time.monotonic()
    # Before authentication a peer gets a small buffer (§13.2); the 1 MiB one
    # for 256 KiB records only once the handshake has verified.
    buffer = memoryview(bytearray(HANDSHAKE_BUFFER))
    clock = _Clock(timeouts, limits)
    sink = hdr = progress = writer = None
    committed = False
    received = 0
    warning = None
    try:
        while receiver.state is not State.DONE:
            streaming = receiver.state is State.STREAMING
            timeout, what, expired = clock.wait(streaming)
            n = conn.recv_into(buffer, timeout, what, expired)
            if n == 0:
                if conn.interrupted:
                    raise Interrupted
                receiver.receive_eof()
            if streaming:
                clock.wire_bytes += n
            failure = None
            try:
                events = receiver.receive_data(buffer[:n])
            except ParleyError as exc:
                events, failure = exc.events, exc
            for event in events:
                if isinstance(event, Data):
                    received += len(event.data)
                    _check_size(hdr, limits, received)
                    writer.put(event.data)
                    if progress:
                        progress.update(len(event.data))
                elif isinstance(event, HandshakeComplete):
                    hdr = app_header.decode(event.app_header)
                    if (
                        limits.max_size is not None
                        and hdr.size is not None
                        and hdr.size > limits.max_size
                    ):
                        raise ParleyError(
                            "LIMIT_EXCEEDED",
                            f"the header announces {hdr.size} bytes, more than --max-size "
                            f"{limits.max_size}",
                        )
                    sink = _open_sink(out, hdr, event.transcript_hash, force=force, fsync=fsync)
                    writer = Worker(sink.write, depth=8)
                    buffer = memoryview(bytearray(RECV_BUFFER))
                    if progress_factory:
                        progress = progress_factory(hdr.size)
                elif isinstance(event, EndOfStream):
                    if failure is not None:
                        raise failure  # the session failed: nothing is committed
                    if hdr.size is not None and event.total != hdr.size:
                        raise ParleyError(
                            "LENGTH_MISMATCH",
                            f"the header announced {hdr.size} bytes, "
                            f"the stream carried {event.total}",
                        )
                    writer.drain()
                    sink.commit()
                    committed = True
                    try:
                        receiver.acknowledge()  # only now does the core compose the ACK (§7.4)
                    except ParleyError as exc:
                        if receiver.state is not State.DONE:
                            raise
                        warning = f"ignored what followed FINAL ({exc.error})"
            if failure is not None:
                raise failure
            try:
                conn.send(receiver.data_to_send(), timeouts.idle, "sending")
            except (ParleyError, TransportClosed) as exc:
                if not committed:
                    raise
                # The file is committed; only the ACK's delivery is in doubt (§14).
                reason = exc.detail if isinstance(exc, ParleyError) else str(exc)
                warning = (
                    f"the acknowledgement could not be sent ({reason}): the sender "
                    "does not know that the file arrived"
                )
    except (ParleyError, TransportClosed, LocalFailure) as exc:
        _discard(writer, sink, committed)
        if conn.interrupted:  # our stop broke the connection, not the sender
            conn.close()
            raise Interrupted from None
        if isinstance(exc, TransportClosed):
            exc = ParleyError("TRUNCATED", f"the sender closed the connection ({exc})")
        if isinstance(exc, LocalFailure):
            # A refusal of ours: the sender learns it from INTERNAL_ERROR (§11).
            _give_up(receiver, conn, ParleyError("INTERNAL_ERROR", exc.detail), linger=True)
            raise SessionFailed(exc, "sender") from None
        _give_up(
            receiver,
            conn,
            exc,
            linger=exc.error.name not in ("TIMEOUT", "TRUNCATED", "PEER_ABORTED"),
        )
        raise SessionFailed(exc, "sender") from None
    except BaseException:  # Interrupted, KeyboardInterrupt: clean up; the close tells the peer
        _discard(writer, sink, committed)
        conn.close()
        raise
    finally:
        if writer is not None:
            writer.stop(cancel=True)
        if progress:
            progress.finish()
    conn.close()
    return _summary(
        "receive",
        receiver,
        peer,
        received,
        started,
        conn,
        name=hdr.name,
        path=sink.path,
        warning=warning,
    )


def _check_size(hdr: app_header.FileHeader, limits: ReceiveLimits, received: int) -> None:
    if hdr.size is not None and received > hdr.size:
        raise ParleyError("LENGTH_MISMATCH", f"more than the {hdr.size} bytes the header announced")
    if limits.max_size is not None and received > limits.max_size:
        raise ParleyError("LIMIT_EXCEEDED", f"more than --max-size {limits.max_size} bytes")

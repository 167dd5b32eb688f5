"""Drive one Parley session over TCP: the tool's sender and receiver (§5, §7, §8, §9.3, §14).

The core (``Emitter``, ``Receiver``) decides everything about the protocol;
this shell moves bytes between it and a socket, a file and a clock:

* every blocking call has a timeout (connect, handshake, idle; §13.2), and
  expiry fails the session with ``TIMEOUT`` through ``abort()`` (§9.3);
* the sender reads its input in chunk-size pieces and writes each record
  out before reading the next, so memory stays a few records whatever the
  file size; the receiver writes each verified record to a temporary file;
* the receiver commits the file only after ``EndOfStream``, and only then
  sends the ACK the core queued (§7.4, §14); the sender succeeds only on
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
from .pipeline import Worker
from .progress import Progress
from .sink import FileSink, StdoutSink
from .transport import Connection, Deadline, Listener, TransportClosed, connect

DEFAULT_CHUNK = 1 << 18  # the spec's largest DATA record (§7.1, §10)
RECV_BUFFER = 1 << 20
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
    """A session failed; ``error`` is the ParleyError, ``role`` the side that saw it."""

    def __init__(self, error: ParleyError, peer_role: str) -> None:
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
        n = conn.recv_into(buffer, deadline.remaining(), deadline.what)
        if n == 0:
            session.receive_eof()
            raise ParleyError("TRUNCATED", "the peer closed the connection")  # DONE: not reached
        found = None
        for event in session.receive_data(buffer[:n]):
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
            raise ParleyError("INTERNAL_ERROR", f"cannot read the input: {exc.strerror}") from None
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
        raise ParleyError(
            "INTERNAL_ERROR",
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
            handshake = Deadline(timeouts.handshake, "handshake")
            emitter.start()
            conn.send(emitter.data_to_send(), handshake.remaining(), handshake.what)
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
                    raise ParleyError("INTERNAL_ERROR", f"connection lost: {closed}") from None
    except ParleyError as exc:
        _give_up(emitter, conn, exc, linger=False)
        raise SessionFailed(exc, "receiver") from None
    except BaseException:  # KeyboardInterrupt, SystemExit: still tell the peer
        _give_up(emitter, conn, ParleyError("INTERNAL_ERROR", "interrupted"), linger=False)
        raise
    finally:
        if progress:
            progress.finish()
    conn.close()
    return _summary("send", emitter, peer, ack.total, started, conn, name=header.name)


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
) -> Summary:
    """Accept one sender and receive one message into ``out`` (a file, a folder/ or -)."""
    conn = listener.accept(timeouts.connect)
    listener.close()
    receiver = Receiver(SessionConfig(own, peer, SystemEntropy()))
    started = time.monotonic()
    buffer = memoryview(bytearray(RECV_BUFFER))
    sink = hdr = progress = writer = None
    committed = False
    received = 0
    warning = None
    try:
        deadline = Deadline(timeouts.handshake, "handshake")
        while receiver.state is not State.DONE:
            if receiver.state is State.STREAMING:
                timeout, what = timeouts.idle, "waiting for data"
            else:
                timeout, what = deadline.remaining(), deadline.what
            n = conn.recv_into(buffer, timeout, what)
            if n == 0:
                receiver.receive_eof()
            failure = None
            try:
                events = receiver.receive_data(buffer[:n])
            except ParleyError as exc:
                events, failure = exc.events, exc
            for event in events:
                if isinstance(event, Data):
                    received += len(event.data)
                    if hdr.size is not None and received > hdr.size:
                        raise ParleyError(
                            "LENGTH_MISMATCH",
                            f"more than the {hdr.size} bytes the header announced",
                        )
                    writer.put(event.data)
                    if progress:
                        progress.update(len(event.data))
                elif isinstance(event, HandshakeComplete):
                    hdr = app_header.decode(event.app_header)
                    sink = _open_sink(out, hdr, event.transcript_hash, force=force, fsync=fsync)
                    writer = Worker(sink.write, depth=8)
                    if progress_factory:
                        progress = progress_factory(hdr.size)
                elif isinstance(event, EndOfStream):
                    if hdr.size is not None and event.total != hdr.size:
                        raise ParleyError(
                            "LENGTH_MISMATCH",
                            f"the header announced {hdr.size} bytes, "
                            f"the stream carried {event.total}",
                        )
                    writer.drain()
                    sink.commit()
                    committed = True
            if failure is not None:
                if not committed:
                    raise failure
                warning = f"ignored what followed FINAL ({failure.error})"
            conn.send(receiver.data_to_send(), timeouts.idle, "sending")
    except (ParleyError, TransportClosed) as exc:
        if isinstance(exc, TransportClosed):
            exc = ParleyError("TRUNCATED", f"the sender closed the connection ({exc})")
        _discard(writer, sink, committed)
        _give_up(
            receiver,
            conn,
            exc,
            linger=exc.error.name not in ("TIMEOUT", "TRUNCATED", "PEER_ABORTED"),
        )
        raise SessionFailed(exc, "sender") from None
    except BaseException:  # KeyboardInterrupt, SystemExit: still clean up and tell the peer
        _discard(writer, sink, committed)
        _give_up(receiver, conn, ParleyError("INTERNAL_ERROR", "interrupted"), linger=False)
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

"""What a Parley party may do with bytes from an attacker: the rules checked on every fuzz input.

Used by the atheris targets (fuzz/targets.py) and the property tests
(tests/test_properties.py).  A party fed arbitrary bytes may only

* make progress (return events), or
* fail with a ``ParleyError`` whose entry is in the registry (§11) and names a
  peer-caused error: never another exception, never ``INTERNAL_ERROR`` (the
  core maps unexpected library exceptions to it, so it means a bug), never a
  local error (those come from the application, not from bytes);

and in every case

* it releases only authenticated plaintext: the ``Data`` events are the true
  message's records, whole, in order, a prefix of the message (§7.3, §9.3);
  ``EndOfStream`` only for the whole message (§7.4); ``HandshakeComplete``
  only with the true TH_4, identity and header (§5.4);
* after a failure it stays dead: every later operation raises the same error
  object and produces no output (§9.3), and the ABORT it queued carries the
  error's number (§5.7);
* the outcome does not depend on how the byte stream was split (§4.1).

A violation raises ``OracleViolation`` (an ``AssertionError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley import cbor
from parley.errors import REGISTRY, ParleyError, PeerAborted, RemoteProtocolError
from parley.events import Acknowledged, Data, EndOfStream, HandshakeComplete
from parley.frames import ABORT, K_ERROR, encode, frame
from parley.state import State

#: Errors that bytes from the peer may cause (§11), INTERNAL_ERROR excluded.
PEER_CAUSED = frozenset(e.name for e in REGISTRY.values() if e.wire) - {"INTERNAL_ERROR"}


class OracleViolation(AssertionError):
    """A party did something the spec forbids for attacker-controlled input."""


def _require(cond: bool, what: str) -> None:
    if not cond:
        raise OracleViolation(what)


@dataclass
class Outcome:
    events: list = field(default_factory=list)
    error: ParleyError | None = None
    state: State | None = None
    sent: bytes = b""

    @property
    def error_name(self) -> str | None:
        return None if self.error is None else self.error.error.name

    def signature(self) -> tuple:
        """What a peer or application observes, for comparing two runs (split invariance).

        The error's human-readable detail is left out: it may say "bytes after
        the end" in one split and "a frame after the end" in another.
        """
        err = None if self.error is None else (type(self.error).__name__, self.error.error.name)
        return (self.events, err, self.state, self.sent)

    def delivered(self) -> bytes:
        return b"".join(ev.data for ev in self.events if isinstance(ev, Data))


def check_error(exc: ParleyError, *, eof: bool = False) -> None:
    """The error is a registry entry the peer may cause (§11)."""
    entry = exc.error
    _require(REGISTRY.get(entry.name) is entry, f"error {entry!r} is not a registry entry")
    if eof:
        _require(
            entry.name == "TRUNCATED" and isinstance(exc, RemoteProtocolError),
            f"end of transport gave {entry.name}, §7.5 says TRUNCATED",
        )
        return
    _require(
        entry.name in PEER_CAUSED,
        f"peer bytes caused {entry.name}: {exc.detail} (a bug, or a library exception that "
        "reached the core)",
    )
    expected = PeerAborted if entry.name == "PEER_ABORTED" else RemoteProtocolError
    _require(type(exc) is expected, f"{entry.name} raised as {type(exc).__name__}")
    _require(isinstance(getattr(exc, "events", None), list), "error without .events")


def abort_frame(number: int) -> bytes:
    return frame(encode(ABORT, {K_ERROR: number}))


def check_dead(session, error: ParleyError, sent: bytes) -> None:
    """§9.3: FAILED (or DONE, for bytes after completion), same error forever, ABORT queued."""
    state = session.state
    _require(state in (State.FAILED, State.DONE), f"state {state} after {error.error.name}")
    if state is State.FAILED and error.error.name not in ("PEER_ABORTED", "TRUNCATED"):
        number = error.error.number if error.error.wire else REGISTRY["INTERNAL_ERROR"].number
        _require(
            sent.endswith(abort_frame(number)),
            f"no ABORT({number}) queued after {error.error.name}",
        )
    ops = [
        lambda: session.receive_data(b""),
        lambda: session.receive_data(b"\x00\x00\x00\x01\x00"),
        session.receive_eof,
    ]
    if hasattr(session, "send_data"):
        ops += [session.start, lambda: session.send_data(b"x"), session.end_stream]
    for op in ops:
        try:
            op()
        except ParleyError as again:
            _require(
                again is error,
                f"a dead session raised {again.error.name}, not its error {error.error.name}",
            )
        else:
            raise OracleViolation(f"a session dead with {error.error.name} accepted an operation")
    _require(session.data_to_send() == b"", "a dead session produced output")
    _require(session.state is state, "a dead session changed state")


def run(snapshot, pieces, *, eof: bool = False) -> Outcome:
    """Feed ``pieces`` to a fresh copy of ``snapshot``'s party; check the generic rules."""
    session = snapshot.fresh()
    out = Outcome(list(snapshot.events), None, None, snapshot.sent)
    for piece in pieces:
        try:
            got = session.receive_data(piece)
            _require(isinstance(got, list), "receive_data did not return a list")
            out.events += got
            if session.state is State.WAIT_COMMIT:
                # The application commits at once, then acknowledges (§7.4, §8).
                out.sent += session.data_to_send()
                session.acknowledge()
        except ParleyError as exc:
            check_error(exc)
            out.events += exc.events
            out.error = exc
            break
        out.sent += session.data_to_send()
    if out.error is None and eof:
        try:
            session.receive_eof()
        except ParleyError as exc:
            check_error(exc, eof=True)
            out.error = exc
        else:
            _require(session.state is State.DONE, f"end of transport accepted in {session.state}")
    out.sent += session.data_to_send()
    out.state = session.state
    if out.error is not None:
        check_dead(session, out.error, out.sent)
    return out


def check_receiver(out: Outcome, t) -> None:
    """Only authenticated data, whole records, in order (§7.3, §7.4, §9.3); t: a Transcript."""
    ev = out.events
    kinds = [type(e) for e in ev]
    _require(
        all(k in (HandshakeComplete, Data, EndOfStream) for k in kinds),
        f"unexpected event types for a Receiver: {kinds}",
    )
    if ev:
        _require(kinds[0] is HandshakeComplete, "an event before HandshakeComplete")
        hs = ev[0]
        _require(
            hs.transcript_hash == t.th4
            and hs.peer_identity == t.id_e
            and hs.app_header == t.header
            and hs.suite == t.suite,
            "HandshakeComplete for a handshake that is not the true one",
        )
        _require(kinds.count(HandshakeComplete) == 1, "two HandshakeComplete events")
    datas = [e.data for e in ev if isinstance(e, Data)]
    _require(
        datas == t.records[: len(datas)],
        "released plaintext that is not the true message's next whole record",
    )
    if EndOfStream in kinds:
        _require(
            kinds.count(EndOfStream) == 1 and kinds[-1] is EndOfStream,
            "EndOfStream twice or not last",
        )
        _require(
            ev[-1].total == len(t.message) and len(datas) == len(t.records),
            "EndOfStream for an incomplete message",
        )
        _require(t.r_to_e[1] in out.sent, "EndOfStream without the ACK")
    else:
        _require(out.state is not State.DONE, "DONE without EndOfStream")
    if out.error is not None and out.state is State.DONE:
        _require(
            out.error.error.name == "UNEXPECTED_MESSAGE" and EndOfStream in kinds,
            "an error in DONE other than bytes after the end",
        )


def check_emitter(out: Outcome, t) -> None:
    """The Emitter accepts only the true R_HELLO and the true ACK (§5.3, §7.4)."""
    ev = out.events
    kinds = [type(e) for e in ev]
    _require(
        all(k in (HandshakeComplete, Acknowledged) for k in kinds),
        f"unexpected event types for an Emitter: {kinds}",
    )
    for e in ev:
        if isinstance(e, HandshakeComplete):
            _require(
                e.transcript_hash == t.th4 and e.peer_identity == t.id_r and e.app_header == b"",
                "HandshakeComplete for a forged R_HELLO",
            )
        else:
            _require(e.total == len(t.message), "Acknowledged with a wrong total")
    _require(
        kinds.count(HandshakeComplete) <= 1 and kinds.count(Acknowledged) <= 1, "an event twice"
    )
    _require((Acknowledged in kinds) == (out.state is State.DONE), "DONE without Acknowledged")


def pieces_of(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)] or [b""]


def check_decoded_body(body: bytes, item: object) -> None:
    """An accepted body is the unique deterministic encoding of what it decoded to (§4.2)."""
    _require(cbor.encode(item) == body, "accepted a body that is not the encoding of its value")

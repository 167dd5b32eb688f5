"""Conformance cases: what a case is, and the tools every case uses.

A :class:`Case` has a stable hierarchical id (adapter §5.5), the spec section
it checks, a one-line expectation, and a body that drives one or two adapter
sessions through a :class:`CaseContext`.  The body raises :class:`CaseFailure`
with what actually happened, or :class:`CaseUnsupported`; returning normally
means PASS.  Adapter timeouts, crashes and protocol violations propagate to
the runner, which turns them into TIMEOUT, CRASH or FAIL (adapter §5.2).

:class:`ImplSession` wraps one session in an adapter (adapter §3.3 to adapter §3.7)
and accumulates what it sent, released and reported; :class:`Transcript`
records every byte in both directions, cut into frames, for reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from parley import cbor
from parley.frames import TYPE_NAMES

from .. import adapter_protocol as ap
from ..client import AdapterClient


class CaseFailure(Exception):
    """The implementation did not do what the case expects."""

    def __init__(
        self,
        actual: str,
        details: list[str] | None = None,
        *,
        frames: tuple[bytes, bytes] | None = None,
    ) -> None:
        super().__init__(actual)
        self.actual = actual
        self.details = list(details or [])
        self.frames = frames  # (expected, actual) wire bytes, when one frame is wrong


class CaseUnsupported(Exception):
    """The case needs something the adapter does not offer (adapter §3.8, adapter §5.3)."""


@dataclass
class Case:
    """One conformance case (adapter §5.5)."""

    id: str
    kind: str  # "vector", "live" or "interop"
    suite: int
    role: str | None  # the implementation's role; None for interop
    section: str  # the spec sections it checks, e.g. "§7.3"
    title: str  # what is tested
    expected: str  # the expected outcome, one line
    body: Callable[[CaseContext], None] = field(repr=False)
    adapters: int = 1  # 2 for interop
    rules: tuple[str, ...] = ()  # the spec's rule ids it exercises ([R-7.3-3], spec/parley.md)
    # What a vector says about itself (vectors/README.md): comment, description, effect, …
    info: dict[str, str] = field(default_factory=dict)


# -- transcript -----------------------------------------------------------------------

FRAME_VIEW_LIMIT = 1 << 20
# What a reply carries besides the message's bytes: E_AUTH, record heads and tags, FINAL, the
# reply's own keys (adapter §3.7); generous for the runner's chunk sizes (at least 32 bytes).
REPLY_OVERHEAD = 64 << 10


def frame_type(body: bytes) -> str:
    """The message type name of a frame body, or MALFORMED (§4.3)."""
    if not body:
        return "EMPTY"
    try:
        item = cbor.decode(body, max_depth=2, max_items=16)
    except cbor.CBORError:
        return "MALFORMED"
    if isinstance(item, dict) and isinstance(item.get(0), int):
        return TYPE_NAMES.get(item[0], f"TYPE_{item[0]}")
    return "MALFORMED"


class Transcript:
    """Every byte between the parties, cut into frames per direction (§4.1)."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self._bufs: dict[tuple[str, str], bytearray] = {}

    def data(self, src: str, dst: str, data: bytes) -> None:
        buf = self._bufs.setdefault((src, dst), bytearray())
        buf += data
        while len(buf) >= 4:
            n = int.from_bytes(buf[:4], "big")
            if n > FRAME_VIEW_LIMIT:
                self.entries.append(
                    {
                        "kind": "bytes",
                        "src": src,
                        "dst": dst,
                        "note": f"declared length {n}",
                        "wire": bytes(buf),
                    }
                )
                buf.clear()
                return
            if len(buf) < 4 + n:
                return
            wire = bytes(buf[: 4 + n])
            del buf[: 4 + n]
            self.entries.append(
                {
                    "kind": "frame",
                    "src": src,
                    "dst": dst,
                    "type": frame_type(wire[4:]),
                    "wire": wire,
                }
            )

    def event(self, text: str) -> None:
        self.entries.append({"kind": "event", "text": text})

    def finish(self) -> list[dict]:
        for (src, dst), buf in self._bufs.items():
            if buf:
                self.entries.append(
                    {
                        "kind": "bytes",
                        "src": src,
                        "dst": dst,
                        "note": "incomplete frame",
                        "wire": bytes(buf),
                    }
                )
                buf.clear()
        return self.entries


# -- the context of one case --------------------------------------------------------


class CaseContext:
    """What a case body works with: adapter clients, a deadline, a transcript."""

    def __init__(self, case: Case, clients: list[AdapterClient], deadline: float) -> None:
        self.case = case
        self.clients = clients
        self.deadline = deadline
        self.transcript = Transcript()
        self.notes: list[str] = []
        self.warnings: list[str] = []  # violated SHOULDs: outcome WARN (adapter §5.3)

    @property
    def hello(self) -> ap.Hello:
        return self.clients[0].hello

    def session(self, *, client: int = 0, label: str = "impl", **start) -> ImplSession:
        return ImplSession(self, self.clients[client], label, **start)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        """A SHOULD not followed: WARN, or FAIL with --strict (adapter §5.3)."""
        if text not in self.warnings:
            self.warnings.append(text)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class ImplSession:
    """One session in an adapter (adapter §3.3 to adapter §3.7), with everything it did so far."""

    def __init__(
        self,
        ctx: CaseContext,
        client: AdapterClient,
        label: str,
        *,
        role: str,
        suite: int,
        own_key: str,
        peer_key: str,
        entropy=None,
        deterministic_signatures: bool = False,
        app_header: bytes = b"",
        message: bytes = b"",
        chunk_size: int = 0,
        own_key_password: bytes | None = None,
        manual_acknowledge: bool = False,
        peer_label: str = "runner",
        record_in: bool = True,
    ) -> None:
        self.ctx = ctx
        self.record_in = record_in  # False when the peer's session records its own output
        self.client = client
        self.label = label
        self.peer_label = peer_label
        self.role = role
        self.start_args = dict(
            role=role,
            suite=suite,
            own_key=own_key,
            peer_key=peer_key,
            entropy=entropy,
            deterministic_signatures=deterministic_signatures,
            app_header=app_header,
            message=message,
            chunk_size=chunk_size,
            own_key_password=own_key_password,
            manual_acknowledge=manual_acknowledge,
        )
        self.session_id = client.new_session_id()
        self.released = bytearray()
        self.events: list[dict] = []
        self.status = "new"
        self.error: ap.ErrorInfo | None = None
        self.expect_error_reply = False  # a case that wants the adapter's error reply
        self.out = bytearray()  # everything the implementation sent
        self._untaken = bytearray()  # sent but not yet handed to the peer
        self.requests = 0

    # -- operations ----------------------------------------------------------------

    def start(self) -> ap.Result:
        limit = self.client.hello.max_message
        n = len(self.start_args["message"])
        if n > limit:
            raise CaseUnsupported(
                f"the case sends a {n}-byte message; the adapter takes at most {limit} "
                "(adapter §3.2)"
            )
        if self.role == "emitter" and n + REPLY_OVERHEAD > self.client.max_reply:
            # The Emitter's reply that completes the handshake carries the whole message
            # (adapter §4.1), so it must fit under the reply limit (adapter §5.4).
            raise CaseUnsupported(
                f"the case sends a {n}-byte message, which one reply carries; the reply limit "
                f"is {self.client.max_reply} bytes (--max-reply, adapter §5.4)"
            )
        return self._call(
            "start", lambda rid: ap.start_request(rid, self.session_id, **self.start_args)
        )

    def feed(self, data: bytes) -> ap.Result:
        if self.record_in:
            self.ctx.transcript.data(self.peer_label, self.label, data)
        return self._call("feed", lambda rid: ap.feed_request(rid, self.session_id, data))

    def eof(self) -> ap.Result:
        self.ctx.transcript.event(f"end of transport: {self.peer_label} → {self.label}")
        return self._call("eof", lambda rid: ap.eof_request(rid, self.session_id))

    def call(self, op: str, **args: object) -> ap.Result:
        """The application performs ``op`` (adapter §3.10)."""
        if not self.client.hello.operations:
            raise CaseUnsupported("needs operations (adapter §3.2, adapter §3.10)")
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
        self.ctx.transcript.event(f"application calls {op}({shown}) on {self.label}")
        return self._call(op, lambda rid: ap.call_request(rid, self.session_id, op, **args))

    def close(self) -> None:
        if self.client.alive:
            rid, msg = self.client.request(
                lambda rid: ap.close_request(rid, self.session_id), self.ctx.deadline
            )
            ap.parse_closed(msg, rid)

    def take_out(self) -> bytes:
        """What the implementation sent since the last call."""
        data = bytes(self._untaken)
        self._untaken.clear()
        return data

    def _call(self, what: str, build) -> ap.Result:
        self.requests += 1
        before = self.status
        try:
            rid, msg = self.client.request(build, self.ctx.deadline)
            result = ap.parse_result(msg, rid, self.session_id)
        except ap.Unsupported as exc:
            raise CaseUnsupported(f"the adapter answered unsupported to {what}: {exc}") from None
        except ap.AdapterErrorReply as exc:
            if self.expect_error_reply:
                raise
            raise CaseFailure(
                f"the adapter answered {what} with an error reply: {exc}",
                [
                    "adapter §3.9: an error reply means the adapter could not "
                    "process the request; protocol errors belong in a result"
                ],
            ) from None
        if result.out:
            self.ctx.transcript.data(self.label, self.peer_label, result.out)
        self._check_reply(what, before, result)
        self.out += result.out
        self._untaken += result.out
        self.released += result.released
        self.events += result.events
        for ev in result.events:
            self.ctx.transcript.event(f"{self.label} reports {_event_text(ev)}")
        if result.released:
            self.ctx.transcript.event(f"{self.label} releases {len(result.released)} bytes")
        self.status = result.status
        if result.error is not None:
            self.ctx.transcript.event(
                f"{self.label} reports {result.error}"
                + (f": {result.error.detail}" if result.error.detail else "")
            )
            problem = result.error.registry_problem()
            if problem:
                raise CaseFailure(f"reported an error that is not a registry entry: {problem}")
            if self.error is None:
                self.error = result.error
        return result

    def _check_reply(self, what: str, before: str, result: ap.Result) -> None:
        """Every field of every reply, not only the last (adapter §3.7, parley §9).

        The status never leaves a terminal state, a terminal state never gives way to another
        [R-9.3-2]; each event is reported at most once and in protocol order (adapter §4.2).
        """
        if before in ("done", "failed") and result.status != before:
            raise CaseFailure(
                f"status went from {before!r} to {result.status!r} at {what}: DONE and FAILED "
                "are terminal (§9.1, §9.3)",
                [self.summary()],
            )
        if what == "start" and result.status != "running" and result.error is None:
            raise CaseFailure(
                f"status {result.status!r} in reply to start, without an error; a new session "
                "is running (adapter §3.3)",
                [self.summary()],
            )
        if before in ("done", "failed") and (result.events or result.released):
            raise CaseFailure(
                f"reported events or released bytes at {what} after the session had ended "
                f"({before}) (§9.3)",
                [self.summary()],
            )
        seen = [e["type"] for e in self.events]
        for ev in result.events:
            kind = ev["type"]
            if kind in seen:
                raise CaseFailure(f"reported {kind} twice (adapter §4.2)", [self.summary()])
            if kind != "handshake_complete" and "handshake_complete" not in seen:
                raise CaseFailure(
                    f"reported {kind} before handshake_complete (adapter §4.2, §9.2)",
                    [self.summary()],
                )
            seen.append(kind)

    def after_end(self, *, status: str, error: ap.ErrorInfo | None, feed: bytes) -> None:
        """Later requests on an ended session (adapter §3.7, [R-9.3-2], [R-9.3-7]).

        A ``feed`` (when ``feed`` is not empty) and an ``eof``: each reply repeats ``error``
        (name and number) with ``status`` and sends, releases and reports nothing.
        """
        steps = ([("feed", lambda: self.feed(feed))] if feed else []) + [("eof", self.eof)]
        for what, call in steps:
            before = len(self.out)
            result = call()
            got = result.error
            if (got is None) != (error is None) or (
                got is not None and (got.name, got.number) != (error.name, error.number)
            ):
                raise CaseFailure(
                    f"a later {what} on the {status} session reported {got or 'no error'}; "
                    f"every later request repeats {error or 'no error'} (adapter §3.7, §9.3)",
                    [self.summary()],
                )
            if result.status != status:
                raise CaseFailure(
                    f"a later {what} gave status {result.status!r}; the session is {status} (§9.3)",
                    [self.summary()],
                )
            sent = frame_types(bytes(self.out[before:]))
            if sent:
                raise CaseFailure(
                    f"a later {what} on the {status} session sent {', '.join(sent)}: an ended "
                    "session sends nothing more, ABORT included (§9.3)",
                    [self.summary()],
                )

    # -- what happened -------------------------------------------------------------

    def event(self, kind: str) -> dict | None:
        return next((e for e in self.events if e["type"] == kind), None)

    def sent_types(self) -> list[str]:
        return [e for e in frame_types(bytes(self.out))]

    def summary(self) -> str:
        parts = [f"status {self.status}"]
        if self.error:
            parts.append(f"error {self.error}")
        parts.append(f"released {len(self.released)} bytes")
        evs = [e["type"] for e in self.events]
        if evs:
            parts.append("events " + ", ".join(evs))
        sent = frame_types(bytes(self.out))
        parts.append("sent " + (", ".join(sent) if sent else "nothing"))
        return "; ".join(parts)


def _event_text(ev: dict) -> str:
    if ev["type"] == "handshake_complete":
        return f"handshake_complete (TH_4 {ev['transcript_hash'].hex()[:16]}…)"
    return f"{ev['type']} (total {ev.get('total')})"


def frame_types(stream: bytes) -> list[str]:
    """Type names of the frames in a byte stream; a trailing partial frame is 'PARTIAL'."""
    names, i = [], 0
    while i < len(stream):
        if len(stream) - i < 4:
            names.append("PARTIAL")
            break
        n = int.from_bytes(stream[i : i + 4], "big")
        if n > FRAME_VIEW_LIMIT or i + 4 + n > len(stream):
            names.append("PARTIAL")
            break
        names.append(frame_type(stream[i + 4 : i + 4 + n]))
        i += 4 + n
    return names


def frame_bodies(stream: bytes) -> list[bytes]:
    """The complete frame bodies of a byte stream (a trailing partial frame is dropped)."""
    out, i = [], 0
    while len(stream) - i >= 4:
        n = int.from_bytes(stream[i : i + 4], "big")
        if n > FRAME_VIEW_LIMIT or i + 4 + n > len(stream):
            break
        out.append(stream[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def check_abort(sent: bytes, error: str, *, sends_abort: bool) -> list[str]:
    """The ABORT rule of §9.3 step 4 and §5.7 (a MUST since 1.1): problems, or [].

    ``sent``: what the party sent in the reply that reported ``error``.  With
    ``sends_abort`` exactly one ABORT, last, carrying the error's number (a local error,
    64 and above, is sent as INTERNAL_ERROR, §11) [R-9.3-4] [R-5.7-1]; without it (the error
    is PEER_ABORTED or TRUNCATED, or the session had completed) no ABORT [R-9.3-5] [R-9.3-7].
    """
    from parley.errors import REGISTRY

    bodies = frame_bodies(sent)
    aborts = [b for b in bodies if frame_type(b) == "ABORT"]
    if not sends_abort:
        if aborts:
            return [
                f"sent ABORT after {error}: a party sends no ABORT after PEER_ABORTED or "
                "TRUNCATED, nor once the session is complete (§9.3)"
            ]
        return []
    if not aborts:
        return [f"no ABORT was sent after {error}: the failure rule sends ABORT (§9.3, §5.7)"]
    problems = []
    if len(aborts) > 1:
        problems.append(f"sent {len(aborts)} ABORT frames; one is sent (§9.3 step 4)")
    if frame_type(bodies[-1]) != "ABORT":
        problems.append("sent a frame after ABORT (§9.3 step 4: ABORT, then close)")
    entry = REGISTRY[error]
    want = entry.number if entry.number < 64 else REGISTRY["INTERNAL_ERROR"].number
    try:
        item = cbor.decode(aborts[0], max_depth=2, max_items=16)
    except cbor.CBORError:
        item = None
    got = item.get(9) if isinstance(item, dict) else None
    if got != want:
        problems.append(
            f"ABORT carried number {got!r}; the error detected is {error} ({want}) (§5.7, §11)"
        )
    return problems


def slug(text: str, limit: int = 48) -> str:
    out = []
    for ch in text.lower():
        out.append(ch if ch.isalnum() else "-")
    s = "-".join(p for p in "".join(out).split("-") if p)
    return s[:limit].rstrip("-") or "case"

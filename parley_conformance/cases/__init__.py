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

    def __init__(self, actual: str, details: list[str] | None = None) -> None:
        super().__init__(actual)
        self.actual = actual
        self.details = list(details or [])


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


# -- transcript -----------------------------------------------------------------------

FRAME_VIEW_LIMIT = 1 << 20


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

    @property
    def hello(self) -> ap.Hello:
        return self.clients[0].hello

    def session(self, *, client: int = 0, label: str = "impl", **start) -> ImplSession:
        return ImplSession(self, self.clients[client], label, **start)

    def note(self, text: str) -> None:
        self.notes.append(text)

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
        )
        self.session_id = client.new_session_id()
        self.released = bytearray()
        self.events: list[dict] = []
        self.status = "new"
        self.error: ap.ErrorInfo | None = None
        self.out = bytearray()  # everything the implementation sent
        self._untaken = bytearray()  # sent but not yet handed to the peer
        self.requests = 0

    # -- operations ----------------------------------------------------------------

    def start(self) -> ap.Result:
        limit = self.client.hello.max_message
        if len(self.start_args["message"]) > limit:
            raise CaseUnsupported(
                f"the case sends a {len(self.start_args['message'])}-byte "
                f"message; the adapter takes at most {limit} (adapter §3.2)"
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
        try:
            rid, msg = self.client.request(build, self.ctx.deadline)
            result = ap.parse_result(msg, rid)
        except ap.Unsupported as exc:
            raise CaseUnsupported(f"the adapter answered unsupported to {what}: {exc}") from None
        except ap.AdapterErrorReply as exc:
            raise CaseFailure(
                f"the adapter answered {what} with an error reply: {exc}",
                [
                    "adapter §3.9: an error reply means the adapter could not "
                    "process the request; protocol errors belong in a result"
                ],
            ) from None
        if result.out:
            self.ctx.transcript.data(self.label, self.peer_label, result.out)
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


def slug(text: str, limit: int = 48) -> str:
    out = []
    for ch in text.lower():
        out.append(ch if ch.isalnum() else "-")
    s = "-".join(p for p in "".join(out).split("-") if p)
    return s[:limit].rstrip("-") or "case"

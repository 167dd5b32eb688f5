"""Live cases: the runner's peer plays the other role against the implementation.

The implementation uses its own randomness and its own signatures (nothing is
injected), so these cases test the code path that runs in production, and the
attacks are computed against the session the implementation actually
created.  A scenario names the misbehaviour (a peer switch from
``parley_conformance.peer.BUGS`` and/or an edit of one of the peer's two flights),
the spec section, and what the implementation must do: complete the session
(both sides agree on TH_4 and the delivered bytes, §5.6) or reject it with a
registry error at the right frame, having released no more than the
authenticated prefix (§7.3, §9.3).

Flights.  With the implementation as Receiver, flight 1 is [E_HELLO] and
flight 2 is [E_AUTH, DATA..., FINAL]; as Emitter, flight 1 is [R_HELLO] and
flight 2 is [ACK].  Each flight is written in one of four shapes (adapter §5.5).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from parley import ParleyError, cbor
from parley.events import Acknowledged, EndOfStream
from parley.primitives import ffdh, p384
from parley.records import RecordKeys

from .. import peer as P
from . import Case, CaseContext, CaseFailure, check_abort, frame_types

SHAPES = ("whole-flights", "frame-by-frame", "split-frames", "byte-by-byte", "records-together")
ALL_SHAPES = SHAPES
# byte by byte costs one adapter request per byte: used where it matters
NOT_BYTES = tuple(s for s in SHAPES if s != "byte-by-byte")
CHUNK = 32
MESSAGE = bytes((7 * i + 1) & 0xFF for i in range(100))  # records of 32, 32, 32, 4 bytes
HEADER = b"name=conformance.txt"


# -- what a scenario says ------------------------------------------------------------


@dataclass(frozen=True)
class Flight:
    """The bytes of one flight, in units (frames or raw pieces) to write in order."""

    units: list
    bad: int | None = None  # the unit at which the implementation must fail
    eof: bool = False  # end the transport after this flight


@dataclass(frozen=True)
class Complete:
    """The session completes; both sides agree (§5.6, §7.4)."""

    def text(self, sc: Scenario) -> str:
        return (
            "completes: same TH_4 on both sides, the message delivered and acknowledged "
            f"({len(sc.message)} bytes)"
        )


@dataclass(frozen=True)
class Reject:
    """The implementation fails with ``error`` having released at most ``released`` bytes."""

    error: str
    released: int = 0
    after_end: bool = False  # the message completed first; the error follows (§9.3)
    also_sends: tuple = ()  # frames composed before the bad one, sent in the same reply
    after_handshake: bool = False  # the handshake completed before the bad frame


@dataclass(frozen=True)
class Env:
    """What a flight edit can use."""

    suite: int
    peer: object
    message: bytes
    chunk: int


Edit = Callable[[list, Env], Flight]


@dataclass(frozen=True)
class Scenario:
    name: str
    role: str  # the implementation's role
    section: str
    title: str
    expect: object
    flight1: Edit | None = None
    flight2: Edit | None = None
    suites: tuple = (1, 2)
    shapes: tuple = ("frame-by-frame",)
    bugs: tuple = ()
    peer_key: str | None = None  # default: the key of the peer's role
    impl_pins: str | None = None  # default: the key of the peer's role
    message: bytes = MESSAGE
    chunk: int = CHUNK
    app_header: bytes = HEADER
    rules: tuple = ()  # rule ids it pins (spec/parley.md); derived from the error if empty


# -- the driver ----------------------------------------------------------------------


def writes(units: list, shape: str, rng: random.Random) -> list[tuple[bytes, int, int]]:
    """Cut a flight into writes: (bytes, first unit touched, last unit touched)."""
    if not units:
        return []
    if shape == "whole-flights":
        return [(b"".join(units), 0, len(units) - 1)]
    if shape == "records-together":
        # The flight's first frame alone, then all the others in one write: after E_AUTH,
        # every DATA record and FINAL arrive in one read, as over TCP with a large buffer.
        out = [(units[0], 0, 0)]
        if len(units) > 1:
            out.append((b"".join(units[1:]), 1, len(units) - 1))
        return out
    out = []
    for i, u in enumerate(units):
        if shape == "frame-by-frame":
            out.append((u, i, i))
        elif shape == "byte-by-byte":
            out.extend((u[j : j + 1], i, i) for j in range(len(u)))
        else:  # split-frames: a cut inside the length prefix, and one in the body
            cuts = sorted({rng.randint(1, 3), rng.randint(4, max(4, len(u) - 1))})
            cuts = [c for c in cuts if 0 < c < len(u)]
            prev = 0
            pieces = []
            for c in cuts + [len(u)]:
                pieces.append(u[prev:c])
                prev = c
            if out and out[-1][2] == i - 1 and len(pieces) > 1:
                # The previous frame's last piece and this frame's first go in one write:
                # a write that completes one frame and begins the next (adapter §3.4).
                tail, first, _ = out.pop()
                out.append((tail + pieces[0], first, i))
                pieces = pieces[1:]
            out.extend((piece, i, i) for piece in pieces)
    return out


def _identity(bodies: list, env: Env) -> Flight:
    return Flight([P.wire(b) for b in bodies])


class _Live:
    """Runs one scenario in one suite and shape, then judges it."""

    def __init__(
        self, ctx: CaseContext, sc: Scenario, suite: int, shape: str, keys: P.KeySet | None = None
    ) -> None:
        self.ctx, self.sc, self.suite, self.shape = ctx, sc, suite, shape
        self.rng = random.Random(ctx.case.id)
        keys = keys or P.fixed_keyset(suite)
        peer_role = "emitter" if sc.role == "receiver" else "receiver"
        self.peer_role = peer_role
        self.impl = ctx.session(
            role=sc.role,
            suite=suite,
            own_key=keys.private_pem(sc.role),
            peer_key=keys.public_pem(sc.impl_pins or peer_role),
            entropy=None,
            deterministic_signatures=False,
            app_header=sc.app_header,
            message=sc.message,
            chunk_size=sc.chunk,
        )
        self.peer = P.make_peer(
            peer_role,
            own_key=keys.key(sc.peer_key or peer_role),
            pinned_key=keys.key(sc.role).public,
            bugs=sc.bugs,
            seed=ctx.case.id.encode(),
            app_header=sc.app_header,
            chunk_size=sc.chunk,
            other_key=keys.key("other"),
        )
        self.peer_events: list = []
        self.peer_error: ParleyError | None = None
        self.expected_at: tuple | None = None  # (flight, unit) or (flight, "eof")
        self.failed_at: tuple | None = None  # (flight, first unit, last unit) or (flight, "eof")
        self.fail_reply_out = b""
        self.flight_units: dict[int, int] = {}

    def peer_receive(self, data: bytes) -> None:
        if not data:
            return
        try:
            self.peer_events += self.peer.receive_data(data)
        except ParleyError as exc:
            self.peer_error = exc
            self.peer_events += getattr(exc, "events", [])
            raise

    def run(self) -> None:
        sc, impl, peer = self.sc, self.impl, self.peer
        impl.start()
        self._check_reply_error(0, "start")
        env = Env(self.suite, peer, sc.message, sc.chunk)
        for k, edit in ((1, sc.flight1), (2, sc.flight2)):
            try:
                if sc.role == "receiver" and k == 1:
                    peer.start()
                else:
                    self.peer_receive(impl.take_out())
                    if sc.role == "receiver":
                        peer.send_data(sc.message)
                        peer.end_stream()
            except ParleyError:
                break
            flight = (edit or _identity)(P.frames_of(peer.data_to_send()), env)
            self.flight_units[k] = len(flight.units)
            if flight.bad is not None:
                self.expected_at = (k, flight.bad)
            elif flight.eof:
                self.expected_at = (k, "eof")
            for data, lo, hi in writes(flight.units, self.shape, self.rng):
                result = impl.feed(data)
                if result.error is not None:
                    self.failed_at = (k, lo, hi)
                    self.fail_reply_out = result.out
                    break
            if self.failed_at:
                break
            if flight.eof:
                result = impl.eof()
                if result.error is not None:
                    self.failed_at = (k, "eof")
                    self.fail_reply_out = result.out
                break
            if impl.status == "failed":
                break
        if self.failed_at is None and impl.status == "done":
            try:
                self.peer_receive(impl.take_out())
            except ParleyError:
                pass

    def _check_reply_error(self, k: int, what: str) -> None:
        if self.impl.error is not None:
            raise CaseFailure(
                f"the implementation failed at {what} with {self.impl.error}", [self.impl.summary()]
            )

    # -- judging --------------------------------------------------------------------

    def judge(self) -> None:
        if isinstance(self.sc.expect, Complete):
            self._judge_complete()
        else:
            self._judge_reject(self.sc.expect)

    def _peer_note(self) -> list[str]:
        if self.peer_error is None:
            return []
        return [
            f"the runner's peer (the reference) rejected the implementation's bytes: "
            f"{self.peer_error.error} — {self.peer_error.detail}"
        ]

    def _judge_complete(self) -> None:
        impl, sc, peer = self.impl, self.sc, self.peer
        if impl.error is not None:
            where = self._where(self.failed_at)
            raise CaseFailure(
                f"failed with {impl.error}{where}; the session should complete",
                [impl.summary()] + self._detail_of(impl),
            )
        if self.peer_error is not None:
            raise CaseFailure(
                "the runner's peer (the reference) rejected the implementation's "
                f"bytes with {self.peer_error.error}",
                self._peer_note() + [impl.summary()],
            )
        if impl.status != "done":
            raise CaseFailure(
                f"the session did not complete (status {impl.status})", [impl.summary()]
            )
        hs = impl.event("handshake_complete")
        problems = []
        if hs is None:
            problems.append("no handshake_complete event (adapter §4.2)")
        elif hs["transcript_hash"] == b"":
            self.ctx.warn(
                "handshake_complete carries an empty transcript_hash: TH_4 is not exposed "
                "(§5.6 SHOULD [R-5.6-1]); the transcripts could not be compared"
            )
        elif hs["transcript_hash"] != peer.transcript_hash:
            problems.append(
                f"TH_4 differs (§5.6): implementation {hs['transcript_hash'].hex()}, "
                f"runner's peer {peer.transcript_hash.hex()}"
            )
        n = len(sc.message)
        if sc.role == "receiver":
            if hs is not None and hs["app_header"] != sc.app_header:
                problems.append(
                    f"application header (§7.1): got {hs['app_header'][:64]!r}, "
                    f"sent {sc.app_header[:64]!r}"
                )
            if bytes(impl.released) != sc.message:
                problems.append(_released_diff(bytes(impl.released), sc.message))
            end = impl.event("end_of_stream")
            if end is None or end["total"] != n:
                problems.append(f"end_of_stream with total {n} expected, got {end}")
            if not any(isinstance(e, Acknowledged) for e in self.peer_events):
                problems.append("the runner's peer got no valid ACK (§7.4)")
        else:
            ack = impl.event("acknowledged")
            if ack is None or ack["total"] != n:
                problems.append(f"acknowledged with total {n} expected, got {ack}")
            if impl.released:
                problems.append(f"an Emitter released {len(impl.released)} bytes")
            got = b"".join(getattr(e, "data", b"") for e in self.peer_events)
            if got != sc.message:
                problems.append(
                    "the runner's peer received other bytes: " + _released_diff(got, sc.message)
                )
            end = next((e for e in self.peer_events if isinstance(e, EndOfStream)), None)
            if end is None:
                problems.append("the runner's peer never saw a valid FINAL (§7.4)")
        if problems:
            raise CaseFailure(problems[0], problems[1:] + [impl.summary()])
        # A transport that ends after the session is complete is normal (§7.5).
        result = impl.eof()
        if result.error is not None or result.status != "done":
            raise CaseFailure(
                f"after completing, end of transport gave {result.error} "
                f"(status {result.status}); it must leave the session done (§7.5)"
            )
        # A byte after the end (a feed after eof, adapter §3.5): UNEXPECTED_MESSAGE, the
        # session stays done and sends nothing [R-9.3-6] [R-9.3-7].
        before = len(impl.out)
        result = impl.feed(b"\x00")
        if result.error is None or result.error.name != "UNEXPECTED_MESSAGE":
            raise CaseFailure(
                f"a byte after completion and end of transport gave {result.error or 'no error'}; "
                "expected UNEXPECTED_MESSAGE (§9.3)",
                [impl.summary()],
            )
        if result.status != "done" or impl.out[before:]:
            raise CaseFailure(
                f"a byte after completion left status {result.status!r} and sent "
                f"{frame_types(bytes(impl.out[before:])) or 'nothing'}; the session stays done "
                "and sends nothing (§9.3)",
                [impl.summary()],
            )

    def _where(self, at) -> str:
        if at is None:
            return ""
        k, *rest = at
        if rest[0] == "eof":
            return f" at end of transport after flight {k}"
        lo, hi = rest
        units = f"unit {lo}" if lo == hi else f"units {lo}-{hi}"
        return f" in flight {k}, {units}"

    def _detail_of(self, impl) -> list[str]:
        return [f"detail: {impl.error.detail}"] if impl.error and impl.error.detail else []

    def _judge_reject(self, exp: Reject) -> None:
        impl, sc = self.impl, self.sc
        want = f"{exp.error}"
        if impl.error is None:
            status = {"done": "it completed the session", "running": "it kept going"}.get(
                impl.status, impl.status
            )
            raise CaseFailure(
                f"no error: {status}; expected {want}", self._peer_note() + [impl.summary()]
            )
        if impl.error.name != exp.error:
            raise CaseFailure(
                f"failed with {impl.error} instead of {want}{self._where(self.failed_at)}",
                self._detail_of(impl) + [impl.summary()],
            )
        problems = []
        # Where: not before the bad frame arrived, and not after it (§9.3).
        if self.expected_at is not None and self.failed_at is not None:
            k_exp, u_exp = self.expected_at
            k_got = self.failed_at[0]
            if u_exp == "eof":
                if self.failed_at[1] != "eof" or k_got != k_exp:
                    problems.append(
                        f"the error came{self._where(self.failed_at)}, not at end of transport"
                    )
            elif k_got != k_exp or self.failed_at[1] == "eof":
                problems.append(
                    f"the error came{self._where(self.failed_at)}, expected in "
                    f"flight {k_exp} at unit {u_exp}"
                )
            else:
                lo, hi = self.failed_at[1], self.failed_at[2]
                if hi < u_exp:
                    problems.append(
                        f"the error came too early{self._where(self.failed_at)}, "
                        f"before the bad frame (unit {u_exp}) arrived"
                    )
                elif lo > u_exp:
                    problems.append(
                        f"the error came too late{self._where(self.failed_at)}: the "
                        f"bad frame was unit {u_exp}"
                    )
        # What was released: at most the authenticated prefix (§7.3 step 4, §9.3).
        released = bytes(impl.released)
        if exp.after_end:
            want = sc.message if sc.role == "receiver" else b""
            if released != want:
                problems.append(_released_diff(released, want))
            if sc.role == "receiver" and impl.event("end_of_stream") is None:
                problems.append("no end_of_stream before the error: FINAL was valid")
            if sc.role == "emitter" and impl.event("acknowledged") is None:
                problems.append("no acknowledged event before the error: the ACK was valid")
        else:
            allowed = sc.message[: exp.released]
            if not allowed.startswith(released):
                problems.append(
                    f"released {len(released)} bytes, more than (or other than) the "
                    f"authenticated {len(allowed)} bytes (§7.3: no byte before its MAC "
                    "verifies; §9.3)"
                )
            for kind in ("end_of_stream", "acknowledged"):
                if impl.event(kind) is not None:
                    problems.append(f"reported {kind} although the session failed (§9.3)")
            if (
                self._handshake_frame_was_bad()
                and not exp.after_handshake
                and impl.event("handshake_complete") is not None
            ):
                problems.append(
                    "reported handshake_complete although the handshake failed: "
                    "the application header may be released only after the "
                    "signature verifies (§5.4 step 6)"
                )
            if impl.status != "failed":
                problems.append(f"status {impl.status!r} after the error; expected 'failed' (§9.3)")
        # What was sent with or after the error: nothing but ABORT (§9.3 step 4); after
        # completion nothing at all, besides the ACK of the FINAL in the same reply (§9.3).
        sent = frame_types(self.fail_reply_out)
        ack_in_reply = exp.after_end and sc.role == "receiver" and "ACK" in sent
        allowed_types = ({"ABORT", "ACK"} if ack_in_reply else {"ABORT"}) | set(exp.also_sends)
        bad = [t for t in sent if t not in allowed_types]
        if ack_in_reply and sent.count("ACK") > 1:
            bad.append("ACK")
        if bad:
            problems.append(
                f"sent {', '.join(bad)} in the reply that reported the error: after a "
                "failed check a party sends nothing but ABORT (§9.3)"
            )
            if "ACK" in bad:
                problems.append(
                    "an ACK before FINAL verifies tells the Emitter the message "
                    "arrived whole when it did not (§7.4)"
                )
        if exp.after_end and impl.status != "done":
            problems.append(
                f"status {impl.status!r} after bytes that followed completion; the session "
                "stays 'done' and the completed message stays complete (§9.3)"
            )
        sends_abort = not exp.after_end and exp.error not in ("PEER_ABORTED", "TRUNCATED")
        problems += check_abort(bytes(self.fail_reply_out), exp.error, sends_abort=sends_abort)
        if problems:
            raise CaseFailure(problems[0], problems[1:] + [impl.summary()])
        # Every later request repeats the error and sends nothing (adapter §3.7, §9.3).
        impl.after_end(status="done" if exp.after_end else "failed", error=impl.error, feed=b"\x00")

    def _handshake_frame_was_bad(self) -> bool:
        """The expected failure is on a handshake message (R_HELLO, or E_AUTH as unit 0)."""
        if self.expected_at is None:
            return False
        k, unit = self.expected_at
        return k == 1 or (self.sc.role == "receiver" and k == 2 and unit == 0)


def _released_diff(got: bytes, want: bytes) -> str:
    if got == want:
        return "released bytes match"
    i = next(
        (j for j in range(min(len(got), len(want))) if got[j] != want[j]), min(len(got), len(want))
    )
    return f"released {len(got)} bytes, expected {len(want)}; first difference at byte {i}"


def run_and_judge(live: _Live, extra=None) -> None:
    """Run a live session, judge it, and close it (also when the case fails)."""
    try:
        live.run()
        live.judge()
        if extra is not None:
            extra(live)
    except CaseFailure:
        close_quietly(live.ctx, live.impl)
        raise
    live.impl.close()


def close_quietly(ctx: CaseContext, session) -> None:
    """Close a session after a failure; if even that goes wrong, restart the adapter."""
    try:
        session.close()
    except Exception:  # noqa: BLE001 - cleanup after a failure: restart instead
        session.client.kill()


def make_body(sc: Scenario, suite: int, shape: str):
    def body(ctx: CaseContext) -> None:
        run_and_judge(_Live(ctx, sc, suite, shape))

    return body


# -- flight edits -------------------------------------------------------------------


def on_frame(index: int, change: Callable[[bytes, Env], bytes]) -> Edit:
    """Replace frame ``index`` of the flight by ``change(body, env)``; fail there."""

    def edit(bodies, env):
        units = [P.wire(b) for b in bodies]
        units[index] = P.wire(change(bodies[index], env))
        return Flight(units, bad=index)

    return edit


def raw_at(index: int, raw: Callable[[list, Env], bytes], keep_after: bool = False) -> Edit:
    """Put raw bytes (not necessarily a frame) at ``index``; drop the rest unless asked."""

    def edit(bodies, env):
        units = [P.wire(b) for b in bodies[:index]] + [raw(bodies, env)]
        if keep_after:
            units += [P.wire(b) for b in bodies[index + 1 :]]
        return Flight(units, bad=index)

    return edit


def sequence(picks: Callable[[list, Env], list], bad: int | None, eof: bool = False) -> Edit:
    """A flight made of bodies (or raw ``bytes`` wrapped in a tuple) chosen from the original."""

    def edit(bodies, env):
        units = []
        for item in picks(bodies, env):
            units.append(item[0] if isinstance(item, tuple) else P.wire(item))
        return Flight(units, bad=bad, eof=eof)

    return edit


def field_edit(index: int, key: int, fn: Callable[[object, Env], object]) -> Edit:
    return on_frame(index, lambda b, env: P.edit(b, **{f"k{key}": fn(P.decode(b)[key], env)}))


def flip_field(index: int, key: int, byte: int = 0, mask: int = 0x80) -> Edit:
    return field_edit(index, key, lambda v, env: P.flip(v, byte % len(v), mask))


def non_shortest(body: bytes) -> bytes:
    """Re-encode key 0's value (a small uint) with a one-byte argument: 0x18 n (§4.2)."""
    assert body[1] == 0x00 and body[2] < 24
    return body[:2] + bytes([0x18, body[2]]) + body[3:]


def unsorted(body: bytes) -> bytes:
    """The same map with its first two entries swapped: keys out of order (§4.2)."""
    item = cbor.decode(body)
    keys = list(item)
    order = [keys[1], keys[0]] + keys[2:]
    out = bytes([0xA0 | len(keys)])
    for k in order:
        out += cbor.encode(k) + cbor.encode(item[k])
    return out


def foreign_record(bodies, env) -> bytes:
    """DATA 0 sealed under keys of no session the implementation knows (§13.4)."""
    keys = RecordKeys(
        bytearray(b"\x11" * 32), bytearray(b"\x22" * 32), bytearray(b"\x33" * 32), b"\x00" * 32
    )
    ct = keys.encrypt(0, env.message[: env.chunk])
    return cbor.encode({0: 4, 5: ct, 6: keys.tag(4, 0, 0, ct), 7: 0})


def _ffdh_bad() -> dict[str, bytes]:
    p = ffdh.P
    vals = {
        "zero": 0,
        "one": 1,
        "p-minus-1": p - 1,
        "p": p,
        "order-2q": p - 2,
        "all-ones": (1 << 2048) - 1,
    }
    out = {k: v.to_bytes(256, "big") for k, v in vals.items()}
    out["short"] = (4).to_bytes(255, "big")
    out["long"] = (4).to_bytes(257, "big")
    return out


P384_B = int(
    "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F"
    "5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF",
    16,
)  # FIPS 186-4 §D.1.2.4 (spec Appendix C)
P384_SQRT_B = pow(P384_B, (p384.P + 1) // 4, p384.P)  # p = 3 mod 4; b is a square mod p


def _p384_bad(valid: bytes) -> dict[str, bytes]:
    x, y = valid[1:49], valid[49:]
    return {
        "compressed": bytes([2 + (y[-1] & 1)]) + x,
        "hybrid-prefix": bytes([6 + (y[-1] & 1)]) + x + y,
        "infinity": b"\x00",
        "off-curve": b"\x04" + x + y[:-1] + bytes([y[-1] ^ 1]),
        # (p mod p, sqrt(b)) = (0, sqrt(b)) is on the curve: only the x < p check fails (§3.4).
        "x-equals-p": b"\x04" + p384.P.to_bytes(48, "big") + P384_SQRT_B.to_bytes(48, "big"),
        "zero-point": b"\x04" + bytes(96),
        "truncated": valid[:-1],
    }


def bad_element_names(suite: int) -> list[str]:
    return (
        list(_ffdh_bad())
        if suite == 1
        else [
            "compressed",
            "hybrid-prefix",
            "infinity",
            "off-curve",
            "x-equals-p",
            "zero-point",
            "truncated",
        ]
    )


def bad_element(name: str) -> Edit:
    def change(body, env):
        valid = P.decode(body)[4]
        value = _ffdh_bad()[name] if env.suite == 1 else _p384_bad(valid)[name]
        return P.edit(body, k4=value)

    return on_frame(0, change)


# -- the scenarios -------------------------------------------------------------------


def _d(bodies):  # E_AUTH, DATA..., FINAL
    return bodies[0], bodies[1:-1], bodies[-1]


def _fake_data(env) -> bytes:
    return cbor.encode({0: 4, 5: b"x" * 8, 6: bytes(32), 7: 0})


def _unknown_type(bodies, env) -> bytes:
    return cbor.encode({0: 99})


def _seq_past_2_16(role: str, suite: int) -> Scenario:
    """65 537 one-byte records: the seq of the last is 2^16, the first with a 5-byte CBOR head
    (§4.2); one suite per role (about 3 s each), the head does not depend on the suite."""
    return Scenario(
        "seq-past-2-16",
        role,
        "§4.2, §7.3",
        "65537 one-byte records: seq reaches 2^16, whose CBOR head is 5 bytes",
        Complete(),
        message=bytes(i & 0xFF for i in range(65537)),
        chunk=1,
        shapes=("whole-flights",),
        suites=(suite,),
    )


def receiver_scenarios() -> list[Scenario]:
    R = "receiver"
    s: list[Scenario] = []
    add = s.append
    big = bytes((i * 13 + 5) & 0xFF for i in range(2 * 262144 + 1))
    # Complete sessions in every shape and size class (§5, §7).
    add(
        Scenario(
            "session",
            R,
            "§5, §7",
            "a 100-byte message in 4 records, with a header",
            Complete(),
            shapes=ALL_SHAPES,
        )
    )
    add(
        Scenario(
            "empty-message",
            R,
            "§7.1",
            "a 0-byte message: FINAL alone",
            Complete(),
            message=b"",
            shapes=("whole-flights", "frame-by-frame"),
        )
    )
    add(Scenario("one-byte", R, "§7.1", "a 1-byte message", Complete(), message=b"\x00"))
    add(
        Scenario(
            "exact-chunks",
            R,
            "§7.1",
            "96 bytes in exactly 3 full records",
            Complete(),
            message=MESSAGE[:96],
        )
    )
    add(
        Scenario(
            "no-app-header", R, "§7.1", "an empty application header", Complete(), app_header=b""
        )
    )
    add(
        Scenario(
            "max-app-header",
            R,
            "§10",
            "a 4096-byte application header",
            Complete(),
            app_header=b"h" * 4096,
        )
    )
    add(_seq_past_2_16(R, 1))
    add(
        Scenario(
            "largest-records",
            R,
            "§10",
            "two 262144-byte records and a 1-byte one",
            Complete(),
            message=big,
            chunk=262144,
            shapes=("whole-flights",),
        )
    )
    # E_HELLO (§3.4, §4, §5.2).
    for suite in (1, 2):
        for name in bad_element_names(suite):
            add(
                Scenario(
                    f"e-hello-public-value-{name}",
                    R,
                    "§3.4",
                    f"E_HELLO with an invalid g_e ({name})",
                    Reject("INVALID_PUBLIC_KEY"),
                    flight1=bad_element(name),
                    suites=(suite,),
                    shapes=NOT_BYTES if name == "order-2q" else ("frame-by-frame",),
                )
            )
    e_hello = [
        (
            "version-2",
            "§5.2",
            "E_HELLO with version 2",
            "UNSUPPORTED_VERSION",
            field_edit(0, 1, lambda v, env: 2),
        ),
        (
            "other-suite",
            "§5.2",
            "E_HELLO naming the other suite (a downgrade)",
            "UNSUPPORTED_SUITE",
            field_edit(0, 2, lambda v, env: 3 - v),
        ),
        (
            "unknown-suite",
            "§5.2",
            "E_HELLO naming suite 9",
            "UNSUPPORTED_SUITE",
            field_edit(0, 2, lambda v, env: 9),
        ),
        (
            "unknown-key",
            "§4.3",
            "E_HELLO with an extra key 9",
            "SCHEMA_VIOLATION",
            on_frame(0, lambda b, env: P.edit(b, k9=1)),
        ),
        (
            "missing-sid",
            "§4.3",
            "E_HELLO without sid_e",
            "SCHEMA_VIOLATION",
            on_frame(0, lambda b, env: P.edit(b, k3=None)),
        ),
        (
            "short-sid",
            "§4.3",
            "E_HELLO with a 15-byte sid_e",
            "SCHEMA_VIOLATION",
            field_edit(0, 3, lambda v, env: v[:15]),
        ),
        (
            "text-version",
            "§4.3",
            "E_HELLO with version as a text string",
            "SCHEMA_VIOLATION",
            field_edit(0, 1, lambda v, env: "1"),
        ),
        (
            "not-a-map",
            "§4.3",
            "a frame holding a CBOR array",
            "SCHEMA_VIOLATION",
            on_frame(0, lambda b, env: cbor.encode([1, 1])),
        ),
        (
            "non-shortest-head",
            "§4.2",
            "E_HELLO with type 1 encoded as 0x18 0x01",
            "NON_DETERMINISTIC_CBOR",
            on_frame(0, lambda b, env: non_shortest(b)),
        ),
        (
            "unsorted-keys",
            "§4.2",
            "E_HELLO with map keys out of order",
            "NON_DETERMINISTIC_CBOR",
            on_frame(0, lambda b, env: unsorted(b)),
        ),
        (
            "trailing-byte",
            "§4.2",
            "E_HELLO followed by a stray byte inside the frame",
            "DECODE_ERROR",
            on_frame(0, lambda b, env: b + b"\x00"),
        ),
        (
            "tagged",
            "§4.2",
            "E_HELLO wrapped in a CBOR tag",
            "DECODE_ERROR",
            on_frame(0, lambda b, env: b"\xc1" + b),
        ),
        (
            "empty-frame",
            "§4.1",
            "a frame of length 0",
            "DECODE_ERROR",
            raw_at(0, lambda bodies, env: bytes(4)),
        ),
        (
            "one-byte-frame",
            "§4.1, §4.3",
            "a frame of length 1 whose body is an empty map: the schema, not the frame, is wrong",
            "SCHEMA_VIOLATION",
            raw_at(0, lambda bodies, env: (1).to_bytes(4, "big") + b"\xa0"),
        ),
        (
            "frame-too-large",
            "§4.1",
            "a declared length of 8193 before the handshake",
            "FRAME_TOO_LARGE",
            raw_at(0, lambda bodies, env: (8193).to_bytes(4, "big")),
        ),
        (
            "unknown-type",
            "§4.3",
            "a frame of type 99",
            "UNEXPECTED_MESSAGE",
            on_frame(0, _unknown_type),
        ),
        (
            "data-first",
            "§9",
            "a DATA record before any handshake",
            "UNEXPECTED_MESSAGE",
            on_frame(0, lambda b, env: _fake_data(env)),
        ),
        (
            "ack-first",
            "§9",
            "an ACK sent to a Receiver",
            "UNEXPECTED_MESSAGE",
            on_frame(0, lambda b, env: cbor.encode({0: 6, 6: bytes(32), 8: 0})),
        ),
        (
            "abort-first",
            "§5.7",
            "ABORT instead of E_HELLO",
            "PEER_ABORTED",
            on_frame(0, lambda b, env: P.abort(11)),
        ),
    ]
    for name, sec, title, err, edit in e_hello:
        add(
            Scenario(
                f"e-hello-{name}",
                R,
                sec,
                title,
                Reject(err),
                flight1=edit,
                shapes=NOT_BYTES
                if name in ("non-shortest-head", "frame-too-large")
                else ("frame-by-frame",),
            )
        )
    add(
        Scenario(
            "eof-before-e-hello",
            R,
            "§7.5",
            "the transport ends before E_HELLO",
            Reject("TRUNCATED"),
            flight1=lambda b, env: Flight([], eof=True),
        )
    )
    add(
        Scenario(
            "eof-mid-e-hello",
            R,
            "§7.5",
            "the transport ends inside E_HELLO",
            Reject("TRUNCATED"),
            flight1=lambda b, env: Flight([P.wire(b[0])[:40]], eof=True),
        )
    )
    # E_AUTH (§5.4, §5.5).
    e_auth = [
        (
            "e-auth-mac-flip",
            "§5.4",
            "mac_e with one bit flipped",
            "KEY_CONFIRMATION_FAILED",
            flip_field(0, 6),
            (),
        ),
        (
            "e-auth-ciphertext-flip",
            "§5.4",
            "c_e with one bit flipped (mac_e covers it)",
            "KEY_CONFIRMATION_FAILED",
            flip_field(0, 5, byte=3),
            (),
        ),
        (
            "e-auth-short-mac",
            "§5.4",
            "mac_e one byte short",
            "SCHEMA_VIOLATION",
            field_edit(0, 6, lambda v, env: v[:-1]),
            (),
        ),
        (
            "e-auth-signature-flip",
            "§5.5",
            "the Emitter's signature with a bit flipped (encrypted and MACed correctly)",
            "BAD_SIGNATURE",
            None,
            ("flip-signature",),
        ),
        (
            "e-auth-wrong-role-label",
            "§5.5",
            'the Emitter signs with the label "receiver"',
            "BAD_SIGNATURE",
            None,
            ("wrong-role-label",),
        ),
        (
            "e-auth-zero-r",
            "§3.3",
            "the Emitter's signature has r = 0",
            "BAD_SIGNATURE",
            None,
            ("zero-r",),
        ),
        (
            "e-auth-r-equals-q",
            "§3.3",
            "the Emitter's signature has r = q",
            "BAD_SIGNATURE",
            None,
            ("r-equals-q",),
        ),
        (
            "e-auth-oversized-app-header",
            "§10",
            "a 4097-byte application header",
            "LIMIT_EXCEEDED",
            None,
            ("oversized-app-header",),
        ),
    ]
    for name, sec, title, err, edit, bugs in e_auth:
        bad_first = edit or (lambda b, env: Flight([P.wire(x) for x in b], bad=0))
        add(Scenario(name, R, sec, title, Reject(err), flight2=bad_first, bugs=bugs))
    add(
        Scenario(
            "e-auth-signed-by-other-key",
            R,
            "§5.5",
            "E_AUTH: a valid signature of the right input by another known key",
            Reject("BAD_SIGNATURE"),
            bugs=("sign-with-other-key",),
            flight2=lambda b, env: Flight([P.wire(x) for x in b], bad=0),
        )
    )
    add(
        Scenario(
            "e-hello-instead-of-e-auth",
            R,
            "§9",
            "E_HELLO again in WAIT_E_AUTH",
            Reject("UNEXPECTED_MESSAGE"),
            flight2=sequence(
                lambda b, env: [cbor.encode({0: 1, 1: 1, 2: env.suite, 3: bytes(16), 4: b"x"})],
                bad=0,
            ),
        )
    )
    add(
        Scenario(
            "data-before-e-auth",
            R,
            "§9",
            "the records without E_AUTH",
            Reject("UNEXPECTED_MESSAGE"),
            flight2=sequence(lambda b, env: b[1:], bad=0),
        )
    )
    add(
        Scenario(
            "abort-instead-of-e-auth",
            R,
            "§5.7",
            "ABORT in WAIT_E_AUTH",
            Reject("PEER_ABORTED"),
            flight2=sequence(lambda b, env: [P.abort(10)], bad=0),
        )
    )
    add(
        Scenario(
            "eof-before-e-auth",
            R,
            "§7.5",
            "the transport ends after R_HELLO",
            Reject("TRUNCATED"),
            flight2=lambda b, env: Flight([], eof=True),
        )
    )
    # Records (§7).
    C = CHUNK

    def rec(i):  # DATA i in the flight [E_AUTH, D0, D1, D2, D3, FINAL]
        return 1 + i

    def rec_flip(key, byte):
        return on_frame(
            rec(1), lambda b, env: P.edit(b, **{f"k{key}": P.flip(P.decode(b)[key], byte, 0x04)})
        )

    records = [
        (
            "record-ciphertext-bit-flip",
            "§7.3",
            "one bit of DATA 1's ciphertext flipped",
            "BAD_RECORD_MAC",
            C,
            rec_flip(5, 3),
            SHAPES,
        ),
        (
            "record-tag-bit-flip",
            "§7.3",
            "one bit of DATA 1's tag flipped",
            "BAD_RECORD_MAC",
            C,
            rec_flip(6, 3),
            (),
        ),
        (
            "record-seq-rewritten",
            "§7.3",
            "DATA 0 replayed with seq rewritten to 1",
            "BAD_RECORD_MAC",
            C,
            sequence(lambda b, env: b[:2] + [P.edit(b[1], k7=1)], bad=2),
            (),
        ),
        (
            "record-replay",
            "§7.3",
            "DATA 0 sent twice",
            "RECORD_OUT_OF_ORDER",
            C,
            sequence(lambda b, env: b[:2] + [b[1]], bad=2),
            (),
        ),
        (
            "record-reorder",
            "§7.3",
            "DATA 1 before DATA 0",
            "RECORD_OUT_OF_ORDER",
            0,
            sequence(lambda b, env: [b[0], b[2], b[1]], bad=1),
            (),
        ),
        (
            "record-drop",
            "§7.3",
            "DATA 1 dropped",
            "RECORD_OUT_OF_ORDER",
            C,
            sequence(lambda b, env: [b[0], b[1]] + b[3:], bad=2),
            SHAPES,
        ),
        (
            "records-merged",
            "§7.3",
            "DATA 0 and 1 merged into one record with DATA 0's tag",
            "BAD_RECORD_MAC",
            0,
            sequence(
                lambda b, env: [b[0], P.edit(b[1], k5=P.decode(b[1])[5] + P.decode(b[2])[5])], bad=1
            ),
            (),
        ),
        (
            "record-under-foreign-keys",
            "§13.4",
            "a DATA record sealed with another session's keys",
            "BAD_RECORD_MAC",
            0,
            sequence(lambda b, env: [b[0], foreign_record(b, env)], bad=1),
            (),
        ),
        (
            "record-oversized-resealed",
            "§10",
            "a validly sealed DATA record of 262145 bytes",
            "LIMIT_EXCEEDED",
            0,
            sequence(lambda b, env: [b[0], P.seal_data(env.peer, 0, 0, bytes(262145))], bad=1),
            (),
        ),
        (
            "record-empty-resealed",
            "§7.3",
            "a validly sealed DATA record of 0 bytes",
            "SCHEMA_VIOLATION",
            0,
            sequence(
                lambda b, env: [
                    b[0],
                    cbor.encode({0: 4, 5: b"", 6: env.peer._keys.tag(4, 0, 0, b""), 7: 0}),
                ],
                bad=1,
            ),
            (),
        ),
        (
            "record-frame-too-large",
            "§4.1",
            "a declared record length of 262401",
            "FRAME_TOO_LARGE",
            C,
            sequence(lambda b, env: [b[0], b[1], ((262401).to_bytes(4, "big"),)], bad=2),
            SHAPES,
        ),
        (
            "record-frame-length-2-31",
            "§4.1",
            "a declared record length of 2^31 (refused before allocation)",
            "FRAME_TOO_LARGE",
            0,
            sequence(lambda b, env: [b[0], ((1 << 31).to_bytes(4, "big"),)], bad=1),
            (),
        ),
        (
            "record-non-shortest-seq",
            "§4.2",
            "DATA 0 with seq 0 encoded as 0x18 0x00",
            "NON_DETERMINISTIC_CBOR",
            0,
            sequence(lambda b, env: [b[0], b[1][:-1] + b"\x18\x00"], bad=1),
            (),
        ),
        (
            "final-tag-flip",
            "§7.4",
            "FINAL's tag with a bit flipped",
            "BAD_RECORD_MAC",
            100,
            on_frame(5, lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0))),
            (),
        ),
        (
            "final-wrong-total-resealed",
            "§7.4",
            "FINAL with total + 1 and a valid tag",
            "LENGTH_MISMATCH",
            100,
            on_frame(5, lambda b, env: P.seal_final(env.peer, 4, len(env.message) + 1)),
            NOT_BYTES,
        ),
        (
            "final-wrong-seq-resealed",
            "§7.4",
            "FINAL with seq + 1 and a valid tag",
            "RECORD_OUT_OF_ORDER",
            100,
            on_frame(5, lambda b, env: P.seal_final(env.peer, 5, len(env.message))),
            (),
        ),
        (
            "final-after-dropped-record",
            "§7.4",
            "the last DATA record dropped before FINAL",
            "RECORD_OUT_OF_ORDER",
            96,
            sequence(lambda b, env: b[:4] + [b[5]], bad=4),
            (),
        ),
        (
            "truncation-forgery",
            "§13.1",
            "the seed's forgery: the tail dropped, then FINAL carrying the last kept record's tag",
            "BAD_RECORD_MAC",
            2 * C,
            sequence(
                lambda b, env: b[:3] + [cbor.encode({0: 5, 6: P.decode(b[2])[6], 7: 2, 8: 2 * C})],
                bad=3,
            ),
            SHAPES,
        ),
        (
            "abort-mid-stream",
            "§5.7",
            "ABORT after two records",
            "PEER_ABORTED",
            2 * C,
            sequence(lambda b, env: b[:3] + [P.abort(11)], bad=3),
            (),
        ),
        (
            "e-hello-while-streaming",
            "§9",
            "E_HELLO after DATA 0",
            "UNEXPECTED_MESSAGE",
            C,
            sequence(
                lambda b, env: (
                    b[:2] + [cbor.encode({0: 1, 1: 1, 2: env.suite, 3: bytes(16), 4: b"x"})]
                ),
                bad=2,
            ),
            (),
        ),
        (
            "ack-while-streaming",
            "§9",
            "an ACK sent to the Receiver after DATA 0",
            "UNEXPECTED_MESSAGE",
            C,
            sequence(lambda b, env: b[:2] + [cbor.encode({0: 6, 6: bytes(32), 8: 0})], bad=2),
            (),
        ),
    ]
    for name, sec, title, err, released, edit, shapes in records:
        add(
            Scenario(
                name,
                R,
                sec,
                title,
                Reject(err, released=released),
                flight2=edit,
                shapes=shapes or ("frame-by-frame",),
            )
        )
    add(
        Scenario(
            "eof-before-final",
            R,
            "§7.5",
            "the transport ends after the last DATA record",
            Reject("TRUNCATED", released=100),
            flight2=lambda b, env: Flight([P.wire(x) for x in b[:-1]], eof=True),
            shapes=SHAPES,
        )
    )
    add(
        Scenario(
            "eof-mid-record",
            R,
            "§7.5",
            "the transport ends inside DATA 1",
            Reject("TRUNCATED", released=C),
            flight2=lambda b, env: Flight(
                [P.wire(b[0]), P.wire(b[1]), P.wire(b[2])[:20]], eof=True
            ),
        )
    )
    add(
        Scenario(
            "record-after-final",
            R,
            "§9.3",
            "a DATA record after FINAL",
            Reject("UNEXPECTED_MESSAGE", after_end=True),
            flight2=sequence(lambda b, env: b + [b[1]], bad=6),
            shapes=ALL_SHAPES,  # whole-flights: the frame in the same read as the last
        )
    )
    return s


def emitter_scenarios() -> list[Scenario]:
    E = "emitter"
    s: list[Scenario] = []
    add = s.append
    big = bytes((i * 13 + 5) & 0xFF for i in range(2 * 262144 + 1))
    add(
        Scenario(
            "session",
            E,
            "§5, §7",
            "a 100-byte message in 4 records, with a header",
            Complete(),
            shapes=ALL_SHAPES,
        )
    )
    add(
        Scenario(
            "empty-message", E, "§7.1", "a 0-byte message: FINAL alone", Complete(), message=b""
        )
    )
    add(Scenario("one-byte", E, "§7.1", "a 1-byte message", Complete(), message=b"\x00"))
    add(
        Scenario(
            "max-app-header",
            E,
            "§10",
            "a 4096-byte application header",
            Complete(),
            app_header=b"h" * 4096,
        )
    )
    add(_seq_past_2_16(E, 2))
    add(
        Scenario(
            "largest-records",
            E,
            "§10",
            "two 262144-byte records and a 1-byte one",
            Complete(),
            message=big,
            chunk=262144,
            shapes=("whole-flights",),
        )
    )
    # R_HELLO (§3.4, §5.3, §5.5).
    for suite in (1, 2):
        for name in bad_element_names(suite):
            add(
                Scenario(
                    f"r-hello-public-value-{name}",
                    E,
                    "§3.4",
                    f"R_HELLO with an invalid g_r ({name})",
                    Reject("INVALID_PUBLIC_KEY"),
                    flight1=bad_element(name),
                    suites=(suite,),
                )
            )
    r_hello = [
        (
            "r-hello-mac-flip",
            "§5.3",
            "mac_r with one bit flipped",
            "KEY_CONFIRMATION_FAILED",
            flip_field(0, 6),
            (),
            SHAPES,
        ),
        (
            "r-hello-ciphertext-flip",
            "§5.3",
            "c_r with one bit flipped (mac_r covers it)",
            "KEY_CONFIRMATION_FAILED",
            flip_field(0, 5, byte=7),
            (),
            (),
        ),
        (
            "r-hello-sid-flip",
            "§5.6",
            "sid_r with one bit flipped (TH_2 covers it)",
            "KEY_CONFIRMATION_FAILED",
            flip_field(0, 3),
            (),
            (),
        ),
        (
            "r-hello-signature-flip",
            "§5.5",
            "the Receiver's signature with a bit flipped (encrypted and MACed correctly)",
            "BAD_SIGNATURE",
            None,
            ("flip-signature",),
            (),
        ),
        (
            "r-hello-wrong-role-label",
            "§5.5",
            'the Receiver signs with the label "emitter"',
            "BAD_SIGNATURE",
            None,
            ("wrong-role-label",),
            (),
        ),
        (
            "r-hello-zero-r",
            "§3.3",
            "the Receiver's signature has r = 0",
            "BAD_SIGNATURE",
            None,
            ("zero-r",),
            (),
        ),
        (
            "r-hello-r-equals-q",
            "§3.3",
            "the Receiver's signature has r = q",
            "BAD_SIGNATURE",
            None,
            ("r-equals-q",),
            (),
        ),
        (
            "r-hello-short-ciphertext",
            "§5.3",
            "c_r one byte short",
            "SCHEMA_VIOLATION",
            field_edit(0, 5, lambda v, env: v[:-1]),
            (),
            (),
        ),
        (
            "r-hello-short-mac",
            "§5.3",
            "mac_r one byte short",
            "SCHEMA_VIOLATION",
            field_edit(0, 6, lambda v, env: v[:-1]),
            (),
            (),
        ),
        (
            "r-hello-missing-mac",
            "§4.3",
            "R_HELLO without mac_r",
            "SCHEMA_VIOLATION",
            on_frame(0, lambda b, env: P.edit(b, k6=None)),
            (),
            (),
        ),
        (
            "r-hello-unknown-key",
            "§4.3",
            "R_HELLO with an extra key 8",
            "SCHEMA_VIOLATION",
            on_frame(0, lambda b, env: P.edit(b, k8=0)),
            (),
            (),
        ),
        (
            "r-hello-non-shortest-head",
            "§4.2",
            "R_HELLO with type 2 encoded as 0x18 0x02",
            "NON_DETERMINISTIC_CBOR",
            on_frame(0, lambda b, env: non_shortest(b)),
            (),
            (),
        ),
        (
            "r-hello-unsorted-keys",
            "§4.2",
            "R_HELLO with map keys out of order",
            "NON_DETERMINISTIC_CBOR",
            on_frame(0, lambda b, env: unsorted(b)),
            (),
            (),
        ),
        (
            "r-hello-trailing-byte",
            "§4.2",
            "R_HELLO followed by a stray byte inside the frame",
            "DECODE_ERROR",
            on_frame(0, lambda b, env: b + b"\x00"),
            (),
            (),
        ),
        (
            "r-hello-frame-too-large",
            "§4.1",
            "a declared length of 8193",
            "FRAME_TOO_LARGE",
            raw_at(0, lambda b, env: (8193).to_bytes(4, "big")),
            (),
            SHAPES,
        ),
        (
            "e-hello-reflected",
            "§9",
            "an E_HELLO sent to the Emitter",
            "UNEXPECTED_MESSAGE",
            on_frame(
                0, lambda b, env: cbor.encode({0: 1, 1: 1, 2: env.suite, 3: bytes(16), 4: b"x"})
            ),
            (),
            (),
        ),
        (
            "ack-before-r-hello",
            "§9",
            "an ACK in WAIT_R_HELLO",
            "UNEXPECTED_MESSAGE",
            on_frame(0, lambda b, env: cbor.encode({0: 6, 6: bytes(32), 8: 0})),
            (),
            (),
        ),
        (
            "unknown-type",
            "§4.3",
            "a frame of type 99",
            "UNEXPECTED_MESSAGE",
            on_frame(0, _unknown_type),
            (),
            (),
        ),
        (
            "abort-instead-of-r-hello",
            "§5.7",
            "ABORT in WAIT_R_HELLO",
            "PEER_ABORTED",
            on_frame(0, lambda b, env: P.abort(7)),
            (),
            (),
        ),
    ]
    for name, sec, title, err, edit, bugs, shapes in r_hello:
        add(
            Scenario(
                name,
                E,
                sec,
                title,
                Reject(err),
                flight1=edit or (lambda b, env: Flight([P.wire(x) for x in b], bad=0)),
                bugs=bugs,
                shapes=shapes or ("frame-by-frame",),
            )
        )
    add(
        Scenario(
            "r-hello-signed-by-other-key",
            E,
            "§5.5",
            "R_HELLO: a valid signature of the right input by another known key",
            Reject("BAD_SIGNATURE"),
            bugs=("sign-with-other-key",),
            flight1=lambda b, env: Flight([P.wire(x) for x in b], bad=0),
        )
    )
    add(
        Scenario(
            "r-hello-from-another-receiver",
            E,
            "§5.5",
            "R_HELLO from a Receiver with another valid key than the pinned one",
            Reject("BAD_SIGNATURE"),
            peer_key="other",
            flight1=lambda b, env: Flight([P.wire(x) for x in b], bad=0),
        )
    )
    add(
        Scenario(
            "pinned-key-is-another",
            E,
            "§5.5",
            "the Emitter pinned another key than the Receiver's",
            Reject("BAD_SIGNATURE"),
            impl_pins="other",
            flight1=lambda b, env: Flight([P.wire(x) for x in b], bad=0),
        )
    )
    add(
        Scenario(
            "eof-before-r-hello",
            E,
            "§7.5",
            "the transport ends before R_HELLO",
            Reject("TRUNCATED"),
            flight1=lambda b, env: Flight([], eof=True),
        )
    )
    # ACK (§7.4).
    ack = [
        (
            "ack-tag-flip",
            "§7.4",
            "the ACK's tag with a bit flipped",
            "BAD_RECORD_MAC",
            flip_field(0, 6, byte=9, mask=0x01),
            (),
            SHAPES,
        ),
        (
            "ack-wrong-total-resealed",
            "§7.4",
            "an ACK with total + 1 and a valid tag",
            "LENGTH_MISMATCH",
            None,
            ("ack-wrong-total",),
            (),
        ),
        (
            "ack-non-shortest-head",
            "§4.2",
            "the ACK with type 6 encoded as 0x18 0x06",
            "NON_DETERMINISTIC_CBOR",
            on_frame(0, lambda b, env: non_shortest(b)),
            (),
            (),
        ),
        (
            "ack-frame-too-large",
            "§4.1",
            "a declared length of 8193 where the ACK is due",
            "FRAME_TOO_LARGE",
            raw_at(0, lambda b, env: (8193).to_bytes(4, "big")),
            (),
            (),
        ),
        (
            "data-instead-of-ack",
            "§9",
            "a DATA record sent to the Emitter",
            "UNEXPECTED_MESSAGE",
            on_frame(0, lambda b, env: _fake_data(env)),
            (),
            (),
        ),
        (
            "abort-instead-of-ack",
            "§5.7",
            "ABORT in WAIT_ACK",
            "PEER_ABORTED",
            on_frame(0, lambda b, env: P.abort(13)),
            (),
            (),
        ),
    ]
    for name, sec, title, err, edit, bugs, shapes in ack:
        add(
            Scenario(
                name,
                E,
                sec,
                title,
                Reject(err),
                flight2=edit or (lambda b, env: Flight([P.wire(x) for x in b], bad=0)),
                bugs=bugs,
                shapes=shapes or ("frame-by-frame",),
            )
        )
    add(
        Scenario(
            "eof-before-ack",
            E,
            "§7.5",
            "the transport ends after FINAL (no ACK)",
            Reject("TRUNCATED"),
            flight2=lambda b, env: Flight([], eof=True),
        )
    )
    add(
        Scenario(
            "frame-after-ack",
            E,
            "§9.3",
            "a frame after the ACK",
            Reject("UNEXPECTED_MESSAGE", after_end=True),
            flight2=sequence(lambda b, env: b + [P.abort(11)], bad=1),
            shapes=ALL_SHAPES,  # whole-flights: the frame in the same read as the last
        )
    )
    return s


def _expect_text(sc: Scenario, flight_eof: bool) -> str:
    exp = sc.expect
    if isinstance(exp, Complete):
        return exp.text(sc)
    where = "at end of transport" if flight_eof else "on the bad frame"
    rel = (
        f"released ≤ {exp.released} bytes"
        if not exp.after_end
        else "the completed message stays complete"
    )
    return f"fails with {exp.error} {where}; {rel}; sends nothing but ABORT"


def _is_eof_scenario(sc: Scenario) -> bool:
    return sc.name.startswith("eof-")


def cases() -> list[Case]:
    from parley.errors import REGISTRY

    from ..rules import scenario_rules
    from .families import scenarios as family_scenarios

    out = []
    for sc in receiver_scenarios() + emitter_scenarios() + family_scenarios():
        rules = scenario_rules(sc)
        for suite in sc.suites:
            for shape in sc.shapes:
                cid = f"live/{sc.role}/suite{suite}/{sc.name}/{shape}"
                section = sc.section
                if isinstance(sc.expect, Reject):
                    reg = REGISTRY[sc.expect.error].section
                    if reg not in section.split(", "):
                        section = f"{section}, {reg}"
                bugs = f" [peer: {', '.join(sc.bugs)}]" if sc.bugs else ""
                out.append(
                    Case(
                        id=cid,
                        kind="live",
                        suite=suite,
                        role=sc.role,
                        section=section,
                        title=sc.title + bugs,
                        expected=_expect_text(sc, _is_eof_scenario(sc)),
                        body=make_body(sc, suite, shape),
                        rules=rules + (("R-4.1-3",) if shape != "frame-by-frame" else ()),
                    )
                )
    return out

"""Interop cases: two adapters in sessions with each other, through the runner.

``conformance interop ./a ./b`` runs every pair of roles (A emits to B, B
emits to A) in both suites, with a few message sizes and stream shapes
(adapter §5.5).  The runner only relays bytes; both implementations must
complete, agree on TH_4 (§5.6), and the Receiver must deliver exactly the
message, which the Emitter sees acknowledged (§7.4).
"""

from __future__ import annotations

import random

from .. import peer as P
from ..rules import COMPLETE
from . import Case, CaseContext, CaseFailure
from .live import close_quietly, writes

MESSAGES = [
    # name, message, app header, chunk size, shapes
    ("empty", b"", b"", 32, ("whole-flights",)),
    (
        "100-bytes",
        bytes((3 * i) & 0xFF for i in range(100)),
        b"name=interop.bin",
        32,
        ("whole-flights", "split-frames"),
    ),
    ("one-byte", b"\x5a", b"h", 1, ("byte-by-byte", "frame-by-frame")),
    (
        "300000-bytes",
        bytes((i * 31 + 7) & 0xFF for i in range(300000)),
        b"h" * 4096,
        65536,
        ("whole-flights",),
    ),
]
MAX_ROUNDS = 16


def cases(name_a: str = "a", name_b: str = "b") -> list[Case]:
    out = []
    for suite in (1, 2):
        for first, second in ((0, 1), (1, 0)):
            names = (name_a, name_b)
            direction = f"{names[first]}-to-{names[second]}"
            for mname, message, header, chunk, shapes in MESSAGES:
                for shape in shapes:
                    out.append(
                        Case(
                            id=f"interop/suite{suite}/{direction}/{mname}/{shape}",
                            kind="interop",
                            suite=suite,
                            role=None,
                            section="§5, §7",
                            title=(
                                f"{names[first]} emits {len(message)} bytes to {names[second]} "
                                f"in suite {suite}"
                            ),
                            expected=(
                                "both complete, agree on TH_4, the message is delivered and "
                                "acknowledged"
                            ),
                            body=_body(suite, first, second, names, message, header, chunk, shape),
                            adapters=2,
                            rules=COMPLETE + (("R-4.1-3",) if shape != "whole-flights" else ()),
                        )
                    )
            for fname, (what, r_error, e_error, rules) in FAILURES.items():
                out.append(
                    Case(
                        id=f"interop/suite{suite}/{direction}/{fname}/whole-flights",
                        kind="interop",
                        suite=suite,
                        role=None,
                        section="§7.3, §7.5, §9.3",
                        title=f"{names[first]} emits to {names[second]}; the relay {what}",
                        expected=(
                            f"the Receiver fails with {r_error}, the Emitter with {e_error}; "
                            "nothing is delivered as complete"
                        ),
                        body=_failure_body(suite, first, second, names, fname),
                        adapters=2,
                        rules=rules,
                    )
                )
    return out


# Failure paths through two implementations (finding 37): what the relay does, the errors of
# the Receiver and the Emitter, and the rules.  The relay edits the Emitter's second flight.
FAILURES = {
    "record-bit-flip": (
        "flips a bit of the first DATA record's ciphertext",
        "BAD_RECORD_MAC",
        "PEER_ABORTED",
        ("R-7.3-4", "R-9.3-4", "R-5.7-1", "R-5.7-2", "R-9.3-2"),
    ),
    "cut-after-first-record": (
        "ends both transports after the first DATA record",
        "TRUNCATED",
        "TRUNCATED",
        ("R-7.5-1", "R-9.3-5", "R-9.3-2"),
    ),
}


def _failure_body(suite, e_index, r_index, names, fname):
    def body(ctx: CaseContext) -> None:
        from . import check_abort, frame_bodies

        keys = P.fixed_keyset(suite)
        _, r_error, e_error, _rules = FAILURES[fname]
        message = bytes(range(100))
        e = ctx.session(
            client=e_index,
            label=names[e_index],
            peer_label=names[r_index],
            record_in=False,
            role="emitter",
            suite=suite,
            own_key=keys.private_pem("emitter"),
            peer_key=keys.public_pem("receiver"),
            app_header=b"h",
            message=message,
            chunk_size=32,
        )
        r = ctx.session(
            client=r_index,
            label=names[r_index],
            peer_label=names[e_index],
            record_in=False,
            role="receiver",
            suite=suite,
            own_key=keys.private_pem("receiver"),
            peer_key=keys.public_pem("emitter"),
        )
        try:
            e.start()
            r.start()
            r.feed(e.take_out())  # E_HELLO
            e.feed(r.take_out())  # R_HELLO: E_AUTH, DATA..., FINAL follow
            bodies = frame_bodies(e.take_out())
            if len(bodies) < 3:
                raise CaseFailure(
                    f"{e.label} sent {len(bodies)} frames after R_HELLO; expected E_AUTH, "
                    "the records and FINAL in one reply (adapter §4.1)"
                )
            if fname == "record-bit-flip":
                rec = P.decode(bodies[1])
                bodies[1] = P.edit(bodies[1], k5=P.flip(rec[5], 0, 0x01))
                r.feed(b"".join(P.wire(b) for b in bodies))
                sent = r.take_out()
                problems = check_abort(sent, r_error, sends_abort=True)
                if r.error is None or r.error.name != r_error:
                    problems.insert(0, f"{r.label} reported {r.error}; expected {r_error}")
                if r.released:
                    problems.append(f"{r.label} released {len(r.released)} unauthenticated bytes")
                if problems:
                    raise CaseFailure(problems[0], problems[1:] + [r.summary()])
                e.feed(sent)  # the ABORT
            else:
                r.feed(b"".join(P.wire(b) for b in bodies[:2]))
                r.eof()
                e.eof()
            problems = []
            for s, want in ((r, r_error), (e, e_error)):
                if s.error is None or s.error.name != want:
                    problems.append(f"{s.label} ({s.role}) reported {s.error}; expected {want}")
                elif s.status != "failed":
                    problems.append(f"{s.label} ({s.role}) has status {s.status!r}")
            if fname == "cut-after-first-record" and bytes(r.released) != message[:32]:
                problems.append(
                    f"{r.label} released {len(r.released)} bytes; the first record's 32 are "
                    "authenticated and are released before the end (§7.3)"
                )
            if e.event("acknowledged") or r.event("end_of_stream"):
                problems.append("a failed session reported completion (§9.3)")
            problems += [
                f"{e.label}: " + p for p in check_abort(e.take_out(), e_error, sends_abort=False)
            ]
            if problems:
                raise CaseFailure(problems[0], problems[1:] + [x.summary() for x in (e, r)])
            for s in (e, r):
                s.after_end(status="failed", error=s.error, feed=b"\x00")
        except CaseFailure:
            close_quietly(ctx, e)
            close_quietly(ctx, r)
            raise
        e.close()
        r.close()

    return body


def _body(suite, e_index, r_index, names, message, header, chunk, shape):
    def body(ctx: CaseContext) -> None:
        keys = P.fixed_keyset(suite)
        for i in (e_index, r_index):
            hello = ctx.clients[i].hello
            role = "emitter" if i == e_index else "receiver"
            if role not in hello.roles or suite not in hello.suites:
                from . import CaseUnsupported

                raise CaseUnsupported(f"{names[i]} does not announce {role} in suite {suite}")
        e = ctx.session(
            client=e_index,
            label=names[e_index],
            peer_label=names[r_index],
            record_in=False,
            role="emitter",
            suite=suite,
            own_key=keys.private_pem("emitter"),
            peer_key=keys.public_pem("receiver"),
            app_header=header,
            message=message,
            chunk_size=chunk,
        )
        r = ctx.session(
            client=r_index,
            label=names[r_index],
            peer_label=names[e_index],
            record_in=False,
            role="receiver",
            suite=suite,
            own_key=keys.private_pem("receiver"),
            peer_key=keys.public_pem("emitter"),
        )
        try:
            _relay(ctx, e, r, shape)
            _judge(ctx, e, r, message, header)
        except CaseFailure:
            close_quietly(ctx, e)
            close_quietly(ctx, r)
            raise
        e.close()
        r.close()

    return body


def _relay(ctx: CaseContext, e, r, shape: str) -> None:
    rng = random.Random(ctx.case.id)
    e.start()
    r.start()
    for _ in range(MAX_ROUNDS):
        moved = False
        for src, dst in ((e, r), (r, e)):
            data = src.take_out()
            if not data or dst.error is not None:
                continue
            moved = True
            for piece, _, _ in writes([data], shape, rng):
                dst.feed(piece)
                if dst.error is not None:
                    break
        if not moved or e.error is not None or r.error is not None:
            break


def _judge(ctx: CaseContext, e, r, message: bytes, header: bytes) -> None:
    for s in (e, r):
        if s.error is not None:
            raise CaseFailure(
                f"{s.label} ({s.role}) failed with {s.error}",
                ([f"detail: {s.error.detail}"] if s.error.detail else [])
                + [f"{x.label}: {x.summary()}" for x in (e, r)],
            )
    problems = []
    for s in (e, r):
        if s.status != "done":
            problems.append(f"{s.label} ({s.role}) did not complete (status {s.status})")
    he, hr = e.event("handshake_complete"), r.event("handshake_complete")
    if he is None or hr is None:
        problems.append("a handshake_complete event is missing (adapter §4.2)")
    elif b"" in (he["transcript_hash"], hr["transcript_hash"]):
        ctx.warn(
            "a handshake_complete carries an empty transcript_hash: TH_4 is not exposed "
            "(§5.6 SHOULD [R-5.6-1])"
        )
    elif he["transcript_hash"] != hr["transcript_hash"]:
        problems.append(
            f"TH_4 differs (§5.6): {e.label} {he['transcript_hash'].hex()}, "
            f"{r.label} {hr['transcript_hash'].hex()}"
        )
    elif hr["app_header"] != header:
        problems.append(f"{r.label} released another application header (§7.1)")
    elif he["app_header"] != b"":
        problems.append(
            f"{e.label}'s handshake_complete carries a header; it is empty (adapter §4.2)"
        )
    if bytes(r.released) != message:
        first = next(
            (i for i, (a, b) in enumerate(zip(r.released, message)) if a != b),
            min(len(r.released), len(message)),
        )
        problems.append(
            f"{r.label} released {len(r.released)} bytes; {e.label} sent "
            f"{len(message)} (first difference at byte {first})"
        )
    end, ack = r.event("end_of_stream"), e.event("acknowledged")
    if end is None or end["total"] != len(message):
        problems.append(f"{r.label}: end_of_stream with total {len(message)} expected, got {end}")
    if ack is None or ack["total"] != len(message):
        problems.append(f"{e.label}: acknowledged with total {len(message)} expected, got {ack}")
    if problems:
        raise CaseFailure(problems[0], problems[1:] + [f"{x.label}: {x.summary()}" for x in (e, r)])

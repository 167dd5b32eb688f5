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
                        )
                    )
    return out


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

"""Live case families as data: each table row is (rule, mutation, expected error), and one
generator expands the rows over the places a frame can take (spec 1.1, findings 1-5, 7, 13,
21-25).

* ``CBOR``: every rule of §4.2 (and the text-key and size rules of §4.3 next to them) on every
  message type the peer sends: E_HELLO, E_AUTH, a DATA record, FINAL (to a Receiver), R_HELLO
  and ACK (to an Emitter).  The DATA row runs through whatever path the Receiver decodes
  records on (a fast path included).
* ``STATES``: every state a peer can reach, times every message type, with a body that breaks the
  schema too (``{0: type}``): a type illegal in the state is UNEXPECTED_MESSAGE before the
  schema is looked at (§4.3, §9.2); a legal one is SCHEMA_VIOLATION; malformed ABORTs are
  SCHEMA_VIOLATION and answered (§5.7).
* ``PAIRS``: one message that breaks two ordered processing steps; the first step's error wins.
* ``LIMITS``: frames of exactly a limit (accepted by framing; the error, if any, comes later)
  in every state where the limit applies (§10).

The rows name the rules they pin; ``live.cases()`` turns the scenarios into cases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from parley import cbor, cbor_diag

from .. import peer as P
from .live import CHUNK, Complete, Flight, Reject, Scenario

R, E = "receiver", "emitter"
DE, ND, SV, UM = "DECODE_ERROR", "NON_DETERMINISTIC_CBOR", "SCHEMA_VIOLATION", "UNEXPECTED_MESSAGE"

# -- the places a frame can take ---------------------------------------------------------
# (name, role of the implementation, flight, unit picker, released before it, message)
PLACES = [
    ("e-hello", R, 1, lambda units: 0, 0),
    ("e-auth", R, 2, lambda units: 0, 0),
    ("data", R, 2, lambda units: 2, CHUNK),  # DATA 1, after E_AUTH and DATA 0
    ("final", R, 2, lambda units: units - 1, 100),
    ("r-hello", E, 1, lambda units: 0, 0),
    ("ack", E, 2, lambda units: 0, 0),
]


def _constant(value: int, _n: int) -> int:
    return value


def at_place(flight: int, pick: Callable[[int], int], change) -> dict:
    """flight1/flight2 edit: frame ``pick(n)`` replaced by ``change(body, env)`` (raw body)."""

    def edit(bodies, env):
        i = pick(len(bodies))
        units = [P.wire(b) for b in bodies[:i]] + [P.wire(change(bodies[i], env))]
        return Flight(units, bad=i)

    return {f"flight{flight}": edit}


# -- raw maps ------------------------------------------------------------------------------


def entries(body: bytes) -> list[tuple[bytes, bytes]]:
    """The (key, value) encodings of a deterministic map body, in order."""
    item = cbor.decode(body)
    assert isinstance(item, dict), "a frame body is a map (§4.3)"
    return [(cbor.encode(k), cbor.encode(v)) for k, v in item.items()]


def build(es: list[tuple[bytes, bytes]], head: bytes | None = None) -> bytes:
    n = len(es)
    head = head if head is not None else (bytes([0xA0 | n]) if n < 24 else b"\xb8" + bytes([n]))
    return head + b"".join(k + v for k, v in es)


def extra(value: bytes, key: bytes = b"\x0a"):
    """One more entry after the others (key 10 sorts after every key of §4.3)."""
    return lambda es: build(es + [(key, value)])


def fill(n: int):
    """The map with integer keys 10, 11, ... added up to ``n`` entries."""
    return lambda es: build(es + [(cbor.encode(10 + i), b"\x00") for i in range(n - len(es))])


def _non_shortest_type(es):
    t = es[0][1][0]
    return [(es[0][0], b"\x18" + bytes([t]))] + es[1:]


# (name, mutation of the entries, error, rules)
CBOR = [
    ("trailing-byte", lambda es: build(es) + b"\x00", DE, ("R-4.2-1",)),
    ("truncated", lambda es: build(es)[:-1], DE, ("R-4.2-1",)),
    ("tagged", lambda es: b"\xc1" + build(es), DE, ("R-4.2-2",)),
    ("undefined-value", extra(b"\xf7"), DE, ("R-4.2-2",)),
    ("float-value", extra(b"\xfb" + bytes(8)), DE, ("R-4.2-2",)),
    ("simple-value-16", extra(b"\xf0"), DE, ("R-4.2-2",)),
    ("reserved-ai-28", extra(b"\x1c"), DE, ("R-4.2-3",)),
    ("ai-31-on-an-integer", extra(b"\x1f"), DE, ("R-4.2-3",)),
    ("simple-reserved-ai-28", extra(b"\xfc"), DE, ("R-4.2-3",)),
    ("lone-break", extra(b"\xff"), DE, ("R-4.2-3",)),
    ("ai-31-on-a-negative-integer", extra(b"\x3f"), DE, ("R-4.2-3",)),
    ("tagged-value", extra(b"\xc1\x00"), DE, ("R-4.2-2",)),
    ("negative-key", extra(b"\x00", key=b"\x21"), SV, ("R-4.3-1",)),
    # The shortest head of each width at its lowest value is deterministic (RFC 8949
    # section 4.2.1): the frame is refused only for its unknown key.
    ("shortest-head-of-24", extra(b"\x18\x18"), SV, ("R-4.2-7", "R-4.3-1")),
    ("shortest-head-of-256", extra(b"\x19\x01\x00"), SV, ("R-4.2-7", "R-4.3-1")),
    ("shortest-head-of-65536", extra(b"\x1a\x00\x01\x00\x00"), SV, ("R-4.2-7", "R-4.3-1")),
    (
        "shortest-head-of-2-32",
        extra(b"\x1b" + (1 << 32).to_bytes(8, "big")),
        SV,
        ("R-4.2-7", "R-4.3-1"),
    ),
    ("shortest-bstr-head-of-24", extra(b"\x58\x18" + bytes(24)), SV, ("R-4.2-7", "R-4.3-1")),
    ("invalid-utf8", extra(b"\x62\xff\xfe"), DE, ("R-4.2-3",)),
    ("duplicate-key", lambda es: build([es[0]] + es), DE, ("R-4.2-4",)),
    (
        "duplicate-key-non-shortest",
        lambda es: build([es[0], (b"\x18\x00", es[0][1])] + es[1:]),
        ND,
        ("R-4.2-4", "R-4.2-7", "R-4.2-10"),
    ),
    ("bstr-key", extra(b"\x00", key=b"\x41\x00"), DE, ("R-4.2-6",)),
    ("array-key", extra(b"\x00", key=b"\x81\x00"), DE, ("R-4.2-6",)),
    ("text-key", extra(b"\x01", key=b"\x61\x78"), SV, ("R-4.3-1",)),
    ("level-3", extra(b"\x81\x81\x01"), DE, ("R-4.2-5",)),
    ("level-2", extra(b"\x81\x01"), SV, ("R-4.2-5", "R-4.3-1")),
    ("array-of-17", extra(b"\x91" + bytes(17)), DE, ("R-4.2-5",)),
    ("array-of-16", extra(b"\x90" + bytes(16)), SV, ("R-4.2-5", "R-10-1")),
    ("map-of-17-entries", fill(17), DE, ("R-4.2-5",)),
    ("map-of-16-entries", fill(16), SV, ("R-4.2-5", "R-10-1", "R-4.3-1")),
    ("indefinite-bstr", extra(b"\x5f\x41\x00\xff"), ND, ("R-4.2-8",)),
    ("indefinite-text-invalid-utf8", extra(b"\x7f\x61\xff\xff"), ND, ("R-4.2-8", "R-4.2-10")),
    ("indefinite-map", lambda es: build(es, head=b"\xbf") + b"\xff", ND, ("R-4.2-8",)),
    ("non-shortest-type", lambda es: build(_non_shortest_type(es)), ND, ("R-4.2-7",)),
    (
        "non-shortest-map-head",
        lambda es: build(es, head=b"\xb8" + bytes([len(es)])),
        ND,
        ("R-4.2-7",),
    ),
    (
        "non-shortest-key",
        lambda es: build(es[:-1] + [(b"\x18" + es[-1][0], es[-1][1])]),
        ND,
        ("R-4.2-7",),
    ),
    (
        "non-shortest-then-trailing-byte",
        lambda es: build(_non_shortest_type(es)) + b"\x00",
        ND,
        ("R-4.2-10",),
    ),
    (
        "invalid-utf8-then-non-shortest",
        lambda es: build(es + [(b"\x0a", b"\x62\xff\xfe"), (b"\x0b", b"\x18\x05")]),
        DE,
        ("R-4.2-10",),
    ),
    ("unsorted-keys", lambda es: build([es[1], es[0]] + es[2:]), ND, ("R-4.2-9",)),
    # The same length and layout as the valid body, one key byte changed (every key of §4.3
    # is one byte): a decoder that checks fields at fixed offsets must still see it.
    (
        "key-out-of-order-in-place",
        lambda es: build(es[:-2] + [(bytes([es[-1][0][0] + 9]), es[-2][1]), es[-1]]),
        ND,
        ("R-4.2-9",),
    ),
    (
        "last-key-renumbered",
        lambda es: build(es[:-1] + [(bytes([es[-1][0][0] + 1]), es[-1][1])]),
        SV,
        ("R-4.3-1",),
    ),
]


def cbor_scenarios() -> list[Scenario]:
    out = []
    for place, role, flight, pick, released in PLACES:
        for name, mutate, error, rules in CBOR:
            out.append(
                Scenario(
                    f"cbor-{place}-{name}",
                    role,
                    "§4.2",
                    f"{place.upper().replace('-', '_')}: {name.replace('-', ' ')}",
                    Reject(error, released=released),
                    suites=(2,),
                    rules=rules + ("R-4.2-10",) if error == ND else rules,
                    **at_place(flight, pick, lambda b, env, m=mutate: m(entries(b))),
                )
            )
    return out


# -- every state, every message type -----------------------------------------------------
# (state, role, flight, unit picker, released, the message types legal there: §9.2)
STATES = [
    ("start", R, 1, lambda n: 0, 0, {1, 7}),
    ("wait-e-auth", R, 2, lambda n: 0, 0, {3, 7}),
    ("streaming", R, 2, lambda n: 2, CHUNK, {4, 5, 7}),
    ("wait-r-hello", E, 1, lambda n: 0, 0, {2, 7}),
    ("wait-ack", E, 2, lambda n: 0, 0, {6, 7}),
]
TYPE_NAMES = {1: "e-hello", 2: "r-hello", 3: "e-auth", 4: "data", 5: "final", 6: "ack", 7: "abort"}
# Bodies that break the schema whatever the state (§4.3), and ABORTs (§5.7).
OTHER_BODIES = [
    ("unknown-type-8", {0: 8}, UM, ("R-4.3-2",)),
    ("type-as-text", {0: "1"}, SV, ("R-4.3-1",)),
    ("no-type", {1: 1}, SV, ("R-4.3-1",)),
    ("negative-type", {0: -1}, SV, ("R-4.3-1",)),
    ("abort-text-number", {0: 7, 9: "x"}, SV, ("R-5.7-3",)),
    ("abort-extra-key", {0: 7, 9: 1, 10: 0}, SV, ("R-5.7-3",)),
    ("abort-unknown-number", {0: 7, 9: 999}, "PEER_ABORTED", ("R-5.7-4", "R-11-2")),
]


def state_scenarios() -> list[Scenario]:
    out = []
    for state, role, flight, pick, released, legal in STATES:
        rows: list[tuple[str, dict[int, int], str, tuple[str, ...]]] = []
        for t, tname in TYPE_NAMES.items():
            if t not in legal:
                rows.append((f"{tname}-schema-invalid", {0: t}, UM, ("R-9.2-2", "R-4.3-3")))
            elif t == 7:
                rows.append(("abort-without-number", {0: 7}, SV, ("R-5.7-3",)))
            else:
                rows.append((f"{tname}-schema-invalid", {0: t}, SV, ("R-4.3-1", "R-4.3-3")))
        for name, body, error, rules in rows + OTHER_BODIES:
            out.append(
                Scenario(
                    f"state-{state}-{name}",
                    role,
                    "§9.2",
                    f"in {state.upper().replace('-', '_')}: {cbor_diag.diagnostic(body)}",
                    Reject(error, released=released),
                    suites=(1,),
                    rules=rules,
                    **at_place(flight, pick, lambda b, env, body=body: cbor.encode(body)),
                )
            )
    return out


# -- one message, two faults: the first step's error (§1.3) -------------------------------


def _sized(fields: dict, key: int, size: int) -> bytes:
    """cbor(fields) with fields[key] a byte string long enough that the body has ``size``."""
    n = max(0, size - len(cbor.encode({**fields, key: b""})))
    while True:
        body = cbor.encode({**fields, key: b"\x00" * n})
        if len(body) == size:
            return body
        n -= len(body) - size


def _e_hello_pairs():
    def hello(**kw):
        return lambda b, env: P.edit(b, **kw)

    bad_g = lambda env: bytes(256) if env.suite == 1 else b"\x04" + bytes(96)  # noqa: E731
    return [
        ("schema-and-version", hello(k1=2, k9=1), SV, ("R-5.2-2", "R-5.2-3")),
        ("version-and-suite", hello(k1=2, k2=9), "UNSUPPORTED_VERSION", ("R-5.2-3", "R-5.2-4")),
        (
            "suite-and-public-value",
            lambda b, env: P.edit(b, k2=9, k4=bad_g(env)),
            "UNSUPPORTED_SUITE",
            ("R-5.2-4", "R-5.2-5"),
        ),
        (
            "version-and-public-value",
            lambda b, env: P.edit(b, k1=2, k4=bad_g(env)),
            "UNSUPPORTED_VERSION",
            ("R-5.2-3", "R-5.2-5"),
        ),
        (
            "non-shortest-and-schema",
            lambda b, env: build(_non_shortest_type(entries(P.edit(b, k9=1)))),
            ND,
            ("R-5.2-1", "R-5.2-2"),
        ),
    ]


def pair_scenarios() -> list[Scenario]:
    out = []
    for name, change, error, rules in _e_hello_pairs():
        out.append(
            Scenario(
                f"pair-e-hello-{name}",
                R,
                "§5.2",
                f"E_HELLO breaking two steps: {name.replace('-', ' ')}",
                Reject(error),
                rules=rules,
                **at_place(1, lambda n: 0, change),
            )
        )
    bad_g_r = lambda env: bytes(256) if env.suite == 1 else b"\x04" + bytes(96)  # noqa: E731
    rows = [
        # (name, role, flight, pick, change, bugs, error, released, rules)
        (
            "r-hello-schema-and-public-value",
            E,
            1,
            lambda n: 0,
            lambda b, env: P.edit(b, k5=P.decode(b)[5][:-1], k4=bad_g_r(env)),
            (),
            SV,
            0,
            ("R-5.3-2", "R-5.3-3"),
        ),
        (
            "r-hello-mac-and-signature",
            E,
            1,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0)),
            ("flip-signature",),
            "KEY_CONFIRMATION_FAILED",
            0,
            ("R-5.3-5", "R-5.3-6"),
        ),
        (
            "e-auth-schema-and-limit",
            R,
            2,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.decode(b)[6][:-1]),
            ("oversized-app-header",),
            SV,
            0,
            ("R-5.4-2", "R-5.4-3"),
        ),
        (
            "e-auth-limit-and-mac",
            R,
            2,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0)),
            ("oversized-app-header",),
            "LIMIT_EXCEEDED",
            0,
            ("R-5.4-3", "R-5.4-4"),
        ),
        (
            "e-auth-mac-and-signature",
            R,
            2,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0)),
            ("flip-signature",),
            "KEY_CONFIRMATION_FAILED",
            0,
            ("R-5.4-4", "R-5.4-5"),
        ),
        (
            "data-schema-and-seq",
            R,
            2,
            lambda n: 2,
            lambda b, env: P.edit(b, k6=P.decode(b)[6][:-1], k7=9),
            (),
            SV,
            CHUNK,
            ("R-7.3-2", "R-7.3-3"),
        ),
        (
            "data-limit-and-seq",
            R,
            2,
            lambda n: 2,
            lambda b, env: P.edit(b, k5=bytes(262145), k7=9),
            (),
            "LIMIT_EXCEEDED",
            CHUNK,
            ("R-7.3-2", "R-7.3-3", "R-10-1"),
        ),
        (
            "data-seq-and-mac",
            R,
            2,
            lambda n: 2,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0), k7=9),
            (),
            "RECORD_OUT_OF_ORDER",
            CHUNK,
            ("R-7.3-3", "R-7.3-4"),
        ),
        (
            "final-seq-and-mac",
            R,
            2,
            lambda n: n - 1,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0), k7=9),
            (),
            "RECORD_OUT_OF_ORDER",
            100,
            ("R-7.4-3", "R-7.4-4"),
        ),
        (
            "final-mac-and-total",
            R,
            2,
            lambda n: n - 1,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0), k8=7),
            (),
            "BAD_RECORD_MAC",
            100,
            ("R-7.4-4", "R-7.4-5"),
        ),
        (
            "ack-schema-and-mac",
            E,
            2,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.decode(b)[6][:-1]),
            (),
            SV,
            0,
            ("R-7.4-9", "R-7.4-10"),
        ),
        (
            "ack-mac-and-total",
            E,
            2,
            lambda n: 0,
            lambda b, env: P.edit(b, k6=P.flip(P.decode(b)[6], 0), k8=7),
            (),
            "BAD_RECORD_MAC",
            0,
            ("R-7.4-10", "R-7.4-11"),
        ),
    ]
    for name, role, flight, pick, change, bugs, error, released, rules in rows:
        out.append(
            Scenario(
                f"pair-{name}",
                role,
                "§1.3",
                f"one message breaking two ordered steps: {name.replace('-', ' ')}",
                Reject(error, released=released),
                bugs=bugs,
                rules=rules,
                **at_place(flight, pick, change),
            )
        )
    return out


# -- limits at exactly their value, in every state where they apply (§10) ------------------


def limit_scenarios() -> list[Scenario]:
    def e_hello_8192(b, env):
        return _sized({k: v for k, v in P.decode(b).items() if k != 4}, 4, 8192)

    def e_auth_8192(b, env):
        return _sized({0: 3, 6: P.decode(b)[6]}, 5, 8192)

    def data_262400(b, env):
        d = P.decode(b)
        return _sized({0: 4, 6: d[6], 7: d[7]}, 5, 262400)

    def r_hello_8192(b, env):
        return _sized({k: v for k, v in P.decode(b).items() if k != 4}, 4, 8192)

    def ack_8192(b, env):
        return _sized({0: 6, 8: P.decode(b)[8]}, 6, 8192)

    rows = [
        # (name, role, flight, pick, change or raw, error, released, rules)
        ("e-hello-of-8192-bytes", R, 1, 0, e_hello_8192, "INVALID_PUBLIC_KEY", 0),
        ("e-auth-of-8192-bytes", R, 2, 0, e_auth_8192, "LIMIT_EXCEEDED", 0),
        ("data-of-262400-bytes", R, 2, 2, data_262400, "LIMIT_EXCEEDED", CHUNK),
        ("r-hello-of-8192-bytes", E, 1, 0, r_hello_8192, "INVALID_PUBLIC_KEY", 0),
        ("ack-of-8192-bytes", E, 2, 0, ack_8192, SV, 0),
    ]
    out = []
    for name, role, flight, unit, change, error, released in rows:
        out.append(
            Scenario(
                f"limit-{name}",
                role,
                "§10",
                f"a frame of exactly the limit: {name.replace('-', ' ')} (not FRAME_TOO_LARGE)",
                Reject(error, released=released),
                rules=("R-10-1", "R-4.1-1"),
                shapes=("frame-by-frame", "split-frames"),
                **at_place(flight, functools.partial(_constant, unit), change),
            )
        )
    # One above, in the states the old cases did not reach: E_AUTH's state (WAIT_E_AUTH).
    out.append(
        Scenario(
            "limit-e-auth-frame-of-8193-bytes",
            R,
            "§10",
            "a declared length of 8193 where E_AUTH is due (WAIT_E_AUTH)",
            Reject("FRAME_TOO_LARGE"),
            rules=("R-10-1", "R-4.1-1"),
            flight2=lambda bodies, env: Flight([(8193).to_bytes(4, "big")], bad=0),
        )
    )
    return out


# -- the field-size table of §4.3 [R-4.3-4]: every row, too short and too long ---------------
_SCHEMA_STEP = {
    "e-hello": "R-5.2-2",
    "r-hello": "R-5.3-2",
    "e-auth": "R-5.4-2",
    "data": "R-7.3-2",
    "final": "R-7.4-2",
    "ack": "R-7.4-9",
}
_PUBLIC_STEP = {"e-hello": "R-5.2-5", "r-hello": "R-5.3-3"}
SIZES = [
    # (place, key, name, change of the value, error)
    ("e-hello", 3, "sid-of-17-bytes", lambda v: v + b"\x00", SV),
    ("r-hello", 3, "sid-of-15-bytes", lambda v: v[:-1], SV),
    ("r-hello", 3, "sid-of-17-bytes", lambda v: v + b"\x00", SV),
    ("e-hello", 4, "public-value-one-byte-long", lambda v: v + b"\x00", "INVALID_PUBLIC_KEY"),
    ("r-hello", 4, "public-value-one-byte-long", lambda v: v + b"\x00", "INVALID_PUBLIC_KEY"),
    ("r-hello", 5, "c-r-one-byte-long", lambda v: v + b"\x00", SV),
    ("r-hello", 6, "mac-r-one-byte-long", lambda v: v + b"\x00", SV),
    ("e-auth", 6, "mac-e-one-byte-long", lambda v: v + b"\x00", SV),
    ("e-auth", 5, "c-e-shorter-than-a-signature", lambda v: v[:40], SV),
    ("data", 6, "tag-of-31-bytes", lambda v: v[:-1], SV),
    ("data", 6, "tag-of-33-bytes", lambda v: v + b"\x00", SV),
    ("final", 6, "tag-of-33-bytes", lambda v: v + b"\x00", SV),
    ("ack", 6, "tag-of-31-bytes", lambda v: v[:-1], SV),
    ("ack", 6, "tag-of-33-bytes", lambda v: v + b"\x00", SV),
]


def size_scenarios() -> list[Scenario]:
    places = {name: (role, flight, pick, released) for name, role, flight, pick, released in PLACES}
    out = []
    for place, key, name, change, error in SIZES:
        role, flight, pick, released = places[place]
        step = _PUBLIC_STEP[place] if error == "INVALID_PUBLIC_KEY" else _SCHEMA_STEP[place]
        out.append(
            Scenario(
                f"size-{place}-{name}",
                role,
                "§4.3",
                f"{place.upper().replace('-', '_')} with {name.replace('-', ' ')}",
                Reject(error, released=released),
                rules=("R-4.3-4", step) + (("R-3.4-1",) if error != SV else ()),
                **at_place(
                    flight,
                    pick,
                    lambda b, env, k=key, f=change: P.edit(b, **{f"k{k}": f(P.decode(b)[k])}),
                ),
            )
        )
    return out


# -- record sizes and sequence numbers at the CBOR head boundaries (found by tools/mutate) -----
# A record's ct length and its seq are CBOR heads of 1, 2, 3 or 5 bytes (§4.2); an encoder or a
# Receiver's DATA fast path that gets a boundary wrong (23/24, 255/256, 65535/65536 bytes; seq
# 23/24, 255/256) only shows with such sizes.
HEAD_SIZES = [23, 24, 255, 256, 65535, 65536]


def boundary_scenarios() -> list[Scenario]:
    out = []
    for role in (R, E):
        for size in HEAD_SIZES:
            out.append(
                Scenario(
                    f"records-of-{size}-bytes",
                    role,
                    "§7.3",
                    f"two records of {size} bytes and one of 1 (ct length heads, §4.2)",
                    Complete(),
                    message=bytes((i * 7 + 3) & 0xFF for i in range(2 * size + 1)),
                    chunk=size,
                    suites=(2,),
                    rules=("R-4.2-7", "R-4.2-11", "R-7.3-7"),
                )
            )
        out.append(
            Scenario(
                "300-one-byte-records",
                role,
                "§7.3",
                "300 records of 1 byte: seq crosses 23/24 and 255/256 (seq heads, §4.2)",
                Complete(),
                message=bytes((i * 5 + 1) & 0xFF for i in range(300)),
                chunk=1,
                suites=(1,),
                shapes=("whole-flights",),
                rules=("R-4.2-7", "R-4.2-11", "R-7.3-3", "R-7.3-7"),
            )
        )
    return out


def segmentation_scenarios() -> list[Scenario]:
    """§4.1 [R-4.1-4]: a frame in the same call as R_HELLO meets STREAMING (finding 13)."""
    forged_ack = cbor.encode({0: 6, 6: bytes(32), 8: 0})

    def edit(bodies, env):
        return Flight([P.wire(bodies[0]) + P.wire(forged_ack)], bad=0)

    return [
        Scenario(
            "ack-in-the-same-read-as-r-hello",
            E,
            "§4.1",
            "R_HELLO and an ACK in one read: the ACK meets STREAMING",
            Reject(UM, also_sends=("E_AUTH",), after_handshake=True),
            rules=("R-4.1-4", "R-9.2-2"),
            flight1=edit,
        )
    ]


def scenarios() -> list[Scenario]:
    return (
        cbor_scenarios()
        + state_scenarios()
        + pair_scenarios()
        + limit_scenarios()
        + size_scenarios()
        + boundary_scenarios()
        + segmentation_scenarios()
    )

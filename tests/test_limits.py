"""Resource limits of the core (§4.1, §4.2, §10, §13.2): each refused cheaply, each test able
to fail.

Every limit test runs twice: with the limit as shipped, and with the limit
switched off (the constant raised, or the decoder called without it).  The
second run is marked ``xfail(strict=True)``: it must FAIL, which shows the
test detects a missing limit (if it passed, pytest reports XPASS as an error).

"Cheaply" is measured, not timed: ``tracemalloc`` bounds what a refusal
allocates, and the decoder's error offset bounds how far it read before
refusing.  No wall-clock assertion.  (The TCP shell's handshake and idle
timeouts, and the conformance runner's limits, are tested with those tools.)
"""

from __future__ import annotations

import tracemalloc

import pytest

from helpers import make_pair
from parley import ParleyError, cbor, connection, frames, records
from parley.events import Data, HandshakeComplete
from parley.frames import DATA, E_AUTH, K_CT, K_MAC, K_SEQ, encode, frame
from parley.primitives import symmetric
from parley.state import State

KIB = 1024
WITHOUT = pytest.param(
    False,
    id="limit-off",
    marks=pytest.mark.xfail(
        strict=True,
        raises=(AssertionError, pytest.fail.Exception),
        reason="with the limit switched off, this test must fail (on its assertions)",
    ),
)
LIMIT = [pytest.param(True, id="limit-on"), WITHOUT]


def peak_of(fn):
    """(bytes allocated at the peak of ``fn()``, its result or the ParleyError/CBORError it
    raised)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        try:
            outcome = fn()
        except (ParleyError, cbor.CBORError) as exc:
            outcome = exc
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return peak, outcome


PARTIES = [
    "receiver START",
    "receiver WAIT_E_AUTH",
    "receiver STREAMING",
    "emitter WAIT_R_HELLO",
    "emitter STREAMING",
    "emitter WAIT_ACK",
]


def party(keypairs, name: str, suite: int = 2):
    """A party in the named state of a real session."""
    e, r = make_pair(keypairs, suite)
    if name == "receiver START":
        return r
    e.start()
    if name == "emitter WAIT_R_HELLO":
        return e
    r.receive_data(e.data_to_send())
    if name == "receiver WAIT_E_AUTH":
        return r
    e.receive_data(r.data_to_send())
    if name == "emitter STREAMING":
        return e
    r.receive_data(e.data_to_send())
    if name == "receiver STREAMING":
        return r
    e.send_data(b"m" * 10)
    e.end_stream()
    assert name == "emitter WAIT_ACK"
    return e


def no_frame_limits(monkeypatch) -> None:
    monkeypatch.setattr(connection, "MAX_HANDSHAKE_FRAME", 1 << 40)
    monkeypatch.setattr(connection, "MAX_RECORD_FRAME", 1 << 40)


# -- §4.1, §10: the declared frame length ----------------------------------------------


@pytest.mark.parametrize("limit_on", LIMIT)
@pytest.mark.parametrize("where", PARTIES)
def test_frame_length_2_pow_31_refused_before_allocation(keypairs, monkeypatch, where, limit_on):
    """u32(2^31) is FRAME_TOO_LARGE on the 4-byte prefix alone: nothing of the body is waited
    for or buffered, although 1 MiB of it follows in 64 KiB reads (§4.1, §10)."""
    p = party(keypairs, where)
    if not limit_on:
        no_frame_limits(monkeypatch)
    reads = [(1 << 31).to_bytes(4, "big")] + [bytes(64 * KIB)] * 16

    def feed():
        for i, piece in enumerate(reads):
            try:
                p.receive_data(piece)
            except ParleyError as exc:
                return i, exc
        return len(reads), None

    peak, (reads_taken, exc) = peak_of(feed)
    assert exc is not None and exc.error.name == "FRAME_TOO_LARGE"
    assert reads_taken == 0, "the length was not refused as soon as its prefix arrived"
    assert peak < 16 * KIB, f"{peak} bytes allocated while refusing the frame"
    assert p.state is State.FAILED


HANDSHAKE_CAPPED = [w for w in PARTIES if w != "receiver STREAMING"]


@pytest.mark.parametrize("limit_on", LIMIT)
@pytest.mark.parametrize("where", HANDSHAKE_CAPPED)
def test_handshake_frame_cap_8192(keypairs, monkeypatch, where, limit_on):
    """Frames to the Emitter, and to the Receiver before STREAMING, have at most 8192 bytes:
    8193 is refused on its prefix; 8192 is read and decoded (§10)."""
    if not limit_on:
        no_frame_limits(monkeypatch)
    p = party(keypairs, where)
    with pytest.raises(ParleyError) as info:
        p.receive_data((8193).to_bytes(4, "big"))
    assert info.value.error.name == "FRAME_TOO_LARGE"
    q = party(keypairs, where)
    with pytest.raises(ParleyError) as info:
        q.receive_data((8192).to_bytes(4, "big") + bytes(8192))  # 0 followed by trailing bytes
    assert info.value.error.name == "DECODE_ERROR"


@pytest.mark.parametrize("limit_on", LIMIT)
def test_record_frame_cap_262400(keypairs, monkeypatch, limit_on):
    """Frames to the Receiver in STREAMING have at most 262400 bytes (§10): 262401 is refused
    on its prefix; 262400 is read and reaches the record checks (here: a ct of 262354 bytes,
    LIMIT_EXCEEDED, §7.3); a frame larger than the handshake cap is fine there."""
    if not limit_on:
        no_frame_limits(monkeypatch)
    r = party(keypairs, "receiver STREAMING")
    with pytest.raises(ParleyError) as info:
        r.receive_data((262401).to_bytes(4, "big"))
    assert info.value.error.name == "FRAME_TOO_LARGE"

    r = party(keypairs, "receiver STREAMING")
    body = encode(DATA, {K_CT: bytes(262354), K_MAC: bytes(32), K_SEQ: 0})
    assert len(body) == 262400
    with pytest.raises(ParleyError) as info:
        r.receive_data(frame(body))
    assert info.value.error.name == "LIMIT_EXCEEDED"

    e, r = make_pair(keypairs, 2, chunk=records.MAX_CHUNK)
    e.start()
    r.receive_data(e.data_to_send())
    e.receive_data(r.data_to_send())
    e.send_data(bytes(records.MAX_CHUNK))
    flight = e.data_to_send()
    events = r.receive_data(flight)
    assert isinstance(events[0], HandshakeComplete) and len(events[1].data) == records.MAX_CHUNK


# -- §4.2, §10: CBOR nesting and entries ---------------------------------------------------


def _decode_limited(limit_on: bool):
    """frames.decode_body's decoder, or the same decoder with its depth/entry limits off."""
    decode = cbor.decode
    if limit_on:
        return lambda body: decode(body, max_depth=2, max_items=16)
    return lambda body: decode(body, max_depth=1 << 30, max_items=1 << 30)


@pytest.mark.parametrize("limit_on", LIMIT)
def test_deep_nesting_refused_after_three_bytes(limit_on):
    """100000 nested arrays: refused at the third head (offset 2), allocating almost nothing;
    the decoder never recurses, so no depth can exhaust the stack (§4.2, §10)."""
    body = b"\x81" * 100_000 + b"\x00"
    peak, exc = peak_of(lambda: _decode_limited(limit_on)(body))
    assert isinstance(exc, cbor.CBORError) and exc.registry_name == "DECODE_ERROR"
    assert exc.offset == 2
    assert peak < 4 * KIB, f"{peak} bytes allocated"


@pytest.mark.parametrize("limit_on", LIMIT)
def test_huge_array_refused_on_its_head(limit_on):
    """An array of 100000 elements that are all present: refused on its head (offset 0) (§10)."""
    body = b"\x9a" + (100_000).to_bytes(4, "big") + bytes(100_000)
    peak, exc = peak_of(lambda: _decode_limited(limit_on)(body))
    assert isinstance(exc, cbor.CBORError) and exc.registry_name == "DECODE_ERROR"
    assert exc.offset == 0
    assert peak < 4 * KIB, f"{peak} bytes allocated"


@pytest.mark.parametrize(
    "head",
    [
        b"\xbb" + b"\xff" * 8,  # a map of 2^64 - 1 entries
        b"\x9b" + b"\x7f" + b"\xff" * 7,  # an array of 2^63 - 1 elements
        b"\x5b" + b"\x7f" + b"\xff" * 7,  # a byte string of 2^63 - 1 bytes
        b"\x7a\xff\xff\xff\xff",  # a text string of 2^32 - 1 bytes
    ],
    ids=["map", "array", "bstr", "tstr"],
)
def test_declared_sizes_beyond_the_input_allocate_nothing(head):
    """Declared counts and lengths are checked against the remaining input before anything is
    allocated, with or without the depth/entry limits (§4.2)."""
    for limited in (True, False):
        # (the lambda runs at once, in this iteration)
        peak, exc = peak_of(lambda: _decode_limited(limited)(head + bytes(16)))  # noqa: B023
        assert isinstance(exc, cbor.CBORError) and exc.offset == 0
        assert peak < 4 * KIB


@pytest.mark.parametrize("limit_on", LIMIT)
def test_nested_frame_refused_by_the_receiver_cheaply(keypairs, monkeypatch, limit_on):
    """A full-size handshake frame of nested arrays costs the Receiver its 8 KiB body and not
    much more: DECODE_ERROR (§4.2, §13.2)."""
    if not limit_on:
        unlimited = _decode_limited(False)
        monkeypatch.setattr(cbor, "decode", lambda body, **kw: unlimited(body))
    r = party(keypairs, "receiver START")
    data = frame(b"\x81" * 8191 + b"\x00")
    peak, exc = peak_of(lambda: r.receive_data(data))
    assert peak < 32 * KIB, f"{peak} bytes allocated"
    assert isinstance(exc, ParleyError) and exc.error.name == "DECODE_ERROR"


@pytest.mark.parametrize("limit_on", LIMIT)
def test_entry_and_depth_limits_at_their_boundaries(keypairs, monkeypatch, limit_on):
    """16 entries and 2 levels decode (and fail the schema), 17 entries or 3 levels are
    DECODE_ERROR (§4.2)."""
    if not limit_on:
        unlimited = _decode_limited(False)
        monkeypatch.setattr(cbor, "decode", lambda body, **kw: unlimited(body))
    cases = {
        cbor.encode({0: 1, **{k: 0 for k in range(1, 16)}}): "SCHEMA_VIOLATION",
        cbor.encode({0: 1, **{k: 0 for k in range(1, 17)}}): "DECODE_ERROR",
        cbor.encode({0: 1, 1: [0]}): "SCHEMA_VIOLATION",
        cbor.encode({0: 1, 1: [[0]]}): "DECODE_ERROR",
        cbor.encode({0: 1, 1: list(range(17))}): "DECODE_ERROR",
    }
    for body, name in cases.items():
        r = party(keypairs, "receiver START")
        with pytest.raises(ParleyError) as info:
            r.receive_data(frame(body))
        assert info.value.error.name == name, body.hex()


# -- §10: record and application header sizes (checked before the MAC) ----------------------


@pytest.mark.parametrize("limit_on", LIMIT)
def test_data_record_over_262144_bytes_is_limit_exceeded(keypairs, monkeypatch, limit_on):
    """A DATA record of 262145 bytes, with a valid tag: LIMIT_EXCEEDED, nothing released (§10)."""
    e, r = make_pair(keypairs, 2)
    e.start()
    r.receive_data(e.data_to_send())
    e.receive_data(r.data_to_send())
    r.receive_data(e.data_to_send())
    monkeypatch.setattr(records, "MAX_CHUNK", 1 << 30)  # lets the test's Emitter seal it
    big = records.seal_data(e._keys, 0, 0, bytes(records_limit := (1 << 18) + 1))
    assert records_limit == 262145 and len(big) <= 4 + connection.MAX_RECORD_FRAME
    if limit_on:
        monkeypatch.setattr(records, "MAX_CHUNK", 1 << 18)
    with pytest.raises(ParleyError) as info:
        r.receive_data(big)
    assert info.value.error.name == "LIMIT_EXCEEDED"
    assert not [ev for ev in info.value.events if isinstance(ev, Data)]


@pytest.mark.parametrize("limit_on", LIMIT)
def test_app_header_over_4096_bytes_is_limit_exceeded(keypairs, monkeypatch, limit_on):
    """An E_AUTH whose header has 4097 bytes, correctly encrypted, MACed and signed:
    LIMIT_EXCEEDED (§5.4 step 3, §10), before the MAC is even checked."""
    if not limit_on:
        monkeypatch.setattr(connection, "MAX_APP_HEADER", 1 << 20)
    e, r = make_pair(keypairs, 2)
    seen = {}
    e._trace_fn = lambda name, value: seen.setdefault(name, value)
    e.start()
    r.receive_data(e.data_to_send())
    e.receive_data(r.data_to_send())
    suite = e.suite
    c_e = symmetric.aes256_ctr(seen["K_E"], bytes(16), seen["sig_e"] + b"h" * 4097)
    mac_e = symmetric.hmac(suite.hash_name, seen["MK_E"], seen["TH_3"] + c_e)
    with pytest.raises(ParleyError) as info:
        r.receive_data(frame(encode(E_AUTH, {K_CT: c_e, K_MAC: mac_e})))
    assert info.value.error.name == "LIMIT_EXCEEDED"


def test_buffering_before_authentication_is_bounded(keypairs):
    """An unauthenticated peer can make the Receiver hold at most one handshake frame: 8 KiB
    of an incomplete 8192-byte frame, fed in small reads, stays below 12 KiB (§13.2)."""
    r = party(keypairs, "receiver START")
    reads = [(8192).to_bytes(4, "big")] + [bytes(512)] * 15

    def feed():
        for piece in reads:
            r.receive_data(piece)

    peak, exc = peak_of(feed)
    assert exc is None and r.state is State.START
    assert peak < 12 * KIB, f"{peak} bytes"
    assert frames.FrameReader  # the reader keeps only the incomplete frame


def test_a_dead_session_does_not_grow_per_call(keypairs):
    """Every call on a failed session raises the same error (§9.3) without accumulating
    anything: its traceback (and memory) stays bounded however often it is called."""
    r = party(keypairs, "receiver START")
    with pytest.raises(ParleyError) as first:
        r.receive_data(bytes(4))

    def depth(tb):
        n = 0
        while tb is not None:
            n, tb = n + 1, tb.tb_next
        return n

    def hammer(n):
        for _ in range(n):
            try:
                r.receive_data(b"x")
            except ParleyError as exc:
                assert exc is first.value

    hammer(10)
    peak, _ = peak_of(lambda: hammer(5000))
    assert depth(first.value.__traceback__) < 40
    assert peak < 64 * KIB, f"{peak} bytes held after 5000 calls on a dead session"


# -- a failure does not pin the caller's buffers ------------------------------------------------


def _break_the_cipher(monkeypatch, failing) -> None:
    """Make every AES-CTR operation of the core (handshake and record layer) call ``failing``."""
    monkeypatch.setattr(symmetric, "aes256_ctr", failing)
    if hasattr(symmetric, "AesCtrKey"):  # the record layer's per-session context
        monkeypatch.setattr(
            symmetric.AesCtrKey,
            "apply",
            lambda self, counter_block, data: failing(b"", counter_block, data),
        )


def _can_resize(buf: bytearray) -> bool:
    try:
        buf.clear()
    except BufferError:
        return False
    return True


def _streaming_pair(keypairs):
    e, r = make_pair(keypairs, 2)
    e.start()
    r.receive_data(e.data_to_send())
    e.receive_data(r.data_to_send())
    e.send_data(b"a" * 100)
    e.end_stream()
    flight = bytearray(e.data_to_send())
    first = 4 + int.from_bytes(flight[:4], "big")  # E_AUTH
    r.receive_data(bytes(flight[:first]))
    return r, flight[first:]


@pytest.mark.parametrize(
    "how",
    [
        "bad record (fast path)",
        "bad frame (general path)",
        "library failure",
        "memoryview of the buffer",
    ],
)
def test_a_failure_does_not_pin_the_callers_receive_buffer(keypairs, monkeypatch, how):
    """The reader borrows the caller's bytes (no copy); after a failure nothing of the session,
    its error or the error's traceback may keep a view of them, or an application that reuses
    a bytearray as its receive buffer gets BufferError when it resizes it (§9.3)."""
    r, records_ = _streaming_pair(keypairs)
    buf = bytearray(records_)
    if how == "bad record (fast path)":
        buf[20] ^= 1
    elif how == "bad frame (general path)":
        buf[4] = 0xFF
    elif how == "library failure":

        def failing(*args):
            raise ValueError("library failure")

        _break_the_cipher(monkeypatch, failing)
    else:
        buf[20] ^= 1
    with pytest.raises(ParleyError) as info:
        r.receive_data(memoryview(buf) if how.startswith("memoryview") else buf)
    assert info.value.error.name in ("BAD_RECORD_MAC", "DECODE_ERROR", "INTERNAL_ERROR")
    assert _can_resize(buf), "the failed session still holds a view of the caller's buffer"


def test_a_refused_send_does_not_pin_the_callers_buffer(keypairs):
    e, _ = make_pair(keypairs, 2)
    buf = bytearray(b"message" * 100)
    with pytest.raises(ParleyError):
        e.send_data(buf)  # API_MISUSE: the handshake has not run
    assert _can_resize(buf)

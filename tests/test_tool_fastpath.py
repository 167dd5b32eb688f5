"""The Receiver's fast paths (records.parse_data_body, the borrowing FrameReader)
against the general decoder and an independent reading of §4.1.

The tool feeds the core with views of a buffer it reuses; these tests check
that the fast paths accept exactly what the general path accepts, with the
same fields, and that nothing the core keeps aliases the caller's buffer.
"""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from hypothesis import given, settings, strategies as st

from helpers import handshake, make_pair
from parley import cbor, frames, records
from parley.errors import RemoteProtocolError
from parley.events import Data, EndOfStream
from parley.state import State


def general(body: bytes):
    """DATA fields by the general path: decode (§4.2), type and schema (§4.3)."""
    try:
        item = frames.decode_body(body)
        if frames.message_type(item) != frames.DATA:
            return None
        return frames.check_schema(frames.DATA, item)
    except RemoteProtocolError:
        return None


def data_body(ct: bytes, seq: int, tag: bytes = b"\x11" * 32) -> bytes:
    return cbor.encode({0: 4, 5: ct, 6: tag, 7: seq})


LENGTHS = [1, 2, 23, 24, 255, 256, 65535, 65536, 262144]
SEQS = [0, 1, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("seq", SEQS)
def test_canonical_bodies_take_the_fast_path(length, seq):
    body = data_body(bytes(range(256)) * (length // 256) + bytes(length % 256), seq)
    fast = records.parse_data_body(memoryview(body))
    assert fast is not None
    assert {k: bytes(v) if isinstance(v, memoryview) else v for k, v in fast.items()} == general(
        body
    )


def _non_canonical_variants(ct: bytes, seq: int) -> list[bytes]:
    """Bodies that are not the deterministic encoding of a DATA map (built by hand)."""
    tag = b"\x22" * 32
    head_ct = b"\x58" + bytes([len(ct)]) if len(ct) < 24 else b"\x5a" + len(ct).to_bytes(4, "big")
    return [
        # ct length in a longer head than needed (§4.2: not shortest form)
        b"\xa4\x00\x04\x05" + head_ct + ct + b"\x06\x58\x20" + tag + b"\x07" + bytes([seq]),
        # seq in a longer head than needed
        b"\xa4\x00\x04\x05"
        + bytes([0x40 | len(ct)])
        + ct
        + b"\x06\x58\x20"
        + tag
        + b"\x07\x18"
        + bytes([seq]),
        # keys out of order (tag before ct)
        b"\xa4\x00\x04\x06\x58\x20"
        + tag
        + b"\x05"
        + bytes([0x40 | len(ct)])
        + ct
        + b"\x07"
        + bytes([seq]),
        # an extra key (5 entries)
        b"\xa5\x00\x04\x05"
        + bytes([0x40 | len(ct)])
        + ct
        + b"\x06\x58\x20"
        + tag
        + b"\x07"
        + bytes([seq])
        + b"\x08\x00",
        # empty ct (SCHEMA_VIOLATION on the general path)
        b"\xa4\x00\x04\x05\x40\x06\x58\x20" + tag + b"\x07" + bytes([seq]),
        # a 31-byte tag
        b"\xa4\x00\x04\x05"
        + bytes([0x40 | len(ct)])
        + ct
        + b"\x06\x58\x1f"
        + tag[:31]
        + b"\x07"
        + bytes([seq]),
        # trailing byte
        b"\xa4\x00\x04\x05"
        + bytes([0x40 | len(ct)])
        + ct
        + b"\x06\x58\x20"
        + tag
        + b"\x07"
        + bytes([seq])
        + b"\x00",
        # FINAL-shaped body
        cbor.encode({0: 5, 6: tag, 7: seq, 8: 3}),
    ]


def test_non_canonical_bodies_go_the_general_way():
    for body in _non_canonical_variants(b"abc", 5):
        assert records.parse_data_body(body) is None


@settings(max_examples=400, deadline=None)
@given(
    ct=st.binary(min_size=1, max_size=300),
    seq=st.integers(0, 2**64 - 1),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
    cut=st.integers(-3, 3),
)
def test_fast_path_never_disagrees_with_the_general_path(ct, seq, edits, cut):
    body = bytearray(data_body(ct, seq))
    for pos, value in edits:
        body[pos % len(body)] = value
    if cut < 0:
        del body[cut:]
    else:
        body += bytes(cut)
    body = bytes(body)
    fast = records.parse_data_body(body)
    slow = general(body)
    if fast is not None:
        assert slow is not None
        assert {k: bytes(v) if isinstance(v, memoryview) else v for k, v in fast.items()} == slow


def model_frames(stream: bytes, limit: int):
    """An independent reading of §4.1: the bodies in order."""
    out, i = [], 0
    while len(stream) - i >= 4:
        n = int.from_bytes(stream[i : i + 4], "big")
        assert 0 < n <= limit
        if len(stream) - i - 4 < n:
            break
        out.append(stream[i + 4 : i + 4 + n])
        i += 4 + n
    return out


def test_borrowing_reader_with_a_reused_buffer():
    """Fed from one buffer that the caller overwrites after every call, the
    reader still returns every body intact (it copies what it keeps)."""
    rng = random.Random(5)
    bodies = [os.urandom(rng.choice((1, 3, 100, 5000, 70000))) for _ in range(60)]
    stream = b"".join(len(b).to_bytes(4, "big") + b for b in bodies)
    reader = frames.FrameReader()
    scratch = bytearray(1 << 17)
    got, i = [], 0
    while i < len(stream):
        n = rng.choice((1, 2, 3, 4, 5, 77, 4096, 1 << 16, 1 << 17))
        piece = stream[i : i + n]
        scratch[: len(piece)] = piece
        reader.feed(memoryview(scratch)[: len(piece)])
        while (body := reader.next_view(1 << 20)) is not None:
            got.append(bytes(body))
        reader.release()
        scratch[: len(piece)] = b"\xee" * len(piece)  # the caller reuses its buffer
        i += n
    assert got == model_frames(stream, 1 << 20) == bodies


def test_receiver_fed_from_a_reused_buffer(keypairs):
    """A whole session through one reused receive buffer delivers the message intact."""
    e, r = make_pair(keypairs, 2, chunk=1000)
    handshake(e, r)
    message = os.urandom(123_457)
    e.send_data(message)
    e.end_stream()
    stream = e.data_to_send()
    scratch = bytearray(4093)
    delivered, ended = [], None
    for i in range(0, len(stream), len(scratch)):
        piece = stream[i : i + len(scratch)]
        scratch[: len(piece)] = piece
        for ev in r.receive_data(memoryview(scratch)[: len(piece)]):
            if isinstance(ev, Data):
                delivered.append(ev.data)
            elif isinstance(ev, EndOfStream):
                ended = ev
        scratch[:] = bytes(len(scratch))
    assert ended is not None and ended.total == len(message)
    assert hashlib.sha256(b"".join(delivered)).digest() == hashlib.sha256(message).digest()


def _twins(keypairs, suite, chunk):
    """Two identical sessions (same seeds), each past its handshake."""
    pairs = make_pair(keypairs, suite, chunk=chunk), make_pair(keypairs, suite, chunk=chunk)
    for e, r in pairs:
        handshake(e, r)
    return pairs


def test_data_to_send_parts_are_the_same_bytes(keypairs):
    """Two identical sessions (same seeds): pieces joined == data_to_send()."""
    whole, pieces = _twins(keypairs, 1, 70000)
    message = os.urandom(300_000)
    whole[0].send_data(message)
    pieces[0].send_data(message)
    parts = pieces[0].data_to_send_parts()
    assert len(parts) > 1 and all(isinstance(p, bytes) for p in parts)
    assert b"".join(parts) == whole[0].data_to_send()
    assert pieces[0].data_to_send_parts() == [] and pieces[0].data_to_send() == b""


def test_scatter_gather_send_survives_partial_writes():
    """Connection.send_parts over a socket with a tiny buffer and a slow reader."""
    import socket
    import threading
    import time

    from parley.shell.transport import Connection

    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    parts = [os.urandom(n) for n in (7, 300_000, 45, 1, 99_999)]
    got = bytearray()

    def reader():
        while data := b.recv(5000):
            got.extend(data)
            time.sleep(0.0005)

    t = threading.Thread(target=reader)
    t.start()
    conn = Connection(a, "test")
    conn.send_parts(parts, 10.0, "test")
    a.shutdown(socket.SHUT_WR)
    t.join(30)
    conn.close()
    b.close()
    assert bytes(got) == b"".join(parts)


def _feed(r, stream: bytes, cuts: list[int]):
    """Feed ``stream`` cut at ``cuts`` through one reused buffer: (plaintext, ends, error)."""
    scratch = bytearray(max([len(stream)] + [1]))
    delivered, ends, error = [], [], None
    for a, b in zip([0, *cuts], [*cuts, len(stream)]):
        scratch[: b - a] = stream[a:b]
        try:
            events = r.receive_data(memoryview(scratch)[: b - a])
        except Exception as exc:  # noqa: BLE001 - compared below
            events, error = getattr(exc, "events", []), exc
        delivered += [ev.data for ev in events if isinstance(ev, Data)]
        ends += [ev.total for ev in events if isinstance(ev, EndOfStream)]
        scratch[:] = bytes(len(scratch))  # the caller reuses its buffer
        if error is not None:
            break
    return b"".join(delivered), ends, None if error is None else (error.error.name, str(error))


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("tamper", [None, "ct", "tag", "seq"])
def test_frames_split_across_calls_continue_on_the_fast_path(keypairs, suite, tamper):
    """Cut anywhere (inside a length prefix, a head, a tag), a stream delivers the same
    plaintext, the same end and the same error as when fed whole."""
    rng = random.Random(f"{suite}{tamper}")
    message = os.urandom(40_000)
    streams = []
    for _ in range(2):
        e, r = make_pair(keypairs, suite, chunk=997)
        handshake(e, r)
        e.send_data(message)
        e.end_stream()
        streams.append(e.data_to_send())
    assert streams[0] == streams[1]  # the same seeds: the same bytes
    stream = bytearray(streams[0])
    if tamper is not None:
        split = frames.split_frames(bytes(stream))
        at = sum(map(len, split[:20]))  # the 21st record
        offset = {"ct": 20, "tag": len(split[20]) - 10, "seq": len(split[20]) - 1}[tamper]
        stream[at + offset] ^= 1
    stream = bytes(stream)
    e, r = make_pair(keypairs, suite, chunk=997)
    handshake(e, r)
    whole = _feed(r, stream, [])
    assert (whole[2] is None) == (tamper is None)
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(stream)), rng.choice((3, 40, 400))))
        cuts += [c + d for c in cuts[:3] for d in (1, 2, 3)]  # pieces of 1 to 3 bytes
        e, r = make_pair(keypairs, suite, chunk=997)
        handshake(e, r)
        assert _feed(r, stream, sorted(set(cuts))) == whole


def test_one_record_per_call_is_the_same_bytes(keypairs):
    """send_data of one chunk at a time (the tool's way) writes what one call writes."""
    whole, pieces = _twins(keypairs, 2, 1000)
    message = os.urandom(30_500)
    whole[0].send_data(message)
    for i in range(0, len(message), 1000):
        pieces[0].send_data(memoryview(message)[i : i + 1000])
    assert pieces[0].data_to_send() == whole[0].data_to_send()


@pytest.mark.parametrize("suite", [1, 2])
def test_a_replacement_made_before_the_first_data_is_seen(keypairs, suite, monkeypatch):
    """The inlined loop is chosen once per session, on the data phase's first bytes
    (Receiver._fast_setup): a replaced records.open_data installed after the handshake but
    before any DATA still sees every record of that session."""
    e, r = make_pair(keypairs, suite, chunk=100)
    handshake(e, r)
    r.receive_data(e.data_to_send())  # E_AUTH: the Receiver is in STREAMING
    assert r.state is State.STREAMING
    seen = []
    real = records.open_data

    def open_data(keys, expected_seq, offset, fields):
        seen.append(fields[records.K_SEQ])
        return real(keys, expected_seq, offset, fields)

    monkeypatch.setattr(records, "open_data", open_data)
    message = os.urandom(1000)
    e.send_data(message)
    stream = e.data_to_send()
    events = [ev for f in frames.split_frames(stream) for ev in r.receive_data(f)]
    assert all(isinstance(ev, Data) for ev in events)
    assert b"".join(ev.data for ev in events) == message
    assert seen == list(range(10))


@pytest.mark.parametrize("suite", [1, 2])
def test_inlined_record_loop_agrees_with_the_per_record_calls(keypairs, suite, monkeypatch):
    """Receiver.receive_data's inlined loop (which runs while records.open_data and the
    functions it inlines are in place) and the loop that calls them give the same plaintext,
    end and error, on streams with a byte changed anywhere (heads, ciphertext, tag, seq)
    and with records of changing sizes (the layouts it learns per frame length)."""
    rng = random.Random(suite)
    e, r = make_pair(keypairs, suite, chunk=300)
    handshake(e, r)
    for size in (300, 1, 23, 24, 255, 256, 299, 300, 300, 7):
        e.send_data(os.urandom(size))
    e.send_data(os.urandom(300 * 30))  # seq past 23, then the 1-byte head
    e.end_stream()
    clean = e.data_to_send()
    first = len(frames.split_frames(clean)[0])  # E_AUTH: after it, the fast path

    def run(stream: bytes, inlined: bool):
        with monkeypatch.context() as m:
            if not inlined:
                real = records.open_data
                m.setattr(records, "open_data", lambda *a: real(*a))
            e2, r2 = make_pair(keypairs, suite, chunk=300)
            handshake(e2, r2)
            return _feed(r2, stream, [first])

    records._SHAPES.clear()
    assert run(clean, True) == run(clean, False)
    assert records._SHAPES  # the inlined loop ran and learned layouts
    assert run(clean, True)[2] is None
    for _ in range(60):
        stream = bytearray(clean)
        at = rng.randrange(len(stream))
        stream[at] ^= 1 << rng.randrange(8)
        cuts = sorted({first, *rng.sample(range(1, len(stream)), 3)})
        results = []
        for inlined in (True, False):
            with monkeypatch.context() as m:
                if not inlined:
                    real = records.open_data
                    m.setattr(records, "open_data", lambda *a, real=real: real(*a))
                e2, r2 = make_pair(keypairs, suite, chunk=300)
                handshake(e2, r2)
                results.append(_feed(r2, bytes(stream), cuts))
        assert results[0] == results[1], at

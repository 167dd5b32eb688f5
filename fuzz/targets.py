"""The fuzz targets: one function per target, taking the fuzzer's bytes.

Plain Python, no atheris: ``fuzz/run_target.py`` wraps them for atheris, and
``tests/test_properties.py`` replays the seed corpus and every saved crash
through them.  Each target raises only on a violation of the rules in
``oracle.py`` (or on an exception that should never escape the core).

Input layout (the first bytes steer the target; the rest is the byte stream):

* ``decoder``:  [limit/split byte] [stream] - frame reader (§4.1), CBOR profile
  (§4.2) and schema (§4.3), checked against an independent model of the
  framing and against ``cbor2``; the Receiver's DATA fast path
  (``records.parse_data_body``) against the general decoder.
* ``receiver``: [suite byte] [split byte] [E->R stream] - a Receiver from its
  start; when the stream begins with the true E_HELLO (or E_HELLO, E_AUTH) the
  run starts from a snapshot taken there.
* ``records``:  [suite byte] [split byte] [records] - a Receiver past the
  handshake (STREAMING) fed records.
* ``emitter``:  [suite/mode byte] [split byte] [R->E stream] - an Emitter waiting
  for R_HELLO, streaming (before FINAL), waiting for the ACK, or done.

Split byte: if odd, the stream is also fed in pieces of ``(byte >> 1) % 64 + 1``
bytes and the two outcomes must be identical.
"""

from __future__ import annotations

import functools

import cbor2

import oracle
import transcripts
from parley import cbor, frames, records as parley_records  # (the name `records` is a target)
from parley.errors import ParleyError, RemoteProtocolError

TARGETS = ("decoder", "receiver", "records", "emitter")


@functools.cache
def state() -> dict:
    """The deterministic transcripts (both suites), built once per process."""
    return transcripts.fuzz_transcripts()


def _suite(b: int) -> int:
    return 1 + (b & 1)


def _run_both(snapshot, stream: bytes, split: int, *, eof: bool = False) -> oracle.Outcome:
    whole = oracle.run(snapshot, [stream], eof=eof)
    if split & 1:
        cut = oracle.run(snapshot, oracle.pieces_of(stream, (split >> 1) % 64 + 1), eof=eof)
        if cut.signature() != whole.signature():
            raise oracle.OracleViolation(
                f"outcome depends on the split: {whole.signature()[1:3]} vs {cut.signature()[1:3]}"
            )
    return whole


# -- decoder -----------------------------------------------------------------------


def model_frames(stream: bytes, limit: int):
    """An independent reading of §4.1: (bodies, error name or None)."""
    bodies, i = [], 0
    while len(stream) - i >= 4:
        n = int.from_bytes(stream[i : i + 4], "big")
        if n > limit:
            return bodies, "FRAME_TOO_LARGE"
        if n == 0:
            return bodies, "DECODE_ERROR"
        if len(stream) - i - 4 < n:
            break
        bodies.append(stream[i + 4 : i + 4 + n])
        i += 4 + n
    return bodies, None


def read_frames(pieces, limit: int):
    reader = frames.FrameReader()
    bodies = []
    try:
        for piece in pieces:
            reader.feed(piece)
            while (body := reader.next_view(limit)) is not None:
                if len(body) > limit:
                    raise oracle.OracleViolation(
                        f"a body of {len(body)} bytes passed limit {limit}"
                    )
                bodies.append(bytes(body))  # a view lasts until the next feed
    except RemoteProtocolError as exc:
        return bodies, exc.error.name
    return bodies, None


def check_body(body: bytes) -> None:
    """Decode (§4.2), type (§4.3), schema (§4.3): only their registry errors."""
    general = _general_data_fields(body)
    fast_parse = getattr(parley_records, "parse_data_body", None)
    if fast_parse is not None:
        # The Receiver's DATA fast path must accept exactly what the general
        # decoder and schema accept as a DATA record with a non-empty ct (§7.3).
        fast = fast_parse(memoryview(body))
        if fast is not None:
            fast = {k: bytes(v) if isinstance(v, memoryview) else v for k, v in fast.items()}
        oracle._require(
            fast == general,
            f"DATA fast path gives {fast!r:.80}, the general decoder {general!r:.80}",
        )
    try:
        item = frames.decode_body(body)
    except RemoteProtocolError as exc:
        oracle._require(
            exc.error.name in ("DECODE_ERROR", "NON_DETERMINISTIC_CBOR"),
            f"decode_body raised {exc.error.name}",
        )
        return
    oracle.check_decoded_body(body, item)
    try:
        other = cbor2.loads(body)
    except Exception as exc:  # any cbor2 failure is a disagreement
        raise oracle.OracleViolation(
            f"accepted a body cbor2 rejects ({type(exc).__name__})"
        ) from exc
    oracle._require(cbor.encode(other) == body, "cbor2 decodes an accepted body differently")
    try:
        mtype = frames.message_type(item)
        if mtype in frames.SCHEMAS:
            fields = frames.check_schema(mtype, item)
            for key, kind in frames.SCHEMAS[mtype].items():
                value = fields[key]
                ok = (
                    (
                        isinstance(value, int)
                        and not isinstance(value, bool)
                        and 0 <= value <= frames.MAX_UINT64
                    )
                    if kind == frames.UINT
                    else (type(value) is bytes and (kind == frames.BSTR or len(value) == kind))
                )
                oracle._require(ok, f"schema accepted key {key} = {type(value).__name__}")
    except RemoteProtocolError as exc:
        oracle._require(exc.error.name == "SCHEMA_VIOLATION", f"schema raised {exc.error.name}")


def _general_data_fields(body: bytes):
    """The fields of a DATA body with a non-empty ct, by the general path, or None."""
    try:
        item = frames.decode_body(body)
        if frames.message_type(item) != frames.DATA:
            return None
        fields = frames.check_schema(frames.DATA, item)
    except RemoteProtocolError:
        return None
    return fields if fields[frames.K_CT] else None


def decoder(data: bytes) -> None:
    if not data:
        return
    ctl, stream = data[0], data[1:]
    limit = (8192, 262400, 64, 1 << 31)[ctl & 3]
    size = (ctl >> 2) + 1
    got = read_frames([stream], limit)
    oracle._require(got == model_frames(stream, limit), "frame reader disagrees with §4.1")
    oracle._require(
        read_frames(oracle.pieces_of(stream, size), limit) == got,
        "frame reader output depends on the split",
    )
    for body in got[0]:
        check_body(body)
    # The CBOR decoder alone, with limits steered by the control byte.
    try:
        item = cbor.decode(stream, max_depth=ctl % 6, max_items=(ctl >> 3) * 3)
    except cbor.CBORError:
        return
    oracle.check_decoded_body(stream, item)


# -- parties -----------------------------------------------------------------------


def receiver(data: bytes) -> None:
    if len(data) < 2:
        return
    t = state()[_suite(data[0])]
    stream = data[2:]
    out = _run_both(t.receiver_snapshot_for(stream), stream, data[1], eof=bool(data[0] & 2))
    oracle.check_receiver(out, t)


def records(data: bytes) -> None:
    if len(data) < 2:
        return
    t = state()[_suite(data[0])]
    out = _run_both(t.receiver[2], data[2:], data[1], eof=bool(data[0] & 2))
    oracle.check_receiver(out, t)


def emitter(data: bytes) -> None:
    if len(data) < 2:
        return
    t = state()[_suite(data[0])]
    snap = (t.emitter_hello, t.emitter_ack, t.emitter_streaming, t.emitter_done)[(data[0] >> 1) & 3]
    out = _run_both(snap, data[2:], data[1], eof=bool(data[0] & 8))
    oracle.check_emitter(out, t)


def run(target: str, data: bytes) -> None:
    {"decoder": decoder, "receiver": receiver, "records": records, "emitter": emitter}[target](data)


__all__ = ["TARGETS", "run", "decoder", "receiver", "records", "emitter", "ParleyError"]

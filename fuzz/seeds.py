"""The seed corpus of each fuzz target (fuzz/targets.py explains the input layouts).

Seeds come from three places, all deterministic:

1. the committed test vectors, ``vectors/*.json`` (when present): every frame
   on the wire, and each test's byte stream per direction, positive and
   negative;
2. the reference in deterministic mode (``transcripts.fuzz_transcripts``): the
   true transcript of each suite and its truncations;
3. records *resealed* with the session's real keys (a fuzzer cannot forge a
   MAC, so the checks behind the MAC are only reached from seeds): wrong
   totals, skipped and repeated sequence numbers, an empty record, records
   after FINAL, ACKs with a wrong total, ABORT frames.  A resealed frame only
   ever carries the true records' content with a wrong sequence number or
   total, so that the rules of ``oracle.py`` (which assume an attacker without
   the keys) still hold: each of them must be refused by a check after the
   MAC.

``write(directory)`` writes ``<directory>/<target>/<name>``; names are the
SHA-1 of the content, as libFuzzer names its own corpus files.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import transcripts
from parley import cbor
from parley.frames import (
    ABORT,
    ACK,
    DATA,
    FINAL,
    K_CT,
    K_ERROR,
    K_MAC,
    K_SEQ,
    K_TOTAL,
    encode,
    frame,
)
from parley.records import seal_data

ROOT = pathlib.Path(__file__).resolve().parents[1]
VECTOR_DIR = ROOT / "vectors"


def _abort(number: int) -> bytes:
    return frame(encode(ABORT, {K_ERROR: number}))


def _vector_streams():
    """(suite, direction, [wire frames], type names, expected or None) per test and direction."""
    for path in sorted(VECTOR_DIR.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
            for group in doc.get("testGroups", []):
                for test in group.get("tests", []):
                    for direction in ("E->R", "R->E"):
                        fs = [f for f in test.get("frames", []) if f.get("direction") == direction]
                        yield (
                            group["suite"],
                            direction,
                            [bytes.fromhex(f["wire"]) for f in fs],
                            [f.get("type") for f in fs],
                            test.get("expected"),
                        )
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # a vector file of another shape: skip it, the other seeds remain


def resealed(t) -> dict[str, list[bytes]]:
    """Frames that pass the MAC but break a later rule (§7.3, §7.4)."""
    keys = t.emitter_streaming.fresh()._keys
    n, total = len(t.records), len(t.message)
    data = [seal_data(keys, i, sum(map(len, t.records[:i])), c) for i, c in enumerate(t.records)]

    def final(seq, tot):
        return frame(
            encode(FINAL, {K_MAC: keys.tag(FINAL, seq, tot, b""), K_SEQ: seq, K_TOTAL: tot})
        )

    true_final_tag = keys.tag(FINAL, n, total, b"")

    def ack(tot):
        return frame(encode(ACK, {K_MAC: keys.tag(ACK, n, tot, true_final_tag), K_TOTAL: tot}))

    empty = frame(encode(DATA, {K_CT: b"", K_MAC: keys.tag(DATA, 0, 0, b""), K_SEQ: 0}))
    skipped = seal_data(keys, 1, 0, t.records[0])
    return {
        "records": [
            b"".join(data) + final(n, total + 1),  # LENGTH_MISMATCH
            b"".join(data[:-1]) + final(n - 1, total),  # total covers a missing record
            data[0] + data[0],  # replay
            skipped,  # seq 1 first
            b"".join(data) + final(n + 1, total),  # FINAL seq skips
            b"".join(data) + final(n, total) + data[0],  # a record after FINAL
            final(0, total),  # FINAL first: total covers nothing
            empty,  # SCHEMA_VIOLATION before the MAC
            b"".join(data) + _abort(11),
        ],
        "emitter_ack": [ack(total + 1), ack(0), ack(total) + ack(total), _abort(13)],
    }


def seeds() -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {
        name: [] for name in ("decoder", "receiver", "records", "emitter")
    }
    for suite, t in transcripts.fuzz_transcripts().items():
        s = suite - 1
        e_stream, r_stream = t.e_stream, t.r_stream
        after_auth = b"".join(t.e_to_r[2:])
        for f in t.e_to_r + t.r_to_e:
            out["decoder"] += [b"\x00" + f, b"\x01" + f]
        out["decoder"] += [b"\x05" + e_stream, b"\x09" + r_stream]
        out["receiver"] += [
            bytes([s, 0]) + e_stream,
            bytes([s | 2, 7]) + e_stream,
            bytes([s, 0]) + t.e_to_r[0],
            bytes([s, 0]) + e_stream[:-1],
            bytes([s, 0]) + e_stream + _abort(5),
        ]
        out["records"] += [
            bytes([s, 0]) + after_auth,
            bytes([s | 2, 3]) + after_auth,
            bytes([s, 0]) + _abort(16),
        ]
        extra = resealed(t)
        out["records"] += [bytes([s, 0]) + x for x in extra["records"]]
        out["emitter"] += [
            bytes([s, 0]) + t.r_to_e[0],
            bytes([s, 1]) + r_stream,
            bytes([s | 2, 0]) + t.r_to_e[1],
            bytes([s | 2, 9]) + t.r_to_e[1],
            bytes([s | 4, 0]) + t.r_to_e[1],
            bytes([s | 6, 0]) + t.r_to_e[1],
            bytes([s | 8, 0]) + t.r_to_e[0],
        ]
        out["emitter"] += [bytes([s | 2, 0]) + x for x in extra["emitter_ack"]]
    # Hostile CBOR for the decoder (§4.2, §10).
    for body in (
        b"\x81" * 64 + b"\x00",
        b"\xbb" + b"\xff" * 8,
        b"\x5b" + b"\x7f" + b"\xff" * 7,
        b"\x9f\x00\xff",
        b"\xa2\x01\x00\x00\x00",
        b"\xa1\x18\x00\x00",
        b"\xc0\x00",
        b"\xf9\x00\x00",
        b"\x62\xc3\x28",
        cbor.encode({0: 7, 9: 2**64 - 1}),
    ):
        out["decoder"] += [b"\x00" + frame(body), b"\x03" + body]
    # The committed vectors.  Every frame seeds the decoder.  The parties get the cases
    # that are cheap under the fuzz keys: a vector's valid E_HELLO would make every
    # execution a full handshake (~10 ms), and its MACs cannot verify under other keys.
    for suite, direction, wires, types, expected in _vector_streams():
        if suite not in (1, 2):
            continue
        s = suite - 1
        out["decoder"] += [b"\x00" + w for w in wires]
        by, at = (expected or {}).get("detectedBy"), (expected or {}).get("atFrame")
        if direction == "E->R":
            if by == "receiver" and at == 0:
                out["receiver"].append(bytes([s, 0]) + b"".join(wires))
            if "E_AUTH" in types:
                out["records"].append(bytes([s, 0]) + b"".join(wires[types.index("E_AUTH") + 1 :]))
        elif by == "emitter" and wires:
            out["emitter"].append(bytes([s, 0]) + wires[0])
            if len(wires) > 1:
                out["emitter"].append(bytes([s | 2, 0]) + b"".join(wires[1:]))
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def write(directory: pathlib.Path, targets=None) -> dict[str, int]:
    """Write the seeds of ``targets`` (all by default); returns how many per target."""
    counts = {}
    for name, items in seeds().items():
        if targets and name not in targets:
            continue
        d = directory / name
        d.mkdir(parents=True, exist_ok=True)
        for item in items:
            (d / hashlib.sha1(item).hexdigest()).write_bytes(item)
        counts[name] = len(items)
    return counts

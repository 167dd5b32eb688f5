"""Test helpers: build sessions, cut a byte stream into frames, re-encode frames."""

from __future__ import annotations

import struct

from parley import Emitter, Receiver, SeededEntropy, SessionConfig
from parley import cbor


def make_pair(keypairs, suite, *, seed=b"t", header=b"", chunk=32, emitter_cls=Emitter,
              receiver_cls=Receiver, r_key=None, e_pin=None, deterministic=True):
    e_key, r_key_, _ = keypairs[suite]
    r_key = r_key or r_key_
    e = emitter_cls(SessionConfig(e_key, e_pin or r_key_.public, SeededEntropy(seed, "E"),
                                  deterministic_signatures=deterministic, app_header=header,
                                  chunk_size=chunk))
    r = receiver_cls(SessionConfig(r_key, e_key.public, SeededEntropy(seed, "R"),
                                   deterministic_signatures=deterministic))
    return e, r


def frames_of(stream: bytes) -> list[bytes]:
    """Cut a byte stream into frame bodies (§4.1)."""
    out, i = [], 0
    while i < len(stream):
        (n,) = struct.unpack(">I", stream[i:i + 4])
        out.append(stream[i + 4:i + 4 + n])
        i += 4 + n
    return out


def join(bodies: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(b)) + b for b in bodies)


def edit(body: bytes, **changes) -> bytes:
    """Decode a body, change fields by key (k0=..., k5=...), re-encode deterministically."""
    item = cbor.decode(body)
    for k, v in changes.items():
        key = int(k[1:])
        if v is None:
            item.pop(key, None)
        else:
            item[key] = v
    return cbor.encode(item)


def handshake(e, r):
    """Run E_HELLO and R_HELLO; returns the Emitter's handshake events."""
    e.start()
    r.receive_data(e.data_to_send())
    return e.receive_data(r.data_to_send())

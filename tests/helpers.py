"""Test helpers: build sessions, cut a byte stream into frames, re-encode frames."""

from __future__ import annotations

import struct

from parley import (
    Emitter,
    Receiver,
    SessionConfig,
    cbor,  # noqa: F401  (tests import it from here)
)
from parley.entropy import SeededEntropy
from parley.frames import split_bodies as frames_of  # noqa: F401  (§4.1)
from parley_conformance.peer import edit  # noqa: F401  (decode, change fields, re-encode)


def make_pair(
    keypairs,
    suite,
    *,
    seed=b"t",
    header=b"",
    chunk=32,
    emitter_cls=Emitter,
    receiver_cls=Receiver,
    r_key=None,
    e_pin=None,
    deterministic=True,
):
    e_key, r_key_, _ = keypairs[suite]
    r_key = r_key or r_key_
    e = emitter_cls(
        SessionConfig(
            e_key,
            e_pin or r_key_.public,
            SeededEntropy(seed, "E"),
            deterministic_signatures=deterministic,
            app_header=header,
            chunk_size=chunk,
        )
    )
    r = receiver_cls(
        SessionConfig(
            r_key, e_key.public, SeededEntropy(seed, "R"), deterministic_signatures=deterministic
        )
    )
    return e, r


def join(bodies: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(b)) + b for b in bodies)


def handshake(e, r):
    """Run E_HELLO and R_HELLO; returns the Emitter's handshake events."""
    e.start()
    r.receive_data(e.data_to_send())
    return e.receive_data(r.data_to_send())

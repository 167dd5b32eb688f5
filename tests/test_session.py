"""Complete sessions in both suites (§5, §7): every size class, every byte-stream split."""

from __future__ import annotations

import hashlib
import os
import random

import pytest

from helpers import make_pair
from parley import Emitter, Receiver, SessionConfig, SystemEntropy
from parley.pump import byte_by_byte, random_splits, run_session, whole
from parley.state import State

CHUNK = 32
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 7]


def _message(n: int) -> bytes:
    return hashlib.shake_256(str(n).encode()).digest(n) if n else b""


def _check(result, message):
    assert result["delivered"] == message
    assert result["end"].total == len(message)
    assert result["ack"].total == len(message)
    # Both parties hold the same transcript hash TH_4 (§5.6), and each sees the other's ID.
    assert result["r_handshake"].transcript_hash == result["e_handshake"].transcript_hash


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("split", ["whole", "byte", "random"])
def test_sizes_and_splits(keypairs, suite, size, split):
    e, r = make_pair(keypairs, suite, header=b"name=a.txt", chunk=CHUNK)
    splitter = {"whole": whole, "byte": byte_by_byte, "random": random_splits(random.Random(size))}[
        split
    ]
    message = _message(size)
    result = run_session(e, r, message, splitter)
    _check(result, message)
    assert result["r_handshake"].app_header == b"name=a.txt"
    assert e.state is State.DONE and r.state is State.DONE
    # Records carry at most the chunk size (§7.1): ceil(size / chunk) Data events.
    assert len([ev for ev in result["receiver_events"] if type(ev).__name__ == "Data"]) == -(
        -size // CHUNK
    )


@pytest.mark.parametrize("suite", [1, 2])
def test_large_message_default_chunks(keypairs, suite):
    """8 MiB in 64 KiB records, fed in random splits."""
    e_key, r_key, _ = keypairs[suite]
    message = os.urandom(8 * (1 << 20) + 3)
    e = Emitter(SessionConfig(e_key, r_key.public, SystemEntropy()))
    r = Receiver(SessionConfig(r_key, e_key.public, SystemEntropy()))
    _check(run_session(e, r, message, random_splits(random.Random(1))), message)


@pytest.mark.parametrize("suite", [1, 2])
def test_largest_chunk(keypairs, suite):
    e_key, r_key, _ = keypairs[suite]
    message = os.urandom((1 << 18) * 2 + 1)
    e = Emitter(SessionConfig(e_key, r_key.public, SystemEntropy(), chunk_size=1 << 18))
    r = Receiver(SessionConfig(r_key, e_key.public, SystemEntropy()))
    _check(run_session(e, r, message), message)


def _transcript(keypairs, suite, deterministic_entropy: bool):
    sent = []

    def trace(name, value):
        if name.startswith("sent "):
            sent.append(value)

    e_key, r_key, _ = keypairs[suite]
    if deterministic_entropy:
        e, r = make_pair(keypairs, suite, seed=b"same")
    else:
        e = Emitter(SessionConfig(e_key, r_key.public, SystemEntropy()))
        r = Receiver(SessionConfig(r_key, e_key.public, SystemEntropy()))
    e._trace_fn = r._trace_fn = trace
    run_session(e, r, b"x" * 100)
    return sent


@pytest.mark.parametrize("suite", [1, 2])
def test_deterministic_mode_is_reproducible(keypairs, suite):
    a = _transcript(keypairs, suite, True)
    b = _transcript(keypairs, suite, True)
    assert (
        a == b and len(a) == 9
    )  # E_HELLO, R_HELLO, E_AUTH, 4 DATA (100 B in 32 B chunks), FINAL, ACK
    c = _transcript(keypairs, suite, False)
    d = _transcript(keypairs, suite, False)
    assert c != d
    assert c[0] != d[0]  # fresh sid_e and ephemeral value per session


def test_sizes_of_fixed_length_fields(keypairs):
    """§3.1: public values, signatures and MACs have the suite's fixed lengths."""
    from helpers import frames_of
    from parley import cbor

    for suite, (g_len, c_len, mac_len) in {1: (256, 64, 32), 2: (97, 96, 48)}.items():
        e, r = make_pair(keypairs, suite)
        e.start()
        m1 = frames_of(e.data_to_send())[0]
        r.receive_data(len(m1).to_bytes(4, "big") + m1)
        m2 = frames_of(r.data_to_send())[0]
        f1, f2 = cbor.decode(m1), cbor.decode(m2)
        assert len(f1[4]) == g_len and len(f2[4]) == g_len
        assert len(f2[5]) == c_len and len(f2[6]) == mac_len
        assert len(f1[3]) == 16 and len(f2[3]) == 16

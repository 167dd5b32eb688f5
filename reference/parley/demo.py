"""An in-process demonstration of Parley sessions in both suites (no setup, no network).

Run with ``parley demo --in-process`` (or ``python -m parley.demo``).
"""

from __future__ import annotations

import hashlib
import os
import time

from . import keys
from .connection import Emitter, Receiver, SessionConfig
from .entropy import SystemEntropy
from .errors import ParleyError
from .pump import run_session
from .suites import SUITES


def _pair(suite):
    e, r = keys.generate_private_key(suite), keys.generate_private_key(suite)
    return e, r


def demo(out=print) -> int:
    out("Parley v1: in-process demonstration (spec/parley.md)")
    message = os.urandom(3 * (1 << 20) + 12345)
    header = b'{"name": "demo.bin", "type": "application/octet-stream"}'
    for suite in SUITES.values():
        out(f"\n== suite {suite.number}: {suite.name}")
        t0 = time.perf_counter()
        e_key, r_key = _pair(suite)
        out(f"   long-term keys made in {1000 * (time.perf_counter() - t0):.0f} ms; "
            f"Emitter {keys.fingerprint(e_key.public)[:23]}…, "
            f"Receiver {keys.fingerprint(r_key.public)[:23]}…")
        e = Emitter(SessionConfig(e_key, r_key.public, SystemEntropy(), app_header=header))
        r = Receiver(SessionConfig(r_key, e_key.public, SystemEntropy()))
        t0 = time.perf_counter()
        result = run_session(e, r, message)
        dt = time.perf_counter() - t0
        ok = result["delivered"] == message and result["ack"] is not None
        out(f"   handshake + {len(message)} bytes in {1000 * dt:.0f} ms; "
            f"transcript hash TH_4 = {result['r_handshake'].transcript_hash.hex()[:32]}…")
        out(f"   Receiver got header {result['r_handshake'].app_header.decode()}")
        out(f"   delivered SHA-256 {hashlib.sha256(result['delivered']).hexdigest()[:16]}… "
            f"{'matches' if ok else 'DOES NOT MATCH'}; Emitter saw ACK for {result['ack'].total} bytes")
        if not ok:
            return 1
        # An attack: flip one bit of the first DATA record on its way.
        e = Emitter(SessionConfig(e_key, r_key.public, SystemEntropy()))
        r = Receiver(SessionConfig(r_key, e_key.public, SystemEntropy()))
        e.start(); r.receive_data(e.data_to_send()); e.receive_data(r.data_to_send())
        e.send_data(b"attack at dawn"); e.end_stream()
        flight = bytearray(e.data_to_send())
        flight[-60] ^= 1  # inside the first DATA record (after E_AUTH)
        try:
            r.receive_data(bytes(flight))
            out("   tampering was NOT detected")
            return 1
        except ParleyError as exc:
            out(f"   a flipped bit in transit is refused: {exc.error} — {exc.detail}")
    out("\nAll sessions completed and verified.")
    return 0


if __name__ == "__main__":
    raise SystemExit(demo())

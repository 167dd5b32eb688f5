#!/usr/bin/env python3
"""tools/bench's raw baselines: the same primitives as Parley, without Parley.

This module never imports Parley (it checks that when run as a program).  It
holds three baselines:

* ``seal_open`` (mem): AES-256-CTR + HMAC-SHA-256 over chunks in memory, in
  several ways (``VARIANTS``); tools/bench takes the fastest per chunk size
  and run as "the cheapest raw path";
* ``PkOps`` (hs): the public-key operations of one Parley handshake (both
  parties: two ephemeral key pairs, two peer-value validations, two
  exchanges, two signatures, two verifications), with the same libraries and
  routines as Parley's suites (pyca/cryptography for P-384, GMP through gmpy2
  for ffdhe2048 and DSA), each at its cheapest;
* the bulk programs (tcp; ``bench_raw.py bulk-send`` / ``bulk-recv``): the
  same crypto per 256 KiB record as Parley (CTR with the counter block reset,
  a keyed HMAC copied per record over a 57-byte head and the ciphertext,
  constant-time compare), the same socket options, the same system calls
  (``readinto`` of the file, ``sendmsg`` of three pieces, ``recv_into`` a
  1 MiB buffer, file writes in a background thread behind a bounded queue,
  fsync, rename, a one-byte acknowledgement), but no handshake, no CBOR and
  no state machine: a 4-byte length prefix, the ciphertext and the tag.
  The client prints ``seconds`` and ``cpu_seconds`` (user + system, all
  threads, connect to acknowledgement) as one JSON line; the server prints
  ``cpu_seconds`` from accept to exit.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import queue
import resource
import secrets
import socket
import struct
import sys
import threading
import time

import gmpy2
from cryptography.hazmat.primitives import hashes, hmac as chmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# ------------------------------------------------------------------ in memory

_Z8 = bytes(8)


def _ctr(key: bytes):
    return Cipher(algorithms.AES256(key), modes.CTR(bytes(16))).encryptor()


_CB = struct.Struct(">QQ").pack  # the counter block u64(seq) ‖ u64(0), as Parley's


def _seal_open_stdlib(chunk_view, count: int, clock) -> tuple[float, float]:
    """hashlib's keyed HMAC (``hmac.new``) copied per chunk."""
    key, mk = os.urandom(32), os.urandom(32)
    enc, dec = _ctr(key), _ctr(key)
    mac = hmac.new(mk, digestmod=hashlib.sha256)
    compare = hmac.compare_digest
    sealed = []
    t0 = clock()
    for seq in range(count):
        enc.reset_nonce(_CB(seq, 0))
        ct = enc.update(chunk_view)
        h = mac.copy()
        h.update(ct)
        sealed.append((ct, h.digest()))
    t1 = clock()
    for seq, (ct, tag) in enumerate(sealed):
        h = mac.copy()
        h.update(ct)
        if not compare(h.digest(), tag):
            raise AssertionError("raw baseline: tag mismatch")
        dec.reset_nonce(_CB(seq, 0))
        dec.update(ct)
    t2 = clock()
    return t1 - t0, t2 - t1


def _seal_open_oneshot(chunk_view, count: int, clock) -> tuple[float, float]:
    """hashlib's one-shot ``hmac.digest`` (keyed afresh by OpenSSL per chunk)."""
    key, mk = os.urandom(32), os.urandom(32)
    enc, dec = _ctr(key), _ctr(key)
    digest, compare = hmac.digest, hmac.compare_digest
    sealed = []
    t0 = clock()
    for seq in range(count):
        enc.reset_nonce(_CB(seq, 0))
        ct = enc.update(chunk_view)
        sealed.append((ct, digest(mk, ct, "sha256")))
    t1 = clock()
    for seq, (ct, tag) in enumerate(sealed):
        if not compare(digest(mk, ct, "sha256"), tag):
            raise AssertionError("raw baseline: tag mismatch")
        dec.reset_nonce(_CB(seq, 0))
        dec.update(ct)
    t2 = clock()
    return t1 - t0, t2 - t1


def _seal_open_crypto(chunk_view, count: int, clock) -> tuple[float, float]:
    """pyca/cryptography's keyed HMAC context copied per chunk."""
    key, mk = os.urandom(32), os.urandom(32)
    enc, dec = _ctr(key), _ctr(key)
    mac = chmac.HMAC(mk, hashes.SHA256())
    compare = hmac.compare_digest
    sealed = []
    t0 = clock()
    for seq in range(count):
        enc.reset_nonce(_CB(seq, 0))
        ct = enc.update(chunk_view)
        h = mac.copy()
        h.update(ct)
        sealed.append((ct, h.finalize()))
    t1 = clock()
    for seq, (ct, tag) in enumerate(sealed):
        h = mac.copy()
        h.update(ct)
        if not compare(h.finalize(), tag):
            raise AssertionError("raw baseline: tag mismatch")
        dec.reset_nonce(_CB(seq, 0))
        dec.update(ct)
    t2 = clock()
    return t1 - t0, t2 - t1


#: Ways to do AES-256-CTR + HMAC-SHA-256 per chunk: one CTR context per direction with
#: its counter block reset per chunk (no key schedule per chunk), the MAC over the
#: ciphertext, no framing.  Each seals ``count`` chunks, then opens them, and returns the
#: two spans by ``clock``; tools/bench times each and keeps the fastest.
VARIANTS = {
    "hashlib-copy": _seal_open_stdlib,
    "hashlib-oneshot": _seal_open_oneshot,
    "cryptography-copy": _seal_open_crypto,
}


# ----------------------------------------------------------------- handshake

# RFC 7919 Appendix A.1, ffdhe2048 (as Parley's suite 1; repeated here, not imported).
FFDHE2048_P = int(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695"
    "A9E13641146433FBCC939DCE249B3EF97D2FE363630C75D8F681B202AEC4617A"
    "D3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797A"
    "BC0AB182B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4"
    "AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005"
    "C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF",
    16,
)
_SIG_MESSAGE = bytes(range(256))[:180]  # about the size of a Parley SigInput


P384_N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
    "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)


class PkOps:
    """One handshake's public-key operations, both parties, at their cheapest.

    Each ephemeral P-384 key is built from 48 random bytes (``derive_private_key``), as
    spec §3.5 makes a Parley party do; ``generate=True`` lets the library draw it instead
    (``generate_private_key``), the cheaper call that Parley cannot use.

    ``dsa`` is [(p, q, g, x, y), (p, q, g, x, y)] for suite 1: the two long-term DSA
    keys (each with its own domain parameters, as Parley's keys have).
    """

    def __init__(
        self, suite: int, dsa: list[tuple[int, ...]] | None = None, generate: bool = False
    ) -> None:
        self.suite = suite
        self.generate = generate
        if suite == 2:
            self._curve = ec.SECP384R1()
            self._keys = [ec.generate_private_key(self._curve) for _ in range(2)]
            self._pubs = [k.public_key() for k in self._keys]
        else:
            assert dsa is not None
            self._dsa = [tuple(gmpy2.mpz(v) for v in key[:3]) for key in dsa]
            self._x = [key[3] for key in dsa]
            self._y = [gmpy2.mpz(key[4]) for key in dsa]
            self._P = gmpy2.mpz(FFDHE2048_P)

    def handshake(self) -> None:
        if self.suite == 2:
            self._p384()
        else:
            self._ffdh_dsa()

    def _p384(self) -> None:
        curve, enc, fmt = (
            self._curve,
            serialization.Encoding.X962,
            serialization.PublicFormat.UncompressedPoint,
        )
        if self.generate:
            eph = [ec.generate_private_key(curve) for _ in range(2)]  # both ephemerals
        else:
            eph = [
                ec.derive_private_key(
                    int.from_bytes(os.urandom(48), "big") % (P384_N - 1) + 1, curve
                )
                for _ in range(2)
            ]
        wire = [k.public_key().public_bytes(enc, fmt) for k in eph]
        for me in range(2):
            peer = ec.EllipticCurvePublicKey.from_encoded_point(curve, wire[1 - me])
            eph[me].exchange(ec.ECDH(), peer)
        algo = ec.ECDSA(hashes.SHA384())
        for me in range(2):
            sig = self._keys[me].sign(_SIG_MESSAGE, algo)
            self._pubs[me].verify(sig, _SIG_MESSAGE, algo)

    def _ffdh_dsa(self) -> None:
        big_p = self._P
        xs = [secrets.randbits(256) | 2 for _ in range(2)]
        wire = [int(gmpy2.powmod_sec(2, x, big_p)).to_bytes(256, "big") for x in xs]
        for me in range(2):
            y = int.from_bytes(wire[1 - me], "big")
            if not 1 < y < FFDHE2048_P - 1 or gmpy2.jacobi(y, big_p) != 1:
                raise AssertionError("ffdhe2048 public value out of the subgroup")
            int(gmpy2.powmod_sec(y, xs[me], big_p)).to_bytes(256, "big")
        for me in range(2):
            p, q, g = self._dsa[me]
            z = int.from_bytes(hashlib.sha256(_SIG_MESSAGE).digest(), "big")
            k = secrets.randbelow(int(q) - 1) + 1
            r = gmpy2.powmod_sec(g, k, p) % q
            s = gmpy2.powmod_sec(k, q - 2, q) * (z + self._x[me] * r) % q
            # verification (FIPS 186-4 §4.7), by the peer, with ordinary powmod
            z = int.from_bytes(hashlib.sha256(_SIG_MESSAGE).digest(), "big")
            w = gmpy2.invert(s, q)
            v = gmpy2.powmod(g, z * w % q, p) * gmpy2.powmod(self._y[me], r * w % q, p) % p % q
            if v != r:
                raise AssertionError("DSA baseline: signature does not verify")


# ---------------------------------------------------------------------- bulk

RECORD = 1 << 18
RECV_BUFFER = 1 << 20
SOCKET_BUFFER = 4 << 20
_HEAD = bytes(57)  # the size of Parley's MAC input head (u8 u64 u64 u64 AD)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _tune_allocator() -> None:
    """The same glibc setting as the parley tool (parley.shell.memory), repeated here."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.mallopt(-3, 4 << 20)
        libc.mallopt(-1, 32 << 20)
    except (OSError, AttributeError):
        pass


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)


_KEY, _MK = bytes(range(32)), bytes(range(32, 64))  # fixed: a baseline, not a protocol


def bulk_send(port: int, src: str) -> None:
    _tune_allocator()
    enc = _ctr(_KEY)
    mac = chmac.HMAC(_MK, hashes.SHA256())
    with open(src, "rb", buffering=0) as f:
        chunk = memoryview(bytearray(RECORD))
        t0, c0 = time.perf_counter(), _cpu()
        sock = socket.create_connection(("127.0.0.1", port))
        _tune(sock)
        seq = 0
        while True:
            got = 0
            while got < RECORD:
                n = f.readinto(chunk[got:])
                if not n:
                    break
                got += n
            if not got:
                break
            enc.reset_nonce(seq.to_bytes(8, "big") + _Z8)
            ct = enc.update(chunk[:got])
            h = mac.copy()
            h.update(_HEAD)
            h.update(ct)
            views = [
                memoryview((got + 32).to_bytes(4, "big")),
                memoryview(ct),
                memoryview(h.finalize()),
            ]
            while views:
                n = sock.sendmsg(views)
                while n:
                    first = len(views[0])
                    if n < first:
                        views[0] = views[0][n:]
                        break
                    n -= first
                    del views[0]
            seq += 1
        sock.sendall(bytes(4))  # the end
        if sock.recv(1) != b"A":
            raise SystemExit("raw sender: no acknowledgement")
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    sock.close()
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))


def bulk_recv(out: str, ready: str) -> None:
    _tune_allocator()
    dec = _ctr(_KEY)
    mac = chmac.HMAC(_MK, hashes.SHA256())
    compare = hmac.compare_digest
    listener = socket.create_server(("127.0.0.1", 0))
    temp_ready = ready + ".tmp"
    with open(temp_ready, "w", encoding="utf-8") as f:
        f.write(json.dumps({"event": "listening", "port": listener.getsockname()[1]}) + "\n")
    os.replace(temp_ready, ready)
    sock, _ = listener.accept()
    c0 = _cpu()
    listener.close()
    _tune(sock)
    temp = out + ".part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    file = os.fdopen(fd, "wb", buffering=0)
    jobs: queue.Queue = queue.Queue(8)

    def writer() -> None:
        while (item := jobs.get()) is not None:
            view = memoryview(item)
            while view:
                view = view[file.write(view) :]
            jobs.task_done()
        jobs.task_done()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    buf = memoryview(bytearray(RECV_BUFFER))
    carry = bytearray()  # the start of a frame split across reads (copied once)
    seq, done = 0, False

    def record(frame) -> bool:
        nonlocal seq
        if len(frame) == 0:
            return True
        ct, tag = frame[:-32], frame[-32:]
        h = mac.copy()
        h.update(_HEAD)
        h.update(ct)
        if not compare(h.finalize(), tag):
            raise SystemExit("raw receiver: bad tag")
        dec.reset_nonce(seq.to_bytes(8, "big") + _Z8)
        jobs.put(dec.update(ct))
        seq += 1
        return False

    while not done:
        n = sock.recv_into(buf)
        if not n:
            raise SystemExit("raw receiver: connection ended early")
        view = buf[:n]
        if carry:
            if len(carry) < 4:
                take = 4 - len(carry)
                carry += view[:take]
                view = view[take:]
                if len(carry) < 4:
                    continue
            need = 4 + int.from_bytes(carry[:4], "big") - len(carry)
            carry += view[:need]
            view = view[need:]
            if len(carry) < 4 + int.from_bytes(carry[:4], "big"):
                continue
            done = record(memoryview(carry)[4:])
            carry = bytearray()
        while not done and len(view) >= 4:
            end = 4 + int.from_bytes(view[:4], "big")
            if len(view) < end:
                break
            done = record(view[4:end])
            view = view[end:]
        if not done and view:
            carry += view
    jobs.put(None)
    jobs.join()
    os.fsync(file.fileno())
    file.close()
    os.replace(temp, out)
    sock.sendall(b"A")
    sock.close()
    print(json.dumps({"cpu_seconds": _cpu() - c0}))


def main(argv: list[str]) -> int:
    if argv[:1] == ["bulk-send"]:
        bulk_send(int(argv[1]), argv[2])
    elif argv[:1] == ["bulk-recv"]:
        bulk_recv(argv[1], argv[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if "parley" in sys.modules:
        raise SystemExit("bench_raw.py: the raw baseline imported parley")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

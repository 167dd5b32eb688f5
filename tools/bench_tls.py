#!/usr/bin/env python3
"""tools/bench's TLS 1.3 baseline programs: Python's ``ssl`` and the standard library only.

This file never imports Parley nor ``cryptography`` (it checks that at exit:
a baseline that loads them would pay Parley's import cost or share its
libraries, and flatter or handicap the comparison).  The certificates and
keys are made by tools/bench beforehand; the private keys are PKCS#8 PEM
encrypted exactly as a Parley key file is (§12: PBES2, PBKDF2-HMAC-SHA-256
with 600000 iterations, AES-256-CBC), so that "key loaded" costs both sides
the same key protection.

  bench_tls.py bulk-server FOLDER OUT READY      receive one file, write it, fsync, rename, ACK
  bench_tls.py bulk-client FOLDER PORT SRC       send one file, wait for the ACK
  bench_tls.py small-server FOLDER OUT READY     the same, as a whole small-transfer program
  bench_tls.py small-client FOLDER PORT SRC

Mutual authentication (client certificates required), no session tickets,
P-384 ECDHE and ECDSA P-384 certificates (Parley suite 2's primitives).  The
receiver writes like ``parley receive``: a temporary file, fsync, rename, then
a one-byte acknowledgement (Parley's ACK).  The JSON line printed by a client
gives ``seconds`` (connect to acknowledgement) and ``cpu_seconds`` (the same
span, user + system, all threads); the server prints ``cpu_seconds`` from the
accept to its end; tools/bench computes CPU per byte from them.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import ssl
import struct
import sys
import time

BUF = 1 << 18  # Parley's record size: read and write in the same pieces
SOCKET_BUFFER = 4 << 20  # as parley.shell.transport
PASSWORD_ENV = "PARLEY_KEY_PASSWORD"  # the same password source as the parley tool


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
        sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)


def context(folder: str, server: bool) -> ssl.SSLContext:
    """TLS 1.3 only, mutual authentication, no tickets, P-384 ECDHE; the key unlocked here."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    me, peer = ("server", "client") if server else ("client", "server")
    ctx.load_cert_chain(
        os.path.join(folder, f"ec-{me}.pem"),
        os.path.join(folder, f"ec-{me}.key"),
        password=os.environ[PASSWORD_ENV],
    )
    ctx.load_verify_locations(os.path.join(folder, f"ec-{peer}.pem"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.check_hostname = False
    ctx.options |= ssl.OP_NO_TICKET
    ctx.set_ecdh_curve("secp384r1")
    return ctx


def _write_ready(path: str, port: int) -> None:
    """The line ``parley receive --ready-file`` writes, atomically (temporary file, rename)."""
    record = {"event": "listening", "host": "127.0.0.1", "pid": os.getpid(), "port": port}
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    os.replace(temp, path)


def server(folder: str, out: str, ready: str) -> None:
    ctx = context(folder, True)
    listener = socket.create_server(("127.0.0.1", 0))
    _write_ready(ready, listener.getsockname()[1])
    raw, _ = listener.accept()
    c0 = _cpu()
    listener.close()
    _tune(raw)
    conn = ctx.wrap_socket(raw, server_side=True)
    buf = memoryview(bytearray(1 << 20))
    head = b""
    while len(head) < 8:
        piece = conn.recv(8 - len(head))
        if not piece:
            raise SystemExit("TLS server: connection ended early")
        head += piece
    (size,) = struct.unpack(">Q", head)
    temp = out + ".part"
    with open(temp, "wb", buffering=0) as f:
        left = size
        while left:
            n = conn.recv_into(buf, min(left, len(buf)))
            if not n:
                raise SystemExit("TLS server: connection ended early")
            view = buf[:n]
            while view:
                view = view[f.write(view) :]
            left -= n
        os.fsync(f.fileno())
    os.replace(temp, out)
    conn.sendall(b"A")
    conn.close()
    print(json.dumps({"cpu_seconds": _cpu() - c0}))


def client(folder: str, port: int, src: str) -> None:
    ctx = context(folder, False)
    with open(src, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        buf = memoryview(bytearray(BUF))
        t0, c0 = time.perf_counter(), _cpu()
        raw = socket.create_connection(("127.0.0.1", port))
        _tune(raw)
        conn = ctx.wrap_socket(raw, server_hostname="localhost")
        conn.sendall(struct.pack(">Q", size))
        while n := f.readinto(buf):
            conn.sendall(buf[:n])
        if conn.recv(1) != b"A":
            raise SystemExit("TLS client: no acknowledgement")
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    conn.close()
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))


def _check_clean() -> None:
    for name in ("parley", "cryptography"):
        if name in sys.modules:
            raise SystemExit(f"bench_tls.py: the TLS baseline imported {name}")


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else ""
    if mode in ("bulk-server", "small-server"):
        server(argv[1], argv[2], argv[3])
    elif mode in ("bulk-client", "small-client"):
        client(argv[1], int(argv[2]), argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    _check_clean()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

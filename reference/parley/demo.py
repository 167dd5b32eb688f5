"""``parley demo``: a newcomer's first run, with no setup at all.

For each suite it makes temporary key files, runs a real receiver and a real
sender (the same code as ``parley receive`` and ``parley send``, in two
threads) over TCP on 127.0.0.1, checks the received file, and then repeats
the transfer through a man in the middle who flips one bit, to show the
receiver refusing it, writing nothing, and the sender learning why.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time

from . import keys
from .errors import ParleyError
from .shell import keyfiles
from .shell.header import FileHeader
from .shell.progress import human_bytes
from .shell.session import SessionFailed, Timeouts, receive, send
from .shell.transport import Listener
from .suites import SUITES

MESSAGE_SIZE = 4 << 20 | 12345
CHUNK = 1 << 18
TIMEOUTS = Timeouts(connect=5.0, handshake=5.0, idle=5.0)


class _BitFlipper:
    """A relay on 127.0.0.1 that flips one bit inside the Emitter's third DATA record."""

    def __init__(self, target_port: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.target_port = target_port
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        emitter, _ = self.server.accept()
        receiver = socket.create_connection(("127.0.0.1", self.target_port))
        threading.Thread(target=self._pipe, args=(receiver, emitter), daemon=True).start()
        buf, frames = bytearray(), 0
        try:
            while data := emitter.recv(1 << 16):
                buf += data
                while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                    n = 4 + int.from_bytes(buf[:4], "big")
                    frame = bytearray(buf[:n])
                    del buf[:n]
                    frames += 1
                    if frames == 5:  # E_HELLO, E_AUTH, DATA 0, DATA 1, DATA 2
                        frame[n // 2] ^= 0x01  # a bit in the middle of the ciphertext
                    receiver.sendall(frame)
            receiver.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            self.server.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _run_pair(own_r, pin_r, own_e, pin_e, source: str, out: str, via_flipper: bool):
    listener = Listener("127.0.0.1", 0)
    port = listener.address[1]
    result: dict = {}

    def receiver() -> None:
        try:
            result["r"] = receive(listener, own_r, pin_r, out, timeouts=TIMEOUTS, fsync=False)
        except SessionFailed as exc:
            result["r"] = exc

    thread = threading.Thread(target=receiver)
    thread.start()
    target = _BitFlipper(port).port if via_flipper else port
    with open(source, "rb", buffering=0) as f:
        try:
            result["e"] = send(
                "127.0.0.1",
                target,
                own_e,
                pin_e,
                f,
                FileHeader("hello.bin", os.path.getsize(source), "application/octet-stream"),
                chunk_size=CHUNK,
                timeouts=TIMEOUTS,
            )
        except SessionFailed as exc:
            result["e"] = exc
    thread.join()
    listener.close()
    return port, result["e"], result["r"]


def _failure(exc: SessionFailed) -> str:
    from .cli import describe

    return describe(exc.error, exc.peer_role)


def _short(fingerprint: str) -> str:
    return fingerprint[:19] + "…"


def demo(out=print) -> int:
    t_start = time.perf_counter()
    work = tempfile.mkdtemp(prefix="parley-demo-")
    try:
        out(
            "Parley v1 demo: two parties on this machine, real TCP over 127.0.0.1 (spec/parley.md)."
        )
        out(f"Everything lives in {work} and is removed at the end.\n")
        password = secrets.token_hex(16).encode()
        pw_file = os.path.join(work, "password")
        fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, password + b"\n")
        os.close(fd)
        source = os.path.join(work, "hello.bin")
        with open(source, "wb") as f:
            f.write(os.urandom(MESSAGE_SIZE))
        with open(source, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        ok = True
        for suite in SUITES.values():
            out(f"== suite {suite.number}: {suite.name}")
            t0 = time.perf_counter()
            paths = {}
            for who in ("alice", "bob"):
                key_path, pub_path, _ = keyfiles.write_key_pair(
                    suite, os.path.join(work, f"{who}-{suite.alias}"), password, force=False
                )
                paths[who] = (key_path, pub_path)
            alice = keyfiles.load_own_key(paths["alice"][0], pw_file)
            bob = keyfiles.load_own_key(paths["bob"][0], pw_file)
            alice_pin = keyfiles.load_peer_key(paths["alice"][1])
            bob_pin = keyfiles.load_peer_key(paths["bob"][1])
            out(
                f"  keys      alice (sender) {_short(keys.fingerprint(alice))}, bob (receiver) "
                f"{_short(keys.fingerprint(bob))}: {1000 * (time.perf_counter() - t0):.0f} ms"
            )
            out(f"            as with: parley keygen --suite {suite.alias} --out alice")
            inbox = os.path.join(work, f"inbox-{suite.alias}")
            os.mkdir(inbox)
            port, sent, got = _run_pair(
                bob, alice_pin, alice, bob_pin, source, inbox + os.sep, via_flipper=False
            )
            out(
                f"  receive   bob listened on 127.0.0.1:{port}; as with: parley receive "
                f"--listen 127.0.0.1:{port} --key bob.key --peer alice.pub --out inbox/"
            )
            out(
                f"  send      as with: parley send --connect 127.0.0.1:{port} --key alice.key "
                f"--peer bob.pub hello.bin"
            )
            if isinstance(sent, SessionFailed) or isinstance(got, SessionFailed):
                out(f"  FAILED    {_failure(sent if isinstance(sent, SessionFailed) else got)}")
                ok = False
                continue
            records = -(-MESSAGE_SIZE // CHUNK)
            same = sent.transcript_hash == got.transcript_hash
            out(
                f"  handshake E_HELLO, R_HELLO, E_AUTH (§5): both hold transcript hash "
                f"{got.transcript_hash[:16]}… ({'equal' if same else 'DIFFERENT'})"
            )
            with open(got.path, "rb") as f:
                written = hashlib.sha256(f.read()).hexdigest()
            out(
                f"  data      {records} DATA records + FINAL: {human_bytes(got.bytes)} in "
                f"{got.seconds * 1000:.0f} ms; bob wrote {os.path.relpath(got.path, work)}, "
                f"SHA-256 {'matches' if written == digest else 'DIFFERS'}"
            )
            out(f"  ack       alice: the receiver acknowledged all {sent.bytes} bytes (§7.4)")
            ok = ok and same and written == digest
            attacked = os.path.join(work, f"attacked-{suite.alias}.bin")
            _, sent, got = _run_pair(
                bob, alice_pin, alice, bob_pin, source, attacked, via_flipper=True
            )
            refused = isinstance(got, SessionFailed) and isinstance(sent, SessionFailed)
            out("  attack    a man in the middle flips one bit of DATA record 2:")
            if refused:
                out(
                    f"            bob:   {_failure(got)}; wrote nothing "
                    f"({'no file' if not os.path.exists(attacked) else 'A FILE EXISTS'})"
                )
                out(f"            alice: {_failure(sent)}")
            else:
                out("            NOT DETECTED")
            ok = ok and refused and not os.path.exists(attacked)
            out("")
        out(
            f"{'All sessions behaved as specified' if ok else 'SOMETHING WENT WRONG'} "
            f"({time.perf_counter() - t_start:.1f} s). Next: parley --help, docs/tool.md."
        )
        return 0 if ok else 1
    except (ParleyError, OSError) as exc:
        out(f"demo failed: {exc}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(demo())

"""``parley receive`` as a service (docs/tool.md, "Serving"): real processes, real TCP.

What the checks come from: docs/tool.md's promises for a serving receiver
and §9.3 (a failure ends that session, and only that one).  A listener
that meets garbage, an idle socket, a trickle, an unauthenticated or
failing peer logs one line per session and still serves the next sender;
concurrent senders' files all land intact; the bounds on sessions at once
and per source address hold; SIGTERM stops it cleanly (exit 0, no part files).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from parley import Emitter, SessionConfig, SystemEntropy, keys
from parley.events import HandshakeComplete
from tool_harness import PASSWORD, Receiver, key_args, keypair, send, sha256_file

SLACK = 5.0


def _server(folder: Path, *extra: str) -> Receiver:
    return Receiver(
        *key_args("ec", "bob", "alice"), "--out", str(folder) + os.sep, *extra, once=False
    )


def _session_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith("parley: session ")]


def _source(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(os.urandom(size))
    return path


# Hostile or broken connections: (label, bytes sent, then the end; the receiver's error).
HOSTILE = [
    ("8 bytes of text", b"garbage!", "FRAME_TOO_LARGE"),  # "garb" as a length prefix
    ("a frame of junk", b"\x00\x00\x00\x04\xff\xff\xff\xff", "DECODE_ERROR"),
    ("half an E_HELLO", b"\x00\x00\x00\x40\xa4\x00", "TRUNCATED"),
    ("connect and close", b"", "TRUNCATED"),
]


def test_hostile_connections_do_not_stop_the_listener(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = _server(inbox, "--handshake-timeout", "30")
    idle = socket.create_connection(("127.0.0.1", receiver.port))  # held open throughout
    for _, data, _ in HOSTILE:
        with socket.create_connection(("127.0.0.1", receiver.port)) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(30)
            while sock.recv(4096):  # until the receiver closes its side
                pass
    # An authenticated-looking sender with the wrong key: BAD_SIGNATURE, one line.
    src = _source(tmp_path, "report.bin", 300_000)
    wrong = send(receiver.port, *key_args("ec", "carol", "bob"), str(src))
    assert wrong.code == 1
    # ... and then a real transfer, with the idle connection still holding a slot.
    ok = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    assert ok.code == 0, ok.stderr
    idle.close()
    got = receiver.stop()
    assert got.code == 0, got.stderr
    lines = _session_lines(got.stderr)
    failed = [ln for ln in lines if " failed: " in ln]
    # One line per hostile connection, naming the registry error; the idle one too
    # (closed by us before the stop); the wrong key; nothing else failed.
    for label, _, error in HOSTILE:
        assert any(error in ln for ln in failed), (label, failed)
    assert any("BAD_SIGNATURE" in ln or "KEY_CONFIRMATION" in ln for ln in failed), failed
    # The idle one ended as TRUNCATED, or, if the stop came first, was stopped.
    stopped = [ln for ln in lines if "stopped before it completed" in ln]
    assert len(failed) + len(stopped) == len(HOSTILE) + 2, lines
    assert sum(" received " in ln for ln in lines) == 1, lines
    assert re.search(r"stopped: 1 received, \d+ failed", got.stderr), got.stderr
    assert sha256_file(str(inbox / "report.bin")) == sha256_file(str(src))
    assert sorted(os.listdir(inbox)) == ["report.bin"]  # no part file left


def test_concurrent_senders_all_land_intact(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    n = 6
    receiver = _server(inbox, "--max-sessions", "8", "--max-per-source", "8")
    sources = [_source(tmp_path, f"f{i}.bin", 50_000 + 97_013 * i) for i in range(n)]
    results: list = [None] * n

    def one(i: int) -> None:
        results[i] = send(receiver.port, *key_args("ec", "alice", "bob"), str(sources[i]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    got = receiver.stop()
    assert all(r is not None and r.code == 0 for r in results), [r and r.stderr for r in results]
    assert got.code == 0, got.stderr
    for src in sources:
        assert sha256_file(str(inbox / src.name)) == sha256_file(str(src)), src.name
    assert sorted(os.listdir(inbox)) == sorted(s.name for s in sources)
    assert f"stopped: {n} received, 0 failed" in got.stderr, got.stderr


def test_sessions_at_once_are_bounded_and_a_slot_frees_at_the_handshake_deadline(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = _server(inbox, "--max-sessions", "1", "--handshake-timeout", "1.5")
    idle = socket.create_connection(("127.0.0.1", receiver.port))
    time.sleep(0.3)  # accepted: it holds the only slot
    src = _source(tmp_path, "late.bin", 1000)
    t0 = time.monotonic()
    sent = send(
        receiver.port, *key_args("ec", "alice", "bob"), "--handshake-timeout", "20", str(src)
    )
    waited = time.monotonic() - t0
    idle.close()
    got = receiver.stop()
    assert sent.code == 0, sent.stderr
    assert waited >= 1.0  # it had to wait for the idle one's handshake deadline
    assert any("TIMEOUT" in ln and "the handshake" in ln for ln in _session_lines(got.stderr))
    assert (inbox / "late.bin").read_bytes() == src.read_bytes()


def test_sessions_per_source_address_are_bounded(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = _server(inbox, "--max-per-source", "1", "--handshake-timeout", "30")
    # Another source address (127.0.0.2) holds one session: it does not count against
    # 127.0.0.1, where the sender comes from.
    other = socket.create_connection(("127.0.0.1", receiver.port), source_address=("127.0.0.2", 0))
    src = _source(tmp_path, "a.bin", 1000)
    assert send(receiver.port, *key_args("ec", "alice", "bob"), str(src)).code == 0
    # Now 127.0.0.1 holds one session: the next connection from there is closed at once.
    mine = socket.create_connection(("127.0.0.1", receiver.port))
    time.sleep(0.3)
    t0 = time.monotonic()
    over = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    assert over.code == 1 and time.monotonic() - t0 < SLACK
    mine.close()
    other.close()
    got = receiver.stop()
    assert any("refused" in ln and "--max-per-source" in ln for ln in _session_lines(got.stderr))
    assert "1 refused" in got.stderr, got.stderr


def _trickle(port: int, every: float, stop: threading.Event) -> None:
    """Complete the handshake, then send a DATA record one byte at a time."""
    own = keys.load_private_key(Path(keypair("ec", "alice")[0]).read_bytes(), PASSWORD.encode())
    peer = keys.load_public_key(Path(keypair("ec", "bob")[1]).read_bytes())
    e = Emitter(SessionConfig(own, peer, SystemEntropy(), chunk_size=4096))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        e.start()
        sock.sendall(e.data_to_send())
        seen: list = []
        while not any(isinstance(ev, HandshakeComplete) for ev in seen):
            seen += e.receive_data(sock.recv(65536))
        sock.sendall(e.data_to_send())
        e.send_data(b"x" * 4096)
        record = e.data_to_send()
        try:
            for i in range(len(record)):
                if stop.is_set():
                    return
                sock.sendall(record[i : i + 1])
                time.sleep(every)
        except OSError:
            return  # the receiver gave up on us: what the test wants


def test_a_trickle_cannot_hold_a_slot(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = _server(inbox, "--min-rate", "1000", "--rate-grace", "1", "--idle-timeout", "30")
    stop = threading.Event()
    t0 = time.monotonic()
    thread = threading.Thread(target=_trickle, args=(receiver.port, 0.2, stop))
    thread.start()
    thread.join(30)
    lasted = time.monotonic() - t0
    stop.set()
    src = _source(tmp_path, "after.bin", 5000)
    assert send(receiver.port, *key_args("ec", "alice", "bob"), str(src)).code == 0
    got = receiver.stop()
    # The idle timeout (30 s) never expired: the minimum rate ended it.
    assert lasted < 1 + SLACK, lasted
    slow = [ln for ln in _session_lines(got.stderr) if "too slow" in ln]
    assert len(slow) == 1 and "TIMEOUT (68, §13.2)" in slow[0], got.stderr
    assert "1000 bytes/s" in slow[0]
    assert sorted(os.listdir(inbox)) == ["after.bin"]


def test_sigterm_during_a_session_removes_its_part_file(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = _server(inbox, "--min-rate", "0")
    stop = threading.Event()
    thread = threading.Thread(target=_trickle, args=(receiver.port, 0.05, stop))
    thread.start()
    deadline = time.monotonic() + 30
    while not any(n.endswith(".parley-part") for n in os.listdir(inbox)):
        assert time.monotonic() < deadline, "no part file appeared"
        time.sleep(0.05)
    got = receiver.stop(30)
    stop.set()
    thread.join(30)
    assert got.code == 0, got.stderr
    assert os.listdir(inbox) == []
    assert "stopped before it completed" in got.stderr, got.stderr


@pytest.mark.parametrize("args", [["--out", "-"]])
def test_standard_output_needs_once(args, tmp_path):
    from tool_harness import parley

    run = parley("receive", "--listen", "127.0.0.1:0", *key_args("ec", "bob", "alice"), *args)
    assert run.returncode == 2 and b"--once" in run.stderr

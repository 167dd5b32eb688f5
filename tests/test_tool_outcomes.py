"""Exact outcomes (docs/tool.md, "Exit status" and "What each side guarantees"): real processes.

* a receiver succeeds once the file is committed and the ACK handed to the
  transport, whatever the transport does afterwards (§7.4, §14);
* a sender whose ACK verified succeeds even if bytes follow it (§9.3, last
  paragraph: the session stays DONE);
* local failures have their own messages and exit statuses, never
  ``INTERNAL_ERROR`` (which docs/tool.md reserves for bugs);
* timeouts that are not finite, or absurd, are refused by the argument parser;
* a sender's Ctrl-C reaches the receiver as the end of the stream (TRUNCATED),
  not as ``INTERNAL_ERROR``.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from parley import Emitter, Receiver as CoreReceiver, SessionConfig, SystemEntropy, keys
from parley.events import EndOfStream, HandshakeComplete
from tool_harness import PASSWORD, Receiver, env, finish, key_args, keypair, parley, send, spawn


def _keys(me: str, peer: str):
    own = keys.load_private_key(Path(keypair("ec", me)[0]).read_bytes(), PASSWORD.encode())
    return own, keys.load_public_key(Path(keypair("ec", peer)[1]).read_bytes())


def test_a_reset_after_the_ack_is_still_success_for_the_receiver(tmp_path):
    out = tmp_path / "x.bin"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
    e = Emitter(SessionConfig(*_keys("alice", "bob"), SystemEntropy()))
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=30) as sock:
        e.start()
        sock.sendall(e.data_to_send())
        seen: list = []
        while not any(isinstance(ev, HandshakeComplete) for ev in seen):
            seen += e.receive_data(sock.recv(65536))
        e.send_data(b"committed before the reset")
        e.end_stream()
        sock.sendall(e.data_to_send())
        assert select.select([sock], [], [], 30)[0]  # the ACK has arrived; not read
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    got = receiver.wait()  # the connection was reset (RST) with the ACK unread
    assert got.code == 0, got.stderr
    assert "sent the acknowledgement" in got.stderr and "failed" not in got.stderr
    assert out.read_bytes() == b"committed before the reset"


def _acking_receiver(server: socket.socket, trailer: bytes, done: threading.Event) -> None:
    r = CoreReceiver(SessionConfig(*_keys("bob", "alice"), SystemEntropy()))
    conn, _ = server.accept()
    with conn:
        conn.settimeout(30)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                events = r.receive_data(data)
                if any(isinstance(ev, EndOfStream) for ev in events):
                    if hasattr(r, "acknowledge"):
                        r.acknowledge()
                    conn.sendall(r.data_to_send() + trailer)  # ACK and garbage, one write
                    return
                conn.sendall(r.data_to_send())
        finally:
            done.set()


@pytest.mark.parametrize(
    "trailer", [b"\x00\x00\x00\x02\xa0\x00", b"junk"], ids=["a frame", "a partial frame"]
)
def test_bytes_after_a_verified_ack_keep_the_senders_success(trailer, tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(b"hello")
    server = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()
    threading.Thread(target=_acking_receiver, args=(server, trailer, done), daemon=True).start()
    try:
        sent = send(server.getsockname()[1], *key_args("ec", "alice", "bob"), str(src))
    finally:
        done.wait(30)
        server.close()
    assert sent.code == 0, sent.stderr
    assert "the receiver acknowledged all 5 bytes" in sent.stderr


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


# (label, command line after `parley`, exit status, words in the one line).
def _local_cases(tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes(b"x")
    busy = socket.create_server(("127.0.0.1", 0))
    send_keys = key_args("ec", "alice", "bob")
    recv_keys = key_args("ec", "bob", "alice")
    return busy, [
        (
            "connection refused",
            ["send", "--connect", f"127.0.0.1:{_free_port()}", *send_keys, str(src)],
            4,
            "connection refused",
        ),
        (
            "unknown host",
            ["send", "--connect", "no-such-host.invalid:4433", *send_keys, str(src)],
            4,
            "cannot resolve no-such-host.invalid",
        ),
        (
            "address in use",
            [
                "receive",
                "--once",
                "--listen",
                f"127.0.0.1:{busy.getsockname()[1]}",
                *recv_keys,
                "--out",
                str(tmp_path / "o"),
            ],
            4,
            "cannot listen on 127.0.0.1",
        ),
        (
            "missing input",
            ["send", "--connect", "127.0.0.1:9", *send_keys, str(tmp_path / "missing")],
            3,
            "cannot open",
        ),
        (
            "input is a folder",
            ["send", "--connect", "127.0.0.1:9", *send_keys, str(tmp_path)],
            3,
            "is a directory",
        ),
    ]


def test_local_failures_have_their_own_messages_and_exit_statuses(tmp_path):
    busy, cases = _local_cases(tmp_path)
    with busy:
        for label, argv, status, words in cases:
            run = parley(*argv, timeout=60)
            err = run.stderr.decode()
            assert run.returncode == status, (label, run.returncode, err)
            lines = err.splitlines()
            assert len(lines) == 1 and words.lower() in lines[0].lower(), (label, lines)
            assert "INTERNAL_ERROR" not in err and "Traceback" not in err, (label, err)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "86401", "-1", "ten"])
@pytest.mark.parametrize("flag", ["--idle-timeout", "--handshake-timeout", "--connect-timeout"])
def test_timeouts_that_are_not_finite_or_absurd_are_refused(flag, value):
    run = parley(
        "send",
        "--connect",
        "127.0.0.1:9",
        *key_args("ec", "alice", "bob"),
        f"{flag}={value}",
        "m.txt",
        timeout=60,
    )
    err = run.stderr.decode()
    assert run.returncode == 2, err
    assert flag in err and "Traceback" not in err, err


def test_a_senders_ctrl_c_is_the_end_of_the_stream_at_the_receiver(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}")
    sender = spawn(
        [
            sys.executable,
            "-m",
            "parley.cli",
            "send",
            "--connect",
            f"127.0.0.1:{receiver.port}",
            *key_args("ec", "alice", "bob"),
            "--name",
            "stream.bin",
            "--chunk-size",
            "1024",
            "-",
        ],
        env(),
        stdin=subprocess.PIPE,
    )
    sender.stdin.write(os.urandom(4096))
    sender.stdin.flush()
    deadline = time.monotonic() + 60
    while not any(n.endswith(".parley-part") for n in os.listdir(inbox)):
        assert time.monotonic() < deadline and sender.poll() is None, "no transfer started"
        time.sleep(0.05)
    os.kill(sender.pid, signal.SIGINT)
    _, err = finish(sender, 60, "parley send (after SIGINT)")
    got = receiver.wait()
    assert sender.returncode == 130, err
    assert b"interrupted" in err
    assert got.code == 1 and "TRUNCATED (14, §7.5)" in got.lines[0], got.lines
    assert "INTERNAL_ERROR" not in got.stderr
    assert os.listdir(inbox) == []


def _whole_flight(port: int, header: bytes, message: bytes) -> str:
    """A hand-driven Emitter that sends E_AUTH, the DATA records and FINAL in one write;
    returns what it learned: the receiver's registry name from its ABORT, or another outcome."""
    from parley.errors import ParleyError, PeerAborted

    e = Emitter(SessionConfig(*_keys("alice", "bob"), SystemEntropy(), app_header=header))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        e.start()
        sock.sendall(e.data_to_send())
        seen: list = []
        while not any(isinstance(ev, HandshakeComplete) for ev in seen):
            seen += e.receive_data(sock.recv(65536))
        e.send_data(message)
        e.end_stream()
        sock.sendall(e.data_to_send())  # the whole flight in one segment
        try:
            while data := sock.recv(65536):
                e.receive_data(data)
            e.receive_eof()
        except PeerAborted as exc:
            return exc.peer_error.name
        except ParleyError as exc:
            return f"failed {exc.error.name}"
    return "acknowledged"


def _cbor_header(**fields) -> bytes:
    import cbor2

    return cbor2.dumps(fields, canonical=True)


# (label, receiver's extra arguments, header, message, the code the sender must see)
REFUSALS = [
    (
        "larger than --max-size",
        ["--max-size", "10"],
        _cbor_header(name="r.bin", size=50),
        b"x" * 50,
        "LIMIT_EXCEEDED",
    ),
    (
        "size that contradicts the header",
        [],
        _cbor_header(name="r.bin", size=7),
        b"x" * 50,
        "LENGTH_MISMATCH",
    ),
    ("header that is not a map", [], b"\x01", b"x" * 50, "SCHEMA_VIOLATION"),
    (
        "name that exists (no --force)",
        [],
        _cbor_header(name="taken.bin"),
        b"x" * 50,
        "INTERNAL_ERROR",
    ),
]


@pytest.mark.parametrize("label,extra,header,message,code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refusal_reaches_the_sender_even_when_the_whole_flight_arrives_at_once(
    label, extra, header, message, code, tmp_path
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "taken.bin").write_bytes(b"old")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}", *extra)
    told = _whole_flight(receiver.port, header, message)
    got = receiver.wait()
    assert told == code, (told, got.stderr)  # never an ACK, never a bare TRUNCATED
    assert got.code != 0
    assert (
        sorted(os.listdir(inbox)) == ["taken.bin"] and (inbox / "taken.bin").read_bytes() == b"old"
    )

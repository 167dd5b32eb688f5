"""Timeouts of the tool's shells (§13.2): silent peers and stalls end in TIMEOUT (68).

Short timeouts keep the tests quick; the checks are that the right side
gives up with the registry error, within the configured time (plus process
start-up slack), and leaves nothing behind.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from tcp_proxy import FrameProxy
from tool_harness import Receiver, key_args, send

SLACK = 5.0  # process start and a loaded machine


def test_silent_sender_makes_the_receiver_give_up(tmp_path):
    out = tmp_path / "x.bin"
    receiver = Receiver(
        *key_args("ec", "bob", "alice"), "--out", str(out), "--handshake-timeout", "0.5"
    )
    with socket.create_connection(("127.0.0.1", receiver.port)) as sock:
        t0 = time.monotonic()
        got = receiver.wait(30)
        waited = time.monotonic() - t0
        # The receiver sent ABORT(INTERNAL_ERROR): TIMEOUT is local (§11), then closed.
        assert sock.recv(100) == b"\x00\x00\x00\x05\xa2\x00\x07\x09\x11"
    assert got.code == 1
    assert len(got.lines) == 1, got.lines
    # The message names the configured limit (not the time that was left).
    assert got.lines[0] == (
        "parley: receive failed: TIMEOUT (68, §13.2): the handshake: not done within 0.5 s"
    ), got.lines
    assert 0.5 <= waited < 0.5 + SLACK
    assert not out.exists() and os.listdir(tmp_path) == []


def test_silent_receiver_makes_the_sender_give_up(tmp_path):
    src = tmp_path / "m.txt"
    src.write_bytes(b"x" * 1000)
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    try:
        sent = send(
            server.getsockname()[1],
            *key_args("ec", "alice", "bob"),
            "--handshake-timeout",
            "0.5",
            str(src),
        )
    finally:
        server.close()
        for conn, _ in accepted:
            conn.close()
    assert sent.code == 1
    assert len(sent.lines) == 1, sent.lines
    assert sent.lines[0] == (
        "parley: send failed: TIMEOUT (68, §13.2): the handshake: not done within 0.5 s"
    ), sent.lines
    assert sent.seconds < 0.5 + SLACK


def test_stall_in_the_data_phase_hits_the_idle_timeout(tmp_path):
    """The handshake completes, then the network stops moving bytes."""
    out = tmp_path / "x.bin"
    out.write_bytes(b"keep me")
    src = tmp_path / "m.bin"
    src.write_bytes(os.urandom(1 << 20))
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out), "--idle-timeout", "0.7")
    proxy = FrameProxy(receiver.port, "stall")
    try:
        sent = send(proxy.port, *key_args("ec", "alice", "bob"), "--idle-timeout", "0.7", str(src))
        got = receiver.wait(30)
    finally:
        proxy.close()
    assert proxy.acted.is_set()
    assert got.code == 1 and len(got.lines) == 1, got.lines
    assert got.lines[0].startswith("parley: receive failed: TIMEOUT (68, §13.2): waiting for data")
    assert sent.code == 1 and "acknowledged" not in sent.stderr
    # Either the sender's own idle timeout fired, or the receiver's ABORT got through
    # first: a local error such as TIMEOUT travels as INTERNAL_ERROR (§11).
    assert (
        "TIMEOUT (68, §13.2)" in sent.lines[0]
        or "the receiver aborted with INTERNAL_ERROR (17, §11)" in sent.lines[0]
    ), sent.lines
    assert out.read_bytes() == b"keep me" and sorted(os.listdir(tmp_path)) == ["m.bin", "x.bin"]


def test_nobody_listening_is_a_clear_error(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    src = tmp_path / "m.txt"
    src.write_bytes(b"x")
    sent = send(port, *key_args("ec", "alice", "bob"), str(src))
    assert sent.code == 4  # the network, not the session (docs/tool.md, exit status)
    assert len(sent.lines) == 1
    assert "INTERNAL_ERROR" not in sent.lines[0]
    assert "cannot connect to 127.0.0.1" in sent.lines[0] and "refused" in sent.lines[0].lower()

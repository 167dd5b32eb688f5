"""A man in the middle between ``parley send`` and ``parley receive`` (real processes, real TCP).

For each attack the spec names the error (§7.3, §7.5, §13.4): the receiver
exits non-zero with one line naming it, leaves no output file (and an
existing file of that name untouched, with no temporary file left over),
and the sender does not report success.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tcp_proxy import FrameProxy
from tool_harness import Receiver, key_args, send, workdir

RECORD = 64 * 1024
SIZE = 24 * RECORD + 1234  # 25 DATA records
ATTACKS = {
    # mode: (receiver's error, what the sender may report)
    "flip": ("BAD_RECORD_MAC (11, §7.3)", ("PEER_ABORTED",)),
    "drop": ("RECORD_OUT_OF_ORDER (12, §7.3)", ("PEER_ABORTED",)),
    "swap": ("RECORD_OUT_OF_ORDER (12, §7.3)", ("PEER_ABORTED",)),
    "cut": ("TRUNCATED (14, §7.5)", ("TRUNCATED", "PEER_ABORTED")),
}


def _source() -> str:
    path = os.path.join(workdir(), "attack-input.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(os.urandom(SIZE))
    return path


# The record layer is the same in both suites (§7): every attack in suite 2, one in suite 1.
@pytest.mark.parametrize("mode,suite", [(m, "ec") for m in ATTACKS] + [("flip", "dh")])
def test_attack_is_refused_and_nothing_is_written(mode, suite, tmp_path):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"the previous version")
    receiver = Receiver(
        *key_args(suite, "bob", "alice"),
        "--out",
        str(out),
        "--handshake-timeout",
        "20",
        "--idle-timeout",
        "20",
    )
    proxy = FrameProxy(receiver.port, mode, record=3)
    try:
        sent = send(
            proxy.port,
            *key_args(suite, "alice", "bob"),
            "--chunk-size",
            str(RECORD),
            "--idle-timeout",
            "20",
            _source(),
        )
        got = receiver.wait()
    finally:
        proxy.close()
    assert proxy.acted.is_set()
    expected, sender_errors = ATTACKS[mode]
    # The receiver: non-zero, one line, naming the registry error.
    assert got.code == 1, got.stderr
    assert len(got.lines) == 1, got.lines
    assert got.lines[0].startswith(f"parley: receive failed: {expected}"), got.lines
    # Nothing written: the old file is intact and no temporary file is left.
    assert out.read_bytes() == b"the previous version"
    assert os.listdir(tmp_path) == ["report.pdf"]
    # The sender does not claim success, and says why in one line.
    assert sent.code == 1, sent.stderr
    assert "acknowledged" not in sent.stderr
    assert len(sent.lines) == 1 and sent.lines[0].startswith("parley: send failed: ")
    assert any(name in sent.lines[0] for name in sender_errors), sent.lines
    if "PEER_ABORTED" in sent.lines[0]:
        # The receiver's code travels in its ABORT (§5.7) and the sender names it.
        assert f"the receiver aborted with {expected}" in sent.lines[0], sent.lines


def test_no_output_file_when_none_existed(tmp_path):
    out = tmp_path / "new.bin"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
    proxy = FrameProxy(receiver.port, "flip", record=0)
    try:
        sent = send(
            proxy.port, *key_args("ec", "alice", "bob"), "--chunk-size", str(RECORD), _source()
        )
        got = receiver.wait()
    finally:
        proxy.close()
    assert got.code == 1 and sent.code == 1
    assert os.listdir(tmp_path) == []


def test_clean_proxy_changes_nothing(tmp_path):
    """The proxy itself is transparent: without an edit the transfer succeeds."""
    out = tmp_path / "ok.bin"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
    proxy = FrameProxy(receiver.port, "pass")
    try:
        sent = send(
            proxy.port, *key_args("ec", "alice", "bob"), "--chunk-size", str(RECORD), _source()
        )
        got = receiver.wait()
    finally:
        proxy.close()
    assert sent.code == 0 and got.code == 0, sent.stderr + got.stderr
    assert out.read_bytes() == Path(_source()).read_bytes()

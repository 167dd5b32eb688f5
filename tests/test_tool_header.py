"""The tool's application header (§7.1, §14; docs/tool.md): names are sanitised, sizes checked.

The sanitising rules are checked on a table written from the rules in
docs/tool.md (not from the code), end to end with a sender that announces a
hostile name, and with a hand-driven Emitter whose header lies about the size.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import cbor2
import pytest

from parley import Emitter, SessionConfig, SystemEntropy, keys
from parley.errors import ParleyError
from parley.events import HandshakeComplete
from parley.shell import header
from tool_harness import PASSWORD, Receiver, key_args, keypair, send

# (name as sent, file name used by `receive --out DIR/`); None: no usable name.
NAMES = [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..", None),
    (".", None),
    ("...", None),
    ("/", None),
    ("", None),
    ("a/b/c.txt", "c.txt"),
    ("C:\\Windows\\system.ini", "system.ini"),
    ("dir/", "dir"),
    (".bashrc", "bashrc"),
    ("..hidden", "hidden"),
    ("  spaced.txt  ", "spaced.txt"),
    ("trailing.", "trailing"),
    ("bell\x07.txt", "bell.txt"),
    ("esc\x1b[31mred", "esc[31mred"),
    ("nul\x00byte", "nulbyte"),
    ("rtl\u202egnp.exe", "rtlgnp.exe"),  # a bidirectional override (Cf)
    ("line\u2028sep", "linesep"),
    (".\x01.", None),  # dots around a control character
    ("café.txt", "café.txt"),
    ("日本語.txt", "日本語.txt"),
    ("x" * 300, "x" * 255),
    ("é" * 200, "é" * 127),  # 255 bytes of UTF-8, whole characters only
]


@pytest.mark.parametrize("sent,used", NAMES)
def test_sanitise_name(sent, used):
    assert header.sanitise_name(sent) == used


def test_header_encoding_is_deterministic_cbor():
    raw = header.FileHeader("a.txt", 5, "text/plain").encode()
    # Independent decoder; keys in bytewise order of their encodings (§4.2).
    assert cbor2.loads(raw) == {"name": "a.txt", "size": 5, "type": "text/plain"}
    assert raw == bytes.fromhex(
        "a3646e616d6565612e7478746473697a650564747970656a746578742f706c61696e"
    )
    assert header.FileHeader().encode() == b""


@pytest.mark.parametrize(
    "raw,error",
    [
        (cbor2.dumps([1, 2]), "SCHEMA_VIOLATION"),
        (cbor2.dumps({"name": 5}), "SCHEMA_VIOLATION"),
        (cbor2.dumps({"size": "big"}), "SCHEMA_VIOLATION"),
        (cbor2.dumps({"size": -1}), "SCHEMA_VIOLATION"),
        (cbor2.dumps({"size": True}), "SCHEMA_VIOLATION"),
        (b"\xa1\x64name", "DECODE_ERROR"),  # truncated
        (bytes.fromhex("a2647479706561616473697a6501"), "NON_DETERMINISTIC_CBOR"),  # unsorted keys
    ],
)
def test_bad_headers_are_refused(raw, error):
    with pytest.raises(ParleyError) as info:
        header.decode(raw)
    assert info.value.error.name == error


def test_unknown_keys_are_ignored():
    raw = cbor2.dumps({"name": "a", "future": 1}, canonical=True)
    assert header.decode(raw) == header.FileHeader("a", None, None)


def test_hostile_name_stays_in_the_folder(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = tmp_path / "m.txt"
    src.write_bytes(b"payload")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(inbox) + os.sep)
    sent = send(
        receiver.port, *key_args("ec", "alice", "bob"), "--name", "../../escape\x1b.txt", str(src)
    )
    got = receiver.wait()
    assert sent.code == 0 and got.code == 0, got.stderr
    assert os.listdir(inbox) == ["escape.txt"]
    assert (inbox / "escape.txt").read_bytes() == b"payload"
    assert sorted(os.listdir(tmp_path)) == ["inbox", "m.txt"]


def test_existing_file_in_folder_is_not_replaced_without_force(tmp_path):
    (tmp_path / "m.txt").write_bytes(b"old")
    src = tmp_path / "src" / "m.txt"
    src.parent.mkdir()
    src.write_bytes(b"new")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(tmp_path) + os.sep)
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    got = receiver.wait()
    # A local refusal (exit 3, docs/tool.md); the sender hears it from the ABORT.
    assert got.code == 3 and "exists" in got.lines[0] and "--force" in got.lines[0]
    assert sent.code == 1 and "the receiver aborted with INTERNAL_ERROR" in sent.lines[0]
    assert (tmp_path / "m.txt").read_bytes() == b"old"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(tmp_path) + os.sep, "--force")
    assert send(receiver.port, *key_args("ec", "alice", "bob"), str(src)).code == 0
    assert receiver.wait().code == 0
    assert (tmp_path / "m.txt").read_bytes() == b"new"


def _lying_emitter(port: int, announced: int, actual: bytes) -> list[str]:
    """Drive an Emitter by hand whose header announces ``announced`` bytes."""
    own = keys.load_private_key(Path(keypair("ec", "alice")[0]).read_bytes(), PASSWORD.encode())
    peer = keys.load_public_key(Path(keypair("ec", "bob")[1]).read_bytes())
    hdr = cbor2.dumps({"name": "lie.bin", "size": announced}, canonical=True)
    e = Emitter(SessionConfig(own, peer, SystemEntropy(), app_header=hdr, chunk_size=4))
    seen = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        e.start()
        sock.sendall(e.data_to_send())
        while not any(isinstance(ev, HandshakeComplete) for ev in seen):
            seen += e.receive_data(sock.recv(65536))
        e.send_data(actual)
        e.end_stream()
        sock.sendall(e.data_to_send())
        try:
            while data := sock.recv(65536):
                e.receive_data(data)
            e.receive_eof()
        except ParleyError as exc:
            return [exc.error.name, getattr(exc, "peer_error", None) and exc.peer_error.name]
    return ["acknowledged"]


@pytest.mark.parametrize("announced,actual", [(5, b"0123456789"), (50, b"0123456789")])
def test_size_that_does_not_match_the_header_is_refused(announced, actual, tmp_path):
    out = tmp_path / "lie.bin"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
    told = _lying_emitter(receiver.port, announced, actual)
    got = receiver.wait()
    assert got.code == 1
    assert got.lines[0].startswith("parley: receive failed: LENGTH_MISMATCH (13, §7.4): ")
    # No ACK: the receiver's ABORT names the error, or, if FINAL arrived in the same
    # read as the excess (the core then holds a completed session), it just closes.
    assert told in (["PEER_ABORTED", "LENGTH_MISMATCH"], ["TRUNCATED", None]), told
    assert os.listdir(tmp_path) == []

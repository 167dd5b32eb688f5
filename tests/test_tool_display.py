"""Peer-controlled strings on the terminal and in logs (docs/tool.md, "What is shown").

The sender announces a name and a media type full of terminal escapes,
newlines and bidirectional overrides; neither side's stderr may then carry
one raw control or bidirectional character, and each shows the escaped
form.  The character classes come from the manual (C0/C1 controls, DEL,
U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+2028/U+2029), not from the code.
"""

from __future__ import annotations

import json
import os

from tool_harness import Receiver, key_args, send

RAW = (
    [chr(c) for c in range(0x00, 0x20) if c != 0x0A]  # the line structure is checked apart
    + ["\x7f"]
    + [chr(c) for c in range(0x80, 0xA0)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c", "\u2028", "\u2029", "\ufeff"]
)
HOSTILE = "evil\x1b]0;owned\x07\x1b[2J\nparley: received everything\r\u202etxt.exe\u2066"


def test_names_and_types_are_shown_escaped(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = tmp_path / "m.bin"
    src.write_bytes(b"payload")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}", once=False)
    sent = send(
        receiver.port,
        *key_args("ec", "alice", "bob"),
        "--name",
        HOSTILE,
        "--type",
        "text/\x1b[31mred\u202e",
        str(src),
    )
    got = receiver.stop()
    assert sent.code == 0 and got.code == 0, (sent.stderr, got.stderr)
    for who, text in (("sender", sent.stderr), ("receiver", got.stderr)):
        bad = sorted({f"U+{ord(ch):04X}" for ch in text if ch in RAW})
        assert not bad, f"{who} printed raw {bad}: {text!r}"
        # The forged line did not become a line of its own.
        assert not any(ln.startswith("parley: received everything") for ln in text.splitlines())
        assert "\\x1b]0;owned\\x07" in text and "\\u202etxt.exe" in text and "\\n" in text, text
    # The name on disk is sanitised (docs/tool.md, "The application header").
    (name,) = os.listdir(inbox)
    assert not any(ch in RAW or ch == "\n" for ch in name), repr(name)


def test_json_summaries_carry_no_raw_control_characters(tmp_path):
    out = tmp_path / "x.bin"
    src = tmp_path / "m.bin"
    src.write_bytes(b"payload")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out), "--json")
    sent = send(
        receiver.port, *key_args("ec", "alice", "bob"), "--json", "--name", HOSTILE, str(src)
    )
    got = receiver.wait()
    for text in (sent.stdout, got.stdout):
        assert text.isascii() and json.loads(text)["name"] == HOSTILE

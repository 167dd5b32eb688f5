"""``parley receive --ready-file``: the explicit readiness channel (docs/tool.md, "Scripts").

Supervisors (tool_harness.Receiver, tools/bench) learn that a receiver listens,
and on which port, from this file, never from its stderr: whatever Python or a
library prints there first (a DeprecationWarning, say) must not matter.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from tool_harness import Receiver, env, key_args, parley, send, sha256_file, workdir

MESSAGE = b"ready-file test\n" * 1000


def _source() -> str:
    path = os.path.join(workdir(), "ready-source.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(MESSAGE)
    return path


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "quiet"])
def test_ready_file_is_one_json_line_with_the_real_port(tmp_path, quiet):
    receiver = Receiver(
        *key_args("ec", "bob", "alice"),
        "--out",
        str(tmp_path / "got.bin"),
        *(["--quiet"] if quiet else []),
        listen="127.0.0.1:0",
    )
    with open(receiver.ready_file, encoding="utf-8") as f:
        text = f.read()
    assert text.endswith("\n") and text.count("\n") == 1, text
    record = json.loads(text)
    assert set(record) == {"event", "host", "port", "pid"}, record
    assert record["event"] == "listening" and record["host"] == "127.0.0.1"
    assert isinstance(record["port"], int) and 0 < record["port"] < 65536
    assert record["pid"] == receiver.proc.pid
    # Written under a temporary name and renamed: nothing else is left in the folder.
    assert os.listdir(os.path.dirname(receiver.ready_file)) == ["receiver.json"]
    # The port is the real one: a sender reaches the receiver there.
    sent = send(record["port"], *key_args("ec", "alice", "bob"), _source())
    got = receiver.wait()
    assert sent.code == 0 and got.code == 0, sent.stderr + got.stderr
    assert sha256_file(str(tmp_path / "got.bin")) == sha256_file(_source())
    # The line for people stays on stderr (unless --quiet), with the same port.
    listening = re.findall(r"parley: listening on 127\.0\.0\.1:(\d+)", got.stderr)
    assert listening == ([] if quiet else [str(record["port"])]), got.stderr


NOISE = "noise: SomeDeprecationWarning: printed before the listening line"


@pytest.mark.parametrize("how", ["echo", "PYTHONVERBOSE"])
def test_noise_on_stderr_before_the_listening_line_does_not_matter(tmp_path, how):
    """A stray warning printed before 'listening on' (as cryptography's FFDH
    deprecation warning was) used to break every tool test; the ready file does not care.

    "echo": one line through ``sh -c 'echo ... >&2; exec parley receive ...'``;
    "PYTHONVERBOSE": the interpreter's own import trace, ~80 KB on stderr before
    the listening line: more than a pipe holds, so the harness must not leave
    stderr in an unread pipe while it waits (it gives children a file).
    """
    if how == "echo":
        kw = {"launcher": ["sh", "-c", f'echo "{NOISE}" >&2; exec "$@"', "sh"]}
    else:
        kw = {"run_env": env(PYTHONVERBOSE="1")}
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(tmp_path / "got.bin"), **kw)
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), _source())
    got = receiver.wait()
    assert sent.code == 0 and got.code == 0, sent.stderr + got.stderr[-2000:]
    lines = got.stderr.splitlines()
    assert not lines[0].startswith("parley: listening on "), lines[:3]
    if how == "echo":
        assert lines[0] == NOISE, lines
    else:
        assert len(got.stderr) > 65536 and lines[0].startswith("import "), lines[:3]
    assert any(ln.startswith("parley: listening on ") for ln in lines[1:]), lines[-20:]
    assert sha256_file(str(tmp_path / "got.bin")) == sha256_file(_source())


def test_an_unwritable_ready_file_fails_before_anyone_connects(tmp_path):
    path = tmp_path / "no-such-folder" / "ready.json"
    run = parley(
        "receive",
        "--once",
        "--listen",
        "127.0.0.1:0",
        "--ready-file",
        str(path),
        *key_args("ec", "bob", "alice"),
        "--out",
        str(tmp_path / "got.bin"),
        timeout=60,
    )
    assert run.returncode == 1
    err = run.stderr.decode()
    assert "INTERNAL_ERROR (17, §11): --ready-file" in err and "no-such-folder" in err, err
    assert not path.exists()


def test_harness_says_what_it_waited_for_and_shows_the_stderr_tail():
    """A child that never becomes ready is killed at the deadline, and the failure says so."""
    stuck = ["sh", "-c", 'echo "stuck before listening" >&2; sleep 60', "sh"]
    with pytest.raises(AssertionError) as info:
        Receiver("--out", "-", launcher=stuck, ready_timeout=1)
    text = str(info.value)
    assert "no ready file" in text and "within 1 s" in text and "killed" in text, text
    assert "stuck before listening" in text, text
    gone = ["sh", "-c", 'echo "exited early" >&2; exit 3', "sh"]
    with pytest.raises(AssertionError) as info:
        Receiver("--out", "-", launcher=gone)
    text = str(info.value)
    assert "exited with status 3 before writing its ready file" in text, text
    assert "exited early" in text, text

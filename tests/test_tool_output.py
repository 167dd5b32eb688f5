"""Where ``parley receive`` writes (docs/tool.md, "Where the receiver writes"): real processes.

The rules checked are the manual's: only a regular file is ever replaced
(devices, FIFOs, symbolic links and directories are refused with a clear
error and left as they were); a replaced file keeps its permission bits; a
new file gets ``0666 & ~umask``; names up to 255 bytes work; part files a
dead receiver left are removed at start; ``--max-size`` refuses larger
messages with ``LIMIT_EXCEEDED`` (§10, §11), which the sender shows.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tool_harness import Receiver, env, key_args, parley, send, sha256_file

OUTSIDE = b"outside, untouched"


def _special(kind: str, path, tmp_path):
    """Make ``path`` a special file of ``kind``; return a check that it is unchanged."""
    if kind == "fifo":
        os.mkfifo(path)
        return lambda: stat.S_ISFIFO(os.lstat(path).st_mode)
    if kind == "symlink":
        target = tmp_path / "target.txt"
        target.write_bytes(OUTSIDE)
        os.symlink(target, path)
        return lambda: os.path.islink(path) and target.read_bytes() == OUTSIDE
    if kind == "dangling symlink":
        os.symlink(tmp_path / "nowhere", path)
        return lambda: os.path.islink(path) and not (tmp_path / "nowhere").exists()
    if kind == "socket":
        import socket

        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
        return lambda: stat.S_ISSOCK(os.lstat(path).st_mode)
    if kind == "character device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("mknod needs privileges")
        return lambda: stat.S_ISCHR(os.lstat(path).st_mode)
    raise AssertionError(kind)


SPECIAL = ["fifo", "symlink", "dangling symlink", "socket", "character device"]
WORDS = {
    "fifo": "a FIFO",
    "symlink": "a symbolic link",
    "dangling symlink": "a symbolic link",
    "socket": "a socket",
    "character device": "a character device",
}


@pytest.mark.parametrize("kind", SPECIAL)
def test_out_file_that_is_not_regular_is_refused_at_start(kind, tmp_path):
    path = tmp_path / "out"
    unchanged = _special(kind, path, tmp_path)
    run = parley(
        "receive",
        "--once",
        "--listen",
        "127.0.0.1:0",
        *key_args("ec", "bob", "alice"),
        "--out",
        str(path),
        timeout=60,
    )
    assert run.returncode == 3, run.stderr
    err = run.stderr.decode()
    assert f"is {WORDS[kind]}; parley replaces only regular files" in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert unchanged()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "socket"])
def test_sent_name_that_is_a_special_file_is_refused_even_with_force(kind, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    unchanged = _special(kind, inbox / "m.txt", tmp_path)
    src = tmp_path / "m.txt"
    src.write_bytes(b"new content")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}", "--force")
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    got = receiver.wait()
    assert got.code == 3 and "parley replaces only regular files" in got.lines[0], got.lines
    assert sent.code == 1 and "the receiver aborted with" in sent.lines[0], sent.lines
    assert unchanged()
    assert sorted(os.listdir(inbox)) == ["m.txt"]  # no part file left


def test_a_replaced_file_keeps_its_mode_and_a_new_file_follows_the_umask(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(5000))
    kept = tmp_path / "secret.bin"
    kept.write_bytes(b"old")
    os.chmod(kept, 0o600)
    fresh = tmp_path / "fresh.bin"
    for out in (kept, fresh):
        receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
        assert send(receiver.port, *key_args("ec", "alice", "bob"), str(src)).code == 0
        assert receiver.wait().code == 0
        assert sha256_file(str(out)) == sha256_file(str(src))
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o666 & ~umask


@pytest.mark.parametrize(
    "name",
    ["a" * 255, "é" * 127 + "x", "日" * 85, "b" * 233, "c" * 234],
    ids=["255 ascii", "255 bytes of 2-byte", "255 bytes of 3-byte", "233", "234"],
)
def test_names_up_to_255_bytes_are_kept(name, tmp_path):
    assert len(name.encode()) <= 255
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    src = tmp_path / "m.bin"
    src.write_bytes(b"payload")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}")
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), "--name", name, str(src))
    got = receiver.wait()
    assert sent.code == 0 and got.code == 0, (sent.stderr, got.stderr)
    assert os.listdir(inbox) == [name]


def test_part_files_of_a_dead_receiver_are_removed_at_start(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stale = inbox / ".report.pdf.abcd1234.parley-part"
    stale.write_bytes(b"half a file")
    other = inbox / ".keep.parley-part.txt"  # not a part file: left alone
    other.write_bytes(b"x")
    src = tmp_path / "m.bin"
    src.write_bytes(b"payload")
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{inbox}{os.sep}")
    assert send(receiver.port, *key_args("ec", "alice", "bob"), str(src)).code == 0
    got = receiver.wait()
    assert got.code == 0
    assert not stale.exists() and other.exists()
    assert any("removed 1 part file" in ln and stale.name in ln for ln in got.lines), got.lines


def test_max_size_refuses_an_announced_size_and_a_stream(tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3000))
    out = tmp_path / "never.bin"
    # A regular file: its size is in the header, refused before any data is written.
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out), "--max-size", "2K")
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    got = receiver.wait()
    assert got.code == 1 and "LIMIT_EXCEEDED (15, §10)" in got.lines[0], got.lines
    assert "--max-size" in got.lines[0]
    assert sent.code == 1 and "the receiver aborted with LIMIT_EXCEEDED" in sent.lines[0], (
        sent.lines
    )
    # Standard input: no size announced; refused once the bytes pass the cap.
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out), "--max-size", "2K")
    with open(src, "rb") as stdin:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "parley.cli",
                "send",
                "--connect",
                f"127.0.0.1:{receiver.port}",
                *key_args("ec", "alice", "bob"),
                "--chunk-size",
                "1024",
                "-",
            ],
            stdin=stdin,
            env=env(),
            capture_output=True,
            timeout=120,
        )
    got = receiver.wait()
    assert got.code == 1 and "LIMIT_EXCEEDED (15, §10)" in got.lines[0], got.lines
    assert run.returncode == 1
    assert not out.exists()
    assert not any(n.endswith(".parley-part") for n in os.listdir(tmp_path))

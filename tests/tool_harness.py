"""Run the ``parley`` tool as real subprocesses for the tool tests (test_tool_*.py).

The tool runs as ``python -m parley.cli`` with this checkout's ``reference/``
first on PYTHONPATH, so the tests exercise the code next to them.  Keys are
made once per test process with ``parley keygen`` itself.

Processes talk on explicit channels: a receiver's port comes from its
``--ready-file`` (never from its stderr, where warnings may come first), and
every child runs in its own process group under a deadline; on expiry the
group is killed and the failure says what was waited for, with the child's
stderr tail.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "correct horse battery staple"
TIMEOUT = 120


def env(**extra: str) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.path.join(ROOT, "reference") + os.pathsep + e.get("PYTHONPATH", "")
    e["PARLEY_KEY_PASSWORD"] = PASSWORD
    e.pop("COLUMNS", None)
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def tail(data: bytes | str | None, lines: int = 15) -> str:
    """The last ``lines`` lines of a child's output, for a failure message."""
    if isinstance(data, bytes):
        data = data.decode(errors="replace")
    kept = (data or "").splitlines()[-lines:]
    return "\n".join("    " + line for line in kept) if kept else "    (nothing)"


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's process group (children are started with start_new_session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _stderr(proc: subprocess.Popen, piped: bytes | None) -> bytes | None:
    """The child's stderr: from the pipe, or from the file ``spawn`` gave it."""
    f = getattr(proc, "stderr_file", None)
    if f is None:
        return piped
    f.seek(0)
    data = f.read()
    f.close()
    proc.stderr_file = None
    return data


def finish(proc: subprocess.Popen, timeout: float, what: str, input: bytes | None = None):
    """``proc.communicate`` with a deadline: on expiry kill the process group and fail,
    saying what was waited for and showing the child's stderr tail."""
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            err = None
        raise AssertionError(
            f"{what}: still running after {timeout} s, killed; "
            f"its stderr ended with:\n{tail(_stderr(proc, err))}"
        ) from None
    return out, _stderr(proc, err)


def spawn(argv: list[str], run_env: dict | None = None, **kw) -> subprocess.Popen:
    """Start a child in its own process group (no controlling terminal).

    stdout is a pipe; stderr goes to an unnamed temporary file (unless given), so
    that a child printing much on stderr never blocks while nobody reads it.
    """
    kw.setdefault("stdout", subprocess.PIPE)
    stderr_file = None
    if "stderr" not in kw:
        stderr_file = kw["stderr"] = tempfile.TemporaryFile()  # noqa: SIM115 - closed via proc.stderr_file
    try:
        proc = subprocess.Popen(argv, env=run_env or env(), start_new_session=True, **kw)
    except BaseException:
        if stderr_file is not None:
            stderr_file.close()
        raise
    proc.stderr_file = stderr_file
    return proc


def parley(*args: str, **kw) -> subprocess.CompletedProcess:
    """Run ``parley ARGS`` to completion (no controlling terminal), within ``timeout``."""
    run_env = kw.pop("env", None) or env()
    timeout = kw.pop("timeout", TIMEOUT)
    argv = [sys.executable, "-m", "parley.cli", *args]
    proc = spawn(argv, run_env, **kw)
    out, err = finish(proc, timeout, f"parley {' '.join(args[:1])}")
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@functools.cache
def workdir() -> str:
    path = tempfile.mkdtemp(prefix="parley-tool-tests-")
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def keypair(suite: str, who: str) -> tuple[str, str]:
    """(PREFIX.key, PREFIX.pub), encrypted with PASSWORD, cached for the test process.

    Written in-process with ``parley.keys`` to save a process start per key;
    ``parley keygen`` itself is tested in test_tool_keys.py.
    """
    from parley import keys
    from parley.suites import by_name

    prefix = os.path.join(workdir(), f"{who}-{suite}")
    key = keys.generate_private_key(by_name(suite))
    fd = os.open(prefix + ".key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(keys.private_key_pem(key, PASSWORD.encode()))
    with open(prefix + ".pub", "wb") as f:
        f.write(keys.public_key_pem(key))
    return prefix + ".key", prefix + ".pub"


def spki_fingerprint(pub_path: str) -> str:
    """SHA256: + hex of the SPKI DER, read straight from the PEM (§12), without parley."""
    with open(pub_path) as f:
        text = f.read()
    b64 = re.search(r"-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----", text, re.S).group(1)
    return "SHA256:" + hashlib.sha256(base64.b64decode("".join(b64.split()))).hexdigest()


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        """stderr lines other than the 'listening on' notice."""
        return [ln for ln in self.stderr.splitlines() if ln and "listening on" not in ln]

    def json(self) -> dict:
        lines = [ln for ln in self.stdout.splitlines() if ln.strip()]
        assert len(lines) == 1, self.stdout
        return json.loads(lines[0])


class Receiver:
    """A ``parley receive`` subprocess; ``port`` comes from its ``--ready-file`` (docs/tool.md).

    The harness never parses the receiver's stderr to learn that it listens:
    Python or a library may print warnings there first.  ``launcher`` is put in
    front of the command (e.g. ``["sh", "-c", "...; exec \"$@\"", "sh"]``).
    With ``once`` (the default) it receives one message and exits (``--once``);
    without, it serves until ``stop()`` sends SIGTERM (docs/tool.md, "Serving").
    """

    def __init__(
        self,
        *args: str,
        listen: str = "127.0.0.1:0",
        run_env: dict | None = None,
        launcher: tuple[str, ...] | list[str] = (),
        ready_timeout: float = 30,
        once: bool = True,
    ):
        self.started = time.monotonic()
        self.ready_file = os.path.join(
            tempfile.mkdtemp(prefix="ready-", dir=workdir()), "receiver.json"
        )
        self.proc = spawn(
            [
                *launcher,
                sys.executable,
                "-m",
                "parley.cli",
                "receive",
                "--listen",
                listen,
                "--ready-file",
                self.ready_file,
                *(["--once"] if once else []),
                *args,
            ],
            run_env,
        )
        self.ready = wait_for_ready_file(
            self.proc, self.ready_file, ready_timeout, "parley receive"
        )
        self.port = self.ready["port"]

    def stop(self, timeout: float = TIMEOUT) -> Result:
        """SIGTERM (a serving receiver's normal stop), then wait for it to exit."""
        os.kill(self.proc.pid, signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = TIMEOUT) -> Result:
        out, err = finish(self.proc, timeout, "parley receive (waiting for it to exit)")
        return Result(
            self.proc.returncode,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            time.monotonic() - self.started,
        )


def wait_for_ready_file(proc: subprocess.Popen, path: str, timeout: float, what: str) -> dict:
    """Wait until ``path`` (written atomically by ``--ready-file``) exists; return its JSON.

    Fails, showing the child's stderr tail, if the child exits first or the
    deadline passes (then its process group is killed).
    """
    deadline = time.monotonic() + timeout
    while True:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return json.loads(f.read())
        if proc.poll() is not None:
            _, err = finish(proc, 10, what)
            raise AssertionError(
                f"{what} exited with status {proc.returncode} before writing "
                f"its ready file {path}; its stderr ended with:\n{tail(err)}"
            )
        if time.monotonic() >= deadline:
            kill_group(proc)
            _, err = finish(proc, 10, what)
            raise AssertionError(
                f"{what}: no ready file {path} (the 'listening' event) within "
                f"{timeout} s, killed; its stderr ended with:\n{tail(err)}"
            )
        time.sleep(0.005)


def send(port: int, *args: str, run_env: dict | None = None, timeout: float = TIMEOUT) -> Result:
    t0 = time.monotonic()
    out = parley("send", "--connect", f"127.0.0.1:{port}", *args, env=run_env, timeout=timeout)
    return Result(
        out.returncode,
        out.stdout.decode(errors="replace"),
        out.stderr.decode(errors="replace"),
        time.monotonic() - t0,
    )


def key_args(suite: str, me: str, peer: str) -> list[str]:
    return ["--key", keypair(suite, me)[0], "--peer", keypair(suite, peer)[1]]

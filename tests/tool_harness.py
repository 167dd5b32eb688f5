"""Run the ``parley`` tool as real subprocesses for the tool tests (test_tool_*.py).

The tool runs as ``python -m parley.cli`` with this checkout's ``reference/``
first on PYTHONPATH, so the tests exercise the code next to them.  Keys are
made once per test process with ``parley keygen`` itself.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import json
import os
import re
import selectors
import shutil
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


def parley(*args: str, **kw) -> subprocess.CompletedProcess:
    """Run ``parley ARGS`` to completion (no controlling terminal)."""
    run_env = kw.pop("env", None) or env()
    return subprocess.run([sys.executable, "-m", "parley.cli", *args], capture_output=True,
                          env=run_env, timeout=kw.pop("timeout", TIMEOUT),
                          start_new_session=True, **kw)


@functools.lru_cache(maxsize=None)
def workdir() -> str:
    path = tempfile.mkdtemp(prefix="parley-tool-tests-")
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.lru_cache(maxsize=None)
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
    text = open(pub_path).read()
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
        return [l for l in self.stderr.splitlines() if l and "listening on" not in l]

    def json(self) -> dict:
        lines = [l for l in self.stdout.splitlines() if l.strip()]
        assert len(lines) == 1, self.stdout
        return json.loads(lines[0])


class Receiver:
    """A ``parley receive`` subprocess; ``port`` is read from its 'listening on' line."""

    def __init__(self, *args: str, listen: str = "127.0.0.1:0", run_env: dict | None = None):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "parley.cli", "receive", "--listen", listen, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run_env or env(),
            start_new_session=True)
        self._first = self._read_first_line(30)
        m = re.search(r"listening on [^ ]*:(\d+)", self._first)
        if not m:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"receiver did not start: {self._first}{err.decode()}")
        self.port = int(m.group(1))

    def _read_first_line(self, seconds: float) -> str:
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        line = b""
        deadline = time.monotonic() + seconds
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            if sel.select(deadline - time.monotonic()):
                c = os.read(self.proc.stderr.fileno(), 1)
                if not c:
                    break
                line += c
        sel.close()
        return line.decode()

    def wait(self, timeout: float = TIMEOUT) -> Result:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"receiver did not finish: {err.decode()}")
        return Result(self.proc.returncode, out.decode(errors="replace"),
                      self._first + err.decode(errors="replace"), time.monotonic() - self.started)


def send(port: int, *args: str, run_env: dict | None = None, timeout: float = TIMEOUT) -> Result:
    t0 = time.monotonic()
    out = parley("send", "--connect", f"127.0.0.1:{port}", *args, env=run_env, timeout=timeout)
    return Result(out.returncode, out.stdout.decode(errors="replace"),
                  out.stderr.decode(errors="replace"), time.monotonic() - t0)


def key_args(suite: str, me: str, peer: str) -> list[str]:
    return ["--key", keypair(suite, me)[0], "--peer", keypair(suite, peer)[1]]

"""The receiver's readiness channel: ``parley receive --ready-file PATH``.

Once the listening socket is bound and listening, the receiver writes one line
of JSON to PATH, e.g. ``{"event":"listening","host":"127.0.0.1","pid":4242,
"port":43125}``, so a supervisor (a test, a benchmark, a script) learns the
real port (``--listen HOST:0``) without parsing stderr, where warnings of
Python or of a library may come first.  The file is written whole under a
temporary name in PATH's folder and renamed onto PATH (``os.replace``): a
reader that sees PATH sees the complete line.  docs/tool.md is the manual.
"""

from __future__ import annotations

import json
import os
import tempfile

from ..errors import ParleyError


def listening_record(host: str, port: int) -> dict:
    return {"event": "listening", "host": host, "port": port, "pid": os.getpid()}


def write_ready_file(path: str, record: dict) -> None:
    """Write ``record`` as one JSON line to ``path`` atomically (temporary file + rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
    try:
        fd, temp = tempfile.mkstemp(prefix=".parley-ready-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ParleyError(
            "INTERNAL_ERROR",
            f"--ready-file {path}: cannot create files in {folder}: {exc.strerror}",
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(line)
        os.replace(temp, path)
    except BaseException as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ParleyError("INTERNAL_ERROR", f"--ready-file {path}: {exc.strerror}") from None
        raise

"""Where received bytes go: a temporary file, committed only when the message is complete (§14).

Data released by ``Data`` events is authenticated but may be a prefix of the
message (§7.3, §14).  A sink therefore writes into a temporary file and
makes it visible only in ``commit()``, which the tool calls after
``EndOfStream``: for a named file, the temporary file sits in the target
folder and is renamed over the target (atomic on POSIX); for standard
output, the spooled bytes are copied out.  ``discard()`` removes the
temporary file and leaves any existing file untouched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from ..errors import ParleyError


def _io_error(what: str, exc: OSError) -> ParleyError:
    return ParleyError("INTERNAL_ERROR", f"{what}: {exc.strerror or exc}")


class FileSink:
    """Writes to ``.NAME.XXXX.parley-part`` next to ``path``, renamed to ``path`` on commit."""

    def __init__(self, path: str, *, replace: bool, fsync: bool) -> None:
        self.path = path
        self.replace = replace
        self.fsync = fsync
        self.folder = os.path.dirname(os.path.abspath(path))
        if not replace and os.path.lexists(path):
            raise ParleyError(
                "INTERNAL_ERROR", f"{path} exists (give --force to replace it, or another --out)"
            )
        try:
            fd, self.temp = tempfile.mkstemp(
                prefix=f".{os.path.basename(path)}.", suffix=".parley-part", dir=self.folder
            )
        except OSError as exc:
            raise _io_error(f"cannot create a file in {self.folder}", exc) from None
        self._file = os.fdopen(fd, "wb", buffering=0)
        self.written = 0

    def write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:  # a raw file may write less than asked (signals, quotas)
                view = view[self._file.write(view) :]
        except OSError as exc:
            raise _io_error(f"cannot write {self.temp}", exc) from None
        self.written += len(data)

    def commit(self) -> None:
        """Make the file visible under its name: fsync (if asked), then rename."""
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(self._file.fileno(), 0o666 & ~umask)  # mkstemp made it 0600
            if self.fsync:
                os.fsync(self._file.fileno())
            self._file.close()
            if self.replace:
                os.replace(self.temp, self.path)
            else:
                os.link(self.temp, self.path)  # fails if the name appeared meanwhile
                os.unlink(self.temp)
        except FileExistsError:
            self.discard()
            raise ParleyError(
                "INTERNAL_ERROR",
                f"{self.path} appeared while receiving; not replaced (give --force)",
            ) from None
        except OSError as exc:
            self.discard()
            raise _io_error(f"cannot commit {self.path}", exc) from None
        if self.fsync:
            _fsync_folder(self.folder)

    def discard(self) -> None:
        """Remove the temporary file (idempotent)."""
        try:
            self._file.close()
        except OSError:
            pass
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass
        except OSError:
            pass


class StdoutSink:
    """Spools to an anonymous temporary file; copies it to standard output on commit."""

    path = "-"

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(prefix="parley-", buffering=0)  # noqa: SIM115 - owned
        except OSError as exc:
            raise _io_error("cannot create a spool file", exc) from None
        self.written = 0

    def write(self, data: bytes) -> None:
        try:
            view = memoryview(data)
            while view:
                view = view[self._file.write(view) :]
        except OSError as exc:
            raise _io_error("cannot write the spool file", exc) from None
        self.written += len(data)

    def commit(self) -> None:
        out = sys.stdout.buffer
        try:
            out.flush()
            self._file.seek(0)
            shutil.copyfileobj(self._file, out, 1 << 20)
            out.flush()
        except OSError as exc:
            raise _io_error("cannot write to standard output", exc) from None
        finally:
            self._file.close()

    def discard(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

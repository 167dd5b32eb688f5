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

import fcntl
import os
import shutil
import stat
import sys
import tempfile

from .failures import LocalFailure

PART_SUFFIX = ".parley-part"
NAME_MAX = 255  # bytes in one file name (ext4, XFS, btrfs, APFS)
# ".NAME." + mkstemp's 8 random characters + ".parley-part" must fit in NAME_MAX.
_PART_NAME_BUDGET = NAME_MAX - 2 - 8 - len(PART_SUFFIX)


def _io_error(what: str, exc: OSError) -> LocalFailure:
    return LocalFailure("OUTPUT", f"{what}: {exc.strerror or exc}")


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def existing_target(path: str) -> os.stat_result | None:
    """``lstat(path)`` if ``path`` is an existing regular file, None if it does not exist.

    Anything else (a symbolic link, device, FIFO, socket, directory) is
    refused: the tool only ever replaces regular files (docs/tool.md).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _io_error(f"cannot inspect {path}", exc) from None
    kind = _kind(st.st_mode)
    if kind is not None:
        raise LocalFailure(
            "OUTPUT", f"{path} is {kind}; parley replaces only regular files (give another --out)"
        )
    return st


def part_prefix(name: str) -> str:
    """``.NAME.``, NAME cut (whole UTF-8 characters) so the part file's name fits NAME_MAX."""
    cut = name.encode("utf-8", "surrogateescape")[:_PART_NAME_BUDGET]
    return "." + cut.decode("utf-8", "ignore") + "."


def clean_leftovers(folder: str) -> tuple[list[str], list[str]]:
    """Remove part files no receiver writes any more; return (removed, in use).

    Every live ``FileSink`` holds an exclusive ``flock`` on its part file, so a
    part file whose lock can be taken was left by a receiver that died
    (killed, power loss).  Part files of receivers still running are kept.
    """
    removed: list[str] = []
    busy: list[str] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(".") and n.endswith(PART_SUFFIX)]
    except OSError:
        return removed, busy
    for name in sorted(names):
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                busy.append(name)
                continue
            try:
                os.unlink(path)
                removed.append(name)
            except OSError:
                pass
        finally:
            os.close(fd)
    return removed, busy


class FileSink:
    """Writes to ``.NAME.XXXXXXXX.parley-part`` next to ``path``, renamed to ``path`` on commit.

    Only a regular file is ever replaced, and it keeps its permission bits
    (and, where the system lets us, its owner and group); a new file gets
    ``0666 & ~umask``.  The part file is locked (``flock``) while it is written.
    """

    def __init__(self, path: str, *, replace: bool, fsync: bool) -> None:
        self.path = path
        self.replace = replace
        self.fsync = fsync
        self.folder = os.path.dirname(os.path.abspath(path))
        st = existing_target(path)
        if st is not None and not replace:
            raise LocalFailure(
                "EXISTS", f"{path} exists (give --force to replace it, or another --out)"
            )
        try:
            fd, self.temp = tempfile.mkstemp(
                prefix=part_prefix(os.path.basename(path)), suffix=PART_SUFFIX, dir=self.folder
            )
        except OSError as exc:
            raise _io_error(f"cannot create a file in {self.folder}", exc) from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # ours alone: clean_leftovers() leaves it alone
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

    def _set_mode(self, old: os.stat_result | None) -> None:
        fd = self._file.fileno()
        if old is None:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # mkstemp made it 0600
            return
        try:  # keep the replaced file's owner and group where we may (root, or our own)
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            pass
        os.fchmod(fd, stat.S_IMODE(old.st_mode) & 0o777)  # no setuid/setgid/sticky

    def commit(self) -> None:
        """Make the file visible under its name: fsync (if asked), then rename."""
        try:
            old = existing_target(self.path) if self.replace else None  # again: it may have changed
            self._set_mode(old)
            if self.fsync:
                os.fsync(self._file.fileno())
            if self.replace:
                os.replace(self.temp, self.path)
            else:
                os.link(self.temp, self.path)  # fails if the name appeared meanwhile
                os.unlink(self.temp)
            self._file.close()
        except LocalFailure:
            self.discard()
            raise
        except FileExistsError:
            self.discard()
            raise LocalFailure(
                "EXISTS",
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
            os.unlink(self.temp)
        except OSError:
            pass
        try:
            self._file.close()
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

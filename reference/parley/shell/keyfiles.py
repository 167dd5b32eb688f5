"""Key files for the tool (§12): passwords, writing new keys, loading own and pinned keys.

Passwords come, in this order, from ``--password-file FILE`` (its first
line), the ``PARLEY_KEY_PASSWORD`` environment variable, or a prompt on the
controlling terminal.  A private key file is created with mode 0600 by
``os.open(O_CREAT | O_EXCL)``, so it is never readable by others, not even
for an instant, and an existing file is never overwritten unless asked.
Parley never writes an unprotected private key (§12, §14).

Reading, the tool refuses a private key file or a password file that its
group or others may access (any of the mode bits 077, as OpenSSH does): the
secret is already exposed, and carrying on would hide it (§14).  A private
key stored unencrypted is accepted (keys made by other tools) with a
warning on stderr, every time it is used.
"""

from __future__ import annotations

import getpass
import os
import stat
from collections.abc import Callable

from .. import keys
from ..errors import KeyFileError, ParleyError
from ..suites import Suite

PASSWORD_ENV = "PARLEY_KEY_PASSWORD"


def _terminal_available() -> bool:
    try:
        with open("/dev/tty", "rb"):
            return True
    except OSError:
        return False


def _exposed(f, path: str, what: str, error: str) -> None:
    """Refuse a secret file that its group or others may access (mode bits 077)."""
    mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
    if mode & 0o077:
        raise ParleyError(
            error,
            f"the {what} {path} is accessible by group or others (mode {mode:04o}); "
            f"refused: make it private with 'chmod 600 {path}' (and consider it exposed)",
        )


def read_password_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            _exposed(f, path, "password file", "KEY_PASSWORD_WRONG")
            data = f.read(65536)
    except OSError as exc:
        raise ParleyError(
            "KEY_PASSWORD_WRONG", f"cannot read the password file {path}: {exc.strerror}"
        ) from None
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    if not line:
        raise ParleyError("KEY_PASSWORD_WRONG", f"the password file {path} is empty")
    return line


def password(password_file: str | None, prompt: str, *, confirm: bool = False) -> bytes:
    """The password from the first source that has one (see the module docstring)."""
    if password_file:
        return read_password_file(password_file)
    env = os.environb.get(PASSWORD_ENV.encode()) if hasattr(os, "environb") else None
    if env is None and PASSWORD_ENV in os.environ:
        env = os.environ[PASSWORD_ENV].encode()
    if env:
        return env
    if not _terminal_available():
        raise ParleyError(
            "KEY_PASSWORD_WRONG",
            f"no password: give --password-file FILE, set {PASSWORD_ENV}, or run on a terminal",
        )
    first = getpass.getpass(prompt).encode()
    if not first:
        raise ParleyError("KEY_PASSWORD_WRONG", "an empty password is not accepted")
    if confirm and getpass.getpass("Repeat the password: ").encode() != first:
        raise ParleyError("KEY_PASSWORD_WRONG", "the two passwords differ")
    return first


def _read(path: str, what: str, *, secret: bool = False) -> bytes:
    try:
        with open(path, "rb") as f:
            if secret:
                _exposed(f, path, what, "KEY_FILE_INVALID")
            return f.read(1 << 20)
    except OSError as exc:
        raise KeyFileError(
            "KEY_FILE_INVALID", f"cannot read the {what} {path}: {exc.strerror}"
        ) from None


def load_own_key(
    path: str, password_file: str | None, warn: Callable[[str], None] | None = None
) -> keys.LongTermPrivateKey:
    """Load the user's private key; ``warn`` gets the warning for an unencrypted one."""
    pem = _read(path, "private key file", secret=True)
    if b"ENCRYPTED PRIVATE KEY" in pem:
        try:
            secret = password(password_file, f"Password for {path}: ")
        except ParleyError as exc:
            raise ParleyError(exc.error, f"{path} is encrypted: {exc.detail}") from None
    else:
        secret = None
        if warn is not None and b"PUBLIC KEY-----" not in pem:
            warn(
                f"WARNING: the private key {path} is NOT encrypted: anyone who copies the "
                f"file has the key; encrypt it with 'openssl pkey -in {path} -aes-256-cbc "
                "-out NEW.key' (§12, §14)"
            )
    try:
        return keys.load_private_key(pem, secret)
    except KeyFileError as exc:
        raise KeyFileError(exc.error, f"{path}: {exc.detail}") from None


def load_peer_key(path: str) -> keys.LongTermPublicKey:
    pem = _read(path, "public key file")
    try:
        return keys.load_public_key(pem)
    except KeyFileError as exc:
        raise KeyFileError(exc.error, f"{path}: {exc.detail}") from None


def _create(path: str, data: bytes, mode: int, force: bool) -> None:
    if force:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_key_pair(
    suite: Suite, prefix: str, secret: bytes, *, force: bool
) -> tuple[str, str, keys.LongTermPrivateKey]:
    """Generate a key of ``suite``; write PREFIX.key (0600, encrypted) and PREFIX.pub."""
    key_path, pub_path = prefix + ".key", prefix + ".pub"
    if not force:
        for path in (key_path, pub_path):
            if os.path.lexists(path):
                raise FileExistsError(path)
    key = keys.generate_private_key(suite)
    _create(key_path, keys.private_key_pem(key, secret), 0o600, force)
    _create(pub_path, keys.public_key_pem(key), 0o644, force)
    return key_path, pub_path, key

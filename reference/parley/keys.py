"""Long-term keys and key files (§12).

A Parley party holds one long-term signing key: DSA with a 2048-bit p and a
256-bit q for suite 1, ECDSA on P-384 for suite 2 (§3.3).  The key decides the
suite.  Key files are exactly what ``openssl genpkey`` / ``openssl pkey``
write:

* private keys: PKCS#8 PEM (RFC 5208 / RFC 5958), ``BEGIN PRIVATE KEY`` or,
  encrypted (PBES2, RFC 8018), ``BEGIN ENCRYPTED PRIVATE KEY``;
* public keys: SubjectPublicKeyInfo PEM (RFC 5280 §4.1.2.7), ``BEGIN PUBLIC
  KEY``.

A key's identity (ID_E / ID_R of the handshake) is H(SPKI DER) with the suite
hash; its display fingerprint is "SHA256:" + hex(SHA-256(SPKI DER)).

Every failure is a :class:`~parley.errors.KeyFileError` with one of three
registry names: KEY_FILE_INVALID (not a PEM key of the accepted formats),
KEY_PASSWORD_WRONG (an encrypted key without the right password) and
KEY_SUITE_MISMATCH (a key of a type or size no suite uses, or of another suite
than required).

This module handles PEM, passwords and errors; the DER encodings, the key
objects and all cryptography are behind the fence, in
:mod:`parley.primitives.keyfile`, :mod:`~parley.primitives.pbes2` and
:mod:`~parley.primitives.signatures`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass, field

from .errors import KeyFileError
from .primitives import dsa, keyfile, pbes2, signatures
from .primitives.der import DERError
from .primitives.symmetric import hash_
from .suites import SUITE_1, SUITE_2, SUITES, Suite

_NEEDS = (
    "Parley needs a DSA key with a 2048-bit p and a 256-bit q (suite 1, "
    f"{SUITE_1.name}) or an EC key on P-384 (suite 2, {SUITE_2.name})"
)

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----[ \t]*\r?\n(.*?)-----END \1-----", re.DOTALL)


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True, repr=False)
class LongTermPublicKey:
    """A peer's (or one's own) long-term public key (§12).

    ``identity`` is H(spki_der) with the suite hash: ID_E / ID_R (§5.5).
    ``handle`` is the key object of :mod:`parley.primitives.keyfile`, for
    :mod:`parley.primitives` only.
    """

    suite: Suite
    spki_der: bytes
    identity: bytes
    handle: keyfile.PublicHandle = field(compare=False)

    def verify(self, message: bytes, sig: bytes) -> bool:
        """True iff ``sig`` (r || s, §3.3) is this key's signature of ``message``."""
        return signatures.verify(self.handle, message, sig, suite_number=self.suite.number)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)

    @property
    def group_order(self) -> int:
        """q (DSA) or n (P-384): signatures have 0 < r, s < group_order (§3.3)."""
        return keyfile.group_order(self.handle)

    def __repr__(self) -> str:
        return f"LongTermPublicKey(suite={self.suite.name}, identity={self.identity.hex()[:16]}...)"


@dataclass(frozen=True, repr=False)
class LongTermPrivateKey:
    """One's own long-term signing key (§12).

    Same fields as :class:`LongTermPublicKey` (all about the public half);
    the private material lives only inside ``handle`` and is never shown by
    ``repr``.
    """

    suite: Suite
    spki_der: bytes
    identity: bytes
    handle: keyfile.PrivateHandle = field(compare=False)

    @property
    def public(self) -> LongTermPublicKey:
        """The matching public key."""
        return LongTermPublicKey(
            self.suite, self.spki_der, self.identity, keyfile.public_of(self.handle)
        )

    def sign(self, message: bytes, *, deterministic: bool = False) -> bytes:
        """The fixed-length signature r || s of ``message`` (§3.3).

        ``deterministic`` selects RFC 6979 nonces (test vectors); use
        :func:`parley.primitives.signatures.sign` directly to also get k.
        """
        sig, _k = signatures.sign(
            self.handle, message, suite_number=self.suite.number, deterministic=deterministic
        )
        return sig

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)

    @property
    def group_order(self) -> int:
        """q (DSA) or n (P-384): signatures have 0 < r, s < group_order (§3.3)."""
        return keyfile.group_order(self.handle)

    def __repr__(self) -> str:
        return (
            f"LongTermPrivateKey(suite={self.suite.name}, identity={self.identity.hex()[:16]}...)"
        )


# ------------------------------------------------------------------ classification


def _suite_of(handle: keyfile.PrivateHandle | keyfile.PublicHandle) -> Suite:
    return SUITES[keyfile.suite_number(handle)]


def _check_expected(suite: Suite, expect_suite: Suite | None) -> None:
    if expect_suite is not None and suite.number != expect_suite.number:
        raise KeyFileError(
            "KEY_SUITE_MISMATCH",
            f"the key is for suite {suite.number} ({suite.name}), "
            f"but suite {expect_suite.number} ({expect_suite.name}) is required",
        )


def _wrap_private(handle: keyfile.PrivateHandle) -> LongTermPrivateKey:
    suite = _suite_of(handle)
    spki = keyfile.spki_der(handle)
    return LongTermPrivateKey(suite, spki, hash_(suite.hash_name, spki), handle)


def _wrap_public(handle: keyfile.PublicHandle) -> LongTermPublicKey:
    suite = _suite_of(handle)
    spki = keyfile.spki_der(handle)
    return LongTermPublicKey(suite, spki, hash_(suite.hash_name, spki), handle)


_WRONG_PASSWORD = "could not decrypt the private key: wrong password (or a damaged file)"


def _load(loader, der: bytes, what: str, *, decrypted: bool = False):
    """Run a :mod:`keyfile` loader, mapping its errors to the registry (§12).

    ``decrypted``: ``der`` came out of PBES2; garbage then means a wrong
    password whose padding checked by chance (or a damaged file).
    """
    try:
        return loader(der)
    except keyfile.Unsupported as exc:
        raise KeyFileError(
            "KEY_SUITE_MISMATCH", f"the key is {exc.description}; {_NEEDS}"
        ) from None
    except dsa.InvalidKey as exc:
        raise KeyFileError(
            "KEY_FILE_INVALID", f"the DSA key's numbers are inconsistent ({exc.reason})"
        ) from None
    except keyfile.Malformed as exc:
        if decrypted:
            raise KeyFileError("KEY_PASSWORD_WRONG", _WRONG_PASSWORD) from None
        raise KeyFileError("KEY_FILE_INVALID", f"not a valid {what} ({exc})") from None


# ------------------------------------------------------------------------- PEM


def _pem_blocks(pem: bytes) -> list[tuple[str, bytes]]:
    """(label, base64 body) of each PEM block (RFC 7468); body not decoded yet."""
    if isinstance(pem, str):
        pem = pem.encode("utf-8", "replace")
    try:
        data = bytes(pem)
    except TypeError:
        raise KeyFileError("KEY_FILE_INVALID", "the key file content is not bytes") from None
    blocks = [(m.group(1).decode("ascii"), m.group(2)) for m in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise KeyFileError(
            "KEY_FILE_INVALID",
            "not a PEM key file (no '-----BEGIN ...-----' / '-----END ...-----' block)",
        )
    return blocks


def _decode_body(label: str, body: bytes) -> bytes:
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(
            "KEY_FILE_INVALID", f"the '{label}' PEM block is not valid base64"
        ) from None
    if not der:
        raise KeyFileError("KEY_FILE_INVALID", f"the '{label}' PEM block is empty")
    return der


def _only_block(
    blocks: list[tuple[str, bytes]], wanted: tuple[str, ...], what: str, hint: str
) -> tuple[str, bytes]:
    mine = [b for b in blocks if b[0] in wanted]
    if len(mine) > 1:
        raise KeyFileError("KEY_FILE_INVALID", f"the file holds more than one {what}")
    if mine:
        return mine[0]
    found = ", ".join(sorted({label for label, _ in blocks}))
    raise KeyFileError("KEY_FILE_INVALID", f"no {what} in the file (found: {found}); {hint}")


def load_private_key(
    pem: bytes, password: bytes | None, *, expect_suite: Suite | None = None
) -> LongTermPrivateKey:
    """Load a PKCS#8 PEM private key, encrypted or not (§12).

    ``password`` is needed for an encrypted file and ignored for a plain one.
    If ``expect_suite`` is given, a key of another suite is KEY_SUITE_MISMATCH.
    """
    blocks = _pem_blocks(pem)
    labels = {label for label, _ in blocks}
    if not labels & {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}:
        legacy = sorted(label for label in labels if label.endswith("PRIVATE KEY"))
        if legacy:
            raise KeyFileError(
                "KEY_FILE_INVALID",
                f"the file holds a '{legacy[0]}' block, a legacy (non-PKCS#8) format; "
                "convert it with 'openssl pkey -in OLD.pem -out NEW.pem' "
                "(add '-aes-256-cbc' to encrypt it)",
            )
        if "PUBLIC KEY" in labels:
            raise KeyFileError(
                "KEY_FILE_INVALID", "the file holds a public key; a private key is needed here"
            )
    label, body = _only_block(
        blocks,
        ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
        "private key",
        "expected a PKCS#8 key as written by 'openssl genpkey'",
    )
    der = _decode_body(label, body)
    encrypted = label == "ENCRYPTED PRIVATE KEY"
    if encrypted and not password:
        raise KeyFileError(
            "KEY_PASSWORD_WRONG", "the private key file is encrypted and no password was given"
        )
    if password is not None and not isinstance(password, (bytes, bytearray, memoryview)):
        raise TypeError("password must be bytes or None")
    if encrypted and password is not None:  # (encrypted without a password was refused above)
        try:
            der = pbes2.decrypt_pkcs8(der, bytes(password))
        except pbes2.UnsupportedScheme as exc:
            raise KeyFileError(
                "KEY_FILE_INVALID",
                f"the private key is encrypted with an unsupported scheme ({exc}); "
                "re-encrypt it with 'openssl pkey -aes-256-cbc'",
            ) from None
        except DERError as exc:
            raise KeyFileError(
                "KEY_FILE_INVALID", f"not a valid encrypted PKCS#8 private key ({exc})"
            ) from None
        except pbes2.DecryptionFailed:
            raise KeyFileError("KEY_PASSWORD_WRONG", _WRONG_PASSWORD) from None
    handle = _load(keyfile.load_private, der, "PKCS#8 private key", decrypted=encrypted)
    key = _wrap_private(handle)
    _check_expected(key.suite, expect_suite)
    return key


def load_public_key(pem: bytes, *, expect_suite: Suite | None = None) -> LongTermPublicKey:
    """Load a SubjectPublicKeyInfo PEM public key (§12).

    If ``expect_suite`` is given, a key of another suite is KEY_SUITE_MISMATCH.
    """
    blocks = _pem_blocks(pem)
    labels = {label for label, _ in blocks}
    if "PUBLIC KEY" not in labels and any(label.endswith("PRIVATE KEY") for label in labels):
        raise KeyFileError(
            "KEY_FILE_INVALID",
            "the file holds a private key; give the public key "
            "('openssl pkey -in KEY.pem -pubout -out PUB.pem')",
        )
    label, body = _only_block(
        blocks,
        ("PUBLIC KEY",),
        "public key",
        "expected a SubjectPublicKeyInfo key ('BEGIN PUBLIC KEY') "
        "as written by 'openssl pkey -pubout'",
    )
    der = _decode_body(label, body)
    handle = _load(keyfile.load_public, der, "SubjectPublicKeyInfo public key")
    key = _wrap_public(handle)
    _check_expected(key.suite, expect_suite)
    return key


# ------------------------------------------------------------- generation, output


def generate_private_key(suite: Suite) -> LongTermPrivateKey:
    """A fresh long-term key for ``suite`` (§12)."""
    if not isinstance(suite, Suite):
        raise TypeError("suite must be a parley.suites.Suite")
    key = _wrap_private(keyfile.generate(suite.number))
    _check_expected(key.suite, suite)
    return key


def private_key_from_scalar(
    suite: Suite, scalar: int, dsa_params: tuple[int, int, int] | None = None
) -> LongTermPrivateKey:
    """The key with the given secret (x under ``dsa_params`` = (p, q, g) for suite 1, d for
    suite 2): fixed keys for test vectors and tests, never for real use (§12)."""
    params = dsa.Parameters(*dsa_params) if dsa_params is not None else None
    try:
        return _wrap_private(keyfile.from_scalar(suite.number, scalar, params))
    except (ValueError, TypeError) as exc:
        raise KeyFileError("KEY_FILE_INVALID", f"not a usable key ({exc})") from None


KDF_ITERATIONS = 600_000  # PBKDF2-HMAC-SHA256 rounds for new key files (§12)


def private_key_pem(
    key: LongTermPrivateKey, password: bytes | None, *, iterations: int = KDF_ITERATIONS
) -> bytes:
    """PKCS#8 PEM of ``key``; with a password, PBES2 with PBKDF2-HMAC-SHA256 (``iterations``
    rounds) and AES-256-CBC (§12), which OpenSSL reads."""
    der = keyfile.pkcs8_der(key.handle)
    if password is None:
        return _pem("PRIVATE KEY", der)
    if not password:
        raise ValueError("the password must not be empty (use None for no encryption)")
    enc = pbes2.encrypt_pkcs8(
        der, bytes(password), salt=os.urandom(16), iv=os.urandom(16), iterations=iterations
    )
    return _pem("ENCRYPTED PRIVATE KEY", enc)


def _pem(label: str, der: bytes) -> bytes:
    b64 = base64.encodebytes(der).replace(b"\n", b"")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (
        f"-----BEGIN {label}-----\n".encode()
        + b"\n".join(lines)
        + f"\n-----END {label}-----\n".encode()
    )


def public_key_pem(key: LongTermPublicKey | LongTermPrivateKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the (public half of the) key."""
    return _pem("PUBLIC KEY", key.spki_der)


def fingerprint(pub: LongTermPublicKey | LongTermPrivateKey) -> str:
    """Display fingerprint: "SHA256:" + lowercase hex of SHA-256(SPKI DER) (§12)."""
    return "SHA256:" + hash_("sha256", pub.spki_der).hex()


__all__ = [
    "LongTermPublicKey",
    "LongTermPrivateKey",
    "load_private_key",
    "load_public_key",
    "generate_private_key",
    "private_key_from_scalar",
    "private_key_pem",
    "public_key_pem",
    "fingerprint",
]

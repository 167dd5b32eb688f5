"""Hashes, HMAC, HKDF and AES-256-CTR (§6 key schedule, §7.2 record encryption).

All functions take and return ``bytes`` (any bytes-like input is accepted).
Hash names are the suite's ``hash_name`` values: ``"sha256"`` and ``"sha384"``.
An unknown name or a bad length raises ``ValueError``; nothing from the
library escapes (see the package docstring).
"""

from __future__ import annotations

import hashlib as _hashlib
import hmac as _std_hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes as _hashes, hmac as _hmac
from cryptography.hazmat.primitives.ciphers import (
    Cipher as _Cipher,
    algorithms as _algorithms,
    modes as _modes,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand as _HKDFExpand

#: Output length in bytes of each hash Parley uses (Hlen of §3.1 / §6).
HASH_LEN: dict[str, int] = {"sha256": 32, "sha384": 48}

# Hash algorithm objects are stateless descriptors: one instance per name.
_ALGORITHMS: dict[str, _hashes.HashAlgorithm] = {
    "sha256": _hashes.SHA256(),
    "sha384": _hashes.SHA384(),
}

AES256_KEY_LEN = 32
AES_BLOCK_LEN = 16


def _algorithm(name: str) -> _hashes.HashAlgorithm:
    try:
        return _ALGORITHMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown hash {name!r}; expected one of {sorted(_ALGORITHMS)}") from None


# hashlib (OpenSSL's EVP digests, as the library's Hash) costs a third as much per call.
_HASHLIB = {"sha256": _hashlib.sha256, "sha384": _hashlib.sha384}


def hash_(name: str, data: bytes) -> bytes:
    """H(data) with the named hash (the suite hash H of §3.1)."""
    try:
        new = _HASHLIB[name]
    except (KeyError, TypeError):
        _algorithm(name)  # raises the ValueError
        raise
    try:
        return new(data).digest()
    except TypeError as exc:  # not bytes-like
        raise ValueError(f"hash: {exc}") from None


def hmac(name: str, key: bytes, data: bytes) -> bytes:
    """HMAC-H(key, data) (RFC 2104); the full, untruncated tag."""
    alg = _algorithm(name)
    try:
        h = _hmac.HMAC(key, alg)
        h.update(data)
        return h.finalize()
    except TypeError as exc:  # e.g. key or data not bytes-like
        raise ValueError(f"hmac: {exc}") from None


def hmac_verify(name: str, key: bytes, data: bytes, tag: bytes) -> bool:
    """True iff ``tag`` equals HMAC-H(key, data).

    The comparison is constant-time (``hmac.compare_digest``), as §13.3
    states for record tags (§7.3) and handshake MACs (§5.3, §5.4).  A tag of the wrong
    length simply does not verify.
    """
    expected = hmac(name, key, data)
    try:
        return _std_hmac.compare_digest(expected, bytes(tag))
    except TypeError:
        return False


def hkdf_extract(name: str, salt: bytes | None, ikm: bytes) -> bytes:
    """HKDF-Extract(salt, IKM) = HMAC-H(salt, IKM) (RFC 5869 §2.2; Parley §6).

    An empty or absent salt means Hlen zero bytes, as RFC 5869 states.
    """
    _algorithm(name)
    if not salt:
        salt = bytes(HASH_LEN[name])
    return hmac(name, salt, ikm)


def hkdf_expand(name: str, prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand(PRK, info, L) (RFC 5869 §2.3; Parley §6).

    ``length`` must be 1 .. 255 * Hlen (the RFC's limit).
    """
    alg = _algorithm(name)
    hlen = HASH_LEN[name]
    if not isinstance(length, int) or not 1 <= length <= 255 * hlen:
        raise ValueError(f"hkdf_expand: length must be 1..{255 * hlen}, got {length!r}")
    if len(prk) < hlen:
        raise ValueError(f"hkdf_expand: PRK must be at least {hlen} bytes (RFC 5869 §2.3)")
    if length <= hlen:
        # One block: OKM = T(1)[:L] with T(1) = HMAC(PRK, info || 0x01) (RFC 5869 §2.3);
        # every key of §6 is this case.  One HMAC instead of an HKDF object.
        try:
            return hmac(name, prk, bytes(info) + b"\x01")[:length]
        except TypeError as exc:
            raise ValueError(f"hkdf_expand: {exc}") from None
    try:
        return _HKDFExpand(alg, length, bytes(info)).derive(prk)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"hkdf_expand: {exc}") from None


def aes256_ctr(key: bytes, counter_block16: bytes, data: bytes) -> bytes:
    """AES-256-CTR keystream XOR ``data`` (NIST SP 800-38A §6.5; Parley §7.2).

    ``counter_block16`` is the initial 16-byte counter block; successive
    blocks increment it as one 128-bit big-endian integer (OpenSSL's CTR
    mode).  Encryption and decryption are the same operation.  Each call uses
    a fresh context, so no keystream state is shared between records.

    This is the per-record hot path: one context, one ``update`` (the library
    writes the output directly), no extra copies; CTR's ``finalize`` produces
    no bytes.
    """
    if len(key) != AES256_KEY_LEN:
        raise ValueError(f"aes256_ctr: key must be {AES256_KEY_LEN} bytes, got {len(key)}")
    if len(counter_block16) != AES_BLOCK_LEN:
        raise ValueError(
            f"aes256_ctr: counter block must be {AES_BLOCK_LEN} bytes, got {len(counter_block16)}"
        )
    try:
        ctx = _Cipher(_algorithms.AES256(key), _modes.CTR(counter_block16)).encryptor()
        out = ctx.update(data)
        ctx.finalize()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"aes256_ctr: {exc}") from None
    return out


__all__ = [
    "HASH_LEN",
    "AES256_KEY_LEN",
    "AES_BLOCK_LEN",
    "hash_",
    "hmac",
    "hmac_verify",
    "hkdf_extract",
    "hkdf_expand",
    "aes256_ctr",
    "AesCtrKey",
    "RecordMac",
]


class AesCtrKey:
    """AES-256-CTR under one key for many counter blocks (Parley §7.2).

    One library context serves every record: ``apply`` resets its counter
    block (``reset_nonce``) instead of building a new context and key schedule,
    which costs ~15-30 µs per record.  Same keystream as :func:`aes256_ctr`
    (the tests check both against NIST SP 800-38A F.5.5).  Not thread-safe: one
    object per direction of one session.
    """

    __slots__ = ("_ctx",)

    def __init__(self, key: bytes) -> None:
        if len(key) != AES256_KEY_LEN:
            raise ValueError(f"AesCtrKey: key must be {AES256_KEY_LEN} bytes, got {len(key)}")
        self._ctx = _Cipher(
            _algorithms.AES256(bytes(key)), _modes.CTR(bytes(AES_BLOCK_LEN))
        ).encryptor()

    def apply(self, counter_block16: bytes, data) -> bytes:
        """Keystream from ``counter_block16`` XOR ``data``."""
        if len(counter_block16) != AES_BLOCK_LEN:
            raise ValueError(f"AesCtrKey: counter block must be {AES_BLOCK_LEN} bytes")
        self._ctx.reset_nonce(counter_block16)
        return self._ctx.update(data)

    def __repr__(self) -> str:
        return "AesCtrKey(<secret>)"


class RecordMac:
    """HMAC-SHA-256 under one key for many records (Parley §7.1).

    The library's keyed context is copied per record instead of keyed afresh
    (measured the cheapest way, docs/bench.md).  ``tag`` is HMAC(key, head ‖ body);
    ``verify`` compares in constant time (``hmac.compare_digest``, §13.3).  Not
    thread-safe: one object per key of one session.
    """

    __slots__ = ("_base",)

    def __init__(self, key: bytes) -> None:
        self._base = _hmac.HMAC(bytes(key), _ALGORITHMS["sha256"])

    def tag(self, head: bytes, body) -> bytes:
        """HMAC-SHA-256(key, head ‖ body), untruncated."""
        h = self._base.copy()
        h.update(head)
        if body:
            h.update(body)
        return h.finalize()

    def seal(
        self, ctr: AesCtrKey, counter_block16: bytes, head: bytes, data
    ) -> tuple[bytes, bytes]:
        """Encrypt-then-MAC in one call: ``ct = ctr.apply(counter_block16, data)`` and
        ``tag(head, ct)``, the same bytes as those two calls (the per-record path of
        the sender: one Python frame instead of three).  ``data`` must not be empty."""
        if len(counter_block16) != AES_BLOCK_LEN:
            raise ValueError(f"AesCtrKey: counter block must be {AES_BLOCK_LEN} bytes")
        ctx = ctr._ctx
        ctx.reset_nonce(counter_block16)
        ct = ctx.update(data)
        h = self._base.copy()
        h.update(head)
        h.update(ct)
        return ct, h.finalize()

    def verify(self, head: bytes, body, tag) -> bool:
        """True iff ``tag`` is HMAC-SHA-256(key, head ‖ body); a constant-time comparison."""
        h = self._base.copy()
        h.update(head)
        if body:
            h.update(body)
        return _std_hmac.compare_digest(h.finalize(), tag)

    def opener(self, ctr: AesCtrKey) -> Callable[..., bytes | None]:
        """The receiver's per-record path (Parley §7.3 steps 4-5) as one function of this
        MAC key and ``ctr``: ``open(counter_block16, head, ct, tag)`` is
        ``ctr.apply(counter_block16, ct)`` if ``verify(head, ct, tag)``, else None.

        The tag is compared first, in constant time, and nothing is decrypted
        unless it verifies.  The library's methods are bound once (per session)
        instead of looked up per record.  ``ct`` must not be empty; the library
        refuses a counter block that is not 16 bytes.
        """
        copy = self._base.copy
        ctx = ctr._ctx
        reset, update = ctx.reset_nonce, ctx.update

        def open_(counter_block16: bytes, head: bytes, ct, tag) -> bytes | None:
            h = copy()
            h.update(head)
            h.update(ct)
            if not _std_hmac.compare_digest(h.finalize(), tag):
                return None
            reset(counter_block16)
            return update(ct)

        return open_

    def __copy__(self) -> RecordMac:
        return self  # immutable: the keyed context is only ever copied, never updated

    def __deepcopy__(self, memo: dict) -> RecordMac:
        return self

    def __repr__(self) -> str:
        return "RecordMac(<secret>)"

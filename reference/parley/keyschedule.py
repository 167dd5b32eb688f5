"""Transcript hashes (§5.6), signature input (§5.5) and key derivation (§6)."""

from __future__ import annotations

from . import cbor
from .primitives import symmetric
from .suites import Suite

PROTOCOL_LABEL = "Parley v1"
SIGNATURE_LABEL = "Parley v1 signature"

# §6: (label, length or None for Hlen).  Context TH_2, TH_3 or TH_4 as in the table.
KEYS = {
    "K_R": ("r auth key", 32),
    "MK_R": ("r auth mac", None),
    "K_E": ("e auth key", 32),
    "MK_E": ("e auth mac", None),
    "K_data": ("e2r data key", 32),
    "MK_data": ("e2r data mac", 32),
    "MK_ack": ("r2e ack mac", 32),
}


def th1(suite: Suite, m1: bytes) -> bytes:
    """TH_1 = H(M1)  (§5.6)."""
    return symmetric.hash_(suite.hash_name, m1)


def th2(suite: Suite, th_1: bytes, sid_r: bytes, g_r: bytes) -> bytes:
    """TH_2 = H(TH_1 ‖ sid_r ‖ g_r)  (§5.6)."""
    return symmetric.hash_(suite.hash_name, th_1 + sid_r + g_r)


def th_next(suite: Suite, th: bytes, message: bytes) -> bytes:
    """TH_3 = H(TH_2 ‖ M2), TH_4 = H(TH_3 ‖ M3)  (§5.6)."""
    return symmetric.hash_(suite.hash_name, th + message)


def extract(suite: Suite, th_2: bytes, z: bytes) -> bytearray:
    """PRK = HKDF-Extract(salt = TH_2, IKM = Z)  (§6)."""
    return bytearray(symmetric.hkdf_extract(suite.hash_name, th_2, bytes(z)))


# The deterministic CBOR of an array is its head followed by the encodings of its items
# (§4.2), so the constant leading items are encoded once and the rest appended.
_INFO_HEAD: dict[str, bytes] = {}
_SIG_HEAD = {
    role: b"\x86" + cbor.encode(SIGNATURE_LABEL) + cbor.encode(role)
    for role in ("emitter", "receiver")
}


def _bstr_item(b: bytes) -> bytes:
    """cbor.encode(b) for a byte string (the shortest head, RFC 8949 §4.2.1)."""
    n = len(b)
    if n < 24:
        return bytes((0x40 | n,)) + b
    if n < 0x100:
        return bytes((0x58, n)) + b
    return cbor.encode(b)


def _uint_item(n: int) -> bytes:
    """cbor.encode(n) for a small unsigned integer."""
    if 0 <= n < 24:
        return bytes((n,))
    if 0 <= n < 0x100:
        return bytes((0x18, n))
    return cbor.encode(n)


def kdf_info(label: str, context: bytes, length: int) -> bytes:
    """info = cbor(["Parley v1", label, context, L])  (§6)."""
    head = _INFO_HEAD.get(label)
    if head is None:
        head = _INFO_HEAD[label] = b"\x84" + cbor.encode(PROTOCOL_LABEL) + cbor.encode(label)
    return head + _bstr_item(bytes(context)) + _uint_item(length)


def derive(suite: Suite, prk: bytearray, name: str, context: bytes) -> bytearray:
    """One key of the table in §6, by its spec name (``K_R``, ``MK_data``...)."""
    label, length = KEYS[name]
    length = suite.hash_len if length is None else length
    okm = symmetric.hkdf_expand(
        suite.hash_name, bytes(prk), kdf_info(label, context, length), length
    )
    return bytearray(okm)


def sig_input(role: str, suite: Suite, id_e: bytes, id_r: bytes, th: bytes) -> bytes:
    """SigInput(role, TH) = cbor(["Parley v1 signature", role, suite, ID_E, ID_R, TH])  (§5.5)."""
    assert role in ("emitter", "receiver")
    return b"".join(
        (
            _SIG_HEAD[role],
            _uint_item(suite.number),
            _bstr_item(bytes(id_e)),
            _bstr_item(bytes(id_r)),
            _bstr_item(bytes(th)),
        )
    )


def wipe(*secrets: bytearray | None) -> None:
    """Overwrite key material in place (best effort, §13.3)."""
    for s in secrets:
        if s is not None:
            s[:] = bytes(len(s))

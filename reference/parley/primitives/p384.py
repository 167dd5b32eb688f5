"""ECDH on NIST P-384 (suite 2; §3.2, §3.4).

Encodings (§3.4): a public value is the 97-byte uncompressed SEC1 point
0x04 || X || Y (SEC 1 v2 §2.3.3, X and Y 48 bytes big-endian); the shared
secret Z is the 48-byte X coordinate of d * Q (SEC 1 v2 §3.3.1); an injected
ephemeral secret is 48 bytes, big-endian, 1 <= d < n.

Validation (§3.4; SEC 1 v2 §3.2.2.1, NIST SP 800-56A rev. 3 §5.6.2.3.3):
a received value must be exactly 97 bytes, start with 0x04 (the compressed
forms 0x02/0x03 and the 1-byte infinity encoding 0x00 are refused even though
the library would accept compressed points), have both coordinates < p, and
be on the curve.  P-384 has cofactor 1, so every point on the curve other
than infinity is in the prime-order group.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec as _ec
from cryptography.hazmat.primitives.serialization import (
    Encoding as _Encoding,
    PublicFormat as _PublicFormat,
)

from . import InvalidElement

#: Field prime p = 2^384 - 2^128 - 2^96 + 2^32 - 1 (FIPS 186-4 §D.1.2.4).
P = 2**384 - 2**128 - 2**96 + 2**32 - 1
#: Group order n (FIPS 186-4 §D.1.2.4).
N = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
    "C7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    16,
)
#: Length of a coordinate, of Z and of an injected secret (§3.4).
COORD_LEN = 48
SECRET_LEN = 48
SHARED_SECRET_LEN = 48
#: Length of an encoded public value: 0x04 || X || Y (§3.4).
ELEMENT_LEN = 1 + 2 * COORD_LEN

_CURVE = _ec.SECP384R1()


def decode_public(data: bytes) -> _ec.EllipticCurvePublicKey:
    """Decode and validate a peer's public point (§3.4); an opaque handle.

    Raises :class:`InvalidElement`: ``"length"`` (not 97 bytes), ``"format"``
    (not 0x04-prefixed), ``"range"`` (a coordinate >= p), ``"curve"`` (not on
    P-384).
    """
    try:
        if len(data) != ELEMENT_LEN:
            raise InvalidElement("length")
        data = bytes(data)
    except TypeError:
        raise InvalidElement("length") from None
    if data[0] != 0x04:
        raise InvalidElement("format")
    x = int.from_bytes(data[1 : 1 + COORD_LEN], "big")
    y = int.from_bytes(data[1 + COORD_LEN :], "big")
    if x >= P or y >= P:
        raise InvalidElement("range")
    try:
        return _ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, data)
    except Exception:  # noqa: BLE001 - the library's ValueError: point not on the curve
        raise InvalidElement("curve") from None


def private_from_bytes(b: bytes) -> int:
    """The scalar d encoded by a 48-byte ephemeral secret (§3.4).

    d is the big-endian integer of the bytes; valid iff 1 <= d < n, otherwise
    ``ValueError``.
    """
    if len(b) != SECRET_LEN:
        raise ValueError(f"P-384 secret must be {SECRET_LEN} bytes, got {len(b)}")
    d = int.from_bytes(b, "big")
    _check_private(d)
    return d


def _check_private(d: int) -> None:
    if not isinstance(d, int) or not 1 <= d < N:
        raise ValueError("P-384 secret out of range (need 1 <= d < n)")


def _library_key(d: int) -> _ec.EllipticCurvePrivateKey:
    _check_private(d)
    try:
        return _ec.derive_private_key(d, _CURVE)
    except Exception as exc:  # noqa: BLE001 - library failure: convert at the fence
        raise ValueError(f"P-384: library refused the secret ({exc})") from None


def public_bytes(d: int) -> bytes:
    """The encoded public value d * G: 97 bytes 0x04 || X || Y (§3.4)."""
    return keypair(d)[1]


class Ephemeral:
    """An ephemeral secret: the scalar d and the library key built from it once.

    The key serves both the public value and the exchange, which saves a second key
    construction (a scalar multiplication) per handshake.  A copy (``copy.deepcopy`` of a
    session, as the fuzz harness's snapshots do) rebuilds the key from d: the library's
    key objects cannot be copied before pyca/cryptography 47.
    """

    __slots__ = ("d", "key")

    def __init__(self, d: int) -> None:
        self.d = d
        self.key = _library_key(d)

    def __deepcopy__(self, memo: dict) -> Ephemeral:
        return Ephemeral(self.d)

    def __repr__(self) -> str:
        return "p384.Ephemeral(<secret>)"


def keypair(d: int) -> tuple[Ephemeral, bytes]:
    """(an opaque secret handle for :func:`exchange`, the encoded public value d * G).

    The library key is built once from d (§3.5: the secret comes from the injected
    entropy); see :class:`Ephemeral`.
    """
    eph = Ephemeral(d)
    return eph, eph.key.public_key().public_bytes(_Encoding.X962, _PublicFormat.UncompressedPoint)


def exchange(d: int | Ephemeral, pub: _ec.EllipticCurvePublicKey) -> bytes:
    """The shared secret Z: the 48-byte X coordinate of d * pub (§3.4).

    ``d`` is the scalar or the handle from :func:`keypair`; ``pub`` is a handle from
    :func:`decode_public`.
    """
    if not isinstance(pub, _ec.EllipticCurvePublicKey) or pub.curve.name != _CURVE.name:
        raise ValueError("P-384 exchange: pub must be a handle from decode_public")
    key = d.key if isinstance(d, Ephemeral) else _library_key(d)
    try:
        z = key.exchange(_ec.ECDH(), pub)
    except Exception:  # noqa: BLE001 - library failure: convert at the fence
        raise InvalidElement("curve") from None
    return z.rjust(SHARED_SECRET_LEN, b"\x00")


__all__ = [
    "P",
    "N",
    "COORD_LEN",
    "SECRET_LEN",
    "SHARED_SECRET_LEN",
    "ELEMENT_LEN",
    "decode_public",
    "private_from_bytes",
    "public_bytes",
    "keypair",
    "exchange",
]

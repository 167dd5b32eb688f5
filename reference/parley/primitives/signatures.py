"""Fixed-length DSA and ECDSA signatures (§3.3).

A Parley signature is r || s, each a big-endian integer left-padded to the
suite's scalar length: 32 bytes for DSA-2048/256 with SHA-256 (suite 1,
FIPS 186-4 §4.6), 48 bytes for ECDSA P-384 with SHA-384 (suite 2, FIPS 186-4
§6.4).

Suite 1 signs and verifies in :mod:`.dsa` (GMP through gmpy2; deterministic
RFC 6979 nonces or hedged ones).  Suite 2 uses the library, which speaks DER
(RFC 3279 §2.2.2 Dss-Sig-Value): this module converts both ways, so DER never
reaches the protocol.  For deterministic suite-2 signatures the library signs
with RFC 6979 and :func:`.rfc6979.generate_k` recomputes the nonce k so that
the vectors can publish it.

Keys are the handles of :mod:`.keyfile`.
"""

from __future__ import annotations

from typing import cast

from cryptography.exceptions import InvalidSignature as _InvalidSignature
from cryptography.hazmat.primitives import hashes as _hashes
from cryptography.hazmat.primitives.asymmetric import ec as _ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature as _decode_dss,
    encode_dss_signature as _encode_dss,
)

from . import dsa, p384, rfc6979
from .keyfile import PrivateHandle, PublicHandle
from .symmetric import hash_

#: Length of r and of s per suite number (§3.3); a signature is twice this.
SCALAR_LEN: dict[int, int] = {1: 32, 2: 48}


def _check_key(key: object, suite_number: int, private: bool) -> None:
    if suite_number == 1:
        cls: type = dsa.PrivateKey if private else dsa.PublicKey
        if not isinstance(key, cls):
            raise ValueError("suite 1 needs a DSA key")
        params = (
            key.public.params
            if isinstance(key, dsa.PrivateKey)
            else cast(dsa.PublicKey, key).params
        )
        if params.p.bit_length() != dsa.L_BITS or params.q.bit_length() != dsa.N_BITS:
            raise ValueError("suite 1 needs DSA with a 2048-bit p and a 256-bit q")
    elif suite_number == 2:
        cls = _ec.EllipticCurvePrivateKey if private else _ec.EllipticCurvePublicKey
        if not isinstance(key, cls) or key.curve.name != "secp384r1":
            raise ValueError("suite 2 needs an EC key on P-384")
    else:
        raise ValueError(f"unknown suite number {suite_number!r}")


def _encode(r: int, s: int, scalar_len: int) -> bytes:
    return r.to_bytes(scalar_len, "big") + s.to_bytes(scalar_len, "big")


def sign(
    private_key: PrivateHandle, message: bytes, *, suite_number: int, deterministic: bool
) -> tuple[bytes, int | None]:
    """Sign ``message``; returns (r || s, k).

    ``k`` is the RFC 6979 nonce when ``deterministic`` is true and ``None``
    otherwise (a randomized nonce is never returned).  Raises ``ValueError``
    if the key does not fit the suite.
    """
    _check_key(private_key, suite_number, private=True)
    n = SCALAR_LEN[suite_number]
    message = bytes(message)
    if isinstance(private_key, dsa.PrivateKey):
        r, s, k_dsa = dsa.sign(private_key, message, deterministic=deterministic)
        return _encode(r, s, n), (k_dsa if deterministic else None)
    assert isinstance(private_key, _ec.EllipticCurvePrivateKey)
    try:
        if deterministic:
            der = private_key.sign(message, _ec.ECDSA(_hashes.SHA384(), deterministic_signing=True))
            d = private_key.private_numbers().private_value
            k: int | None = rfc6979.generate_k(p384.N, d, hash_("sha384", message), "sha384")
        else:
            der = private_key.sign(message, _ec.ECDSA(_hashes.SHA384()))
            k = None
    except Exception as exc:  # noqa: BLE001 - library failure: convert at the fence
        raise ValueError(f"signing failed: {exc}") from None
    r, s = _decode_dss(der)
    return _encode(r, s, n), k


def verify(public_key: PublicHandle, message: bytes, sig: bytes, *, suite_number: int) -> bool:
    """True iff ``sig`` is a valid r || s signature of ``message`` (§3.3).

    False (never an exception) unless the signature has exactly 2 * scalar_len
    bytes, 0 < r < q and 0 < s < q (q the DSA subgroup order or the P-384
    group order; FIPS 186-4 §4.7 and FIPS 186-4 §6.4.2), the key fits the suite, and
    the signature verifies.
    """
    try:
        _check_key(public_key, suite_number, private=False)
        n = SCALAR_LEN[suite_number]
        if len(sig) != 2 * n:
            return False
        sig = bytes(sig)
        r = int.from_bytes(sig[:n], "big")
        s = int.from_bytes(sig[n:], "big")
        if isinstance(public_key, dsa.PublicKey):
            return dsa.verify(public_key, bytes(message), r, s)
        assert isinstance(public_key, _ec.EllipticCurvePublicKey)
        if not (0 < r < p384.N and 0 < s < p384.N):
            return False
        public_key.verify(_encode_dss(r, s), bytes(message), _ec.ECDSA(_hashes.SHA384()))
        return True
    except _InvalidSignature:
        return False
    except Exception:  # noqa: BLE001 - any library failure is "invalid"
        return False


__all__ = ["SCALAR_LEN", "sign", "verify"]

"""DSA/ECDSA nonces: RFC 6979 §3.2, deterministic or hedged (RFC 6979 §3.6).

Parley uses deterministic signatures so that the test vectors (§3.3) are
reproducible.  :func:`candidates` is the HMAC-DRBG construction of RFC 6979
§3.2 with the conversions of RFC 6979 §2.3 (bits2int, int2octets,
bits2octets); with non-empty ``extra`` it is the variant of RFC 6979 §3.6
(additional data k' appended to the seed), which :mod:`.dsa` uses with fresh
random bytes for its randomized ("hedged") signatures.  It serves both
suites: for ECDSA P-384 the library signs deterministically and this module
only recomputes the nonce it used (the tests check the two agree); suite 1's
DSA signer (:mod:`.dsa`) draws its nonces here.
"""

from __future__ import annotations

from collections.abc import Iterator

from .symmetric import HASH_LEN, hmac


def _bits2int(b: bytes, qlen: int) -> int:
    """RFC 6979 §2.3.2: the leftmost qlen bits of b as an integer."""
    v = int.from_bytes(b, "big")
    blen = 8 * len(b)
    if blen > qlen:
        v >>= blen - qlen
    return v


def _int2octets(x: int, rlen_bytes: int) -> bytes:
    """RFC 6979 §2.3.3: x as rlen bits (rounded up to whole octets), big-endian."""
    return x.to_bytes(rlen_bytes, "big")


def _bits2octets(b: bytes, q: int, qlen: int, rlen_bytes: int) -> bytes:
    """RFC 6979 §2.3.4: int2octets(bits2int(b) mod q)."""
    z1 = _bits2int(b, qlen)
    z2 = z1 - q if z1 >= q else z1  # z1 < 2^qlen < 2q, so one subtraction is mod q
    return _int2octets(z2, rlen_bytes)


def candidates(q: int, x: int, h1: bytes, hash_name: str, *, extra: bytes = b"") -> Iterator[int]:
    """Successive nonces of RFC 6979 §3.2 steps b-h (step h.3 loops on).

    ``extra`` is the additional data k' of RFC 6979 §3.6 (empty: plain §3.2).
    """
    if hash_name not in HASH_LEN:
        raise ValueError(f"unknown hash {hash_name!r}")
    if not 0 < x < q:
        raise ValueError("rfc6979: private key out of range (need 0 < x < q)")
    qlen = q.bit_length()
    rlen_bytes = (qlen + 7) // 8
    hlen = HASH_LEN[hash_name]
    seed = _int2octets(x, rlen_bytes) + _bits2octets(h1, q, qlen, rlen_bytes) + bytes(extra)
    v = b"\x01" * hlen  # step b
    k = b"\x00" * hlen  # step c
    k = hmac(hash_name, k, v + b"\x00" + seed)  # step d
    v = hmac(hash_name, k, v)  # step e
    k = hmac(hash_name, k, v + b"\x01" + seed)  # step f
    v = hmac(hash_name, k, v)  # step g
    while True:  # step h
        t = b""
        while 8 * len(t) < qlen:
            v = hmac(hash_name, k, v)
            t += v
        candidate = _bits2int(t, qlen)
        if 1 <= candidate < q:
            yield candidate
        k = hmac(hash_name, k, v + b"\x00")
        v = hmac(hash_name, k, v)


def generate_k(q: int, x: int, h1: bytes, hash_name: str) -> int:
    """The RFC 6979 §3.2 nonce k for order q, private key x and hash h1 = H(m).

    ``hash_name`` ("sha256"/"sha384") is the HMAC hash, which is also the hash
    that produced ``h1``.
    """
    return next(candidates(q, x, bytes(h1), hash_name))


__all__ = ["candidates", "generate_k"]

"""The cryptographic fence: the only code in Parley that imports cryptographic libraries
(pyca/cryptography, and gmpy2 for suite 1; ``tests/test_layering.py`` checks it).

Everything above this package (key schedule, record layer, handshake, key
files) sees plain ``bytes`` and ``int`` values and opaque key handles; it never
touches a library object's methods and never sees a library exception.  Every
function here catches what the library raises and converts it: a bad peer value
becomes :class:`InvalidElement` (mapped by the core to INVALID_PUBLIC_KEY,
§3.4), a bad local argument becomes ``ValueError``, and a failed verification
becomes ``False``.  The layout follows pyca/cryptography's own ``hazmat`` fence.

Modules:

* :mod:`.symmetric` -- hashes, HMAC, HKDF (§6, RFC 5869), AES-256-CTR (§7.2).
* :mod:`.ffdh` -- the RFC 7919 ffdhe2048 group of suite 1 (§3.2, §3.4), on GMP.
* :mod:`.p384` -- ECDH on P-384 for suite 2 (§3.2, §3.4).
* :mod:`.dsa` -- DSA-2048/256 for suite 1 (§3.3, FIPS 186-4 §4), on GMP.
* :mod:`.rfc6979` -- deterministic and hedged nonces (RFC 6979 §3.2 and RFC 6979 §3.6).
* :mod:`.signatures` -- fixed-length r || s DSA / ECDSA signatures (§3.3).
* :mod:`.keyfile`, :mod:`.der`, :mod:`.pbes2` -- key files (§12): PKCS#8 and
  SubjectPublicKeyInfo, a strict DER codec, password-based encryption.

Why suite 1 runs on GMP (gmpy2) and not on pyca/cryptography: spec §13.3 and
docs/bench.md.
"""

from __future__ import annotations


class InvalidElement(ValueError):
    """A peer's public value is not a valid element of the suite's group (§3.4).

    ``reason`` is one of:

    * ``"length"``   -- the encoding does not have the suite's fixed length;
    * ``"format"``   -- a P-384 point not in uncompressed SEC1 form (first byte
      not 0x04: compressed and infinity encodings are refused);
    * ``"range"``    -- an integer out of range (ffdhe: not 1 < y < p-1;
      P-384: a coordinate >= p);
    * ``"subgroup"`` -- ffdhe: y is not in the prime-order subgroup of order q;
    * ``"curve"``    -- P-384: the point is not on the curve.

    The core maps every reason to INVALID_PUBLIC_KEY; the reason is for logs
    and tests.
    """

    REASONS = frozenset({"length", "format", "range", "subgroup", "curve"})

    def __init__(self, reason: str) -> None:
        if reason not in self.REASONS:
            raise AssertionError(f"unknown InvalidElement reason {reason!r}")
        self.reason = reason
        super().__init__(f"invalid public value ({reason})")


__all__ = ["InvalidElement"]

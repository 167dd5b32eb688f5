"""DSA with a 2048-bit p and a 256-bit q, SHA-256 (suite 1 signatures; §3.3, FIPS 186-4 §4).

Why this module exists: pyca/cryptography deprecated DSA (including loading DSA
keys) for its release 51 and intends to remove it, so suite 1 cannot stand on
it.  The arithmetic runs in GMP through ``gmpy2``, chosen by measurement on the
project's 2-core machine (docs/bench.md): ``gmpy2.powmod_sec`` (GMP's
``mpz_powm_sec``, written to resist timing and cache side channels) takes
0.8-1.2 ms for a 2048-bit p and a 256-bit exponent, against 2-3x OpenSSL's
time for pycryptodome's DSA, whose exponentiation is GMP's ordinary
``mpz_powm`` when GMP is present.

Secrets and the routine each goes through (§13.3):

* r = (g^k mod p) mod q and y = g^x mod p: ``powmod_sec`` (k and x secret);
* k^-1 mod q: Fermat's little theorem, (b*k)^(q-2) mod q with ``powmod_sec``,
  blinded by a fresh random b so that the value inverted is not k itself;
* s = (b*k)^-1 * (b*z + (b*x)*r) mod q: GMP's ordinary multiplication and
  reduction on blinded operands (their timing depends on operand lengths, not
  on a data-dependent branch; not claimed constant time);
* verification uses only public values and ordinary ``powmod``.

Nonces (RFC 6979): ``deterministic=True`` is RFC 6979 §3.2 exactly (the test
vectors publish k); otherwise the nonce is *hedged*: RFC 6979 with 32 fresh
random bytes as the additional data k' of RFC 6979 §3.6, so a weak random
source alone cannot repeat a nonce and a fault cannot be replayed.  The
blinding value b is drawn in both modes; it does not change s.

Keys are plain frozen values (:class:`Parameters`, :class:`PublicKey`,
:class:`PrivateKey`); their key-file encodings live in :mod:`.keyfile`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from . import rfc6979
from ._gmp import gmpy2  # imported at first use: suite 2 never loads GMP
from .symmetric import hash_

#: Sizes of suite 1 (§3.3): L = bits of p, N = bits of q.
L_BITS = 2048
N_BITS = 256
HASH = "sha256"

#: Miller-Rabin rounds for generated primes (FIPS 186-4 Table C.1, L=2048/N=256).
_MR_ROUNDS_P = 56
_MR_ROUNDS_Q = 64


@dataclass(frozen=True)
class Parameters:
    """Domain parameters (p, q, g) (FIPS 186-4 §4.3)."""

    p: int
    q: int
    g: int


@dataclass(frozen=True)
class PublicKey:
    """y = g^x mod p under ``params``."""

    params: Parameters
    y: int


@dataclass(frozen=True, eq=False)
class PrivateKey:
    """x, 0 < x < q, with its public key.  ``repr`` never shows x."""

    public: PublicKey
    x: int

    def __repr__(self) -> str:
        return "dsa.PrivateKey(<secret>)"


class InvalidKey(ValueError):
    """Numbers that are not a usable suite-1 DSA key; ``reason`` says which check failed."""

    def __init__(self, reason: str, *, sizes: tuple[int, int] | None = None) -> None:
        self.reason = reason
        self.sizes = sizes  # (bits of p, bits of q) when the sizes are the problem
        super().__init__(reason)


# --------------------------------------------------------------- validation


def check_public(key: PublicKey) -> None:
    """Partial validation of a public key (FIPS 186-4 §4.1, SP 800-89 §5.3.2).

    Sizes (2048/256), q prime, q | p-1, g and y of order q.  The primality of
    p is not re-tested (56 Miller-Rabin rounds would cost tens of ms on every
    key load); a key whose p is composite can only weaken its owner's own
    signatures.  Raises :class:`InvalidKey`.
    """
    p, q, g, y = key.params.p, key.params.q, key.params.g, key.y
    if p.bit_length() != L_BITS or q.bit_length() != N_BITS:
        raise InvalidKey("size", sizes=(p.bit_length(), q.bit_length()))
    if (p - 1) % q or not gmpy2.is_prime(q, 25):
        raise InvalidKey("q is not a prime divisor of p-1")
    if not 1 < g < p or gmpy2.powmod(g, q, p) != 1:
        raise InvalidKey("g is not in the order-q subgroup")
    if not 1 < y < p or gmpy2.powmod(y, q, p) != 1:
        raise InvalidKey("y is not in the order-q subgroup")


def check_private(key: PrivateKey) -> None:
    """:func:`check_public`, 0 < x < q and y = g^x mod p (pairwise consistency)."""
    check_public(key.public)
    pr = key.public.params
    if not 0 < key.x < pr.q or int(gmpy2.powmod_sec(pr.g, key.x, pr.p)) != key.public.y:
        raise InvalidKey("x does not match y")


# --------------------------------------------------------------- generation


def _hash_int(data: bytes) -> int:
    return int.from_bytes(hash_(HASH, data), "big")


def generate_parameters() -> Parameters:
    """Fresh (p, q, g): FIPS 186-4 A.1.1.2 (probable primes from a seed) and A.2.1 (g)."""
    outlen = 256
    n = -(-L_BITS // outlen) - 1  # step 3
    b = L_BITS - 1 - n * outlen  # step 4
    while True:
        seed = secrets.randbits(256) | (1 << 255)  # step 5, seedlen = 256
        u = _hash_int(seed.to_bytes(32, "big")) % (1 << (N_BITS - 1))  # step 6
        q = (1 << (N_BITS - 1)) + u + 1 - (u % 2)  # step 7
        if not gmpy2.is_prime(q, _MR_ROUNDS_Q):  # steps 8-9
            continue
        offset = 1  # step 10
        for _counter in range(4 * L_BITS):  # step 11
            w = 0
            for j in range(n + 1):  # steps 11.1-11.2
                v = _hash_int(((seed + offset + j) % (1 << 256)).to_bytes(32, "big"))
                if j == n:
                    v %= 1 << b
                w += v << (j * outlen)
            x = w + (1 << (L_BITS - 1))  # step 11.3
            p = x - (x % (2 * q) - 1)  # steps 11.4-11.5
            if p >= 1 << (L_BITS - 1) and gmpy2.is_prime(p, _MR_ROUNDS_P):
                return Parameters(p, q, _generator(p, q))
            offset += n + 1  # step 11.9
        # step 11 exhausted: a new seed


def _generator(p: int, q: int) -> int:
    """FIPS 186-4 A.2.1: g = h^((p-1)/q) mod p for the first h = 2, 3, ... giving g != 1."""
    e = (p - 1) // q
    for h in range(2, p - 1):
        g = int(gmpy2.powmod(h, e, p))
        if g != 1:
            return g
    raise AssertionError("unreachable")  # pragma: no cover


def generate_private_key(params: Parameters | None = None) -> PrivateKey:
    """A key pair (FIPS 186-4 B.1.2); fresh domain parameters unless ``params`` is given."""
    params = params or generate_parameters()
    while True:
        c = secrets.randbits(N_BITS)
        if c <= params.q - 2:
            break
    x = c + 1
    return PrivateKey(PublicKey(params, int(gmpy2.powmod_sec(params.g, x, params.p))), x)


def private_key_from_x(params: Parameters, x: int) -> PrivateKey:
    """The key with secret x under ``params`` (test vectors use fixed keys)."""
    if not 0 < x < params.q:
        raise InvalidKey("x out of range")
    return PrivateKey(PublicKey(params, int(gmpy2.powmod_sec(params.g, x, params.p))), x)


# ---------------------------------------------------------------- signatures


def _leftmost(digest: bytes, q: int) -> int:
    """z: the leftmost min(N, outlen) bits of Hash(M) as an integer (FIPS 186-4 §4.6)."""
    return int.from_bytes(digest, "big") >> max(0, 8 * len(digest) - q.bit_length())


def sign(key: PrivateKey, message: bytes, *, deterministic: bool) -> tuple[int, int, int]:
    """(r, s, k) of ``message`` (FIPS 186-4 §4.6, SHA-256, nonce per RFC 6979)."""
    p, q, g = key.public.params.p, key.public.params.q, key.public.params.g
    h1 = hash_(HASH, message)
    z = _leftmost(h1, q)
    extra = b"" if deterministic else secrets.token_bytes(32)
    for k in rfc6979.candidates(q, key.x, h1, HASH, extra=extra):
        r = int(gmpy2.powmod_sec(g, k, p)) % q
        if r == 0:
            continue
        blind = secrets.randbelow(q - 1) + 1
        inv = gmpy2.powmod_sec(blind * k % q, q - 2, q)  # (b*k)^-1 mod q
        s = int(inv * ((blind * z + (blind * key.x % q) * r) % q) % q)
        if s == 0:
            continue
        return r, s, k
    raise AssertionError("unreachable")  # pragma: no cover


def verify(key: PublicKey, message: bytes, r: int, s: int) -> bool:
    """True iff (r, s) is a valid signature of ``message`` (FIPS 186-4 §4.7)."""
    p, q, g = key.params.p, key.params.q, key.params.g
    if not (0 < r < q and 0 < s < q):
        return False
    z = _leftmost(hash_(HASH, message), q)
    w = gmpy2.invert(s, q)
    u1, u2 = z * w % q, r * w % q
    v = gmpy2.powmod(g, u1, p) * gmpy2.powmod(key.y, u2, p) % p % q
    return int(v) == r


__all__ = [
    "L_BITS",
    "N_BITS",
    "HASH",
    "Parameters",
    "PublicKey",
    "PrivateKey",
    "InvalidKey",
    "check_public",
    "check_private",
    "generate_parameters",
    "generate_private_key",
    "private_key_from_x",
    "sign",
    "verify",
]

"""Known-answer tests of parley.primitives (§3.2-§3.4, §6, §7.2).

Every expected value comes from outside the code under test: the RFC / NIST
vectors below (typed from the documents), the published known answers in
tests/kat (provenance in tests/kat/README.md), Python's own
``pow``/``hashlib``/``hmac``, pycryptodome (an independent DSA), or the library
used directly (never through the function being tested).
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import json
import random
from pathlib import Path

import pytest
from Crypto.Hash import SHA256 as CryptodomeSHA256
from Crypto.PublicKey import DSA as CryptodomeDSA
from Crypto.Signature import DSS as CryptodomeDSS
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from parley.primitives import (
    InvalidElement,
    dsa,
    ffdh,
    keyfile,
    p384,
    rfc6979,
    signatures,
    symmetric,
)

KAT_DIR = Path(__file__).resolve().parent / "kat"
P384 = ec.SECP384R1()


def _kat(name: str) -> dict:
    return json.loads((KAT_DIR / name).read_text())


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


def i16(text: str) -> int:
    return int("".join(text.split()), 16)


# ============================================================ ffdhe2048 (§3.2, §3.4)


def test_ffdhe2048_group_is_rfc7919():
    grp = _kat("rfc7919_ffdhe_groups.json")["ffdhe2048"]
    assert i16(grp["p"]) == ffdh.P
    assert ffdh.G == grp["g"] == 2
    assert ffdh.Q == i16(grp["q"]) == (ffdh.P - 1) // 2
    assert ffdh.P.bit_length() == grp["bits"] == 2048
    assert ffdh.ELEMENT_LEN == 256
    assert ffdh.P % 8 == 7  # why 2 is a QR and -1 is not


def _jacobi_by_definition(a: int, n: int) -> int:
    """Product of Legendre symbols (Euler's criterion) over n's factorization."""
    result, m, d = 1, n, 3
    while m > 1:
        while m % d:
            d += 2
        m //= d
        e = pow(a, (d - 1) // 2, d)
        result *= 0 if a % d == 0 else (1 if e == 1 else -1)
    return result


def test_jacobi_small_odd_moduli_against_definition():
    for n in range(3, 200, 2):
        for a in range(-5, 2 * n):
            assert ffdh.jacobi(a, n) == _jacobi_by_definition(a, n), (a, n)
    assert ffdh.jacobi(5, 1) == 1


def test_jacobi_rejects_even_or_nonpositive_modulus():
    for n in (0, -3, 4, 2):
        with pytest.raises(ValueError):
            ffdh.jacobi(3, n)


def test_jacobi_matches_euler_criterion_mod_p():
    p, q = ffdh.P, ffdh.Q
    rng = random.Random(7919)
    # Random values against Euler's criterion y^q = +-1 (37 ms each in Python).
    values = [rng.randrange(2, p - 1) for _ in range(20)]
    values += [1, 2, 3, 4, p - 1, p - 2, p - 3, 2**1024, 2**2047]
    for y in values:
        e = pow(y, q, p)
        assert e in (1, p - 1)
        assert ffdh.jacobi(y, p) == (1 if e == 1 else -1), hex(y)
    # 200 more whose symbol is known by construction: r^2 is a residue and,
    # since -1 is a non-residue mod p, -r^2 is not.
    for _ in range(100):
        r = rng.randrange(1, p)
        assert ffdh.jacobi(r * r % p, p) == 1
        assert ffdh.jacobi(-r * r % p, p) == -1
    assert ffdh.jacobi(0, p) == 0
    assert ffdh.jacobi(p, p) == 0
    assert ffdh.jacobi(1, p) == 1
    assert ffdh.jacobi(2, p) == 1  # p = 7 (mod 8)
    assert ffdh.jacobi(p - 1, p) == -1  # p = 3 (mod 4)


def _enc(v: int) -> bytes:
    return v.to_bytes(256, "big")


@pytest.mark.parametrize(
    "data, reason",
    [
        (_enc(0), "range"),
        (_enc(1), "range"),
        (_enc(ffdh.P - 1), "range"),
        (_enc(ffdh.P), "range"),
        (_enc(ffdh.P + 1), "range"),
        (_enc(2**2048 - 1), "range"),
        (bytes(255), "length"),
        ((4).to_bytes(255, "big"), "length"),
        ((4).to_bytes(257, "big"), "length"),
        (b"", "length"),
    ],
)
def test_ffdh_decode_public_rejects(data, reason):
    with pytest.raises(InvalidElement) as exc:
        ffdh.decode_public(data)
    assert exc.value.reason == reason


def test_ffdh_decode_public_rejects_order_2q_element():
    p, q = ffdh.P, ffdh.Q
    small_nonresidue = next(y for y in range(3, 100) if pow(y, q, p) == p - 1)
    for y in (p - 2, small_nonresidue, p - 4):
        assert pow(y, q, p) == p - 1  # outside the order-q subgroup
        with pytest.raises(InvalidElement) as exc:
            ffdh.decode_public(_enc(y))
        assert exc.value.reason == "subgroup"


def test_ffdh_decode_public_accepts_subgroup_elements():
    p, q = ffdh.P, ffdh.Q
    rng = random.Random(2)
    for y in [2, 4, 9, p - 2 * (p - 2) % p] + [pow(2, rng.randrange(2, q), p) for _ in range(4)]:
        assert pow(y, q, p) == 1
        assert ffdh.decode_public(_enc(y)) == y
        assert ffdh.decode_public(bytearray(_enc(y))) == y


def test_ffdh_private_from_bytes_range():
    for bad in (0, 1):
        with pytest.raises(ValueError):
            ffdh.private_from_bytes(bad.to_bytes(32, "big"))
    assert ffdh.private_from_bytes((2).to_bytes(32, "big")) == 2
    assert ffdh.private_from_bytes(b"\xff" * 32) == 2**256 - 1
    for n in (31, 33, 0):
        with pytest.raises(ValueError):
            ffdh.private_from_bytes(b"\x07" * n)


def test_ffdh_public_bytes_against_pow():
    p = ffdh.P
    rng = random.Random(3)
    for x in [2, 1000, 2**256 - 1] + [rng.randrange(2, 2**256) for _ in range(4)]:
        out = ffdh.public_bytes(x)
        assert out == pow(2, x, p).to_bytes(256, "big")
    assert ffdh.public_bytes(1000)[:130] == bytes(130)  # left padding (2^1000 < 2^1048)
    for bad in (0, 1, ffdh.Q, -5):
        with pytest.raises(ValueError):
            ffdh.public_bytes(bad)


def test_ffdh_exchange_agrees_and_matches_pow():
    p = ffdh.P
    rng = random.Random(4)
    x1, x2 = rng.randrange(2, 2**256), rng.randrange(2, 2**256)
    y1 = ffdh.decode_public(ffdh.public_bytes(x1))
    y2 = ffdh.decode_public(ffdh.public_bytes(x2))
    z12, z21 = ffdh.exchange(x1, y2), ffdh.exchange(x2, y1)
    assert z12 == z21 == pow(y2, x1, p).to_bytes(256, "big")
    # Z with leading zero bytes keeps its fixed length: 4^600 = 2^1200 < p.
    z = ffdh.exchange(600, 4)
    assert len(z) == 256 and z == (2**1200).to_bytes(256, "big")


def test_ffdh_exchange_refuses_bad_peer_value():
    with pytest.raises(InvalidElement):
        ffdh.exchange(5, 1)
    with pytest.raises(InvalidElement):
        ffdh.exchange(5, ffdh.P - 1)
    with pytest.raises(InvalidElement) as exc:
        ffdh.exchange(5, ffdh.P - 2)
    assert exc.value.reason == "subgroup"


# ============================================================ P-384 (§3.2, §3.4)


def test_p384_constants():
    g = ec.derive_private_key(1, P384).public_key().public_numbers()
    minus_g = ec.derive_private_key(p384.N - 1, P384).public_key().public_numbers()
    assert (minus_g.x, minus_g.y) == (g.x, p384.P - g.y)  # (n-1)G = -G
    with pytest.raises(ValueError):
        ec.derive_private_key(p384.N, P384)  # nG = infinity
    assert p384.P.bit_length() == p384.N.bit_length() == 384
    assert (g.y**2 - g.x**3 + 3 * g.x) % p384.P == i16(
        "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
        "C656398D8A2ED19D2A85C8EDD3EC2AEF"
    )  # b of FIPS 186-4 D.1.2.4
    assert p384.ELEMENT_LEN == 97


# RFC 5903 §8.2 (384-bit random ECP group): i, g^i, r, g^r, g^ir.
RFC5903_I = i16(
    "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655"
    "E35B538041E649EE3FAEF896783AB194"
)
RFC5903_GI = h(
    "04"
    "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6"
    "DE3AC808ACB4BDB4C88732AEE95F41AA"
    "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38E"
    "EB9FCFF3C2C947DAE69B4C634573A81C"
)
RFC5903_R = i16(
    "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942"
    "E0308312916B8ED2960E4BD55A7448FC"
)
RFC5903_GR = h(
    "04"
    "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D"
    "0D1AC43A0336DEF96FDA41D0774A3571"
    "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FF"
    "F83FA40142209DFF5EAAD96DB9E6386C"
)
RFC5903_GIR = h(
    "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4"
    "D603135569B9E9D09CF5D4A270F59746"
)


def test_p384_rfc5903_vector():
    assert p384.public_bytes(RFC5903_I) == RFC5903_GI
    assert p384.public_bytes(RFC5903_R) == RFC5903_GR
    assert p384.exchange(RFC5903_I, p384.decode_public(RFC5903_GR)) == RFC5903_GIR
    assert p384.exchange(RFC5903_R, p384.decode_public(RFC5903_GI)) == RFC5903_GIR


def test_p384_exchange_agrees_and_pads():
    rng = random.Random(5)
    d1, d2 = rng.randrange(1, p384.N), rng.randrange(1, p384.N)
    z12 = p384.exchange(d1, p384.decode_public(p384.public_bytes(d2)))
    z21 = p384.exchange(d2, p384.decode_public(p384.public_bytes(d1)))
    assert z12 == z21 and len(z12) == 48
    # 405 * (7G) has an X coordinate whose first byte is zero (found by search).
    z = p384.exchange(405, p384.decode_public(p384.public_bytes(7)))
    x = ec.derive_private_key(405 * 7, P384).public_key().public_numbers().x
    assert z[0] == 0 and len(z) == 48 and z == x.to_bytes(48, "big")


def test_p384_private_from_bytes_range():
    with pytest.raises(ValueError):
        p384.private_from_bytes(bytes(48))
    with pytest.raises(ValueError):
        p384.private_from_bytes(p384.N.to_bytes(48, "big"))
    with pytest.raises(ValueError):
        p384.private_from_bytes(b"\xff" * 48)
    assert p384.private_from_bytes((1).to_bytes(48, "big")) == 1
    assert p384.private_from_bytes((p384.N - 1).to_bytes(48, "big")) == p384.N - 1
    for n in (47, 49):
        with pytest.raises(ValueError):
            p384.private_from_bytes(b"\x01" * n)


def _p384_reject(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidElement) as exc:
        p384.decode_public(data)
    assert exc.value.reason == reason


def test_p384_decode_public_rejections():
    good = RFC5903_GI
    p384.decode_public(good)
    x, y = good[1:49], good[49:]
    compressed = bytes([0x02 | (y[-1] & 1)]) + x
    # The library itself would take the compressed form; Parley must not.
    assert ec.EllipticCurvePublicKey.from_encoded_point(P384, compressed) is not None
    _p384_reject(compressed, "length")
    _p384_reject(bytes([0x02]) + x + y, "format")
    _p384_reject(bytes([0x03]) + x + y, "format")
    _p384_reject(b"\x00", "length")  # SEC1 point at infinity
    _p384_reject(bytes(97), "format")
    _p384_reject(good[:-1], "length")
    _p384_reject(good + b"\x00", "length")
    _p384_reject(b"", "length")
    _p384_reject(good[:-1] + bytes([good[-1] ^ 1]), "curve")  # off the curve
    _p384_reject(b"\x04" + bytes(96), "curve")  # (0, 0)
    pbytes = p384.P.to_bytes(48, "big")
    _p384_reject(b"\x04" + pbytes + y, "range")  # x = p
    _p384_reject(b"\x04" + b"\xff" * 48 + y, "range")
    _p384_reject(b"\x04" + x + pbytes, "range")  # y = p
    # x + p: same residue as a valid x, still refused
    x_plus_p = int.from_bytes(x, "big") + p384.P
    if x_plus_p < 2**384:
        _p384_reject(b"\x04" + x_plus_p.to_bytes(48, "big") + y, "range")


# ============================================================ RFC 6979 (§3.3)


def _dsa_kat():
    kat = _kat("rfc6979_dsa2048.json")
    assert kat["hash"] == "SHA-256"
    return kat, i16(kat["p"]), i16(kat["q"]), i16(kat["g"]), i16(kat["x"]), i16(kat["y"])


def _dsa_key(p, q, g, x, y):
    key = dsa.private_key_from_x(dsa.Parameters(p, q, g), x)
    assert key.public.y == y
    return key


def _cryptodome(p, q, g, y, x=None):
    """The same key in pycryptodome, an independent DSA implementation."""
    return CryptodomeDSA.construct((y, g, p, q) + ((x,) if x is not None else ()))


def test_rfc6979_dsa2048_sha256_all_cases():
    kat, p, q, g, x, y = _dsa_kat()
    assert pow(g, x, p) == y
    key = _dsa_key(p, q, g, x, y)
    assert kat["cases"]
    for case in kat["cases"]:
        msg = case["message"].encode()
        k, r, s = i16(case["k"]), i16(case["r"]), i16(case["s"])
        assert rfc6979.generate_k(q, x, hashlib.sha256(msg).digest(), "sha256") == k
        assert dsa.sign(key, msg, deterministic=True) == (r, s, k)


def test_signatures_suite1_deterministic_matches_kat_and_pycryptodome():
    kat, p, q, g, x, y = _dsa_kat()
    key = _dsa_key(p, q, g, x, y)
    other_impl = _cryptodome(p, q, g, y, x)
    for case in kat["cases"]:
        msg = case["message"].encode()
        r, s, k = i16(case["r"]), i16(case["s"]), i16(case["k"])
        sig, got_k = signatures.sign(key, msg, suite_number=1, deterministic=True)
        assert sig == r.to_bytes(32, "big") + s.to_bytes(32, "big") and got_k == k
        digest = CryptodomeSHA256.new(msg)
        assert CryptodomeDSS.new(other_impl, "deterministic-rfc6979").sign(digest) == sig
        CryptodomeDSS.new(other_impl.public_key(), "fips-186-3").verify(
            digest, sig
        )  # raises if bad
        assert signatures.verify(key.public, msg, sig, suite_number=1)


def test_suite1_hedged_signatures_vary_and_verify_independently():
    """Randomized signing (RFC 6979 §3.6 with random k'): a fresh nonce every time,
    each signature valid for an independent verifier."""
    _, p, q, g, x, y = _dsa_kat()
    key = _dsa_key(p, q, g, x, y)
    verifier = CryptodomeDSS.new(_cryptodome(p, q, g, y), "fips-186-3")
    sigs = set()
    for _ in range(8):
        sig, k = signatures.sign(key, b"hedged", suite_number=1, deterministic=False)
        assert k is None
        verifier.verify(CryptodomeSHA256.new(b"hedged"), sig)
        sigs.add(sig)
    assert len(sigs) == 8
    det, _ = signatures.sign(key, b"hedged", suite_number=1, deterministic=True)
    assert det not in sigs


def test_suite1_verify_accepts_pycryptodome_signatures():
    _, p, q, g, x, y = _dsa_kat()
    other_impl = _cryptodome(p, q, g, y, x)
    for msg in (b"", b"a", bytes(range(256)) * 3):
        sig = CryptodomeDSS.new(other_impl, "fips-186-3").sign(CryptodomeSHA256.new(msg))
        assert signatures.verify(_dsa_key(p, q, g, x, y).public, msg, sig, suite_number=1)
        assert not signatures.verify(
            _dsa_key(p, q, g, x, y).public, msg + b"!", sig, suite_number=1
        )


def test_rfc6979_p384_all_cases():
    kat = _kat("rfc6979_p384.json")
    assert kat["curve"] == "P-384"
    x = i16(kat["x"])
    key = ec.derive_private_key(x, P384)
    pub = key.public_key().public_numbers()
    assert (pub.x, pub.y) == (i16(kat["Ux"]), i16(kat["Uy"]))
    algs = {"SHA-256": (hashes.SHA256(), "sha256"), "SHA-384": (hashes.SHA384(), "sha384")}
    assert len(kat["cases"]) >= 4
    for case in kat["cases"]:
        alg, name = algs[case["hash"]]
        msg = case["message"].encode()
        k, r, s = i16(case["k"]), i16(case["r"]), i16(case["s"])
        assert rfc6979.generate_k(p384.N, x, hashlib.new(name, msg).digest(), name) == k
        der = key.sign(msg, ec.ECDSA(alg, deterministic_signing=True))
        assert decode_dss_signature(der) == (r, s)
        kg = ec.derive_private_key(k, P384).public_key().public_numbers()
        assert kg.x % p384.N == r
        if name == "sha384":  # the suite-2 path of signatures.sign
            sig, got_k = signatures.sign(key, msg, suite_number=2, deterministic=True)
            assert sig == r.to_bytes(48, "big") + s.to_bytes(48, "big") and got_k == k
            assert signatures.verify(key.public_key(), msg, sig, suite_number=2)


def test_p384_deterministic_k_is_the_library_nonce():
    rng = random.Random(6)
    for _ in range(3):
        key = ec.derive_private_key(rng.randrange(1, p384.N), P384)
        msg = rng.randbytes(rng.randrange(0, 200))
        sig, k = signatures.sign(key, msg, suite_number=2, deterministic=True)
        r = int.from_bytes(sig[:48], "big")
        assert ec.derive_private_key(k, P384).public_key().public_numbers().x % p384.N == r


def test_dsa_retries_when_r_or_s_is_zero(monkeypatch):
    """FIPS 186-4 §4.6 / RFC 6979 §3.2 step h.3: a nonce giving r = 0 or s = 0 is skipped.

    Toy group p = 59, q = 29, g = 4 (found by search): g^14 mod 59 = 29, so k = 14 gives
    r = 0; with x chosen so that z + x*r = 0 (mod q), the next candidate gives s = 0."""
    p, q, g = 59, 29, 4
    assert pow(g, 14, p) % q == 0
    z = int.from_bytes(hashlib.sha256(b"m").digest(), "big") >> (256 - q.bit_length())
    r3 = pow(g, 3, p) % q
    x = next(x for x in range(1, q) if (z + x * r3) % q == 0)  # k = 3 gives s = 0
    key = dsa.PrivateKey(dsa.PublicKey(dsa.Parameters(p, q, g), pow(g, x, p)), x)
    monkeypatch.setattr(dsa.rfc6979, "candidates", lambda *a, **kw: iter([14, 3, 5]))
    r, s, k = dsa.sign(key, b"m", deterministic=True)
    assert k == 5 and r == pow(g, 5, p) % q
    assert s == pow(5, -1, q) * (z + x * r) % q != 0
    assert dsa.verify(key.public, b"m", r, s)


# ============================================================ signature checks (§3.3)


@pytest.fixture(scope="module")
def sig_keys():
    _, p, q, g, x, y = _dsa_kat()
    dsa_key = _dsa_key(p, q, g, x, y)
    x2 = x ^ 0x5555
    dsa_other = _dsa_key(p, q, g, x2, pow(g, x2, p))
    ec_key = ec.derive_private_key(i16(_kat("rfc6979_p384.json")["x"]), P384)
    ec_other = ec.derive_private_key(12345, P384)
    return {1: (dsa_key, dsa_other, q, 32), 2: (ec_key, ec_other, p384.N, 48)}


@pytest.mark.parametrize("suite_number", [1, 2])
@pytest.mark.parametrize("deterministic", [True, False])
def test_verify_rejects_malformed_signatures(sig_keys, suite_number, deterministic):
    key, other, q, n = sig_keys[suite_number]
    pub = keyfile.public_of(key)
    msg = b"Parley signature test"
    sig, k = signatures.sign(key, msg, suite_number=suite_number, deterministic=deterministic)
    assert (k is None) != deterministic
    assert len(sig) == 2 * n
    assert signatures.verify(pub, msg, sig, suite_number=suite_number)
    r, s = sig[:n], sig[n:]
    zero, qb = bytes(n), q.to_bytes(n, "big")
    bad = [
        zero + s,
        r + zero,
        qb + s,
        r + qb,
        b"\xff" * n + s,
        r + b"\xff" * n,
        sig[:-1],
        sig + b"\x00",
        b"",
        bytes(2 * n),
        sig[: n - 1] + bytes([sig[n - 1] ^ 0x01]) + s,
        r + bytes([s[0] ^ 0x80]) + s[1:],
        sig[:-1] + bytes([sig[-1] ^ 0x01]),
        s + r,
    ]
    for b in bad:
        assert signatures.verify(pub, msg, b, suite_number=suite_number) is False, b.hex()
    assert signatures.verify(pub, msg + b"!", sig, suite_number=suite_number) is False
    other_sig, _ = signatures.sign(
        other, msg, suite_number=suite_number, deterministic=deterministic
    )
    assert signatures.verify(pub, msg, other_sig, suite_number=suite_number) is False
    # wrong suite, wrong key type, junk: False, never an exception
    assert signatures.verify(pub, msg, sig, suite_number=3 - suite_number) is False
    assert signatures.verify(pub, msg, sig, suite_number=9) is False
    assert signatures.verify(None, msg, sig, suite_number=suite_number) is False
    assert signatures.verify(pub, msg, "not bytes", suite_number=suite_number) is False


def test_sign_refuses_key_of_other_suite(sig_keys):
    with pytest.raises(ValueError):
        signatures.sign(sig_keys[1][0], b"m", suite_number=2, deterministic=True)
    with pytest.raises(ValueError):
        signatures.sign(sig_keys[2][0], b"m", suite_number=1, deterministic=False)


def test_verify_rejects_p256_key():
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.sign(b"m", ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    assert signatures.verify(key.public_key(), b"m", sig, suite_number=2) is False


# ============================================================ HKDF, RFC 5869 (§6)

RFC5869 = [
    # (IKM, salt, info, L, PRK, OKM) -- RFC 5869 Appendix A.1-A.3 (SHA-256)
    (
        bytes([0x0B] * 22),
        h("000102030405060708090a0b0c"),
        h("f0f1f2f3f4f5f6f7f8f9"),
        42,
        h("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"),
        h("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
    ),
    (
        bytes(range(0x00, 0x50)),
        bytes(range(0x60, 0xB0)),
        bytes(range(0xB0, 0x100)),
        82,
        h("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"),
        h(
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87"
        ),
    ),
    (
        bytes([0x0B] * 22),
        b"",
        b"",
        42,
        h("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"),
        h("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ),
]


@pytest.mark.parametrize("ikm, salt, info, length, prk, okm", RFC5869, ids=["A.1", "A.2", "A.3"])
def test_hkdf_rfc5869(ikm, salt, info, length, prk, okm):
    assert symmetric.hkdf_extract("sha256", salt, ikm) == prk
    assert symmetric.hkdf_expand("sha256", prk, info, length) == okm


def test_hkdf_limits():
    prk = bytes(48)
    assert len(symmetric.hkdf_expand("sha384", prk, b"", 255 * 48)) == 255 * 48
    for bad in (0, 255 * 48 + 1, -1):
        with pytest.raises(ValueError):
            symmetric.hkdf_expand("sha384", prk, b"", bad)
    with pytest.raises(ValueError):
        symmetric.hkdf_expand("md5", prk, b"", 16)
    assert symmetric.hkdf_extract("sha384", None, b"k") == std_hmac.digest(
        bytes(48), b"k", "sha384"
    )


# ============================================================ HMAC, RFC 4231

RFC4231 = [
    # (case, key, data, HMAC-SHA-256, HMAC-SHA-384)
    (
        1,
        bytes([0x0B] * 20),
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
        "faea9ea9076ede7f4af152e8b2fa9cb6",
    ),
    (
        2,
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
        "8e2240ca5e69e2c78b3239ecfab21649",
    ),
    (
        6,
        bytes([0xAA] * 131),
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
        "0c2ef6ab4030fe8296248df163f44952",
    ),
]


@pytest.mark.parametrize("case, key, data, t256, t384", RFC4231, ids=lambda v: str(v)[:8])
def test_hmac_rfc4231(case, key, data, t256, t384):
    for name, tag in (("sha256", h(t256)), ("sha384", h(t384))):
        assert symmetric.hmac(name, key, data) == tag
        assert symmetric.hmac_verify(name, key, data, tag)
        assert not symmetric.hmac_verify(name, key, data, tag[:-1] + bytes([tag[-1] ^ 1]))
        assert not symmetric.hmac_verify(name, key, data, tag[:-1])
        assert not symmetric.hmac_verify(name, key, data, tag + b"\x00")
        assert not symmetric.hmac_verify(name, key, data, b"")


def test_hmac_verify_uses_compare_digest(monkeypatch):
    seen = []
    real = std_hmac.compare_digest

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(symmetric._std_hmac, "compare_digest", spy)
    assert symmetric.hmac_verify("sha256", b"k", b"d", std_hmac.digest(b"k", b"d", "sha256"))
    assert len(seen) == 1


def test_hash_names_and_lengths():
    for name, n in (("sha256", 32), ("sha384", 48)):
        assert symmetric.HASH_LEN[name] == n
        assert symmetric.hash_(name, b"abc") == hashlib.new(name, b"abc").digest()
    for bad in ("sha1", "SHA256", "", None):
        with pytest.raises(ValueError):
            symmetric.hash_(bad, b"")
        with pytest.raises(ValueError):
            symmetric.hmac(bad, b"k", b"")


# ============================================================ AES-256-CTR (§7.2)


def test_aes256_ctr_sp800_38a_f55():
    key = h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    ctr = h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plain = h(
        "6bc1bee22e409f96e93d7e117393172a"
        "ae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52ef"
        "f69f2445df4f9b17ad2b417be66c3710"
    )
    cipher = h(
        "601ec313775789a5b7a7f504bbf3d228"
        "f443e3ca4d62b59aca84e990cacaf5c5"
        "2b0930daa23de94ce87017ba2d84988d"
        "dfc9c58db67aada613c2dd08457941a6"
    )
    assert symmetric.aes256_ctr(key, ctr, plain) == cipher
    assert symmetric.aes256_ctr(key, ctr, cipher) == plain
    # fresh context per call: the same call twice gives the same output
    assert symmetric.aes256_ctr(key, ctr, plain[:20]) == cipher[:20]
    assert symmetric.aes256_ctr(key, ctr, plain[:20]) == cipher[:20]
    # counter block 2 of the vector = initial counter + 1 (128-bit, with carry)
    ctr2 = (int.from_bytes(ctr, "big") + 1).to_bytes(16, "big")
    assert symmetric.aes256_ctr(key, ctr2, plain[16:32]) == cipher[16:32]
    assert symmetric.aes256_ctr(key, ctr, memoryview(plain)) == cipher
    assert symmetric.aes256_ctr(key, ctr, b"") == b""


def test_aes_ctr_key_reused_context_sp800_38a_f55():
    """AesCtrKey (one context, counter block reset per record) gives F.5.5 in any order of use."""
    key = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    ctr = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plain = bytes.fromhex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
    )
    cipher = bytes.fromhex(
        "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
        "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"
    )
    k = symmetric.AesCtrKey(key)
    ctr2 = (int.from_bytes(ctr, "big") + 1).to_bytes(16, "big")
    assert k.apply(ctr2, plain[16:32]) == cipher[16:32]  # out of order first
    assert k.apply(ctr, plain[:20]) == cipher[:20]  # a partial block ...
    assert k.apply(ctr, plain) == cipher  # ... leaves no keystream behind
    assert k.apply(ctr, cipher) == plain
    assert "603deb" not in repr(k)


def test_aes256_ctr_argument_checks():
    with pytest.raises(ValueError):
        symmetric.aes256_ctr(bytes(16), bytes(16), b"x")
    with pytest.raises(ValueError):
        symmetric.aes256_ctr(bytes(32), bytes(12), b"x")

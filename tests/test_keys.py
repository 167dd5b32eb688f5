"""Key files and long-term keys (§12).

Interoperability is checked against the real ``openssl`` binary: keys it
writes must load with the right suite, and keys Parley writes must be
readable by it.  Suite-1 (DSA) encodings are checked against pycryptodome, an
independent implementation; identities and fingerprints are recomputed with
hashlib.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from Crypto.PublicKey import DSA as CryptodomeDSA
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from parley import keys
from parley.errors import KeyFileError
from parley.primitives import keyfile, pbes2
from parley.suites import SUITE_1, SUITE_2

KAT_DIR = Path(__file__).resolve().parent / "kat"
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not on PATH")

PW = b"correct horse battery staple"


def _pkcs8(handle, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM written by another implementation: pycryptodome for DSA, else the library."""
    if isinstance(handle, CryptodomeDSA.DsaKey):
        if password:
            return handle.export_key(
                format="PEM",
                pkcs8=True,
                passphrase=password.decode(),
                protection="PBKDF2WithHMAC-SHA256AndAES256-CBC",
            )
        return handle.export_key(format="PEM", pkcs8=True)
    enc = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return handle.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def _spki_pem(handle) -> bytes:
    if isinstance(handle, CryptodomeDSA.DsaKey):
        return handle.public_key().export_key(format="PEM")
    return handle.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _public(handle):
    return handle.public_key()


def _cryptodome_of(key) -> CryptodomeDSA.DsaKey:
    """A Parley suite-1 key rebuilt in pycryptodome from its numbers."""
    h = key.handle
    pub = h.public if hasattr(h, "public") else h
    pr = pub.params
    return CryptodomeDSA.construct((pub.y, pr.g, pr.p, pr.q) + ((h.x,) if hasattr(h, "x") else ()))


def _raises(name: str, fn, *args, **kwargs) -> KeyFileError:
    with pytest.raises(KeyFileError) as exc:
        fn(*args, **kwargs)
    assert exc.value.name == name, str(exc.value)
    assert exc.value.section == "§12"
    return exc.value


@pytest.fixture(scope="module")
def generated():
    return {1: keys.generate_private_key(SUITE_1), 2: keys.generate_private_key(SUITE_2)}


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("suite", [SUITE_1, SUITE_2], ids=["suite1", "suite2"])
def test_generate_pem_load_round_trip(generated, suite):
    key = generated[suite.number]
    assert key.suite is suite
    pem = keys.private_key_pem(key, PW)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    loaded = keys.load_private_key(pem, PW)
    assert loaded.suite is suite
    assert loaded.spki_der == key.spki_der and loaded.identity == key.identity
    assert loaded == key
    # identity = H(SPKI DER) with the suite hash; fingerprint = SHA-256 (display)
    digest = hashlib.new(suite.hash_name, key.spki_der).digest()
    assert key.identity == digest and len(digest) == suite.hash_len
    assert keys.fingerprint(key.public) == "SHA256:" + hashlib.sha256(key.spki_der).hexdigest()
    assert keys.fingerprint(key) == keys.fingerprint(key.public)
    # the SPKI is another implementation's DER encoding of the same public key
    if suite is SUITE_1:
        assert key.spki_der == _cryptodome_of(key).public_key().export_key(format="DER")
        assert (
            keys.load_private_key(_cryptodome_of(key).export_key(format="PEM", pkcs8=True), None)
            == key
        )
        assert keyfile.pkcs8_der(key.handle) == _cryptodome_of(key).export_key(
            format="DER", pkcs8=True
        )
    else:
        assert key.spki_der == key.handle.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    # public key file round trip
    pub_pem = keys.public_key_pem(key)
    assert pub_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert keys.public_key_pem(key.public) == pub_pem
    pub = keys.load_public_key(pub_pem)
    assert pub == key.public and pub.suite is suite
    # a signature by the loaded key verifies under the loaded public key
    sig = loaded.sign(b"round trip")
    assert len(sig) == suite.sig_len
    assert pub.verify(b"round trip", sig) and not pub.verify(b"round trip!", sig)
    # unencrypted PKCS#8 loads too (with or without a password given)
    plain = keys.private_key_pem(key, None)
    assert plain.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert keys.load_private_key(plain, None) == key
    assert keys.load_private_key(plain, b"ignored") == key


def test_expect_suite(generated):
    pem = keys.private_key_pem(generated[2], None)
    assert keys.load_private_key(pem, None, expect_suite=SUITE_2).suite is SUITE_2
    err = _raises("KEY_SUITE_MISMATCH", keys.load_private_key, pem, None, expect_suite=SUITE_1)
    assert SUITE_1.name in str(err) and SUITE_2.name in str(err)
    _raises(
        "KEY_SUITE_MISMATCH",
        keys.load_public_key,
        keys.public_key_pem(generated[1]),
        expect_suite=SUITE_2,
    )


def test_empty_password_refused_at_write(generated):
    with pytest.raises(ValueError):
        keys.private_key_pem(generated[2], b"")


# ------------------------------------------------------------------ passwords


def test_wrong_or_missing_password(generated):
    pem = keys.private_key_pem(generated[2], PW)
    _raises("KEY_PASSWORD_WRONG", keys.load_private_key, pem, b"wrong")
    _raises("KEY_PASSWORD_WRONG", keys.load_private_key, pem, PW + b"x")
    err = _raises("KEY_PASSWORD_WRONG", keys.load_private_key, pem, None)
    assert "password" in str(err)
    _raises("KEY_PASSWORD_WRONG", keys.load_private_key, pem, b"")


# ------------------------------------------------------------------ invalid files


def _pem_block(label: str, der: bytes) -> bytes:
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def test_garbage_is_invalid(generated):
    good = keys.private_key_pem(generated[2], None)
    body = good.split(b"\n")
    cases_private = [
        b"",
        b"garbage",
        b"\x00" * 100,
        bytes(range(256)),
        b"-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n",
        _pem_block("PRIVATE KEY", b"\x30\x03\x02\x01\x00"),
        _pem_block("PRIVATE KEY", bytes(64)),
        b"\n".join(body[:3] + body[4:]),  # a line missing
        good.replace(b"-----END PRIVATE KEY-----", b""),  # truncated
        good + good,  # two keys
        keys.public_key_pem(generated[2]),  # a public key
        generated[2].handle.private_bytes(  # legacy SEC1 "EC PRIVATE KEY"
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        generated[2].handle.private_bytes(  # DER, not PEM
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    ]
    for pem in cases_private:
        _raises("KEY_FILE_INVALID", keys.load_private_key, pem, None)
    cases_public = [
        b"",
        b"garbage",
        _pem_block("PUBLIC KEY", bytes(40)),
        b"-----BEGIN PUBLIC KEY-----\n%%%%\n-----END PUBLIC KEY-----\n",
        good,  # a private key
        _pem_block("CERTIFICATE", b"\x30\x00"),
    ]
    for pem in cases_public:
        _raises("KEY_FILE_INVALID", keys.load_public_key, pem)


def test_legacy_format_message_says_how_to_convert(generated):
    legacy = _cryptodome_of(generated[1]).export_key(format="PEM", pkcs8=False)
    err = _raises("KEY_FILE_INVALID", keys.load_private_key, legacy, None)
    assert "DSA PRIVATE KEY" in str(err) and "openssl pkey" in str(err)


def test_inconsistent_dsa_parameters_are_invalid():
    kat = json.loads((KAT_DIR / "rfc6979_dsa2048.json").read_text())
    p, q = int(kat["p"], 16), int(kat["q"], 16)
    g, y, x = int(kat["g"], 16), int(kat["y"], 16), int(kat["x"], 16)
    bad = [
        (p - 1, p - 1, q),  # g of order 2, not in the order-q subgroup
        (p - 1, g, q),  # y of order 2
        (1, g, q),  # y = 1
        (y, g, q + 2),  # q does not divide p - 1
    ]
    for yy, gg, qq in bad:
        pub = CryptodomeDSA.construct((yy, gg, p, qq), consistency_check=False)
        _raises("KEY_FILE_INVALID", keys.load_public_key, _spki_pem(pub))
    # PKCS#8 holds only x (y is derived from it): an x out of range is refused
    for xx in (0, q, q + 1):
        der = keyfile.der.sequence(
            keyfile.der.integer(0),
            keyfile.der.sequence(
                keyfile.der.oid("1.2.840.10040.4.1"),
                keyfile.der.sequence(
                    keyfile.der.integer(p), keyfile.der.integer(q), keyfile.der.integer(g)
                ),
            ),
            keyfile.der.octet_string(keyfile.der.integer(xx)),
        )
        _raises("KEY_FILE_INVALID", keys.load_private_key, _pem_block("PRIVATE KEY", der), None)
    # while the RFC 6979 key itself (consistent) is a fine suite-1 key
    good = CryptodomeDSA.construct((y, g, p, q, x))
    assert keys.load_public_key(_spki_pem(good)).suite is SUITE_1
    assert keys.load_private_key(_pkcs8(good), None).suite is SUITE_1


# ------------------------------------------------------------------ wrong key types


def _fake_dsa3072():
    """A structurally valid 3072/256 DSA key without a 3-second parameter search
    (its numbers are not a real DSA group; only the sizes matter here)."""
    grp = json.loads((KAT_DIR / "rfc7919_ffdhe_groups.json").read_text())["ffdhe3072"]
    p, q, g, x = int(grp["p"], 16), (1 << 255) + 0x1D3, 2, 12345
    return CryptodomeDSA.construct((pow(g, x, p), g, p, q, x), consistency_check=False)


@pytest.fixture(scope="module")
def foreign_keys():
    return {
        "RSA key (2048 bits)": rsa.generate_private_key(65537, 2048),
        "DSA key with a 1024-bit p and a 160-bit q": CryptodomeDSA.generate(1024),
        "DSA key with a 3072-bit p and a 256-bit q": _fake_dsa3072(),
        "EC key on curve secp256r1": ec.generate_private_key(ec.SECP256R1()),
        "EC key on curve secp521r1": ec.generate_private_key(ec.SECP521R1()),
        "Ed25519 key": ed25519.Ed25519PrivateKey.generate(),
    }


def test_wrong_key_types_are_suite_mismatch(foreign_keys):
    for described, handle in foreign_keys.items():
        for pem, password in ((_pkcs8(handle), None), (_pkcs8(handle, PW), PW)):
            err = _raises("KEY_SUITE_MISMATCH", keys.load_private_key, pem, password)
            assert described in str(err)
            assert "P-384" in str(err) and "2048-bit p" in str(err)  # what the suites need
        err = _raises("KEY_SUITE_MISMATCH", keys.load_public_key, _spki_pem(handle.public_key()))
        assert described in str(err)


# ------------------------------------------------------------------ repr


@pytest.mark.parametrize("n", [1, 2])
def test_repr_hides_private_material(generated, n):
    key = generated[n]
    secret = keyfile.private_scalar(key.handle)
    text = repr(key) + str(key) + repr(key.public) + repr([key])
    for form in (str(secret), f"{secret:x}", f"{secret:X}", secret.to_bytes(48, "big").hex()):
        assert form.lstrip("0")[:12] not in text
    assert key.suite.name in repr(key)
    assert key.identity.hex()[:16] in repr(key)
    assert key.identity.hex() not in repr(key)  # a prefix only


# ------------------------------------------------------------------ openssl interop


def _run(*args: str, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([OPENSSL, *args], cwd=cwd, input=input, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def openssl_keys(tmp_path_factory):
    if OPENSSL is None:
        pytest.skip("the openssl binary is not on PATH")
    d = tmp_path_factory.mktemp("openssl")
    steps = [
        ("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "ec.pem"),
        (
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-384",
            "-aes-256-cbc",
            "-pass",
            "pass:sesame",
            "-out",
            "ec_enc.pem",
        ),
        (
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:2048",
            "-pkeyopt",
            "dsa_paramgen_q_bits:256",
            "-out",
            "dsaparam.pem",
        ),
        ("genpkey", "-paramfile", "dsaparam.pem", "-out", "dsa.pem"),
        (
            "genpkey",
            "-paramfile",
            "dsaparam.pem",
            "-aes-256-cbc",
            "-pass",
            "pass:sesame",
            "-out",
            "dsa_enc.pem",
        ),
        ("pkey", "-in", "ec.pem", "-pubout", "-out", "ec_pub.pem"),
        ("pkey", "-in", "dsa.pem", "-pubout", "-out", "dsa_pub.pem"),
        ("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem"),
    ]
    for step in steps:
        res = _run(*step, cwd=d)
        assert res.returncode == 0, (step, res.stderr.decode())
    return d


@needs_openssl
@pytest.mark.parametrize("name, suite", [("ec", SUITE_2), ("dsa", SUITE_1)])
def test_openssl_written_keys_load(openssl_keys, name, suite):
    d = openssl_keys
    key = keys.load_private_key((d / f"{name}.pem").read_bytes(), None)
    assert key.suite is suite
    enc = keys.load_private_key((d / f"{name}_enc.pem").read_bytes(), b"sesame")
    assert enc.suite is suite
    _raises("KEY_PASSWORD_WRONG", keys.load_private_key, (d / f"{name}_enc.pem").read_bytes(), b"x")
    pub = keys.load_public_key((d / f"{name}_pub.pem").read_bytes())
    assert pub == key.public and pub.suite is suite
    # the SPKI DER we derive equals openssl's own DER encoding of the public key
    der = _run("pkey", "-in", f"{name}_pub.pem", "-pubin", "-outform", "DER", cwd=d)
    assert der.returncode == 0 and der.stdout == key.spki_der
    assert key.identity == hashlib.new(suite.hash_name, der.stdout).digest()
    sig = key.sign(b"interop", deterministic=(name == "dsa"))
    assert pub.verify(b"interop", sig)


@needs_openssl
def test_openssl_p256_is_suite_mismatch(openssl_keys):
    err = _raises(
        "KEY_SUITE_MISMATCH", keys.load_private_key, (openssl_keys / "p256.pem").read_bytes(), None
    )
    assert "prime256v1" in str(err) or "secp256r1" in str(err)


@needs_openssl
@pytest.mark.parametrize("n", [1, 2])
def test_openssl_reads_parley_written_keys(generated, tmp_path, n):
    key = generated[n]
    (tmp_path / "key.pem").write_bytes(keys.private_key_pem(key, PW))
    (tmp_path / "pub.pem").write_bytes(keys.public_key_pem(key))
    ok = _run("pkey", "-in", "key.pem", "-passin", "pass:" + PW.decode(), "-noout", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr.decode()
    bad = _run("pkey", "-in", "key.pem", "-passin", "pass:nope", "-noout", cwd=tmp_path)
    assert bad.returncode != 0
    # openssl derives the same public key from the decrypted private key
    pub = _run(
        "pkey",
        "-in",
        "key.pem",
        "-passin",
        "pass:" + PW.decode(),
        "-pubout",
        "-outform",
        "DER",
        cwd=tmp_path,
    )
    assert pub.returncode == 0 and pub.stdout == key.spki_der
    text = _run("pkey", "-in", "pub.pem", "-pubin", "-noout", "-text", cwd=tmp_path)
    assert text.returncode == 0
    assert (
        (b"P-384" in text.stdout or b"secp384r1" in text.stdout)
        if n == 2
        else b"2048 bit" in text.stdout
    )


def test_encrypted_key_uses_pbes2_with_600000_rounds(tmp_path):
    """§12: PBES2, PBKDF2-HMAC-SHA256 with 600000 rounds, AES-256-CBC, read back by OpenSSL's
    parser."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl binary not installed")
    key = keys.generate_private_key(SUITE_2)
    path = tmp_path / "k.pem"
    path.write_bytes(keys.private_key_pem(key, b"pw"))
    dump = subprocess.run(
        ["openssl", "asn1parse", "-in", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert ":PBES2" in dump and ":PBKDF2" in dump and ":hmacWithSHA256" in dump
    assert ":aes-256-cbc" in dump
    assert "INTEGER           :0927C0" in dump  # 600000
    assert keys.load_private_key(path.read_bytes(), b"pw").identity == key.identity


# ------------------------------------------------------- openssl: schemes and signatures

# (openssl pkcs8 arguments, expected): what OpenSSL can write and whether Parley reads it (§12).
PKCS8_SCHEMES = [
    (("-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"), None),
    (("-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"), None),
    (("-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"), None),
    (("-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA384", "-iter", "1"), None),
    (("-v2", "des3"), "KEY_FILE_INVALID"),  # not AES-CBC
    (("-scrypt",), "KEY_FILE_INVALID"),  # not PBKDF2
]


@needs_openssl
@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("args, error", PKCS8_SCHEMES, ids=lambda v: "-".join(v) if v else "ok")
def test_openssl_pkcs8_schemes(generated, tmp_path, n, args, error):
    (tmp_path / "plain.pem").write_bytes(keys.private_key_pem(generated[n], None))
    res = _run(
        "pkcs8",
        "-topk8",
        "-in",
        "plain.pem",
        "-passout",
        "pass:sesame",
        *args,
        "-out",
        "enc.pem",
        cwd=tmp_path,
    )
    if res.returncode != 0:
        pytest.skip(f"this openssl cannot write {args}: {res.stderr.decode()[:100]}")
    pem = (tmp_path / "enc.pem").read_bytes()
    if error is None:
        assert keys.load_private_key(pem, b"sesame") == generated[n]
        _raises("KEY_PASSWORD_WRONG", keys.load_private_key, pem, b"sesamE")
    else:
        err = _raises(error, keys.load_private_key, pem, b"sesame")
        assert "unsupported scheme" in str(err) and "openssl pkey -aes-256-cbc" in str(err)


def test_pbkdf2_iteration_cap(generated, monkeypatch):
    """A hostile file cannot make loading run for hours: counts above the cap are refused."""
    pem = keys.private_key_pem(generated[2], PW, iterations=1000)
    monkeypatch.setattr(pbes2, "MAX_ITERATIONS", 999)
    err = _raises("KEY_FILE_INVALID", keys.load_private_key, pem, PW)
    assert "1000" in str(err)


@needs_openssl
@pytest.mark.parametrize("n", [1, 2])
def test_signatures_interoperate_with_openssl(generated, tmp_path, n):
    """openssl dgst verifies Parley's r || s (as DER) and Parley verifies openssl's."""
    key = generated[n]
    digest = "-sha256" if n == 1 else "-sha384"
    (tmp_path / "key.pem").write_bytes(keys.private_key_pem(key, None))
    (tmp_path / "pub.pem").write_bytes(keys.public_key_pem(key))
    (tmp_path / "msg").write_bytes(b"interop message")
    half = len(key.sign(b"x")) // 2
    for deterministic in (False, True):
        sig = key.sign(b"interop message", deterministic=deterministic)
        r, s = int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big")
        (tmp_path / "sig.der").write_bytes(encode_dss_signature(r, s))
        ok = _run(
            "dgst", digest, "-verify", "pub.pem", "-signature", "sig.der", "msg", cwd=tmp_path
        )
        assert ok.returncode == 0 and b"Verified OK" in ok.stdout, ok.stderr.decode()
    made = _run("dgst", digest, "-sign", "key.pem", "-out", "theirs.der", "msg", cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()
    r, s = decode_dss_signature((tmp_path / "theirs.der").read_bytes())
    theirs = r.to_bytes(half, "big") + s.to_bytes(half, "big")
    assert key.public.verify(b"interop message", theirs)
    assert not key.public.verify(b"interop messagE", theirs)

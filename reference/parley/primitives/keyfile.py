"""Key-file encodings of the long-term keys (§12): PKCS#8 and SubjectPublicKeyInfo DER.

The handles returned here are what :mod:`.signatures` signs and verifies with:

* suite 1: :class:`.dsa.PrivateKey` / :class:`.dsa.PublicKey`, encoded and
  decoded here with :mod:`.der` (RFC 5208 / RFC 5958 PrivateKeyInfo, RFC 5280
  §4.1 SubjectPublicKeyInfo, RFC 3279 §2.3.2 id-dsa with Dss-Parms; the
  private key is the DER INTEGER x in the OCTET STRING, as OpenSSL writes it);
* suite 2: the library's P-384 key objects (ECDSA is not deprecated).

A DSA or DH key never reaches the library's loaders (deprecated for DSA in
pyca/cryptography 51, for DH in 50): the algorithm OID is read first.  Every
other algorithm is handed to the library only to be described in the error.

Errors: :class:`Malformed` (not the structure), :class:`Unsupported` (a
well-formed key no suite uses: its ``description`` names it, e.g. "an RSA key
(2048 bits)"), :class:`.dsa.InvalidKey` (suite-1 numbers that fail
validation).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from . import der, dsa, p384

_ID_DSA = der.oid("1.2.840.10040.4.1")  # RFC 3279 §2.3.2
_DH_OIDS = {
    der.oid("1.2.840.10046.2.1"),  # dhpublicnumber (RFC 3279 §2.3.3)
    der.oid("1.2.840.113549.1.3.1"),
}  # dhKeyAgreement (PKCS #3)
_CURVE = ec.SECP384R1()

PrivateHandle = dsa.PrivateKey | ec.EllipticCurvePrivateKey
PublicHandle = dsa.PublicKey | ec.EllipticCurvePublicKey


class Malformed(ValueError):
    """Not a valid DER PrivateKeyInfo / SubjectPublicKeyInfo."""


class Unsupported(ValueError):
    """A well-formed key of a type or size no suite uses."""

    def __init__(self, description: str) -> None:
        self.description = description
        super().__init__(description)


# ------------------------------------------------------------------ suite 1


def _dss_parms(r: der.Reader) -> dsa.Parameters:
    parms = r.read_sequence()
    p, q, g = parms.read_integer(), parms.read_integer(), parms.read_integer()
    parms.end()
    return dsa.Parameters(p, q, g)


def _dsa_algorithm(params: dsa.Parameters) -> bytes:
    pr = params
    return der.sequence(
        _ID_DSA, der.sequence(der.integer(pr.p), der.integer(pr.q), der.integer(pr.g))
    )


def _check_dsa_sizes(params: dsa.Parameters) -> None:
    pb, qb = params.p.bit_length(), params.q.bit_length()
    if (pb, qb) != (dsa.L_BITS, dsa.N_BITS):
        raise Unsupported(f"a DSA key with a {pb}-bit p and a {qb}-bit q")


def _algorithm(r: der.Reader) -> tuple[bytes, der.Reader]:
    alg = r.read_sequence()
    return alg.read_oid(), alg


# ---------------------------------------------------------------- describe


def _describe_library(key: object) -> str:
    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, rsa.RSAPublicKey):
        return f"an RSA key ({pub.key_size} bits)"
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return f"an EC key on curve {pub.curve.name} ({pub.curve.key_size} bits)"
    for cls, name in (
        (ed25519.Ed25519PublicKey, "an Ed25519 key"),
        (ed448.Ed448PublicKey, "an Ed448 key"),
        (x25519.X25519PublicKey, "an X25519 key"),
        (x448.X448PublicKey, "an X448 key"),
    ):
        if isinstance(pub, cls):
            return name
    return f"a key of type {type(pub).__name__}"


def _library_ec_private(key: object) -> ec.EllipticCurvePrivateKey:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == _CURVE.name:
        return key
    raise Unsupported(_describe_library(key))


def _library_ec_public(key: object) -> ec.EllipticCurvePublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == _CURVE.name:
        return key
    raise Unsupported(_describe_library(key))


# ------------------------------------------------------------------ loading


def _library_load(loader: Callable[..., object], *args: object) -> object:
    """A key of another algorithm than DSA/DH, loaded by the library only to be checked."""
    try:
        return loader(*args)
    except UnsupportedAlgorithm as exc:
        raise Unsupported(f"a key of an unsupported type ({exc})") from None
    except (ValueError, TypeError) as exc:
        raise Malformed(str(exc)) from None


def load_private(pkcs8: bytes) -> PrivateHandle:
    """The key in a DER PrivateKeyInfo (RFC 5208 §5 / RFC 5958 §2, version 0 or 1)."""
    try:
        outer = der.Reader(pkcs8)
        pki = outer.read_sequence()
        outer.end()
        version = pki.read_integer()
        oid, alg = _algorithm(pki)
        if oid == _ID_DSA:
            params = _dss_parms(alg)
            alg.end()
            x = der.Reader(pki.read(der.OCTET_STRING)).read_integer()
            if version not in (0, 1):
                raise der.DERError("unknown PrivateKeyInfo version")
            # [0] attributes and, in version 1, [1] publicKey may follow (RFC 5958 §2)
            while not pki.at_end():
                tag = pki.peek_tag()
                if tag not in (0xA0, 0x81, 0xA1):
                    raise der.DERError("unexpected field after privateKey")
                pki.read(tag)
    except der.DERError as exc:
        raise Malformed(str(exc)) from None
    if oid in _DH_OIDS:
        raise Unsupported("a Diffie-Hellman key")
    if oid == _ID_DSA:
        _check_dsa_sizes(params)
        if not 0 < x < params.q:
            raise dsa.InvalidKey("x is out of range")
        key = dsa.private_key_from_x(params, x)
        dsa.check_public(key.public)
        return key
    library_key = _library_load(serialization.load_der_private_key, bytes(pkcs8), None)
    return _library_ec_private(library_key)


def load_public(spki: bytes) -> PublicHandle:
    """The key in a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7)."""
    try:
        outer = der.Reader(spki)
        info = outer.read_sequence()
        outer.end()
        oid, alg = _algorithm(info)
        if oid == _ID_DSA:
            if alg.at_end():
                raise der.DERError("DSA public key without domain parameters")
            params = _dss_parms(alg)
            alg.end()
            y = der.Reader(info.read_bit_string()).read_integer()
            info.end()
    except der.DERError as exc:
        raise Malformed(str(exc)) from None
    if oid in _DH_OIDS:
        raise Unsupported("a Diffie-Hellman key")
    if oid == _ID_DSA:
        _check_dsa_sizes(params)
        key = dsa.PublicKey(params, y)
        dsa.check_public(key)
        return key
    library_key = _library_load(serialization.load_der_public_key, bytes(spki))
    return _library_ec_public(library_key)


# ------------------------------------------------------------ handles, output


def suite_number(handle: PrivateHandle | PublicHandle) -> int:
    """1 for a DSA-2048/256 handle, 2 for a P-384 one."""
    if isinstance(handle, (dsa.PrivateKey, dsa.PublicKey)):
        return 1
    if isinstance(handle, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return 2
    raise ValueError("not a key handle of this module")


def public_of(handle: PrivateHandle) -> PublicHandle:
    if isinstance(handle, dsa.PrivateKey):
        return handle.public
    return handle.public_key()


def spki_der(handle: PrivateHandle | PublicHandle) -> bytes:
    """The canonical DER SubjectPublicKeyInfo of the (public half of the) key (§5.5).

    Re-encoded from the key, never the file's bytes: DSA with Dss-Parms and y
    as a minimal INTEGER (our encoder); P-384 as OpenSSL writes it, the
    named curve secp384r1 and the uncompressed point, whatever form (a
    compressed point) the file used.  Identities and fingerprints hash this.
    """
    if isinstance(handle, dsa.PrivateKey):
        handle = handle.public
    if isinstance(handle, dsa.PublicKey):
        return der.sequence(_dsa_algorithm(handle.params), der.bit_string(der.integer(handle.y)))
    if isinstance(handle, ec.EllipticCurvePrivateKey):
        handle = handle.public_key()
    return handle.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pkcs8_der(handle: PrivateHandle) -> bytes:
    """DER PrivateKeyInfo (version 0, no attributes) of a private key, unencrypted."""
    if isinstance(handle, dsa.PrivateKey):
        return der.sequence(
            der.integer(0),
            _dsa_algorithm(handle.public.params),
            der.octet_string(der.integer(handle.x)),
        )
    return handle.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def generate(suite: int) -> PrivateHandle:
    """A fresh long-term key: DSA-2048/256 with fresh domain parameters, or P-384."""
    if suite == 1:
        return dsa.generate_private_key()
    if suite == 2:
        return ec.generate_private_key(_CURVE)
    raise ValueError(f"unknown suite {suite!r}")


def group_order(handle: PrivateHandle | PublicHandle) -> int:
    """q of a DSA key, n of P-384: the bound of r and s (§3.3)."""
    if isinstance(handle, dsa.PrivateKey):
        return handle.public.params.q
    if isinstance(handle, dsa.PublicKey):
        return handle.params.q
    return p384.N


def private_scalar(handle: PrivateHandle) -> int:
    """x or d (for tests that look for the secret in outputs, and for vector generation)."""
    if isinstance(handle, dsa.PrivateKey):
        return handle.x
    return handle.private_numbers().private_value


def from_scalar(suite: int, scalar: int, params: dsa.Parameters | None = None) -> PrivateHandle:
    """The private key with secret ``scalar`` (suite 1 under ``params``); fixed test keys."""
    if suite == 1:
        if params is None:
            raise ValueError("suite 1 needs domain parameters")
        return dsa.private_key_from_x(params, scalar)
    return ec.derive_private_key(scalar, _CURVE)


__all__ = [
    "Malformed",
    "Unsupported",
    "PrivateHandle",
    "PublicHandle",
    "load_private",
    "load_public",
    "suite_number",
    "public_of",
    "spki_der",
    "pkcs8_der",
    "generate",
    "group_order",
    "private_scalar",
    "from_scalar",
]

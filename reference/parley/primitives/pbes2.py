"""Password-based encryption of PKCS#8 private keys: PBES2 (RFC 8018 §6.2) (§12).

Both directions are here, for both suites, so that no key file passes through
a deprecated library loader (pyca/cryptography deprecates loading DSA keys in
release 51).

* Writing: EncryptedPrivateKeyInfo (RFC 5958 §3) with PBKDF2-HMAC-SHA256
  (RFC 8018 §5.2, §A.2) and AES-256-CBC (RFC 8018 §B.2.5), the scheme
  ``openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`` writes, with
  the caller's iteration count (the library's own writer fixes 2048).
* Reading: PBES2 with PBKDF2 (PRF HMAC-SHA-1/224/256/384/512) and AES-128/192/
  256-CBC: what OpenSSL 1.1 and 3.x write (``openssl genpkey -aes-256-cbc``,
  ``openssl pkey -aes-256-cbc``, ``openssl pkcs8 -topk8``).  Anything else
  (PBES1, scrypt, DES) is :class:`UnsupportedScheme`.

The salt and IV are given by the caller: this module draws no randomness.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from . import der

_OID_PBES2 = der.oid("1.2.840.113549.1.5.13")
_OID_PBKDF2 = der.oid("1.2.840.113549.1.5.12")
_PRFS: dict[bytes, Callable[[], hashes.HashAlgorithm]] = {
    der.oid("1.2.840.113549.2.7"): hashes.SHA1,
    der.oid("1.2.840.113549.2.8"): hashes.SHA224,
    der.oid("1.2.840.113549.2.9"): hashes.SHA256,
    der.oid("1.2.840.113549.2.10"): hashes.SHA384,
    der.oid("1.2.840.113549.2.11"): hashes.SHA512,
}
_OID_HMAC_SHA256 = der.oid("1.2.840.113549.2.9")
_CIPHERS = {  # OID -> AES key length
    der.oid("2.16.840.1.101.3.4.1.2"): 16,
    der.oid("2.16.840.1.101.3.4.1.22"): 24,
    der.oid("2.16.840.1.101.3.4.1.42"): 32,
}
_OID_AES256_CBC = der.oid("2.16.840.1.101.3.4.1.42")

#: Iteration counts above this are refused when reading: a hostile file could
#: otherwise make loading take hours.  (Parley writes 600000, §12.)
MAX_ITERATIONS = 10_000_000


class UnsupportedScheme(ValueError):
    """An encryption scheme this module does not read; the message names it."""


class DecryptionFailed(ValueError):
    """The password is wrong or the ciphertext is damaged (they cannot be told apart)."""


def _pbkdf2(
    prf: Callable[[], hashes.HashAlgorithm],
    length: int,
    salt: bytes,
    iterations: int,
    password: bytes,
) -> bytes:
    return PBKDF2HMAC(prf(), length, salt, iterations).derive(password)


def encrypt_pkcs8(
    private_key_info: bytes, password: bytes, *, salt: bytes, iv: bytes, iterations: int
) -> bytes:
    """DER EncryptedPrivateKeyInfo of a DER PrivateKeyInfo (RFC 5958 §3)."""
    if len(iv) != 16 or len(salt) < 16 or iterations < 1:
        raise ValueError("PBES2 needs a 16-byte IV, a salt of at least 16 bytes, iterations >= 1")
    key = _pbkdf2(hashes.SHA256, 32, salt, iterations, password)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(private_key_info) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(padded) + enc.finalize()
    kdf = der.sequence(
        _OID_PBKDF2,
        der.sequence(
            der.octet_string(salt),
            der.integer(iterations),
            der.sequence(_OID_HMAC_SHA256, der.NULL_VALUE),
        ),
    )
    scheme = der.sequence(_OID_AES256_CBC, der.octet_string(iv))
    return der.sequence(
        der.sequence(_OID_PBES2, der.sequence(kdf, scheme)), der.octet_string(ciphertext)
    )


def decrypt_pkcs8(encrypted_private_key_info: bytes, password: bytes) -> bytes:
    """The DER PrivateKeyInfo inside a DER EncryptedPrivateKeyInfo (RFC 5958 §3).

    Raises :class:`der.DERError` (malformed), :class:`UnsupportedScheme` or
    :class:`DecryptionFailed`.
    """
    outer = der.Reader(encrypted_private_key_info)
    epki = outer.read_sequence()
    outer.end()
    alg = epki.read_sequence()
    ciphertext = epki.read(der.OCTET_STRING)
    epki.end()
    if alg.read_oid() != _OID_PBES2:
        raise UnsupportedScheme("not PBES2 (a legacy PBES1 scheme?)")
    params = alg.read_sequence()
    alg.end()
    kdf, scheme = params.read_sequence(), params.read_sequence()
    params.end()
    if kdf.read_oid() != _OID_PBKDF2:
        raise UnsupportedScheme("a key derivation other than PBKDF2 (scrypt?)")
    kp = kdf.read_sequence()
    kdf.end()
    salt = kp.read(der.OCTET_STRING)
    iterations = kp.read_integer()
    key_len = kp.read_integer() if kp.peek_tag() == der.INTEGER else None
    prf: Callable[[], hashes.HashAlgorithm] = hashes.SHA1  # RFC 8018 §A.2 default
    if not kp.at_end():
        prf_alg = kp.read_sequence()
        prf_oid = prf_alg.read_oid()
        if prf_oid not in _PRFS:
            raise UnsupportedScheme("an unsupported PBKDF2 pseudo-random function")
        if not prf_alg.at_end():
            prf_alg.read_null()
        prf_alg.end()
        prf = _PRFS[prf_oid]
    kp.end()
    cipher_oid = scheme.read_oid()
    if cipher_oid not in _CIPHERS:
        raise UnsupportedScheme("a cipher other than AES-CBC")
    iv = scheme.read(der.OCTET_STRING)
    scheme.end()
    aes_len = _CIPHERS[cipher_oid]
    if len(iv) != 16 or (key_len is not None and key_len != aes_len):
        raise der.DERError("PBES2: bad IV or key length")
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise UnsupportedScheme(
            f"a PBKDF2 iteration count of {iterations} (at most {MAX_ITERATIONS} are read)"
        )
    if not ciphertext or len(ciphertext) % 16:
        raise DecryptionFailed("ciphertext is not a whole number of AES blocks")
    key = _pbkdf2(prf, aes_len, salt, iterations, bytes(password))
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptionFailed("bad padding") from None


__all__ = [
    "encrypt_pkcs8",
    "decrypt_pkcs8",
    "UnsupportedScheme",
    "DecryptionFailed",
    "MAX_ITERATIONS",
]

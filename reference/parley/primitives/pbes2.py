"""Password-based encryption of PKCS#8 private keys: PBES2 (RFC 8018 §6.2) (§12).

The library writes encrypted PKCS#8 with a fixed 2048 PBKDF2 iterations and
offers no way to raise it, so this module builds the EncryptedPrivateKeyInfo
(RFC 5958 §3) itself: PBKDF2-HMAC-SHA256 (RFC 8018 §5.2, §A.2) and AES-256-CBC
(RFC 8018 §B.2.5), the scheme ``openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf
hmacWithSHA256`` writes.  Loading stays with the library (any iteration count).
The salt and IV are given by the caller: this module draws no randomness.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

_OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")         # 1.2.840.113549.1.5.13
_OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")        # 1.2.840.113549.1.5.12
_OID_HMAC_SHA256 = bytes.fromhex("06082a864886f70d0209")     # 1.2.840.113549.2.9
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")    # 2.16.840.1.101.3.4.1.42
_NULL = b"\x05\x00"


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        size = (n.bit_length() + 7) // 8
        head = bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([tag]) + head + content


def _seq(*parts: bytes) -> bytes:
    return _der(0x30, b"".join(parts))


def _int(v: int) -> bytes:
    return _der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def encrypt_pkcs8(private_key_info: bytes, password: bytes, *, salt: bytes, iv: bytes,
                  iterations: int) -> bytes:
    """DER EncryptedPrivateKeyInfo of a DER PrivateKeyInfo (RFC 5958 §3)."""
    if len(iv) != 16 or len(salt) < 16 or iterations < 1:
        raise ValueError("PBES2 needs a 16-byte IV, a salt of at least 16 bytes, iterations >= 1")
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(private_key_info) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(padded) + enc.finalize()
    kdf = _seq(_OID_PBKDF2, _seq(_der(0x04, salt), _int(iterations), _seq(_OID_HMAC_SHA256, _NULL)))
    scheme = _seq(_OID_AES256_CBC, _der(0x04, iv))
    return _seq(_seq(_OID_PBES2, _seq(kdf, scheme)), _der(0x04, ciphertext))

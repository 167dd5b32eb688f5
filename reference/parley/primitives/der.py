"""A small, strict DER codec (ITU-T X.690 §8, §10) for the key files of §12.

Only what Parley's key files need: SEQUENCE, INTEGER (non-negative), OCTET
STRING, BIT STRING (no unused bits), OBJECT IDENTIFIER, NULL and
context-specific tags, with definite, minimal lengths.  Decoding is strict:
a non-minimal length, a non-minimal or negative INTEGER, an indefinite length
or trailing bytes is a :class:`DERError` (a ``ValueError``), never a guess.
"""

from __future__ import annotations

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06

#: The largest body a key file needs (a 2048-bit DSA key is < 1 KiB).
_MAX_LEN = 1 << 20


class DERError(ValueError):
    """The bytes are not the DER structure that was expected."""


# ----------------------------------------------------------------- encoding


def encode(tag: int, body: bytes) -> bytes:
    """One TLV with a minimal definite length (X.690 §10.1)."""
    n = len(body)
    if n < 0x80:
        return bytes((tag, n)) + body
    size = (n.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + n.to_bytes(size, "big") + body


def sequence(*parts: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(parts))


def integer(v: int) -> bytes:
    """A non-negative INTEGER in its minimal two's-complement form (X.690 §8.3.2)."""
    if v < 0:
        raise ValueError("DER: only non-negative integers are written")
    return encode(INTEGER, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def octet_string(b: bytes) -> bytes:
    return encode(OCTET_STRING, bytes(b))


def bit_string(b: bytes) -> bytes:
    """A BIT STRING of whole octets (no unused bits)."""
    return encode(BIT_STRING, b"\x00" + bytes(b))


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER TLV from its dotted form (X.690 §8.19)."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"DER: bad OID {dotted!r}")
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return encode(OID, bytes(body))


NULL_VALUE = b"\x05\x00"


# ----------------------------------------------------------------- decoding


class Reader:
    """Reads consecutive TLVs from ``data``; every method raises :class:`DERError`."""

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0

    def at_end(self) -> bool:
        return self._pos == len(self._data)

    def peek_tag(self) -> int | None:
        return None if self.at_end() else self._data[self._pos]

    def end(self) -> None:
        """Require that nothing follows."""
        if not self.at_end():
            raise DERError(f"DER: {len(self._data) - self._pos} unexpected trailing bytes")

    def read(self, tag: int) -> bytes:
        """The body of the next TLV, which must have ``tag``."""
        d, i = self._data, self._pos
        if i + 2 > len(d):
            raise DERError("DER: truncated")
        if d[i] != tag:
            raise DERError(f"DER: expected tag 0x{tag:02x}, found 0x{d[i]:02x}")
        first = d[i + 1]
        i += 2
        if first < 0x80:
            n = first
        else:
            size = first & 0x7F
            if size == 0 or size > 4:
                raise DERError("DER: indefinite or oversized length")
            if i + size > len(d):
                raise DERError("DER: truncated length")
            n = int.from_bytes(d[i : i + size], "big")
            if n < 0x80 or d[i] == 0:
                raise DERError("DER: non-minimal length")
            i += size
        if n > _MAX_LEN or i + n > len(d):
            raise DERError("DER: truncated or oversized body")
        self._pos = i + n
        return d[i : i + n]

    def read_sequence(self) -> Reader:
        return Reader(self.read(SEQUENCE))

    def read_integer(self) -> int:
        """A non-negative INTEGER in minimal form."""
        body = self.read(INTEGER)
        if not body:
            raise DERError("DER: empty INTEGER")
        if body[0] & 0x80:
            raise DERError("DER: negative INTEGER")
        if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
            raise DERError("DER: non-minimal INTEGER")
        return int.from_bytes(body, "big")

    def read_oid(self) -> bytes:
        """The full OID TLV (compare with :func:`oid`)."""
        body = self.read(OID)
        if not body:
            raise DERError("DER: empty OBJECT IDENTIFIER")
        return encode(OID, body)

    def read_bit_string(self) -> bytes:
        body = self.read(BIT_STRING)
        if not body or body[0] != 0:
            raise DERError("DER: BIT STRING with unused bits")
        return body[1:]

    def read_null(self) -> None:
        if self.read(NULL):
            raise DERError("DER: NULL with content")


__all__ = [
    "DERError",
    "Reader",
    "encode",
    "sequence",
    "integer",
    "octet_string",
    "bit_string",
    "oid",
    "NULL_VALUE",
    "SEQUENCE",
    "INTEGER",
    "BIT_STRING",
    "OCTET_STRING",
    "NULL",
    "OID",
]

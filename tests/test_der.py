"""The key-file DER reader refuses everything that is not DER (X.690 sections 10, 8.1.3 and
8.3.2), checked on byte strings written out by hand from the rules, not produced by the writer.

The spec (§12) names the formats but does not require a reader to refuse BER, so the
conformance suite cannot fail a lenient reader; this is the reference's own strictness
(tools/mutate-survivors.toml cites this file for der.py).
"""

from __future__ import annotations

import pytest

from parley.primitives import der

SEQ, INT, OID, BITS, NULL = 0x30, 0x02, 0x06, 0x03, 0x05

REFUSED = [
    ("truncated tag", b"", INT),
    ("wrong tag", b"\x04\x01\x00", INT),
    ("indefinite length", b"\x30\x80\x00\x00", SEQ),
    ("length of 5 bytes", b"\x02\x85\x00\x00\x00\x00\x01\x00", INT),
    ("truncated long length", b"\x02\x82\x01", INT),
    ("non-minimal length, 0x81 under 128", b"\x02\x81\x01\x00", INT),
    ("non-minimal length, leading zero", b"\x02\x82\x00\x81" + bytes(129), INT),
    ("content past the end", b"\x02\x02\x01", INT),
]


@pytest.mark.parametrize("name,data,tag", REFUSED, ids=[r[0] for r in REFUSED])
def test_read_refuses(name, data, tag):
    with pytest.raises(der.DERError):
        der.Reader(data).read(tag)


@pytest.mark.parametrize(
    "name,data",
    [
        ("empty INTEGER", b"\x02\x00"),
        ("negative INTEGER", b"\x02\x01\x80"),
        ("non-minimal INTEGER", b"\x02\x02\x00\x01"),
    ],
)
def test_read_integer_refuses(name, data):
    with pytest.raises(der.DERError):
        der.Reader(data).read_integer()


def test_other_types_refuse_what_der_forbids():
    with pytest.raises(der.DERError):
        der.Reader(b"\x06\x00").read_oid()  # empty OBJECT IDENTIFIER
    with pytest.raises(der.DERError):
        der.Reader(b"\x03\x02\x01\x00").read_bit_string()  # unused bits
    with pytest.raises(der.DERError):
        der.Reader(b"\x05\x01\x00").read_null()  # NULL with content
    r = der.Reader(b"\x05\x00\x00")
    r.read_null()
    with pytest.raises(der.DERError):
        r.end()  # a trailing byte


def test_accepts_the_minimal_forms():
    assert der.Reader(b"\x02\x01\x00").read_integer() == 0
    assert der.Reader(b"\x02\x02\x00\x80").read_integer() == 128
    assert der.Reader(b"\x02\x81\x80" + b"\x01" + bytes(127)).read_integer() == 1 << 1016
    r = der.Reader(b"\x30\x03\x02\x01\x05")
    inner = r.read_sequence()
    assert inner.read_integer() == 5
    inner.end()
    r.end()

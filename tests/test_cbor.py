"""Tests of the deterministic CBOR profile (§4.2, RFC 8949 §4.2.1).

Expected values come from outside the code under test: the RFC 8949
Appendix A table (typed in by hand), the key-ordering example of RFC 8949
§4.2.1, hand-assembled malformed / non-deterministic encodings, and the
independent ``cbor2`` implementation.
"""

from __future__ import annotations

import enum
import time

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from parley import errors
from parley.cbor import CBORError, decode, encode
from parley.cbor_diag import diagnostic


def h(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr.replace(" ", ""))


def same(a, b) -> bool:
    """Equality that also distinguishes True from 1, list from tuple, etc."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):  # key order is not compared: decode() gives encoding order
        return set(a) == set(b) and all(same(a[k], b[k]) for k in a)
    return a == b


# ---------------------------------------------------------------------------
# RFC 8949 Appendix A, the rows inside the §4.2 subset (typed in from the RFC)
# ---------------------------------------------------------------------------

APPENDIX_A = [
    (0, "00"),
    (1, "01"),
    (10, "0a"),
    (23, "17"),
    (24, "1818"),
    (25, "1819"),
    (100, "1864"),
    (1000, "1903e8"),
    (1000000, "1a000f4240"),
    (1000000000000, "1b000000e8d4a51000"),
    (18446744073709551615, "1bffffffffffffffff"),
    (-18446744073709551616, "3bffffffffffffffff"),
    (-1, "20"),
    (-10, "29"),
    (-100, "3863"),
    (-1000, "3903e7"),
    (False, "f4"),
    (True, "f5"),
    (None, "f6"),
    (b"", "40"),
    (b"\x01\x02\x03\x04", "4401020304"),
    ("", "60"),
    ("a", "6161"),
    ("IETF", "6449455446"),
    ('"\\', "62225c"),
    ("\u00fc", "62c3bc"),
    ("\u6c34", "63e6b0b4"),
    ("\U00010151", "64f0908591"),
    ([], "80"),
    ([1, 2, 3], "83010203"),
    ([1, [2, 3], [4, 5]], "8301820203820405"),
    (list(range(1, 26)), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
    ({}, "a0"),
    ({1: 2, 3: 4}, "a201020304"),
    ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
    (["a", {"b": "c"}], "826161a161626163"),
    (
        {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"},
        "a56161614161626142616361436164614461656145",
    ),
]


@pytest.mark.parametrize("value, hexstr", APPENDIX_A, ids=[x[1] for x in APPENDIX_A])
def test_appendix_a_encode(value, hexstr):
    assert encode(value) == h(hexstr)


@pytest.mark.parametrize("value, hexstr", APPENDIX_A, ids=[x[1] for x in APPENDIX_A])
def test_appendix_a_decode(value, hexstr):
    assert same(decode(h(hexstr)), value)


def test_other_bytes_like_and_sequence_types_encode_as_their_canonical_form():
    assert encode(bytearray(b"\x01\x02")) == h("420102")
    assert encode(memoryview(b"\x01\x02\x03")) == h("43010203")
    assert encode(memoryview(b"abcd")[1:3]) == h("426263")
    assert encode((1, (2, 3))) == h("8201820203")

    class Code(enum.IntEnum):
        SEVEN = 7

    assert encode({Code.SEVEN: Code.SEVEN}) == h("a10707")


@pytest.mark.parametrize(
    "length, head",
    [
        (23, "57"),
        (24, "5818"),
        (255, "58ff"),
        (256, "590100"),
        (65535, "59ffff"),
        (65536, "5a00010000"),
    ],
)
def test_byte_string_length_heads_are_shortest(length, head):
    assert encode(b"\x00" * length) == h(head) + b"\x00" * length


def test_decode_accepts_bytearray_and_memoryview():
    data = h("a26161016162820203")
    for wrapped in (bytearray(data), memoryview(data), memoryview(b"xx" + data)[2:]):
        assert decode(wrapped) == {"a": 1, "b": [2, 3]}
    value = decode(memoryview(h("4401020304")))
    assert type(value) is bytes and value == b"\x01\x02\x03\x04"


# ---------------------------------------------------------------------------
# Map-key order: RFC 8949 §4.2.1 bytewise order, not RFC 7049 length-first
# ---------------------------------------------------------------------------

# RFC 8949 §4.2.1 lists these keys "sorted correctly": 10 (0a), 100 (1864),
# -1 (20), "z" (617a), "aa" (626161).  Length-first order would put -1 before 100.
RFC_KEY_ORDER_HEX = "a5 0a00 186400 2000 617a00 62616100"


def test_map_keys_sorted_bytewise_rfc8949_example():
    value = {"aa": 0, -1: 0, "z": 0, 100: 0, 10: 0}
    assert encode(value) == h(RFC_KEY_ORDER_HEX)
    assert list(decode(h(RFC_KEY_ORDER_HEX))) == [10, 100, -1, "z", "aa"]


def test_length_first_order_is_rejected():
    # cbor2's "canonical" mode implements the RFC 7049 length-first order;
    # that is a different order for these keys and must be refused.
    length_first = cbor2.dumps({10: 0, 100: 0, -1: 0, "z": 0, "aa": 0}, canonical=True)
    assert length_first == h("a5 0a00 2000 186400 617a00 62616100")
    with pytest.raises(CBORError) as info:
        decode(length_first)
    assert info.value.kind == "non_deterministic"


def test_map_key_order_more_cases():
    # 1-byte text "b" (6162) sorts before 2-byte text "aa" (626161) in both
    # orders; 24 (1818) sorts after 23 (17) and before -1 (20).
    assert encode({"aa": 1, "b": 2}) == h("a2 616202 62616101")
    assert encode({-1: 0, 24: 0, 23: 0}) == h("a3 1700 181800 2000")
    assert encode({"a": 0, 1000: 0, -1000: 0}) == h("a3 1903e800 3903e700 616100")


# ---------------------------------------------------------------------------
# Rejections
# ---------------------------------------------------------------------------

ND = "non_deterministic"
MF = "malformed"

REJECT = [
    # --- not in deterministic encoding --------------------------------------
    ("indefinite bytes", "5f 4100 ff", ND, {}),
    ("indefinite text", "7f 6161 ff", ND, {}),
    ("indefinite array", "9f ff", ND, {}),
    ("indefinite map", "bf ff", ND, {}),
    ("non-shortest 1-byte int", "18 05", ND, {}),
    ("non-shortest 2-byte int", "19 0005", ND, {}),
    ("non-shortest 2-byte int 255", "19 00ff", ND, {}),
    ("non-shortest 4-byte int", "1a 0000ffff", ND, {}),
    ("non-shortest 8-byte int", "1b 00000000ffffffff", ND, {}),
    ("non-shortest negative int", "38 05", ND, {}),
    ("non-shortest byte-string length", "59 0001 00", ND, {}),
    ("non-shortest 1-byte length", "58 01 00", ND, {}),
    ("non-shortest text length", "78 01 61", ND, {}),
    ("non-shortest array count", "98 01 00", ND, {}),
    ("non-shortest map count", "b8 01 0000", ND, {}),
    ("non-shortest nested", "82 00 1817", ND, {}),  # 23 needs no extra byte
    ("unsorted int keys", "a2 0200 0100", ND, {}),
    ("unsorted text keys", "a2 616200 616100", ND, {}),
    ("length-first key order", "a2 2000 186400", ND, {}),
    ("text key before int key", "a2 616100 0100", ND, {}),
    # --- malformed -----------------------------------------------------------
    ("duplicate keys", "a2 0100 0100", MF, {}),
    ("non-adjacent duplicate keys", "a3 0100 0200 0100", MF, {}),
    ("duplicate text keys", "a2 616100 616100", MF, {}),
    ("tag 0", "c0 60", MF, {}),
    ("bignum tag 2", "c2 4101", MF, {}),
    ("tag 24 (1-byte head)", "d8 18 40", MF, {}),
    ("half float", "f9 3c00", MF, {}),
    ("half float zero", "f9 0000", MF, {}),
    ("single float", "fa 47c35000", MF, {}),
    ("double float", "fb 3ff199999999999a", MF, {}),
    ("undefined", "f7", MF, {}),
    ("simple 16", "f0", MF, {}),
    ("simple 255", "f8 ff", MF, {}),
    ("simple 24 in two bytes", "f8 18", MF, {}),
    ("lone break", "ff", MF, {}),
    ("reserved ai 28", "1c", MF, {}),
    ("reserved ai 29 negative", "3d", MF, {}),
    ("reserved ai 30 bytes", "5e", MF, {}),
    ("reserved ai 28 array", "9c", MF, {}),
    ("reserved ai 28 tag", "dc", MF, {}),
    ("reserved ai 28 simple", "fc", MF, {}),
    ("ai 31 on unsigned", "1f", MF, {}),
    ("ai 31 on negative", "3f", MF, {}),
    ("empty input", "", MF, {}),
    ("truncated byte string", "43 0102", MF, {}),
    ("truncated head", "19 01", MF, {}),
    ("truncated 8-byte head", "1b 0000", MF, {}),
    ("truncated array", "82 01", MF, {}),
    ("truncated map value", "a1 01", MF, {}),
    ("trailing byte", "00 00", MF, {}),
    ("trailing after map", "a0 a0", MF, {}),
    ("invalid utf-8", "62 c328", MF, {}),
    ("utf-8 surrogate", "63 eda080", MF, {}),
    ("utf-8 overlong", "62 c080", MF, {}),
    ("utf-8 truncated sequence", "61 e2", MF, {}),
    ("byte-string map key", "a1 4100 00", MF, {}),
    ("array map key", "a1 80 00", MF, {}),
    ("map map key", "a1 a0 00", MF, {}),
    ("bool map key", "a1 f5 00", MF, {}),
    ("null map key", "a1 f6 00", MF, {}),
    ("tagged map key", "a1 c1 00 00", MF, {}),
    ("float map key", "a1 f93c00 00", MF, {}),
    ("2^63-byte string, 3 bytes of input", "5b 8000000000000000 010203", MF, {}),
    ("2^64-1-byte text", "7b ffffffffffffffff 61", MF, {}),
    ("2^63-element array", "9b 8000000000000000 00", MF, {"max_items": 2**64}),
    ("2^63-entry map", "bb 8000000000000000 0000", MF, {"max_items": 2**64}),
    ("array count beyond input", "83 0102", MF, {}),
    ("map count beyond input", "a2 0102", MF, {}),
    ("depth 5 arrays", "81 81 81 81 80", MF, {"max_depth": 4}),
    ("depth 5 maps", "a1 01 a1 01 a1 01 a1 01 a0", MF, {"max_depth": 4}),
    ("depth 2 with max_depth 1", "81 81 00", MF, {"max_depth": 1}),
    ("65-element array", "98 41" + "00" * 65, MF, {"max_items": 64}),
    (
        "65-entry map",
        "b8 41" + "".join(f"{k:02x}00" if k < 24 else f"18{k:02x}00" for k in range(65)),
        MF,
        {"max_items": 64},
    ),
    ("3-element array with max_items 2", "83 010203", MF, {"max_items": 2}),
]


@pytest.mark.parametrize("name, hexstr, kind, kwargs", REJECT, ids=[r[0] for r in REJECT])
def test_rejections(name, hexstr, kind, kwargs):
    data = h(hexstr)
    started = time.perf_counter()
    with pytest.raises(CBORError) as info:
        decode(data, **kwargs)
    assert time.perf_counter() - started < 0.1  # no giant allocation or scan
    err = info.value
    assert err.kind == kind
    assert (
        err.registry_name
        == {"malformed": "DECODE_ERROR", "non_deterministic": "NON_DETERMINISTIC_CBOR"}[kind]
    )
    assert 0 <= err.offset <= len(data)
    assert str(err).endswith(f" at offset {err.offset}")
    assert err.__cause__ is None and err.__context__ is None


def test_every_rejection_is_also_rejected_by_limits_free_decode():
    # The limits only add rejections; they never turn a rejection into success.
    for _name, hexstr, _kind, kwargs in REJECT:
        if kwargs:
            continue
        with pytest.raises(CBORError):
            decode(h(hexstr), max_depth=1000, max_items=10**6)


def test_limits_boundaries_are_accepted():
    assert decode(h("81 81 81 80"), max_depth=4) == [[[[]]]]
    assert decode(h("81 81 81 81 01"), max_depth=4) == [[[[1]]]]
    assert decode(h("a1 01 a1 01 a1 01 a1 01 00"), max_depth=4) == {1: {1: {1: {1: 0}}}}
    assert decode(h("98 40" + "00" * 64), max_items=64) == [0] * 64
    assert decode(h("00"), max_depth=0) == 0
    with pytest.raises(CBORError):
        decode(h("80"), max_depth=0)


def test_offsets_point_at_the_fault():
    cases = [
        ("18 05", 0),
        ("82 00 18 05", 2),
        ("00 00", 1),
        ("a2 0200 0100", 3),
        ("a2 0100 0100", 3),
        ("82 00 f9 3c00", 2),
        ("81 81 81 81 81 80", 4),
        ("63 61 c3 28", 2),  # the bad UTF-8 sequence starts at byte 2
        ("82 01", 0),  # the count cannot fit in what is left
    ]
    for hexstr, offset in cases:
        with pytest.raises(CBORError) as info:
            decode(h(hexstr))
        assert info.value.offset == offset, hexstr
        assert f"at offset {offset}" in str(info.value)


def test_messages_name_the_problem():
    for hexstr, words in [
        ("18 05", "non-shortest integer head"),
        ("59 0001 00", "non-shortest length head"),
        ("5f 4100 ff", "indefinite"),
        ("a2 0200 0100", "order"),
        ("a2 0100 0100", "duplicate"),
        ("c0 60", "tag"),
        ("f9 3c00", "float"),
        ("00 00", "trailing"),
        ("62 c3 28", "UTF-8"),
    ]:
        with pytest.raises(CBORError) as info:
            decode(h(hexstr))
        assert words in str(info.value), hexstr


def test_messages_never_quote_the_input():
    secret = b"SECRET-\xc3\x28-KEY"
    for data in [
        bytes([0x60 + len(secret)]) + secret,  # invalid UTF-8 text
        b"\xa1" + bytes([0x40 + len(secret)]) + secret + b"\x00",  # bytes as map key
        b"\x4f" + secret[:15] + b"\x00",  # trailing byte
        b"\x50" + secret[:15],  # truncated
    ]:
        with pytest.raises(CBORError) as info:
            decode(data)
        text = str(info.value) + repr(info.value) + repr(info.value.args)
        for needle in ("SECRET", "KEY", "c3", "\\xc3", "28"):
            assert needle not in text
        assert info.value.__context__ is None


def test_registry_mapping():
    mf = CBORError("malformed", 0, "x")
    nd = CBORError("non_deterministic", 0, "x")
    assert mf.registry_name == "DECODE_ERROR" and mf.error is errors.REGISTRY["DECODE_ERROR"]
    assert nd.registry_name == "NON_DETERMINISTIC_CBOR"
    assert nd.error.number == 2 and mf.error.number == 1
    assert isinstance(mf, Exception)


def test_deep_input_does_not_recurse():
    depth = 20_000  # far beyond the interpreter recursion limit
    data = b"\x81" * depth + b"\x80"
    with pytest.raises(CBORError) as info:
        decode(data)  # default max_depth=4: refused at the 5th array
    assert info.value.offset == 4
    value = decode(data, max_depth=depth + 1)  # iterative: no RecursionError
    for _ in range(depth):
        assert type(value) is list and len(value) == 1
        value = value[0]
    assert value == []


def test_huge_declared_lengths_are_rejected_without_allocation():
    for data in [
        b"\x5b" + (2**63).to_bytes(8, "big") + b"abc",
        b"\x5b" + (2**64 - 1).to_bytes(8, "big"),
        b"\x7a" + (2**32 - 1).to_bytes(4, "big") + b"a",
        b"\x9b" + (2**63).to_bytes(8, "big") + b"\x00",
    ]:
        started = time.perf_counter()
        with pytest.raises(CBORError) as info:
            decode(data, max_items=2**64)
        assert time.perf_counter() - started < 0.05
        assert info.value.kind == "malformed"


# ---------------------------------------------------------------------------
# encode: values outside the subset
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        float("nan"),
        set(),
        frozenset(),
        object(),
        complex(1, 2),
        2**64,
        -(2**64) - 1,
        "\ud800",
        [1, 2.0],
        {b"k": 1},
        {True: 1},
        {None: 1},
        {1.0: 1},
        {(1,): 1},
        {"a": {"b": 1.5}},
    ],
)
def test_encode_rejects_values_outside_the_subset(value):
    with pytest.raises(TypeError):
        encode(value)


def test_encode_rejects_cycles_with_type_error():
    cyclic: list = []
    cyclic.append(cyclic)
    with pytest.raises(TypeError):
        encode(cyclic)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_ints = st.integers(min_value=-(2**64), max_value=2**64 - 1)
_scalars = st.one_of(st.none(), st.booleans(), _ints, st.binary(max_size=40), st.text(max_size=12))
_keys = st.one_of(_ints, st.text(max_size=6))
values = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(_keys, children, max_size=5)
    ),
    max_leaves=12,
)

# Modest example counts keep this file well under 5 s; the fuzz harness
# (atheris) is the place for long runs.
_FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_FAST_BYTES = settings(max_examples=300, deadline=None)


def _rfc8949_order_via_cbor2(value):
    """The value with every map re-ordered by the bytewise order of cbor2's
    encoding of its keys (the RFC 8949 §4.2.1 rule, applied independently)."""
    if isinstance(value, dict):
        return {k: _rfc8949_order_via_cbor2(value[k]) for k in sorted(value, key=cbor2.dumps)}
    if isinstance(value, list):
        return [_rfc8949_order_via_cbor2(v) for v in value]
    return value


@_FAST
@given(values)
def test_cbor2_agrees(value):
    data = encode(value)
    assert cbor2.loads(data) == value
    # cbor2 writes shortest heads and definite lengths and keeps dict order,
    # so with keys pre-sorted by the RFC rule it must produce the same bytes.
    assert cbor2.dumps(_rfc8949_order_via_cbor2(value)) == data


@_FAST
@given(values)
def test_round_trip(value):
    data = encode(value)
    assert same(decode(data, max_depth=64, max_items=64), value)
    assert encode(decode(data, max_depth=64, max_items=64)) == data


def _check_decode_total(data: bytes, **limits) -> None:
    """decode() either returns the value whose encoding *is* data, or raises CBORError."""
    try:
        value = decode(data, **limits)
    except CBORError as err:
        assert err.kind in ("malformed", "non_deterministic")
        assert 0 <= err.offset <= len(data)
        return
    assert encode(value) == data


@_FAST_BYTES
@given(st.binary(max_size=48))
def test_arbitrary_bytes_decode_or_cbor_error(data):
    _check_decode_total(data)
    _check_decode_total(data, max_depth=64, max_items=1000)


@_FAST
@given(st.data())
def test_mutated_encodings_decode_or_cbor_error(data):
    original = encode(data.draw(values, label="value"))
    mutation = data.draw(
        st.sampled_from(["flip", "set", "insert", "delete", "truncate", "append"]), label="mutation"
    )
    i = data.draw(st.integers(0, len(original) - 1), label="index")
    b = data.draw(st.integers(0, 255), label="byte")
    buf = bytearray(original)
    if mutation == "flip":
        buf[i] ^= 1 << (b % 8)
    elif mutation == "set":
        buf[i] = b
    elif mutation == "insert":
        buf.insert(i, b)
    elif mutation == "delete":
        del buf[i]
    elif mutation == "truncate":
        del buf[i:]
    else:
        buf.append(b)
    mutated = bytes(buf)
    _check_decode_total(mutated, max_depth=64, max_items=64)
    _check_decode_total(mutated)
    # and through the other accepted input types
    _check_decode_total(bytearray(mutated), max_depth=64, max_items=64)


# ---------------------------------------------------------------------------
# Diagnostic notation (RFC 8949 §8; strings as in the Appendix A table)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, "0"),
        (-1000, "-1000"),
        (18446744073709551615, "18446744073709551615"),
        (-18446744073709551616, "-18446744073709551616"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (b"", "h''"),
        (b"\x01\x02\x03\x04", "h'01020304'"),
        (b"\xab\xcd\xef", "h'abcdef'"),
        ("", '""'),
        ("a", '"a"'),
        ('"\\', '"\\"\\\\"'),
        ("\u00fc", '"\\u00fc"'),
        ("\n", '"\\n"'),
        ([], "[]"),
        ({}, "{}"),
        ([1, [2, 3], [4, 5]], "[1, [2, 3], [4, 5]]"),
        ({1: 2, 3: 4}, "{1: 2, 3: 4}"),
        ({"a": 1, "b": [2, 3]}, '{"a": 1, "b": [2, 3]}'),
        (["a", {"b": "c"}], '["a", {"b": "c"}]'),
        ({"aa": 0, -1: 0, "z": 0, 100: 0, 10: 0}, '{10: 0, 100: 0, -1: 0, "z": 0, "aa": 0}'),
        ({2: b"\x00", 1: [True, None]}, "{1: [true, null], 2: h'00'}"),
    ],
)
def test_diagnostic(value, expected):
    assert diagnostic(value) == expected


def test_diagnostic_of_decoded_value():
    assert diagnostic(decode(h("a26161016162820203"))) == '{"a": 1, "b": [2, 3]}'


@pytest.mark.parametrize("value", [1.5, object(), {b"k": 1}, 2**64])
def test_diagnostic_rejects_values_outside_the_subset(value):
    with pytest.raises(TypeError):
        diagnostic(value)

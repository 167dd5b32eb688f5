"""The strict, deterministic CBOR profile of Parley (§4.2).

Every Parley frame body is exactly one CBOR item (RFC 8949) of a small subset,
written in the "core deterministic encoding" of RFC 8949 §4.2.1:

* the accepted data model is unsigned and negative integers (major types 0
  and 1, i.e. the 64-bit range -2**64 .. 2**64-1), byte strings (2), text
  strings (3), arrays (4), maps (5) whose keys are integers or text strings,
  and the simple values false, true and null (major type 7, values 20-22);
  tags, floats, undefined and every other simple value are outside it;
* every head (initial byte plus argument) is in shortest form
  (RFC 8949 §4.2.1, first bullet);
* lengths are definite: indefinite-length strings, arrays and maps
  (additional information 31, RFC 8949 §3.2) are never used;
* the keys of every map are unique and sorted in the bytewise lexicographic
  order of their deterministic encodings (RFC 8949 §4.2.1, third bullet;
  this is *not* the length-first order of RFC 7049 §3.9 "canonical CBOR").

``encode`` produces exactly that encoding.  ``decode`` parses bytes from an
unauthenticated peer: it accepts exactly the encodings ``encode`` produces and
rejects everything else with a ``CBORError`` (and nothing but a
``CBORError``), classifying the rejection as

* ``"malformed"`` (registry DECODE_ERROR, §11): not one well-formed item of
  the subset (RFC 8949 §3 / Appendix F), or over a resource limit;
* ``"non_deterministic"`` (registry NON_DETERMINISTIC_CBOR, §11): well-formed
  but not in deterministic encoding (non-shortest head, indefinite length,
  unsorted map keys).

The decoder is iterative (an explicit stack, never Python recursion), checks
every declared length and count against the remaining input *before* slicing
or allocating, enforces the nesting and element-count limits before
descending, and runs in time linear in the input length.  Error messages name
the problem and the byte offset but never quote the input, which may be
secret.

Diagnostic notation (RFC 8949 §8), for the vector files and reports, is in
``cbor_diag``.
"""

from __future__ import annotations

import struct
from typing import Any

from .errors import ErrorCode, code

__all__ = [
    "CBORError",
    "MALFORMED",
    "NON_DETERMINISTIC",
    "decode",
    "encode",
]

MALFORMED = "malformed"
NON_DETERMINISTIC = "non_deterministic"

_REGISTRY_NAMES = {
    MALFORMED: "DECODE_ERROR",
    NON_DETERMINISTIC: "NON_DETERMINISTIC_CBOR",
}

# The CBOR integer range (RFC 8949 §3.1, major types 0 and 1).
_UINT_MAX = (1 << 64) - 1
_NINT_MIN = -(1 << 64)

# Major types (RFC 8949 §3.1).
_UINT, _NINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)

# Simple values of the subset (RFC 8949 §3.3): additional info 20, 21, 22.
_SIMPLE_VALUES = {20: False, 21: True, 22: None}

# Deeper nesting than this is refused by encode() and cbor_diag.diagnostic() (which are
# recursive), so that a cyclic or absurdly deep object gives a TypeError
# instead of a RecursionError.  Parley's messages nest at most a few levels.
_MAX_ENCODE_DEPTH = 256


class CBORError(Exception):
    """A frame body was rejected by the §4.2 profile.

    ``kind`` is ``"malformed"`` or ``"non_deterministic"``; ``offset`` is the
    byte offset (into the decoded buffer) of the head or position at fault.
    The message names the problem and the offset, never the input's bytes.
    """

    def __init__(self, kind: str, offset: int, problem: str) -> None:
        if kind not in _REGISTRY_NAMES:
            raise ValueError(f"unknown CBORError kind {kind!r}")
        self.kind = kind
        self.offset = offset
        self.problem = problem
        super().__init__(f"{problem} at offset {offset}")

    @property
    def registry_name(self) -> str:
        """``"DECODE_ERROR"`` or ``"NON_DETERMINISTIC_CBOR"`` (§11)."""
        return _REGISTRY_NAMES[self.kind]

    @property
    def error(self) -> ErrorCode:
        """The registry entry (§11) this rejection maps to."""
        return code(self.registry_name)


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------

_ONE_BYTE = [bytes((i,)) for i in range(256)]
_pack_b8 = struct.Struct(">BB").pack
_pack_b16 = struct.Struct(">BH").pack
_pack_b32 = struct.Struct(">BI").pack
_pack_b64 = struct.Struct(">BQ").pack


def _head(major: int, arg: int) -> bytes:
    """The shortest-form head for ``major`` and argument ``arg`` (RFC 8949 §4.2.1)."""
    ib = major << 5
    if arg < 24:
        return _ONE_BYTE[ib | arg]
    if arg < 0x100:
        return _pack_b8(ib | 24, arg)
    if arg < 0x10000:
        return _pack_b16(ib | 25, arg)
    if arg < 0x100000000:
        return _pack_b32(ib | 26, arg)
    return _pack_b64(ib | 27, arg)


def _int_head(value: int) -> bytes:
    """The deterministic encoding of an integer (major type 0 or 1)."""
    if value >= 0:
        if value < 24:
            return _ONE_BYTE[value]
        if value > _UINT_MAX:
            raise TypeError("integer out of the CBOR 64-bit range (RFC 8949 §3.1)")
        return _head(_UINT, value)
    if value < _NINT_MIN:
        raise TypeError("integer out of the CBOR 64-bit range (RFC 8949 §3.1)")
    return _head(_NINT, -1 - value)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    # Raised outside the except block, so the text is not chained along.
    raise TypeError("text string is not encodable as UTF-8 (lone surrogate)")


def _encode_key(key: object) -> bytes:
    """The deterministic encoding of a map key (an int or a str)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return _int_head(int(key))
    if isinstance(key, str):
        raw = _utf8(key)
        return _head(_TEXT, len(raw)) + raw
    raise TypeError(f"map key of type {type(key).__name__} is not an int or str (§4.2)")


def _first(pair: tuple) -> bytes:
    return pair[0]


def _sorted_items(obj: dict) -> list[tuple[bytes, object]]:
    """``(encoded key, value)`` pairs in RFC 8949 §4.2.1 bytewise key order."""
    items = []
    exact = True
    for key, value in obj.items():
        t = type(key)
        if t is int:
            items.append((_int_head(key), value))
        else:
            exact = exact and t is str
            items.append((_encode_key(key), value))
    items.sort(key=_first)
    if not exact:
        # Distinct int/str keys always encode differently, but subclasses with
        # odd __eq__/__hash__ could smuggle in two keys with one encoding.
        for i in range(1, len(items)):
            if items[i - 1][0] == items[i][0]:
                raise TypeError("two map keys have the same encoding (§4.2)")
    return items


def _encode_into(obj: Any, out: list, depth: int) -> None:
    """Append the chunks of ``obj``'s deterministic encoding to ``out``."""
    t = type(obj)
    # Exact-type fast paths first (the per-record hot path is a small map of
    # small ints plus one large byte string); subclasses are handled below.
    if t is int:
        out.append(_int_head(obj))
    elif t is bytes:
        out.append(_head(_BYTES, len(obj)))
        out.append(obj)  # joined once by encode(): no intermediate copy
    elif t is dict:
        _encode_map(obj, out, depth)
    elif t is str:
        raw = _utf8(obj)
        out.append(_head(_TEXT, len(raw)))
        out.append(raw)
    elif obj is None:
        out.append(b"\xf6")
    elif obj is True:
        out.append(b"\xf5")
    elif obj is False:
        out.append(b"\xf4")
    elif t is list or t is tuple:
        _encode_array(obj, out, depth)
    elif isinstance(obj, int):  # e.g. IntEnum (bool was handled above)
        out.append(_int_head(int(obj)))
    elif isinstance(obj, (bytes, bytearray)):
        out.append(_head(_BYTES, len(obj)))
        out.append(obj)  # bytes-like: b"".join copies it once, into the result
    elif isinstance(obj, memoryview):
        view = obj.cast("B") if (obj.ndim != 1 or obj.format != "B") else obj
        out.append(_head(_BYTES, view.nbytes))
        out.append(view)
    elif isinstance(obj, str):
        raw = _utf8(obj)
        out.append(_head(_TEXT, len(raw)))
        out.append(raw)
    elif isinstance(obj, (list, tuple)):
        _encode_array(obj, out, depth)
    elif isinstance(obj, dict):
        _encode_map(obj, out, depth)
    else:
        raise TypeError(f"cannot encode {t.__name__} in the §4.2 CBOR profile")


def _encode_array(obj: list | tuple, out: list, depth: int) -> None:
    if depth >= _MAX_ENCODE_DEPTH:
        raise TypeError("nesting too deep to encode (cyclic structure?)")
    out.append(_head(_ARRAY, len(obj)))
    for item in obj:
        _encode_into(item, out, depth + 1)


def _encode_map(obj: dict, out: list, depth: int) -> None:
    if depth >= _MAX_ENCODE_DEPTH:
        raise TypeError("nesting too deep to encode (cyclic structure?)")
    items = _sorted_items(obj)
    out.append(_head(_MAP, len(items)))
    append = out.append
    for key_bytes, value in items:
        append(key_bytes)
        if type(value) is int and 0 <= value < 24:
            append(_ONE_BYTE[value])
        else:
            _encode_into(value, out, depth + 1)


def encode(obj: object) -> bytes:
    """Encode ``obj`` in the deterministic CBOR of §4.2 (RFC 8949 §4.2.1).

    Accepts int (within -2**64 .. 2**64-1), bytes / bytearray / memoryview
    (byte string), str (text string), list / tuple (array), dict with int or
    str keys (map), bool and None.  Heads are shortest-form, lengths definite,
    map keys sorted bytewise by their encodings.  Anything else (including an
    out-of-range int or a str with lone surrogates) raises ``TypeError``.

    Byte-string payloads are copied exactly once, into the result.
    """
    out: list = []
    _encode_into(obj, out, 0)
    return b"".join(out)


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------

# Argument size in bytes and the smallest argument that needs that size
# (anything smaller has a shorter head: RFC 8949 §4.2.1), by additional info.
# Indexed by additional information 24..27 only (0 below: never read).
_ARG_SIZE = (0,) * 24 + (1, 2, 4, 8)
_ARG_MIN = (0,) * 24 + (24, 0x100, 0x10000, 0x100000000)

_NO_KEY = object()  # the key slot of an array, or of a map awaiting a key


def _as_buffer(data: bytes | bytearray | memoryview) -> bytes | memoryview:
    """A zero-copy, indexable view of ``data`` (``buf[i]`` is an int): bytes as they are,
    any other bytes-like object as a one-dimensional view of bytes (TypeError otherwise,
    or if it is not C-contiguous: a caller's bug)."""
    if type(data) is bytes:
        return data
    return memoryview(data).cast("B")


def decode(
    data: bytes | bytearray | memoryview,
    *,
    max_depth: int = 4,
    max_items: int = 64,
) -> object:
    """Decode exactly one item of the §4.2 profile from ``data``.

    Byte strings decode to ``bytes``, text strings to ``str``, arrays to
    ``list`` and maps to ``dict`` (in encoding order).  ``max_depth`` bounds
    how many arrays/maps may be nested inside one another (a top-level map is
    depth 1; scalars add nothing); ``max_items`` bounds the number of elements
    of one array, or of entries (key/value pairs) of one map.

    Any input that is not the deterministic encoding (RFC 8949 §4.2.1) of one
    item of the subset raises ``CBORError`` with kind ``"malformed"`` or
    ``"non_deterministic"``; nothing else is raised for any content of
    ``data``.  Passing something that is not bytes-like is a ``TypeError``.
    """
    if type(max_depth) is not int or max_depth < 0:
        raise ValueError("max_depth must be a non-negative int")
    if type(max_items) is not int or max_items < 0:
        raise ValueError("max_items must be a non-negative int")
    buf = _as_buffer(data)
    end = len(buf)
    pos = 0

    # The array or map being filled, kept in locals for speed; ``stack``
    # holds the saved state of its ancestors (one entry per open container,
    # so len(stack) is the current nesting depth).  No Python recursion.
    # Any: the decoded values are whatever the input holds; the checks below, not the types,
    # keep them apart (mypy cannot follow is_map).
    cur: Any = None
    value: Any = None
    arg = 0
    is_map = False
    want_key = False  # cur is a map and its next item is a key
    remaining = 0  # items still to come in cur (keys and values count once per entry)
    key: object = _NO_KEY  # the key whose value comes next
    prev_key = b""  # encoding of cur's previous key, for the order check
    stack: list[tuple] = []

    while True:
        # ---- one head (RFC 8949 §3) -------------------------------------
        start = pos
        if pos >= end:
            raise CBORError(MALFORMED, pos, "truncated input: expected a data item")
        ib = buf[pos]
        pos += 1
        major = ib >> 5
        ai = ib & 0x1F

        if want_key and major != _UINT and major != _NINT and major != _TEXT:
            raise CBORError(MALFORMED, start, "map key is not an integer or text string")
        if major == _SIMPLE:
            if 20 <= ai <= 22:
                value = _SIMPLE_VALUES[ai]
            else:
                raise CBORError(MALFORMED, start, _simple_problem(ai))
        elif major == _TAG:
            raise CBORError(
                MALFORMED,
                start,
                "reserved additional information" if 28 <= ai <= 30 else "tags are not accepted",
            )
        else:
            if ai < 24:
                arg = ai
            elif ai < 28:
                size = _ARG_SIZE[ai]
                if size > end - pos:
                    raise CBORError(MALFORMED, start, "truncated input inside a head")
                arg = int.from_bytes(buf[pos : pos + size], "big")
                pos += size
                if arg < _ARG_MIN[ai]:
                    what = "integer" if major <= _NINT else "length"
                    raise CBORError(NON_DETERMINISTIC, start, f"non-shortest {what} head")
            elif ai < 31:
                raise CBORError(MALFORMED, start, "reserved additional information")
            elif major <= _NINT:
                raise CBORError(MALFORMED, start, "additional information 31 on an integer")
            else:
                raise CBORError(NON_DETERMINISTIC, start, "indefinite-length item")

            if major == _UINT:
                value = arg
            elif major == _NINT:
                value = -1 - arg
            elif major <= _TEXT:
                # The length is checked against the input before slicing.
                if arg > end - pos:
                    raise CBORError(MALFORMED, start, "string length exceeds the remaining input")
                raw = buf[pos : pos + arg]
                if major == _BYTES:
                    value = raw if type(raw) is bytes else bytes(raw)
                else:
                    value = _decode_text(raw, pos)
                pos += arg
            else:  # array or map: limits are checked before descending
                if len(stack) >= max_depth:
                    raise CBORError(MALFORMED, start, f"nesting deeper than max_depth={max_depth}")
                if arg > max_items:
                    raise CBORError(MALFORMED, start, f"more than max_items={max_items} elements")
                new_is_map = major == _MAP
                # Every item takes at least one byte, so a count the rest of
                # the input cannot hold is refused before anything is built.
                if (arg + arg if new_is_map else arg) > end - pos:
                    raise CBORError(MALFORMED, start, "element count exceeds the remaining input")
                if arg:
                    stack.append((cur, is_map, remaining, key, prev_key))
                    cur = {} if new_is_map else []
                    is_map = want_key = new_is_map
                    remaining = arg
                    key = _NO_KEY
                    prev_key = b""
                    continue
                value = {} if new_is_map else []

        # ---- attach the finished value to the open containers -----------
        while True:
            if cur is None:
                if pos != end:
                    raise CBORError(MALFORMED, pos, "trailing bytes after the item")
                return value
            if want_key:
                # Keys are scalars, so buf[start:pos] is this key's whole
                # (already verified deterministic) encoding.
                if value in cur:
                    raise CBORError(MALFORMED, start, "duplicate map key")
                key_bytes = bytes(buf[start:pos])
                if key_bytes < prev_key:
                    raise CBORError(NON_DETERMINISTIC, start, "map keys not in bytewise order")
                prev_key = key_bytes
                key = value
                want_key = False
                break
            if is_map:
                cur[key] = value
                want_key = True
            else:
                cur.append(value)
            remaining -= 1
            if remaining:
                break
            value = cur
            cur, is_map, remaining, key, prev_key = stack.pop()
            want_key = False  # a container is never a key: the parent wanted a value


def _simple_problem(ai: int) -> str:
    """Why a major-type-7 item other than false/true/null is refused."""
    if ai == 23:
        return "undefined is not accepted"
    if 25 <= ai <= 27:
        return "floating-point values are not accepted"
    if 28 <= ai <= 30:
        return "reserved additional information"
    if ai == 31:
        return "unexpected break stop code"
    return "simple value not accepted"  # 0..19, or 24 (one-byte simple value)


def _decode_text(raw: bytes | memoryview, offset: int) -> str:
    """Strict UTF-8 (RFC 8949 §3.1 major type 3; RFC 3629)."""
    try:
        return str(raw, "utf-8")
    except UnicodeDecodeError as exc:
        bad = offset + exc.start
    # Raised outside the except block: the UnicodeDecodeError (whose message
    # quotes the offending byte) is not chained to the CBORError.
    raise CBORError(MALFORMED, bad, "invalid UTF-8 in a text string")

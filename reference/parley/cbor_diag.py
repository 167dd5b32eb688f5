"""CBOR diagnostic notation (RFC 8949 §8) of the §4.2 subset, for people.

The test-vector files, the conformance reports and tools/vectorgen show frames in
this notation; a session never renders one.  The values are those ``cbor.encode``
takes, checked the same way (integer range, encodable text, the nesting bound), and
maps are written in ``encode``'s key order, so equal values render equally.
"""

from __future__ import annotations

import json

from .cbor import _MAX_ENCODE_DEPTH, _encode_key, _first, _int_head, _utf8

__all__ = ["diagnostic"]


def diagnostic(obj: object) -> str:
    """RFC 8949 §8 diagnostic notation of a value of the §4.2 subset.

    Integers in decimal, byte strings as ``h'…'`` (lowercase hex), text as a
    JSON string (non-ASCII as ``\\uXXXX`` escapes, as in RFC 8949 Appendix A),
    arrays ``[a, b]``, maps ``{k: v, k2: v2}`` in encoding order (bytewise
    order of the encoded keys), ``true`` / ``false`` / ``null``.  The output
    is a function of the value alone, hence deterministic.
    """
    parts: list[str] = []
    _diag_into(obj, parts, 0)
    return "".join(parts)


def _diag_into(obj: object, parts: list[str], depth: int) -> None:
    if obj is None:
        parts.append("null")
    elif obj is True:
        parts.append("true")
    elif obj is False:
        parts.append("false")
    elif isinstance(obj, int):
        _int_head(int(obj))  # range check
        parts.append(str(int(obj)))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        parts.append(f"h'{bytes(obj).hex()}'")
    elif isinstance(obj, str):
        _utf8(obj)  # encodability check
        parts.append(json.dumps(obj, ensure_ascii=True))
    elif isinstance(obj, (list, tuple)):
        if depth >= _MAX_ENCODE_DEPTH:
            raise TypeError("nesting too deep (cyclic structure?)")
        parts.append("[")
        for i, item in enumerate(obj):
            if i:
                parts.append(", ")
            _diag_into(item, parts, depth + 1)
        parts.append("]")
    elif isinstance(obj, dict):
        if depth >= _MAX_ENCODE_DEPTH:
            raise TypeError("nesting too deep (cyclic structure?)")
        pairs = [(_encode_key(k), k, v) for k, v in obj.items()]
        pairs.sort(key=_first)
        parts.append("{")
        for i, (_, key, value) in enumerate(pairs):
            if i:
                parts.append(", ")
            _diag_into(key, parts, depth + 1)
            parts.append(": ")
            _diag_into(value, parts, depth + 1)
        parts.append("}")
    else:
        raise TypeError(f"cannot render {type(obj).__name__} in the §4.2 CBOR profile")

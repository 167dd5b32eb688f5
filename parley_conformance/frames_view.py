"""Frames as a person reads them: CBOR diagnostic notation with Parley's field names (§4.3).

``describe(wire)`` turns one length-prefixed frame into a :class:`FrameView`:
``DATA {seq: 0, ct: h'8b5e3b1f…' (32 bytes), tag: h'983b56…' (32 bytes)}``.  Long byte
strings are shortened and keep their length; a frame that does not decode is shown as hex
with the decoder's reason.  ``compare(expected, actual)`` lines two frames up field by field
and marks the first field that differs.  Everything here is peer-controlled data: the
output is plain text for the caller to escape (``report.clean`` on a terminal, HTML
escaping in the HTML report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley import cbor, cbor_diag

# §4.3 keys, named as in §5 and §7 (the same table as tools/checkvectors' FIELD_NAMES).
TYPES = {1: "E_HELLO", 2: "R_HELLO", 3: "E_AUTH", 4: "DATA", 5: "FINAL", 6: "ACK", 7: "ABORT"}
FIELD_NAMES = {
    "E_HELLO": {1: "version", 2: "suite", 3: "sid_e", 4: "g_e"},
    "R_HELLO": {3: "sid_r", 4: "g_r", 5: "c_r", 6: "mac_r"},
    "E_AUTH": {5: "c_e", 6: "mac_e"},
    "DATA": {7: "seq", 5: "ct", 6: "tag"},
    "FINAL": {7: "seq", 8: "total", 6: "tag"},
    "ACK": {8: "total", 6: "tag"},
    "ABORT": {9: "error"},
}
# Names of keys in a frame of an unknown or wrong type (the generic §4.3 meaning).
GENERIC = {
    1: "version",
    2: "suite",
    3: "sid",
    4: "g",
    5: "ciphertext",
    6: "mac",
    7: "seq",
    8: "total",
    9: "error",
}
SHOWN_BYTES = 8  # bytes of a long byte string shown (hex) before the ellipsis
HEX_SHOWN = 48  # bytes of an undecodable frame shown


@dataclass
class FrameView:
    """One frame, decoded as far as it goes."""

    type: str  # E_HELLO … ABORT, TYPE_n, MALFORMED, EMPTY, INCOMPLETE
    length: int  # bytes on the wire, length prefix included
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, diagnostic value)
    error: str = ""  # why it does not decode, if it does not
    hex: str = ""  # the start of the wire bytes, for frames that do not decode

    def text(self) -> str:
        if self.error:
            return f"{self.type} ({self.error}) {self.hex}"
        return f"{self.type} {{" + ", ".join(f"{k}: {v}" for k, v in self.fields) + "}"


def value_text(v: object, limit: int = SHOWN_BYTES) -> str:
    """Diagnostic notation of one field's value, long byte strings shortened with a length."""
    if isinstance(v, (bytes, bytearray)):
        b = bytes(v)
        if len(b) > limit:
            return f"h'{b[:limit].hex()}…' ({len(b)} bytes)"
        return f"h'{b.hex()}'"
    try:
        return cbor_diag.diagnostic(v)
    except (TypeError, ValueError):
        return repr(v)


def _hex(wire: bytes) -> str:
    return wire[:HEX_SHOWN].hex() + ("…" if len(wire) > HEX_SHOWN else "")


def describe(wire: bytes, *, limit: int = SHOWN_BYTES) -> FrameView:
    """Decode one length-prefixed frame (§4.1) for display; never raises."""
    wire = bytes(wire)
    if len(wire) < 4:
        return FrameView(
            "INCOMPLETE", len(wire), error="shorter than the length prefix", hex=_hex(wire)
        )
    n = int.from_bytes(wire[:4], "big")
    body = wire[4:]
    if len(body) < n:
        return FrameView(
            "INCOMPLETE",
            len(wire),
            error=f"declares {n} bytes, {len(body)} present",
            hex=_hex(wire),
        )
    body = body[:n]
    if not body:
        return FrameView("EMPTY", len(wire), error="a frame with no body", hex=_hex(wire))
    try:
        item = cbor.decode(body, max_depth=4, max_items=64)
    except cbor.CBORError as exc:
        return FrameView("MALFORMED", len(wire), error=f"does not decode: {exc}", hex=_hex(wire))
    if not isinstance(item, dict) or not isinstance(item.get(0), int):
        return FrameView(
            "MALFORMED",
            len(wire),
            error="not a map with an integer type at key 0 (§4.3)",
            hex=_hex(wire),
        )
    mtype = item[0]
    name = TYPES.get(mtype, f"TYPE_{mtype}")
    names = FIELD_NAMES.get(name, {})
    fields: list[tuple[str, str]] = []
    for key in names:  # the spec's order first
        if key in item:
            fields.append((names[key], value_text(item[key], limit)))
    for key, v in item.items():
        if key == 0 or key in names:
            continue
        label = f"{key} ({GENERIC[key]}?)" if isinstance(key, int) and key in GENERIC else None
        fields.append((label or value_text(key), value_text(v, limit)))
    return FrameView(name, len(wire), fields)


@dataclass
class Comparison:
    """Two frames field by field; ``first`` is the first field that differs."""

    expected: FrameView
    actual: FrameView
    rows: list[tuple[str, str, str]]  # (field, expected value, actual value)
    first: str | None  # "type", a field name, or None if they are equal

    def lines(self) -> list[str]:
        out = []
        width = max([len(r[0]) for r in self.rows] + [5])
        vw = max([len(r[1]) for r in self.rows] + [8])
        out.append(f"  {'field':<{width}}  {'expected':<{vw}}  actual")
        for name, e, a in self.rows:
            mark = "≠" if name == self.first else ("~" if e != a else " ")
            out.append(f"{mark} {name:<{width}}  {e:<{vw}}  {a}")
        if self.first:
            others = sum(1 for r in self.rows if r[1] != r[2]) > 1
            out.append(
                f"≠ marks the first difference ({self.first})"
                + ("; ~ the others" if others else "")
            )
        return out


def compare(expected: bytes, actual: bytes, *, limit: int = 16) -> Comparison:
    """Expected and actual frame aligned field by field, the first difference named."""
    e, a = describe(expected, limit=limit), describe(actual, limit=limit)
    rows: list[tuple[str, str, str]] = [("type", e.type, a.type)]
    if e.error or a.error:
        rows.append(("bytes", e.error or e.hex, a.error or a.hex))
    else:
        ef, af = dict(e.fields), dict(a.fields)
        order = [k for k, _ in e.fields] + [k for k, _ in a.fields if k not in ef]
        for k in order:
            rows.append((k, ef.get(k, "(absent)"), af.get(k, "(absent)")))
    rows.append(("length", f"{e.length} B", f"{a.length} B"))
    first = next((r[0] for r in rows if r[1] != r[2]), None)
    if first is None and bytes(expected) != bytes(actual):
        first = "bytes"
        rows.append(("bytes", _hex(bytes(expected)), _hex(bytes(actual))))
    return Comparison(e, a, rows, first)


def transcript_rows(entries: list[dict]) -> list[dict[str, Any]]:
    """The transcript of a case (cases.Transcript), each frame decoded: dicts with ``kind``
    ("frame", "bytes" or "event"), ``src``, ``dst``, ``view`` (a FrameView) or ``text``."""
    rows: list[dict[str, Any]] = []
    for e in entries:
        if e.get("kind") == "event":
            rows.append({"kind": "event", "text": str(e.get("text", ""))})
            continue
        wire = bytes(e.get("wire", b""))
        view = describe(wire)
        if e.get("kind") == "bytes" and e.get("note"):
            view.error = f"{e['note']}" + (f"; {view.error}" if view.error else "")
            view.hex = view.hex or _hex(wire)
        rows.append(
            {
                "kind": e.get("kind", "frame"),
                "src": e.get("src", "?"),
                "dst": e.get("dst", "?"),
                "view": view,
            }
        )
    return rows


def transcript_lines(entries: list[dict]) -> list[str]:
    """The transcript as text lines: ``runner → impl  DATA (79 B) {seq: 0, …}``."""
    out = []
    for row in transcript_rows(entries):
        if row["kind"] == "event":
            out.append(f"· {row['text']}")
            continue
        v: FrameView = row["view"]
        body = (
            f"({v.error}) {v.hex}"
            if v.error
            else "{" + ", ".join(f"{k}: {x}" for k, x in v.fields) + "}"
        )
        out.append(f"{row['src']:>6} → {row['dst']:<6} {v.type} ({v.length} B) {body}")
    return out

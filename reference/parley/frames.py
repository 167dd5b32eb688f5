"""Frames (§4.1) and message schemas (§4.3).

``FrameReader`` turns a byte stream, split in any way, into frame bodies and
caps every body's length before it is buffered.  ``parse`` turns a body into a
``(type name, fields)`` pair, checking the deterministic CBOR profile (§4.2),
the message type against the state (§9), and the schema (§4.3) in that order.
"""

from __future__ import annotations

from . import cbor
from .errors import RemoteProtocolError

# §4.3: message type numbers.
E_HELLO, R_HELLO, E_AUTH, DATA, FINAL, ACK, ABORT = 1, 2, 3, 4, 5, 6, 7
TYPE_NAMES = {E_HELLO: "E_HELLO", R_HELLO: "R_HELLO", E_AUTH: "E_AUTH", DATA: "DATA",
              FINAL: "FINAL", ACK: "ACK", ABORT: "ABORT"}
TYPE_NUMBERS = {v: k for k, v in TYPE_NAMES.items()}

# §4.3: field keys.
K_TYPE, K_VERSION, K_SUITE, K_SID, K_PUB, K_CT, K_MAC, K_SEQ, K_TOTAL, K_ERROR = range(10)

UINT = "uint"
BSTR = "bstr"
# Per message: key -> UINT, BSTR, or an int (a bstr of exactly that size).  The
# suite-dependent sizes (public values, c_r, MACs) are checked by the processing
# steps of §5, which know the suite.
SCHEMAS: dict[int, dict[int, str | int]] = {
    E_HELLO: {K_VERSION: UINT, K_SUITE: UINT, K_SID: 16, K_PUB: BSTR},
    R_HELLO: {K_SID: 16, K_PUB: BSTR, K_CT: BSTR, K_MAC: BSTR},
    E_AUTH: {K_CT: BSTR, K_MAC: BSTR},
    DATA: {K_CT: BSTR, K_MAC: 32, K_SEQ: UINT},
    FINAL: {K_MAC: 32, K_SEQ: UINT, K_TOTAL: UINT},
    ACK: {K_MAC: 32, K_TOTAL: UINT},
    ABORT: {K_ERROR: UINT},
}

MAX_UINT64 = (1 << 64) - 1
LENGTH_PREFIX = 4


class FrameReader:
    """Reassembles frames from a byte stream (§4.1)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def pending(self) -> int:
        """Bytes buffered that are not yet a whole frame."""
        return len(self._buf)

    def next_frame(self, limit: int) -> bytes | None:
        """The next whole body, or None if more bytes are needed.

        The declared length is checked against ``limit`` as soon as the 4-byte
        prefix is in, before the body is waited for or buffered (§4.1, §10).
        """
        buf = self._buf
        if len(buf) < LENGTH_PREFIX:
            return None
        n = int.from_bytes(buf[:LENGTH_PREFIX], "big")
        if n > limit:
            raise RemoteProtocolError(
                "FRAME_TOO_LARGE", f"declared frame length {n} exceeds the limit {limit}")
        if n == 0:
            raise RemoteProtocolError("DECODE_ERROR", "empty frame body")
        end = LENGTH_PREFIX + n
        if len(buf) < end:
            return None
        body = bytes(buf[LENGTH_PREFIX:end])
        del buf[:end]
        return body

    def clear(self) -> None:
        self._buf.clear()


def frame(body: bytes) -> bytes:
    """Length-prefix a body (§4.1)."""
    return len(body).to_bytes(LENGTH_PREFIX, "big") + body


def encode(mtype: int, fields: dict[int, object]) -> bytes:
    """The deterministic CBOR body of a message (§4.2, §4.3)."""
    return cbor.encode({K_TYPE: mtype, **fields})


def decode_body(body: bytes) -> object:
    """Decode a body with the deterministic CBOR profile (§4.2)."""
    try:
        return cbor.decode(body, max_depth=2, max_items=16)
    except cbor.CBORError as exc:
        raise RemoteProtocolError(exc.registry_name, str(exc)) from None


def message_type(item: object) -> int:
    """Key 0 of a decoded body; SCHEMA_VIOLATION if the body is not a typed map (§4.3)."""
    if not isinstance(item, dict):
        raise RemoteProtocolError("SCHEMA_VIOLATION", "frame body is not a CBOR map")
    mtype = item.get(K_TYPE)
    if not _is_uint(mtype):
        raise RemoteProtocolError("SCHEMA_VIOLATION", "frame body has no unsigned message type (key 0)")
    return mtype


def check_schema(mtype: int, item: dict) -> dict[int, object]:
    """Check keys, types and fixed sizes of a known message type (§4.3)."""
    schema = SCHEMAS[mtype]
    name = TYPE_NAMES[mtype]
    for key in item:
        if key != K_TYPE and key not in schema:
            raise RemoteProtocolError("SCHEMA_VIOLATION", f"{name} has unknown key {key!r}")
    for key, kind in schema.items():
        if key not in item:
            raise RemoteProtocolError("SCHEMA_VIOLATION", f"{name} lacks key {key}")
        value = item[key]
        if kind == UINT:
            if not _is_uint(value) or value > MAX_UINT64:
                raise RemoteProtocolError("SCHEMA_VIOLATION", f"{name} key {key} must be a uint")
        elif not isinstance(value, bytes):
            raise RemoteProtocolError("SCHEMA_VIOLATION", f"{name} key {key} must be a bstr")
        elif kind != BSTR and len(value) != kind:
            raise RemoteProtocolError(
                "SCHEMA_VIOLATION", f"{name} key {key} must have {kind} bytes, has {len(value)}")
    return item


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

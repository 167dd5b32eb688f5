"""Frames (§4.1) and message schemas (§4.3).

``FrameReader`` turns a byte stream, split in any way, into frame bodies and
caps every body's length before it is buffered.  ``parse`` turns a body into a
``(type name, fields)`` pair, checking the deterministic CBOR profile (§4.2),
the message type against the state (§9), and the schema (§4.3) in that order.
"""

from __future__ import annotations

from typing import TypeGuard

from . import cbor
from .errors import RemoteProtocolError

# §4.3: message type numbers.
E_HELLO, R_HELLO, E_AUTH, DATA, FINAL, ACK, ABORT = 1, 2, 3, 4, 5, 6, 7
TYPE_NAMES = {
    E_HELLO: "E_HELLO",
    R_HELLO: "R_HELLO",
    E_AUTH: "E_AUTH",
    DATA: "DATA",
    FINAL: "FINAL",
    ACK: "ACK",
    ABORT: "ABORT",
}
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
    """Reassembles frames from a byte stream (§4.1).

    Bytes passed to ``feed`` are borrowed, not copied: a frame that lies whole
    inside them is returned as a view of them (``next_view``), and only the
    incomplete frame at the end is copied into the reader's own buffer (by
    ``release``, or by the next ``feed``).  Each byte is therefore copied at
    most once, and a whole record is never copied at all.
    """

    def __init__(self) -> None:
        self._buf = bytearray()  # the start of an incomplete frame (owned)
        self._view = memoryview(b"")  # fed bytes not yet consumed (borrowed)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self.release()
        self._view = memoryview(data).cast("B")  # any bytes-like object, as bytes

    def release(self) -> None:
        """Copy the unconsumed fed bytes into the reader and drop the borrowed view.

        Call before the caller may reuse the buffer it fed.
        """
        if self._view:
            self._buf += self._view
        self._view = memoryview(b"")

    @property
    def pending(self) -> int:
        """Bytes received that are not yet part of a returned frame."""
        return len(self._buf) + len(self._view)

    def next_view(self, limit: int) -> memoryview | None:
        """The next whole body, or None if more bytes are needed.

        The view is valid until the next ``feed``, ``release`` or ``clear``.
        The declared length is checked against ``limit`` as soon as the 4-byte
        prefix is in, before the body is waited for or buffered (§4.1, §10).
        """
        view = self._view
        buf = self._buf
        if not buf:
            if len(view) < LENGTH_PREFIX:
                return None
            end = LENGTH_PREFIX + self._declared(view, limit)
            if len(view) < end:
                return None
            self._view = view[end:]
            return view[LENGTH_PREFIX:end]
        if len(buf) < LENGTH_PREFIX:
            take = LENGTH_PREFIX - len(buf)
            buf += view[:take]
            view = self._view = view[take:]
            if len(buf) < LENGTH_PREFIX:
                return None
        need = LENGTH_PREFIX + self._declared(buf, limit) - len(buf)
        buf += view[:need]
        self._view = view[need:]
        if len(view) < need:
            return None
        self._buf = bytearray()
        return memoryview(buf)[LENGTH_PREFIX:]

    @staticmethod
    def _declared(prefix, limit: int) -> int:
        n = int.from_bytes(prefix[:LENGTH_PREFIX], "big")
        if n > limit:
            raise RemoteProtocolError(
                "FRAME_TOO_LARGE", f"declared frame length {n} exceeds the limit {limit}"
            )
        if n == 0:
            raise RemoteProtocolError("DECODE_ERROR", "empty frame body")
        return n

    def completing(self, data, limit: int) -> int | None:
        """How many leading bytes of ``data`` complete the buffered incomplete frame.

        None when nothing is buffered, when ``data`` does not complete the frame,
        or when its declared length is 0 or over ``limit``: then the caller
        feeds everything the general way (``feed`` / ``next_view``), which names
        any error.  Reads ``data``, keeps nothing of it.
        """
        buf = self._buf
        have = len(buf)
        if not have or self._view:
            return None
        if have >= LENGTH_PREFIX:
            declared = int.from_bytes(buf[:LENGTH_PREFIX], "big")
        else:
            take = LENGTH_PREFIX - have
            if len(data) < take:
                return None
            declared = int.from_bytes(bytes(buf) + bytes(data[:take]), "big")
        if not 0 < declared <= limit:
            return None
        need = LENGTH_PREFIX + declared - have
        return need if need <= len(data) else None

    def clear(self) -> None:
        self._buf = bytearray()
        self._view = memoryview(b"")


def frame(body: bytes) -> bytes:
    """Length-prefix a body (§4.1)."""
    return len(body).to_bytes(LENGTH_PREFIX, "big") + body


def split_frames(stream: bytes) -> list[bytes]:
    """Cut a byte stream of whole frames into frames, length prefix included (§4.1).

    For tools and tests that take apart a transcript they hold whole; a party
    reading from the network uses ``FrameReader``, which enforces the limits.
    """
    out, i = [], 0
    while i < len(stream):
        end = i + LENGTH_PREFIX + int.from_bytes(stream[i : i + LENGTH_PREFIX], "big")
        if end > len(stream):
            raise ValueError("the stream does not end on a frame boundary")
        out.append(stream[i:end])
        i = end
    return out


def split_bodies(stream: bytes) -> list[bytes]:
    """Like ``split_frames``, without the length prefixes: the frame bodies."""
    return [f[LENGTH_PREFIX:] for f in split_frames(stream)]


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
        raise RemoteProtocolError(
            "SCHEMA_VIOLATION", "frame body has no unsigned message type (key 0)"
        )
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
                "SCHEMA_VIOLATION", f"{name} key {key} must have {kind} bytes, has {len(value)}"
            )
    return item


def _is_uint(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0

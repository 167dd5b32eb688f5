"""Record protection (§7): DATA, FINAL and ACK.

The per-record work is the hot path of Parley: one AES-256-CTR context, one
HMAC-SHA-256 and one CBOR head per record, and the ciphertext is copied once,
into the outgoing frame.  Both keyed primitives live behind the fence
(``primitives.symmetric.AesCtrKey`` and ``RecordMac``), keyed once per session.
"""

from __future__ import annotations

import struct

from .errors import RemoteProtocolError
from .frames import ACK, DATA, FINAL, K_CT, K_MAC, K_SEQ, K_TOTAL, K_TYPE
from .primitives import symmetric

MAX_CHUNK = 1 << 18  # §10: DATA plaintext
TAG_LEN = 32  # HMAC-SHA-256, untruncated
_CB = struct.Struct(">QQ").pack  # u64 ‖ u64
_MAC_HEAD = struct.Struct(">BQQQ").pack  # u8 ‖ u64 ‖ u64 ‖ u64


def counter_block(seq: int) -> bytes:
    """CB(seq) = u64(seq) ‖ u64(0)  (§7.2)."""
    return _CB(seq, 0)


def mac_input_head(rtype: int, seq: int, count: int, body_len: int, ad: bytes) -> bytes:
    """MacInput(type, seq, count, body) without its body: u8 ‖ u64 ‖ u64 ‖ u64 ‖ AD  (§7.1)."""
    return _MAC_HEAD(rtype, seq, count, body_len) + ad


class RecordKeys:
    """The data-phase keys of one session (§6) and the record MAC computation."""

    def __init__(self, k_data: bytearray, mk_data: bytearray, mk_ack: bytearray, ad: bytes):
        self.k_data = k_data
        self.mk_data = mk_data
        self.mk_ack = mk_ack
        self.ad = ad
        # A keyed HMAC context is copied per record instead of re-keyed.
        self._data_mac = symmetric.RecordMac(bytes(mk_data))
        self._ack_mac = symmetric.RecordMac(bytes(mk_ack))
        # One AES context for the session; its counter block is reset per record.
        self._ctr = symmetric.AesCtrKey(bytes(k_data))

    def tag(self, rtype: int, seq: int, count: int, body: bytes) -> bytes:
        mac = self._ack_mac if rtype == ACK else self._data_mac
        return mac.tag(mac_input_head(rtype, seq, count, len(body), self.ad), body)

    def verify(self, rtype: int, seq: int, count: int, body: bytes, tag: bytes) -> bool:
        """Constant-time tag check (§7.3 step 4): ``RecordMac.verify``'s compare_digest."""
        mac = self._ack_mac if rtype == ACK else self._data_mac
        return mac.verify(mac_input_head(rtype, seq, count, len(body), self.ad), body, tag)

    def encrypt(self, seq: int, data: bytes) -> bytes:
        return self._ctr.apply(_CB(seq, 0), data)

    decrypt = encrypt

    def wipe(self) -> None:
        for s in (self.k_data, self.mk_data, self.mk_ack):
            s[:] = bytes(len(s))
        self._data_mac = self._ack_mac = self._ctr = None


def _bstr_head(n: int) -> bytes:
    if n < 24:
        return bytes([0x40 | n])
    if n < 0x100:
        return bytes([0x58, n])
    if n < 0x10000:
        return b"\x59" + n.to_bytes(2, "big")
    return b"\x5a" + n.to_bytes(4, "big")


_DATA_HEAD = bytes([0xA4, K_TYPE, DATA, K_CT])  # map(4), 0: 4, 5: (the bstr follows)
_TAG_HEAD = bytes([K_MAC, 0x58, TAG_LEN])  # 6: bstr(32)


# The CBOR head of a DATA body up to its ciphertext, per plaintext size: computed once
# per size (a session mostly sends one size); the cache is bounded.
_HEADS: dict[int, bytes] = {}
# The tail after the tag, 7: seq with the shortest head (RFC 8949 §4.2.1), per width.
_SEQ0 = struct.Struct(">BB").pack
_SEQ1 = struct.Struct(">BBB").pack
_SEQ2 = struct.Struct(">BBH").pack
_SEQ4 = struct.Struct(">BBI").pack
_SEQ8 = struct.Struct(">BBQ").pack
_PREFIX = struct.Struct(">I").pack  # the frame's length prefix (§4.1)


def _data_head(size: int) -> bytes:
    head = _HEADS.get(size)
    if head is None:
        if len(_HEADS) >= 64:
            _HEADS.clear()
        head = _HEADS[size] = _DATA_HEAD + _bstr_head(size)
    return head


def seal_data_parts(keys: RecordKeys, seq: int, offset: int, chunk) -> tuple[bytes, bytes, bytes]:
    """Compose one DATA frame (§7.3) as three pieces whose concatenation is the frame.

    (length prefix and CBOR head, ``ct``, ``tag`` and ``seq``): the
    deterministic CBOR map {0: 4, 5: ct, 6: tag, 7: seq} (keys in ascending
    order, §4.2) written directly, so that a scatter-gather write
    (``socket.sendmsg``) sends the ciphertext without copying it again.
    """
    size = len(chunk)
    if not 1 <= size <= MAX_CHUNK:
        raise ValueError("a DATA record carries 1 to 262144 bytes")
    # keys.encrypt then keys.tag(DATA, ...), in one call behind the fence.
    ct, tag = keys._data_mac.seal(
        keys._ctr, _CB(seq, 0), mac_input_head(DATA, seq, offset, size, keys.ad), chunk
    )
    head = _HEADS.get(size) or _data_head(size)
    if seq < 0x100:
        seq_item = _SEQ0(K_SEQ, seq) if seq < 24 else _SEQ1(K_SEQ, 0x18, seq)
    elif seq < 0x10000:
        seq_item = _SEQ2(K_SEQ, 0x19, seq)
    elif seq < 0x100000000:
        seq_item = _SEQ4(K_SEQ, 0x1A, seq)
    else:
        seq_item = _SEQ8(K_SEQ, 0x1B, seq)
    tail = _TAG_HEAD + tag + seq_item
    return _PREFIX(len(head) + size + len(tail)) + head, ct, tail


def seal_data(keys: RecordKeys, seq: int, offset: int, chunk) -> bytes:
    """Compose one DATA frame (§7.3), length prefix included, as one ``bytes``."""
    return b"".join(seal_data_parts(keys, seq, offset, chunk))


_MAP_HEAD = struct.Struct(">IB").unpack_from  # the first four bytes, then the bstr head
_TAIL = struct.Struct(f">BBB{TAG_LEN}sBB").unpack_from  # 6, 0x58, 32, the tag, 7, uint head
# A head byte with a 1-, 2-, 4- or 8-byte argument: (the struct that reads it, where the
# bstr starts / the width, the least value in shortest form, RFC 8949 §4.2.1).
_BSTR_STRUCT = {
    0x58: (struct.Struct(">B").unpack_from, 6, 24),
    0x59: (struct.Struct(">H").unpack_from, 7, 0x100),
    0x5A: (struct.Struct(">I").unpack_from, 9, 0x10000),
}
_UINT_STRUCT = {
    0x18: (struct.Struct(">B").unpack_from, 1, 24),
    0x19: (struct.Struct(">H").unpack_from, 2, 0x100),
    0x1A: (struct.Struct(">I").unpack_from, 4, 0x10000),
    0x1B: (struct.Struct(">Q").unpack_from, 8, 0x100000000),
}


def parse_data_body(body) -> dict[int, object] | None:
    """The fields of a DATA body written in its one deterministic encoding, or None.

    The Receiver's fast path (§4.2, §7.3): a body that is byte for byte the
    deterministic CBOR of ``{0: 4, 5: ct, 6: tag, 7: seq}`` with a non-empty
    ``ct`` and a 32-byte ``tag`` is exactly a body that the general decoder
    and the schema check (§4.3) accept as DATA, so it may skip them.  Every
    other body, valid or not, gets None and goes the general way, which names
    its error.  ``ct`` is returned as a view of ``body`` (no copy).
    """
    n = len(body)
    if n < 42:
        return None
    fixed, ai = _MAP_HEAD(body)
    if fixed != 0xA4000405:  # map(4), 0: 4 (DATA), 5: ...
        return None
    if 0x41 <= ai <= 0x57:
        length, pos = ai - 0x40, 5
    else:
        arg = _BSTR_STRUCT.get(ai)
        if arg is None:
            return None
        unpack, pos, smallest = arg
        (length,) = unpack(body, 5)
        if length < smallest:
            return None
    ct_end = pos + length
    if n - ct_end < 3 + TAG_LEN + 2:
        return None
    key6, ai6, len6, value6, key7, head7 = _TAIL(body, ct_end)  # 6: bstr(32), 7: uint
    if key6 != K_MAC or ai6 != 0x58 or len6 != TAG_LEN or key7 != K_SEQ:
        return None
    end = ct_end + 5 + TAG_LEN
    if head7 < 24:
        seq = head7
    else:
        arg = _UINT_STRUCT.get(head7)
        if arg is None or end + arg[1] != n:
            return None
        unpack, width, smallest = arg
        (seq,) = unpack(body, end)
        end += width
        if seq < smallest:
            return None
    if end != n:
        return None
    return {K_TYPE: DATA, K_CT: body[pos:ct_end], K_MAC: value6, K_SEQ: seq}


# The layout of a DATA frame whose body has n bytes, learned from a body of that length
# that parse_data_body accepted (a stream's records mostly share one length): (the struct
# that reads the frame's length prefix and head, the tag and the seq in one call, skipping
# the ciphertext; the frame's length, prefix included; where the ciphertext starts and
# ends in the frame; the prefix and head; the seq key and head byte; the seq's range in
# that shortest form).  A frame that the struct reads with this prefix and head, this key
# and a seq in this range is a length prefix of n and, byte for byte, the deterministic
# DATA body parse_data_body accepts, with the same fields; any other goes to
# parse_data_body.  Bounded.
_SHAPES: dict[int, tuple] = {}
# The seq's shortest forms (RFC 8949 §4.2.1): (the least seq of the next form, the
# struct code of the value, the key and head bytes before it, the least seq of this form).
_SEQ_FORMS = (
    (24, "B", bytes([K_SEQ]), 0),  # the head byte is the value
    (0x100, "B", bytes([K_SEQ, 0x18]), 24),
    (0x10000, "H", bytes([K_SEQ, 0x19]), 0x100),
    (0x100000000, "I", bytes([K_SEQ, 0x1A]), 0x10000),
    (1 << 64, "Q", bytes([K_SEQ, 0x1B]), 0x100000000),
)


def data_shape(n: int, ct_len: int, seq: int) -> tuple:
    """The layout (above) of DATA frames of ``n``-byte bodies like one of ``ct_len``, ``seq``."""
    shape = _SHAPES.get(n)
    if shape is None or shape[3] - shape[2] != ct_len or not shape[6] <= seq < shape[7]:
        hi, code, key, lo = next(form for form in _SEQ_FORMS if seq < form[0])
        head = _PREFIX(n) + _DATA_HEAD + _bstr_head(ct_len)
        fmt = f">{len(head)}s{ct_len}x{len(_TAG_HEAD)}s{TAG_LEN}s{len(key)}s{code}"
        if struct.calcsize(fmt) != 4 + n:
            raise AssertionError("data_shape: not the layout of this body")
        if len(_SHAPES) >= 64:
            _SHAPES.clear()
        shape = _SHAPES[n] = (
            struct.Struct(fmt).unpack_from,
            4 + n,
            len(head),
            len(head) + ct_len,
            head,
            key,
            lo,
            hi,
        )
    return shape


def open_data(keys: RecordKeys, expected_seq: int, offset: int, fields: dict) -> bytes:
    """Processing steps 2-5 of DATA (§7.3): check, verify, then decrypt."""
    ct, tag, seq = fields[K_CT], fields[K_MAC], fields[K_SEQ]
    if not ct:
        raise RemoteProtocolError("SCHEMA_VIOLATION", "DATA record with empty ciphertext")
    if len(ct) > MAX_CHUNK:
        raise RemoteProtocolError(
            "LIMIT_EXCEEDED", f"DATA record of {len(ct)} bytes exceeds 262144"
        )
    if seq != expected_seq:
        raise RemoteProtocolError("RECORD_OUT_OF_ORDER", f"DATA seq {seq}, expected {expected_seq}")
    if not keys.verify(DATA, seq, offset, ct, tag):
        raise RemoteProtocolError("BAD_RECORD_MAC", f"DATA record {seq} tag does not verify")
    return keys._ctr.apply(_CB(seq, 0), ct)  # keys.decrypt, inlined


def final_fields(keys: RecordKeys, seq: int, total: int) -> dict[int, object]:
    """FINAL composition step 2 (§7.4)."""
    return {K_MAC: keys.tag(FINAL, seq, total, b""), K_SEQ: seq, K_TOTAL: total}


def ack_fields(keys: RecordKeys, seq: int, total: int, final_tag: bytes) -> dict[int, object]:
    """ACK composition step 1 (§7.4)."""
    return {K_MAC: keys.tag(ACK, seq, total, final_tag), K_TOTAL: total}

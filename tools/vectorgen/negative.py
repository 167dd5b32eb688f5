"""Negative vectors: mutated transcripts that a party must reject, and how (§9.3, §11).

Each case says which party is under test, which frames it is fed (the mutated
ones), whether the transport then ends, the registry error the spec requires,
and how much of the message the party may have released.  The transcript is
then built by running the reference as the party under test on exactly those
frames (``replay.build``), so every frame the party sends in the vector is the
reference's deterministic output, and the outcome is checked against the
case's expectation: a case whose expectation the reference does not meet stops
the generation.

"Resealed" cases recompute the downstream MACs (and, for signatures, the
encryption) with the real session keys, so that only the targeted check can
fail.  Keys come from the trace of the honest session the case starts from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from parley import Receiver, SessionConfig, cbor, keyschedule as ks
from parley.entropy import SeededEntropy
from parley.errors import REGISTRY
from parley.primitives import ffdh, symmetric
from parley.records import RecordKeys
from parley.suites import Suite

from . import replay
from .common import (
    CHUNK,
    SEED,
    entropy_json,
    frame_view,
    key_set,
    message_bytes,
    split_frames,
    wire,
)
from .positive import Session

SCHEMA_NAME = "parley_v1_negative_schema_v1.json"
P384_P = 2**384 - 2**128 - 2**96 + 2**32 - 1
P384_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973  # noqa: E501
# P-384's b (FIPS 186-4 §D.1.2.4) is a quadratic residue mod p, so (0, sqrt(b)) is on the curve:
# 04 || I2OSP(p, 48) || I2OSP(sqrt(b), 48) is rejected by the x < p check alone (§3.4); with any
# other y, (p mod p, y) = (0, y) is off the curve and a missing range check goes unnoticed.
P384_B = 0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF  # noqa: E501
P384_SQRT_B = pow(P384_B, (P384_P + 1) // 4, P384_P)
assert P384_SQRT_B * P384_SQRT_B % P384_P == P384_B
X_EQUALS_P = b"\x04" + P384_P.to_bytes(48, "big") + P384_SQRT_B.to_bytes(48, "big")
HEADER = b"negative-vectors.bin"
MESSAGE_LEN = 2 * CHUNK + 16  # DATA 0 and 1 full, DATA 2 of 16 bytes, then FINAL (seq 3)


@dataclass
class Neg:
    party: str  # "emitter" | "receiver": the party under test
    fed: list[bytes]  # frames (wire bytes) fed to it, the last one must fail
    error: str  # registry name
    mutation: str
    released: int = 0  # bytes of the message it may have released
    eof: bool = False  # the transport ends after the fed frames
    resealed: bool = False
    flags: list[str] = field(default_factory=list)


class Base:
    """The honest session a suite's negative cases start from, and tools to mutate it."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.keys = key_set(suite.number)
        self.seed = SEED + f"/negative/suite{suite.number}".encode()
        self.message = message_bytes(MESSAGE_LEN)
        self.s = self._session(self.seed)
        bodies = [f[4:] for _, f in self.s.frames]
        self.m1, self.m2, self.m3 = bodies[:3]
        self.data, self.final, self.ack = bodies[3:-2], bodies[-2], bodies[-1]
        assert len(self.data) == 3
        self.e_draws, self.r_draws = self.s.e_ent.draws, self.s.r_ent.draws
        t = self.s.both
        self.th2, self.th3 = t("TH_2"), t("TH_3")
        self.k_r, self.mk_r, self.k_e, self.mk_e = t("K_R"), t("MK_R"), t("K_E"), t("MK_E")
        self.rk = RecordKeys(
            bytearray(t("K_data")), bytearray(t("MK_data")), bytearray(t("MK_ack")), t("AD")
        )
        self.sig_r = self.s.trace[("receiver", "sig_r")]
        self.sig_e = self.s.trace[("emitter", "sig_e")]
        self._other: Session | None = None

    def _session(self, seed: bytes) -> Session:
        return Session(
            self.suite,
            header=HEADER,
            message=self.message,
            chunk=CHUNK,
            e_entropy=SeededEntropy(seed, "E"),
            r_entropy=SeededEntropy(seed, "R"),
        )

    @property
    def other(self) -> Session:
        """Another honest session between the same parties (fresh entropy)."""
        if self._other is None:
            self._other = self._session(self.seed + b"/other-session")
        return self._other

    def other_bodies(self) -> list[bytes]:
        return [f[4:] for _, f in self.other.frames]

    # -- helpers ---------------------------------------------------------------
    @staticmethod
    def w(body: bytes) -> bytes:
        return wire(body)

    @staticmethod
    def edit(body: bytes, **changes) -> bytes:
        item = cbor.decode(body)
        for k, v in changes.items():
            key = int(k[1:])
            if v is None:
                item.pop(key)
            else:
                item[key] = v
        return cbor.encode(item)

    @staticmethod
    def flip(value: bytes, i: int = 0, bit: int = 0x01) -> bytes:
        v = bytearray(value)
        v[i] ^= bit
        return bytes(v)

    def field(self, body: bytes, key: int):
        return cbor.decode(body)[key]

    def hmac_h(self, key: bytes, data: bytes) -> bytes:
        return symmetric.hmac(self.suite.hash_name, bytes(key), data)

    def reseal_r_hello(self, sig: bytes, base: bytes | None = None) -> bytes:
        """R_HELLO with c_r = AES-256-CTR(K_R, 0^16, sig) and mac_r recomputed (§5.3)."""
        c_r = symmetric.aes256_ctr(bytes(self.k_r), bytes(16), sig)
        return self.edit(base or self.m2, k5=c_r, k6=self.hmac_h(self.mk_r, self.th2 + c_r))

    def reseal_e_auth(self, plain: bytes) -> bytes:
        """E_AUTH with c_e = AES-256-CTR(K_E, 0^16, plain) and mac_e recomputed (§5.4)."""
        c_e = symmetric.aes256_ctr(bytes(self.k_e), bytes(16), plain)
        return cbor.encode({0: 3, 5: c_e, 6: self.hmac_h(self.mk_e, self.th3 + c_e)})

    def sign(
        self,
        key,
        role: str,
        th: bytes,
        *,
        suite_number: int | None = None,
        ids: tuple[bytes, bytes] | None = None,
    ) -> bytes:
        id_e, id_r = ids or (self.keys.emitter.identity, self.keys.receiver.identity)
        number = suite_number or self.suite.number
        msg = cbor.encode([ks.SIGNATURE_LABEL, role, number, id_e, id_r, th])
        return key.sign(msg, deterministic=True)

    def with_rs(self, sig: bytes, r: int | None = None, s: int | None = None) -> bytes:
        n = self.suite.scalar_len
        rr = sig[:n] if r is None else r.to_bytes(n, "big")
        ss = sig[n:] if s is None else s.to_bytes(n, "big")
        return rr + ss

    @property
    def q(self) -> int:
        return self.keys.receiver.group_order

    def data_body(self, seq: int, ct: bytes, tag: bytes) -> bytes:
        return cbor.encode({0: 4, 5: ct, 6: tag, 7: seq})

    def final_body(self, seq: int, total: int, tag: bytes | None = None) -> bytes:
        tag = self.rk.tag(5, seq, total, b"") if tag is None else tag
        return cbor.encode({0: 5, 6: tag, 7: seq, 8: total})

    def receiver_reply(self, m1: bytes) -> bytes:
        """What the honest Receiver (base entropy) answers to a given E_HELLO body."""
        r = Receiver(
            SessionConfig(
                self.keys.receiver,
                self.keys.emitter.public,
                SeededEntropy(self.seed, "R"),
                deterministic_signatures=True,
            )
        )
        r.receive_data(wire(m1))
        return split_frames(r.data_to_send())[0][4:]

    # fed-frame prefixes
    def to_r(self, *bodies: bytes) -> list[bytes]:
        return [wire(b) for b in bodies]

    def after_auth(self) -> list[bytes]:
        return self.to_r(self.m1, self.m3)

    def to_ack(self) -> list[bytes]:
        return [wire(self.m2)]


CASES: list[tuple[int, str, list[str], Callable[[Base], Neg | None]]] = []


def case(number: int, comment: str, flags: list[str]):
    def register(fn):
        assert all(n != number for n, *_ in CASES), f"case number {number} reused"
        CASES.append((number, comment, flags, fn))
        return fn

    return register


def _raw_e_hello(b: Base, mutate: Callable[[bytes], bytes]) -> Neg:
    return Neg("receiver", [wire(mutate(b.m1))], "")


# -- §4.1 framing ----------------------------------------------------------------


@case(
    1, "E_HELLO frame declares 8193 bytes, over the 8192-byte handshake limit", ["OversizedFrame"]
)
def _(b):
    return Neg(
        "receiver",
        [(8193).to_bytes(4, "big")],
        "FRAME_TOO_LARGE",
        "length prefix 8193; no body follows: the limit must be checked before reading it",
    )


@case(
    2,
    "a record frame declares 262401 bytes, over the 262400-byte streaming limit",
    ["OversizedFrame"],
)
def _(b):
    return Neg(
        "receiver",
        b.after_auth() + [(262401).to_bytes(4, "big")],
        "FRAME_TOO_LARGE",
        "after E_AUTH, a length prefix of 262401 and no body",
    )


@case(3, "a frame declares 2^32 - 1 bytes in the data phase", ["OversizedFrame"])
def _(b):
    return Neg(
        "receiver",
        b.after_auth() + [b"\xff\xff\xff\xff"],
        "FRAME_TOO_LARGE",
        "after E_AUTH, a length prefix of 0xffffffff and no body: must fail before allocating",
    )


@case(
    4, "R_HELLO frame declares 8193 bytes, over the Emitter's 8192-byte limit", ["OversizedFrame"]
)
def _(b):
    return Neg(
        "emitter",
        [(8193).to_bytes(4, "big")],
        "FRAME_TOO_LARGE",
        "R_HELLO replaced by a length prefix of 8193 and no body",
    )


@case(5, "a frame of length 0", ["MalformedFrame"])
def _(b):
    return Neg("receiver", [bytes(4)], "DECODE_ERROR", "E_HELLO replaced by an empty frame (L = 0)")


# -- §4.2 CBOR -----------------------------------------------------------------------


@case(6, "a byte after the CBOR item", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1 + b"\x00")],
        "DECODE_ERROR",
        "E_HELLO body followed by one 0x00 byte inside the frame",
    )


@case(7, "truncated CBOR item", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:-1])],
        "DECODE_ERROR",
        "E_HELLO body without its last byte (the frame length says so)",
    )


@case(8, "version encoded with a non-shortest head (0x18 0x01)", ["NonDeterministicCbor"])
def _(b):
    assert b.m1[3:5] == b"\x01\x01"
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\x18\x01" + b.m1[5:])],
        "NON_DETERMINISTIC_CBOR",
        "E_HELLO key 1 value 1 written as 0x18 0x01",
    )


@case(9, "sid_e as an indefinite-length byte string", ["NonDeterministicCbor"])
def _(b):
    sid = b.field(b.m1, 3)
    i = b.m1.index(b"\x03\x50" + sid)
    new = b.m1[:i] + b"\x03\x5f\x48" + sid[:8] + b"\x48" + sid[8:] + b"\xff" + b.m1[i + 18 :]
    return Neg(
        "receiver",
        [wire(new)],
        "NON_DETERMINISTIC_CBOR",
        "E_HELLO key 3 as (_ h'<8 bytes>', h'<8 bytes>')",
    )


@case(10, "map keys not in ascending order", ["NonDeterministicCbor"])
def _(b):
    assert b.m1[1:7] == b"\x00\x01\x01\x01\x02" + bytes([b.suite.number])
    new = b.m1[:3] + b"\x02" + bytes([b.suite.number]) + b"\x01\x01" + b.m1[7:]
    return Neg(
        "receiver",
        [wire(new)],
        "NON_DETERMINISTIC_CBOR",
        "E_HELLO entries 2 (suite) and 1 (version) swapped",
    )


@case(11, "indefinite-length map", ["NonDeterministicCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b"\xbf" + b.m1[1:] + b"\xff")],
        "NON_DETERMINISTIC_CBOR",
        "E_HELLO map head 0xa5 replaced by 0xbf ... 0xff",
    )


@case(12, "map head in a non-shortest form (0xb8 0x05)", ["NonDeterministicCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b"\xb8\x05" + b.m1[1:])],
        "NON_DETERMINISTIC_CBOR",
        "E_HELLO map head 0xa5 written as 0xb8 0x05",
    )


@case(13, "g_e length in a non-shortest head", ["NonDeterministicCbor"])
def _(b):
    g = b.field(b.m1, 4)
    head = b"\x59\x01\x00" if len(g) == 256 else b"\x58" + bytes([len(g)])
    longer = (
        b"\x5a" + len(g).to_bytes(4, "big")
        if len(g) == 256
        else b"\x59" + len(g).to_bytes(2, "big")
    )
    i = b.m1.index(b"\x04" + head + g)
    new = b.m1[: i + 1] + longer + b.m1[i + 1 + len(head) :]
    return Neg(
        "receiver",
        [wire(new)],
        "NON_DETERMINISTIC_CBOR",
        f"E_HELLO key 4 byte-string head {head.hex()} written as {longer.hex()}",
    )


@case(14, "a tag (major type 6)", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\xc1\x01" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version value 1 wrapped in tag 1",
    )


@case(15, "a floating-point value", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\xf9\x3c\x00" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version written as the half-precision float 1.0",
    )


@case(16, "duplicate map key", ["MalformedCbor"])
def _(b):
    new = b"\xa6" + b.m1[1:5] + b"\x01\x01" + b.m1[5:]
    return Neg(
        "receiver",
        [wire(new)],
        "DECODE_ERROR",
        "E_HELLO with the entry 1: 1 (version) twice (6 entries)",
    )


@case(17, "the simple value undefined", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\xf7" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version written as undefined (0xf7)",
    )


@case(18, "reserved additional information 28", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\x1c" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version head 0x1c (reserved)",
    )


@case(19, "invalid UTF-8 in a text string", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\x62\xc3\x28" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version written as a text string of the bytes c3 28 (not UTF-8)",
    )


@case(20, "nesting deeper than 2", ["MalformedCbor"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.m1[:4] + b"\x81\x81\x01" + b.m1[5:])],
        "DECODE_ERROR",
        "E_HELLO version written as [[1]]",
    )


@case(21, "a map of 17 entries", ["MalformedCbor"])
def _(b):
    item = cbor.decode(b.m1)
    item.update({k: 0 for k in range(10, 22)})
    return Neg(
        "receiver",
        [wire(cbor.encode(item))],
        "DECODE_ERROR",
        "E_HELLO with 12 extra entries 10..21: 17 entries, more than 16",
    )


@case(22, "a frame body that is an array, not a map", ["SchemaViolation"])
def _(b):
    return Neg(
        "receiver",
        [wire(cbor.encode([1, 1, b.suite.number]))],
        "SCHEMA_VIOLATION",
        "E_HELLO replaced by the array [1, 1, suite]",
    )


# -- §4.3 schema -------------------------------------------------------------------------


@case(23, "E_HELLO without sid_e", ["SchemaViolation"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k3=None))], "SCHEMA_VIOLATION", "key 3 removed")


@case(24, "E_HELLO with an unknown key", ["SchemaViolation"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k9=1))], "SCHEMA_VIOLATION", "entry 9: 1 added")


@case(25, "E_HELLO version as a text string", ["SchemaViolation"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k1="1"))], "SCHEMA_VIOLATION", 'version "1"')


@case(26, "E_HELLO sid_e of 15 bytes", ["SchemaViolation"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.edit(b.m1, k3=b.field(b.m1, 3)[:15]))],
        "SCHEMA_VIOLATION",
        "sid_e cut to 15 bytes",
    )


@case(27, "a map without the type key 0", ["SchemaViolation"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k0=None))], "SCHEMA_VIOLATION", "key 0 removed")


@case(28, "message type as a text string", ["SchemaViolation"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k0="1"))], "SCHEMA_VIOLATION", 'type "1"')


@case(29, "R_HELLO c_r one byte short", ["SchemaViolation"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k5=b.field(b.m2, 5)[:-1]))],
        "SCHEMA_VIOLATION",
        "c_r without its last byte (sig_len - 1 bytes)",
    )


@case(30, "R_HELLO mac_r one byte short", ["SchemaViolation"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k6=b.field(b.m2, 6)[:-1]))],
        "SCHEMA_VIOLATION",
        "mac_r without its last byte (Hlen - 1 bytes)",
    )


@case(31, "E_AUTH mac_e one byte long", ["SchemaViolation"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.edit(b.m3, k6=b.field(b.m3, 6) + b"\x00")),
        "SCHEMA_VIOLATION",
        "mac_e with one 0x00 byte appended (Hlen + 1 bytes)",
    )


@case(32, "E_AUTH c_e shorter than a signature, MAC valid", ["SchemaViolation"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.reseal_e_auth(b.sig_e[:-1])),
        "SCHEMA_VIOLATION",
        "c_e encrypts sig_e without its last byte and no header; mac_e recomputed",
        resealed=True,
    )


@case(33, "DATA with an empty ciphertext, tag valid", ["SchemaViolation"])
def _(b):
    body = b.data_body(0, b"", b.rk.tag(4, 0, 0, b""))
    return Neg(
        "receiver",
        b.after_auth() + [wire(body)],
        "SCHEMA_VIOLATION",
        "DATA 0 replaced by one with ct = h'' and its tag computed with MK_data",
        resealed=True,
    )


@case(34, "DATA seq as a negative integer", ["SchemaViolation"])
def _(b):
    return Neg(
        "receiver",
        b.after_auth() + [wire(b.edit(b.data[0], k7=-1))],
        "SCHEMA_VIOLATION",
        "DATA 0 with seq -1",
    )


@case(35, "FINAL total as a byte string", ["SchemaViolation"])
def _(b):
    body = b.edit(b.final, k8=bytes([MESSAGE_LEN]))
    return Neg(
        "receiver",
        b.after_auth() + b.to_r(*b.data, body),
        "SCHEMA_VIOLATION",
        "FINAL total written as the byte string h'50'",
        released=MESSAGE_LEN,
    )


# -- §5.2 version and suite ------------------------------------------------------------------


@case(36, "version 2", ["UnsupportedVersion"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k1=2))], "UNSUPPORTED_VERSION", "version 2")


@case(37, "version 0", ["UnsupportedVersion"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k1=0))], "UNSUPPORTED_VERSION", "version 0")


@case(38, "unknown suite 3", ["UnsupportedSuite"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k2=3))], "UNSUPPORTED_SUITE", "suite 3")


@case(39, "suite number rewritten to the other suite", ["Downgrade"])
def _(b):
    other = 2 if b.suite.number == 1 else 1
    return Neg(
        "receiver",
        [wire(b.edit(b.m1, k2=other))],
        "UNSUPPORTED_SUITE",
        f"suite {b.suite.number} rewritten to {other}; the Receiver's keys are suite "
        f"{b.suite.number}",
    )


@case(40, "suite 0", ["UnsupportedSuite"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k2=0))], "UNSUPPORTED_SUITE", "suite 0")


# -- §9 state machine ----------------------------------------------------------------------


@case(41, "DATA before the handshake", ["UnexpectedMessage"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.data[0])],
        "UNEXPECTED_MESSAGE",
        "the first frame is a DATA record (of the same session)",
    )


@case(42, "unknown message type 99", ["UnexpectedMessage"])
def _(b):
    return Neg("receiver", [wire(cbor.encode({0: 99}))], "UNEXPECTED_MESSAGE", "{0: 99}")


@case(43, "E_HELLO reflected to the Emitter", ["UnexpectedMessage", "Reflection"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.m1)],
        "UNEXPECTED_MESSAGE",
        "the Emitter's own E_HELLO sent back instead of R_HELLO",
    )


@case(44, "E_HELLO replayed in WAIT_E_AUTH", ["UnexpectedMessage", "Replay"])
def _(b):
    return Neg("receiver", b.to_r(b.m1, b.m1), "UNEXPECTED_MESSAGE", "E_HELLO sent twice")


@case(45, "FINAL before E_AUTH", ["UnexpectedMessage"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.final),
        "UNEXPECTED_MESSAGE",
        "E_AUTH and the DATA records dropped",
    )


@case(46, "ACK while waiting for R_HELLO", ["UnexpectedMessage"])
def _(b):
    return Neg("emitter", [wire(b.ack)], "UNEXPECTED_MESSAGE", "R_HELLO replaced by the ACK")


@case(47, "FINAL reflected to the Emitter instead of the ACK", ["UnexpectedMessage", "Reflection"])
def _(b):
    return Neg(
        "emitter",
        b.to_ack() + [wire(b.final)],
        "UNEXPECTED_MESSAGE",
        "the Emitter's own FINAL sent back instead of the ACK",
    )


@case(48, "E_AUTH replayed in STREAMING", ["UnexpectedMessage", "Replay"])
def _(b):
    return Neg("receiver", b.to_r(b.m1, b.m3, b.m3), "UNEXPECTED_MESSAGE", "E_AUTH sent twice")


@case(49, "ABORT received by the Receiver", ["PeerAbort"])
def _(b):
    return Neg(
        "receiver",
        [wire(cbor.encode({0: 7, 9: 5}))],
        "PEER_ABORTED",
        "the first frame is ABORT with error 5",
    )


@case(50, "ABORT received by the Emitter", ["PeerAbort"])
def _(b):
    return Neg(
        "emitter",
        [wire(cbor.encode({0: 7, 9: 10}))],
        "PEER_ABORTED",
        "R_HELLO replaced by ABORT with error 10 (BAD_SIGNATURE)",
    )


@case(51, "ABORT with an unregistered number", ["PeerAbort"])
def _(b):
    return Neg(
        "emitter",
        b.to_ack() + [wire(cbor.encode({0: 7, 9: 63}))],
        "PEER_ABORTED",
        "the ACK replaced by ABORT with the unassigned error number 63",
    )


# -- §3.4 public values ------------------------------------------------------------------


def _ffdh_value(name: str, n: int) -> Callable[[Base], Neg | None]:
    def build(b):
        if b.suite.number != 1:
            return None
        return Neg(
            "receiver",
            [wire(b.edit(b.m1, k4=n.to_bytes(256, "big")))],
            "INVALID_PUBLIC_KEY",
            f"g_e replaced by I2OSP({name}, 256)",
        )

    return build


P = ffdh.P
for number, name, value, what in [
    (52, "0", 0, "Y = 0"),
    (53, "1", 1, "Y = 1 (order 1)"),
    (54, "p - 1", P - 1, "Y = p - 1 (order 2)"),
    (55, "p", P, "Y = p"),
    (56, "p + 1", P + 1, "Y = p + 1 (1 mod p)"),
    (57, "2^2048 - 1", 2**2048 - 1, "Y = 2^2048 - 1 (above p)"),
    (58, "p - 2", P - 2, "Y = p - 2: in range but a quadratic non-residue (order 2q)"),
]:
    case(number, f"suite 1 public value {what}", ["InvalidPublicValue"])(_ffdh_value(name, value))


@case(59, "suite 1 public value 7: in range, not in the order-q subgroup", ["InvalidPublicValue"])
def _(b):
    if b.suite.number != 1:
        return None
    assert ffdh.jacobi(7, P) == -1
    return Neg(
        "receiver",
        [wire(b.edit(b.m1, k4=(7).to_bytes(256, "big")))],
        "INVALID_PUBLIC_KEY",
        "g_e replaced by I2OSP(7, 256), a quadratic non-residue",
    )


@case(60, "public value one byte short", ["InvalidPublicValue"])
def _(b):
    return Neg(
        "receiver",
        [wire(b.edit(b.m1, k4=b.field(b.m1, 4)[1:]))],
        "INVALID_PUBLIC_KEY",
        "g_e without its first byte",
    )


@case(61, "public value one byte long", ["InvalidPublicValue"])
def _(b):
    g = b.field(b.m1, 4)
    g = b"\x00" + g if b.suite.number == 1 else g + b"\x00"
    return Neg(
        "receiver",
        [wire(b.edit(b.m1, k4=g))],
        "INVALID_PUBLIC_KEY",
        "g_e with a 0x00 byte prepended (suite 1) or appended (suite 2)",
    )


@case(62, "empty public value", ["InvalidPublicValue"])
def _(b):
    return Neg("receiver", [wire(b.edit(b.m1, k4=b""))], "INVALID_PUBLIC_KEY", "g_e = h''")


def _p384(name: str, make: Callable[[bytes, bytes], bytes], what: str):
    def build(b):
        if b.suite.number != 2:
            return None
        g = b.field(b.m1, 4)
        return Neg(
            "receiver",
            [wire(b.edit(b.m1, k4=make(g[1:49], g[49:])))],
            "INVALID_PUBLIC_KEY",
            f"g_e replaced by {what}",
        )

    return build


for number, make, what in [
    (63, lambda x, y: bytes([2 + (y[-1] & 1)]) + x, "the compressed encoding of the same point"),
    (
        64,
        lambda x, y: bytes([6 + (y[-1] & 1)]) + x + y,
        "the hybrid encoding (0x06/0x07) of the same point",
    ),
    (65, lambda x, y: b"\x00", "the one-byte encoding of the point at infinity"),
    (
        66,
        lambda x, y: b"\x04" + x + y[:-1] + bytes([y[-1] ^ 1]),
        "a point off the curve (last bit of y flipped)",
    ),
    (
        67,
        lambda x, y: X_EQUALS_P,
        "x = p with y = sqrt(b): (x mod p, y) = (0, sqrt(b)) is on the curve, only x < p fails",
    ),
    (68, lambda x, y: b"\x04" + x + P384_P.to_bytes(48, "big"), "y = p (a coordinate not reduced)"),
    (69, lambda x, y: b"\x04" + bytes(96), "0x04 with x = y = 0 (not on the curve)"),
]:
    case(number, f"suite 2 public value: {what}", ["InvalidPublicValue"])(
        _p384(str(number), make, what)
    )


@case(71, "R_HELLO public value out of range", ["InvalidPublicValue"])
def _(b):
    bad = (P - 1).to_bytes(256, "big") if b.suite.number == 1 else X_EQUALS_P
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k4=bad))],
        "INVALID_PUBLIC_KEY",
        "g_r replaced by I2OSP(p - 1, 256) (suite 1) or 04 || p || sqrt(b) (suite 2, on the curve "
        "once x is reduced mod p); "
        "must be refused before the MAC is checked",
    )


@case(72, "R_HELLO public value outside the prime-order group", ["InvalidPublicValue"])
def _(b):
    g = b.field(b.m2, 4)
    bad = (P - 2).to_bytes(256, "big") if b.suite.number == 1 else g[:-1] + bytes([g[-1] ^ 1])
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k4=bad))],
        "INVALID_PUBLIC_KEY",
        "g_r replaced by I2OSP(p - 2, 256) (order 2q, suite 1) or a point off the curve (suite 2)",
    )


@case(73, "R_HELLO public value in compressed form", ["InvalidPublicValue"])
def _(b):
    if b.suite.number != 2:
        return None
    g = b.field(b.m2, 4)
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k4=bytes([2 + (g[-1] & 1)]) + g[1:49]))],
        "INVALID_PUBLIC_KEY",
        "g_r replaced by the compressed encoding of the same point",
    )


# -- §5.3, §5.4 key confirmation ----------------------------------------------------------


@case(74, "mac_r bit flip", ["KeyConfirmation"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k6=b.flip(b.field(b.m2, 6), 0, 0x80)))],
        "KEY_CONFIRMATION_FAILED",
        "first bit of mac_r flipped",
    )


@case(75, "c_r bit flip, MAC not recomputed", ["KeyConfirmation"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k5=b.flip(b.field(b.m2, 5), 3)))],
        "KEY_CONFIRMATION_FAILED",
        "one bit of c_r flipped; mac_r (over TH_2 ‖ c_r) fails",
    )


@case(76, "sid_r rewritten", ["KeyConfirmation"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k3=b.flip(b.field(b.m2, 3), 15)))],
        "KEY_CONFIRMATION_FAILED",
        "last bit of sid_r flipped: TH_2 differs",
    )


@case(77, "sid_e rewritten in transit", ["KeyConfirmation"])
def _(b):
    reply = b.receiver_reply(b.edit(b.m1, k3=bytes(16)))
    return Neg(
        "emitter",
        [wire(reply)],
        "KEY_CONFIRMATION_FAILED",
        "the Receiver got E_HELLO with sid_e = 0^16 and answered it; the Emitter's TH_1 "
        "differs from the Receiver's",
    )


@case(78, "g_e replaced in transit by a valid value (man in the middle)", ["KeyConfirmation"])
def _(b):
    other_g = cbor.decode(b.other_bodies()[0])[4]
    reply = b.receiver_reply(b.edit(b.m1, k4=other_g))
    return Neg(
        "emitter",
        [wire(reply)],
        "KEY_CONFIRMATION_FAILED",
        "the Receiver got E_HELLO with the g_e of another session and answered it",
    )


@case(79, "g_r replaced by another valid value", ["KeyConfirmation"])
def _(b):
    other_g = cbor.decode(b.other_bodies()[1])[4]
    return Neg(
        "emitter",
        [wire(b.edit(b.m2, k4=other_g))],
        "KEY_CONFIRMATION_FAILED",
        "g_r replaced by the g_r of another session; Z and TH_2 differ",
    )


@case(80, "R_HELLO of another session", ["KeyConfirmation", "CrossSession"])
def _(b):
    return Neg(
        "emitter",
        [wire(b.other_bodies()[1])],
        "KEY_CONFIRMATION_FAILED",
        "R_HELLO replaced by the R_HELLO of another session with the same parties",
    )


@case(81, "mac_e bit flip", ["KeyConfirmation"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.edit(b.m3, k6=b.flip(b.field(b.m3, 6), 7))),
        "KEY_CONFIRMATION_FAILED",
        "one bit of mac_e flipped",
    )


@case(82, "c_e bit flip, MAC not recomputed", ["KeyConfirmation"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.edit(b.m3, k5=b.flip(b.field(b.m3, 5), 0))),
        "KEY_CONFIRMATION_FAILED",
        "one bit of c_e flipped",
    )


@case(83, "mac_r reflected as mac_e", ["KeyConfirmation", "Reflection"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.edit(b.m3, k6=b.field(b.m2, 6))),
        "KEY_CONFIRMATION_FAILED",
        "mac_e replaced by the Receiver's own mac_r (the seed design's HMAC(K, K) could be "
        "reflected)",
    )


@case(84, "E_AUTH of another session", ["KeyConfirmation", "CrossSession"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.other_bodies()[2]),
        "KEY_CONFIRMATION_FAILED",
        "E_AUTH replaced by the E_AUTH of another session with the same parties",
    )


# -- §3.3, §5.5 signatures (resealed: encrypted and MACed with the real keys) ------------


def _sig_r(mutation: str, make: Callable[[Base], bytes | None]):
    def build(b):
        sig = make(b)
        if sig is None:  # the case does not exist in this suite
            return None
        return Neg(
            "emitter",
            [wire(b.reseal_r_hello(sig))],
            "BAD_SIGNATURE",
            mutation + "; c_r re-encrypted with K_R and mac_r recomputed with MK_R",
            resealed=True,
        )

    return build


def _sig_e(mutation: str, make: Callable[[Base], bytes]):
    def build(b):
        return Neg(
            "receiver",
            b.to_r(b.m1, b.reseal_e_auth(make(b) + HEADER)),
            "BAD_SIGNATURE",
            mutation + "; c_e re-encrypted with K_E and mac_e recomputed with MK_E",
            resealed=True,
        )

    return build


def _r_plus_q(b: Base) -> bytes | None:
    """A valid sig_r whose r + q fits in L bytes, with r replaced by r + q (§3.3: r < q).

    Suite 1 only: r + q < 2^256 needs r < 2^256 - q, so the signature is made with the first
    nonce k of a fixed sequence (SHA-256 of a counter) that gives such an r; the verifier
    cannot observe k (§3.3).  In suite 2, 2^384 - n is about 2^190, so no signature has an r
    for which r + n fits in 48 bytes: the case does not exist there.
    """
    if b.suite.number != 1:
        return None
    from parley.primitives import dsa, symmetric as sym

    key = b.keys.receiver.handle
    pr = key.public.params
    p, q, g = pr.p, pr.q, pr.g
    msg = cbor.encode(
        [
            ks.SIGNATURE_LABEL,
            "receiver",
            1,
            b.keys.emitter.identity,
            b.keys.receiver.identity,
            b.th2,
        ]
    )
    z = dsa._leftmost(sym.hash_("sha256", msg), q)
    for counter in range(1000):
        k = int.from_bytes(sym.hash_("sha256", b"r+q nonce %d" % counter), "big") % q
        if k == 0:
            continue
        r = pow(g, k, p) % q
        s = pow(k, -1, q) * (z + key.x * r) % q
        if r == 0 or s == 0 or r + q >= 1 << 256:
            continue
        assert dsa.verify(key.public, msg, r, s)
        return (r + q).to_bytes(32, "big") + s.to_bytes(32, "big")
    raise AssertionError("no nonce gave r < 2^256 - q")


for number, flags, comment, make in [
    (85, ["SignatureBitFlip"], "sig_r with one bit flipped", lambda b: b.flip(b.sig_r, 5, 0x10)),
    (86, ["SignatureOutOfRange"], "sig_r with r = 0", lambda b: b.with_rs(b.sig_r, r=0)),
    (87, ["SignatureOutOfRange"], "sig_r with s = 0", lambda b: b.with_rs(b.sig_r, s=0)),
    (88, ["SignatureOutOfRange"], "sig_r with r = q", lambda b: b.with_rs(b.sig_r, r=b.q)),
    (89, ["SignatureOutOfRange"], "sig_r with s = q", lambda b: b.with_rs(b.sig_r, s=b.q)),
    (
        90,
        ["SignatureOutOfRange"],
        "sig_r with r + q in place of r (≡ r mod q and fits in 32 bytes, but ≥ q)",
        lambda b: _r_plus_q(b),
    ),
    (
        91,
        ["SignatureOutOfRange"],
        "sig_r with s = all ones (≥ q)",
        lambda b: b.with_rs(b.sig_r, s=2 ** (8 * b.suite.scalar_len) - 1),
    ),
    (
        92,
        ["SignatureByOtherKey"],
        "sig_r: a valid signature of the right input by another known key",
        lambda b: b.sign(b.keys.other, "receiver", b.th2),
    ),
    (
        93,
        ["SignatureWrongRole"],
        'sig_r: the Receiver\'s signature with the role "emitter"',
        lambda b: b.sign(b.keys.receiver, "emitter", b.th2),
    ),
    (
        94,
        ["SignatureReplay"],
        "sig_r: the Receiver's valid signature from another session",
        lambda b: b.other.trace[("receiver", "sig_r")],
    ),
    (
        95,
        ["SignatureWrongIdentities"],
        "sig_r: the Receiver's signature with ID_E and ID_R swapped",
        lambda b: b.sign(
            b.keys.receiver,
            "receiver",
            b.th2,
            ids=(b.keys.receiver.identity, b.keys.emitter.identity),
        ),
    ),
    (
        96,
        ["SignatureWrongSuite"],
        "sig_r: the Receiver's signature naming the other suite",
        lambda b: b.sign(b.keys.receiver, "receiver", b.th2, suite_number=3 - b.suite.number),
    ),
]:
    case(number, comment, flags)(_sig_r(comment, make))

for number, flags, comment, make in [
    (97, ["SignatureBitFlip"], "sig_e with one bit flipped", lambda b: b.flip(b.sig_e, -1, 0x01)),
    (98, ["SignatureOutOfRange"], "sig_e with r = 0", lambda b: b.with_rs(b.sig_e, r=0)),
    (99, ["SignatureOutOfRange"], "sig_e with s = q", lambda b: b.with_rs(b.sig_e, s=b.q)),
    (
        100,
        ["SignatureByOtherKey"],
        "sig_e: a valid signature of the right input by another known key",
        lambda b: b.sign(b.keys.other, "emitter", b.th3),
    ),
    (
        101,
        ["SignatureWrongRole"],
        'sig_e: the Emitter\'s signature with the role "receiver"',
        lambda b: b.sign(b.keys.emitter, "receiver", b.th3),
    ),
    (
        102,
        ["ReflectedSignature"],
        "sig_e replaced by the Receiver's own sig_r (reflection)",
        lambda b: b.sig_r,
    ),
    (
        103,
        ["SignatureReplay"],
        "sig_e: the Emitter's valid signature from another session",
        lambda b: b.other.trace[("emitter", "sig_e")],
    ),
]:
    case(number, comment, flags)(_sig_e(comment, make))


@case(104, "application header of 4097 bytes", ["LimitExceeded"])
def _(b):
    return Neg(
        "receiver",
        b.to_r(b.m1, b.reseal_e_auth(b.sig_e + b"h" * 4097)),
        "LIMIT_EXCEEDED",
        "c_e encrypts sig_e and a 4097-byte header; mac_e recomputed with MK_E",
        resealed=True,
    )


# -- §7 records -------------------------------------------------------------------------------


def _recs(b, *bodies):
    return b.after_auth() + b.to_r(*bodies)


@case(105, "bit flip in a DATA ciphertext", ["RecordBitFlip"])
def _(b):
    d1 = b.edit(b.data[1], k5=b.flip(b.field(b.data[1], 5), 3, 0x04))
    return Neg(
        "receiver",
        _recs(b, b.data[0], d1),
        "BAD_RECORD_MAC",
        "one bit of DATA 1's ct flipped",
        released=CHUNK,
    )


@case(106, "bit flip in a DATA tag", ["RecordBitFlip"])
def _(b):
    d1 = b.edit(b.data[1], k6=b.flip(b.field(b.data[1], 6), 31, 0x80))
    return Neg(
        "receiver",
        _recs(b, b.data[0], d1),
        "BAD_RECORD_MAC",
        "one bit of DATA 1's tag flipped",
        released=CHUNK,
    )


@case(107, "DATA header rewritten: a replayed record given the expected seq", ["RecordHeader"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.edit(b.data[0], k7=1)),
        "BAD_RECORD_MAC",
        "DATA 0 sent again with seq rewritten to 1 (the MAC covers seq)",
        released=CHUNK,
    )


@case(108, "DATA record replayed", ["RecordReplay"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[0]),
        "RECORD_OUT_OF_ORDER",
        "DATA 0 sent twice",
        released=CHUNK,
    )


@case(109, "DATA records swapped", ["RecordReorder"])
def _(b):
    return Neg("receiver", _recs(b, b.data[1]), "RECORD_OUT_OF_ORDER", "DATA 1 sent before DATA 0")


@case(110, "DATA record dropped", ["RecordDrop"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[2]),
        "RECORD_OUT_OF_ORDER",
        "DATA 1 dropped",
        released=CHUNK,
    )


@case(111, "two DATA records merged into one", ["RecordMerge"])
def _(b):
    merged = b.edit(b.data[0], k5=b.field(b.data[0], 5) + b.field(b.data[1], 5))
    return Neg(
        "receiver",
        _recs(b, merged),
        "BAD_RECORD_MAC",
        "DATA 0 carrying the ciphertexts of DATA 0 and 1, with DATA 0's tag",
    )


@case(112, "a DATA record split in two", ["RecordSplit"])
def _(b):
    ct = b.field(b.data[0], 5)
    first = b.edit(b.data[0], k5=ct[:16])
    return Neg(
        "receiver",
        _recs(b, first),
        "BAD_RECORD_MAC",
        "DATA 0 cut to its first 16 bytes of ct, with DATA 0's tag",
    )


@case(113, "end of transport after two DATA records", ["Truncation"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[1]),
        "TRUNCATED",
        "the stream ends after DATA 1 (DATA 2 and FINAL dropped)",
        released=2 * CHUNK,
        eof=True,
    )


@case(114, "end of transport inside a frame", ["Truncation"])
def _(b):
    partial = wire(b.data[2])[:20]
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[1]) + [partial],
        "TRUNCATED",
        "the stream ends 20 bytes into DATA 2's frame",
        released=2 * CHUNK,
        eof=True,
    )


@case(115, "end of transport after the handshake", ["Truncation"])
def _(b):
    return Neg("receiver", b.after_auth(), "TRUNCATED", "the stream ends after E_AUTH", eof=True)


@case(116, "end of transport after E_HELLO", ["Truncation"])
def _(b):
    return Neg("receiver", b.to_r(b.m1), "TRUNCATED", "the stream ends after E_HELLO", eof=True)


@case(
    117,
    "the seed design's truncation forgery: FINAL carrying the last kept record's tag",
    ["TruncationForgery"],
)
def _(b):
    forged = b.final_body(2, 2 * CHUNK, tag=b.field(b.data[1], 6))
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[1], forged),
        "BAD_RECORD_MAC",
        "DATA 2 and FINAL dropped; a FINAL with seq 2, total 64 and the tag of DATA 1",
        released=2 * CHUNK,
    )


@case(118, "FINAL after a dropped record, seq of the real FINAL", ["RecordDrop", "Truncation"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data[1], b.final),
        "RECORD_OUT_OF_ORDER",
        "DATA 2 dropped; the real FINAL (seq 3) follows DATA 1",
        released=2 * CHUNK,
    )


@case(119, "a record after FINAL", ["RecordAfterFinal"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, *b.data, b.final, b.data[0]),
        "UNEXPECTED_MESSAGE",
        "DATA 0 sent again after FINAL (and after the ACK); the message stays complete",
        released=MESSAGE_LEN,
    )


@case(120, "FINAL with a wrong total, tag valid", ["WrongTotal"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, *b.data, b.final_body(3, MESSAGE_LEN + 1)),
        "LENGTH_MISMATCH",
        "FINAL total 81 for 80 bytes, tag recomputed with MK_data",
        released=MESSAGE_LEN,
        resealed=True,
    )


@case(121, "FINAL with a smaller total, tag valid", ["WrongTotal"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, *b.data, b.final_body(3, 2 * CHUNK)),
        "LENGTH_MISMATCH",
        "FINAL total 64 for 80 bytes, tag recomputed with MK_data",
        released=MESSAGE_LEN,
        resealed=True,
    )


@case(122, "FINAL with a wrong total, tag not recomputed", ["WrongTotal", "RecordHeader"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, *b.data, b.edit(b.final, k8=MESSAGE_LEN + 1)),
        "BAD_RECORD_MAC",
        "FINAL total rewritten to 81",
        released=MESSAGE_LEN,
    )


@case(123, "a DATA record of another session", ["CrossSession"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.other_bodies()[3]),
        "BAD_RECORD_MAC",
        "DATA 0 replaced by DATA 0 of another session with the same parties",
    )


@case(124, "the FINAL of another session", ["CrossSession"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, *b.data, b.other_bodies()[-2]),
        "BAD_RECORD_MAC",
        "FINAL replaced by the FINAL of another session (same seq and total)",
        released=MESSAGE_LEN,
    )


@case(125, "DATA record of 262145 bytes, tag valid", ["LimitExceeded"])
def _(b):
    ct = bytes(262145)
    body = b.data_body(0, ct, b.rk.tag(4, 0, 0, ct))
    return Neg(
        "receiver",
        _recs(b, body),
        "LIMIT_EXCEEDED",
        "DATA 0 replaced by a record whose ct has 262145 zero bytes, tag computed with MK_data",
        resealed=True,
    )


@case(126, "DATA seq 2^64 - 1", ["RecordReorder"])
def _(b):
    return Neg(
        "receiver",
        _recs(b, b.edit(b.data[0], k7=2**64 - 1)),
        "RECORD_OUT_OF_ORDER",
        "DATA 0 with seq 18446744073709551615",
    )


@case(127, "DATA tag computed without the application header (AD of an empty header)", ["RecordAd"])
def _(b):
    ct = b.field(b.data[0], 5)
    wrong = RecordKeys(b.rk.k_data, b.rk.mk_data, b.rk.mk_ack, symmetric.hash_("sha256", b""))
    return Neg(
        "receiver",
        _recs(b, b.data_body(0, ct, wrong.tag(4, 0, 0, ct))),
        "BAD_RECORD_MAC",
        'DATA 0\'s tag recomputed with MK_data over a MacInput whose AD is SHA-256("") '
        "(the tag itself is the target: not resealed)",
    )


@case(128, "DATA tag computed with the wrong offset", ["RecordHeader"])
def _(b):
    ct = b.field(b.data[1], 5)
    return Neg(
        "receiver",
        _recs(b, b.data[0], b.data_body(1, ct, b.rk.tag(4, 1, 0, ct))),
        "BAD_RECORD_MAC",
        "DATA 1's tag recomputed with MK_data over a MacInput with count 0 instead of 32 "
        "(the tag itself is the target: not resealed)",
        released=CHUNK,
    )


# -- §7.4 the ACK -------------------------------------------------------------------------------


def _ack(
    mutation: str,
    make: Callable[[Base], bytes],
    error: str = "BAD_RECORD_MAC",
    resealed: bool = False,
):
    def build(b):
        return Neg(
            "emitter",
            b.to_ack() + [wire(make(b))],
            error,
            mutation + ("; tag recomputed with MK_ack" if resealed else ""),
            resealed=resealed,
        )

    return build


final_tag = lambda b: b.field(b.final, 6)  # noqa: E731
for number, flags, comment, make, error, resealed in [
    (
        129,
        ["AckForgery"],
        "ACK tag bit flip",
        lambda b: b.edit(b.ack, k6=b.flip(b.field(b.ack, 6), 0)),
        "BAD_RECORD_MAC",
        False,
    ),
    (
        130,
        ["WrongTotal"],
        "ACK with a wrong total, tag valid",
        lambda b: cbor.encode({0: 6, 6: b.rk.tag(6, 3, 5, final_tag(b)), 8: 5}),
        "LENGTH_MISMATCH",
        True,
    ),
    (
        131,
        ["WrongTotal", "AckForgery"],
        "ACK with a wrong total, tag not recomputed",
        lambda b: b.edit(b.ack, k8=5),
        "BAD_RECORD_MAC",
        False,
    ),
    (
        132,
        ["CrossSession", "AckForgery"],
        "the ACK of another session",
        lambda b: b.other_bodies()[-1],
        "BAD_RECORD_MAC",
        False,
    ),
    (
        133,
        ["Reflection", "AckForgery"],
        "ACK carrying the FINAL's own tag",
        lambda b: b.edit(b.ack, k6=final_tag(b)),
        "BAD_RECORD_MAC",
        False,
    ),
    (
        134,
        ["AckForgery"],
        "ACK tag computed with the data MAC key MK_data instead of MK_ack",
        lambda b: b.edit(
            b.ack,
            k6=RecordKeys(b.rk.k_data, b.rk.mk_data, b.rk.mk_data, b.rk.ad).tag(
                6, 3, MESSAGE_LEN, final_tag(b)
            ),
        ),
        "BAD_RECORD_MAC",
        False,
    ),
]:
    case(number, comment, flags)(_ack(comment, make, error, resealed))


@case(135, "end of transport before the ACK", ["Truncation"])
def _(b):
    return Neg(
        "emitter", b.to_ack(), "TRUNCATED", "the stream ends after the Emitter sent FINAL", eof=True
    )


@case(136, "end of transport before R_HELLO", ["Truncation"])
def _(b):
    return Neg("emitter", [], "TRUNCATED", "the stream ends after E_HELLO", eof=True)


@case(137, "a frame after the ACK", ["UnexpectedMessage"])
def _(b):
    return Neg(
        "emitter",
        b.to_ack() + [wire(b.ack), wire(b.ack)],
        "UNEXPECTED_MESSAGE",
        "the ACK sent twice; the session stays complete",
    )


# -----------------------------------------------------------------------------------------------


def generate(suite: Suite) -> list[dict]:
    b = Base(suite)
    ks_ = b.keys
    pems = {role: ks_.pems[role] for role in ("emitter", "receiver")}
    tests = []
    for number, comment, flags, build in sorted(CASES, key=lambda c: c[0]):
        neg = build(b)
        if neg is None:
            continue
        role = neg.party
        peer = "receiver" if role == "emitter" else "emitter"
        draws = entropy_json(b.e_draws if role == "emitter" else b.r_draws)
        transcript, out, player = replay.build(
            role,
            pems[role][0],
            pems[peer][1],
            draws,
            neg.fed,
            eof=neg.eof,
            app_header=HEADER,
            message=b.message,
            chunk=CHUNK,
        )
        tc = suite.number * 1000 + number
        got = out.error.error.name if out.error else None
        if got != neg.error:
            raise AssertionError(
                f"tcId {tc} ({comment}): the reference gives {got} "
                f"({out.error}), the case expects {neg.error}"
            )
        if out.released != b.message[: neg.released]:
            raise AssertionError(
                f"tcId {tc}: the reference released {len(out.released)} bytes, "
                f"the case says {neg.released}"
            )
        if neg.eof != out.eof:
            raise AssertionError(f"tcId {tc}: failure at end of transport is {out.eof}")
        nonces = {"emitter": None, "receiver": None}
        if role in player.nonces:
            nonces[role] = player.nonces[role].to_bytes(suite.scalar_len, "big").hex()
        entry = REGISTRY[neg.error]
        tests.append(
            {
                "tcId": tc,
                "comment": comment,
                "flags": (flags + neg.flags),
                "result": "invalid",
                "chunkSize": CHUNK,
                "appHeader": HEADER.hex(),
                "message": b.message.hex(),
                "entropy": {
                    "emitter": entropy_json(b.e_draws),
                    "receiver": entropy_json(b.r_draws),
                },
                "signatureNonces": nonces,
                "frames": [frame_view(i, d, f) for i, (d, f) in enumerate(transcript)],
                "mutation": neg.mutation,
                "resealed": neg.resealed,
                "expected": {
                    "error": entry.name,
                    "number": entry.number,
                    "detectedBy": role,
                    "atFrame": out.at_frame,
                    "eof": out.eof,
                    "maxReleased": b.message[: neg.released].hex(),
                },
            }
        )
    return tests

#!/usr/bin/env python3
"""A zoo of deliberately broken adapters: the reference adapter with exactly one fault.

Each fault is a realistic implementation bug (or adapter misbehaviour), made by
patching one function of the reference.  Every fault has its own executable in
this folder, a symbolic link to this file whose name is the fault's name, so
that

    conformance run tests/zoo/accepts-y-1

runs the runner against an implementation that accepts Y = 1.  The tests
(tests/test_conformance_zoo.py) assert that each one fails on the cases listed
in ``FAULTS[name].intended`` and still passes its ``controls``.
"""

from __future__ import annotations

import os
import pathlib
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "reference")]  # this checkout's code, installed or not

from parley import frames, groups, records  # noqa: E402
from parley.connection import Receiver, _Session  # noqa: E402
from parley.events import Data, EndOfStream  # noqa: E402
from parley.primitives import InvalidElement, ffdh, p384, signatures  # noqa: E402
from parley.state import State  # noqa: E402
from parley_conformance.adapters import reference_adapter as ra  # noqa: E402


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    apply: Callable[[], None]
    intended: tuple[str, ...]  # case-id globs that must not pass
    outcome: tuple[str, ...] = ("FAIL",)  # the outcomes those cases must have
    controls: tuple[str, ...] = ()  # case ids that must still pass
    timeout: float | None = None  # per-reply timeout for the run (hang faults)


FAULTS: dict[str, Fault] = {}
POSITIVE = (
    "live/receiver/suite1/session/frame-by-frame",
    "live/emitter/suite2/session/frame-by-frame",
)
# Sessions that end without any error reported (live sessions end with a byte after completion).
VECTOR_POSITIVE = (
    "vector/positive/suite1/tc101-empty-message/receiver",
    "vector/positive/suite2/tc201-empty-message/emitter",
)


def fault(name, description, intended, **kw):
    def register(fn):
        FAULTS[name] = Fault(
            name, description, fn, tuple(intended), controls=kw.pop("controls", POSITIVE), **kw
        )
        return fn

    return register


def _pow_exchange() -> None:
    """Suite 1 Z computed with plain pow(), so that accepted bad values go on (no library check)."""
    original = groups.exchange

    def exchange(suite, secret, peer):
        if suite.number == 1:
            return bytearray(pow(peer, secret, ffdh.P).to_bytes(256, "big"))
        return original(suite, secret, peer)

    groups.exchange = exchange


# -- §3.4: public values ---------------------------------------------------------------


@fault(
    "accepts-y-1",
    "suite 1: the range check is 0 < Y < p - 1, so Y = 1 (order 1) passes",
    ["live/*/suite1/*-public-value-one/*", "vector/negative/suite1/tc1053-*"],
)
def _accepts_y_1():
    original = ffdh.decode_public

    def decode_public(data):
        if len(data) == 256 and int.from_bytes(data, "big") == 1:
            return 1
        return original(data)

    ffdh.decode_public = decode_public
    _pow_exchange()


@fault(
    "no-subgroup-check",
    "suite 1: checks 1 < Y < p - 1 but not Y^q = 1 (accepts order 2q)",
    [
        "live/*/suite1/*-public-value-order-2q/*",
        "vector/negative/suite1/tc1058-*",
        "vector/negative/suite1/tc1059-*",
    ],
)
def _no_subgroup_check():
    def decode_public(data):
        if len(data) != 256:
            raise InvalidElement("length")
        y = int.from_bytes(data, "big")
        if not 1 < y < ffdh.P - 1:
            raise InvalidElement("range")
        return y

    ffdh.decode_public = decode_public
    _pow_exchange()


@fault(
    "accepts-compressed-points",
    "suite 2: compressed points (0x02/0x03) are decompressed and used",
    ["live/*/suite2/*-public-value-compressed/*"],
)
def _accepts_compressed():
    from cryptography.hazmat.primitives.asymmetric import ec

    original = p384.decode_public

    def decode_public(data):
        if len(data) == 49 and data[0] in (2, 3):
            try:
                return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), bytes(data))
            except ValueError:
                raise InvalidElement("curve") from None
        return original(data)

    p384.decode_public = decode_public


@fault(
    "accepts-off-curve-points",
    "suite 2: no curve-equation check (an invalid-curve point is used as is)",
    ["live/*/suite2/*-public-value-off-curve/*", "live/*/suite2/*-public-value-zero-point/*"],
)
def _accepts_off_curve():
    from cryptography.hazmat.primitives.asymmetric import ec

    original = p384.decode_public
    # Stand-in for "computes with the bad point anyway": continue with some valid point.
    stand_in = ec.derive_private_key(7, ec.SECP384R1()).public_key()

    def decode_public(data):
        try:
            return original(data)
        except InvalidElement as exc:
            if exc.reason == "curve":
                return stand_in
            raise

    p384.decode_public = decode_public


# -- §5.5: signatures --------------------------------------------------------------------


@fault(
    "skips-signature-check",
    "the peer's signature is never verified",
    [
        "live/*/*/*-signature-flip/*",
        "live/*/*/*-wrong-role-label/*",
        "live/*/*/*-zero-r/*",
        "live/*/*/*-r-equals-q/*",
        "live/*/*/*-signed-by-other-key/*",
        "vector/negative/suite*/tc*085-*",
        "vector/negative/suite*/tc*097-*",
    ],
)
def _skips_signature_check():
    signatures.verify = lambda *a, **k: True


@fault(
    "accepts-known-keys",
    "accepts a signature by any key of its trust store (the suite's "
    "test keys), not only by the pinned key",
    ["live/*/*/*-signed-by-other-key/*"],
)
def _accepts_known_keys():
    from parley_conformance.peer import fixed_keyset

    original = signatures.verify

    def verify(public_key, message, sig, *, suite_number):
        if original(public_key, message, sig, suite_number=suite_number):
            return True
        keys = fixed_keyset(suite_number)
        return any(
            original(keys.key(n).public.handle, message, sig, suite_number=suite_number)
            for n in ("emitter", "receiver", "other")
        )

    signatures.verify = verify


@fault(
    "ignores-role-in-signature",
    "verifies the signature under either role label",
    [
        "live/*/*/*-wrong-role-label/*",
        "vector/negative/suite*/tc*093-*",
        "vector/negative/suite*/tc*101-*",
    ],
)
def _ignores_role():
    original = _Session._verify_peer

    def _verify_peer(self, role, th, sig):
        try:
            original(self, role, th, sig)
        except Exception:  # noqa: BLE001 - the fault: retry with the other role on any failure
            other = "receiver" if role == "emitter" else "emitter"
            original(self, other, th, sig)

    _Session._verify_peer = _verify_peer


@fault(
    "header-before-signature",
    "the Receiver reports the handshake complete (releasing the "
    "application header) before the Emitter's signature verifies",
    [
        "live/receiver/*/e-auth-signature-flip/*",
        "live/receiver/*/e-auth-wrong-role-label/*",
        "vector/negative/suite*/tc*097-*",
    ],
)
def _header_before_signature():
    from parley.events import HandshakeComplete

    original = Receiver._on_e_auth

    def _on_e_auth(self, body, f, events):
        try:
            original(self, body, f, events)
        except Exception as exc:
            if getattr(exc, "error", None) is not None and exc.error.name == "BAD_SIGNATURE":
                events.append(
                    HandshakeComplete(self.suite.number, bytes(self.suite.hash_len), self.id_e, b"")
                )
            raise

    Receiver._on_e_auth = _on_e_auth


# -- §7: records -------------------------------------------------------------------------


@fault(
    "mac-omits-record-type",
    "the record MAC input leaves out the type byte",
    [
        "live/receiver/*/session/*",
        "live/emitter/*/session/*",
        "vector/positive/*/*/receiver",
        "vector/positive/*/*/emitter",
    ],
    controls=("live/receiver/suite1/e-hello-version-2/frame-by-frame",),
)
def _mac_omits_type():
    original = records.mac_input_head

    def mac_input_head(rtype, seq, count, body_len, ad):
        return original(rtype, seq, count, body_len, ad)[1:]

    records.mac_input_head = mac_input_head


@fault(
    "no-seq-check",
    "DATA records are MACed with their own seq, never compared with the expected one",
    [
        "live/receiver/*/record-replay/*",
        "live/receiver/*/record-reorder/*",
        "live/receiver/*/record-drop/*",
        "vector/negative/suite*/tc*108-*",
        "vector/negative/suite*/tc*110-*",
    ],
)
def _no_seq_check():
    original = records.open_data

    def open_data(keys, expected_seq, offset, fields):
        return original(keys, fields[frames.K_SEQ], offset, fields)

    records.open_data = open_data


@fault(
    "eof-is-end-of-stream",
    "the Receiver takes the end of the transport as the end of the message",
    [
        "live/receiver/*/eof-before-final/*",
        "live/receiver/*/eof-mid-record/*",
        "vector/negative/suite*/tc*113-*",
    ],
)
def _eof_is_end():
    original = ra.Session.eof

    def eof(self):
        party = self.party
        if isinstance(party, Receiver) and party.state is State.STREAMING:
            party.state = State.DONE
            return [EndOfStream(party._offset)]
        return original(self)

    ra.Session.eof = eof


@fault(
    "accepts-truncation-forgery",
    "FINAL verifies if it carries the last record's tag (the seed design's end marker)",
    ["live/receiver/*/truncation-forgery/*", "vector/negative/suite*/tc*117-*"],
)
def _accepts_truncation_forgery():
    on_data, on_final = Receiver._on_data, Receiver._on_final

    def _on_data(self, body, f, events):
        on_data(self, body, f, events)
        self._last_tag = bytes(f[frames.K_MAC])

    def _on_final(self, body, f, events):
        if f[frames.K_MAC] == getattr(self, "_last_tag", None):
            tag = self._keys.tag(frames.FINAL, f[frames.K_SEQ], f[frames.K_TOTAL], b"")
            f = {**f, frames.K_MAC: tag}  # "verified"
        on_final(self, body, f, events)

    Receiver._on_data, Receiver._on_final = _on_data, _on_final


@fault(
    "releases-before-mac",
    "DATA plaintext is released before its tag is checked",
    [
        "live/receiver/*/record-ciphertext-bit-flip/*",
        "live/receiver/*/record-tag-bit-flip/*",
        "vector/negative/suite*/tc*105-*",
        "vector/negative/suite*/tc*106-*",
    ],
)
def _releases_before_mac():
    original = Receiver._on_data

    def _on_data(self, body, f, events):
        events.append(Data(self._keys.decrypt(f[frames.K_SEQ], bytes(f[frames.K_CT]))))
        before = len(events)
        original(self, body, f, events)
        del events[before:]  # already released

    Receiver._on_data = _on_data


@fault(
    "ack-before-final-verifies",
    "the Receiver sends the ACK, then checks FINAL",
    [
        "live/receiver/*/final-wrong-total-resealed/*",
        "live/receiver/*/final-tag-flip/*",
        "vector/negative/suite*/tc*120-*",
        "vector/negative/suite*/tc*122-*",
    ],
)
def _ack_before_final():
    original = Receiver._on_final

    def _on_final(self, body, f, events):
        self._send(
            frames.ACK,
            records.ack_fields(self._keys, f[frames.K_SEQ], f[frames.K_TOTAL], f[frames.K_MAC]),
        )
        original(self, body, f, events)  # FINAL's checks, after the ACK went out
        self._step("send ACK")  # already sent: DONE, as if acknowledged (§9.2)

    Receiver._on_final = _on_final


# -- §4: framing and encoding ------------------------------------------------------------


@fault(
    "lax-cbor",
    "accepts CBOR that is well formed but not deterministic",
    [
        "live/*/*/*-non-shortest-head/*",
        "live/*/*/*-unsorted-keys/*",
        "vector/negative/suite*/tc*008-*",
        "vector/negative/suite*/tc*010-*",
    ],
)
def _lax_cbor():
    import cbor2

    from parley import cbor

    original = frames.decode_body

    def decode_body(body):
        try:
            return original(body)
        except Exception as exc:
            if getattr(exc, "error", None) is None or exc.error.name != "NON_DETERMINISTIC_CBOR":
                raise
            return cbor2.loads(bytes(body))

    frames.decode_body = decode_body
    assert cbor  # the strict decoder is the one being bypassed


@fault(
    "no-frame-limit",
    "the declared frame length is not checked before waiting for the body",
    [
        "live/*/*/*-frame-too-large/*",
        "live/receiver/*/record-frame-length-2-31/*",
        "vector/negative/suite*/tc*001-*",
        "vector/negative/suite*/tc*002-*",
    ],
)
def _no_frame_limit():
    original = frames.FrameReader._declared

    def _declared(prefix, limit):
        return original(prefix, 1 << 40)

    frames.FrameReader._declared = staticmethod(_declared)


@fault(
    "reduces-coordinates",
    "suite 2: coordinates are reduced mod p instead of refused when >= p (no x < p check)",
    [
        "live/*/suite2/*-public-value-x-equals-p/*",
        "vector/negative/suite2/tc2067-*",
        "vector/negative/suite2/tc2071-*",
    ],
)
def _reduces_coordinates():
    original = p384.decode_public

    def decode_public(data):
        if len(data) == 97 and data[0] == 4:
            x = int.from_bytes(data[1:49], "big") % p384.P
            y = int.from_bytes(data[49:], "big") % p384.P
            data = b"\x04" + x.to_bytes(48, "big") + y.to_bytes(48, "big")
        return original(data)

    p384.decode_public = decode_public


@fault(
    "reduces-r-mod-q",
    "suite 1: a DSA signature's r is reduced mod q before the range check (accepts r + q)",
    ["vector/negative/suite1/tc1090-*"],
)
def _reduces_r():
    from parley.primitives import dsa

    original = dsa.verify

    def verify(key, message, r, s):
        return original(key, message, r % key.params.q, s)

    dsa.verify = verify


@fault(
    "refuses-keys-with-an-error-reply",
    "a start whose keys fail to load answers an error reply (1.0's reading of adapter §3.3)",
    [
        "live/*/suite1/start-own-key-not-pem/*",
        "live/*/suite2/start-keys-contradict-suite/*",
        "live/receiver/suite1/start-pinned-dsa-key-*",
    ],
)
def _refuses_keys():
    from parley import ParleyError

    original = ra.Session.__init__

    def init(self, req, cache):
        try:
            original(self, req, cache)
        except ParleyError as exc:
            raise ra.BadRequest(f"{exc.error.name}: {exc.detail}") from None

    ra.Session.__init__ = init


@fault(
    "entropy-by-purpose",
    "injected draws are taken per purpose, in any order (adapter §4.4: strictly in order)",
    ["live/emitter/*/start-entropy-wrong-purpose/*"],
)
def _entropy_by_purpose():
    from parley.entropy import FixedEntropy

    class ByPurpose(FixedEntropy):
        def __init__(self, draws):
            queues: dict[str, list[bytes]] = {}
            for d in draws:
                queues.setdefault(d["purpose"], []).append(d["value"])
            super().__init__(queues)

    ra._Injected = ByPurpose


# -- spec 1.1 case families (parley_conformance/cases/families.py) -------------------------


@fault(
    "ignores-text-keys",
    "text keys in a frame are skipped by the schema check (§4.3: they are SCHEMA_VIOLATION)",
    ["live/*/suite2/cbor-*-text-key/*"],
)
def _ignores_text_keys():
    original = frames.check_schema

    def check_schema(mtype, item):
        return original(mtype, {k: v for k, v in item.items() if not isinstance(k, str)})

    frames.check_schema = check_schema


@fault(
    "frame-limit-off-by-one",
    "a frame of exactly the limit is refused (FRAME_TOO_LARGE at 8192 and 262400, §10)",
    ["live/*/suite*/limit-*-of-8192-bytes/*"],
)
def _frame_limit_off_by_one():
    original = _Session._frame_limit

    def _frame_limit(self):
        return original(self) - 1

    _Session._frame_limit = _frame_limit


@fault(
    "schema-before-state",
    "the schema is checked before the type against the state (§4.3: the state first)",
    [
        "live/receiver/suite1/state-start-data-schema-invalid/*",
        "live/receiver/suite1/state-wait-e-auth-final-schema-invalid/*",
        "live/receiver/suite1/state-streaming-e-hello-schema-invalid/*",
        "live/emitter/suite1/state-wait-r-hello-ack-schema-invalid/*",
        "live/emitter/suite1/state-wait-ack-r-hello-schema-invalid/*",
    ],
)
def _schema_before_state():
    from parley import cbor

    original = _Session._handle

    def _handle(self, body, events):
        try:
            item = cbor.decode(bytes(body), max_depth=2, max_items=16)
        except cbor.CBORError:
            item = None
        if isinstance(item, dict) and item.get(0) in frames.TYPE_NAMES:
            frames.check_schema(item[0], item)
        return original(self, body, events)

    _Session._handle = _handle


# -- adapter misbehaviour (adapter §2, §5.2) ---------------------------------------------


def _data_phase(session) -> bool:
    return session.party.state in (State.STREAMING, State.WAIT_ACK)


def _hook_feed(action) -> None:
    original = ra.Session.feed

    def feed(self, data):
        action(self, data)
        return original(self, data)

    ra.Session.feed = feed


@fault(
    "wrong-error-number",
    "reports registry names with the wrong numbers",
    [
        "live/receiver/suite1/record-drop/frame-by-frame",
        "live/emitter/suite2/ack-tag-flip/frame-by-frame",
    ],
    controls=VECTOR_POSITIVE,
)
def _wrong_numbers():
    original = ra._result

    def _result(req, session, call):
        reply = original(req, session, call)
        if reply.get("error"):
            reply["error"]["number"] += 1
        return reply

    ra._result = _result


def _patch_result(change) -> None:
    """Change every result reply: ``change(reply, session, was_ended)`` edits it in place."""
    original = ra._result

    def _result(req, session, call):
        was_ended = getattr(session.party, "error", None) is not None
        was_done = session.party.state is State.DONE
        reply = original(req, session, call)
        change(reply, session, was_ended or was_done)
        return reply

    ra._result = _result


def _abort_frames(out: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each ABORT frame in ``out``."""
    spans, i = [], 0
    while i + 4 <= len(out):
        n = int.from_bytes(out[i : i + 4], "big")
        if out[i + 4 : i + 6] == b"\xa2\x00" and out[i + 6 : i + 7] == b"\x07":
            spans.append((i, 4 + n))
        i += 4 + n
    return spans


ABORT_CASES = [
    "live/receiver/suite1/record-drop/frame-by-frame",
    "live/emitter/suite2/ack-tag-flip/frame-by-frame",
    "vector/negative/suite1/tc1053-*",
]


@fault(
    "never-aborts",
    "sends no ABORT on failure (§9.3 step 4, a MUST since 1.1; a note only in 1.0)",
    ABORT_CASES,
)
def _never_aborts():
    def change(reply, session, ended):
        out = reply["out"]
        for off, n in reversed(_abort_frames(out)):
            out = out[:off] + out[off + n :]
        reply["out"] = out

    _patch_result(change)


@fault(
    "wrong-abort-number",
    "its ABORT always carries INTERNAL_ERROR (17), whatever the error",
    ABORT_CASES,
)
def _wrong_abort_number():
    def change(reply, session, ended):
        out = reply["out"]
        for off, n in _abort_frames(out):
            out = out[:off] + (5).to_bytes(4, "big") + b"\xa2\x00\x07\x09\x11" + out[off + n :]
        reply["out"] = out

    _patch_result(change)


@fault(
    "aborts-after-done",
    "bytes after completion fail the session (status failed) and send ABORT 5 (§9.3: stays done)",
    [
        "live/receiver/*/record-after-final/*",
        "live/emitter/*/frame-after-ack/*",
        "vector/negative/suite1/tc1119-*",
        "vector/negative/suite1/tc1137-*",
    ],
    controls=VECTOR_POSITIVE,
)
def _aborts_after_done():
    def change(reply, session, ended):
        err = reply.get("error")
        if err and err["name"] == "UNEXPECTED_MESSAGE" and reply["status"] == "done":
            reply["status"] = "failed"
            if not ended:
                reply["out"] += (5).to_bytes(4, "big") + b"\xa2\x00\x07\x09\x05"

    _patch_result(change)


@fault(
    "forgets-errors",
    "a later request on a failed session reports no error and status running (adapter §3.7)",
    [
        "live/receiver/suite1/record-drop/frame-by-frame",
        "live/emitter/suite2/eof-before-ack/frame-by-frame",
        "vector/negative/suite2/tc2001-*",
    ],
)
def _forgets_errors():
    def change(reply, session, ended):
        if ended and reply["status"] == "failed":
            reply["status"], reply["error"] = "running", None

    _patch_result(change)


@fault(
    "aborts-again",
    "every later request on a failed session sends ABORT again (§9.3: it is sent once)",
    [
        "live/receiver/suite1/record-drop/frame-by-frame",
        "live/receiver/suite2/e-hello-version-2/frame-by-frame",
    ],
)
def _aborts_again():
    def change(reply, session, ended):
        err = reply.get("error")
        if ended and err and reply["status"] == "failed" and not reply["out"]:
            number = err["number"] if err["number"] < 64 else 17
            reply["out"] = (5).to_bytes(4, "big") + b"\xa2\x00\x07\x09" + bytes([number])

    _patch_result(change)


@fault(
    "repeats-events",
    "a later request on a failed session repeats the failed request's released bytes",
    ["live/receiver/suite1/record-drop/frame-by-frame", "live/receiver/suite2/eof-before-final/*"],
)
def _repeats_events():
    last: dict[int, bytes] = {}

    def change(reply, session, ended):
        if ended and reply["status"] == "failed":
            reply["released"] = last.get(id(session), b"")
        elif reply["released"]:
            last[id(session)] = reply["released"]

    _patch_result(change)


@fault(
    "wrong-session-in-reply",
    "its results name session 0 (adapter §3.7: a result echoes the request's session)",
    ["live/receiver/suite1/session/frame-by-frame", "live/emitter/suite2/session/frame-by-frame"],
    controls=(),
)
def _wrong_session():
    def change(reply, session, ended):
        reply["session"] = 0

    _patch_result(change)


@fault(
    "hides-transcript-hash",
    "reports handshake_complete with an empty transcript_hash (§5.6: SHOULD expose TH_4)",
    [
        "live/receiver/suite1/session/frame-by-frame",
        "live/emitter/suite2/session/frame-by-frame",
        "vector/positive/suite1/tc101-*",
    ],
    outcome=("WARN",),
    controls=("live/receiver/suite1/e-hello-version-2/frame-by-frame",),
)
def _hides_th():
    def change(reply, session, ended):
        for ev in reply["events"]:
            if ev["type"] == "handshake_complete":
                ev["transcript_hash"] = b""

    _patch_result(change)


@fault(
    "hangs",
    "stops answering once the data phase starts",
    ["live/receiver/suite1/session/frame-by-frame", "live/emitter/suite2/session/frame-by-frame"],
    outcome=("TIMEOUT",),
    controls=(
        "live/receiver/suite1/e-hello-version-2/frame-by-frame",
        "live/emitter/suite2/r-hello-mac-flip/frame-by-frame",
    ),
    timeout=1.0,
)
def _hangs():
    def hang(session, data):
        if _data_phase(session):
            print("zoo: hanging", file=sys.stderr, flush=True)
            while True:
                time.sleep(3600)

    _hook_feed(hang)


@fault(
    "crashes",
    "dies with SIGSEGV once the data phase starts",
    ["live/receiver/suite1/session/frame-by-frame", "live/emitter/suite2/session/frame-by-frame"],
    outcome=("CRASH",),
    controls=(
        "live/receiver/suite1/e-hello-version-2/frame-by-frame",
        "live/emitter/suite2/r-hello-mac-flip/frame-by-frame",
    ),
)
def _crashes():
    def crash(session, data):
        if _data_phase(session):
            print("zoo: about to crash in the data phase", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)

    _hook_feed(crash)


@fault(
    "junk-on-stdout",
    "prints a debug line to stdout before each reply in the data phase",
    ["live/receiver/suite1/session/frame-by-frame", "live/emitter/suite2/session/frame-by-frame"],
    controls=("live/receiver/suite1/e-hello-version-2/frame-by-frame",),
)
def _junk():
    def junk(session, data):
        if _data_phase(session):
            sys.stdout.buffer.write(f"debug: got {len(data)} bytes\n".encode())
            sys.stdout.buffer.flush()

    _hook_feed(junk)


@fault(
    "floods-stdout",
    "writes without end to stdout once the data phase starts",
    ["live/receiver/suite1/session/frame-by-frame"],
    controls=("live/receiver/suite1/e-hello-version-2/frame-by-frame",),
)
def _floods():
    def flood(session, data):
        if _data_phase(session):
            out = sys.stdout.buffer
            out.write((8 << 20).to_bytes(4, "big"))  # a length under the cap, then no end
            chunk = b"\xff" * 65536
            while True:
                out.write(chunk)

    _hook_feed(flood)


@fault(
    "huge-reply",
    "announces a 1 GiB reply once the data phase starts",
    ["live/receiver/suite1/session/frame-by-frame"],
    controls=("live/receiver/suite1/e-hello-version-2/frame-by-frame",),
)
def _huge_reply():
    def huge(session, data):
        if _data_phase(session):
            sys.stdout.buffer.write((1 << 30).to_bytes(4, "big") + b"\xa1")
            sys.stdout.buffer.flush()
            while True:
                time.sleep(3600)

    _hook_feed(huge)


@fault(
    "no-dsa-y-check",
    "a DSA key's y is not validated (parley §12: 1 < y < p and y^q = 1)",
    [
        "live/receiver/suite1/start-pinned-dsa-key-y-one/*",
        "live/receiver/suite1/start-pinned-dsa-key-y-of-order-2/*",
        "live/receiver/suite1/start-pinned-dsa-key-y-equals-p-plus-y/*",
    ],
)
def _no_dsa_y_check():
    from parley.primitives import dsa

    original = dsa.check_public

    def check_public(key):
        params = key.params
        original(dsa.PublicKey(params, int(pow(params.g, 2, params.p))))

    dsa.check_public = check_public


@fault(
    "one-record-per-read",
    "in the data phase it takes the first frame of each read and drops the rest (a loop that "
    "stops after one record)",
    [
        "live/receiver/suite1/session/records-together",
        "live/receiver/suite2/session/records-together",
    ],
)
def _one_record_per_read():
    original = Receiver.receive_data

    def receive_data(self, data):
        if self.state is State.STREAMING and len(data) > 4:
            n = int.from_bytes(bytes(data[:4]), "big")
            data = data[: 4 + n]
        return original(self, data)

    Receiver.receive_data = receive_data


@fault(
    "any-ec-curve",
    "a pinned EC key on any curve is taken for a suite 2 key (§12: only P-384)",
    ["live/*/suite2/start-peer-key-p256/*"],
)
def _any_ec_curve():
    from cryptography.hazmat.primitives.asymmetric import ec

    from parley.primitives import keyfile

    original = keyfile._library_ec_public

    def _library_ec_public(key):
        if isinstance(key, ec.EllipticCurvePublicKey):
            return key
        return original(key)

    keyfile._library_ec_public = _library_ec_public


@fault(
    "exits-1-on-stdin-close",
    "exits with status 1 when its standard input closes (adapter §2.4 step 3: status 0)",
    ["adapter/lifetime/stdin-closed"],
)
def _exits_1():
    serve = ra.serve

    def serve_then_fail(stdin, stdout):
        serve(stdin, stdout)
        return 1

    ra.serve = serve_then_fail


@fault(
    "pbkdf2-prf-ignored",
    "an encrypted key's PBKDF2 PRF field is ignored: HMAC-SHA-1, the default, is always used "
    "(parley §12, R-12-1: the PRF named is used)",
    [
        "live/*/*/start-own-key-encrypted/*",
        "live/emitter/suite2/start-own-key-encrypted-sha384-*",
    ],
)
def _pbkdf2_prf_ignored():
    from cryptography.hazmat.primitives import hashes

    from parley.primitives import pbes2

    for oid in pbes2._PRFS:
        pbes2._PRFS[oid] = hashes.SHA1


@fault(
    "abort-in-done-raises-its-error",
    "abort(error) in DONE reports the error given, not API_MISUSE (the reference before "
    "spec 1.1's §9.3 row)",
    ["live/*/*/call-abort-*-in-done/*"],
)
def _abort_in_done():
    from parley import ParleyError

    def abort(self, error, detail=""):
        self._check_alive()
        self._fail(ParleyError(error, detail), [])

    _Session.abort = abort


@fault(
    "ignores-send-after-final",
    "send_data after FINAL (WAIT_ACK) is silently dropped instead of API_MISUSE (§9.3)",
    [
        "live/emitter/*/call-send-data-in-wait-ack/*",
        "live/emitter/*/call-send-data-empty-in-wait-ack/*",
    ],
)
def _ignores_send_after_final():
    from parley.connection import Emitter

    original = Emitter.send_data

    def send_data(self, data):
        if self.state is State.WAIT_ACK:
            return None
        return original(self, data)

    Emitter.send_data = send_data


@fault(
    "seq-wraps-at-2-16",
    "the Emitter keeps seq in 16 bits: the record after 65535 is sealed as seq 0 (§7.3)",
    ["live/emitter/suite2/seq-past-2-16/*"],
)
def _seq_wraps():
    original = records.seal_data_parts

    def seal_data_parts(keys, seq, offset, chunk):
        return original(keys, seq & 0xFFFF, offset, chunk)

    records.seal_data_parts = seal_data_parts


@fault(
    "no-app-header-limit",
    "the Emitter's own application header is not checked against §10's 4096 bytes",
    ["live/emitter/*/start-app-header-4097/*"],
)
def _no_app_header_limit():
    from parley import connection

    connection.MAX_APP_HEADER = 1 << 20


@fault(
    "refuses-pkcs8-attributes",
    "a PKCS#8 key with [0] attributes after the key is refused (RFC 5958 §2 allows them)",
    ["live/emitter/*/start-own-key-pkcs8-with-attributes/*"],
)
def _refuses_attributes():
    from parley.primitives import keyfile

    original = keyfile.load_private

    def load_private(pkcs8):
        if bytes(pkcs8).endswith(b"\xa0\x00"):
            raise keyfile.Malformed("attributes are not read")
        return original(pkcs8)

    keyfile.load_private = load_private


@fault(
    "acks-before-acknowledge",
    "the Receiver sends the ACK at FINAL although the application acknowledges by itself "
    "(manual_acknowledge: §7.4, no ACK before the application's acknowledgement)",
    ["live/receiver/*/call-*-in-wait-commit/*"],
)
def _acks_before_acknowledge():
    original = ra.Session.__init__

    def init(self, req, cache):
        original(self, req, cache)
        self.manual = False

    ra.Session.__init__ = init


@fault(
    "identity-from-file-bytes",
    "a pinned key's identity is the hash of the file's DER, not of the key's canonical "
    "encoding (§5.5, R-5.5-3)",
    ["live/*/suite2/start-pinned-key-compressed-point/*"],
)
def _identity_from_file():
    import base64
    import dataclasses

    from parley import keys

    original = keys.load_public_key

    def load_public_key(pem, *, expect_suite=None):
        key = original(pem, expect_suite=expect_suite)
        lines = [ln for ln in bytes(pem).splitlines() if ln and not ln.startswith(b"-----")]
        raw = base64.b64decode(b"".join(lines))
        return dataclasses.replace(key, identity=keys.hash_(key.suite.hash_name, raw))

    keys.load_public_key = load_public_key


# -- not faults: adapters for the runner's resource tests ---------------------------------


def _never_hello() -> None:
    """Never writes hello: the runner must give up after its startup timeout (adapter §5.1)."""
    print("zoo: not saying hello", file=sys.stderr, flush=True)
    while True:
        time.sleep(3600)


def _chatty_stderr() -> None:
    """A correct adapter that writes 1 MiB to stderr per request: stderr must never block it."""
    original = ra.Adapter.handle

    def handle(self, req):
        line = b"chatty: " + b"x" * 1000 + b"\n"
        sys.stderr.buffer.write(line * 1024)
        sys.stderr.buffer.flush()
        return original(self, req)

    ra.Adapter.handle = handle


def _limited() -> None:
    """A correct implementation with fewer capabilities (adapter §3.2, adapter §3.8): suite 2
    only, no injected randomness or RFC 6979 signatures, messages of at most 64 KiB, and an
    emitter this build lacks (it says so with an ``unsupported`` reply)."""
    hello, handle = ra.Adapter.hello, ra.Adapter.handle

    def limited_hello(self):
        return {
            **hello(self),
            "suites": [2],
            "injected_randomness": False,
            "deterministic_signatures": False,
            "max_message": 65536,
        }

    def limited_handle(self, req):
        if req.get("type") == "start" and req.get("role") == "emitter":
            return {
                "type": "unsupported",
                "id": req.get("id"),
                "reason": "this build has no emitter",
            }
        if req.get("type") == "start" and (
            req.get("entropy") is not None or req.get("deterministic_signatures")
        ):
            return {
                "type": "error",
                "id": req.get("id"),
                "code": "bad_request",
                "message": "injection was not announced",
            }
        return handle(self, req)

    ra.Adapter.hello, ra.Adapter.handle = limited_hello, limited_handle


EXTRAS = {"never-hello": _never_hello, "chatty-stderr": _chatty_stderr, "limited": _limited}


def main(name: str | None = None) -> int:
    name = name or os.path.basename(sys.argv[0])
    if name in ("zooadapter.py", "zooadapter") and len(sys.argv) > 1:
        name = sys.argv[1]
    if name in EXTRAS:
        EXTRAS[name]()
        return ra.main()
    if name not in FAULTS:
        print(f"zooadapter: unknown fault {name!r}; known: {', '.join(FAULTS)}", file=sys.stderr)
        return 2
    FAULTS[name].apply()
    print(f"zoo adapter with fault {name}: {FAULTS[name].description}", file=sys.stderr)
    return ra.main()


if __name__ == "__main__":
    sys.exit(main())

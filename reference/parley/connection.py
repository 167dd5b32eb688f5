"""The sans-IO session objects: ``Emitter`` and ``Receiver`` (§5, §7, §8, §9).

A session takes received bytes in any split (``receive_data``), returns events
(``events.py``), and queues the bytes to send (``data_to_send``).  It performs
no I/O, reads no clock and draws randomness only from the injected ``entropy``.

Every failure follows the failure rule (§9.3): the session enters FAILED,
wipes its keys, queues an ABORT frame (§5.7) and raises a ``ParleyError``
carrying the registry entry; every later call raises the same error.  Events
produced earlier in the same ``receive_data`` call (data already verified) are
attached to the exception as ``.events``.
"""

from __future__ import annotations

import struct
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from . import frames, groups, keyschedule as ks, records
from .entropy import Entropy
from .errors import (
    BY_NUMBER,
    REGISTRY,
    KeyFileError,
    LocalProtocolError,
    ParleyError,
    PeerAborted,
    RemoteProtocolError,
)
from .events import _DATA_NEW, _DATA_SET, Acknowledged, Data, EndOfStream, Event, HandshakeComplete
from .frames import (
    ABORT,
    ACK,
    DATA,
    E_AUTH,
    E_HELLO,
    FINAL,
    K_CT,
    K_ERROR,
    K_MAC,
    K_PUB,
    K_SEQ,
    K_SID,
    K_SUITE,
    K_TOTAL,
    K_VERSION,
    R_HELLO,
    TYPE_NAMES,
)
from .keys import LongTermPrivateKey, LongTermPublicKey
from .primitives import signatures, symmetric
from .state import Role, State, legal_messages, next_state
from .suites import SUITES

VERSION = 1
MAX_HANDSHAKE_FRAME = 8192  # §10
MAX_RECORD_FRAME = 262400  # §10
MAX_APP_HEADER = 4096  # §10
MAX_AFTER_FINAL = 4 + MAX_HANDSHAKE_FRAME  # bytes kept in WAIT_COMMIT (§9.2)
SID_LEN = 16
# Whether "send DATA" (Emitter) and "recv DATA" (Receiver) keep STREAMING (§9.2): then
# the per-record path may skip that row's lookup.  Read from the table, not assumed.
_EMITTER_DATA_ROW = next_state(Role.EMITTER, State.STREAMING, "send DATA")
_RECEIVER_DATA_ROW = next_state(Role.RECEIVER, State.STREAMING, "recv DATA")
_EMITTER_DATA_STAYS = _EMITTER_DATA_ROW is not None and _EMITTER_DATA_ROW[0] is State.STREAMING
_RECEIVER_DATA_STAYS = _RECEIVER_DATA_ROW is not None and _RECEIVER_DATA_ROW[0] is State.STREAMING

_U32 = struct.Struct(">I").unpack_from  # a frame's length prefix (§4.1)
# The per-record paths test the state against this constant: an Enum member read from its
# class (State.STREAMING) costs about 0.15 µs a time on CPython 3.11.
_STREAMING = State.STREAMING

Trace = Callable[[str, object], None]


@dataclass(frozen=True)
class SessionConfig:
    """What a session needs from its application (§8, §12)."""

    own_key: LongTermPrivateKey
    peer_key: LongTermPublicKey  # pinned (§1.1)
    entropy: Entropy  # §3.5
    deterministic_signatures: bool = False  # RFC 6979 nonces (§3.3)
    app_header: bytes = field(default=b"", repr=False)  # Emitter only (§7.1)
    chunk_size: int = 1 << 16  # Emitter only: DATA plaintext per record (§7.1)
    trace: Trace | None = field(default=None, repr=False)  # intermediate values (vectors)

    def __post_init__(self) -> None:
        if self.own_key.suite != self.peer_key.suite:
            raise KeyFileError(
                "KEY_SUITE_MISMATCH",
                f"own key is for {self.own_key.suite.name}, pinned peer key for "
                f"{self.peer_key.suite.name}",
            )
        if len(self.app_header) > MAX_APP_HEADER:
            raise LocalProtocolError(
                f"application header of {len(self.app_header)} bytes exceeds {MAX_APP_HEADER}",
                "LIMIT_EXCEEDED",
            )
        if not 1 <= self.chunk_size <= records.MAX_CHUNK:
            raise LocalProtocolError(
                f"chunk size {self.chunk_size} outside 1..262144", "LIMIT_EXCEEDED"
            )


def _as_parley_error(exc: Exception) -> ParleyError:
    """The error to report for ``exc``; a library exception becomes INTERNAL_ERROR (§11).

    The frames ``exc`` passed through are cleared of their locals (the lines
    stay in the traceback): they may hold views of the caller's buffers.
    """
    traceback.clear_frames(exc.__traceback__)
    return (
        exc if isinstance(exc, ParleyError) else ParleyError("INTERNAL_ERROR", type(exc).__name__)
    )


class _Session:
    role: Role

    def __init__(self, config: SessionConfig) -> None:
        self.config = config
        self.suite = config.own_key.suite
        self.state = State.START
        self.error: ParleyError | None = None
        self._failed_at = None  # the error's traceback, kept from its first re-raise
        self._reader = frames.FrameReader()
        self._out: list[bytes] = []
        self._trace_fn = config.trace
        own_id, peer_id = config.own_key.identity, config.peer_key.identity
        self.id_e, self.id_r = (own_id, peer_id) if self.role is Role.EMITTER else (peer_id, own_id)
        self.transcript_hash: bytes | None = None
        self._secret: int | None = None
        self._prk: bytearray | None = None
        self._hs_keys: list[bytearray] = []
        self._keys: records.RecordKeys | None = None
        self._th: bytes = b""

    # -- public operations (§8) -------------------------------------------

    def data_to_send(self) -> bytes:
        """Bytes to write to the transport, in order; drains the queue."""
        return b"".join(self.data_to_send_parts())

    def data_to_send_parts(self) -> list[bytes]:
        """The same bytes as ``data_to_send()``, as a list of pieces not joined.

        For scatter-gather writes (``socket.sendmsg``): a DATA record's
        ciphertext then reaches the transport without a copy.  Drains the queue.
        """
        out, self._out = self._out, []
        return out

    def receive_data(self, data: bytes) -> list[Event]:
        """Consume received bytes (any split) and return the events they complete."""
        self._check_alive()
        events: list[Event] = []
        try:
            if self.state is State.DONE:
                if data:
                    raise RemoteProtocolError(
                        "UNEXPECTED_MESSAGE", "bytes received after the session completed"
                    )
                return events
            self._reader.feed(data)
            while self.state not in (State.DONE, State.WAIT_COMMIT):
                body = self._reader.next_view(self._frame_limit())
                if body is None:
                    break
                self._handle(body, events)
            if self.state is State.DONE and self._reader.pending:
                raise RemoteProtocolError(
                    "UNEXPECTED_MESSAGE", "a frame followed the end of the session"
                )
            if self.state is State.WAIT_COMMIT and self._reader.pending > MAX_AFTER_FINAL:
                raise RemoteProtocolError(
                    "UNEXPECTED_MESSAGE",
                    f"more than {MAX_AFTER_FINAL} bytes after FINAL, before the acknowledgement",
                )
            self._reader.release()  # the caller may reuse ``data`` once we return
        except Exception as exc:  # noqa: BLE001 - never leak a library exception (§11)
            data = body = None
            self._fail(_as_parley_error(exc), events)
        return events

    def receive_eof(self) -> None:
        """The transport ended (§7.5)."""
        self._check_alive()
        row = next_state(self.role, self.state, "end of transport")
        if row is not None and row[0] is not State.FAILED:  # DONE; the Receiver's WAIT_COMMIT
            self.state = row[0]
            return
        self._fail(
            RemoteProtocolError("TRUNCATED", f"transport ended in state {self.state.value}"), []
        )

    def abort(self, error: str, detail: str = "") -> None:
        """The application gives up: the failure rule (§9.3) for an error it detected.

        For example a shell's timeout (``TIMEOUT``, §13.2) or an application
        header the application cannot accept (§14).  ``error`` is a registry
        name (§11); a local one is sent as ``INTERNAL_ERROR``.  Raises the
        error, like every failure; ``data_to_send()`` then holds the ABORT.
        In DONE there is nothing left to abort: §9.2 has no such row there, so
        ``API_MISUSE`` is raised, the session stays DONE and nothing is sent
        (§9.3, R-9.3-9).
        """
        self._check_alive()
        if self.state is State.DONE:
            self._fail(LocalProtocolError("abort is not legal in state DONE"), [])
        self._fail(ParleyError(error, detail), [])

    # -- machinery ---------------------------------------------------------

    def _check_alive(self) -> None:
        if self.error is not None:
            # Re-raised with the traceback of the failure, so that it does not grow per call.
            if self._failed_at is None:
                self._failed_at = self.error.__traceback__
            raise self.error.with_traceback(self._failed_at)

    def _frame_limit(self) -> int:
        if self.role is Role.RECEIVER and self.state is State.STREAMING:
            return MAX_RECORD_FRAME
        return MAX_HANDSHAKE_FRAME

    def _trace(self, name: str, value: object) -> None:
        if self._trace_fn is not None:
            self._trace_fn(name, value)

    def _step(self, event: str) -> str | None:
        """Apply one row of §9.2; illegal events raise."""
        row = next_state(self.role, self.state, event)
        if row is None:
            if event.startswith("recv "):
                raise RemoteProtocolError(
                    "UNEXPECTED_MESSAGE", f"{event[5:]} is not legal in state {self.state.value}"
                )
            raise LocalProtocolError(f"{event} is not legal in state {self.state.value}")
        self.state = row[0]
        return row[1]

    def _send(self, mtype: int, fields: dict) -> bytes:
        body = frames.encode(mtype, fields)
        self._out.append(frames.frame(body))
        self._trace(f"sent {TYPE_NAMES[mtype]}", body)
        return body

    def _handle(self, body: memoryview, events: list[Event]) -> None:
        body = bytes(body)
        item = frames.decode_body(body)
        mtype = frames.message_type(item)
        name = TYPE_NAMES.get(mtype)
        if name is None:
            raise RemoteProtocolError("UNEXPECTED_MESSAGE", f"unknown message type {mtype}")
        if name not in legal_messages(self.role, self.state):
            raise RemoteProtocolError(
                "UNEXPECTED_MESSAGE", f"{name} is not legal in state {self.state.value}"
            )
        fields = frames.check_schema(mtype, item)
        if mtype == ABORT:
            number = fields[K_ERROR]
            raise PeerAborted(BY_NUMBER.get(number), number)
        self._trace(f"received {name}", body)
        getattr(self, "_on_" + name.lower())(body, fields, events)

    def _fail(self, exc: ParleyError, events: list[Event]) -> None:
        """The failure rule (§9.3)."""
        if self.state is not State.DONE:
            self.state = State.FAILED
        self.error = exc
        self._wipe_all()
        self._reader.clear()
        if exc.error.name not in ("PEER_ABORTED", "TRUNCATED") and self.state is State.FAILED:
            number = exc.error.number if exc.error.wire else REGISTRY["INTERNAL_ERROR"].number
            self._out.append(frames.frame(frames.encode(ABORT, {K_ERROR: number})))
        exc.events = list(events)
        # "from None": a library exception, whose message may quote keys or plaintext,
        # is not printed with the error's traceback (§13.3, §14).
        raise exc from None

    def _wipe_handshake(self) -> None:
        ks.wipe(self._prk, *self._hs_keys)
        self._prk, self._hs_keys, self._secret = None, [], None

    def _wipe_all(self) -> None:
        self._wipe_handshake()
        if self._keys is not None:
            self._keys.wipe()
            self._keys = None

    def _derive(self, name: str, context: bytes) -> bytearray:
        key = ks.derive(self.suite, self._prk, name, context)
        self._hs_keys.append(key)
        self._trace_info(name, context)
        self._trace(name, bytes(key))
        return key

    def _trace_info(self, name: str, context: bytes) -> None:
        """Trace the HKDF-Expand info bytes of one key of §6 (vectors only)."""
        if self._trace_fn is not None:
            label, length = ks.KEYS[name]
            length = self.suite.hash_len if length is None else length
            self._trace(f"info({name})", ks.kdf_info(label, context, length))

    def _start_data_phase(self, th_4: bytes, app_header: bytes) -> None:
        """TH_4 and the data-phase keys (§5.4, §6)."""
        self.transcript_hash = th_4
        self._trace("TH_4", th_4)
        ad = symmetric.hash_("sha256", app_header)
        self._trace("AD", ad)
        data_keys = [
            ks.derive(self.suite, self._prk, name, th_4) for name in ("K_data", "MK_data", "MK_ack")
        ]
        for name, key in zip(("K_data", "MK_data", "MK_ack"), data_keys):
            self._trace_info(name, th_4)
            self._trace(name, bytes(key))
        self._keys = records.RecordKeys(*data_keys, ad)
        self._wipe_handshake()

    def _dh(self, peer_public: bytes) -> bytearray:
        peer = groups.validate_public(self.suite, peer_public)
        z = groups.exchange(self.suite, self._secret, peer)
        self._trace("Z", bytes(z))
        return z

    def _sign(self, role: str, th: bytes) -> bytes:
        msg = ks.sig_input(role, self.suite, self.id_e, self.id_r, th)
        self._trace(f"SigInput({role})", msg)
        sig, k = signatures.sign(
            self.config.own_key.handle,
            msg,
            suite_number=self.suite.number,
            deterministic=self.config.deterministic_signatures,
        )
        if k is not None:
            self._trace(f"k({role})", k)
        self._trace(f"sig_{role[0]}", sig)
        return sig

    def _verify_peer(self, role: str, th: bytes, sig: bytes) -> None:
        msg = ks.sig_input(role, self.suite, self.id_e, self.id_r, th)
        if not signatures.verify(
            self.config.peer_key.handle, msg, sig, suite_number=self.suite.number
        ):
            raise RemoteProtocolError(
                "BAD_SIGNATURE", f"the {role}'s signature does not verify under the pinned key"
            )

    def _check_mac(self, key: bytearray, th: bytes, ct: bytes, mac: bytes, who: str) -> None:
        if not symmetric.hmac_verify(self.suite.hash_name, bytes(key), th + ct, mac):
            raise RemoteProtocolError(
                "KEY_CONFIRMATION_FAILED", f"the {who}'s key confirmation MAC does not verify"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} suite={self.suite.number} state={self.state.value}>"


class Emitter(_Session):
    """The party that opens the session and sends the message (§1.2)."""

    role = Role.EMITTER

    def __init__(self, config: SessionConfig) -> None:
        super().__init__(config)
        self._seq = 0
        self._offset = 0
        self._final_tag: bytes | None = None
        self._final_seq = 0

    def start(self) -> None:
        """Compose E_HELLO (§5.2)."""
        self._operation(self._start)

    def send_data(self, data: bytes) -> None:
        """Compose DATA records of at most ``chunk_size`` bytes each (§7.3)."""
        if self.error is not None:  # _operation, inlined: this is the per-record path
            self._check_alive()
        try:
            if (
                0 < len(data) <= self.config.chunk_size
                and self.state is _STREAMING
                and _EMITTER_DATA_STAYS
                and self._trace_fn is None
            ):
                # One record, the common case (the tool sends a chunk per call): what
                # _send_data does for it, without its loop and slicing.
                self._out.extend(records.seal_data_parts(self._keys, self._seq, self._offset, data))
                self._seq += 1
                self._offset += len(data)
                return
            self._send_data(data)
        except Exception as exc:  # noqa: BLE001 - converted to a ParleyError (§11)
            data = None
            self._fail(_as_parley_error(exc), [])

    def end_stream(self) -> None:
        """Compose FINAL (§7.4); the Emitter then waits for the ACK."""
        self._operation(self._end_stream)

    def _operation(self, fn, *args) -> None:
        self._check_alive()
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - converted to a ParleyError (§11)
            args = None
            self._fail(_as_parley_error(exc), [])

    def _start(self) -> None:
        self._step("send E_HELLO")
        entropy = self.config.entropy
        self._sid_e = entropy.draw("sid", SID_LEN)
        self._secret, self._g_e = groups.draw_ephemeral(self.suite, entropy)
        m1 = self._send(
            E_HELLO,
            {K_VERSION: VERSION, K_SUITE: self.suite.number, K_SID: self._sid_e, K_PUB: self._g_e},
        )
        self._th = ks.th1(self.suite, m1)
        self._trace("TH_1", self._th)

    def _on_r_hello(self, m2: bytes, f: dict, events: list[Event]) -> None:
        """Processing of R_HELLO (§5.3), then composition of E_AUTH (§5.4)."""
        suite = self.suite
        sid_r, g_r, c_r, mac_r = f[K_SID], f[K_PUB], f[K_CT], f[frames.K_MAC]
        if len(c_r) != suite.sig_len or len(mac_r) != suite.hash_len:
            raise RemoteProtocolError("SCHEMA_VIOLATION", "R_HELLO c_r or mac_r has the wrong size")
        z = self._dh(g_r)
        th_2 = ks.th2(suite, self._th, sid_r, g_r)
        self._trace("TH_2", th_2)
        self._prk = ks.extract(suite, th_2, z)
        ks.wipe(z)
        self._trace("PRK", bytes(self._prk))
        k_r, mk_r = self._derive("K_R", th_2), self._derive("MK_R", th_2)
        self._check_mac(mk_r, th_2, c_r, mac_r, "Receiver")
        sig_r = symmetric.aes256_ctr(bytes(k_r), bytes(16), c_r)
        self._verify_peer("receiver", th_2, sig_r)
        th_3 = ks.th_next(suite, th_2, m2)
        self._trace("TH_3", th_3)
        self._step("recv R_HELLO")
        # E_AUTH (§5.4)
        k_e, mk_e = self._derive("K_E", th_3), self._derive("MK_E", th_3)
        sig_e = self._sign("emitter", th_3)
        header = self.config.app_header
        c_e = symmetric.aes256_ctr(bytes(k_e), bytes(16), sig_e + header)
        mac_e = symmetric.hmac(suite.hash_name, bytes(mk_e), th_3 + c_e)
        m3 = self._send(E_AUTH, {K_CT: c_e, K_MAC: mac_e})
        self._start_data_phase(ks.th_next(suite, th_3, m3), header)
        events.append(HandshakeComplete(suite.number, self.transcript_hash, self.id_r, b""))

    def _send_data(self, data: bytes) -> None:
        view = memoryview(data)
        size = self.config.chunk_size
        for start in range(0, len(view), size):
            if self.state is not State.STREAMING or not _EMITTER_DATA_STAYS:
                self._step("send DATA")  # in STREAMING the row is a no-op (§9.2)
            chunk = view[start : start + size]  # read once by the cipher, not kept
            if self._trace_fn is not None:
                self._trace(f"CB({self._seq})", records.counter_block(self._seq))
                self._trace(
                    f"MacInput head({self._seq})",
                    records.mac_input_head(
                        DATA, self._seq, self._offset, len(chunk), self._keys.ad
                    ),
                )
            parts = records.seal_data_parts(self._keys, self._seq, self._offset, chunk)
            self._out.extend(parts)
            if self._trace_fn is not None:
                self._trace("sent DATA", b"".join(parts)[frames.LENGTH_PREFIX :])
            self._seq += 1
            self._offset += len(chunk)
        if not view and self.state is not State.STREAMING:
            self._step("send DATA")  # an empty write is still only legal when streaming

    def _end_stream(self) -> None:
        self._step("send FINAL")
        fields = records.final_fields(self._keys, self._seq, self._offset)
        self._final_tag, self._final_seq = fields[K_MAC], self._seq
        self._send(FINAL, fields)

    def _on_ack(self, body: bytes, f: dict, events: list[Event]) -> None:
        """Processing of ACK (§7.4)."""
        total = f[K_TOTAL]
        if not self._keys.verify(ACK, self._final_seq, total, self._final_tag, f[K_MAC]):
            raise RemoteProtocolError("BAD_RECORD_MAC", "ACK tag does not verify")
        if total != self._offset:
            raise RemoteProtocolError(
                "LENGTH_MISMATCH", f"ACK total {total}, sent {self._offset} bytes"
            )
        self._step("recv ACK")
        self._wipe_all()
        events.append(Acknowledged(total))


class Receiver(_Session):
    """The party that answers the handshake and receives the message (§1.2)."""

    role = Role.RECEIVER

    def __init__(self, config: SessionConfig) -> None:
        super().__init__(config)
        self._expected_seq = 0
        self._offset = 0
        self._final: tuple[int, int, bytes] | None = None  # (seq, total, tag_f) of FINAL
        self._shape = _NO_SHAPE  # the fast loop's last record layout (receive_data)
        self._fast: tuple | None = None  # receive_data's per-session constants (_fast_setup)

    def acknowledge(self) -> None:
        """The application has committed the message: compose the ACK (§7.4, §8).

        Legal only after ``EndOfStream`` (state WAIT_COMMIT, §9.2); the session
        is then DONE.  Bytes that arrived after FINAL were kept unprocessed; they
        are now reported as ``UNEXPECTED_MESSAGE`` (§9.3, last paragraph): the
        error is raised, the session stays DONE and ``data_to_send()`` holds
        the ACK.  To refuse the message instead, call ``abort(error)``.
        """
        self._check_alive()
        try:
            self._step("send ACK")
            if self._final is None:  # pragma: no cover - WAIT_COMMIT is entered only at FINAL
                raise LocalProtocolError("no FINAL to acknowledge")
            seq, total, tag = self._final
            self._send(ACK, records.ack_fields(self._keys, seq, total, tag))
            self._wipe_all()
            if self._reader.pending:
                raise RemoteProtocolError(
                    "UNEXPECTED_MESSAGE", "a frame followed the end of the session"
                )
        except Exception as exc:  # noqa: BLE001 - converted to a ParleyError (§11)
            self._fail(_as_parley_error(exc), [])

    def _on_e_hello(self, m1: bytes, f: dict, events: list[Event]) -> None:
        """Processing of E_HELLO (§5.2), then composition of R_HELLO (§5.3)."""
        if f[K_VERSION] != VERSION:
            raise RemoteProtocolError("UNSUPPORTED_VERSION", f"version {f[K_VERSION]}")
        if f[K_SUITE] != self.suite.number:
            known = (
                "an unknown suite" if f[K_SUITE] not in SUITES else "a suite its keys are not for"
            )
            raise RemoteProtocolError(
                "UNSUPPORTED_SUITE", f"E_HELLO offers suite {f[K_SUITE]}, {known}"
            )
        suite = self.suite
        g_e = f[K_PUB]
        peer = groups.validate_public(suite, g_e)
        th_1 = ks.th1(suite, m1)
        self._trace("TH_1", th_1)
        self._step("recv E_HELLO")
        # R_HELLO (§5.3)
        entropy = self.config.entropy
        sid_r = entropy.draw("sid", SID_LEN)
        self._secret, g_r = groups.draw_ephemeral(suite, entropy)
        z = groups.exchange(suite, self._secret, peer)
        self._trace("Z", bytes(z))
        th_2 = ks.th2(suite, th_1, sid_r, g_r)
        self._trace("TH_2", th_2)
        self._prk = ks.extract(suite, th_2, z)
        ks.wipe(z)
        self._trace("PRK", bytes(self._prk))
        k_r, mk_r = self._derive("K_R", th_2), self._derive("MK_R", th_2)
        sig_r = self._sign("receiver", th_2)
        c_r = symmetric.aes256_ctr(bytes(k_r), bytes(16), sig_r)
        mac_r = symmetric.hmac(suite.hash_name, bytes(mk_r), th_2 + c_r)
        m2 = self._send(R_HELLO, {K_SID: sid_r, K_PUB: g_r, K_CT: c_r, K_MAC: mac_r})
        self._th = ks.th_next(suite, th_2, m2)
        self._trace("TH_3", self._th)

    def _on_e_auth(self, m3: bytes, f: dict, events: list[Event]) -> None:
        """Processing of E_AUTH (§5.4)."""
        suite = self.suite
        c_e, mac_e = f[K_CT], f[K_MAC]
        if len(mac_e) != suite.hash_len or len(c_e) < suite.sig_len:
            raise RemoteProtocolError("SCHEMA_VIOLATION", "E_AUTH c_e or mac_e has the wrong size")
        if len(c_e) - suite.sig_len > MAX_APP_HEADER:
            raise RemoteProtocolError("LIMIT_EXCEEDED", "application header exceeds 4096 bytes")
        th_3 = self._th
        k_e, mk_e = self._derive("K_E", th_3), self._derive("MK_E", th_3)
        self._check_mac(mk_e, th_3, c_e, mac_e, "Emitter")
        plain = symmetric.aes256_ctr(bytes(k_e), bytes(16), c_e)
        sig_e, header = plain[: suite.sig_len], plain[suite.sig_len :]
        self._verify_peer("emitter", th_3, sig_e)
        self._step("recv E_AUTH")
        self._start_data_phase(ks.th_next(suite, th_3, m3), header)
        events.append(HandshakeComplete(suite.number, self.transcript_hash, self.id_e, header))

    def receive_data(self, data: bytes) -> list[Event]:
        """Consume received bytes (any split) and return the events they complete.

        Fast path of the data phase: while the bytes start with whole DATA frames
        (no trace), they are processed straight from ``data``, exactly as the
        general loop would (same checks, same order, same failure rule); the
        first byte it does not take (another message, a partial frame, anything
        odd) and all that follows go the general way.  A frame begun in an
        earlier call is completed the general way first (its missing bytes
        only), and the fast path goes on after it.
        """
        if self.state is not _STREAMING or self.error is not None or self._trace_fn is not None:
            return super().receive_data(data)
        events: list[Event] = []
        view = memoryview(data)  # of bytes: format "B", one dimension (its format costs 0.05 µs)
        if type(data) is not bytes and (view.format != "B" or view.ndim != 1):
            view = view.cast("B")
        end = len(view)
        pos = 0
        reader = self._reader
        if reader._buf or reader._view:  # reader.pending, without the property call
            pos = reader.completing(view, MAX_RECORD_FRAME) or 0
            if not pos:
                view = None
                return super().receive_data(data)
            try:
                events = super().receive_data(view[:pos])
            except ParleyError:
                data = view = None  # the error's traceback keeps this frame
                raise
            if self.state is not State.STREAMING or self._reader.pending:
                rest, data = view[pos:], None
                view = None
                try:
                    return events + super().receive_data(rest)
                except ParleyError as exc:
                    rest = None
                    exc.events = events + exc.events
                    raise
        fast = self._fast
        if fast is None:
            fast = self._fast = self._fast_setup()
        opener, ad, shapes, max_chunk = fast
        expected, offset = self._expected_seq, self._offset  # written back below
        # The layout of the session's last record frame (records.data_shape), kept across
        # calls; _NO_SHAPE's frame never fits in a buffer (and stays when not inline).
        # A kept layout is within this session's limits (checked when it was adopted).
        unpack, frame, start, ct_end, head, key, lowest, above = shape = self._shape
        try:
            while end - pos > 4:
                stop = pos + frame
                if stop <= end:
                    head_in, key6_in, tag, key7_in, seq = unpack(view, pos)
                    if (
                        head_in == head  # the length prefix too: the frame has this layout
                        and key6_in == _KEY6_HEAD
                        and key7_in == key
                        and lowest <= seq < above
                    ):
                        # parse_data_body, _on_data, open_data, RecordKeys.verify and
                        # mac_input_head inlined: the same checks, order and errors.
                        if seq != expected:
                            raise RemoteProtocolError(
                                "RECORD_OUT_OF_ORDER", f"DATA seq {seq}, expected {expected}"
                            )
                        size = ct_end - start
                        plain = opener(
                            _CB(seq, 0),
                            _MAC_HEAD_AD(DATA, seq, offset, size, ad),  # mac_input_head
                            view[pos + start : pos + ct_end],
                            tag,
                        )
                        if plain is None:
                            raise RemoteProtocolError(
                                "BAD_RECORD_MAC", f"DATA record {seq} tag does not verify"
                            )
                        expected += 1
                        offset += size
                        event = _DATA_NEW(Data)  # Data(plain), without its __init__ (events.py)
                        _DATA_SET(event, plain)
                        events.append(event)  # (list.append called so is specialised by 3.11)
                        pos = stop
                        continue
                n = _U32(view, pos)[0]
                stop = pos + 4 + n
                if stop > end or n > MAX_RECORD_FRAME:
                    break  # partial, or FRAME_TOO_LARGE: the general way says so
                known = shapes.get(n)
                if known is not None and known is not shape:
                    # This length's layout: try it on this frame; keep it for the next calls
                    # unless its records exceed the limit (the general way names it).
                    unpack, frame, start, ct_end, head, key, lowest, above = shape = known
                    if ct_end - start > max_chunk:
                        frame = end + 1  # open_data's LIMIT_EXCEEDED, the general way
                    else:
                        self._shape = shape
                    continue
                body = view[pos + 4 : stop]
                fields = records.parse_data_body(body)  # None for an empty or non-DATA body
                if fields is None:
                    break
                if opener is not None:  # inline (_fast_setup)
                    records.data_shape(n, len(fields[K_CT]), fields[K_SEQ])
                self._expected_seq, self._offset = expected, offset
                self._on_data(body, fields, events)
                expected, offset = self._expected_seq, self._offset
                pos = stop
            self._expected_seq, self._offset = expected, offset
        except Exception as exc:  # noqa: BLE001 - never leak a library exception (§11)
            data = view = body = fields = None  # no view of the caller's buffer stays
            fast = opener = None  # nor, through the error's traceback, the data keys (§9.3)
            self._expected_seq, self._offset = expected, offset
            self._fail(_as_parley_error(exc), events)
        if pos == end:
            return events
        rest, data = view[pos:], None
        view = body = fields = None
        try:
            return events + super().receive_data(rest)
        except ParleyError as exc:
            rest = None  # the error's traceback keeps this frame: no view of the caller's buffer
            exc.events = events + exc.events
            raise

    def _fast_setup(self) -> tuple:
        """What receive_data's fast loop needs of this session, decided once, on the
        data phase's first bytes: (opener, AD, layouts, MAX_CHUNK).  The opener is
        None when the inlined loop may not run (a function it copies was replaced):
        then it knows no layouts, so every record goes through those functions.
        Like the replacements (see the comment at the module's end), a limit patched
        later in the session (a test's MAX_CHUNK or MAX_RECORD_FRAME) is not seen by
        the layouts it has kept; the general way reads the limits on every frame."""
        keys = self._keys
        ad = keys.ad
        inline = (
            _RECEIVER_DATA_STAYS
            and type(self)._on_data is _ON_DATA
            and records.parse_data_body is _PARSE_DATA_BODY
            and records.open_data is _OPEN_DATA
            and _RECORDS["mac_input_head"] is _MAC_INPUT_HEAD
            and type(keys) is records.RecordKeys
            and records.RecordKeys.verify is _VERIFY
            and len(ad) == 32  # AD is a SHA-256 (§7.1); _MAC_HEAD_AD packs 32 bytes of it
        )
        if not inline:
            return None, ad, {}, records.MAX_CHUNK
        return keys._data_mac.opener(keys._ctr), ad, records._SHAPES, records.MAX_CHUNK

    def _wipe_all(self) -> None:
        self._fast = None  # its opener holds the data keys' library contexts (§13.3)
        super()._wipe_all()

    def _handle(self, body: memoryview, events: list[Event]) -> None:
        # Fast path: a DATA record in its deterministic encoding skips the
        # general decoder (records.parse_data_body says why that is exact).
        if self.state is State.STREAMING:
            fields = records.parse_data_body(body)
            if fields is not None:
                if self._trace_fn is not None:
                    self._trace("received DATA", bytes(body))
                self._on_data(body, fields, events)
                return
        super()._handle(body, events)

    def _on_data(self, body: bytes, f: dict, events: list[Event]) -> None:
        """Processing of DATA (§7.3)."""
        plain = records.open_data(self._keys, self._expected_seq, self._offset, f)
        if self.state is not State.STREAMING or not _RECEIVER_DATA_STAYS:
            self._step("recv DATA")  # in STREAMING the row is a no-op (§9.2)
        self._expected_seq += 1
        self._offset += len(plain)
        events.append(Data(plain))

    def _on_final(self, body: bytes, f: dict, events: list[Event]) -> None:
        """Processing of FINAL (§7.4); the ACK waits for ``acknowledge()``."""
        seq, total, tag = f[K_SEQ], f[K_TOTAL], f[K_MAC]
        if seq != self._expected_seq:
            raise RemoteProtocolError(
                "RECORD_OUT_OF_ORDER", f"FINAL seq {seq}, expected {self._expected_seq}"
            )
        if not self._keys.verify(FINAL, seq, total, b"", tag):
            raise RemoteProtocolError("BAD_RECORD_MAC", "FINAL tag does not verify")
        if total != self._offset:
            raise RemoteProtocolError(
                "LENGTH_MISMATCH", f"FINAL total {total}, received {self._offset} bytes"
            )
        self._step("recv FINAL")
        self._final = (seq, total, tag)
        events.append(EndOfStream(total))


# What Receiver.receive_data's fast loop inlines (see there), as this module found them:
# while these are still the functions in place, the loop may run their inlined copy; a
# test or a conformance-zoo member that replaces one of them before a session's data phase
# begins gets the loop that calls them (each session decides once, on its first DATA bytes:
# Receiver._fast_setup).
_ON_DATA = Receiver._on_data
_PARSE_DATA_BODY = records.parse_data_body
_OPEN_DATA = records.open_data
_MAC_INPUT_HEAD = records.mac_input_head
_RECORDS = vars(records)
_VERIFY = records.RecordKeys.verify
_KEY6_HEAD = records._TAG_HEAD  # 6: bstr(32), the tag's key and head
_CB = records._CB  # CB(seq) = u64(seq) ‖ u64(0) with the 0 given (§7.2)
_MAC_HEAD_AD = struct.Struct(">BQQQ32s").pack  # MacInput's head with a 32-byte AD (§7.1)
# The fast loop's layout (records.data_shape) before it has seen a record: a frame length
# beyond every buffer, so that it never applies.
_NO_SHAPE: tuple = (_U32, 1 << 62, 0, 0, b"", b"", 0, 0)

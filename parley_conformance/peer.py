"""The runner's live peer: the reference implementation, used as a library, with bugs on demand.

Live cases (adapter §5.5) need attacks that depend on the implementation's own
randomness, so they cannot come from fixed vectors: the peer runs a real
session against the implementation and misbehaves in a named way, the idea of
BoringSSL's BoGo "bugs".  Two kinds of misbehaviour exist:

* **switches** on the peer itself (``BUGS``): a subclass hook changes what the
  reference computes (for example it signs with the wrong role label), so the
  frames are otherwise perfectly valid and only the targeted check can fail;
* **frame edits** applied by the live cases to the peer's output (flip a bit,
  drop, replay, reorder, merge records, forge a FINAL), with helpers here that
  reseal edited records with the session's real keys.

The peer's own randomness is seeded from the case id, so a rerun of a case
replays the same peer (the implementation's side stays random).
"""

from __future__ import annotations

import threading

from parley import (
    Emitter,
    ParleyError,
    Receiver,
    SessionConfig,
    State,
    cbor,
    frames,
    keys as keyfiles,
    keyschedule as ks,
)
from parley.entropy import SeededEntropy
from parley.frames import ACK, FINAL, K_MAC, K_SEQ, K_TOTAL
from parley.primitives import signatures
from parley.records import ack_fields

from .testkeys import KEYS

#: Switches of the peer (subclass hooks).  Name -> what the peer then does.
BUGS = {
    "flip-signature": "flips one bit of its signature before encrypting it (§5.5)",
    "wrong-role-label": "signs SigInput with the other role's label (§5.5)",
    "zero-r": "sends a signature with r = 0 (§3.3)",
    "r-equals-q": "sends a signature with r = q, the group order (§3.3)",
    "sign-with-other-key": "signs the right SigInput with another valid key of the suite (§5.5)",
    "oversized-app-header": "sends a 4097-byte application header in E_AUTH (§10)",
    "ack-wrong-total": "answers FINAL with an ACK whose total is off by one, resealed (§7.4)",
}


class KeySet:
    """Named long-term keys of one suite: PEM text for the adapter, key objects for the peer."""

    def __init__(self, suite: int, pems: dict[str, str]) -> None:
        self.suite = suite
        self._pems = dict(pems)
        self._keys: dict[str, keyfiles.LongTermPrivateKey] = {}
        self._lock = threading.Lock()

    def key(self, name: str) -> keyfiles.LongTermPrivateKey:
        with self._lock:
            key = self._keys.get(name)
            if key is None:
                key = keyfiles.load_private_key(self._pems[name].encode(), None)
                self._keys[name] = key
            return key

    def private_pem(self, name: str) -> str:
        return self._pems[name]

    def public_pem(self, name: str) -> str:
        return keyfiles.public_key_pem(self.key(name)).decode()


_fixed_keysets = {suite: KeySet(suite, pems) for suite, pems in KEYS.items()}


def fixed_keyset(suite: int) -> KeySet:
    """The fixed test keys of ``parley_conformance.testkeys`` (emitter, receiver, other)."""
    return _fixed_keysets[suite]


def _group_order(session) -> int:
    return session.config.own_key.group_order


class _Bugs:
    """The signature switches, shared by both roles."""

    bugs: frozenset = frozenset()
    other_key = None

    def _sign(self, role, th):
        if "sign-with-other-key" in self.bugs:
            msg = ks.sig_input(role, self.suite, self.id_e, self.id_r, th)
            sig, _ = signatures.sign(
                self.other_key.handle, msg, suite_number=self.suite.number, deterministic=False
            )
            return sig
        if "wrong-role-label" in self.bugs:
            role = "receiver" if role == "emitter" else "emitter"
        sig = super()._sign(role, th)
        half = len(sig) // 2
        if "flip-signature" in self.bugs:
            sig = sig[:5] + bytes([sig[5] ^ 0x10]) + sig[6:]
        if "zero-r" in self.bugs:
            sig = bytes(half) + sig[half:]
        if "r-equals-q" in self.bugs:
            sig = _group_order(self).to_bytes(half, "big") + sig[half:]
        return sig


class PeerEmitter(_Bugs, Emitter):
    """The reference Emitter with switches."""


class PeerReceiver(_Bugs, Receiver):
    """The reference Receiver with switches.

    Its application accepts every complete message at once: it acknowledges in
    the same ``receive_data`` call that reports ``EndOfStream`` (parley §7.4, §8).
    """

    def receive_data(self, data):
        events = super().receive_data(data)
        if self.state is State.WAIT_COMMIT:
            try:
                self.acknowledge()
            except ParleyError as exc:  # bytes after FINAL: DONE, and the error (§9.3)
                exc.events = events
                raise
        return events

    def _on_final(self, body, f, events):
        self._final_fields = f
        super()._on_final(body, f, events)

    def _send(self, mtype, fields):
        if mtype == ACK and "ack-wrong-total" in self.bugs:
            f = self._final_fields
            fields = ack_fields(self._keys, f[K_SEQ], f[K_TOTAL] + 1, f[K_MAC])
        return super()._send(mtype, fields)


def make_peer(
    role: str,
    *,
    own_key,
    pinned_key,
    bugs=(),
    seed: bytes = b"peer",
    app_header: bytes = b"",
    chunk_size: int = 1 << 16,
    other_key=None,
):
    """A peer playing ``role`` ("emitter"/"receiver") with ``own_key``, pinning ``pinned_key``."""
    unknown = set(bugs) - set(BUGS)
    if unknown:
        raise ValueError(f"unknown peer bugs {sorted(unknown)}")
    party = "E" if role == "emitter" else "R"
    header = app_header
    if "oversized-app-header" in bugs:
        header = b""
    config = SessionConfig(
        own_key,
        pinned_key,
        SeededEntropy(seed, party),
        deterministic_signatures=False,
        app_header=header,
        chunk_size=chunk_size,
    )
    if "oversized-app-header" in bugs:
        object.__setattr__(config, "app_header", b"H" * 4097)  # bypass the §10 check
    cls = PeerEmitter if role == "emitter" else PeerReceiver
    peer = cls(config)
    peer.bugs = frozenset(bugs)
    peer.other_key = other_key
    if "sign-with-other-key" in bugs and other_key is None:
        raise ValueError("sign-with-other-key needs other_key")
    return peer


# -- frame helpers -------------------------------------------------------------------

frames_of = frames.split_bodies  # cut a well-formed stream into frame bodies (§4.1)


def wire(body: bytes) -> bytes:
    """A frame: u32 length ‖ body (§4.1)."""
    return len(body).to_bytes(4, "big") + body


def decode(body: bytes) -> dict:
    return cbor.decode(body)


def edit(body: bytes, **changes) -> bytes:
    """Re-encode a body with fields changed by key (``k5=...``; None removes the key)."""
    item = cbor.decode(body)
    for k, v in changes.items():
        key = int(k[1:])
        if v is None:
            item.pop(key, None)
        else:
            item[key] = v
    return cbor.encode(item)


def flip(value: bytes, index: int, mask: int = 0x01) -> bytes:
    return value[:index] + bytes([value[index] ^ mask]) + value[index + 1 :]


def abort(number: int) -> bytes:
    """An ABORT body (§5.7)."""
    return cbor.encode({0: 7, 9: number})


def seal_data(emitter: Emitter, seq: int, offset: int, plaintext: bytes) -> bytes:
    """A DATA body sealed with the session's real keys, whatever its size (§7.3)."""
    keys = emitter._keys
    ct = keys.encrypt(seq, plaintext)
    return cbor.encode({0: 4, 5: ct, 6: keys.tag(4, seq, offset, ct), 7: seq})


def seal_final(emitter: Emitter, seq: int, total: int) -> bytes:
    """A FINAL body with a valid tag for any seq and total (§7.4)."""
    return cbor.encode({0: FINAL, 6: emitter._keys.tag(FINAL, seq, total, b""), 7: seq, 8: total})


__all__ = [
    "BUGS",
    "KeySet",
    "PeerEmitter",
    "PeerReceiver",
    "ParleyError",
    "make_peer",
    "fixed_keyset",
    "frames_of",
    "wire",
    "edit",
    "flip",
    "abort",
    "seal_data",
    "seal_final",
]

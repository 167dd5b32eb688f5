"""Deterministic Parley transcripts and session snapshots, for fuzzing and property tests.

A *transcript* is one complete, successful session run once (deterministic
entropy, RFC 6979 signatures), kept as the frames each direction carried, the
true message cut into its records, TH_4, and *snapshots*: copies of each party
taken at every frame boundary of the handshake.  A fuzz input or a mutated
transcript that agrees with the true byte stream up to a boundary starts from
the snapshot taken there, instead of redoing the Diffie-Hellman and signature
work (~10-20 ms per handshake): cloning a session costs ~0.1 ms.

Cloning relies on the session's internals (``_keys`` holds keyed HMAC objects
that cannot be deep-copied and are never mutated, only ``.copy()``-ed); a
property test checks that a clone behaves exactly like the original.
"""

from __future__ import annotations

import copy
import hmac as _hmac
import pathlib
from dataclasses import dataclass, field

from parley import Emitter, Receiver, SessionConfig, keys as keyfiles
from parley.entropy import SeededEntropy  # test-only entropy: not in the package API
from parley.frames import split_frames
from parley.primitives import symmetric
from parley.suites import SUITES

KEY_DIR = pathlib.Path(__file__).resolve().parent / "keys"


_SHARED = (_hmac.HMAC,) + tuple(c for c in (getattr(symmetric, "AesCtrKey", None),) if c)


def _share_uncopyable(obj, memo: dict, depth: int) -> None:
    """Let the copy share what cannot be deep-copied and is never mutated in place.

    Keyed HMAC objects are only ever ``.copy()``-ed; the record layer's AES-CTR
    context is reset to the record's counter block before every use; the frame
    reader's borrowed view is empty between calls (the reader copies what it keeps).
    """
    for value in vars(obj).values():
        if isinstance(value, memoryview):
            if len(value):
                raise ValueError("cannot snapshot a session in the middle of a call")
            memo[id(value)] = value
        elif isinstance(value, _SHARED):
            memo[id(value)] = value
        elif depth and hasattr(value, "__dict__") and id(value) not in memo:
            _share_uncopyable(value, memo, depth - 1)


def clone(session):
    """An independent copy of an Emitter or Receiver in any state (between calls).

    The copy shares the long-term keys and gets its own copy of the entropy
    source (whose draw counters are state).
    """
    config = copy.copy(session.config)
    object.__setattr__(config, "entropy", copy.deepcopy(session.config.entropy))
    memo = {id(session.config): config, id(session.suite): session.suite}
    _share_uncopyable(session, memo, 1)
    return copy.deepcopy(session, memo)


@dataclass
class Snapshot:
    """A party after it consumed ``consumed`` bytes of its input stream.

    ``events`` and ``sent`` are what it produced up to then (its output
    ``data_to_send()`` has been drained into ``sent``).
    """

    session: object
    consumed: int
    events: list = field(default_factory=list)
    sent: bytes = b""

    def fresh(self):
        return clone(self.session)


@dataclass
class Transcript:
    suite: int
    message: bytes
    header: bytes
    records: list[bytes]  # the plaintext of each DATA record, in order
    e_to_r: list[bytes]  # wire frames E -> R: E_HELLO, E_AUTH, DATA..., FINAL
    r_to_e: list[bytes]  # wire frames R -> E: R_HELLO, ACK
    th4: bytes  # TH_4 (§5.6)
    id_e: bytes  # ID_E (§5.5)
    id_r: bytes
    receiver: list[Snapshot]  # Receiver at START, after E_HELLO, after E_AUTH, DONE
    emitter_hello: Snapshot  # Emitter after start(): waits for R_HELLO (input: R->E stream)
    emitter_streaming: Snapshot  # Emitter after R_HELLO, before sending data
    emitter_ack: Snapshot  # Emitter after FINAL: waits for the ACK (input offset: R_HELLO)
    emitter_done: Snapshot  # Emitter after the ACK

    @property
    def e_stream(self) -> bytes:
        return b"".join(self.e_to_r)

    @property
    def r_stream(self) -> bytes:
        return b"".join(self.r_to_e)

    def e_bounds(self) -> list[int]:
        """Offsets of the frame boundaries of the E -> R stream (0 first, length last)."""
        out, n = [0], 0
        for f in self.e_to_r:
            n += len(f)
            out.append(n)
        return out

    def receiver_snapshot_for(self, stream: bytes) -> Snapshot:
        """The latest Receiver snapshot whose consumed prefix ``stream`` shares."""
        ref = self.e_stream
        best = self.receiver[0]
        for snap in self.receiver[1:]:
            n = snap.consumed
            if len(stream) >= n and stream[:n] == ref[:n]:
                best = snap
        return best


def _cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def record(emitter: Emitter, receiver: Receiver, message: bytes) -> Transcript:
    """Run one complete session between two fresh parties and keep its transcript.

    Both parties must be deterministic (seeded entropy, RFC 6979 signatures) for
    the snapshots to stand for "the party that received these bytes".
    """
    e, r = emitter, receiver
    r_snaps = [Snapshot(clone(r), 0)]
    e.start()
    e_hello = e.data_to_send()
    e_hello_snap = Snapshot(clone(e), 0, [], e_hello)
    r.receive_data(e_hello)
    r_hello = r.data_to_send()
    r_snaps.append(Snapshot(clone(r), len(e_hello), [], r_hello))
    e_events = e.receive_data(r_hello)
    e_auth = e.data_to_send()
    e_streaming = Snapshot(clone(e), len(r_hello), list(e_events), e_hello + e_auth)
    e.send_data(message)
    e.end_stream()
    flight = e.data_to_send()
    e_ack_snap = Snapshot(clone(e), len(r_hello), list(e_events), e_hello + e_auth + flight)
    r_events = r.receive_data(e_auth)
    r_snaps.append(Snapshot(clone(r), len(e_hello) + len(e_auth), list(r_events), r_hello))
    r_events += r.receive_data(flight)
    r.acknowledge()  # the application commits at once (§7.4, §8)
    ack = r.data_to_send()
    r_snaps.append(
        Snapshot(clone(r), len(e_hello) + len(e_auth) + len(flight), list(r_events), r_hello + ack)
    )
    e_events += e.receive_data(ack)
    hs = r_events[0]
    assert type(hs).__name__ == "HandshakeComplete" and e.state.value == r.state.value == "DONE"
    return Transcript(
        suite=e.suite.number,
        message=message,
        header=e.config.app_header,
        records=_cut(message, e.config.chunk_size),
        e_to_r=[e_hello, e_auth] + split_frames(flight),
        r_to_e=[r_hello, ack],
        th4=hs.transcript_hash,
        id_e=e.id_e,
        id_r=e.id_r,
        receiver=r_snaps,
        emitter_hello=e_hello_snap,
        emitter_streaming=e_streaming,
        emitter_ack=e_ack_snap,
        emitter_done=Snapshot(clone(e), len(r_hello) + len(ack), list(e_events), e_ack_snap.sent),
    )


def load_fuzz_keys(suite: int):
    """The committed test-only keys of fuzz/keys/ (never use them for anything real)."""
    e = keyfiles.load_private_key((KEY_DIR / f"suite{suite}-emitter.pem").read_bytes(), None)
    r = keyfiles.load_private_key((KEY_DIR / f"suite{suite}-receiver.pem").read_bytes(), None)
    return e, r


def make_parties(
    e_key, r_key, *, seed: bytes = b"fuzz", header: bytes = b"name=fuzz.bin", chunk: int = 16
):
    e = Emitter(
        SessionConfig(
            e_key,
            r_key.public,
            SeededEntropy(seed, "E"),
            deterministic_signatures=True,
            app_header=header,
            chunk_size=chunk,
        )
    )
    r = Receiver(
        SessionConfig(r_key, e_key.public, SeededEntropy(seed, "R"), deterministic_signatures=True)
    )
    return e, r


MESSAGE = bytes(range(40)) + b"Parley fuzz message"  # 59 bytes: 3 whole records of 16 and one of 11


def fuzz_transcripts(seed: bytes = b"fuzz") -> dict[int, Transcript]:
    """One transcript per suite, from the committed fuzz keys."""
    out = {}
    for n in SUITES:
        e_key, r_key = load_fuzz_keys(n)
        out[n] = record(*make_parties(e_key, r_key, seed=seed), MESSAGE)
    return out

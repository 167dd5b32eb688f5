"""Play one party of a vector against the reference implementation (``parley``).

The party under test gets its own key, the peer's public key, its recorded
entropy values (in draw order), deterministic signatures, and the Emitter its
application header, message and chunk size.  Frames of the other direction are
fed one per ``receive_data`` call; every frame the party sends must equal the
vector's bytes.  This is what the conformance runner does with an
implementation under test; here the implementation is the reference.

Used by ``tools/genvectors`` (to build negative transcripts and to confirm
them) and by the tests (to confirm every committed vector against the reference).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from parley import Emitter, Receiver, SessionConfig, State, keys
from parley.entropy import FixedEntropy
from parley.errors import ParleyError
from parley.events import Data, EndOfStream, HandshakeComplete
from parley.frames import split_frames

OWN = {"emitter": "E->R", "receiver": "R->E"}


@dataclass
class Outcome:
    error: ParleyError | None = None
    at_frame: int | None = None  # index in the transcript; None for end of transport
    eof: bool = False
    released: bytes = b""
    end_of_stream: bool = False
    after_failure: list[bytes] = field(default_factory=list)  # frames sent after failing (ABORT)


@cache
def _private(pem: str) -> keys.LongTermPrivateKey:
    return keys.load_private_key(pem.encode(), None)


@cache
def _public(pem: str) -> keys.LongTermPublicKey:
    return keys.load_public_key(pem.encode())


class Player:
    """One party of a session, driven frame by frame."""

    def __init__(
        self,
        role: str,
        own_pem: str,
        peer_spki_pem: str,
        draws: list[dict],
        *,
        app_header: bytes = b"",
        message: bytes = b"",
        chunk: int = 32,
    ) -> None:
        own, peer = _private(own_pem), _public(peer_spki_pem)  # parsed once per key
        values: dict[str, list[bytes]] = {}
        for d in draws:
            values.setdefault(d["purpose"], []).append(bytes.fromhex(d["value"]))
        self.role, self.message = role, message
        self.nonces: dict[str, int] = {}
        config = SessionConfig(
            own,
            peer,
            FixedEntropy(values),
            deterministic_signatures=True,
            app_header=app_header if role == "emitter" else b"",
            chunk_size=chunk,
            trace=self._trace,
        )
        self.party = Emitter(config) if role == "emitter" else Receiver(config)
        self.outcome = Outcome()
        self.pending: list[bytes] = []
        self.handshake: HandshakeComplete | None = None
        if role == "emitter":
            self.party.start()
            self._collect()

    def _trace(self, name: str, value: object) -> None:
        if name.startswith("k("):
            self.nonces[name[2:-1]] = value

    def _collect(self) -> None:
        self.pending += split_frames(self.party.data_to_send())

    def _events(self, events) -> None:
        for ev in events:
            if isinstance(ev, Data):
                self.outcome.released += ev.data
            elif isinstance(ev, EndOfStream):
                self.outcome.end_of_stream = True
            elif isinstance(ev, HandshakeComplete):
                self.handshake = ev

    def feed(self, frame: bytes, index: int) -> bool:
        """Feed one frame; False if the party failed on it."""
        try:
            events = self.party.receive_data(frame)
            if self.party.state is State.WAIT_COMMIT:
                # The application commits at EndOfStream, then acknowledges (§7.4, §8).
                try:
                    self.party.acknowledge()
                except ParleyError as exc:
                    exc.events = events
                    raise
        except ParleyError as exc:
            self._events(getattr(exc, "events", []))
            self.outcome.error, self.outcome.at_frame = exc, index
            self.outcome.after_failure = split_frames(self.party.data_to_send())
            return False
        self._events(events)
        if self.role == "emitter" and any(isinstance(ev, HandshakeComplete) for ev in events):
            self.party.send_data(self.message)
            self.party.end_stream()
        self._collect()
        return True

    def eof(self) -> bool:
        try:
            self.party.receive_eof()
        except ParleyError as exc:
            self.outcome.error, self.outcome.eof = exc, True
            self.outcome.after_failure = split_frames(self.party.data_to_send())
            return False
        return True


def build(
    role: str,
    own_pem: str,
    peer_spki_pem: str,
    draws: list[dict],
    fed: list[bytes],
    *,
    eof: bool,
    app_header: bytes,
    message: bytes,
    chunk: int,
):
    """Run the party on ``fed``; returns (transcript [(direction, wire)], outcome, player).

    The transcript interleaves what the party sent with what it was fed, in order,
    up to and including the frame on which it failed.
    """
    p = Player(
        role, own_pem, peer_spki_pem, draws, app_header=app_header, message=message, chunk=chunk
    )
    own = OWN[role]
    other = "R->E" if own == "E->R" else "E->R"
    transcript: list[tuple[str, bytes]] = [(own, f) for f in p.pending]
    p.pending.clear()
    for i, frame in enumerate(fed):
        transcript.append((other, frame))
        if not p.feed(frame, len(transcript) - 1):
            if i != len(fed) - 1:
                raise AssertionError(
                    f"the party failed on fed frame {i}, before the last one ({p.outcome.error})"
                )
            return transcript, p.outcome, p
        transcript += [(own, f) for f in p.pending]
        p.pending.clear()
    if eof:
        p.eof()
    return transcript, p.outcome, p


def check(group: dict, test: dict) -> list[str]:
    """Replay a vector (JSON) with the reference as the party ``expected.detectedBy``
    (negative) or as each party in turn (positive); return a list of problems."""
    problems: list[str] = []
    roles = (
        [test["expected"]["detectedBy"]] if test["result"] == "invalid" else ["emitter", "receiver"]
    )
    for role in roles:
        problems += [f"{role}: {p}" for p in _check_role(group, test, role)]
    return problems


def _check_role(group: dict, test: dict, role: str) -> list[str]:
    peer = "receiver" if role == "emitter" else "emitter"
    p = Player(
        role,
        group[f"{role}Key"]["pkcs8Pem"],
        group[f"{peer}Key"]["spkiPem"],
        test["entropy"][role],
        app_header=bytes.fromhex(test["appHeader"]),
        message=bytes.fromhex(test["message"]),
        chunk=test["chunkSize"],
    )
    own = OWN[role]
    for fr in test["frames"]:
        raw = bytes.fromhex(fr["wire"])
        if p.outcome.error is not None:
            return [f"frames follow the failure at frame {p.outcome.at_frame}"]
        if fr["direction"] == own:
            if not p.pending:
                return [f"frame {fr['index']}: the party sent nothing, the vector has {fr['type']}"]
            sent = p.pending.pop(0)
            if sent != raw:
                return [
                    f"frame {fr['index']}: the party sent {sent.hex()[:80]}..., "
                    f"the vector has {raw.hex()[:80]}..."
                ]
        else:
            p.feed(raw, fr["index"])
    out = p.outcome
    if test["result"] == "valid":
        problems = []
        if out.error is not None:
            problems.append(f"failed with {out.error.error.name} at frame {out.at_frame}")
        if p.pending:
            problems.append(f"sent {len(p.pending)} frames the vector does not have")
        if role == "receiver":
            if out.released != bytes.fromhex(test["delivered"]) or not out.end_of_stream:
                problems.append("did not deliver the message")
            if p.handshake is None or p.handshake.app_header != bytes.fromhex(test["appHeader"]):
                problems.append("did not deliver the application header")
        if p.handshake is None or p.handshake.transcript_hash.hex() != test["transcriptHash"]:
            problems.append("transcript hash differs")
        return problems
    exp = test["expected"]
    if out.error is None and exp["eof"]:
        p.eof()
    if out.error is None:
        return ["the party did not fail"]
    problems = []
    if out.error.error.name != exp["error"] or out.error.error.number != exp["number"]:
        problems.append(f"failed with {out.error.error.name}, expected {exp['error']}")
    if out.eof != exp["eof"] or out.at_frame != exp["atFrame"]:
        problems.append(
            f"failed at frame {out.at_frame} (eof {out.eof}), expected "
            f"{exp['atFrame']} (eof {exp['eof']})"
        )
    limit = bytes.fromhex(exp["maxReleased"])
    if not limit.startswith(out.released):
        problems.append(f"released {len(out.released)} bytes that are not a prefix of maxReleased")
    if out.released != limit:  # the reference releases exactly the authenticated prefix
        problems.append(f"released {len(out.released)} bytes, the vector says {len(limit)}")
    if out.end_of_stream and exp["error"] != "UNEXPECTED_MESSAGE":
        problems.append("reported the end of the stream")
    if p.pending:
        problems.append("sent frames the vector does not have")
    return problems

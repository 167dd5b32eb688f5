"""Drive an Emitter and a Receiver against each other in memory (§8).

Used by the demo and the tests: it moves each side's ``data_to_send()`` into
the other's ``receive_data()``, with a chooser for how the byte stream is split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .connection import Emitter, Receiver
from .events import Acknowledged, Data, EndOfStream, Event, HandshakeComplete

Splitter = Callable[[bytes], Iterator[bytes]]


def whole(data: bytes) -> Iterator[bytes]:
    if data:
        yield data


def byte_by_byte(data: bytes) -> Iterator[bytes]:
    for i in range(len(data)):
        yield data[i : i + 1]


def random_splits(rng) -> Splitter:
    """Split into pieces of random size (rng: a ``random.Random``)."""

    def split(data: bytes) -> Iterator[bytes]:
        i = 0
        while i < len(data):
            n = rng.randint(1, max(1, min(len(data) - i, rng.choice((1, 7, 100, 5000, 1 << 17)))))
            yield data[i : i + n]
            i += n

    return split


def deliver(dst, data: bytes, split: Splitter) -> list[Event]:
    events: list[Event] = []
    for piece in split(data):
        events.extend(dst.receive_data(piece))
    return events


def run_session(
    emitter: Emitter, receiver: Receiver, message: bytes, split: Splitter = whole
) -> dict:
    """One complete session; returns what each side observed.  Errors propagate."""
    emitter.start()
    r_events = deliver(receiver, emitter.data_to_send(), split)
    e_events = deliver(emitter, receiver.data_to_send(), split)
    emitter.send_data(message)
    emitter.end_stream()
    r_events += deliver(receiver, emitter.data_to_send(), split)
    if any(isinstance(e, EndOfStream) for e in r_events):
        receiver.acknowledge()  # this application commits at once (§7.4, §8)
    e_events += deliver(emitter, receiver.data_to_send(), split)
    return {
        "delivered": b"".join(e.data for e in r_events if isinstance(e, Data)),
        "receiver_events": r_events,
        "emitter_events": e_events,
        "end": next((e for e in r_events if isinstance(e, EndOfStream)), None),
        "ack": next((e for e in e_events if isinstance(e, Acknowledged)), None),
        "r_handshake": next((e for e in r_events if isinstance(e, HandshakeComplete)), None),
        "e_handshake": next((e for e in e_events if isinstance(e, HandshakeComplete)), None),
    }

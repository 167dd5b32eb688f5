"""The Receiver's per-record shortcuts keep the public event API.

Receiver.receive_data builds its Data events without the dataclass's generated
``__init__`` (events._DATA_NEW and _DATA_SET) and keeps the last record layout
per session (Receiver._shape); these tests check that what the application gets
is the same object as ``Data(plaintext)`` and that the kept layout follows
the stream when record sizes and seq widths change.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle

import pytest

from helpers import handshake, make_pair
from parley.events import _DATA_NEW, _DATA_SET, Data


def fast_data(value: bytes) -> Data:
    event = _DATA_NEW(Data)
    _DATA_SET(event, value)
    return event


@pytest.mark.parametrize("value", [b"x", bytes(1024), os.urandom(300)])
def test_fast_data_is_data(value):
    fast, slow = fast_data(value), Data(value)
    assert type(fast) is Data
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert fast.data is value
    assert fast != Data(value + b"!")
    assert [f.name for f in dataclasses.fields(fast)] == ["data"]
    assert dataclasses.replace(fast, data=b"y") == Data(b"y")
    assert pickle.loads(pickle.dumps(fast)) == slow
    assert copy.copy(fast) == slow and copy.deepcopy(fast) == slow
    assert not hasattr(fast, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.data = b"other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del fast.data  # type: ignore[misc]
    match fast:
        case Data(data=got):
            assert got is value


@pytest.mark.parametrize("suite", [1, 2])
def test_receiver_events_are_data_and_the_kept_layout_follows_the_stream(keypairs, suite):
    e, r = make_pair(keypairs, suite, chunk=1 << 18)
    handshake(e, r)
    r.receive_data(e.data_to_send())  # E_AUTH: the data phase starts
    # Sizes and seqs whose layouts differ (the ciphertext's head width, the seq's width at
    # 24 and 256), each fed alone, in pairs and after a change of size.
    sizes = [1024] * 3 + [1, 23, 24, 255, 256, 1024, 1024] + [1024] * 20 + [7] * 240 + [300]
    sent = []
    for size in sizes:
        chunk = os.urandom(size)
        sent.append(chunk)
        e.send_data(chunk)
    wire = e.data_to_send()
    events = []
    pos, i = 0, 0
    while pos < len(wire):
        take = 1 + i % 3  # one, two or three frames per call
        end = pos
        for _ in range(take):
            if end < len(wire):
                end += 4 + int.from_bytes(wire[end : end + 4], "big")
        events += r.receive_data(wire[pos:end])
        pos, i = end, i + 1
    assert events == [Data(chunk) for chunk in sent]
    assert all(type(ev) is Data for ev in events)
    e.end_stream()
    (end,) = r.receive_data(e.data_to_send())
    assert end.total == sum(sizes)

"""The application decides before the ACK (§7.4, §8, §9.2): checked on the core, in memory.

The rules, from the spec: after FINAL verifies the Receiver reports
``EndOfStream`` and waits in WAIT_COMMIT; no ACK exists until the
application calls ``acknowledge()`` [R-7.4-14], whatever split the bytes
came in, including the whole flight E_AUTH, DATA, FINAL in one call; a
refusal (``abort(error)``) sends ABORT with that error's number, which the
Emitter reports as ``PEER_ABORTED`` naming it (§5.7, §9.3); bytes after
FINAL wait for the decision and are then bytes after completion (§9.3);
the end of the transport in WAIT_COMMIT does not fail the session (§7.5).
"""

from __future__ import annotations

import pytest

from helpers import frames_of, handshake, join, make_pair
from parley import cbor
from parley.errors import REGISTRY, ParleyError, PeerAborted
from parley.events import Acknowledged, EndOfStream, HandshakeComplete
from parley.frames import ABORT, ACK
from parley.state import State

SUITES = [1, 2]
MESSAGE = bytes(range(256)) * 3


def _complete_flight(keypairs, suite, split):
    """Both parties after the Receiver got E_AUTH, DATA and FINAL (in ``split`` pieces)."""
    e, r = make_pair(keypairs, suite, chunk=100)
    handshake(e, r)
    e.send_data(MESSAGE)
    e.end_stream()
    flight = e.data_to_send()  # E_AUTH, DATA x8, FINAL
    events = []
    for piece in split(flight):
        events += r.receive_data(piece)
    return e, r, events


SPLITS = {
    "one call": lambda b: [b],
    "frame by frame": lambda b: [join([f]) for f in frames_of(b)],
    "byte by byte": lambda b: [b[i : i + 1] for i in range(len(b))],
}


@pytest.mark.parametrize("split", SPLITS, ids=list(SPLITS))
@pytest.mark.parametrize("suite", SUITES)
def test_no_ack_before_acknowledge(keypairs, suite, split):
    e, r, events = _complete_flight(keypairs, suite, SPLITS[split])
    assert isinstance(events[0], HandshakeComplete) and isinstance(events[-1], EndOfStream)
    assert r.state is State.WAIT_COMMIT
    assert r.data_to_send() == b""  # nothing: the application has not decided
    r.acknowledge()
    assert r.state is State.DONE
    ack = r.data_to_send()
    (body,) = frames_of(ack)
    assert cbor.decode(body)[0] == ACK
    assert e.receive_data(ack) == [Acknowledged(len(MESSAGE))] and e.state is State.DONE


# A refusal's registry name; the Emitter must see the same number (§5.7).
REFUSALS = ["LIMIT_EXCEEDED", "LENGTH_MISMATCH", "SCHEMA_VIOLATION", "INTERNAL_ERROR"]


@pytest.mark.parametrize("error", REFUSALS)
@pytest.mark.parametrize("suite", SUITES)
def test_a_refusal_after_the_whole_flight_in_one_call_reaches_the_emitter(keypairs, suite, error):
    e, r, events = _complete_flight(keypairs, suite, SPLITS["one call"])
    assert isinstance(events[-1], EndOfStream)
    with pytest.raises(ParleyError) as info:
        r.abort(error, "the application refuses the message")
    assert info.value.error.name == error and r.state is State.FAILED
    (body,) = frames_of(r.data_to_send())
    assert cbor.decode(body) == {0: ABORT, 9: REGISTRY[error].number}
    with pytest.raises(PeerAborted) as told:
        e.receive_data(join([body]))
    assert told.value.peer_error.name == error and e.state is State.FAILED


@pytest.mark.parametrize("suite", SUITES)
def test_bytes_after_final_wait_for_the_decision(keypairs, suite):
    e, r = make_pair(keypairs, suite, chunk=100)
    handshake(e, r)
    e.send_data(MESSAGE)
    e.end_stream()
    flight = e.data_to_send()
    extra = join([frames_of(flight)[1]])  # DATA 0 again, after FINAL
    events = r.receive_data(flight + extra)
    assert isinstance(events[-1], EndOfStream) and r.state is State.WAIT_COMMIT
    assert r.data_to_send() == b""
    with pytest.raises(ParleyError) as info:
        r.acknowledge()
    # §9.3, last paragraph: reported, the session stays DONE, the ACK stands.
    assert info.value.error.name == "UNEXPECTED_MESSAGE" and r.state is State.DONE
    (body,) = frames_of(r.data_to_send())
    assert cbor.decode(body)[0] == ACK


@pytest.mark.parametrize("suite", SUITES)
def test_too_many_bytes_after_final_fail_before_the_decision(keypairs, suite):
    _e, r, _ = _complete_flight(keypairs, suite, SPLITS["one call"])
    with pytest.raises(ParleyError) as info:
        r.receive_data(bytes(8197))
    assert info.value.error.name == "UNEXPECTED_MESSAGE" and r.state is State.FAILED
    (body,) = frames_of(r.data_to_send())
    assert cbor.decode(body) == {0: ABORT, 9: REGISTRY["UNEXPECTED_MESSAGE"].number}


@pytest.mark.parametrize("suite", SUITES)
def test_end_of_transport_in_wait_commit_keeps_the_message(keypairs, suite):
    _e, r, _ = _complete_flight(keypairs, suite, SPLITS["one call"])
    r.receive_eof()
    assert r.state is State.WAIT_COMMIT
    r.acknowledge()
    assert r.state is State.DONE and frames_of(r.data_to_send())


@pytest.mark.parametrize("suite", SUITES)
def test_acknowledge_before_final_is_api_misuse(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    handshake(e, r)
    r.receive_data(e.data_to_send())  # E_AUTH: STREAMING
    with pytest.raises(ParleyError) as info:
        r.acknowledge()
    assert info.value.error.name == "API_MISUSE" and r.state is State.FAILED
    (body,) = frames_of(r.data_to_send())
    assert cbor.decode(body) == {0: ABORT, 9: REGISTRY["INTERNAL_ERROR"].number}

"""``Session.abort()``: the failure rule (§9.3) for errors the application (a shell) detects.

The tool's shells call it on a timeout (TIMEOUT, a local error, §13.2) or on
an application header they refuse (§14).  Checked against §9.3 and §11: the
session enters FAILED, later operations fail with the same error, an ABORT
frame carries the error's number if it is a wire error and INTERNAL_ERROR
(17) if it is local, and nothing is sent once the session was DONE.
"""

from __future__ import annotations

import pytest

from helpers import frames_of, handshake, make_pair
from parley import cbor
from parley.errors import ParleyError
from parley.events import EndOfStream
from parley.state import State


@pytest.mark.parametrize(
    "error,number",
    [("TIMEOUT", 17), ("LENGTH_MISMATCH", 13), ("SCHEMA_VIOLATION", 3), ("INTERNAL_ERROR", 17)],
)
@pytest.mark.parametrize("side", ["emitter", "receiver"])
def test_abort_applies_the_failure_rule(keypairs, side, error, number):
    e, r = make_pair(keypairs, 2)
    handshake(e, r)
    r.receive_data(e.data_to_send())  # E_AUTH: both sides are STREAMING
    session = e if side == "emitter" else r
    with pytest.raises(ParleyError) as info:
        session.abort(error, "the application gave up")
    assert info.value.error.name == error
    assert session.state is State.FAILED
    (body,) = frames_of(session.data_to_send())
    assert cbor.decode(body) == {0: 7, 9: number}  # ABORT (§5.7) with the number (§11)
    with pytest.raises(ParleyError) as again:
        session.receive_data(b"")
    assert again.value is info.value  # terminal: the same error (§9.3)
    assert session._keys is None  # data-phase keys erased (§6, §9.3)


def test_abort_after_done_sends_nothing(keypairs):
    e, r = make_pair(keypairs, 2)
    handshake(e, r)
    e.send_data(b"complete")
    e.end_stream()
    events = r.receive_data(e.data_to_send())
    assert isinstance(events[-1], EndOfStream) and r.state is State.WAIT_COMMIT
    assert r.data_to_send() == b""  # no ACK before the application acknowledges (§7.4)
    r.acknowledge()
    assert r.state is State.DONE
    ack = r.data_to_send()
    with pytest.raises(ParleyError):
        r.abort("INTERNAL_ERROR", "could not store the file")
    assert r.data_to_send() == b""
    assert r.state is State.DONE  # a completed message stays complete
    assert frames_of(ack) and cbor.decode(frames_of(ack)[0])[0] == 6

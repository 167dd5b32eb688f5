"""The state machine (§9): the one table of legal transitions.

Everything that needs to know what is legal reads ``TRANSITIONS``: the session
objects in ``connection.py``, the tests, and ``tools/specsync`` which renders the
table into §9.2 of the spec (and checks that the spec's copy is identical).
"""

from __future__ import annotations

import enum


class Role(enum.Enum):
    EMITTER = "Emitter"
    RECEIVER = "Receiver"


class State(enum.Enum):
    """§9.1."""

    START = "START"
    WAIT_R_HELLO = "WAIT_R_HELLO"
    WAIT_E_AUTH = "WAIT_E_AUTH"
    STREAMING = "STREAMING"
    WAIT_ACK = "WAIT_ACK"
    WAIT_COMMIT = "WAIT_COMMIT"
    DONE = "DONE"
    FAILED = "FAILED"


TERMINAL = frozenset({State.DONE, State.FAILED})

# (role, state, event) -> (next state, message sent or None).  §9.2.
# Events are "send X" (an operation that composes X) or "recv X" (a message of
# type X arrived).  Rows that hold in every non-terminal state are in GLOBAL_ROWS.
TRANSITIONS: dict[tuple[Role, State, str], tuple[State, str | None]] = {
    (Role.EMITTER, State.START, "send E_HELLO"): (State.WAIT_R_HELLO, "E_HELLO"),
    (Role.EMITTER, State.WAIT_R_HELLO, "recv R_HELLO"): (State.STREAMING, "E_AUTH"),
    (Role.EMITTER, State.STREAMING, "send DATA"): (State.STREAMING, "DATA"),
    (Role.EMITTER, State.STREAMING, "send FINAL"): (State.WAIT_ACK, "FINAL"),
    (Role.EMITTER, State.WAIT_ACK, "recv ACK"): (State.DONE, None),
    (Role.RECEIVER, State.START, "recv E_HELLO"): (State.WAIT_E_AUTH, "R_HELLO"),
    (Role.RECEIVER, State.WAIT_E_AUTH, "recv E_AUTH"): (State.STREAMING, None),
    (Role.RECEIVER, State.STREAMING, "recv DATA"): (State.STREAMING, None),
    (Role.RECEIVER, State.STREAMING, "recv FINAL"): (State.WAIT_COMMIT, None),
    (Role.RECEIVER, State.WAIT_COMMIT, "send ACK"): (State.DONE, "ACK"),
    # The message is complete (FINAL verified): the transport's end does not undo it (§7.5).
    (Role.RECEIVER, State.WAIT_COMMIT, "end of transport"): (State.WAIT_COMMIT, None),
}

# Rows for every role and every state that is not terminal.
GLOBAL_ROWS: dict[str, tuple[State, str | None]] = {
    "recv ABORT": (State.FAILED, None),
    "error": (State.FAILED, "ABORT"),
    "end of transport": (State.FAILED, None),
}
# Rows for the terminal state DONE.
DONE_ROWS: dict[str, tuple[State, str | None]] = {
    "end of transport": (State.DONE, None),
}


def next_state(role: Role, state: State, event: str) -> tuple[State, str | None] | None:
    """The transition for ``event`` in ``state``, or None if it is illegal there (§9.2)."""
    row = TRANSITIONS.get((role, state, event))
    if row is not None:
        return row
    if state not in TERMINAL:
        return GLOBAL_ROWS.get(event)
    if state is State.DONE:
        return DONE_ROWS.get(event)
    return None


def legal_messages(role: Role, state: State) -> frozenset[str]:
    """Message types that may arrive in ``state`` (the "recv X" events)."""
    names = {
        ev[5:] for (r, s, ev) in TRANSITIONS if r is role and s is state and ev.startswith("recv ")
    }
    if state not in TERMINAL:
        names |= {ev[5:] for ev in GLOBAL_ROWS if ev.startswith("recv ")}
    return frozenset(names)

"""The error registry (§11) and the exception hierarchy built on it.

The registry is one table: every error Parley can report has a stable symbolic
name, a number (the one carried by an ABORT frame, §5.7) and the spec section
that states the rule.  The spec's table in §11 is checked against ``REGISTRY``
by the test suite, so the two cannot drift apart.

Exception shape follows h11/h2: every exception carries its registry entry;
``RemoteProtocolError`` means the peer (or the network) broke a rule,
``LocalProtocolError`` means this side's application misused the API, and
``PeerAborted`` means the peer told us it gave up.  Library exceptions never
escape the core: they are caught at the boundary and mapped to an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    """One registry row (§11)."""

    name: str
    number: int
    section: str
    meaning: str
    wire: bool = True  # False: a local error, never sent in an ABORT frame

    def __str__(self) -> str:  # e.g. "BAD_RECORD_MAC (11, §7.4)"
        return f"{self.name} ({self.number}, {self.section})"


_ROWS = [
    # name, number, section, meaning
    (
        "DECODE_ERROR",
        1,
        "§4.2",
        "A frame is empty, is not one well-formed CBOR item of the accepted subset, or has "
        "trailing bytes.",
    ),
    (
        "NON_DETERMINISTIC_CBOR",
        2,
        "§4.2",
        "A frame is well-formed CBOR but not in deterministic encoding (non-shortest head, "
        "indefinite length, unsorted map keys).",
    ),
    (
        "SCHEMA_VIOLATION",
        3,
        "§4.3",
        "A frame's map has a missing or unknown key, or a value of the wrong type or size.",
    ),
    (
        "FRAME_TOO_LARGE",
        4,
        "§4.1",
        "A frame's declared length exceeds the limit for the current state (§10).",
    ),
    (
        "UNEXPECTED_MESSAGE",
        5,
        "§9",
        "A message arrived that is not legal in the receiver's current state.",
    ),
    ("UNSUPPORTED_VERSION", 6, "§5.2", "E_HELLO names a protocol version other than 1."),
    (
        "UNSUPPORTED_SUITE",
        7,
        "§5.2",
        "E_HELLO names an unknown suite, or a suite other than the one the Receiver's keys "
        "are for.",
    ),
    (
        "INVALID_PUBLIC_KEY",
        8,
        "§3.4",
        "An ephemeral public value is not a valid element of the suite's prime-order group.",
    ),
    (
        "KEY_CONFIRMATION_FAILED",
        9,
        "§5.3",
        "A handshake MAC (the peer's key confirmation) does not verify.",
    ),
    (
        "BAD_SIGNATURE",
        10,
        "§5.3",
        "The peer's signature does not verify under its pinned public key.",
    ),
    ("BAD_RECORD_MAC", 11, "§7.3", "A data-phase record's or the ACK's tag does not verify."),
    (
        "RECORD_OUT_OF_ORDER",
        12,
        "§7.3",
        "A record's sequence number is not the next expected one (replay, reordering, drop).",
    ),
    (
        "LENGTH_MISMATCH",
        13,
        "§7.4",
        "The FINAL record's or the ACK's total differs from the number of bytes delivered.",
    ),
    ("TRUNCATED", 14, "§7.5", "The transport ended before the session was complete."),
    (
        "LIMIT_EXCEEDED",
        15,
        "§10",
        "A record, application header or counter exceeds a limit of §10.",
    ),
    ("PEER_ABORTED", 16, "§5.7", "The peer sent an ABORT frame."),
    ("INTERNAL_ERROR", 17, "§11", "The implementation failed for a reason of its own."),
]

_LOCAL_ROWS = [
    ("KEY_FILE_INVALID", 64, "§12", "A key file is not a PEM key of the accepted formats."),
    (
        "KEY_PASSWORD_WRONG",
        65,
        "§12",
        "A private key file could not be decrypted with the given password.",
    ),
    (
        "KEY_SUITE_MISMATCH",
        66,
        "§12",
        "A key has the wrong type or size for the suite, or the two keys are for different suites.",
    ),
    (
        "API_MISUSE",
        67,
        "§9",
        "The application called an operation that is not legal in the current state.",
    ),
    ("TIMEOUT", 68, "§13.2", "A transport timeout expired (raised by shells, never by the core)."),
]

REGISTRY: dict[str, ErrorCode] = {
    name: ErrorCode(name, number, section, meaning) for name, number, section, meaning in _ROWS
}
REGISTRY.update(
    {
        name: ErrorCode(name, number, section, meaning, wire=False)
        for name, number, section, meaning in _LOCAL_ROWS
    }
)
BY_NUMBER: dict[int, ErrorCode] = {e.number: e for e in REGISTRY.values()}


def code(name: str) -> ErrorCode:
    """Registry entry by symbolic name (KeyError for an unknown name)."""
    return REGISTRY[name]


class ParleyError(Exception):
    """Base of every error Parley raises; ``.error`` is the registry entry.

    ``events`` holds the events the failing call produced before the error (the core
    attaches them, §8); empty for errors raised outside a call of the core.
    """

    def __init__(self, error: ErrorCode | str, detail: str = "") -> None:
        self.error = REGISTRY[error] if isinstance(error, str) else error
        self.detail = detail
        self.events: list = []
        super().__init__(f"{self.error.name}: {detail}" if detail else self.error.name)

    @property
    def name(self) -> str:
        return self.error.name

    @property
    def number(self) -> int:
        return self.error.number

    @property
    def section(self) -> str:
        return self.error.section


class RemoteProtocolError(ParleyError):
    """The peer's bytes broke a rule of the spec; the session is dead (§9)."""


class LocalProtocolError(ParleyError):
    """The local application misused the API; the session is dead (§9)."""

    def __init__(self, detail: str = "", error: ErrorCode | str = "API_MISUSE") -> None:
        super().__init__(error, detail)


class PeerAborted(ParleyError):
    """The peer sent ABORT with ``peer_error`` (§5.7); the session is dead."""

    def __init__(self, peer_error: ErrorCode | None, peer_number: int) -> None:
        self.peer_error = peer_error
        self.peer_number = peer_number
        told = peer_error.name if peer_error else f"unregistered code {peer_number}"
        super().__init__("PEER_ABORTED", f"the peer aborted with {told}")


class KeyFileError(ParleyError):
    """A key file or key could not be used (§12).  Never sent on the wire."""

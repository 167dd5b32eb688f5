"""Parley v1 reference implementation (spec/parley.md).

The core is sans-IO: ``Emitter`` and ``Receiver`` take bytes and return events,
and queue bytes to send.  Shells (the ``parley`` tool, the conformance
adapter) own sockets, files, clocks and the random source.
"""

from .connection import Emitter, Receiver, SessionConfig

# FixedEntropy and SeededEntropy (parley.entropy) are for tests and vectors only: they
# are not exported here, so that no application picks them up by accident (§3.5).
from .entropy import SystemEntropy
from .errors import REGISTRY, LocalProtocolError, ParleyError, PeerAborted, RemoteProtocolError
from .events import Acknowledged, Data, EndOfStream, HandshakeComplete
from .state import Role, State
from .suites import SUITE_1, SUITE_2, SUITES

__all__ = [
    "Emitter",
    "Receiver",
    "SessionConfig",
    "SystemEntropy",
    "REGISTRY",
    "LocalProtocolError",
    "ParleyError",
    "PeerAborted",
    "RemoteProtocolError",
    "Acknowledged",
    "Data",
    "EndOfStream",
    "HandshakeComplete",
    "Role",
    "State",
    "SUITE_1",
    "SUITE_2",
    "SUITES",
]
__version__ = "1.0.0"
SPEC_REVISION = "1.0"

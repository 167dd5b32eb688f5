"""Local failures: this machine, its files or its network failed, not a session (docs/tool.md).

The registry (§11) names protocol outcomes and the key-file errors of §12; a
refused connection, an unknown host, a port in use, a missing input file or
an output path the tool will not write are none of these, and reporting
them as ``INTERNAL_ERROR`` (which means a bug) misleads.  A ``LocalFailure``
carries a ``kind``; the command line maps each kind to its own exit status
(``EXIT_STATUS``, documented in docs/tool.md, "Exit status").

Inside a session a local failure still ends the session by the failure rule
(§9.3): the shell aborts the core, whose ABORT then carries
``INTERNAL_ERROR`` or the registry code the shell chose.
"""

from __future__ import annotations

#: kind -> (exit status, what it is); docs/tool.md's table is this one.
KINDS = {
    "INPUT": (3, "the input file cannot be read"),
    "OUTPUT": (3, "the output cannot be written, or is not a regular file"),
    "EXISTS": (3, "a file exists and --force was not given"),
    "CONNECTION_REFUSED": (4, "nothing listens at the address"),
    "UNKNOWN_HOST": (4, "the host name does not resolve"),
    "ADDRESS_IN_USE": (4, "the address to listen on is taken"),
    "NETWORK": (4, "another network failure"),
}


class LocalFailure(Exception):
    """A local failure of kind ``kind`` (a key of ``KINDS``), with a one-line ``detail``."""

    def __init__(self, kind: str, detail: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown local failure kind {kind!r}")
        super().__init__(detail)
        self.kind = kind
        self.detail = detail

    @property
    def exit_status(self) -> int:
        return KINDS[self.kind][0]

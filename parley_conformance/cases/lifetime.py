"""Cases on the adapter process itself (adapter §2.4), not on a session.

``adapter/lifetime/stdin-closed``: the runner starts a session, ends it with ``close``, then
closes the adapter's standard input; the adapter must exit with status 0 within the read
timeout (adapter §2.4 step 3).  An adapter that exits non-zero, is killed by a signal or
keeps running fails the case.  The next case starts a fresh adapter (adapter §5.2).
"""

from __future__ import annotations

import signal

from .. import peer as P
from . import Case, CaseContext, CaseFailure

ID = "adapter/lifetime/stdin-closed"


def _status_text(status: int) -> str:
    if status < 0:
        try:
            return f"was killed by signal {signal.Signals(-status).name}"
        except ValueError:
            return f"was killed by signal {-status}"
    return f"exited with status {status}"


def _body(ctx: CaseContext) -> None:
    client = ctx.clients[0]
    hello = ctx.hello
    if hello.roles:
        # A session first, so that the adapter has something to clean up.
        suite = hello.suites[0]
        role = hello.roles[0]
        keys = P.fixed_keyset(suite)
        own, peer = ("emitter", "receiver") if role == "emitter" else ("receiver", "emitter")
        impl = ctx.session(
            role=role,
            suite=suite,
            own_key=keys.private_pem(own),
            peer_key=keys.public_pem(peer),
            message=b"lifetime",
            chunk_size=64,
        )
        impl.start()
        impl.close()
    wait = max(0.5, min(client.read_timeout, ctx.remaining()))
    ctx.transcript.event("runner closes the adapter's standard input")
    status = client.close_stdin(wait)
    if status is None:
        raise CaseFailure(
            f"the adapter did not exit within {wait:g} s after its standard input closed "
            "(adapter §2.4 step 3: it exits with status 0); its process group was killed"
        )
    if status != 0:
        raise CaseFailure(
            f"the adapter {_status_text(status)} after its standard input closed "
            "(adapter §2.4 step 3: status 0)"
        )


def cases() -> list[Case]:
    return [
        Case(
            id=ID,
            kind="live",
            suite=0,
            role=None,
            section="adapter §2.4",
            title="the adapter exits with status 0 when its standard input closes",
            expected="exit status 0",
            body=_body,
            rules=("R-A2.4-3",),
        )
    ]

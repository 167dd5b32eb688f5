"""The application's operations in every state a session rests in (adapter §3.10, parley §9.3).

One table of states and one of operations, expanded by one generator: each case drives a
session to a state with the runner's peer, calls one operation there with a ``call``
request, and judges the reply by parley §9.3 [R-9.3-9]:

* in a live state, an operation that the table of parley §9.2 does not list fails the
  session with ``API_MISUSE``, whose ABORT carries ``INTERNAL_ERROR`` (17, a local error,
  parley §11); ``abort(error)``, legal in every live state, fails it with that error;
  either way later requests repeat the error and send nothing [R-9.3-2];
* in DONE every operation reports ``API_MISUSE`` with status ``done`` and sends nothing;
* in FAILED every operation repeats the first error and sends nothing [R-9.3-2].

The states are the ones a session rests in between two requests (adapter §3.10): the
Emitter passes through STREAMING inside one request (adapter §4.1), so its legal
``send_data`` and ``end_stream`` are the adapter's own, exercised by every complete session;
the Receiver rests in WAIT_COMMIT when it is started with ``manual_acknowledge``
(adapter §3.3): there FINAL has been reported and no ACK sent [R-7.4-14], ``acknowledge``
sends it, and the end of the transport leaves the session waiting (§9.2).  Ids are
``live/<role>/suite<N>/call-<op>-in-<state>/frame-by-frame`` (adapter §5.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from parley import ParleyError
from parley.events import Acknowledged

from .. import adapter_protocol as ap, peer as P
from . import Case, CaseContext, CaseFailure, ImplSession, check_abort, frame_types
from .live import close_quietly

MESSAGE = b"operations"

#: The states a session of each role rests in between requests, in protocol order.
STATES = {
    "emitter": ("WAIT_R_HELLO", "WAIT_ACK", "DONE", "FAILED"),
    "receiver": ("START", "WAIT_E_AUTH", "STREAMING", "WAIT_COMMIT", "DONE", "FAILED"),
}


@dataclass(frozen=True)
class Operation:
    name: str  # the case id's part
    op: str  # the call's op (adapter §3.10)
    args: dict
    role: str | None  # None: both roles
    only_in: str | None = None  # the one state where the case applies, if not all


OPERATIONS = (
    Operation("send-data", "send_data", {"data": b"late"}, "emitter"),
    Operation("send-data-empty", "send_data", {"data": b""}, "emitter"),
    Operation("end-stream", "end_stream", {}, "emitter"),
    Operation("acknowledge", "acknowledge", {}, "receiver"),
    Operation("acknowledge-after-eof", "acknowledge", {}, "receiver", "WAIT_COMMIT"),
    Operation("abort-timeout", "abort", {"error": "TIMEOUT"}, None),
    Operation("abort-bad-record-mac", "abort", {"error": "BAD_RECORD_MAC"}, None),
)


#: (role, state, op) that the table of §9.2 lists, among the states above.
LEGAL = {("receiver", "WAIT_COMMIT", "acknowledge")}


def _reach(ctx: CaseContext, suite: int, role: str, state: str):
    """A session of the implementation in ``state``, driven there by the runner's peer; and
    the peer."""
    keys = P.fixed_keyset(suite)
    other = "receiver" if role == "emitter" else "emitter"
    impl = ctx.session(
        role=role,
        suite=suite,
        own_key=keys.private_pem(role),
        peer_key=keys.public_pem(other),
        message=MESSAGE,
        chunk_size=4,
        manual_acknowledge=state == "WAIT_COMMIT",
    )
    peer = P.make_peer(
        other,
        own_key=keys.key(other),
        pinned_key=keys.key(role).public,
        seed=ctx.case.id.encode(),
        chunk_size=4,
    )
    impl.start()
    path = STATES[role]
    if state == "FAILED":
        impl.feed(P.wire(b"\xff"))  # a lone break: DECODE_ERROR (§4.2)
    elif role == "emitter" and path.index(state) >= path.index("WAIT_ACK"):
        peer.receive_data(impl.take_out())  # E_HELLO; the peer answers R_HELLO
        impl.feed(peer.data_to_send())  # the Emitter sends E_AUTH, the records, FINAL
        if state == "DONE":
            peer.receive_data(impl.take_out())  # the peer acknowledges FINAL at once
            impl.feed(peer.data_to_send())  # the ACK
    elif role == "receiver" and state != "START":
        peer.start()
        impl.feed(peer.data_to_send())  # E_HELLO
        if state != "WAIT_E_AUTH":
            peer.receive_data(impl.take_out())  # R_HELLO; the peer answers E_AUTH
            impl.feed(peer.data_to_send())
        if state in ("WAIT_COMMIT", "DONE"):
            peer.send_data(MESSAGE)
            peer.end_stream()
            impl.feed(peer.data_to_send())  # the records and FINAL; acknowledged unless manual
    want = {"DONE": "done", "FAILED": "failed"}.get(state, "running")
    if impl.status != want or (state != "FAILED" and impl.error is not None):
        raise CaseFailure(
            f"could not bring the session to {state} to call an operation there: status "
            f"{impl.status}, error {impl.error or 'none'}",
            [impl.summary()],
        )
    if state == "WAIT_COMMIT":
        sent = frame_types(bytes(impl.out))
        if impl.event("end_of_stream") is None or "ACK" in sent:
            raise CaseFailure(
                "with manual_acknowledge, FINAL must be reported as end_of_stream and no ACK "
                f"sent before the application acknowledges (§7.4); sent {', '.join(sent)}",
                [impl.summary()],
            )
    return impl, peer


def _judge(impl: ImplSession, state: str, operation: Operation, result: ap.Result, peer) -> None:
    shown = f"{operation.op} in {state}"
    got = result.error
    if (impl.role, state, operation.op) in LEGAL:
        sent = frame_types(result.out)
        if got is not None or result.status != "done" or sent != ["ACK"]:
            raise CaseFailure(
                f"{shown} gave {got or 'no error'}, status {result.status!r}, sent "
                f"{', '.join(sent) or 'nothing'}; expected the ACK alone and status done "
                "(§7.4, §9.2)",
                [impl.summary()],
            )
        try:
            acked = [e for e in peer.receive_data(result.out) if isinstance(e, Acknowledged)]
        except ParleyError as exc:
            raise CaseFailure(f"the runner's peer refused the ACK: {exc}") from None
        if not acked:
            raise CaseFailure("the runner's peer did not take the ACK as acknowledging")
        return
    if state == "FAILED":
        first = impl.error
        assert first is not None, "a FAILED session has its error"
        if got is None or (got.name, got.number) != (first.name, first.number):
            raise CaseFailure(
                f"{shown} reported {got or 'no error'}; in FAILED every operation repeats the "
                f"first error, {first} (§9.3 step 2)",
                [impl.summary()],
            )
        want_status, sends_abort = "failed", False
    elif state == "DONE":
        want_status, sends_abort = "done", False
        if got is None or got.name != "API_MISUSE":
            raise CaseFailure(
                f"{shown} reported {got or 'no error'}; in DONE an operation is API_MISUSE, "
                "and the session stays DONE (§9.3)",
                [impl.summary()],
            )
    else:
        want = operation.args["error"] if operation.op == "abort" else "API_MISUSE"
        want_status, sends_abort = "failed", True
        if got is None or got.name != want:
            raise CaseFailure(
                f"{shown} reported {got or 'no error'}; expected {want}, which fails the "
                + (
                    "session (§8: abort, §9.3)"
                    if operation.op == "abort"
                    else "session: the table of §9.2 has no such operation in this state (§9.3)"
                ),
                [impl.summary()],
            )
    if result.status != want_status:
        raise CaseFailure(
            f"{shown} left status {result.status!r}; expected {want_status!r} (§9.3)",
            [impl.summary()],
        )
    if sends_abort:
        problems = check_abort(result.out, got.name, sends_abort=True)
    elif result.out:
        problems = [f"{shown} sent {len(result.out)} bytes; an ended session sends nothing (§9.3)"]
    else:
        problems = []
    if problems:
        raise CaseFailure(problems[0], problems[1:] + [impl.summary()])
    if sends_abort:
        impl.after_end(status="failed", error=got, feed=b"\x00")


def _body(suite: int, role: str, state: str, operation: Operation):
    def body(ctx: CaseContext) -> None:
        impl, peer = _reach(ctx, suite, role, state)
        try:
            if operation.only_in:  # the end of the transport first: WAIT_COMMIT stays (§9.2)
                result = impl.eof()
                if result.error is not None or result.out or result.status != "running":
                    raise CaseFailure(
                        f"end of transport in WAIT_COMMIT gave {result.error or 'no error'}, "
                        f"status {result.status!r}, {len(result.out)} bytes sent; the session "
                        "waits for the application's acknowledgement (§9.2)",
                        [impl.summary()],
                    )
            _judge(impl, state, operation, impl.call(operation.op, **operation.args), peer)
        except CaseFailure:
            close_quietly(ctx, impl)
            raise
        impl.close()

    return body


def cases() -> list[Case]:
    out = []
    for role, states in STATES.items():
        for operation in OPERATIONS:
            if operation.role not in (None, role):
                continue
            for state in states:
                if operation.only_in not in (None, state):
                    continue
                if (role, state, operation.op) in LEGAL:
                    expect = "the ACK, status done"
                elif state == "FAILED":
                    expect = "the first error repeated, nothing sent"
                elif state == "DONE":
                    expect = "API_MISUSE, status done, nothing sent"
                elif operation.op == "abort":
                    expect = f"{operation.args['error']}, ABORT"
                else:
                    expect = "API_MISUSE, ABORT 17"
                for suite in (1, 2):
                    out.append(
                        Case(
                            id=f"live/{role}/suite{suite}/call-{operation.name}-in-"
                            f"{state.lower().replace('_', '-')}/frame-by-frame",
                            kind="live",
                            suite=suite,
                            role=role,
                            section="adapter §3.10, §8, §9.2, §9.3",
                            title=f"the application calls {operation.op} in {state}",
                            expected=expect,
                            body=_body(suite, role, state, operation),
                            rules=("R-A3.10-1", "R-9.3-9", "R-9.3-2")
                            + (("R-9.3-4", "R-11-1") if state not in ("DONE", "FAILED") else ())
                            + (("R-7.4-14", "R-A4.1-2") if state == "WAIT_COMMIT" else ()),
                        )
                    )
    return out

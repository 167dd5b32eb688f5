"""The reference implementation's conformance adapter (spec/adapter.md).

A thin stdin/stdout shell around the sans-IO core ``parley``: it reads
requests (adapter §2.2), keeps one ``Emitter`` or ``Receiver`` per session,
calls the operations of parley §8, and writes one reply per request.  It is
also the model for adapters of other implementations (adapter §6.1): framing,
a session table, key loading, injected randomness and the mapping of errors
to registry names are all there is to it.

Run it as ``python -m parley_conformance.adapters.reference_adapter``; stdout carries
only adapter messages, logs go to stderr (adapter §2.1).
"""

from __future__ import annotations

import sys

import parley
from parley import (
    Emitter,
    ParleyError,
    Receiver,
    SessionConfig,
    State,
    SystemEntropy,
    cbor,
    keys as keyfiles,
)
from parley.events import Acknowledged, Data, EndOfStream, HandshakeComplete

MAGIC = "parley-adapter"
VERSION = 1  # adapter §1.3
MAX_MESSAGE = 16 << 20  # the largest message we take in start (adapter §3.2)
MAX_REQUEST = MAX_MESSAGE + (1 << 20)


class BadRequest(Exception):
    """The request is malformed (adapter §3.9)."""


class Session:
    """One Parley session and, for the Emitter, the message it will send (adapter §4.1)."""

    def __init__(self, req: dict, key_cache: dict) -> None:
        role = req.get("role")
        if role not in ("emitter", "receiver"):
            raise BadRequest(f"role must be 'emitter' or 'receiver', got {role!r}")
        own = _private_key(req.get("own_key"), req.get("own_key_password"), key_cache)
        peer = _public_key(req.get("peer_key"), key_cache)
        draws = req.get("entropy")
        # adapter §4.4: every draw takes the next entry, whose purpose and length it checks.
        entropy = SystemEntropy() if draws is None else _Injected(draws)
        self.role = role
        emitter = role == "emitter"
        self.message = req.get("message", b"") if emitter else b""
        # adapter §3.3: with manual_acknowledge the application acknowledges by a call.
        self.manual = not emitter and req.get("manual_acknowledge") is True
        config = SessionConfig(
            own,
            peer,
            entropy,
            deterministic_signatures=bool(req.get("deterministic_signatures")),
            app_header=req.get("app_header", b"") if emitter else b"",
            chunk_size=req.get("chunk_size", 0) if emitter else 1 << 16,
        )  # refuses an own and a pinned key of different suites, and the §10 limits
        if own.suite.number != req.get("suite"):
            # adapter §3.3: keys that contradict "suite" fail the session (parley §12).
            raise ParleyError(
                "KEY_SUITE_MISMATCH",
                f"the keys are for suite {own.suite.number}, the request says suite "
                f"{req.get('suite')!r}",
            )
        self.party = Emitter(config) if role == "emitter" else Receiver(config)

    def start(self) -> list:
        if self.role == "emitter":
            self.party.start()
        return []

    def feed(self, data: bytes) -> list:
        events = self.party.receive_data(data)
        if self.role == "emitter" and any(isinstance(e, HandshakeComplete) for e in events):
            # adapter §4.1: the whole message follows E_AUTH in the same flight.
            self.party.send_data(self.message)
            self.party.end_stream()
        elif self.role == "receiver" and self.party.state is State.WAIT_COMMIT and not self.manual:
            # This application accepts every complete message at once: it acknowledges
            # at EndOfStream, in the same request (parley §7.4, §8).
            try:
                self.party.acknowledge()
            except ParleyError as exc:  # bytes after FINAL: DONE, and the error (parley §9.3)
                exc.events = events
                raise
        return events

    def eof(self) -> list:
        self.party.receive_eof()
        return []

    def call(self, req: dict) -> list:
        """An operation of the application (adapter §3.10, parley §8)."""
        op = req.get("op")
        party = {"send_data": "emitter", "end_stream": "emitter", "acknowledge": "receiver"}
        if op not in party and op != "abort":
            raise BadRequest(f"call: unknown op {op!r}")
        if party.get(op, self.role) != self.role:
            raise BadRequest(f"call: {op} is not an operation of the {self.role}")
        if op == "send_data":
            data = req.get("data")
            if not isinstance(data, bytes):
                raise BadRequest("call: send_data needs data, a byte string")
            self.party.send_data(data)
        elif op == "end_stream":
            self.party.end_stream()
        elif op == "acknowledge":
            self.party.acknowledge()
        else:
            error = req.get("error")
            if not isinstance(error, str):
                raise BadRequest("call: abort needs error, a registry name")
            self.party.abort(error)
        return []


class _Injected:
    """Injected draws (adapter §4.4): strictly in order; purpose and length must match.

    A draw the list cannot serve raises, which the session reports as INTERNAL_ERROR
    (parley §11); entries left over are ignored.
    """

    def __init__(self, draws: list) -> None:
        self._draws = list(draws)

    def draw(self, purpose: str, n: int) -> bytes:
        if not self._draws:
            raise ValueError(f"no injected value left for the {purpose!r} draw")
        entry = self._draws.pop(0)
        if not isinstance(entry, dict) or entry.get("purpose") != purpose:
            raise ValueError(f"the next injected value is not for the {purpose!r} draw")
        value = entry.get("value")
        if not isinstance(value, bytes) or len(value) != n:
            raise ValueError(f"the injected {purpose!r} value does not have {n} bytes")
        return value

    def __repr__(self) -> str:
        return "_Injected(<values>)"


class _Refused:
    """A session whose start failed (a key refused, parley §12): every request repeats it."""

    class _Party:
        def __init__(self, exc: ParleyError) -> None:
            self.error = exc
            self.state = type("S", (), {"value": "FAILED"})()

        def data_to_send(self) -> bytes:
            return b""

    def __init__(self, exc: ParleyError) -> None:
        self.party = self._Party(exc)

    def _fail(self) -> list:
        raise self.party.error

    def start(self) -> list:
        self.party.error.events = []
        return self._fail()

    def feed(self, data: bytes) -> list:
        return self._fail()

    def eof(self) -> list:
        return self._fail()

    def call(self, req: dict) -> list:
        return self._fail()


def _private_key(pem, password, cache: dict):
    if not isinstance(pem, str):
        raise BadRequest("own_key must be a PEM text string")
    if password is not None and not isinstance(password, bytes):
        raise BadRequest("own_key_password must be a byte string")
    if (pem, password) not in cache:
        cache[pem, password] = keyfiles.load_private_key(pem.encode(), password)
    return cache[pem, password]


def _public_key(pem, cache: dict):
    if not isinstance(pem, str):
        raise BadRequest("peer_key must be a PEM text string")
    if pem not in cache:
        cache[pem] = keyfiles.load_public_key(pem.encode())
    return cache[pem]


def _result(req: dict, session: Session, call) -> dict:
    """Run one operation and build the result reply (adapter §3.7)."""
    error = None
    ended = getattr(session.party, "error", None) is not None  # the error is a repeat
    try:
        events = call()
    except ParleyError as exc:
        # The events of the request that failed; a later request repeats the error only
        # (adapter §3.7): nothing is released or reported twice.
        events = [] if ended else getattr(exc, "events", [])
        error = {"name": exc.error.name, "number": exc.error.number, "detail": exc.detail}
    released = b"".join(e.data for e in events if isinstance(e, Data))
    reported = []
    for e in events:
        if isinstance(e, HandshakeComplete):
            reported.append(
                {
                    "type": "handshake_complete",
                    "transcript_hash": e.transcript_hash,
                    "app_header": e.app_header,
                }
            )
        elif isinstance(e, EndOfStream):
            reported.append({"type": "end_of_stream", "total": e.total})
        elif isinstance(e, Acknowledged):
            reported.append({"type": "acknowledged", "total": e.total})
    state = session.party.state.value
    status = {"DONE": "done", "FAILED": "failed"}.get(state, "running")
    return {
        "type": "result",
        "id": req["id"],
        "session": req["session"],
        "out": session.party.data_to_send(),
        "released": released,
        "events": reported,
        "status": status,
        "error": error,
    }


class Adapter:
    """The request dispatcher (adapter §3.1)."""

    def __init__(self) -> None:
        self.sessions: dict[int, Session] = {}
        self.key_cache: dict[object, object] = {}

    def hello(self) -> dict:
        return {
            "type": "hello",
            "magic": MAGIC,
            "version": VERSION,
            "implementation": f"parley-reference {parley.__version__} (Python)",
            "roles": ["emitter", "receiver"],
            "suites": [1, 2],
            "injected_randomness": True,
            "deterministic_signatures": True,
            "max_message": MAX_MESSAGE,
            "encrypted_keys": True,
            "operations": True,
        }

    def handle(self, req: dict) -> dict:
        rid = req.get("id")
        try:
            kind = req.get("type")
            if kind == "start":
                if req.get("session") in self.sessions:
                    raise BadRequest(f"session {req.get('session')!r} already exists")
                try:
                    session = Session(req, self.key_cache)
                except ParleyError as exc:
                    # A key the reference refuses (parley §12) fails the session: a result
                    # with the KEY_* error, repeated on later requests (adapter §3.3).
                    session = _Refused(exc)
                self.sessions[req["session"]] = session
                return _result(req, session, session.start)
            if kind == "close":
                self.sessions.pop(req.get("session"), None)
                return {"type": "closed", "id": rid, "session": req.get("session")}
            if kind in ("feed", "eof", "call"):
                session = self.sessions.get(req.get("session"))
                if session is None:
                    return {
                        "type": "error",
                        "id": rid,
                        "code": "unknown_session",
                        "message": f"no session {req.get('session')!r}",
                    }
                if kind == "feed":
                    data = req.get("data")
                    if not isinstance(data, bytes):
                        raise BadRequest("feed: data must be a byte string")
                    return _result(req, session, lambda: session.feed(data))
                if kind == "call":
                    return _result(req, session, lambda: session.call(req))
                return _result(req, session, session.eof)
            raise BadRequest(f"unknown request type {kind!r}")
        except BadRequest as exc:
            return {"type": "error", "id": rid, "code": "bad_request", "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - never die on a request; say what went wrong
            return {
                "type": "error",
                "id": rid,
                "code": "internal",
                "message": f"{type(exc).__name__}: {exc}",
            }


def read_exact(stream, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve(stdin, stdout, adapter: Adapter | None = None) -> int:
    """The main loop (adapter §2.4): hello, then one reply per request until end of input."""
    adapter = adapter or Adapter()

    def write(msg: dict) -> None:
        body = cbor.encode(msg)
        stdout.write(len(body).to_bytes(4, "big") + body)
        stdout.flush()

    write(adapter.hello())
    while True:
        head = read_exact(stdin, 4)
        if head is None:
            return 0
        n = int.from_bytes(head, "big")
        if not 0 < n <= MAX_REQUEST:
            print(f"reference adapter: request length {n} refused", file=sys.stderr)
            return 1
        body = read_exact(stdin, n)
        if body is None:
            return 0
        try:
            req = cbor.decode(body, max_depth=3, max_items=64)
            if not isinstance(req, dict):
                raise ValueError("request is not a map")
        except (cbor.CBORError, ValueError) as exc:
            write({"type": "error", "id": None, "code": "bad_request", "message": str(exc)})
            continue
        write(adapter.handle(req))


def main() -> int:
    return serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    sys.exit(main())

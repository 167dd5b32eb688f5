"""The adapter protocol (spec/adapter.md): framing, encoding and message checks.

Messages are ``u32(L) ‖ body`` with one deterministic CBOR map per body
(adapter §2.2, adapter §2.3), encoded and decoded with ``parley.cbor``.  This
module builds requests and checks replies field by field, turning anything an
adapter gets wrong into an :class:`AdapterProtocolError` whose message says
what was wrong and where the spec says how it should be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley import cbor
from parley.errors import BY_NUMBER, REGISTRY

MAGIC = "parley-adapter"
VERSION = 1  # adapter §1.3
LENGTH_PREFIX = 4  # adapter §2.2
MAX_DEPTH = 3  # adapter §2.3
MAX_ITEMS = 64  # adapter §2.3
DEFAULT_MAX_REPLY = 16 << 20  # adapter §5.4

ROLES = ("emitter", "receiver")
STATUSES = ("running", "done", "failed")
EVENT_TYPES = ("handshake_complete", "end_of_stream", "acknowledged")
ERROR_CODES = ("bad_request", "unknown_session", "internal")


class AdapterProtocolError(Exception):
    """The adapter broke the adapter protocol (adapter §5.2); ``raw`` holds offending bytes."""

    def __init__(self, message: str, raw: bytes = b"") -> None:
        super().__init__(message)
        self.raw = raw


def frame(body: bytes) -> bytes:
    """Length-prefix one message body (adapter §2.2)."""
    return len(body).to_bytes(LENGTH_PREFIX, "big") + body


def encode(message: dict) -> bytes:
    """One framed message in the deterministic encoding (adapter §2.3)."""
    return frame(cbor.encode(message))


def decode(body: bytes) -> dict:
    """Decode one message body; AdapterProtocolError if it is not a CBOR map (adapter §2.3)."""
    try:
        item = cbor.decode(body, max_depth=MAX_DEPTH, max_items=MAX_ITEMS)
    except cbor.CBORError as exc:
        if exc.kind == cbor.NON_DETERMINISTIC:
            # Valid CBOR, only not in the deterministic encoding: say so (not "not valid CBOR").
            raise AdapterProtocolError(
                f"message body is well-formed CBOR but not in the deterministic encoding: {exc} "
                "(adapter §2.3: use the deterministic encoding; map keys sorted by their "
                "encoded bytes, so shorter keys first)",
                body[:64],
            ) from None
        raise AdapterProtocolError(
            f"message body is not valid CBOR for the adapter protocol: {exc}", body[:64]
        ) from None
    if not isinstance(item, dict):
        raise AdapterProtocolError(
            f"message body is a CBOR {type(item).__name__}, not a map (adapter §2.3)", body[:64]
        )
    if not isinstance(item.get("type"), str):
        raise AdapterProtocolError('message has no text "type" key (adapter §2.3)', body[:64])
    return item


def describe_bytes(raw: bytes, limit: int = 80) -> str:
    """A short human rendering of unknown bytes: text if it looks like text, else hex."""
    head = raw[:limit]
    more = "…" if len(raw) > limit else ""
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable >= 0.9 * len(head):
        return repr(head.decode("latin-1")) + more + " (looks like text)"
    return head.hex() + more


# -- requests (adapter §3.3 to adapter §3.6) ---------------------------------------------


def start_request(
    rid: int,
    session: int,
    *,
    role: str,
    suite: int,
    own_key: str,
    peer_key: str,
    entropy: list[tuple[str, bytes]] | None,
    deterministic_signatures: bool,
    app_header: bytes = b"",
    message: bytes = b"",
    chunk_size: int = 0,
    own_key_password: bytes | None = None,
    manual_acknowledge: bool = False,
) -> dict:
    extra: dict = {} if own_key_password is None else {"own_key_password": own_key_password}
    if manual_acknowledge:
        extra["manual_acknowledge"] = True
    return extra | {
        "type": "start",
        "id": rid,
        "session": session,
        "role": role,
        "suite": suite,
        "own_key": own_key,
        "peer_key": peer_key,
        "entropy": None if entropy is None else [{"purpose": p, "value": v} for p, v in entropy],
        "deterministic_signatures": deterministic_signatures,
        "app_header": app_header if role == "emitter" else b"",
        "message": message if role == "emitter" else b"",
        "chunk_size": chunk_size if role == "emitter" else 0,
    }


def call_request(rid: int, session: int, op: str, **args: object) -> dict:
    """An operation of the application (adapter §3.10): ``data`` for send_data, ``error`` for
    abort."""
    return {"type": "call", "id": rid, "session": session, "op": op, **args}


def feed_request(rid: int, session: int, data: bytes) -> dict:
    return {"type": "feed", "id": rid, "session": session, "data": data}


def eof_request(rid: int, session: int) -> dict:
    return {"type": "eof", "id": rid, "session": session}


def close_request(rid: int, session: int) -> dict:
    return {"type": "close", "id": rid, "session": session}


# -- replies (adapter §3.2, adapter §3.7 to adapter §3.9) ------------------------------------------


@dataclass(frozen=True)
class Hello:
    """The adapter's announcement (adapter §3.2)."""

    implementation: str
    roles: tuple[str, ...]
    suites: tuple[int, ...]
    injected_randomness: bool
    deterministic_signatures: bool
    max_message: int
    encrypted_keys: bool = False  # optional (adapter §3.2): reads ENCRYPTED PRIVATE KEY
    operations: bool = False  # optional (adapter §3.2): takes call requests (adapter §3.10)


@dataclass(frozen=True)
class ErrorInfo:
    """A registry error as reported by the adapter (adapter §3.7, adapter §4.3)."""

    name: str
    number: int
    detail: str = ""

    def __str__(self) -> str:
        entry = REGISTRY.get(self.name)
        sec = f", {entry.section}" if entry else ""
        return f"{self.name} ({self.number}{sec})"

    def registry_problem(self) -> str | None:
        """Why name and number do not form a registry entry (parley §11), or None."""
        entry = REGISTRY.get(self.name)
        if entry is None:
            known = BY_NUMBER.get(self.number)
            hint = f"; number {self.number} is {known.name}" if known else ""
            return f"error name {self.name!r} is not in the registry (parley §11){hint}"
        if entry.number != self.number:
            return (
                f"error {self.name} reported with number {self.number}; "
                f"the registry number is {entry.number} (parley §11)"
            )
        return None


@dataclass
class Result:
    """The reply to start, feed and eof (adapter §3.7)."""

    out: bytes
    released: bytes
    events: list[dict]
    status: str
    error: ErrorInfo | None
    raw: dict = field(default_factory=dict, repr=False)


class Unsupported(Exception):
    """The adapter answered ``unsupported`` (adapter §3.8)."""


class AdapterErrorReply(Exception):
    """The adapter answered ``error`` (adapter §3.9); ``code`` is its error code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _want(msg: dict, key: str, kind, what: str) -> object:
    if key not in msg:
        raise AdapterProtocolError(f'{msg.get("type")} message lacks "{key}" ({what})')
    value = msg[key]
    ok = (
        isinstance(value, kind)
        and not (kind is int and isinstance(value, bool))
        and not (kind is int and value < 0)
    )
    if not ok:
        raise AdapterProtocolError(
            f'{msg.get("type")} message: "{key}" must be '
            f"{_kind_name(kind)}, got {type(value).__name__} ({what})"
        )
    return value


def _kind_name(kind) -> str:
    return {
        int: "a uint",
        bytes: "a byte string",
        str: "a text string",
        bool: "a bool",
        list: "an array",
        dict: "a map",
    }.get(kind, str(kind))


def parse_hello(msg: dict) -> Hello:
    """Check the first message (adapter §3.2)."""
    if msg.get("type") != "hello":
        raise AdapterProtocolError(
            f'the first message must be "hello", got {msg.get("type")!r} (adapter §2.4)'
        )
    where = "adapter §3.2"
    if msg.get("magic") != MAGIC:
        raise AdapterProtocolError(
            f'hello: "magic" must be {MAGIC!r}, got {msg.get("magic")!r} ({where})'
        )
    version = _want(msg, "version", int, where)
    if version != VERSION:
        raise AdapterProtocolError(
            f"hello: adapter protocol version {version}; this runner "
            f"speaks version {VERSION} (adapter §1.3)"
        )
    roles = _want(msg, "roles", list, where)
    suites = _want(msg, "suites", list, where)
    if not all(r in ROLES for r in roles):
        raise AdapterProtocolError(
            f'hello: "roles" must hold "emitter"/"receiver", got {roles!r} ({where})'
        )
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in suites):
        raise AdapterProtocolError(f'hello: "suites" must hold uints, got {suites!r} ({where})')
    return Hello(
        implementation=str(msg.get("implementation", "?")),
        roles=tuple(roles),
        suites=tuple(suites),
        injected_randomness=_want(msg, "injected_randomness", bool, where),
        deterministic_signatures=_want(msg, "deterministic_signatures", bool, where),
        max_message=_want(msg, "max_message", int, where),
        encrypted_keys=_optional_bool(msg, "encrypted_keys", where),
        operations=_optional_bool(msg, "operations", where),
    )


def _optional_bool(msg: dict, key: str, where: str) -> bool:
    """An optional flag of ``hello`` (adapter §3.2): absent means false."""
    return bool(_want(msg, key, bool, where)) if key in msg else False


def check_reply_id(msg: dict, rid: int) -> None:
    """One reply per request, in order (adapter §3.1)."""
    got = msg.get("id")
    if msg.get("type") == "error" and got is None:
        return
    if got != rid:
        raise AdapterProtocolError(
            f'reply "id" is {got!r}, the request\'s id is {rid} '
            "(adapter §3.1: exactly one reply per request, in order)"
        )


def parse_result(msg: dict, rid: int, session: int | None = None) -> Result:
    """Check a reply to start/feed/eof (adapter §3.7); raise for unsupported/error replies.

    ``session``: the request's session id, which a result must echo [R-A3.7-2].
    """
    check_reply_id(msg, rid)
    kind = msg["type"]
    if kind == "unsupported":
        raise Unsupported(str(msg.get("reason", "")))
    if kind == "error":
        raise AdapterErrorReply(
            f"{msg.get('code', '?')}: {msg.get('message', '')}", str(msg.get("code", ""))
        )
    if kind != "result":
        raise AdapterProtocolError(f'expected a "result" reply, got {kind!r} (adapter §3.1)')
    where = "adapter §3.7"
    if session is not None and msg.get("session") != session:
        raise AdapterProtocolError(
            f'result: "session" is {msg.get("session")!r}, the request\'s session is '
            f"{session} ({where}: a result echoes the request's session)"
        )
    out = _want(msg, "out", bytes, where)
    released = _want(msg, "released", bytes, where)
    events = _want(msg, "events", list, where)
    for ev in events:
        if not isinstance(ev, dict) or ev.get("type") not in EVENT_TYPES:
            raise AdapterProtocolError(f"result: unknown event {ev!r} (adapter §4.2)")
        if ev["type"] == "handshake_complete":
            _want(ev, "transcript_hash", bytes, "adapter §4.2")
            _want(ev, "app_header", bytes, "adapter §4.2")
        else:
            _want(ev, "total", int, "adapter §4.2")
    status = _want(msg, "status", str, where)
    if status not in STATUSES:
        raise AdapterProtocolError(
            f'result: "status" must be one of {", ".join(STATUSES)}, got {status!r} ({where})'
        )
    if "error" not in msg:
        raise AdapterProtocolError(f'result message lacks "error" (null when none; {where})')
    err = msg["error"]
    info = None
    if err is not None:
        if not isinstance(err, dict):
            raise AdapterProtocolError(f'result: "error" must be null or a map ({where})')
        name = _want(err, "name", str, where)
        number = _want(err, "number", int, where)
        # adapter §3.7: "detail" is optional: absent (or null) when not given, else text.
        detail = err.get("detail")
        if detail is not None and not isinstance(detail, str):
            raise AdapterProtocolError(
                f'result: error "detail" must be text, or absent, got '
                f"{type(detail).__name__} ({where})"
            )
        info = ErrorInfo(name, number, detail or "")
    if status == "failed" and info is None:
        raise AdapterProtocolError(f'result: status "failed" without an "error" ({where})')
    return Result(out, released, events, status, info, msg)


def parse_closed(msg: dict, rid: int) -> None:
    """The reply to close (adapter §3.6)."""
    check_reply_id(msg, rid)
    if msg["type"] == "error":
        raise AdapterErrorReply(f"{msg.get('code', '?')}: {msg.get('message', '')}")
    if msg["type"] != "closed":
        raise AdapterProtocolError(
            f'expected "closed" in reply to close, got {msg["type"]!r} (adapter §3.6)'
        )

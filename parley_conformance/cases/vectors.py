"""Vector cases: the runner plays the peer from the test vectors (vectors/README.md).

With an implementation that takes injected randomness and signs with RFC 6979
nonces (adapter §4.4), a vector is replayed exactly: the implementation gets
the vector's draws and keys, is fed the frames of the other direction one by
one, and every frame it sends must equal the vector's ``wire`` bytes.  A
negative vector must then fail with ``expected.error`` on frame
``expected.atFrame`` (or at end of transport), having released no more than
``expected.maxReleased`` and sent nothing but ABORT.

Without those capabilities the frames the implementation receives cannot be
the vector's (they depend on its own random values), so:

* a positive vector runs live (``parley_conformance.cases.live``) with the vector's
  keys, header, message and chunk size, and the implementation's frames are
  compared semantically (types, lengths, and every field that does not depend
  on randomness);
* a negative vector is replayed if the frames it needs do not depend on the
  implementation's randomness (for example a bad E_HELLO, or a structural
  error), and is UNSUPPORTED otherwise: the live cases cover the same attacks.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

from parley import cbor, frames as F
from parley.errors import REGISTRY

from .. import peer as P
from ..rules import vector_rules
from . import (
    Case,
    CaseContext,
    CaseFailure,
    CaseUnsupported,
    check_abort,
    frame_type,
    frame_types,
    slug,
)
from .live import Complete, Scenario, _Live, close_quietly, run_and_judge

SESSIONS = "parley_v1_sessions.json"
NEGATIVE = "parley_v1_negative.json"
DIRECTION = {"emitter": "E->R", "receiver": "R->E"}
# Errors a recipient detects from the frame alone, whatever the session's keys (§4, §9).
STRUCTURAL = {
    "DECODE_ERROR",
    "NON_DETERMINISTIC_CBOR",
    "SCHEMA_VIOLATION",
    "FRAME_TOO_LARGE",
    "UNEXPECTED_MESSAGE",
    "PEER_ABORTED",
    "TRUNCATED",
    "UNSUPPORTED_VERSION",
    "UNSUPPORTED_SUITE",
    "INVALID_PUBLIC_KEY",
    "LIMIT_EXCEEDED",
}


def vector_locations(explicit: str | None = None) -> list[tuple[str, Path]]:
    """Where the vectors are looked for, in order, each with how to name it to the user.

    ``--vectors DIR`` or ``$PARLEY_VECTORS`` is the only place looked at when given.  Otherwise:
    the copy installed with the package (a wheel ships ``vectors/`` as
    ``parley_conformance/vectors``), then the ``vectors/`` of the source checkout that holds
    this package (an editable install, or running from the checkout).  The current directory is
    not looked at: a stray ``./vectors`` must not change what is tested.
    """
    if explicit:
        return [("--vectors", Path(explicit))]
    if os.environ.get("PARLEY_VECTORS"):
        return [("$PARLEY_VECTORS", Path(os.environ["PARLEY_VECTORS"]))]
    out: list[tuple[str, Path]] = []
    installed = resources.files("parley_conformance") / "vectors"
    if isinstance(installed, Path):
        out.append(("the installed package", installed))
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():
        out.append(("the source checkout", root / "vectors"))
    return out


def find_vectors(explicit: str | None = None) -> Path | None:
    """The first of ``vector_locations(explicit)`` that holds both vector files, or None."""
    for _, c in vector_locations(explicit):
        if (c / SESSIONS).is_file() and (c / NEGATIVE).is_file():
            return c
    return None


def _kebab(flag: str) -> str:
    return slug(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", flag))


def _keyset(group: dict) -> P.KeySet:
    return P.KeySet(
        group["suite"],
        {
            "emitter": group["emitterKey"]["pkcs8Pem"],
            "receiver": group["receiverKey"]["pkcs8Pem"],
            "other": group["otherKey"]["pkcs8Pem"],
        },
    )


def _sections(test: dict, error: str | None) -> str:
    secs = re.findall(r"§[0-9.]+[0-9]", test.get("comment", ""))
    if error:
        secs.append(REGISTRY[error].section)
    secs = list(dict.fromkeys(secs)) or ["§5", "§7"]
    return ", ".join(secs)


def cases(folder: Path) -> list[Case]:
    """Every vector case of the two files in ``folder``."""
    out: list[Case] = []
    sessions = json.loads((folder / SESSIONS).read_text())
    notes = sessions.get("notes", {})
    for group in sessions["testGroups"]:
        keys = _keyset(group)
        for test in group["tests"]:
            for role in ("emitter", "receiver"):
                name = _kebab(test["flags"][0]) if test["flags"] else "session"
                out.append(
                    Case(
                        id=f"vector/positive/suite{group['suite']}/tc{test['tcId']}-{name}/{role}",
                        kind="vector",
                        suite=group["suite"],
                        role=role,
                        section=_sections(test, None),
                        title=f"tcId {test['tcId']}: {test['comment']}",
                        info=_info(test, notes),
                        expected=(
                            "completes with the vector's frames byte for byte, TH_4 "
                            f"{test['transcriptHash'][:16]}…, {len(test['delivered']) // 2} "
                            "bytes delivered and acknowledged"
                        ),
                        body=_positive_body(group, keys, test, role),
                        rules=vector_rules(test, False, group["suite"]),
                    )
                )
    negative = json.loads((folder / NEGATIVE).read_text())
    notes = negative.get("notes", {})
    for group in negative["testGroups"]:
        keys = _keyset(group)
        for test in group["tests"]:
            exp = test["expected"]
            name = _kebab(test["flags"][0]) if test["flags"] else slug(exp["error"])
            where = "at end of transport" if exp.get("eof") else f"on frame {exp['atFrame']}"
            out.append(
                Case(
                    id=f"vector/negative/suite{group['suite']}/tc{test['tcId']}-{name}",
                    kind="vector",
                    suite=group["suite"],
                    role=exp["detectedBy"],
                    section=_sections(test, exp["error"]),
                    title=f"tcId {test['tcId']}: {test['comment']}",
                    info=_info(test, notes),
                    expected=(
                        f"the {exp['detectedBy']} fails with {exp['error']} ({exp['number']}) "
                        f"{where}, releasing at most {len(exp['maxReleased']) // 2} bytes"
                    ),
                    body=_negative_body(group, keys, test),
                    rules=vector_rules(test, True, group["suite"]),
                )
            )
    return out


def _info(test: dict, notes: dict) -> dict[str, str]:
    """What the vector file says about a test, for reports: its comment, and per flag the
    description, the kind of bug and its effect (vectors/README.md), and the mutation."""
    info = {"vector": f"tcId {test['tcId']}", "comment": test.get("comment", "")}
    flags = [f for f in test.get("flags", []) if isinstance(notes.get(f), dict)]
    if test.get("flags"):
        info["flags"] = ", ".join(test["flags"])
    for key in ("description", "bugType", "effect"):
        values = [str(notes[f][key]) for f in flags if notes[f].get(key)]
        if values:
            info[key] = " / ".join(dict.fromkeys(values))
    if test.get("mutation"):
        info["mutation"] = str(test["mutation"])
    return info


def _exact(ctx: CaseContext) -> bool:
    hello = ctx.hello
    return hello.injected_randomness and hello.deterministic_signatures


def _start(ctx: CaseContext, group: dict, keys: P.KeySet, test: dict, role: str, exact: bool):
    other = "receiver" if role == "emitter" else "emitter"
    entropy = None
    if exact:
        entropy = [(d["purpose"], bytes.fromhex(d["value"])) for d in test["entropy"][role]]
    impl = ctx.session(
        role=role,
        suite=group["suite"],
        own_key=keys.private_pem(role),
        peer_key=keys.public_pem(other),
        entropy=entropy,
        deterministic_signatures=exact,
        app_header=bytes.fromhex(test["appHeader"]),
        message=bytes.fromhex(test["message"]),
        chunk_size=test["chunkSize"],
    )
    impl.start()
    if impl.error is not None:
        raise CaseFailure(f"the implementation failed at start with {impl.error}", [impl.summary()])
    return impl


# -- comparing frames ---------------------------------------------------------------


class _Outbox:
    """What the implementation sent and the runner has not matched yet."""

    def __init__(self, impl) -> None:
        self.impl = impl
        self.buf = b""

    def pull(self) -> None:
        self.buf += self.impl.take_out()

    def expect_exact(self, index: int, f: dict) -> None:
        self.pull()
        want = bytes.fromhex(f["wire"])
        got = self.buf[: len(want)]
        if got == want:
            self.buf = self.buf[len(want) :]
            return
        if not self.buf:
            raise CaseFailure(
                f"frame {index} ({f['type']}) was due from the implementation, which sent nothing",
                [self.impl.summary()],
            )
        raise CaseFailure(
            f"frame {index} ({f['type']}) differs from the vector's wire bytes",
            _frame_diff(self.buf, want)
            + [
                "with injected randomness and RFC 6979 signatures every frame must "
                "equal the vector byte for byte (vectors/README.md)"
            ],
            frames=(want, _next_frame(self.buf) or self.buf[: len(want) + 64]),
        )

    def expect_like(self, index: int, f: dict) -> None:
        """Semantic check: one frame of the same type and, where fixed, the same length."""
        self.pull()
        got = _next_frame(self.buf)
        if got is None:
            raise CaseFailure(
                f"frame {index} ({f['type']}) was due from the implementation, which "
                f"sent {'nothing' if not self.buf else 'an incomplete frame'}",
                [self.impl.summary()],
            )
        self.buf = self.buf[len(got) :]
        want = bytes.fromhex(f["wire"])
        problems = _semantic_diff(got, want, f["type"])
        if problems:
            raise CaseFailure(
                f"frame {index} ({f['type']}): {problems[0]}", problems[1:], frames=(want, got)
            )

    def extra(self) -> list[str]:
        self.pull()
        return frame_types(self.buf)


def _next_frame(buf: bytes) -> bytes | None:
    if len(buf) < 4:
        return None
    n = int.from_bytes(buf[:4], "big")
    return buf[: 4 + n] if len(buf) >= 4 + n else None


def _fields(wire: bytes):
    try:
        item = cbor.decode(wire[4:], max_depth=2, max_items=16)
        return item if isinstance(item, dict) else None
    except cbor.CBORError:
        return None


FIELD_NAMES = {
    0: "type",
    1: "version",
    2: "suite",
    3: "sid",
    4: "public value",
    5: "ciphertext",
    6: "MAC/tag",
    7: "seq",
    8: "total",
    9: "error",
}


# Where to look when a field differs from the vector: (message type, key) -> the computation.
HINTS = {
    ("E_HELLO", 3): "sid_e is the first injected draw (§3.5)",
    (
        "E_HELLO",
        4,
    ): "g_e = g^x from the injected ephemeral draw, redrawn if out of range (§3.4, §3.5)",
    ("R_HELLO", 3): "sid_r is the first injected draw (§3.5)",
    ("R_HELLO", 4): "g_r from the injected ephemeral draw (§3.4, §3.5)",
    ("R_HELLO", 5): "c_r: sig_r over SigInput (§5.5) with RFC 6979 nonces (§3.3), encrypted with "
    "K_R (§6); compare with the vector's intermediates SigInput(receiver), k, K_R",
    ("R_HELLO", 6): "mac_r = HMAC(MK_R, TH_2 ‖ c_r): check TH_2 (§5.6), PRK and MK_R (§6)",
    ("E_AUTH", 5): "c_e: sig_e over SigInput (§5.5) ‖ app_header, encrypted with K_E (§6)",
    ("E_AUTH", 6): "mac_e = HMAC(MK_E, TH_3 ‖ c_e): check TH_3 (§5.6) and MK_E (§6)",
    ("DATA", 5): "ct = AES-256-CTR(K_data, CB(seq), P): check TH_4, K_data (§6) and CB (§7.2)",
    ("DATA", 6): "tag over MacInput(4, seq, offset, ct) with MK_data: check MacInput and AD (§7.1)",
    ("FINAL", 6): 'tag_f over MacInput(5, seq, total, "") with MK_data (§7.4)',
    ("ACK", 6): "tag_a over MacInput(6, seq, total, tag_f) with MK_ack (§7.4)",
}


def _frame_diff(got_stream: bytes, want: bytes) -> list[str]:
    got = _next_frame(got_stream) or got_stream[: len(want) + 64]
    lines = [
        f"expected {len(want)} bytes ({frame_type(want[4:])}), got "
        f"{len(got)} bytes ({frame_type(got[4:]) if len(got) > 4 else 'partial'})"
    ]
    fw, fg = _fields(want), _fields(got)
    if fw is not None and fg is not None:
        for k in sorted(set(fw) | set(fg)):
            if fw.get(k) != fg.get(k):
                lines.append(
                    f"field {k} ({FIELD_NAMES.get(k, '?')}) differs: expected "
                    f"{_short(fw.get(k))}, got {_short(fg.get(k))}"
                )
                hint = HINTS.get((frame_type(want[4:]), k))
                if hint:
                    lines.append(f"  hint: {hint}")
    else:
        i = next(
            (j for j in range(min(len(got), len(want))) if got[j] != want[j]),
            min(len(got), len(want)),
        )
        lines.append(f"first difference at byte {i} of the frame")
    lines.append(f"expected {want[:48].hex()}{'…' if len(want) > 48 else ''}")
    lines.append(f"got      {got[:48].hex()}{'…' if len(got) > 48 else ''}")
    return lines


def _short(v) -> str:
    if isinstance(v, bytes):
        return f"h'{v[:16].hex()}{'…' if len(v) > 16 else ''}' ({len(v)} bytes)"
    return repr(v)


def _semantic_diff(got: bytes, want: bytes, type_name: str) -> list[str]:
    gt = frame_type(got[4:])
    if gt != type_name:
        return [f"the implementation sent {gt}, the vector has {type_name}"]
    fg, fw = _fields(got), _fields(want)
    if fg is None or fw is None:
        return ["the frame does not decode"]
    problems = []
    if set(fg) != set(fw):
        problems.append(f"keys {sorted(fg)} differ from the vector's {sorted(fw)}")
    for k in (1, 2, 7, 8, 9):  # version, suite, seq, total, error: independent of randomness
        if k in fw and fg.get(k) != fw[k]:
            problems.append(
                f"field {k} ({FIELD_NAMES[k]}) is {fg.get(k)!r}, the vector has {fw[k]!r}"
            )
    for k in (3, 4, 5, 6):  # fixed lengths: sid, public value, ciphertext, MAC
        if k in fw and isinstance(fg.get(k), bytes) and len(fg[k]) != len(fw[k]):
            problems.append(
                f"field {k} ({FIELD_NAMES[k]}) has {len(fg[k])} bytes, the vector's "
                f"has {len(fw[k])}"
            )
    return problems


# -- positive vectors ---------------------------------------------------------------


def _positive_body(group: dict, keys: P.KeySet, test: dict, role: str):
    def body(ctx: CaseContext) -> None:
        if _exact(ctx):
            _positive_exact(ctx, group, keys, test, role)
        else:
            _positive_semantic(ctx, group, keys, test, role)

    return body


def _positive_exact(ctx, group, keys, test, role) -> None:
    impl = _start(ctx, group, keys, test, role, exact=True)
    mine = DIRECTION[role]
    out = _Outbox(impl)
    try:
        for f in test["frames"]:
            if f["direction"] == mine:
                out.expect_exact(f["index"], f)
            else:
                impl.feed(bytes.fromhex(f["wire"]))
                if impl.error is not None:
                    raise CaseFailure(
                        f"failed with {impl.error} on frame {f['index']} "
                        f"({f['type']}) of a valid session",
                        ([f"detail: {impl.error.detail}"] if impl.error.detail else [])
                        + [
                            "the frame is valid: compare each step of your check "
                            "with the vector's intermediates (vectors/README.md)",
                            impl.summary(),
                        ],
                    )
        extra = out.extra()
        if extra:
            raise CaseFailure(f"sent more than the vector: {', '.join(extra)}", [impl.summary()])
        _check_positive_end(impl, test, role)
    except CaseFailure:
        close_quietly(ctx, impl)
        raise
    impl.close()


def _check_positive_end(impl, test: dict, role: str) -> None:
    problems = []
    if impl.status != "done":
        problems.append(f"status {impl.status!r} at the end of a valid session; expected 'done'")
    hs = impl.event("handshake_complete")
    th = bytes.fromhex(test["transcriptHash"])
    if hs is None:
        problems.append("no handshake_complete event (adapter §4.2)")
    elif hs["transcript_hash"] == b"":
        impl.ctx.warn(
            "handshake_complete carries an empty transcript_hash: TH_4 is not exposed "
            "(§5.6 SHOULD [R-5.6-1])"
        )
    elif hs["transcript_hash"] != th:
        problems.append(f"TH_4 is {hs['transcript_hash'].hex()}, the vector's is {th.hex()} (§5.6)")
    total = test["ackTotal"]
    if role == "receiver":
        want = bytes.fromhex(test["delivered"])
        if bytes(impl.released) != want:
            problems.append(
                f"released {len(impl.released)} bytes that differ from the vector's "
                f"{len(want)} delivered bytes"
            )
        header = bytes.fromhex(test.get("deliveredAppHeader", test["appHeader"]))
        if hs is not None and hs["app_header"] != header:
            problems.append("the application header differs from the vector's (§7.1)")
        end = impl.event("end_of_stream")
        if end is None or end["total"] != total:
            problems.append(f"end_of_stream with total {total} expected, got {end}")
    else:
        ack = impl.event("acknowledged")
        if ack is None or ack["total"] != total:
            problems.append(f"acknowledged with total {total} expected, got {ack}")
    if problems:
        raise CaseFailure(problems[0], problems[1:] + [impl.summary()])


def _positive_semantic(ctx, group, keys, test, role) -> None:
    sc = Scenario(
        name=f"tc{test['tcId']}",
        role=role,
        section="§5, §7",
        title=test["comment"],
        expect=Complete(),
        message=bytes.fromhex(test["message"]),
        chunk=test["chunkSize"],
        app_header=bytes.fromhex(test["appHeader"]),
    )
    ctx.note(
        "the adapter does not offer injected randomness with deterministic signatures: "
        "the vector ran live and its frames were compared semantically"
    )

    def compare(live):
        mine = [f for f in test["frames"] if f["direction"] == DIRECTION[role]]
        stream = bytes(live.impl.out)
        for f in mine:
            got = _next_frame(stream)
            if got is None:
                raise CaseFailure(
                    f"frame {f['index']} ({f['type']}) missing from what the implementation sent"
                )
            stream = stream[len(got) :]
            problems = _semantic_diff(got, bytes.fromhex(f["wire"]), f["type"])
            if problems:
                raise CaseFailure(f"frame {f['index']} ({f['type']}): {problems[0]}", problems[1:])

    run_and_judge(_Live(ctx, sc, group["suite"], "frame-by-frame", keys=keys), extra=compare)


# -- negative vectors ---------------------------------------------------------------


def _replayable_without_injection(test: dict, role: str) -> bool:
    """True if the frames fed to the party do not depend on its own random values."""
    exp = test["expected"]
    mine = DIRECTION[role]
    at = exp["atFrame"] if not exp.get("eof") else len(test["frames"])
    seen_mine = False
    for f in test["frames"]:
        if f["index"] > at:
            break
        if f["direction"] == mine:
            seen_mine = True
            continue
        if not seen_mine:
            continue
        if f["index"] < at or exp["error"] not in STRUCTURAL:
            return False
    return True


def _negative_body(group: dict, keys: P.KeySet, test: dict):
    def body(ctx: CaseContext) -> None:
        exp = test["expected"]
        role = exp["detectedBy"]
        exact = _exact(ctx)
        if not exact and not _replayable_without_injection(test, role):
            raise CaseUnsupported(
                "replaying this vector needs injected randomness and "
                "deterministic signatures (adapter §4.4); the live cases "
                "cover the same attack"
            )
        impl = _start(ctx, group, keys, test, role, exact=exact)
        try:
            _negative_replay(ctx, impl, test, role, exact)
        except CaseFailure:
            close_quietly(ctx, impl)
            raise
        impl.close()

    return body


def _negative_replay(ctx, impl, test: dict, role: str, exact: bool) -> None:
    exp = test["expected"]
    mine = DIRECTION[role]
    at = None if exp.get("eof") else exp["atFrame"]
    out = _Outbox(impl)
    fail_out = b""
    for f in test["frames"]:
        i = f["index"]
        if at is not None and i > at:
            break
        if f["direction"] == mine:
            (out.expect_exact if exact else out.expect_like)(i, f)
            continue
        before = len(impl.out)
        impl.feed(bytes.fromhex(f["wire"]))
        if impl.error is not None:
            fail_out = bytes(impl.out[before:])
            if at is None or i < at:
                raise CaseFailure(
                    f"failed with {impl.error} on frame {i} ({f['type']}), before the bad "
                    f"frame" + (f" {at}" if at is not None else "s ended"),
                    _detail(impl) + [impl.summary()],
                )
            break
        if i == at:
            break
    if at is None and impl.error is None:
        before = len(impl.out)
        impl.eof()
        fail_out = bytes(impl.out[before:])
    _judge_negative(ctx, impl, test, fail_out)


def _detail(impl) -> list[str]:
    return [f"detail: {impl.error.detail}"] if impl.error and impl.error.detail else []


def _judge_negative(ctx, impl, test: dict, fail_out: bytes) -> None:
    exp = test["expected"]
    where = "at end of transport" if exp.get("eof") else f"on frame {exp['atFrame']}"
    if test.get("result") == "acceptable" and impl.error is None:
        return
    if impl.error is None:
        raise CaseFailure(
            f"no error {where}: the implementation "
            f"{'completed the session' if impl.status == 'done' else 'kept going'}; "
            f"expected {exp['error']}",
            [impl.summary()],
        )
    if impl.error.name != exp["error"]:
        sent_abort = next((f for f in _split(fail_out) if frame_type(f[4:]) == "ABORT"), None)
        raise CaseFailure(
            f"failed with {impl.error} instead of {exp['error']} ({exp['number']}) {where}",
            _detail(impl) + [impl.summary()],
            frames=(F.frame(F.encode(7, {9: exp["number"]})), sent_abort) if sent_abort else None,
        )
    problems = []
    allowed = bytes.fromhex(exp["maxReleased"])
    released = bytes(impl.released)
    if not allowed.startswith(released):
        problems.append(
            f"released {len(released)} bytes, more than (or other than) the "
            f"{len(allowed)} authenticated bytes (§7.3, §9.3)"
        )
    at = exp["atFrame"]  # frames 0-2 are E_HELLO, R_HELLO, E_AUTH in every transcript (§5.1)
    # After completion (an ACK came before the bad frame): the session stays DONE and sends
    # nothing at all (§9.3, adapter §3.7).
    after_done = at is not None and any(
        f["type"] == "ACK" and f["index"] < at for f in test["frames"]
    )
    sent = frame_types(fail_out)
    bad = [t for t in sent if t != "ABORT"]
    if bad:
        problems.append(
            f"sent {', '.join(bad)} with the error: after a failed check a party sends "
            "nothing but ABORT (§9.3)"
        )
    want_status = "done" if after_done else "failed"
    if impl.status != want_status:
        problems.append(
            f"status {impl.status!r} after the error; expected {want_status!r} (§9.3"
            + (": bytes after completion leave the session done)" if after_done else ")")
        )
    if at is not None and at <= 2 and impl.event("handshake_complete"):
        problems.append("reported handshake_complete although the handshake failed (§5.4)")
    sends_abort = not after_done and exp["error"] not in ("PEER_ABORTED", "TRUNCATED")
    problems += check_abort(fail_out, exp["error"], sends_abort=sends_abort)
    if problems:
        raise CaseFailure(problems[0], problems[1:] + [impl.summary()])
    impl.after_end(status=want_status, error=impl.error, feed=b"\x00")


def _split(stream: bytes) -> list[bytes]:
    out: list[bytes] = []
    while True:
        f = _next_frame(stream)
        if f is None:
            return out
        out.append(f)
        stream = stream[len(f) :]

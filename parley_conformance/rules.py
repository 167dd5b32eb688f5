"""The spec's rule ids (spec/parley.md §2) and which conformance cases exercise them.

Every normative rule of spec/parley.md and spec/adapter.md carries an id, ``[R-7.3-3]`` or
``[R-A3.7-2]``.  A case names the rules it exercises (``Case.rules``); this module derives
them for the case families that are generated from an expected error, lists the rules no
black-box case can observe (``UNOBSERVABLE``, each with its reason) and the rules that bind
the runner rather than the implementation (``RUNNER``, each with the test that checks it).
``tools/specsync`` fails when a rule is in none of these, when a case cites no rule, or when
a case cites an id the spec does not have.  ``conformance run --by-rule`` reports results per
rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

RULE_ID = re.compile(r"\[(R-A?(?:[0-9]+(?:\.[0-9]+)*|[ABC])-[0-9]+)\]")
# An id as the spec writes it: not inside backticks (``[R-4.2-5]`` in prose is an example).
SPEC_RULE = re.compile(r"(?<!`)\[(R-A?(?:[0-9]+(?:\.[0-9]+)*|[ABC])-[0-9]+)\](?!`)")

# Rules no test through an adapter can observe, and why (the "listed as such").
UNOBSERVABLE = {
    "R-13.2-1": "bounds of a serving program around the core, not of the session object: "
    "tests/test_tool_serve.py",
    "R-3.3-3": "the hash-to-integer truncation cuts nothing in v1 (SHA-256 with a 256-bit q, "
    "SHA-384 with a 384-bit n): the other reading gives the same bytes",
    "R-3.5-4": "whether a build offers injection to applications is a property of its API, "
    "not of its bytes (tests/test_spec_rules.py checks the reference)",
    "R-6-2": "erasure of keys in memory is not visible through an adapter",
    "R-9.3-3": "erasure of keys in memory is not visible through an adapter",
    "R-13.3-1": "constant time: timing is not observable through a pipe with any power "
    "(tests/test_constant_time.py measures the reference)",
    "R-13.3-2": "constant time of exponentiations: not observable through a pipe (as R-13.3-1)",
    "R-13.3-3": "erasure of secrets in memory is not visible through an adapter (as R-6-2)",
    "R-A2.1-3": "what an adapter logs to standard error is free-form (its secrets are not "
    "detectable)",
    "R-A4.4-3": "whether a production build has the injection hook is not visible to a test "
    "build's adapter",
}

# Rules on the runner (adapter §5) or on every reply of every case (framing, encoding): checked
# by the runner's client on each message, and by the named tests against broken adapters.
RUNNER = {
    "R-A1.3-1": "tests/test_conformance_protocol.py (unknown keys ignored)",
    "R-A2.1-1": "every case (the client reads each reply); tests/zoo hangs",
    "R-A2.1-2": "every case; tests/zoo junk-on-stdout, floods-stdout",
    "R-A2.2-1": "every case; tests/test_conformance_protocol.py::test_framing_by_hand",
    "R-A2.2-2": "live/*/largest-records/* (a 524289-byte message in one start request)",
    "R-A2.3-1": "every case; test_unsorted_keys_are_reported_as_non_deterministic_not_as_"
    "invalid_cbor",
    "R-A2.4-1": "every run; tests/zoo never-hello",
    "R-A2.4-2": "every case; tests/test_conformance_resources.py (out-of-turn replies)",
    "R-A3.1-1": "every case; tests/test_conformance_resources.py",
    "R-A5.1-1": "tests/test_conformance_resources.py (timeouts)",
    "R-A5.2-1": "tests/test_conformance_resources.py (crashes, restarts)",
    "R-A5.3-1": "tests/test_conformance_run.py (outcomes, exit status, WARN and --strict)",
    "R-A5.4-1": "tests/test_conformance_resources.py::test_a_1_gib_reply_is_refused_before_"
    "allocation",
    "R-A5.5-1": "tests/test_conformance_run.py::test_list_selection_and_stable_ids",
}

# -- deriving the rules of a generated case ------------------------------------------------

_GENERIC = {
    "FRAME_TOO_LARGE": ("R-4.1-1", "R-10-1", "R-10-2"),
    "DECODE_ERROR": ("R-4.2-1",),
    "NON_DETERMINISTIC_CBOR": ("R-4.2-7",),
    "SCHEMA_VIOLATION": ("R-4.3-1",),
    "UNEXPECTED_MESSAGE": ("R-9.2-1",),
    "PEER_ABORTED": ("R-5.7-2",),
    "TRUNCATED": ("R-7.5-1",),
    "INTERNAL_ERROR": ("R-11-1",),
}
_BY_MESSAGE: dict[tuple[str | None, str], tuple[str, ...]] = {
    ("E_HELLO", "SCHEMA_VIOLATION"): ("R-5.2-2",),
    ("E_HELLO", "UNSUPPORTED_VERSION"): ("R-5.2-3",),
    ("E_HELLO", "UNSUPPORTED_SUITE"): ("R-5.2-4",),
    ("E_HELLO", "INVALID_PUBLIC_KEY"): ("R-5.2-5",),
    ("R_HELLO", "SCHEMA_VIOLATION"): ("R-5.3-2",),
    ("R_HELLO", "INVALID_PUBLIC_KEY"): ("R-5.3-3",),
    ("R_HELLO", "KEY_CONFIRMATION_FAILED"): ("R-5.3-5",),
    ("R_HELLO", "BAD_SIGNATURE"): ("R-5.3-6", "R-3.3-1"),
    ("E_AUTH", "SCHEMA_VIOLATION"): ("R-5.4-2",),
    ("E_AUTH", "LIMIT_EXCEEDED"): ("R-5.4-3", "R-10-1"),
    ("E_AUTH", "KEY_CONFIRMATION_FAILED"): ("R-5.4-4",),
    ("E_AUTH", "BAD_SIGNATURE"): ("R-5.4-5", "R-3.3-1"),
    ("DATA", "SCHEMA_VIOLATION"): ("R-7.3-2",),
    ("DATA", "LIMIT_EXCEEDED"): ("R-7.3-2", "R-10-1"),
    ("DATA", "RECORD_OUT_OF_ORDER"): ("R-7.3-3",),
    ("DATA", "BAD_RECORD_MAC"): ("R-7.3-4", "R-7.3-6"),
    ("FINAL", "SCHEMA_VIOLATION"): ("R-7.4-2",),
    ("FINAL", "RECORD_OUT_OF_ORDER"): ("R-7.4-3",),
    ("FINAL", "BAD_RECORD_MAC"): ("R-7.4-4",),
    ("FINAL", "LENGTH_MISMATCH"): ("R-7.4-5",),
    ("ACK", "SCHEMA_VIOLATION"): ("R-7.4-9",),
    ("ACK", "BAD_RECORD_MAC"): ("R-7.4-10",),
    ("ACK", "LENGTH_MISMATCH"): ("R-7.4-11",),
}
# The decode-and-type step of each message (processing step 1).
_STEP_1 = {
    "E_HELLO": "R-5.2-1",
    "R_HELLO": "R-5.3-1",
    "E_AUTH": "R-5.4-1",
    "DATA": "R-7.3-1",
    "FINAL": "R-7.4-1",
    "ACK": "R-7.4-8",
}
# §3.4's checks, by the name of the bad public value (live.bad_element_names).
_PUBLIC_VALUE = {
    "short": "R-3.4-1",
    "long": "R-3.4-1",
    "truncated": "R-3.4-4",
    "zero": "R-3.4-2",
    "one": "R-3.4-2",
    "p-minus-1": "R-3.4-2",
    "p": "R-3.4-2",
    "all-ones": "R-3.4-2",
    "order-2q": "R-3.4-3",
    "compressed": "R-3.4-5",
    "hybrid-prefix": "R-3.4-5",
    "infinity": "R-3.4-5",
    "off-curve": "R-3.4-4",
    "x-equals-p": "R-3.4-4",
    "zero-point": "R-3.4-4",
}
# A complete session exercises every composition and every step that must succeed.
COMPLETE = (
    "R-3.1-1",
    "R-3.2-1",
    "R-4.2-11",
    "R-5.2-6",
    "R-5.2-7",
    "R-5.3-4",
    "R-5.3-7",
    "R-5.3-8",
    "R-5.4-6",
    "R-5.4-7",
    "R-5.6-1",
    "R-6-1",
    "R-7.2-1",
    "R-7.3-5",
    "R-7.3-7",
    "R-7.4-6",
    "R-7.4-7",
    "R-7.4-12",
    "R-7.4-13",
    "R-A3.7-1",
    "R-A3.7-2",
    "R-A4.1-1",
    "R-A4.2-1",
)
AFTER_COMPLETE = ("R-7.5-2", "R-9.3-6", "R-9.3-7", "R-A3.5-1", "R-A3.7-4")


def failure_rules(error: str, *, after_end: bool = False) -> tuple[str, ...]:
    """The failure rule (§9.3) as a case that ends in ``error`` exercises it."""
    if after_end:
        return ("R-9.3-6", "R-9.3-7", "R-A3.7-3", "R-A3.7-4")
    abort = "R-9.3-5" if error in ("PEER_ABORTED", "TRUNCATED") else "R-9.3-4"
    extra = ("R-5.7-1",) if abort == "R-9.3-4" else ()
    eof = ("R-7.5-3",) if error != "TRUNCATED" else ()
    return ("R-9.3-1", "R-9.3-2", "R-9.3-8", abort, "R-A3.7-3", "R-A4.3-1") + extra + eof


def error_rules(message: str | None, error: str) -> tuple[str, ...]:
    out = list(_BY_MESSAGE.get((message, error), ())) or list(_GENERIC.get(error, ()))
    if message in _STEP_1 and error in (
        "DECODE_ERROR",
        "NON_DETERMINISTIC_CBOR",
        "UNEXPECTED_MESSAGE",
        "FRAME_TOO_LARGE",
    ):
        out.append(_STEP_1[message])
    return tuple(out)


def _message_of_scenario(sc) -> str | None:
    name = sc.name
    if name.startswith("eof-"):
        return None
    if sc.role == "emitter":
        return "R_HELLO" if sc.flight1 is not None or "r-hello" in name else "ACK"
    if sc.flight1 is not None:
        return "E_HELLO"
    if name.startswith("e-auth") or name.endswith("e-auth"):
        return "E_AUTH"
    if "final" in name or "truncation-forgery" in name:
        return "FINAL"
    return "DATA"


def scenario_rules(sc) -> tuple[str, ...]:
    """The rules of a live scenario (parley_conformance.cases.live.Scenario)."""
    from .cases.live import Complete

    if isinstance(sc.expect, Complete):
        return _unique(COMPLETE + AFTER_COMPLETE + sc.rules)
    exp = sc.expect
    out = list(sc.rules)
    if not out:
        out += error_rules(_message_of_scenario(sc), exp.error)
        for suffix, rule in _PUBLIC_VALUE.items():
            if sc.name.endswith("-public-value-" + suffix):
                out.append(rule)
        if sc.name.endswith(("zero-r", "r-equals-q")):
            out.append("R-3.3-1")
        if any(w in sc.name for w in ("short", "long", "empty-resealed", "oversized")):
            out.append("R-4.3-4")  # the field-size table of §4.3
    out += failure_rules(exp.error, after_end=exp.after_end)
    return _unique(out)


def vector_rules(test: dict, negative: bool, suite: int = 1) -> tuple[str, ...]:
    """The rules of a vector case (vectors/README.md)."""
    if not negative:
        extra: tuple[str, ...] = ("R-3.3-2", "R-3.5-2", "R-A4.4-1")
        if "RedrawnEphemeral" in test.get("flags", []):
            extra += ("R-3.5-3",)
        return _unique(COMPLETE + extra)
    exp = test["expected"]
    at = exp.get("atFrame")
    message = None
    if at is not None and not exp.get("eof"):
        kind = next((f["type"] for f in test["frames"] if f["index"] == at), None)
        if kind in _STEP_1:
            message = kind
        else:  # a malformed frame: the message its position in §5.1 would have
            order = ["E_HELLO", "R_HELLO", "E_AUTH"]
            message = order[at] if at < 3 else ("ACK" if exp["detectedBy"] == "emitter" else "DATA")
    after = at is not None and any(f["type"] == "ACK" and f["index"] < at for f in test["frames"])
    flags = set(test.get("flags", []))
    out = list(error_rules(message, exp["error"]))
    if "MalformedFrame" in flags:
        out.append("R-4.1-2")
    if "InvalidPublicValue" in flags:
        out += ["R-3.4-1", "R-3.4-2", "R-3.4-3"] if suite == 1 else ["R-3.4-4"]
    out += failure_rules(exp["error"], after_end=after)
    return _unique(out)


def _unique(rules: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(rules))


# -- the spec's ids ------------------------------------------------------------------------


def spec_rules(root: Path) -> dict[str, str]:
    """Every rule id of spec/parley.md and spec/adapter.md, with the line it is on."""
    out: dict[str, str] = {}
    for name in ("parley.md", "adapter.md"):
        text = (root / "spec" / name).read_text()
        text = text.split("<!-- BEGIN TRACES", 1)[0]
        for n, line in enumerate(text.splitlines(), 1):
            for m in SPEC_RULE.finditer(line):
                rid = m.group(1)
                if rid.startswith("R-A") != (name == "adapter.md"):
                    out.setdefault("!wrong-document:" + rid, f"spec/{name}:{n}")
                elif rid in out:
                    out.setdefault("!duplicate:" + rid, f"spec/{name}:{n}")
                else:
                    out[rid] = f"spec/{name}:{n}"
    return out


def coverage(cases) -> dict[str, list[str]]:
    """Rule id -> the ids of the cases that cite it."""
    out: dict[str, list[str]] = {}
    for c in cases:
        for r in c.rules:
            out.setdefault(r, []).append(c.id)
    return out


def problems(root: Path, cases) -> list[str]:
    """What tools/specsync reports: rules without a case, cases without a rule, unknown ids."""
    spec = spec_rules(root)
    found = []
    for key, where in spec.items():
        if key.startswith("!"):
            kind, rid = key[1:].split(":", 1)
            found.append(f"{where}: rule id {rid} is a {kind.replace('-', ' ')}")
    cov = coverage(cases)
    for rid, where in sorted(spec.items()):
        if rid.startswith("!"):
            continue
        if rid not in cov and rid not in UNOBSERVABLE and rid not in RUNNER:
            found.append(
                f"{where}: rule {rid} has no conformance case (and is not listed as "
                "unobservable or runner-side in parley_conformance/rules.py)"
            )
    for rid in sorted(set(cov) | set(UNOBSERVABLE) | set(RUNNER)):
        if rid not in spec:
            users = cov.get(rid, ["parley_conformance/rules.py"])
            found.append(f"{users[0]}: cites rule {rid}, which the spec does not have")
    for c in cases:
        if not c.rules:
            found.append(f"{c.id}: the case cites no rule")
    return found

"""The spec is the source of truth: its tables, CDDL and section citations match the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cbor2
import pycddl
import pytest

from helpers import frames_of, make_pair
from parley.errors import REGISTRY
from parley.pump import run_session
from parley.state import TRANSITIONS, Role, State, legal_messages

ROOT = Path(__file__).resolve().parents[1]
SPEC = (ROOT / "spec" / "parley.md").read_text()


def test_specsync_tool_passes():
    """tools/specsync: §9.2 and §11 tables, CDDL copies, and every cited § exists."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "specsync")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_specsync_catches_a_bad_citation(tmp_path):
    """The checker is not vacuous: a citation of a section that does not exist is reported."""
    bad = ROOT / "reference" / "parley" / "_tmp_bad_citation.py"
    bad.write_text('"""See ' + "\u00a7" + '99.9."""\n')
    try:
        out = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "specsync")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        bad.unlink()
    assert out.returncode == 1 and "\u00a799.9" in out.stdout


def test_registry_rows_are_parsed_back_from_the_spec():
    """§11 read as data equals the registry the code uses (names, numbers, sections)."""
    block = SPEC[SPEC.index("<!-- BEGIN REGISTRY") : SPEC.index("<!-- END REGISTRY")]
    rows = [
        line.split("|")[1:5] for line in block.splitlines() if re.match(r"\| [A-Z_]+ \| \d", line)
    ]
    parsed = {name.strip(): (int(num), sec.strip()) for name, num, sec, _ in rows}
    assert parsed == {e.name: (e.number, e.section) for e in REGISTRY.values()}
    assert len({e.number for e in REGISTRY.values()}) == len(REGISTRY)


def test_every_registry_section_exists():
    heads = set(re.findall(r"^#{2,4} ([A-Z0-9]+(?:\.[0-9]+)*) ", SPEC, re.M))
    for e in REGISTRY.values():
        assert e.section.lstrip("§") in heads, e


def test_state_table_properties():
    """Read from the one table: every non-terminal state of a role has a way forward."""
    for role in Role:
        reachable = {State.START}
        frontier = [State.START]
        while frontier:
            s = frontier.pop()
            for (r, st, _), (nxt, _) in TRANSITIONS.items():
                if r is role and st is s and nxt not in reachable:
                    reachable.add(nxt)
                    frontier.append(nxt)
        assert State.DONE in reachable
    assert "ABORT" in legal_messages(Role.RECEIVER, State.STREAMING)
    assert legal_messages(Role.RECEIVER, State.DONE) == frozenset()


def test_cddl_file_equals_appendix():
    appendix = SPEC[SPEC.index("\n## A CDDL") :]
    block = re.search(r"```cddl\n(.*?)```", appendix, re.S).group(1)
    assert (ROOT / "spec" / "parley.cddl").read_text() == block


@pytest.mark.parametrize("suite", [1, 2])
def test_every_frame_validates_against_cddl(keypairs, suite):
    """Every frame the reference produces, of every type, validates with pycddl."""
    schema = pycddl.Schema((ROOT / "spec" / "parley.cddl").read_text())
    seen = []

    def trace(name, value):
        if name.startswith("sent "):
            seen.append((name[5:], value))

    for size in (0, 1, 40):
        e, r = make_pair(keypairs, suite, header=b"h" * size, chunk=16)
        e._trace_fn = r._trace_fn = trace
        run_session(e, r, b"z" * size)
    e, r = make_pair(keypairs, suite)
    e.start()
    try:
        r.receive_data(b"\x00\x00\x00\x01\xff")  # a frame that is not CBOR: provokes an ABORT
    except Exception:  # noqa: BLE001 - only the ABORT it sends matters here
        pass
    seen.append(("ABORT", frames_of(r.data_to_send())[0]))
    assert {n for n, _ in seen} == {"E_HELLO", "R_HELLO", "E_AUTH", "DATA", "FINAL", "ACK", "ABORT"}
    for _name, body in seen:
        schema.validate_cbor(body)
        assert cbor2.dumps(cbor2.loads(body), canonical=True) == body  # deterministic


def test_cddl_rejects_what_the_spec_rejects():
    schema = pycddl.Schema((ROOT / "spec" / "parley.cddl").read_text())
    for bad in (
        {0: 4, 5: b"", 6: bytes(32), 7: 0},
        {0: 5, 6: bytes(32), 7: 0},
        {0: 1, 1: 1, 2: 1, 3: bytes(15), 4: b""},
        {0: 7, 9: 1, 10: 0},
    ):
        with pytest.raises(pycddl.ValidationError):
            schema.validate_cbor(cbor2.dumps(bad))


def test_rule_check_is_not_vacuous(tmp_path):
    """A rule with no case, a case with no rule and a case citing an unknown id are reported."""
    import shutil
    from types import SimpleNamespace

    from parley_conformance import rules

    (tmp_path / "spec").mkdir()
    shutil.copy(ROOT / "spec" / "adapter.md", tmp_path / "spec" / "adapter.md")
    (tmp_path / "spec" / "parley.md").write_text(
        SPEC.replace("[R-7.3-3]", "[R-7.3-3] A new rule. [R-7.3-99]")
    )
    cases = [
        SimpleNamespace(id="live/x", rules=("R-7.3-3", "R-99-1")),
        SimpleNamespace(id="y", rules=()),
    ]
    found = "\n".join(rules.problems(tmp_path, cases))
    assert "rule R-7.3-99 has no conformance case" in found
    assert "live/x: cites rule R-99-1, which the spec does not have" in found
    assert "y: the case cites no rule" in found


def test_every_case_cites_rules_that_exist_and_every_rule_has_a_case():
    """The mechanism on the real cases (what tools/specsync reports about rule ids)."""
    from parley_conformance import rules
    from parley_conformance.cases import catalog

    cases = catalog.every_case(ROOT / "vectors")
    assert rules.problems(ROOT, cases) == []
    ids = rules.spec_rules(ROOT)
    assert len(ids) >= 120, len(ids)
    unobservable = set(rules.UNOBSERVABLE)
    assert {"R-13.3-1", "R-6-2"} <= unobservable  # constant time and erasure, with reasons
    assert all(len(reason) > 20 for reason in rules.UNOBSERVABLE.values())

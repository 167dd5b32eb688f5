"""tools/mutate (the mutation score of the conformance suite): its mutants are real and
distinct; running them is long and not part of the tests."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    loader = importlib.machinery.SourceFileLoader("mutate_tool", str(ROOT / "tools" / "mutate"))
    spec = importlib.util.spec_from_loader("mutate_tool", loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["mutate_tool"] = mod  # dataclasses look their module up
    loader.exec_module(mod)
    return mod


def test_every_core_file_has_mutants_and_each_mutant_changes_the_code():
    tool = _tool()
    for rel in tool.CORE:
        ms = tool.mutants(rel)
        assert ms, rel
        plain = ast.unparse(ast.parse(tool._source(rel)))
        for m in ms[:: max(1, len(ms) // 5)]:
            src = tool.mutated_source(rel, m.index)
            ast.parse(src)
            assert src != plain, (rel, m)


def test_mutants_are_numbered_stably():
    tool = _tool()
    a, b = tool.mutants("records.py"), tool.mutants("records.py")
    assert [(m.line, m.what) for m in a] == [(m.line, m.what) for m in b]
    kinds = {m.what.split(" ")[0] for m in a}
    assert {"raise", "return"} <= kinds


def test_the_core_is_every_file_the_issue_names():
    """Issue 10: connection, records, frames, cbor, keyschedule, groups, state and every file of
    primitives/ are mutated; a new primitive cannot be left out."""
    tool = _tool()
    prims = {
        f"primitives/{p.name}" for p in (ROOT / "reference" / "parley" / "primitives").glob("*.py")
    }
    named = {f"{n}.py" for n in ("connection", "records", "frames", "cbor", "keyschedule")}
    assert set(tool.CORE) == prims | named | {"groups.py", "state.py"}


def test_survivor_classes_are_well_formed_and_match_something():
    """Every entry of tools/mutate-survivors.toml has a known class and a reason, and matches
    at least one mutant of the committed code (no stale entry)."""
    tool = _tool()
    entries = tool.load_classes()
    assert entries
    everything = [
        {**m.__dict__, "span": list(m.span)} for rel in tool.CORE for m in tool.mutants(rel)
    ]
    stale = [e for e in entries if not any(tool.classify(r, [e]) for r in everything)]
    assert not stale, stale[:3]

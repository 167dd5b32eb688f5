"""Rules of spec 1.1 that no adapter can show (parley_conformance/rules.py UNOBSERVABLE),
checked on the reference directly: API misuse per state (§9.3, [R-9.3-9]) and test-only
injection (§3.5, [R-3.5-4])."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import make_pair
from parley import ParleyError
from parley.pump import run_session
from parley.state import State

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("suite", [1, 2])
def test_api_misuse_in_done_is_reported_and_the_session_stays_done(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    run_session(e, r, b"hello")
    assert e.state is State.DONE
    with pytest.raises(ParleyError) as info:
        e.send_data(b"more")
    assert info.value.error.name == "API_MISUSE"
    assert e.state is State.DONE and e.data_to_send() == b""  # nothing sent, still DONE
    with pytest.raises(ParleyError) as again:  # and repeated (§9.3)
        e.receive_eof()
    assert again.value.error.name == "API_MISUSE" and e.data_to_send() == b""


@pytest.mark.parametrize("suite", [1, 2])
def test_an_operation_on_a_failed_session_repeats_the_first_error_and_sends_nothing(
    keypairs, suite
):
    e, _ = make_pair(keypairs, suite)
    e.start()
    e.data_to_send()
    with pytest.raises(ParleyError) as first:
        e.receive_data(b"\x00\x00\x00\x00")  # an empty frame: DECODE_ERROR, ABORT 1
    assert first.value.error.name == "DECODE_ERROR" and e.data_to_send() != b""
    for op in (lambda: e.send_data(b"x"), e.end_stream, e.receive_eof):
        with pytest.raises(ParleyError) as later:
            op()
        assert later.value.error.name == "DECODE_ERROR"  # not API_MISUSE, not TRUNCATED
        assert e.data_to_send() == b"" and e.state is State.FAILED


def test_injection_is_a_test_only_interface():
    """§3.5 [R-3.5-4]: FixedEntropy says it is test-only, and no program of the reference
    (the tool, the shells) uses it: an application that asks for nothing gets SystemEntropy."""
    from parley import entropy

    assert "test-only" in (entropy.FixedEntropy.__doc__ or "")
    assert "test-only" in (entropy.SeededEntropy.__doc__ or "")
    users = []
    for path in sorted((ROOT / "reference" / "parley").rglob("*.py")):
        if path.name in ("entropy.py", "__init__.py"):
            continue
        tree = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        if names & {"FixedEntropy", "SeededEntropy"}:
            users.append(path.relative_to(ROOT).as_posix())
    assert users == [], users

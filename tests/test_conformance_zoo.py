"""The zoo: every deliberately broken adapter fails on the cases its fault must fail.

Each member of ``tests/zoo`` is the reference adapter with one fault (a
realistic implementation bug, or adapter misbehaviour such as hanging,
crashing or writing junk to stdout).  For each member the runner runs the
cases the fault must fail (``intended``) and a few it must still pass
(``controls``, so that a fault that broke everything could not hide); the
members run in parallel to keep this fast.  The reference adapter passing
every case is checked in tests/test_conformance_run.py.
"""

from __future__ import annotations

import concurrent.futures
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "zoo"
sys.path.insert(0, str(ZOO))

import zooadapter  # noqa: E402

from parley_conformance import runner  # noqa: E402
from parley_conformance.cases import catalog  # noqa: E402

ALL_CASES = catalog.run_cases(ROOT / "vectors")
BY_ID = {c.id: c for c in ALL_CASES}


def _intended(fault) -> dict[str, list[str]]:
    return {g: [c.id for c in ALL_CASES if runner.matches(c.id, g)] for g in fault.intended}


TIMES: dict[str, float] = {}


def _run(name: str):
    fault = zooadapter.FAULTS[name]
    ids = sorted({i for ids in _intended(fault).values() for i in ids} | set(fault.controls))
    settings = runner.Settings(
        commands=[[str(ZOO / name)]],
        names=["impl"],
        jobs=1,
        read_timeout=fault.timeout or 5.0,
        case_timeout=20.0,
    )
    done = runner.run([BY_ID[i] for i in ids], settings)
    TIMES[name] = (done.duration, len(ids))
    return {r.id: r for r in done.results}


@pytest.fixture(scope="module")
def zoo_results():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, name) for name in zooadapter.FAULTS}
        return {name: f.result() for name, f in futures.items()}


def test_the_zoo_is_big_enough_and_each_member_is_an_executable():
    assert len(zooadapter.FAULTS) >= 15
    for name in zooadapter.FAULTS:
        exe = ZOO / name
        assert exe.exists() and exe.resolve() == ZOO / "zooadapter.py", name


@pytest.mark.parametrize("name", sorted(zooadapter.FAULTS))
def test_intended_globs_name_real_cases(name):
    """A glob that matches nothing would make the member's test vacuous."""
    for glob, ids in _intended(zooadapter.FAULTS[name]).items():
        assert ids, f"{name}: {glob} matches no case"
    for cid in zooadapter.FAULTS[name].controls:
        assert cid in BY_ID, f"{name}: control {cid} is not a case"


@pytest.mark.parametrize("name", sorted(zooadapter.FAULTS))
def test_member_fails_its_intended_cases_and_passes_its_controls(zoo_results, name):
    fault = zooadapter.FAULTS[name]
    results = zoo_results[name]
    for _glob, ids in _intended(fault).items():
        for cid in ids:
            r = results[cid]
            assert r.outcome in fault.outcome, (
                f"{name} should {'/'.join(fault.outcome)} {cid}, got {r.outcome}: {r.actual}"
            )
    for cid in fault.controls:
        assert results[cid].outcome == "PASS", (
            name,
            cid,
            results[cid].actual,
            results[cid].details,
        )


# What the report says must point at the fault, not just "failed".
EXPLANATIONS = {
    "accepts-y-1": (
        "live/receiver/suite1/e-hello-public-value-one/frame-by-frame",
        "no error: it kept going; expected INVALID_PUBLIC_KEY",
    ),
    "releases-before-mac": (
        "live/receiver/suite2/record-ciphertext-bit-flip/byte-by-byte",
        "more than (or other than) the authenticated 32 bytes",
    ),
    "ack-before-final-verifies": (
        "live/receiver/suite1/final-wrong-total-resealed/frame-by-frame",
        "sent ACK in the reply that reported the error",
    ),
    "no-seq-check": (
        "live/receiver/suite2/record-drop/frame-by-frame",
        "BAD_RECORD_MAC (11, §7.3) instead of RECORD_OUT_OF_ORDER",
    ),
    "eof-is-end-of-stream": (
        "live/receiver/suite1/eof-before-final/frame-by-frame",
        "no error: it completed the session; expected TRUNCATED",
    ),
    "wrong-error-number": (
        "live/receiver/suite1/record-drop/frame-by-frame",
        "reported with number 13; the registry number is 12",
    ),
    "hangs": ("live/receiver/suite1/session/frame-by-frame", "no reply within 1 s"),
    "crashes": ("live/receiver/suite1/session/frame-by-frame", "killed by SIGSEGV"),
    "junk-on-stdout": ("live/receiver/suite1/session/frame-by-frame", "'debug: got 79 bytes\\n"),
    "huge-reply": (
        "live/receiver/suite1/session/frame-by-frame",
        "declared length of 1073741824 bytes, over the 16777216-byte cap",
    ),
    "floods-stdout": ("live/receiver/suite1/session/frame-by-frame", "not valid CBOR"),
}


@pytest.mark.parametrize("name", sorted(EXPLANATIONS))
def test_failure_explains_the_fault(zoo_results, name):
    cid, text = EXPLANATIONS[name]
    r = zoo_results[name][cid]
    assert text in r.actual + "\n".join(r.details), (r.actual, r.details)


def test_crash_and_hang_show_the_adapters_stderr_tail(zoo_results):
    assert (
        "zoo: about to crash"
        in zoo_results["crashes"]["live/receiver/suite1/session/frame-by-frame"].stderr
    )
    assert (
        "zoo: hanging" in zoo_results["hangs"]["live/emitter/suite2/session/frame-by-frame"].stderr
    )


@pytest.mark.parametrize("name", sorted(zooadapter.FAULTS))
def test_member_reports_group_its_failures(zoo_results, name):
    """Issue 13: every failing case of a member is in exactly one group of the console report
    and of the HTML report (tests/test_conformance_report_html.py renders one in Chromium)."""
    from parley_conformance import groups, html_report

    results = list(zoo_results[name].values())
    failing = sorted(r.id for r in results if r.outcome in runner.FAILING)
    gs = groups.group_failures(results)
    assert sorted(r.id for g in gs for r in g.results) == failing
    text = groups.console_report(results, width=100)
    assert text.count("\n══ ") + text.startswith("══ ") == len(gs)
    for cid in failing:
        assert cid in text
    page = html_report.render(runner.Run(results, [None], 1.0), [[name]])
    assert page.count('<details class="group"') == len(gs)

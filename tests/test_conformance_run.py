"""The conformance runner end to end: the reference passes every case; the command line
selects, reports, reruns and exits as spec/adapter.md §5 says.

Real subprocesses throughout: the reference adapter, the zoo adapters of
tests/zoo, and the ``conformance`` command itself.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from parley_conformance import runner
from parley_conformance.cases import catalog, interop, live, vectors

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "zoo"
VECTORS = ROOT / "vectors"
CLI = [sys.executable, "-m", "parley_conformance.cli"]
REFERENCE = [sys.executable, "-m", "parley_conformance.adapters.reference_adapter"]


def conformance(*args, timeout=120):
    """The command in its own process."""
    return subprocess.run(
        CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture
def cli(capsys, monkeypatch):
    """The command's main() in this process (its adapters are still real subprocesses)."""
    from parley_conformance.cli import main

    monkeypatch.chdir(ROOT)

    def call(*args):
        rc = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, rc, out, err)

    return call


def _vector_counts() -> tuple[int, int]:
    """Counted from the vector files directly, not from the runner."""
    pos = json.loads((VECTORS / "parley_v1_sessions.json").read_text())
    neg = json.loads((VECTORS / "parley_v1_negative.json").read_text())
    return (
        sum(len(g["tests"]) for g in pos["testGroups"]),
        sum(len(g["tests"]) for g in neg["testGroups"]),
    )


# -- the reference passes everything -------------------------------------------------


def test_reference_adapter_passes_every_case():
    cases = catalog.run_cases(VECTORS)
    done = runner.run(cases, runner.Settings(commands=[REFERENCE], names=["impl"], jobs=2))
    bad = [(r.id, r.outcome, r.actual, r.details[:3]) for r in done.results if r.outcome != "PASS"]
    assert not bad, bad[:5]
    n_pos, n_neg = _vector_counts()
    kinds = {k: sum(r.kind == k for r in done.results) for k in ("vector", "live")}
    assert kinds["vector"] == 2 * n_pos + n_neg  # each positive vector in both roles
    assert kinds["live"] >= 250
    assert done.hellos[0].injected_randomness and done.hellos[0].deterministic_signatures
    shapes = {r.id.rsplit("/", 1)[1] for r in done.results if r.id.startswith("live/")}
    assert any(r.id == "adapter/lifetime/stdin-closed" for r in done.results)
    assert shapes == set(live.SHAPES)


def test_interop_of_the_reference_with_itself(cli):
    ref = ROOT / "parley_conformance" / "adapters" / "reference"
    p = cli("interop", ref, ref, "--no-progress", "-j", "2")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert re.search(r"interop\s+(\d+)\s+\1\s*$", p.stdout, re.M)  # PASS column == total
    assert "result: PASS" in p.stdout
    ids = [c.id for c in interop.cases()]
    for suite in (1, 2):
        for direction in ("a-to-b", "b-to-a"):
            assert any(i.startswith(f"interop/suite{suite}/{direction}/") for i in ids)


def test_interop_finds_an_implementation_that_disagrees_with_the_reference(cli):
    p = cli(
        "interop",
        ROOT / "parley_conformance" / "adapters" / "reference",
        ZOO / "mac-omits-record-type",
        "--no-progress",
        "-k",
        "*/100-bytes/whole-*",
    )
    assert p.returncode == 1
    assert "BAD_RECORD_MAC" in p.stdout
    assert "interop/suite1/a-to-b/100-bytes/whole-flights" in p.stdout


# -- the command line --------------------------------------------------------------------


def test_failure_report_has_everything_and_its_rerun_command_reruns_the_case(tmp_path):
    adapter = ZOO / "accepts-y-1"
    p = conformance(
        "run",
        adapter,
        "--no-progress",
        "-k",
        "live/*/suite1/*public-value-one/*",
        "-k",
        "live/receiver/suite1/session/whole-flights",
        "--json",
        tmp_path / "r.json",
        "--junit",
        tmp_path / "r.xml",
    )
    assert p.returncode == 1, p.stdout + p.stderr
    out = p.stdout
    cid = "live/receiver/suite1/e-hello-public-value-one/frame-by-frame"
    # Its group (one case: the other failure has another cause), the case in full.
    block = out[re.search(r"first case in full:\s+" + re.escape(cid), out).start() :]
    block = block[: block.index("rerun the group:") + 300]
    assert "[§3.4]" in block  # the spec section
    assert "expected: fails with INVALID_PUBLIC_KEY" in block
    assert "actual:   no error: it kept going" in block
    # Both directions, decoded (groups.py, frames_view.py).
    assert re.search(
        r"runner → impl\s+E_HELLO \(289 B\) \{version: 1,\s+suite: 1,\s+sid_e:\s+h'", block
    )
    assert re.search(r"impl → runner\s+R_HELLO \(387 B\) \{sid_r:\s+h'", block)
    assert "adapter stderr" not in block or "zoo" in block
    rerun = re.search(r"rerun the group: (.*)", block).group(1)
    assert rerun.startswith("conformance run ") and rerun.endswith(f"-k {cid}")
    again = subprocess.run(
        CLI + shlex.split(rerun)[1:], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert again.returncode == 1 and "1 case in" in again.stdout

    data = json.loads((tmp_path / "r.json").read_text())
    assert data["passed"] is False and data["summary"]["FAIL"] == 2
    assert data["summary"]["PASS"] == 1
    failed = [r for r in data["results"] if r["outcome"] == "FAIL"]
    assert all(r["transcript"] and r["rerun"] and r["section"] for r in failed)
    assert {e["type"] for e in failed[0]["transcript"] if e["kind"] == "frame"} >= {
        "E_HELLO",
        "R_HELLO",
    }
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert len(suite.findall("testcase/failure")) == 2


def test_expected_failures_file(tmp_path, cli):
    adapter = ZOO / "accepts-y-1"
    failing = "live/receiver/suite1/e-hello-public-value-one/frame-by-frame"
    passing = "live/receiver/suite1/e-hello-version-2/frame-by-frame"
    ef = tmp_path / "expected.txt"
    ef.write_text(
        f"# known bugs\nxfail {failing} our range check starts at 1\n"
        f"skip {passing} not today\nxfail live/nothing/* stale entry\n"
    )
    p = cli(
        "run",
        adapter,
        "--no-progress",
        "-v",
        "-k",
        failing,
        "-k",
        passing,
        "--expected-failures",
        ef,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"XFAIL       {failing}" in p.stdout and f"SKIP        {passing}: not today" in p.stdout
    assert "xfail live/nothing/*' matches no case" in p.stderr

    # An xfail that passes is an XPASS and fails the run (adapter §5.3); JSON form.
    ej = tmp_path / "expected.json"
    ej.write_text(json.dumps({"xfail": [{"id": passing, "reason": "thought it was broken"}]}))
    p = cli("run", adapter, "--no-progress", "-k", passing, "--expected-failures", ej)
    assert p.returncode == 1 and "XPASS" in p.stdout

    # A skip needs a reason: a usage error.
    ef.write_text(f"skip {passing}\n")
    p = cli("run", adapter, "-k", passing, "--expected-failures", ef)
    assert p.returncode == 2 and "a skip needs a reason" in p.stderr


def test_list_selection_and_stable_ids(cli):
    p = cli("run", "--list")
    assert p.returncode == 0
    ids = p.stdout.split()
    assert len(ids) == len(set(ids)) >= 500
    pat = re.compile(
        r"^(vector/(positive/suite[12]/tc\d+-[a-z0-9-]+/(emitter|receiver)|"
        r"negative/suite[12]/tc\d+-[a-z0-9-]+)|"
        r"live/(emitter|receiver)/suite[12]/[a-z0-9-]+/"
        r"(whole-flights|frame-by-frame|split-frames|byte-by-byte|records-together)|"
        r"adapter/lifetime/[a-z0-9-]+)$"
    )
    assert all(pat.match(i) for i in ids), [i for i in ids if not pat.match(i)][:5]
    assert cli("run", "--list").stdout.split() == ids  # stable
    sel = cli("run", "--list", "--suite", "2", "--role", "emitter", "-k", "live/*").stdout.split()
    assert sel and all(i.startswith("live/emitter/suite2/") for i in sel)
    one = cli("run", "--list", "-k", "tc1117").stdout.split()
    assert one == ["vector/negative/suite1/tc1117-truncation-forgery"]


def test_unsupported_capabilities_are_neither_pass_nor_fail(cli):
    """An adapter with suite 2 only, no injection and no emitter (adapter §3.2, adapter §3.8)."""
    p = cli(
        "run",
        ZOO / "limited",
        "--no-progress",
        "-j",
        "2",
        "-v",
        "-k",
        "vector/*/suite2/*",
        "-k",
        "live/*/suite2/session/frame-by-frame",
        "-k",
        "live/receiver/suite2/largest-records/*",
        "-k",
        "live/receiver/suite1/session/frame-by-frame",
    )
    assert p.returncode == 0, p.stdout[-4000:]
    out = p.stdout
    assert "UNSUPPORTED live/receiver/suite1/session/frame-by-frame: the adapter announces" in out
    assert (
        "UNSUPPORTED live/emitter/suite2/session/frame-by-frame: the adapter answered "
        "unsupported to start: this build has no emitter" in out
    )
    assert (
        "UNSUPPORTED live/receiver/suite2/largest-records/whole-flights: the case sends a "
        "524289-byte message; the adapter takes at most 65536" in out
    )
    assert re.search(
        r"UNSUPPORTED vector/negative/suite2/tc2105-record-bit-flip: replaying this "
        r"vector needs injected randomness",
        out,
    )
    # Without injection, positive vectors still run (live, compared semantically), and so do
    # negative vectors whose frames do not depend on the implementation's randomness.
    table = re.search(r"^vector\s+(\d+)\s+(\d+)\s+(\d+)\s*$", out, re.M)
    assert table and int(table.group(1)) >= 9 + 20


@pytest.mark.parametrize(
    "args,message",
    [
        (["run", "/nonexistent/adapter"], "cannot find"),
        (["run", "README.md"], "is not executable"),
        (["run", "tests"], "is a directory"),
        (["run", "-k", "no/such/case"], "no case matches"),
        (["run", "--jobs", "0"], "--jobs must be at least 1"),
        (["run", "--vectors", "/nonexistent"], "no test vectors found"),
    ],
)
def test_usage_errors_exit_2(cli, args, message):
    p = cli(*args)
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_harness_error_exit_2_when_the_adapter_never_says_hello():
    p = conformance("run", ZOO / "never-hello", "--startup-timeout", "1", "-k", "tc1001")
    assert p.returncode == 2
    assert "no hello within 1 s" in p.stderr and "zoo: not saying hello" in p.stderr


# -- where the vectors come from ---------------------------------------------------------


def test_missing_vectors_fail_the_run_and_a_stray_vectors_folder_is_not_used(tmp_path):
    """An installed runner without vectors (no package data, no checkout) must not pass.

    The package is copied alone to tmp_path, next to a ``vectors/`` folder in the current
    directory that holds real vectors: that folder must not be picked up (only --vectors,
    $PARLEY_VECTORS, the package data and the source checkout count).
    """
    import os
    import shutil

    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "parley_conformance",
        site / "parley_conformance",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(VECTORS, tmp_path / "vectors")
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_VECTORS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT / "reference")])
    run = [sys.executable, "-m", "parley_conformance", "run", "--no-progress"]
    p = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert p.returncode != 0, p.stdout[-2000:]
    assert p.returncode == 2 and "PASS" not in p.stdout
    line = p.stderr.strip()
    assert "\n" not in line and line.startswith("conformance: no test vectors found"), line
    assert "the installed package" in line and "--vectors DIR" in line and "--kind live" in line
    assert str(tmp_path / "vectors") not in line
    # Live cases only, asked for explicitly: no vectors needed.
    p = subprocess.run(
        run + ["--kind", "live", "--list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    ids = p.stdout.split()
    assert len(ids) >= 250 and all(i.startswith(("live/", "adapter/")) for i in ids)
    # The folder given explicitly is used.
    p = subprocess.run(
        run + ["--vectors", "vectors", "--list", "-k", "vector/*"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    n_pos, n_neg = _vector_counts()
    assert len(p.stdout.split()) == 2 * n_pos + n_neg


def test_vectors_env_that_has_no_vectors_is_an_error(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_VECTORS", str(tmp_path))
    p = cli("run", "--list")
    assert p.returncode == 2
    assert f"$PARLEY_VECTORS ({tmp_path})" in p.stderr and "--vectors DIR" in p.stderr


def test_vectors_are_looked_for_in_the_package_then_the_checkout(monkeypatch):
    monkeypatch.delenv("PARLEY_VECTORS", raising=False)
    where = [w for w, _ in vectors.vector_locations()]
    assert where == ["the installed package", "the source checkout"]
    assert vectors.find_vectors() == VECTORS  # this checkout has no package data
    assert vectors.vector_locations("x") == [("--vectors", Path("x"))]


def test_reference_names_the_bundled_adapter(cli):
    p = cli(
        "interop",
        "reference",
        "reference",
        "--no-progress",
        "-k",
        "interop/suite2/a-to-b/100-bytes/whole-flights",
    )
    assert p.returncode == 0 and "1 case in" in p.stdout, p.stdout + p.stderr
    p = cli("run", "reference", "--no-progress", "-k", "tc1001")
    assert p.returncode == 0 and "1 case in" in p.stdout, p.stdout + p.stderr


def test_version():
    """Both commands print the one version (reference/parley/__init__.py), via python -m too."""
    import parley

    for module, prog in (
        ("parley_conformance", "conformance"),
        ("parley_conformance.cli", "conformance"),
        ("parley", "parley"),
    ):
        p = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
        assert p.returncode == 0 and p.stdout == f"{prog} {parley.__version__}\n", p


# -- findings items 27-38 and the WARN outcome (spec 1.1) ---------------------------------


def test_a_should_not_followed_is_a_visible_warn_and_strict_makes_it_a_failure(cli):
    """adapter §5.3: WARN is on the console (not only in --json); --strict fails the run."""
    adapter = ZOO / "hides-transcript-hash"
    sel = ["-k", "live/receiver/suite1/session/frame-by-frame", "--no-progress"]
    p = cli("run", adapter, *sel)
    assert p.returncode == 0, p.stdout[-2000:]
    assert "WARN    live/receiver/suite1/session/frame-by-frame: handshake_complete" in p.stdout
    assert "§5.6 SHOULD" in p.stdout and "result: PASS with 1 warning" in p.stdout
    assert re.search(r"^\s+WARN\s+total\s*$", p.stdout, re.M), p.stdout  # a summary column
    p = cli("run", adapter, "--strict", *sel)
    assert p.returncode == 1 and "(--strict)" in p.stdout and "result: FAIL" in p.stdout
    assert "conformance run" in p.stdout and "--strict" in p.stdout  # the rerun line keeps it


def test_help_documents_max_reply_and_strict():
    p = conformance("run", "--help")
    assert "--max-reply" in p.stdout and "--strict" in p.stdout, p.stdout


def test_a_message_that_cannot_fit_one_reply_is_unsupported_not_a_failure(cli):
    """Finding 33: the Emitter's one reply carries the whole message (adapter §4.1, §5.4)."""
    p = cli(
        "run",
        "--max-reply",
        "200000",
        "-v",
        "--no-progress",
        "-k",
        "live/emitter/suite2/largest-records/*",
        "-k",
        "live/emitter/suite2/session/frame-by-frame",
    )
    assert p.returncode == 0, p.stdout[-3000:]
    assert "UNSUPPORTED live/emitter/suite2/largest-records/whole-flights" in p.stdout
    assert "--max-reply" in p.stdout


def test_list_without_vectors_or_matches_is_an_error(cli, tmp_path, monkeypatch):
    """Finding 32: `--list -k tc101` without vectors (and a selection of nothing) exits 2."""
    monkeypatch.setenv("PARLEY_VECTORS", str(tmp_path))
    p = cli("run", "--list", "-k", "tc101")
    assert p.returncode == 2 and "no test vectors found" in p.stderr and not p.stdout
    monkeypatch.delenv("PARLEY_VECTORS")
    p = cli("run", "--list", "-k", "no-such-case")
    assert p.returncode == 2 and "no case matches" in p.stderr


def test_wheel_build_writes_nothing_into_the_checkout_and_ships_the_vectors(tmp_path):
    """Finding 38: building (hatchling) leaves no build/, dist/ or *.egg-info in the checkout."""
    import zipfile

    def artefacts():
        return {p.name for p in ROOT.iterdir() if p.name in ("build", "dist")} | {
            p.name for p in ROOT.glob("*.egg-info")
        }

    before = artefacts()
    p = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if p.returncode != 0 and "hatchling" in p.stderr and "No matching distribution" in p.stderr:
        pytest.skip("no package index for the build backend")
    assert p.returncode == 0, p.stderr[-2000:]
    assert artefacts() == before
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("parley_v1_sessions.json", "parley_v1_negative.json"):
        assert f"parley_conformance/vectors/{f}" in names


def test_exitfirst_stops_at_the_first_failure_and_counts_what_did_not_run(cli, tmp_path):
    """adapter §5.3: -x ends the run at its first failing case; the summary and the JSON
    report say how many selected cases did not run; without a failure every case runs."""
    report = tmp_path / "r.json"
    broken = ZOO / "mac-omits-record-type"
    p = cli("run", broken, "-x", "-j", "1", "-k", "live/receiver/suite1/*", "--json", report)
    assert p.returncode == 1
    data = json.loads(report.read_text())
    failed = [r for r in data["results"] if r["outcome"] == "FAIL"]
    assert len(failed) == 1 and data["notRun"] > 0
    assert len(data["results"]) + data["notRun"] == len(
        cli("run", "--list", "-k", "live/receiver/suite1/*").stdout.split()
    )
    assert f"stopped at the first failure (-x), {data['notRun']} not run" in p.stdout
    p = cli("run", "-x", "-k", "e-hello-version-2", "--json", report)
    assert p.returncode == 0 and json.loads(report.read_text())["notRun"] == 0
    assert "not run" not in p.stdout

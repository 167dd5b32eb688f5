"""The console report a person reads: failures grouped by cause, frames decoded (issue 13).

A real zoo adapter (tests/zoo/no-seq-check: it never checks DATA's seq) runs under the real
``conformance`` command; its 22 failures have one cause and must be one group whose rerun
command, run with ``--list``, selects exactly the group's cases.  Frames are encoded here with
cbor2, independently of the reference's encoder, and decoded by the report.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import cbor2
import pytest

from parley_conformance import frames_view, groups
from parley_conformance.runner import Result

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "zoo"
SELECTION = ["-k", "*record-*", "-k", "*pair-data-seq*"]


def conformance(*args: str, env: dict | None = None, timeout: float = 240):
    return subprocess.run(
        [sys.executable, "-m", "parley_conformance", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def zoo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    p = conformance(
        "run",
        "tests/zoo/no-seq-check",
        *SELECTION,
        "--no-progress",
        "-j",
        "2",
        "--json",
        str(out / "r.json"),
        "--junit",
        str(out / "r.xml"),
        env={"COLUMNS": "80"},
    )
    assert p.returncode == 1, p.stderr
    return p, json.loads((out / "r.json").read_text()), out


def _frame(mtype: int, **fields) -> bytes:
    keys = {"version": 1, "suite": 2, "sid": 3, "g": 4, "ct": 5, "tag": 6, "seq": 7, "total": 8}
    keys["error"] = 9
    body = cbor2.dumps({0: mtype, **{keys[k]: v for k, v in fields.items()}}, canonical=True)
    return len(body).to_bytes(4, "big") + body


def test_one_group_for_one_cause(zoo_run):
    p, data, _ = zoo_run
    failing = [r["id"] for r in data["results"] if r["outcome"] == "FAIL"]
    assert len(failing) >= 20
    text = p.stdout
    assert f"{len(failing)} failing cases in 1 group" in text
    assert text.count("══ FAIL") == 1
    assert f"FAIL: {len(failing)} cases · R-7.3-3" in text
    # The first case in full, every other one on one line (wrapped at 80 columns).
    assert text.count("frames (both directions, decoded):") == 1
    assert f"the other {len(failing) - 1} cases:" in text
    for cid in failing:
        assert cid in text
    assert max(len(line) for line in text.splitlines() if "rerun" not in line) <= 80


def test_group_rerun_selects_exactly_the_group(zoo_run):
    p, data, _ = zoo_run
    failing = {r["id"] for r in data["results"] if r["outcome"] == "FAIL"}
    line = next(x for x in p.stdout.splitlines() if "rerun the group:" in x)
    words = shlex.split(line.split("rerun the group:", 1)[1])
    assert words[:3] == ["conformance", "run", "tests/zoo/no-seq-check"]
    assert len(words) < 2 * len(failing)  # globs, not one -k per case
    listed = conformance(*words[1:], "--list")
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == failing


def test_failure_shows_decoded_frames_vector_notes_and_the_differing_field(zoo_run):
    text = zoo_run[0].stdout
    assert "DATA (79 B) {seq: 0, ct: h'" in text
    assert "(32 bytes)" in text
    assert "ABORT (9 B) {error: 11}" in text
    # The vector's own notes (vectors/README.md: description, effect).
    assert "vector:   description: A record sent twice (§7.3)." in text
    assert "vector:   effect: Duplicated data." in text
    # The expected ABORT next to the one sent, the first differing field marked.
    assert "expected frame and the implementation's, field by field:" in text
    assert any(
        x.strip().startswith("≠ error") and "12" in x and "11" in x for x in text.splitlines()
    )


def test_describe_names_fields_and_shortens_bytes():
    wire = _frame(4, seq=0, ct=bytes(range(32)), tag=b"\xaa" * 32)
    v = frames_view.describe(wire)
    assert v.text() == (
        "DATA {seq: 0, ct: h'0001020304050607…' (32 bytes), tag: h'aaaaaaaaaaaaaaaa…' (32 bytes)}"
    )
    assert frames_view.describe(_frame(7, error=12)).text() == "ABORT {error: 12}"
    hello = frames_view.describe(_frame(1, version=1, suite=2, sid=b"\x01" * 16, g=b"\x04"))
    assert hello.text().startswith("E_HELLO {version: 1, suite: 2, sid_e: h'0101")
    assert "g_e: h'04'" in hello.text()


def test_undecodable_frames_are_hex_with_the_reason():
    bad = frames_view.describe(b"\x00\x00\x00\x02\xff\xff")
    assert bad.type == "MALFORMED" and "does not decode" in bad.error and bad.hex == "00000002ffff"
    assert frames_view.describe(b"\x00\x00\x00\x05ab").type == "INCOMPLETE"
    assert frames_view.describe(b"\x00\x00\x00\x00").type == "EMPTY"
    not_map = frames_view.describe(b"\x00\x00\x00\x01\x01")
    assert not_map.type == "MALFORMED" and "§4.3" in not_map.error


def test_compare_marks_the_first_differing_field():
    want = _frame(4, seq=1, ct=b"\x01" * 32, tag=b"\x02" * 32)
    got = _frame(4, seq=1, ct=b"\x03" * 32, tag=b"\x04" * 32)
    cmp = frames_view.compare(want, got)
    assert cmp.first == "ct"
    lines = cmp.lines()
    assert any(x.startswith("≠ ct") for x in lines)
    assert any(x.startswith("~ tag") for x in lines)
    assert frames_view.compare(want, want).first is None


def _result(cid: str, actual: str, **kw) -> Result:
    return Result(
        cid,
        "live",
        1,
        "receiver",
        "FAIL",
        "t",
        "fails with RECORD_OUT_OF_ORDER",
        actual,
        section="§7.3",
        rerun=f"conformance run x -k {cid}",
        **kw,
    )


def test_grouping_normalises_numbers_and_keeps_causes_apart():
    rs = [
        _result("live/a/1", "failed with BAD_RECORD_MAC (11, §7.3) on frame 3"),
        _result("live/a/2", "failed with BAD_RECORD_MAC (11, §7.3) on frame 4"),
        _result("live/b/1", "no error: the implementation completed the session"),
    ]
    gs = groups.group_failures(rs)
    assert [len(g.results) for g in gs] == [2, 1]
    assert gs[0].rerun == "conformance run x -k 'live/a/*'"
    assert gs[1].rerun == "conformance run x -k live/b/1"


def test_peer_strings_are_escaped_on_the_console():
    evil = "failed \x1b[2J\x1b]0;pwned\x07 with \u202etxt.exe\u202c"
    rs = [_result("live/\x1bx/1", evil, stderr="log \x1b[31mred\x9b\n", details=["d\u2066"])]
    text = groups.console_report(rs, width=80)
    for ch in ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\u2066"):
        assert ch not in text
    assert "\\x1b[2J" in text and "\\u202e" in text


# -- machine formats -------------------------------------------------------------------------


def _schema() -> dict:
    from importlib import resources

    text = (resources.files("parley_conformance") / "schemas" / "report.schema.json").read_text()
    return json.loads(text)


def test_json_validates_against_the_shipped_schema(zoo_run):
    import jsonschema

    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = zoo_run[1]
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["schema_version"] == schema["properties"]["schema_version"]["const"] == 1
    assert len(data["groups"]) == 1 and data["groups"][0]["anchor"] == "R-7.3-3"
    first = next(r for r in data["results"] if r["outcome"] == "FAIL" and r["kind"] == "vector")
    assert first["info"]["effect"] and first["frames"]["firstDifference"] == "error"
    assert any("DATA {seq: 0" in e.get("decoded", "") for e in first["transcript"])
    # The schema rejects what it should: a wrong version, an unknown outcome.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "schema_version": 2}, schema)
    bad = {**data, "results": [{**first, "outcome": "MAYBE"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_junit_has_timestamp_hostname_properties_and_stderr(tmp_path):
    import datetime
    import socket
    import xml.etree.ElementTree as ET

    out = tmp_path / "c.xml"
    p = conformance(
        "run",
        "tests/zoo/crashes",
        "-k",
        "live/receiver/suite1/session/frame-by-frame",
        "--no-progress",
        "--junit",
        str(out),
    )
    assert p.returncode == 1, p.stderr
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None
    stamp = datetime.datetime.fromisoformat(suite.get("timestamp", ""))
    assert (
        abs(
            (
                datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - stamp
            ).total_seconds()
        )
        < 600
    )
    assert suite.get("hostname") == socket.gethostname()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["implementation"].startswith("parley-reference")
    assert props["suites"] == "1" and props["runner version"].startswith("conformance ")
    # The adapter's stderr tail: in the case and in the suite.
    case = suite.find("testcase")
    assert case is not None and case.find("error") is not None
    assert "about to crash" in (case.findtext("system-err") or "")
    assert "about to crash" in (suite.findtext("system-err") or "")


# -- the terminal ----------------------------------------------------------------------------


class _Tty:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _results(n: int) -> list[Result]:
    return [
        _result(f"live/receiver/suite1/case-{i}/byte-by-byte", "x" * 300)
        if i % 7 == 0
        else Result(f"vector/v/{i}", "vector", 1, "emitter", "PASS", "t", "e")
        for i in range(n)
    ]


@pytest.mark.parametrize("width", [40, 50, 80, 200])
def test_progress_fits_the_terminal_and_keeps_rate_and_eta(width):
    from parley_conformance.report import Progress

    tty = _Tty()
    p = Progress(938, stream=tty, width=width, color=False)
    for r in _results(60):
        p(r)
    lines = "".join(tty.parts).replace("\r\x1b[K", "\n").splitlines()
    assert lines and all(len(x) < width for x in lines)
    status = [x for x in lines if x.startswith("[")]
    assert status and all("/s ETA " in x for x in status)


def test_no_color_is_respected(monkeypatch):
    from parley_conformance.report import Progress

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = _Tty()
    p = Progress(10, stream=tty, width=80)
    p(_results(1)[0])
    assert "\x1b[31mFAIL\x1b[0m" in "".join(tty.parts)
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    p = Progress(10, stream=tty, width=80)
    p(_results(1)[0])
    assert "\x1b[3" not in "".join(tty.parts) and "FAIL" in "".join(tty.parts)


def test_a_closed_pipe_ends_quietly():
    cmd = f"{shlex.quote(sys.executable)} -m parley_conformance run --list -v | head -1"
    p = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True, cwd=ROOT
    )
    assert p.stdout.startswith("vector/")
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr, p.stderr
    assert p.returncode in (0, 141)


def test_an_unwritable_report_is_an_error_not_a_traceback(tmp_path):
    p = conformance(
        "run",
        "-k",
        "vector/positive/suite1/tc101-empty-message/emitter",
        "--no-progress",
        "--json",
        str(tmp_path / "missing" / "r.json"),
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and "cannot write" in p.stderr


def test_the_report_fits_a_narrow_terminal():
    from parley_conformance import report
    from parley_conformance.runner import Run

    run = Run(_results(30), [None], 1.0)
    text = report.text_report(run, width=50)
    assert "failing cases in 1 group" in text.replace("\n", " ")
    assert all(len(x) <= 50 for x in text.splitlines() if "rerun" not in x)

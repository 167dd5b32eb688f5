"""The HTML report (--html) of a failing zoo run, rendered by a real headless Chromium.

The zoo member tests/zoo/no-seq-check runs under the real ``conformance`` command with
``--html``; Chromium (Debian's package; .ci/run installs it) loads the file with its
network stack disabled, runs the page's script, and dumps the DOM and a screenshot.  Script
errors show in Chromium's console log (``--enable-logging=stderr``): a page with a
deliberate error checks that the detection works.  Without a Chromium binary the browser
tests are skipped, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parley_conformance import html_report, runner

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI") == "true":
        pytest.fail("no Chromium binary in CI: .ci/run installs Debian's chromium")
    pytest.skip(f"no Chromium binary ({', '.join(BROWSERS)}) on PATH; apt-get install chromium")


def render(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    """Chromium, headless, no network: the page's DOM after its scripts ran, on stdout."""
    return subprocess.run(
        [
            _browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={tmp / 'profile'}",
            "--window-size=1280,2000",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def script_errors(stderr: str) -> list[str]:
    """Console messages of the page: uncaught errors and console.error calls."""
    return [
        line
        for line in stderr.splitlines()
        if "CONSOLE" in line and re.search(r"Uncaught|Error|error", line)
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("html")
    page = tmp / "report.html"
    p = subprocess.run(
        [sys.executable, "-m", "parley_conformance", "run", "tests/zoo/no-seq-check"]
        + ["-k", "record-", "--no-progress", "-j", "2", "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert p.returncode == 1, p.stderr
    # The run's last line says where the report is.
    assert p.stdout.rstrip().splitlines()[-1].startswith(f"HTML report: {page}")
    return page, tmp


def test_page_is_self_contained(report):
    text = report[0].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "@import" not in text and "url(" not in text
    assert "default-src 'none'" in text  # the page may fetch nothing


def test_chromium_renders_the_failure_groups_without_script_errors(report):
    page, tmp = report
    shot = tmp / "report.png"
    p = render(page, tmp, "--dump-dom", f"--screenshot={shot}")
    assert p.returncode == 0, p.stderr[-2000:]
    assert script_errors(p.stderr) == []
    dom = p.stdout
    groups = re.findall(r'<details class="group" id="group-\d+"( open="")?>', dom)
    assert len(groups) == 1  # one cause: DATA's seq is never checked
    cause = re.search(
        r"(\d+) cases · R-7\.3-3 \(§7\.3\): failed with BAD_RECORD_MAC instead of",
        html.unescape(dom),
    )
    assert cause and int(cause[1]) >= 20  # every replayed, reordered, dropped record
    assert "Rerun the group:" in dom and "Frames in both directions, decoded:" in dom
    assert "≠ first difference" in dom  # the expected ABORT next to the sent one
    assert "Role \u00d7 suite \u00d7 feed shape" in dom and "byte-by-byte" in dom
    assert "parley-reference" in dom  # the adapter's hello
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_detector_sees_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><p>x</p><script>undefinedFunction();</script>")
    p = render(page, tmp_path, "--dump-dom")
    assert any("undefinedFunction" in line for line in script_errors(p.stderr)), p.stderr


def test_peer_strings_are_html_escaped(tmp_path):
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    r = runner.Result(
        f"live/receiver/suite1/{evil}/byte-by-byte",
        "live",
        1,
        "receiver",
        "FAIL",
        evil,
        evil,
        evil,
        section="§7.3",
        details=[evil],
        stderr=evil + "\n" + evil,
        transcript=[{"kind": "event", "text": evil}],
        rerun="conformance run x -k " + evil,
    )
    text = html_report.render(runner.Run([r], [None], 1.0), [["adapter", evil]])
    assert "<script>alert" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    page = tmp_path / "evil.html"
    page.write_text(text)
    p = render(page, tmp_path, "--dump-dom")
    assert script_errors(p.stderr) == []
    assert "alert" not in "".join(re.findall(r"<script>(.*?)</script>", p.stdout, re.S))


def test_a_failing_run_without_html_points_to_the_report():
    """The console's last line of a failing run says how to get the page (issue: the HTML
    report is what a failing run points to)."""
    p = subprocess.run(
        [sys.executable, "-m", "parley_conformance", "run", "tests/zoo/no-seq-check"]
        + ["-k", "record-", "--no-progress", "-j", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert p.returncode == 1, p.stdout[-2000:]
    last = p.stdout.rstrip().splitlines()[-1]
    assert last == "add --html report.html for a page with every group and its frames"

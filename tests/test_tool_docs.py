"""docs/tool.md's shell examples run as written (real processes, in one scratch folder).

Every ```sh block of the manual is run, in order, with ``bash -e -o pipefail``
in one temporary folder (so the keys of "Keys" serve "Sending a file"), with
``parley`` and ``python3`` from PATH and the password in
``PARLEY_KEY_PASSWORD``.  A block that fails, or hangs past its deadline (the
process group is killed), fails the test with the block and its output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tool_harness import PASSWORD, finish, spawn

ROOT = Path(__file__).resolve().parents[1]
MANUAL = ROOT / "docs" / "tool.md"
DEADLINE = 600  # seconds per block (DSA parameter generation is the slow one)


def blocks() -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", MANUAL.read_text(), re.M | re.S)


def test_the_manual_has_examples():
    assert len(blocks()) >= 4


@pytest.mark.skipif(not shutil.which("parley"), reason="parley is not on PATH (pip install -e .)")
@pytest.mark.skipif(not shutil.which("openssl"), reason="the manual's examples use openssl")
def test_every_example_runs_as_written(tmp_path):
    run_env = dict(os.environ, PARLEY_KEY_PASSWORD=PASSWORD)
    run_env.pop("COLUMNS", None)
    for number, block in enumerate(blocks(), 1):
        proc = spawn(
            ["bash", "-e", "-o", "pipefail", "-c", block],
            run_env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = finish(proc, DEADLINE, f"docs/tool.md example {number}")
        assert proc.returncode == 0, (
            f"docs/tool.md example {number} exited {proc.returncode}:\n{block}\n--- output:\n"
            + out.decode(errors="replace")[-3000:]
        )

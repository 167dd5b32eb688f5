"""The vector tools started from a Python that lacks their packages (tools/toolenv.py).

From a virtual environment without them, each stops with one line naming the missing
packages and the command that installs them: exit 1, no traceback, nothing installed.
(From a bare system python3 they make the checkout's .venv and run again; that path needs
the package index, and is what the before-stop hook and a newcomer's first run take.)
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bare-venv")
    venv.create(folder, with_pip=False)
    return folder / "bin" / "python"


@pytest.mark.parametrize(
    ("tool", "packages"),
    [("genvectors", "cryptography, gmpy2"), ("checkvectors", "cbor2, Crypto, cryptography")],
)
def test_a_tool_without_its_packages_names_them(bare_python, tool, packages):
    done = subprocess.run(
        [str(bare_python), str(ROOT / "tools" / tool), "--check" if tool == "genvectors" else "-v"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"tools/{tool}: missing Python packages ({packages}); "
        f'install them with: python -m pip install -e "{ROOT}[test]"'
    )
    assert "Traceback" not in done.stderr

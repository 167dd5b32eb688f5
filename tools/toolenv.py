"""Give a tool in tools/ the Python packages it imports, the way tools/test does.

``ensure(tool, modules)`` returns at once when every module can be imported. Otherwise, run
from a Python outside any virtual environment (a system ``python3``, which on Debian and
Ubuntu refuses ``pip install``), it makes the checkout's ``.venv`` if there is none, installs
Parley with its test extras there (``pip install -e ".[test]"``, as tools/test does: the two
share it) and runs the tool again with that environment's Python, with the same arguments.
Inside a virtual environment it changes nothing: it stops with a message naming what is
missing and the command that installs it, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
_AGAIN = "PARLEY_TOOLENV_REEXEC"  # set for the second run: never loop


def _missing(modules: list[str]) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def ensure(tool: str, modules: list[str]) -> None:
    missing = _missing(modules)
    if not missing:
        return
    in_venv = sys.prefix != sys.base_prefix
    if in_venv or os.environ.get(_AGAIN):
        raise SystemExit(
            f"{tool}: missing Python packages ({', '.join(missing)}); "
            f'install them with: python -m pip install -e "{ROOT}[test]"'
        )
    python = VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"{tool}: making a virtual environment in {VENV}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        check = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None"
        check += f" for m in {modules!r}))"
        if subprocess.run([str(python), "-c", check], check=False).returncode:
            print(f"{tool}: installing Parley and its test extras into {VENV}", file=sys.stderr)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
                + ["-e", ".[test]"],
                cwd=ROOT,
                check=True,
            )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"{tool}: missing Python packages ({', '.join(missing)}) and {VENV} could not be "
            f"prepared ({exc}); on Debian/Ubuntu: apt install python3-venv"
        ) from None
    os.environ[_AGAIN] = "1"
    os.execv(str(python), [str(python), sys.argv[0], *sys.argv[1:]])

"""The layering of README's "Layout": ``parley.primitives`` is the only importer of
cryptographic libraries (pyca/cryptography, gmpy2, pycryptodome, and the standard
library's hashlib/hmac/ssl), read from the source with ``ast`` so that a lazy import
inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRYPTO = {"cryptography", "gmpy2", "Crypto", "Cryptodome", "hashlib", "hmac", "ssl"}
# Where the fence is crossed on purpose, and why:
ALLOWED = {
    "reference/parley/primitives": CRYPTO,  # the fence itself
    # The demo shows a file's SHA-256 to the user: display, not protocol.
    "reference/parley/demo.py": {"hashlib"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_fence_imports_cryptographic_libraries():
    offenders = []
    files = sorted((ROOT / "reference" / "parley").rglob("*.py"))
    files += sorted((ROOT / "parley_conformance").rglob("*.py"))
    assert len(files) > 30
    for f in files:
        rel = f.relative_to(ROOT).as_posix()
        allowed = set().union(*(v for k, v in ALLOWED.items() if rel.startswith(k)))
        bad = (_imports(f) & CRYPTO) - allowed
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert not offenders, (
        "imports of cryptographic libraries outside parley.primitives:\n" + "\n".join(offenders)
    )

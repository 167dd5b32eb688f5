import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "reference"))
KAT = ROOT / "tests" / "kat"  # published known answers, with provenance (tests/kat/README.md)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def keypairs():
    """Long-term keys per suite: {suite number: (emitter, receiver, other)} (§12)."""
    from parley import keys
    from parley.suites import SUITES

    return {n: tuple(keys.generate_private_key(s) for _ in range(3)) for n, s in SUITES.items()}

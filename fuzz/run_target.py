"""atheris entry point for one target.

    python3 fuzz/run_target.py TARGET [libFuzzer flags] [corpus dirs]


Normally started by ``tools/fuzz``.  Instruments the ``parley`` package for
coverage, builds the deterministic transcripts once, then hands
control to libFuzzer.  Only ``parley`` is instrumented: the harness's own
branches would only add noise (and time) to the coverage signal.
"""

import pathlib
import sys

import atheris

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "reference")]

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    sys.exit("usage: run_target.py TARGET [libFuzzer flags] [corpus dirs]")
TARGET = sys.argv.pop(1)

with atheris.instrument_imports(include=["parley"]):  # coverage of the code under test only
    import parley  # noqa: F401
import targets  # noqa: E402 - the harness (oracle, transcripts) runs uninstrumented

if TARGET not in targets.TARGETS:
    sys.exit(f"unknown target {TARGET!r}; targets: {', '.join(targets.TARGETS)}")
targets.state()  # the handshakes and snapshots, before the clock of the first input starts
atheris.Setup(sys.argv, getattr(targets, TARGET))
atheris.Fuzz()

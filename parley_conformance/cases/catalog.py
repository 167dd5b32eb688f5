"""Every case of `conformance run`, in one place (adapter §5.5): the runner, the tests and
tools/specsync take their cases from here, so none of them can forget a family."""

from __future__ import annotations

from pathlib import Path

from . import Case, interop, lifetime, live, operations, protocol, vectors


def live_cases() -> list[Case]:
    """The cases that need no vectors: live sessions, start cases, the application's
    operations, the adapter's lifetime."""
    return live.cases() + protocol.cases() + operations.cases() + lifetime.cases()


def run_cases(vector_folder: Path) -> list[Case]:
    """Everything `conformance run` runs with the vectors in ``vector_folder``."""
    return vectors.cases(vector_folder) + live_cases()


def every_case(vector_folder: Path) -> list[Case]:
    """Every case of both commands (`run` and `interop`): what the rule coverage counts."""
    return run_cases(vector_folder) + interop.cases()

"""Benchmark: the full conformance run against the reference adapter (issue 4's 20 s goal).

    python -m parley_conformance.bench [--runs 5] [--jobs 2]

Each round runs, interleaved so that a noisy neighbour slows both alike:

* the full run (every vector and live case, like ``conformance run``) with
  ``--jobs`` adapter processes, and the same with one;
* the baseline: 100 complete reference sessions (both suites, alternating) in
  memory in this process, with no adapter, no pipes and no runner: the cost
  of the cryptography and the core alone.

Prints median / min / max of each and the ratio run / baseline per round.  While it runs,
a progress line on stderr says which round and which measurement it is in (the cases done
of a full run, with rate and ETA, on a terminal; one line per measurement otherwise).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from parley import Emitter, Receiver, SessionConfig
from parley.entropy import SeededEntropy
from parley.pump import run_session

from . import report, runner
from .cases import live, vectors
from .peer import fixed_keyset

REFERENCE = [sys.executable, "-m", "parley_conformance.adapters.reference_adapter"]


def baseline(n: int = 100) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        keys = fixed_keyset(1 + i % 2)
        e = Emitter(
            SessionConfig(
                keys.key("emitter"),
                keys.key("receiver").public,
                SeededEntropy(b"%d" % i, "E"),
                chunk_size=32,
            )
        )
        r = Receiver(
            SessionConfig(
                keys.key("receiver"), keys.key("emitter").public, SeededEntropy(b"%d" % i, "R")
            )
        )
        run_session(e, r, b"x" * 100)
    return time.perf_counter() - t0


def say(text: str) -> None:
    """Progress on stderr (one line each; the report itself goes to stdout)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def full_run(cases, jobs: int) -> float:
    t0 = time.perf_counter()
    progress = report.Progress(len(cases)) if sys.stderr.isatty() else None
    done = runner.run(
        cases,
        runner.Settings(commands=[REFERENCE], names=["impl"], jobs=jobs),
        on_result=progress,
    )
    bad = [r.id for r in done.results if r.outcome != "PASS"]
    if bad:
        raise SystemExit(f"the reference failed {len(bad)} cases, e.g. {bad[0]}")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    folder = vectors.find_vectors()
    cases = (vectors.cases(folder) if folder else []) + live.cases()
    rows: dict[str, list[float]] = {"baseline": [], f"jobs={args.jobs}": [], "jobs=1": []}
    for n in range(1, args.runs + 1):
        say(f"bench: round {n}/{args.runs}: baseline (100 sessions in memory)")
        rows["baseline"].append(baseline())
        say(f"bench: round {n}/{args.runs}: full run, {len(cases)} cases, jobs={args.jobs}")
        rows[f"jobs={args.jobs}"].append(full_run(cases, args.jobs))
        say(f"bench: round {n}/{args.runs}: full run, {len(cases)} cases, jobs=1")
        rows["jobs=1"].append(full_run(cases, 1))
        say(
            f"bench: round {n}/{args.runs} done: baseline {rows['baseline'][-1]:.2f} s, "
            f"jobs={args.jobs} {rows[f'jobs={args.jobs}'][-1]:.2f} s, "
            f"jobs=1 {rows['jobs=1'][-1]:.2f} s"
        )
    print(f"{len(cases)} cases; {args.runs} rounds; seconds (median / min / max)")
    for name, xs in rows.items():
        ratio = ""
        if name != "baseline":
            ratios = [x / b for x, b in zip(xs, rows["baseline"])]
            ratio = f"   ratio to baseline {statistics.median(ratios):.1f}"
        print(f"  {name:<10} {statistics.median(xs):6.2f} / {min(xs):6.2f} / {max(xs):6.2f}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

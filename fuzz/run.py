"""Run the coverage-guided fuzz targets (atheris/libFuzzer) and report the figures.

    tools/fuzz [--runs N] [--max-time S] [--max-len N] [--seed N] [TARGET ...]
    tools/fuzz --replay TARGET FILE...

Targets: decoder, receiver, records, emitter (fuzz/targets.py).  For each
target, in turn: write the seed corpus (fuzz/seeds.py) to
``fuzz-corpus/seeds/TARGET``, run ``fuzz/run_target.py`` with libFuzzer for
N executions (or S seconds), keeping the grown corpus in
``fuzz-corpus/TARGET`` and crash inputs in ``fuzz-corpus/crashes/``, then
print executions, executions per second, coverage (edges ``cov``, features
``ft``), corpus size and crashes.  The figures are also written to
``fuzz-corpus/TARGET.json`` (and the libFuzzer log to ``fuzz-corpus/TARGET.log``),
and those of the whole run to ``fuzz-corpus/last-run.json``.  Exit status 1 if any target crashed.
A fuzzer still running past its wall-clock deadline (``--deadline``) is killed,
with its process group, and counts as a failure.

Committed crash inputs, once fixed, live in ``fuzz/regressions/TARGET/`` and
are both read by the fuzzer and replayed by ``tests/test_properties.py``.

``--replay`` runs saved inputs through a target without atheris and prints
the traceback of the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / "fuzz-corpus"
REGRESSIONS = HERE / "regressions"
sys.path[:0] = [str(HERE), str(ROOT / "reference")]

TARGETS = ("decoder", "receiver", "records", "emitter")
_DONE = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)")
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")


def source_state() -> dict:
    """Which code was fuzzed: the commit, and a hash of the reference sources as they are."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "reference" / "parley").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            text=True,
            capture_output=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        commit = ""
    return {"commit": commit, "reference_sha256": h.hexdigest()[:16]}


def deadline_seconds(args) -> float:
    """Wall-clock limit for one target's fuzzer: --deadline, else --max-time plus 10
    minutes, else --runs at 50 executions per second (at least 10 minutes); the slowest
    target runs at about 470 per second (docs/hardening.md)."""
    if args.deadline:
        return float(args.deadline)
    if args.max_time:
        return args.max_time + 600.0
    return max(600.0, args.runs / 50)


def fuzz_one(target: str, args) -> dict:
    import seeds  # builds the transcripts: only when fuzzing

    seed_dir = WORK / "seeds"
    seeds.write(seed_dir, [target])
    corpus = WORK / target
    crashes = WORK / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    dirs = [corpus, seed_dir / target]
    if (REGRESSIONS / target).is_dir():
        dirs.append(REGRESSIONS / target)
    cmd = [
        sys.executable,
        str(HERE / "run_target.py"),
        target,
        f"-max_len={args.max_len}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-print_final_stats=1",
        f"-artifact_prefix={crashes}/{target}-",
    ]
    cmd.append(f"-max_total_time={args.max_time}" if args.max_time else f"-runs={args.runs}")
    if args.seed is not None:
        cmd.append(f"-seed={args.seed}")
    cmd += [str(d) for d in dirs]
    before = set(crashes.iterdir())
    fuzzed = source_state()  # before the run: the code the fuzzer imports
    print(f"== {target}: {' '.join(cmd[2:])}", flush=True)
    start = time.monotonic()
    log_path = WORK / f"{target}.log"
    deadline = deadline_seconds(args)
    with open(log_path, "wb") as log_file:  # written as it runs: tail -f to watch
        proc = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            proc.wait(timeout=deadline)
            killed = False
        except subprocess.TimeoutExpired:  # a hung fuzzer: kill it and its workers
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = True
    wall = time.monotonic() - start
    log = log_path.read_text(errors="replace")
    if killed:
        print(
            f"== {target}: libFuzzer still running after the deadline of {deadline:g} s "
            f"(--deadline), killed; the end of {log_path}:",
            flush=True,
        )
    done = _DONE.findall(log)
    stats = dict((k, int(v)) for k, v in _STAT.findall(log))
    new = sorted(str(p.relative_to(ROOT)) for p in set(crashes.iterdir()) - before)
    execs = stats.get("number_of_executed_units", int(done[-1][0]) if done else 0)
    result = {
        "target": target,
        "executions": execs,
        "seconds": round(wall, 1),
        "exec_per_s": round(execs / wall, 1) if wall else 0.0,
        "cov": int(done[-1][1]) if done else None,
        "ft": int(done[-1][2]) if done else None,
        "corpus": int(done[-1][3]) if done else None,
        "peak_rss_mb": stats.get("peak_rss_mb"),
        "crashes": new,
        "exit": proc.returncode,
        "killed_at_deadline": killed,
        **fuzzed,
    }
    (WORK / f"{target}.json").write_text(json.dumps(result, indent=2) + "\n")
    if proc.returncode != 0 or new or killed:
        tail = "\n".join(log.splitlines()[-40:])
        print(tail, flush=True)
    return result


def replay(target: str, files: list[str]) -> int:
    import traceback

    import targets

    status = 0
    for name in files:
        data = pathlib.Path(name).read_bytes()
        try:
            targets.run(target, data)
        except BaseException:  # noqa: BLE001 - report everything the target let through
            print(f"{name}: FAILS")
            traceback.print_exc()
            status = 1
        else:
            print(f"{name}: ok")
    return status


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="tools/fuzz", description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="*", metavar="TARGET", help=f"default: all of {TARGETS}")
    ap.add_argument("--runs", type=int, default=100_000, help="executions per target (100000)")
    ap.add_argument("--max-time", type=int, default=0, help="seconds per target instead of --runs")
    ap.add_argument("--max-len", type=int, default=4096, help="longest input (4096 bytes)")
    ap.add_argument("--seed", type=int, default=None, help="libFuzzer's random seed")
    ap.add_argument(
        "--deadline",
        type=float,
        default=0,
        metavar="S",
        help="kill a target's fuzzer after S seconds of wall time (default: "
        "--max-time + 600, or --runs / 50, at least 600); it then fails",
    )
    ap.add_argument(
        "--replay",
        nargs="+",
        metavar=("TARGET", "FILE"),
        help="run saved inputs through TARGET without atheris",
    )
    args = ap.parse_args(argv)
    if args.replay:
        if len(args.replay) < 2 or args.replay[0] not in TARGETS:
            ap.error("--replay TARGET FILE...")
        return replay(args.replay[0], args.replay[1:])
    try:
        import atheris  # noqa: F401
    except ImportError:
        print('tools/fuzz needs atheris: python3 -m pip install -e ".[fuzz]"', file=sys.stderr)
        return 2
    chosen = args.targets or list(TARGETS)
    for t in chosen:
        if t not in TARGETS:
            ap.error(f"unknown target {t!r}; targets: {', '.join(TARGETS)}")
    results = [fuzz_one(t, args) for t in chosen]
    (WORK / "last-run.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"\n{'target':<10}{'executions':>12}{'seconds':>10}{'exec/s':>9}{'cov':>7}{'ft':>7}"
        f"{'corpus':>8}  crashes"
    )
    for r in results:
        crashes = len(r["crashes"]) if r["exit"] == 0 else f"EXIT {r['exit']}: {r['crashes']}"
        print(
            f"{r['target']:<10}{r['executions']:>12}{r['seconds']:>10}{r['exec_per_s']:>9}"
            f"{r['cov']!s:>7}{r['ft']!s:>7}{r['corpus']!s:>8}  {crashes}"
        )
    return 0 if all(r["exit"] == 0 and not r["crashes"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

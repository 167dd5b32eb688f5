"""The ``conformance`` command (spec/adapter.md).

    conformance run [ADAPTER]        vector and live cases against one adapter
                                     (default: the bundled reference adapter)
    conformance interop A B          A and B in sessions with each other

ADAPTER is a path to an executable, a command line ("python3 my_adapter.py"), or
``reference``: the bundled reference adapter.
Exit status: 0 when every case passes, 1 when any fails, 2 for a usage or
harness error (adapter §5.3).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import threading

from . import __version__, adapter_protocol as ap, html_report, report, runner, safe
from .cases import (
    catalog,
    interop as interop_cases,
    vectors as vector_cases,
)

REFERENCE = [sys.executable, "-m", "parley_conformance.adapters.reference_adapter"]


def adapter_command(arg: str | None) -> list[str]:
    """The argv of an adapter given as a path or a command line; ``reference`` (or none) is the
    bundled reference adapter (a file of that name in the current folder: ``./reference``)."""
    if arg is None or arg == "reference":
        return list(REFERENCE)
    if os.path.exists(arg):
        if os.path.isdir(arg):
            raise runner.UsageError(
                f"{arg} is a directory; give the adapter executable (for "
                "example ./my-impl/adapter) or a command line"
            )
        if not os.access(arg, os.X_OK):
            raise runner.UsageError(
                f"{arg} is not executable: chmod +x it, or give the "
                f"interpreter, as in: conformance run 'python3 {arg}'"
            )
        return [os.path.abspath(arg)]
    try:
        words = shlex.split(arg)
    except ValueError as exc:
        raise runner.UsageError(f"cannot parse the adapter command line {arg!r}: {exc}") from None
    if not words:
        raise runner.UsageError("empty adapter command")
    if not (os.path.exists(words[0]) or shutil.which(words[0])):
        raise runner.UsageError(
            f"cannot find {words[0]!r}: give a path to the adapter "
            "executable or a command line whose first word is a program"
        )
    return words


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="conformance", description="Parley conformance runner (spec/adapter.md)"
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="{run,interop}")
    sub.required = True

    def common(sp):
        sel = sp.add_argument_group("selection (adapter §5.5)")
        sel.add_argument(
            "-k",
            dest="patterns",
            action="append",
            default=[],
            metavar="GLOB",
            help="run cases whose id matches GLOB (a plain word: any id containing it); repeatable",
        )
        sel.add_argument("--suite", type=int, choices=(1, 2))
        sel.add_argument(
            "--role",
            choices=("emitter", "receiver"),
            help="cases where the implementation plays this role",
        )
        sel.add_argument("--list", action="store_true", help="list the selected case ids and exit")
        sel.add_argument(
            "--expected-failures", metavar="FILE", help="xfail/skip entries (adapter §5.5)"
        )
        ex = sp.add_argument_group("execution (adapter §5.1)")
        ex.add_argument(
            "--jobs",
            "-j",
            type=int,
            default=os.cpu_count() or 1,
            metavar="N",
            help="adapter processes in parallel (default: the number of CPUs)",
        )
        ex.add_argument(
            "--timeout",
            type=float,
            default=5.0,
            metavar="S",
            help="per-reply timeout in seconds (default 5)",
        )
        ex.add_argument(
            "--case-timeout",
            type=float,
            default=30.0,
            metavar="S",
            help="per-case timeout in seconds (default 30)",
        )
        ex.add_argument(
            "--startup-timeout",
            type=float,
            default=20.0,
            metavar="S",
            help="time allowed for the adapter's hello (default 20)",
        )
        ex.add_argument(
            "--max-reply",
            type=int,
            default=ap.DEFAULT_MAX_REPLY,
            metavar="BYTES",
            help="refuse a reply declaring more than BYTES, before reading it (default 16 MiB, "
            "adapter §5.4); cases whose message would not fit in one reply are UNSUPPORTED",
        )
        ex.add_argument(
            "-x",
            "--exitfirst",
            action="store_true",
            help="stop at the first case that fails the run; the cases not run are counted "
            "(adapter §5.3)",
        )
        ex.add_argument(
            "--strict",
            action="store_true",
            help="a WARN (a SHOULD of the spec not followed) fails the run (adapter §5.3)",
        )
        out = sp.add_argument_group("reports")
        out.add_argument("--json", metavar="FILE", help="write every result as JSON")
        out.add_argument("--junit", metavar="FILE", help="write JUnit XML")
        out.add_argument(
            "--html",
            metavar="FILE",
            help="write a self-contained HTML report (failures grouped, frames decoded); "
            "the run's last line says where it is",
        )
        out.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="show every failure in full, and skipped/unsupported cases",
        )
        out.add_argument("--no-progress", action="store_true", help="no live progress line")
        out.add_argument(
            "--by-rule",
            action="store_true",
            help="also print the results per rule id of the spec (parley §2)",
        )

    r = sub.add_parser(
        "run",
        help="run vector and live cases against one adapter",
        description="Run the conformance cases against ADAPTER (default: the "
        "bundled reference adapter).",
    )
    r.add_argument(
        "adapter",
        nargs="?",
        metavar="ADAPTER",
        help="adapter executable, command line, or 'reference' (the default)",
    )
    r.add_argument(
        "--kind",
        action="append",
        choices=("vector", "live"),
        default=[],
        help="only these kinds of case; repeatable (--kind live needs no vectors)",
    )
    r.add_argument(
        "--vectors",
        metavar="DIR",
        help="folder with parley_v1_sessions.json and parley_v1_negative.json "
        "(default: $PARLEY_VECTORS, else the installed package's, else the "
        "source checkout's; without vectors the run fails)",
    )
    common(r)
    i = sub.add_parser(
        "interop",
        help="run two adapters in sessions with each other",
        description="Run A and B in sessions with each other, each in both roles, in both suites.",
    )
    i.add_argument(
        "adapter_a",
        metavar="A",
        help="adapter executable, command line, or 'reference' (the bundled one)",
    )
    i.add_argument("adapter_b", metavar="B", help="the same for B")
    common(i)
    return p


def _rerun(args, case_id: str) -> str:
    words = ["conformance", args.command]
    if args.command == "run":
        if args.adapter is not None:
            words.append(args.adapter)
        if args.vectors:
            words += ["--vectors", args.vectors]
    else:
        words += [args.adapter_a, args.adapter_b]
    if args.strict:
        words.append("--strict")
    for flag, value, default in (
        ("--timeout", args.timeout, 5.0),
        ("--case-timeout", args.case_timeout, 30.0),
        ("--startup-timeout", args.startup_timeout, 20.0),
    ):
        if value != default:
            words += [flag, f"{value:g}"]
    words += ["-k", case_id]
    return " ".join(shlex.quote(w) for w in words)


def collect(args) -> tuple[list, list[str]]:
    """All cases of the command, and warnings."""
    warnings: list[str] = []
    if args.command == "interop":
        return interop_cases.cases(), warnings
    kinds = set(args.kind) or {"vector", "live"}
    cases = []
    if "vector" in kinds:
        folder = vector_cases.find_vectors(args.vectors)
        if folder is None:
            looked = "; ".join(
                f"{what} ({path})" for what, path in vector_cases.vector_locations(args.vectors)
            )
            raise runner.UsageError(
                f"no test vectors found (looked in: {looked or 'nowhere'}): pass --vectors DIR "
                f"(a folder with {vector_cases.SESSIONS} and {vector_cases.NEGATIVE}), or "
                "--kind live to run the live cases only"
            )
        try:
            cases += vector_cases.cases(folder)
        except (OSError, ValueError, KeyError) as exc:
            raise runner.UsageError(f"cannot read the vectors in {folder}: {exc}") from None
    if "live" in kinds:
        cases += catalog.live_cases()
    return cases, warnings


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)  # clean up the adapters as on ^C
    try:
        return _main(args)
    except BrokenPipeError:
        # The reader went away (conformance run --list | head): stop quietly, as cat does.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except OSError:
            pass
        return 141
    except OSError as exc:
        # A report file that cannot be written, a full disk: say so, no traceback.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"conformance: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except runner.UsageError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    except runner.HarnessError as exc:
        print(f"conformance: cannot run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 2


def _main(args) -> int:
    if args.jobs < 1:
        raise runner.UsageError("--jobs must be at least 1")
    for name in ("timeout", "case_timeout", "startup_timeout"):
        if getattr(args, name) <= 0:
            raise runner.UsageError(f"--{name.replace('_', '-')} must be positive")
    expectations = (
        runner.load_expected_failures(args.expected_failures) if args.expected_failures else []
    )
    if args.list:
        commands, names = [], []
    elif args.command == "run":
        commands, names = [adapter_command(args.adapter)], ["impl"]
    else:
        commands = [adapter_command(args.adapter_a), adapter_command(args.adapter_b)]
        names = ["a", "b"]
    all_cases, warnings = collect(args)
    selected = runner.select(all_cases, patterns=args.patterns, suite=args.suite, role=args.role)
    if args.list:
        if not selected:
            raise runner.UsageError("no case matches the selection")
        for c in selected:
            print(f"{c.id}\t{c.title}" if args.verbose else c.id)
        return 0
    for w in warnings:
        print(f"conformance: warning: {w}", file=sys.stderr)
    if not selected:
        raise runner.UsageError("no case matches the selection (try --list)")
    settings = runner.Settings(
        commands=commands,
        names=names,
        jobs=args.jobs,
        read_timeout=args.timeout,
        case_timeout=args.case_timeout,
        startup_timeout=args.startup_timeout,
        max_reply=args.max_reply,
        strict=args.strict,
        exitfirst=args.exitfirst,
        rerun=lambda cid: _rerun(args, cid),
    )
    progress = None if args.no_progress else report.Progress(len(selected))
    done = runner.run(selected, settings, expectations, on_result=progress)
    for e in runner.unused(expectations):
        print(
            f"conformance: warning: {args.expected_failures}:{e.line}: '{e.action} {e.pattern}' "
            "matches no case that ran",
            file=sys.stderr,
        )
    # The group rerun commands select exactly their cases among all the command's cases.
    done.universe = [c.id for c in all_cases]
    print(report.text_report(done, verbose=args.verbose))
    if args.by_rule:
        print("\nresults per rule (cases citing it; a rule fails when one of them fails):")
        print(report.rule_table(done))
    if args.json:
        report.write_json(args.json, done, commands)
    if args.junit:
        report.write_junit(args.junit, done)
    failed = any(r.outcome in runner.FAILING for r in done.results)
    if args.html:
        html_report.write_html(args.html, done, commands)
        where = os.path.abspath(args.html)
        print(f"HTML report: {safe.term(where)} (open it in a browser: file://{safe.term(where)})")
    elif failed:
        print("add --html report.html for a page with every group and its frames")
    if any(r.reason == "harness-error" for r in done.results):
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Reports: live progress, the summary table, failure details, --json and --junit.

For every failing case the report gives what was expected and what happened,
the spec section, the frame transcript in both directions, the tail of the
adapter's standard error and a one-line command that reruns the case alone
(adapter §5.3).
"""

from __future__ import annotations

import datetime
import json
import re
import socket
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections import Counter

from . import frames_view, groups, safe
from .runner import FAILING, OUTCOMES, Result, Run

SCHEMA_VERSION = 1  # of --json (parley_conformance/schemas/report.schema.json)
HEX_SHOWN = 48  # bytes of a frame shown in the terminal report
DETAILED = 10  # failures shown in full unless --verbose


class Progress:
    """One updating status line on a terminal; failures as they happen otherwise.

    The status line fits the terminal's width (``width``, else shutil.get_terminal_size):
    position, rate and ETA first, then the counts, shortened as needed.  Outcome words are
    coloured on a terminal unless NO_COLOR is set (safe.color_enabled).
    """

    def __init__(
        self,
        total: int,
        stream=None,
        tty: bool | None = None,
        width: int | None = None,
        color: bool | None = None,
    ) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self.color = safe.color_enabled(self.stream) if color is None else color
        self.counts: Counter = Counter()
        self.done = 0
        self.t0 = time.monotonic()

    def _paint(self, outcome: str) -> str:
        if not self.color:
            return outcome
        code = "31" if outcome in FAILING else "33" if outcome == "WARN" else "32"
        return f"\x1b[{code}m{outcome}\x1b[0m"

    def status(self) -> str:
        """The status line without colour, at most the terminal's width minus one."""
        w = (self.width or safe.width()) - 1
        elapsed = max(time.monotonic() - self.t0, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        head = f"[{self.done}/{self.total}] {rate:.0f}/s ETA {left:.0f}s"
        counts = " ".join(f"{k} {self.counts[k]}" for k in OUTCOMES if self.counts[k])
        line = f"{head} {counts}" if counts else head
        return line if len(line) <= w else (line[: max(0, w - 1)] + "…" if w > 1 else "")

    def __call__(self, res: Result) -> None:
        self.done += 1
        self.counts[res.outcome] += 1
        if res.outcome in FAILING:
            why = res.actual.splitlines()[0] if res.actual else ""
            line = f"{res.outcome:<7} {safe.term(res.id)}: {safe.term(why)}"
            if self.tty:
                w = (self.width or safe.width()) - 1
                line = line if len(line) <= w else line[: w - 1] + "…"
                line = self._paint(res.outcome) + line[len(res.outcome) :]
                self.stream.write("\r\x1b[K" + line + "\n")
            else:
                self.stream.write(line + "\n")
        if self.tty:
            self.stream.write("\r\x1b[K" + self.status())
            if self.done == self.total:
                self.stream.write("\r\x1b[K")
        self.stream.flush()


def summary_table(run: Run) -> str:
    """Outcomes by kind of case (vector, live, interop)."""
    kinds = [k for k in ("vector", "live", "interop") if any(r.kind == k for r in run.results)]
    used = [o for o in OUTCOMES if any(r.outcome == o for r in run.results)]
    rows = [["", *used, "total"]]
    for k in kinds:
        c = Counter(r.outcome for r in run.results if r.kind == k)
        rows.append([k, *[str(c[o]) for o in used], str(sum(c.values()))])
    c = Counter(r.outcome for r in run.results)
    rows.append(["total", *[str(c[o]) for o in used], str(len(run.results))])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths))
            )
        )
        if n == 0 or n == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def rule_table(run: Run) -> str:
    """Results per rule id (spec 1.1 rule ids; ``--by-rule``): a rule fails if a case citing it
    fails; the worst outcome first."""
    per: dict[str, Counter] = {}
    for r in run.results:
        for rid in r.rules:
            per.setdefault(rid, Counter())[r.outcome] += 1

    def key(rid: str):
        sec, n = rid[2:].rsplit("-", 1)
        parts = [int(x) if x.isdigit() else 0 for x in sec.lstrip("A").split(".")]
        return (sec.startswith("A"), parts, int(n))

    shown = [o for o in OUTCOMES if any(c[o] for c in per.values())]
    lines = ["rule        cases  " + "  ".join(f"{o:>5}" for o in shown)]
    for rid in sorted(per, key=key):
        c = per[rid]
        verdict = "FAIL" if any(c[o] for o in FAILING) else ("WARN" if c["WARN"] else "ok")
        cells = "  ".join(f"{c[o]:>{max(5, len(o))}}" for o in shown)
        lines.append(f"{rid:<11} {sum(c.values()):>5}  {cells}  {verdict}")
    return "\n".join(lines)


def render_transcript(entries: list[dict], limit: int = HEX_SHOWN) -> list[str]:
    lines = []
    for e in entries:
        if e["kind"] == "event":
            lines.append(f"  · {e['text']}")
            continue
        wire = e["wire"]
        what = e.get("type") or e.get("note", "bytes")
        shown = wire[:limit].hex() + ("…" if len(wire) > limit else "")
        lines.append(f"  {e['src']:>6} → {e['dst']:<6} {what:<9} {len(wire):>6} B  {shown}")
    return lines


def failure_block(res: Result, full: bool = True) -> str:
    out = [f"── {res.outcome} {res.id} " + "─" * max(4, 70 - len(res.id))]
    out.append(f"  {res.title}   [{res.section}]")
    out.append(f"  expected: {res.expected}")
    out.append(f"  actual:   {res.actual}")
    for d in res.details:
        out.append(f"            {d}")
    for n in res.notes:
        out.append(f"  note:     {n}")
    if res.reason and res.reason != "harness-error":
        out.append(f"  reason:   {res.reason}")
    if full and res.transcript:
        out.append("  transcript (hex, length prefix included):")
        out += ["  " + line for line in render_transcript(res.transcript)]
    if full and res.stderr:
        out.append("  adapter stderr (tail):")
        out += [f"    | {line}" for line in res.stderr.splitlines()[-25:]]
    if res.rerun:
        out.append(f"  rerun: {res.rerun}")
    return "\n".join(out)


def text_report(
    run: Run, *, verbose: bool = False, names: list[str] | None = None, width: int | None = None
) -> str:
    parts = []
    failing = [r for r in run.results if r.outcome in FAILING]
    if failing:
        # Grouped by cause, the first case of each group in full (groups.py).
        parts.append(
            groups.console_report(
                run.results,
                width=width or safe.width(),
                verbose=verbose,
                universe=run.universe or None,
            )
        )
    warned = [r for r in run.results if r.outcome == "WARN"]
    if warned:
        # Always on the console, not only in --json (adapter §5.3).
        parts.append(
            "\n".join(
                [f"warnings (a SHOULD not followed; --strict makes them failures): {len(warned)}"]
                + [f"WARN    {safe.term(r.id)}: {safe.term(r.actual)}" for r in warned]
            )
        )
    if verbose:
        for r in run.results:
            if r.outcome in ("XFAIL", "SKIP", "UNSUPPORTED"):
                parts.append(
                    f"{r.outcome:<11} {safe.term(r.id)}: {safe.term(r.reason or r.actual)}"
                )
    impls = [h.implementation for h in run.hellos if h is not None]
    n = len(run.results)
    head = f"conformance: {n} case{'s' if n != 1 else ''} in {run.duration:.1f} s"
    if impls:
        head += " against " + " and ".join(safe.term(i) for i in impls)
    bad = len(failing)
    verdict = "result: " + (
        "PASS" if not bad else f"FAIL ({bad} failing case{'s' if bad != 1 else ''})"
    )
    if warned and not bad:
        verdict += f" with {len(warned)} warning{'s' if len(warned) != 1 else ''}"
    if run.not_run:
        verdict += f"; stopped at the first failure (-x), {run.not_run} not run"
    head = "\n".join(textwrap.wrap(head, width or safe.width(), subsequent_indent="  ") or [head])
    tail = "\n".join([head, "", summary_table(run), "", verdict])
    return "\n\n".join(parts + [tail])


def _result_json(r: Result) -> dict:
    d = {
        "id": r.id,
        "kind": r.kind,
        "suite": r.suite,
        "role": r.role,
        "outcome": r.outcome,
        "title": r.title,
        "section": r.section,
        "expected": r.expected,
        "actual": r.actual,
        "details": r.details,
        "notes": r.notes,
        "warnings": r.warnings,
        "rules": list(r.rules),
        "reason": r.reason,
        "duration": round(r.duration, 4),
        "rerun": r.rerun,
        "info": dict(r.info),
    }
    if r.frames is not None:
        cmp = frames_view.compare(r.frames[0], r.frames[1])
        d["frames"] = {
            "expected": r.frames[0].hex(),
            "actual": r.frames[1].hex(),
            "firstDifference": cmp.first,
        }
    if r.outcome not in ("PASS", "WARN", "SKIP", "UNSUPPORTED"):
        d["stderr"] = r.stderr
        d["transcript"] = [
            {
                **{k: (v.hex() if isinstance(v, bytes) else v) for k, v in e.items()},
                **({"decoded": frames_view.describe(e["wire"]).text()} if "wire" in e else {}),
            }
            for e in r.transcript
        ]
    return d


def write_json(path: str, run: Run, commands: list[list[str]]) -> None:
    from . import __version__

    data = {
        # parley_conformance/schemas/report.schema.json; bumped on an incompatible change.
        "schema_version": SCHEMA_VERSION,
        "runner": f"conformance {__version__}",
        "timestamp": _now().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "hostname": socket.gethostname(),
        "adapterProtocolVersion": 1,
        "adapters": [
            {
                "command": cmd,
                **(
                    {
                        "implementation": h.implementation,
                        "roles": list(h.roles),
                        "suites": list(h.suites),
                        "injectedRandomness": h.injected_randomness,
                        "deterministicSignatures": h.deterministic_signatures,
                    }
                    if h
                    else {}
                ),
            }
            for cmd, h in zip(commands, run.hellos)
        ],
        "duration": round(run.duration, 3),
        "summary": {o: sum(r.outcome == o for r in run.results) for o in OUTCOMES},
        "passed": not any(r.outcome in FAILING for r in run.results),
        "notRun": run.not_run,
        "results": [_result_json(r) for r in run.results],
        "groups": [
            {
                "outcome": g.outcome,
                "anchor": g.anchor,
                "expectation": g.key[2],
                "observation": g.key[3],
                "cases": [r.id for r in g.results],
                "rerun": g.rerun,
            }
            for g in groups.group_failures(run.results, run.universe or None)
        ],
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


JUNIT_STDERR_CASES = 5  # failing cases whose stderr tail goes into the suite's system-err
STDERR_TAIL = 40  # lines


def _tail(text: str) -> str:
    return "\n".join(text.splitlines()[-STDERR_TAIL:])


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: str) -> str:
    return _XML_BAD.sub("?", text)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def write_junit(path: str, run: Run) -> None:
    """JUnit XML: FAIL and XPASS are failures, TIMEOUT and CRASH errors, the rest skipped/passed;
    the suite has a timestamp, the hostname, properties (implementation, suites, runner
    version) and the tail of the adapter's stderr in system-err."""
    from . import __version__

    results = run.results
    suite = ET.Element(
        "testsuite",
        name="parley-conformance",
        tests=str(len(results)),
        failures=str(sum(r.outcome in ("FAIL", "XPASS") for r in results)),
        errors=str(sum(r.outcome in ("TIMEOUT", "CRASH") for r in results)),
        skipped=str(sum(r.outcome in ("SKIP", "UNSUPPORTED", "XFAIL") for r in results)),
        time=f"{run.duration:.3f}",
        timestamp=_now().replace(tzinfo=None).isoformat(timespec="seconds"),
        hostname=_x(socket.gethostname()),
    )
    props = ET.SubElement(suite, "properties")
    hellos = [h for h in run.hellos if h is not None]
    for name, value in [
        ("runner version", f"conformance {__version__}"),
        *[
            (f"implementation {n}" if len(hellos) > 1 else "implementation", h.implementation)
            for n, h in enumerate(hellos)
        ],
        ("suites", ",".join(str(s) for s in sorted({c.suite for c in results}))),
        *[
            (
                f"adapter suites {n}" if len(hellos) > 1 else "adapter suites",
                ",".join(str(s) for s in h.suites),
            )
            for n, h in enumerate(hellos)
        ],
    ]:
        ET.SubElement(props, "property", name=name, value=_x(str(value)))
    for r in results:
        cls, _, name = r.id.rpartition("/")
        tc = ET.SubElement(
            suite, "testcase", classname=cls.replace("/", "."), name=name, time=f"{r.duration:.3f}"
        )
        body = _x(failure_block(r))
        if r.outcome in ("FAIL", "XPASS"):
            ET.SubElement(tc, "failure", message=_x(r.actual[:500]), type=r.outcome).text = body
        elif r.outcome == "WARN":
            ET.SubElement(tc, "system-out").text = _x(f"WARN: {r.actual}")
        elif r.outcome in ("TIMEOUT", "CRASH"):
            ET.SubElement(tc, "error", message=_x(r.actual[:500]), type=r.outcome).text = body
        elif r.outcome in ("SKIP", "UNSUPPORTED", "XFAIL"):
            ET.SubElement(tc, "skipped", message=_x(f"{r.outcome}: {r.reason or r.actual}"[:500]))
        if r.stderr and r.outcome in FAILING:
            ET.SubElement(tc, "system-err").text = _x(_tail(r.stderr))
    errs = [f"[{r.id}]\n{_tail(r.stderr)}" for r in results if r.stderr]
    if errs:
        # The suite's system-err: the adapter's stderr during the last failing cases.
        ET.SubElement(suite, "system-err").text = _x("\n".join(errs[-JUNIT_STDERR_CASES:]))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

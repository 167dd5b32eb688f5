"""Failures grouped by cause, for the console and the HTML report.

Twenty cases that fail for one reason are one finding.  Failing results are grouped by
(outcome, the first rule the case exercises or else its spec section, the expectation, the
observation), with what is specific to one case normalised out of the key: frame numbers,
flights and units, error numbers, hex values, other numbers.  An expectation that names
errors of the registry (§9.2) is keyed by those names, so that a vector case ("fails with
RECORD_OUT_OF_ORDER (12) on frame 4") and a live case ("fails with RECORD_OUT_OF_ORDER on
the bad frame") that fail alike are one group.

Each group has a rerun command: the fewest ``-k`` globs that select exactly its cases among
the run's, else the ids themselves.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import textwrap
from dataclasses import dataclass

from parley.errors import REGISTRY

from . import frames_view
from .runner import FAILING, Result
from .safe import term, term_lines

_PAREN = re.compile(r"\s*\((?:\d+(?:,\s*)?)?(?:§[0-9.]+)?\)")
_WHERE = re.compile(
    r"\s+(?:on frame \d+|in flight \d+(?:, units? [\d\-\u2013]+)?|at end of transport"
    r"|before the bad frames?(?: \d+)?(?: ended)?)"
)
_HEX = re.compile(r"\b[0-9a-f]{8,}\b…?")
_NUM = re.compile(r"\d+")
_ERROR_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def normalise(text: str) -> str:
    """``text`` without what is specific to one case (numbers, frame positions, hex)."""
    t = (text or "").splitlines()[0] if text else ""
    t = _PAREN.sub("", t)
    t = _WHERE.sub("", t)
    t = _HEX.sub("…", t)
    t = _NUM.sub("#", t)
    return " ".join(t.split())


def expectation_key(expected: str) -> str:
    names = [n for n in _ERROR_NAME.findall(expected or "") if n in REGISTRY]
    if names:
        return "fails with " + ", ".join(dict.fromkeys(names))
    return normalise(expected)


def cause_key(r: Result) -> tuple[str, str, str, str]:
    anchor = r.rules[0] if r.rules else r.section
    return (r.outcome, anchor, expectation_key(r.expected), normalise(r.actual))


@dataclass
class Group:
    """Failing results with one cause; ``results[0]`` is the one shown in full."""

    key: tuple[str, str, str, str]
    results: list[Result]
    rerun: str = ""

    @property
    def first(self) -> Result:
        return self.results[0]

    @property
    def outcome(self) -> str:
        return self.key[0]

    @property
    def anchor(self) -> str:
        return self.key[1]

    def headline(self) -> str:
        n = len(self.results)
        r = self.first
        where = (
            self.anchor
            if not r.section or r.section == self.anchor
            else (f"{self.anchor} ({r.section})")
        )
        return f"{self.outcome}: {n} case{'s' if n != 1 else ''} · {where}: {self.key[3]}"


def group_failures(results: list[Result], universe: list[str] | None = None) -> list[Group]:
    """The failing results of a run grouped by cause, biggest group first (ties: run order)."""
    groups: dict[tuple, Group] = {}
    for r in results:
        if r.outcome not in FAILING:
            continue
        k = cause_key(r)
        groups.setdefault(k, Group(k, [])).results.append(r)
    ids = universe if universe is not None else [r.id for r in results]
    out = sorted(groups.values(), key=lambda g: -len(g.results))
    for g in out:
        g.rerun = rerun_command(g.results, ids)
    return out


# -- the rerun command -----------------------------------------------------------------


def _segment_glob(values: list[str]) -> str:
    if len(set(values)) == 1:
        return values[0]
    pre = _common_start(values)
    suf = _common_start([v[len(pre) :][::-1] for v in values])[::-1]
    return glob_escape(pre) + "*" + glob_escape(suf)


def _common_start(values: list[str]) -> str:
    first, last = min(values), max(values)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _glob(parts: list[list[str]]) -> str:
    return "/".join(_segment_glob([p[n] for p in parts]) for n in range(len(parts[0])))


def _partitions(ids: list[str], parts: list[list[str]]) -> list[list[list[str]]]:
    """Ways to split ids: by the value, or the value without its digits, of one segment."""
    out = []
    for n in range(len(parts[0])):
        if len({p[n] for p in parts}) == 1:
            continue
        for key in (lambda v: v, lambda v: _NUM.sub("#", v)):
            by: dict[str, list[str]] = {}
            for i, p in zip(ids, parts):
                by.setdefault(key(p[n]), []).append(i)
            if len(by) > 1 and list(by.values()) not in out:
                out.append(list(by.values()))
        if len(ids) > 64:  # large groups: the first split only, to stay fast
            break
    return out


def _globs(ids: list[str], others: list[str]) -> list[str]:
    if len(ids) == 1:
        return [glob_escape(ids[0]) if any(c in ids[0] for c in "*?[") else ids[0]]
    parts = [i.split("/") for i in ids]
    if len({len(p) for p in parts}) > 1:
        by: dict[int, list[str]] = {}
        for i, p in zip(ids, parts):
            by.setdefault(len(p), []).append(i)
        return [g for sub in by.values() for g in _globs(sub, others)]
    g = _glob(parts)
    if not any(fnmatch.fnmatchcase(o, g) for o in others):
        return [g]
    best: list[str] | None = None
    for split in _partitions(ids, parts):
        found = [g for sub in split for g in _globs(sub, others)]
        if best is None or len(found) < len(best):
            best = found
    return best if best is not None else list(ids)


def rerun_globs(ids: list[str], universe: list[str]) -> list[str]:
    """The fewest globs (in this greedy sense) that match all of ``ids`` and nothing else of
    ``universe``; a plain id stands for itself."""
    mine = set(ids)
    others = [u for u in universe if u not in mine]
    return _globs(list(dict.fromkeys(ids)), others)


def command_prefix(r: Result) -> str:
    """The rerun command of a result without its ``-k ID``."""
    tail = " -k " + shlex.quote(r.id)
    return r.rerun[: -len(tail)] if r.rerun.endswith(tail) else ""


def rerun_command(results: list[Result], universe: list[str]) -> str:
    prefix = command_prefix(results[0])
    if not prefix:
        return ""
    globs = rerun_globs([r.id for r in results], universe)
    return prefix + "".join(f" -k {shlex.quote(g)}" for g in globs)


# -- the console -------------------------------------------------------------------------


def _wrap(line: str, width: int, indent: str = "") -> list[str]:
    if len(line) <= width:
        return [line]
    lead = len(line) - len(line.lstrip(" "))
    return textwrap.wrap(
        line,
        width=width,
        subsequent_indent=" " * lead + indent,
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
    ) or [line]


def info_lines(r: Result) -> list[str]:
    """The vector's own notes (vectors/README.md): description, bug type, effect, mutation."""
    out = []
    for key, label in (
        ("description", "description"),
        ("bugType", "bug type"),
        ("effect", "effect"),
        ("mutation", "mutation"),
    ):
        if r.info.get(key):
            out.append(f"{label}: {r.info[key]}")
    return out


def case_lines(r: Result, *, full: bool = True) -> list[str]:
    """One failing case: expectation, observation, vector notes, frames, stderr (unescaped)."""
    out = [f"{r.title}   [{r.section}]"]
    if r.rules:
        out.append(f"rules:    {', '.join(r.rules)}")
    out.append(f"expected: {r.expected}")
    out.append(f"actual:   {r.actual}")
    out += [f"          {d}" for d in r.details]
    out += [f"note:     {n}" for n in r.notes]
    if r.reason and r.reason != "harness-error":
        out.append(f"reason:   {r.reason}")
    if r.info:
        out += ["vector:   " + line for line in info_lines(r)]
    if r.frames is not None:
        cmp = frames_view.compare(r.frames[0], r.frames[1])
        out.append("expected frame and the implementation's, field by field:")
        out += ["  " + line for line in cmp.lines()]
    if full and r.transcript:
        out.append("frames (both directions, decoded):")
        out += ["  " + line for line in frames_view.transcript_lines(r.transcript)]
    if full and r.stderr:
        out.append("adapter stderr (tail):")
        out += [f"  | {line}" for line in r.stderr.splitlines()[-25:]]
    return out


def render_group(g: Group, *, width: int = 100, verbose: bool = False) -> str:
    """A group on the console: headline, the first case in full, the others one line each."""
    w = max(40, width)
    head = term(g.headline())
    fill = w - len(head) - 4
    out = _wrap("══ " + head + (" " + "═" * fill if fill >= 2 else ""), w, "   ")
    r = g.first
    line = f"  first case in full: {term(r.id)}"
    # An id is never cut (it is copied into -k): too long, it goes on a line of its own.
    out += [line] if len(line) <= w else ["  first case in full:", "    " + term(r.id)]
    for line in case_lines(r, full=True):
        for piece in term_lines(line) or [""]:
            out += _wrap("    " + piece, w, "  ")
    rest = g.results[1:]
    if rest:
        out.append(f"  the other {len(rest)} case{'s' if len(rest) != 1 else ''}:")
        for o in rest:
            first_line = o.actual.splitlines()[0] if o.actual else ""
            out += _wrap(f"    {o.outcome:<7} {term(o.id)}: {term(first_line)}", w, "    ")
            if verbose:
                for line in case_lines(o, full=True)[1:]:
                    for piece in term_lines(line) or [""]:
                        out += _wrap("        " + piece, w, "  ")
    if g.rerun:
        # Commands stay on one line (copy and paste), whatever the width.
        out.append("  rerun the group: " + term(g.rerun))
    return "\n".join(out)


def console_report(
    results: list[Result],
    *,
    width: int = 100,
    verbose: bool = False,
    universe: list[str] | None = None,
) -> str:
    """Every group (``universe``: all case ids the rerun globs must not match besides)."""
    groups = group_failures(results, universe)
    if not groups:
        return ""
    n = sum(len(g.results) for g in groups)
    intro = (
        f"{n} failing case{'s' if n != 1 else ''} in {len(groups)} "
        f"group{'s' if len(groups) != 1 else ''} by cause (rule or section, expectation, "
        "observation)"
    )
    intro = "\n".join(_wrap(intro, max(40, width)))
    return "\n\n".join([intro] + [render_group(g, width=width, verbose=verbose) for g in groups])

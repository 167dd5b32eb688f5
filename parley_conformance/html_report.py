"""``--html FILE``: one self-contained HTML page a person opens in a browser.

No network and no external assets: the CSS is inline, the only script (expand / collapse
all) is inline and the page works without it (the groups are ``<details>`` elements).  It
holds the verdict, the adapters' ``hello``, a summary by spec section and by rule, a matrix
of role, suite and feed shape, and every failure group (groups.py), expandable, with the
decoded frames of each case in both directions, the expected frame next to the actual one
where the case has one, the rerun command and the adapter's standard error.  Everything
that comes from the run is HTML-escaped: adapter stderr, ids, frame contents and error
details are the peer's words.
"""

from __future__ import annotations

import datetime
import html
import socket
from collections import Counter

from . import __version__, frames_view, groups
from .cases.live import SHAPES  # the feed shapes of adapter §5.5, one list
from .runner import FAILING, OUTCOMES, Result, Run

STDERR_LINES = 60

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;
max-width:72em;padding:0 1em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:.2em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.verdict{font-weight:700;padding:.1em .5em;border-radius:3px}
.FAIL,.XPASS,.TIMEOUT,.CRASH{color:#fff;background:#b3261e}.PASS{color:#fff;background:#1e7a34}
.WARN{background:#f2c94c}.cell-bad{background:#fbe3e1}.cell-ok{background:#e6f4ea}
details{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.3em .6em}
details>summary{cursor:pointer;font-weight:600}
.first{background:#fbe3e1;font-weight:700}.other{background:#fff4d6}
.dir{white-space:nowrap}.muted{color:#666}td.mono{word-break:break-all}
"""

# Nothing may be fetched: no network, no external asset (the page is one file).
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

SCRIPT = """
document.getElementById('expand').addEventListener('click', function () {
  document.querySelectorAll('details.group, details.case').forEach(function (d) { d.open = true; });
});
document.getElementById('collapse').addEventListener('click', function () {
  document.querySelectorAll('details.group, details.case')
    .forEach(function (d) { d.open = false; });
});
"""


def e(text: object) -> str:
    """HTML-escaped text (quotes too: safe in attributes)."""
    return html.escape(str(text), quote=True)


def feed_shape(r: Result) -> str:
    """How the frames were fed, from the case id: a live case's last segment, else its kind."""
    last = r.id.rsplit("/", 1)[-1]
    return last if last in SHAPES else r.kind


def _table(head: list[str], rows: list[list[str]], raw: bool = False) -> str:
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = row if raw else [e(c) for c in row]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _counts_rows(per: dict[str, Counter], used: list[str]) -> list[list[str]]:
    rows = []
    for key, c in per.items():
        bad = sum(c[o] for o in FAILING)
        cls = "cell-bad" if bad else "cell-ok"
        rows.append(
            [f'<span class="{cls}">{e(key)}</span>']
            + [e(c[o]) for o in used]
            + [e(sum(c.values()))]
        )
    return rows


def _section_key(s: str) -> tuple:
    return tuple(int(x) if x.isdigit() else 0 for x in s.strip("§").split("."))


def summary_by_section(run: Run) -> str:
    per: dict[str, Counter] = {}
    for r in run.results:
        for s in [x.strip() for x in (r.section or "—").split(",") if x.strip()]:
            per.setdefault(s, Counter())[r.outcome] += 1
    per = dict(sorted(per.items(), key=lambda kv: _section_key(kv[0])))
    used = [o for o in OUTCOMES if any(c[o] for c in per.values())]
    return _table(["section", *used, "cases"], _counts_rows(per, used), raw=True)


def _rule_key(rid: str) -> tuple:
    body, _, n = rid[2:].rpartition("-")
    return (body.startswith("A"), _section_key(body.lstrip("A")), int(n) if n.isdigit() else 0)


def summary_by_rule(run: Run) -> str:
    per: dict[str, Counter] = {}
    for r in run.results:
        for rid in r.rules:
            per.setdefault(rid, Counter())[r.outcome] += 1
    if not per:
        return '<p class="muted">The cases of this run cite no rule ids.</p>'
    per = dict(sorted(per.items(), key=lambda kv: _rule_key(kv[0])))
    used = [o for o in OUTCOMES if any(c[o] for c in per.values())]
    failing = sum(1 for c in per.values() if any(c[o] for o in FAILING))
    return (
        f"<details><summary>{e(len(per))} rules, {e(failing)} with a failing case</summary>"
        + _table(["rule", *used, "cases"], _counts_rows(per, used), raw=True)
        + "</details>"
    )


def matrix(run: Run) -> str:
    """Role and suite rows, feed shape columns; each cell failing / total."""
    shapes = [
        s
        for s in ("vector", *SHAPES, "live", "interop")
        if any(feed_shape(r) == s for r in run.results)
    ]
    cells: dict[tuple[str, int, str], Counter] = {}
    for r in run.results:
        cells.setdefault((r.role or "both", r.suite, feed_shape(r)), Counter())[r.outcome] += 1
    rows = []
    for role, suite in sorted({(k[0], k[1]) for k in cells}):
        row = [e(role), e(f"suite {suite}")]
        for s in shapes:
            c = cells.get((role, suite, s))
            if not c:
                row.append('<span class="muted">—</span>')
                continue
            bad = sum(c[o] for o in FAILING)
            cls = "cell-bad" if bad else "cell-ok"
            row.append(f'<span class="{cls}">{e(bad)} failing / {e(sum(c.values()))}</span>')
        rows.append(row)
    return _table(["role", "suite", *shapes], rows, raw=True)


def _comparison(r: Result) -> str:
    if r.frames is None:
        return ""
    cmp = frames_view.compare(r.frames[0], r.frames[1])
    rows = []
    for name, want, got in cmp.rows:
        cls = "first" if name == cmp.first else ("other" if want != got else "")
        mark = "≠ first difference" if name == cmp.first else ("≠" if want != got else "")
        rows.append(
            f'<tr class="{cls}"><td>{e(name)}</td><td class="mono">{e(want)}</td>'
            f'<td class="mono">{e(got)}</td><td>{e(mark)}</td></tr>'
        )
    return (
        "<p>The expected frame and the implementation's, field by field:</p><table>"
        "<tr><th>field</th><th>expected</th><th>actual</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _frames(r: Result) -> str:
    if not r.transcript:
        return '<p class="muted">No frames were exchanged.</p>'
    rows = []
    for row in frames_view.transcript_rows(r.transcript):
        if row["kind"] == "event":
            rows.append(f'<tr><td colspan="4" class="muted">· {e(row["text"])}</td></tr>')
            continue
        v: frames_view.FrameView = row["view"]
        body = (
            f"{e(v.error)}<br>{e(v.hex)}"
            if v.error
            else "{" + ", ".join(f"{e(k)}: {e(x)}" for k, x in v.fields) + "}"
        )
        rows.append(
            f'<tr><td class="dir">{e(row["src"])} → {e(row["dst"])}</td><td>{e(v.type)}</td>'
            f'<td>{e(v.length)} B</td><td class="mono">{body}</td></tr>'
        )
    return (
        "<table><tr><th>direction</th><th>type</th><th>length</th><th>fields</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _case(r: Result, open_: bool) -> str:
    parts = [
        f'<details class="case"{" open" if open_ else ""}><summary>'
        f'<span class="verdict {e(r.outcome)}">{e(r.outcome)}</span> '
        f"<code>{e(r.id)}</code></summary>",
        f"<p>{e(r.title)} <span class='muted'>[{e(r.section)}]</span></p>",
    ]
    rows = [["expected", e(r.expected)], ["actual", e(r.actual)]]
    if r.details:
        rows.append(["details", "<br>".join(e(d) for d in r.details)])
    if r.notes:
        rows.append(["notes", "<br>".join(e(n) for n in r.notes)])
    if r.rules:
        rows.append(["rules", e(", ".join(r.rules))])
    for line in groups.info_lines(r):
        k, _, v = line.partition(": ")
        rows.append([e(f"vector {k}"), e(v)])
    parts.append(_table(["", ""], rows, raw=True).replace("<tr><th></th><th></th></tr>", ""))
    parts.append(_comparison(r))
    parts.append("<p>Frames in both directions, decoded:</p>" + _frames(r))
    if r.stderr:
        tail = "\n".join(r.stderr.splitlines()[-STDERR_LINES:])
        parts.append(f"<p>Adapter stderr (tail):</p><pre>{e(tail)}</pre>")
    if r.rerun:
        parts.append(f"<p>Rerun this case: <code>{e(r.rerun)}</code></p>")
    parts.append("</details>")
    return "\n".join(parts)


def _group(n: int, g: groups.Group) -> str:
    out = [
        f'<details class="group" id="group-{n}"{" open" if n == 1 else ""}><summary>'
        f'<span class="verdict {e(g.outcome)}">{e(g.outcome)}</span> '
        f"{e(g.headline().removeprefix(g.outcome + ': '))}</summary>"
    ]
    if g.rerun:
        out.append(f"<p>Rerun the group: <code>{e(g.rerun)}</code></p>")
    for i, r in enumerate(g.results):
        out.append(_case(r, open_=i == 0))
    out.append("</details>")
    return "\n".join(out)


def _warnings(run: Run) -> str:
    warned = [r for r in run.results if r.outcome == "WARN"]
    if not warned:
        return ""
    rows = [[f"<code>{e(r.id)}</code>", e(r.actual), e(r.section)] for r in warned]
    return (
        f'<h2 id="warnings">Warnings: {e(len(warned))} (a SHOULD not followed; --strict makes '
        "them failures)</h2>" + _table(["case", "what", "section"], rows, raw=True)
    )


def _hellos(run: Run, commands: list[list[str]]) -> str:
    rows = []
    for n, (cmd, h) in enumerate(zip(commands, run.hellos)):
        if h is None:
            rows.append([e(n), e(" ".join(cmd)), '<span class="muted">no hello</span>'])
            continue
        hello = (
            f"implementation {e(h.implementation)}; roles {e(', '.join(h.roles))}; suites "
            f"{e(', '.join(str(s) for s in h.suites))}; injected randomness "
            f"{e(h.injected_randomness)}; deterministic signatures "
            f"{e(h.deterministic_signatures)}; max message {e(h.max_message)} bytes"
        )
        rows.append([e(n), f"<code>{e(' '.join(cmd))}</code>", hello])
    return _table(["#", "command", "hello"], rows, raw=True)


def _stderr_tail(run: Run) -> str:
    tails = [r for r in run.results if r.stderr]
    if not tails:
        return '<p class="muted">The adapter wrote nothing to stderr during failing cases.</p>'
    last = tails[-1]
    text = "\n".join(last.stderr.splitlines()[-STDERR_LINES:])
    return f"<p>During <code>{e(last.id)}</code>, the last failing case:</p><pre>{e(text)}</pre>"


def render(run: Run, commands: list[list[str]]) -> str:
    gs = groups.group_failures(run.results, run.universe or None)
    bad = sum(len(g.results) for g in gs)
    c = Counter(r.outcome for r in run.results)
    verdict = "FAIL" if bad else "PASS"
    impls = ", ".join(h.implementation for h in run.hellos if h is not None) or "(none)"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    counts = ", ".join(f"{o} {c[o]}" for o in OUTCOMES if c[o])
    failures = (
        "\n".join(_group(n, g) for n, g in enumerate(gs, 1)) if gs else "<p>No failing case.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>Parley conformance: {e(verdict)} — {e(impls)}</title>
<style>{CSS}</style></head>
<body>
<h1>Parley conformance report</h1>
<p><span class="verdict {e(verdict)}" id="verdict">{e(verdict)}</span>
{e(len(run.results))} cases in {e(f"{run.duration:.1f}")} s against {e(impls)}: {e(counts)}.
{e(bad)} failing case{"" if bad == 1 else "s"} in {e(len(gs))} group{"" if len(gs) == 1 else "s"}
by cause.</p>
<p class="muted">conformance {e(__version__)} on {e(socket.gethostname())}, {e(when)}.</p>
<h2>Adapters</h2>
{_hellos(run, commands)}
<h2 id="failures">Failures by cause</h2>
<p><button type="button" id="expand">expand all</button>
<button type="button" id="collapse">collapse all</button></p>
{failures}
{_warnings(run)}
<h2>By spec section</h2>
{summary_by_section(run)}
<h2>By rule</h2>
{summary_by_rule(run)}
<h2>Role &times; suite &times; feed shape</h2>
<p class="muted">Each cell: failing cases / cases. The feed shape is how the runner cut the
peer's bytes (the last part of a live case's id); vector cases replay the vectors' frames.</p>
{matrix(run)}
<h2>Adapter stderr (tail)</h2>
{_stderr_tail(run)}
<script>{SCRIPT}</script>
</body></html>
"""


def write_html(path: str, run: Run, commands: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(render(run, commands))

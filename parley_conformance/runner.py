"""Select cases, run them on a pool of adapter processes, and decide outcomes (adapter §5).

Each worker thread owns its adapter process (two for interop) and runs cases
one after the other.  A case that times out, crashes the adapter or breaks the
adapter protocol gets TIMEOUT, CRASH or FAIL; the worker kills the adapter's
process group and starts a fresh one for its next case (adapter §5.2).  The
expected-failures file turns failures into XFAIL and skips cases (adapter §5.5).
"""

from __future__ import annotations

import fnmatch
import json
import queue
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import adapter_protocol as ap
from .cases import Case, CaseContext, CaseFailure, CaseUnsupported
from .client import AdapterClient, AdapterCrashed, AdapterTimeout

OUTCOMES = ("PASS", "WARN", "FAIL", "XFAIL", "XPASS", "SKIP", "UNSUPPORTED", "TIMEOUT", "CRASH")
FAILING = {"FAIL", "XPASS", "TIMEOUT", "CRASH"}  # adapter §5.3 (WARN too with --strict)
MAX_START_FAILURES = 3


class UsageError(Exception):
    """Bad command line or input file (exit status 2)."""


class HarnessError(Exception):
    """The run cannot proceed (exit status 2): for example the adapter never says hello."""


@dataclass
class Result:
    """The outcome of one case, with everything a report shows."""

    id: str
    kind: str
    suite: int
    role: str | None
    outcome: str
    title: str
    expected: str
    actual: str = ""
    section: str = ""
    details: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # SHOULDs not followed (adapter §5.3)
    rules: tuple[str, ...] = ()  # the rule ids the case exercises
    transcript: list[dict] = field(default_factory=list)
    stderr: str = ""
    duration: float = 0.0
    reason: str = ""  # skip / xfail reason
    rerun: str = ""
    info: dict[str, str] = field(default_factory=dict)  # the vector's own notes (Case.info)
    frames: tuple[bytes, bytes] | None = None  # (expected, actual) frame of a failure


# -- selection -------------------------------------------------------------------------


def matches(case_id: str, pattern: str) -> bool:
    """A glob matches the whole id; a plain word matches any part of it."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(case_id, pattern)
    return pattern in case_id


def select(
    cases: list[Case], *, patterns=(), suite: int | None = None, role: str | None = None, kinds=()
) -> list[Case]:
    out = []
    for c in cases:
        if patterns and not any(matches(c.id, p) for p in patterns):
            continue
        if suite is not None and c.suite != suite:
            continue
        if role is not None and c.role not in (role, None):
            continue
        if kinds and c.kind not in kinds:
            continue
        out.append(c)
    return out


@dataclass
class Expectation:
    action: str  # "xfail" or "skip"
    pattern: str
    reason: str
    line: int
    used: bool = False


def load_expected_failures(path: str) -> list[Expectation]:
    """Parse an expected-failures file, text or JSON (adapter §5.5)."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the expected-failures file {path}: {exc.strerror}") from None
    out: list[Expectation] = []
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: not valid JSON ({exc})") from None
        for action in data:
            if action not in ("xfail", "skip"):
                raise UsageError(f'{path}: unknown key {action!r}; use "xfail" and "skip"')
            for n, entry in enumerate(data[action], 1):
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    raise UsageError(f'{path}: {action} entry {n} needs an "id" glob')
                out.append(Expectation(action, entry["id"], str(entry.get("reason", "")), n))
    else:
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if parts[0] not in ("xfail", "skip") or len(parts) < 2:
                raise UsageError(
                    f"{path}:{n}: expected 'xfail GLOB [reason]' or "
                    f"'skip GLOB reason', got {raw.strip()!r}"
                )
            out.append(Expectation(parts[0], parts[1], parts[2] if len(parts) > 2 else "", n))
    for e in out:
        if e.action == "skip" and not e.reason.strip():
            raise UsageError(f"{path}:{e.line}: a skip needs a reason (skip {e.pattern} REASON)")
    return out


def expectation_for(case_id: str, expectations: list[Expectation]) -> Expectation | None:
    for e in expectations:
        if fnmatch.fnmatchcase(case_id, e.pattern) or case_id == e.pattern:
            e.used = True
            return e
    return None


# -- running ---------------------------------------------------------------------------


@dataclass
class Settings:
    commands: list[list[str]]  # one adapter command, or two for interop
    names: list[str]
    jobs: int = 1
    read_timeout: float = 5.0
    case_timeout: float = 30.0
    startup_timeout: float = 20.0
    max_reply: int = ap.DEFAULT_MAX_REPLY
    strict: bool = False  # --strict: a WARN (a SHOULD not followed) is a FAIL (adapter §5.3)
    exitfirst: bool = False  # -x: stop after the first case that fails the run (adapter §5.3)
    rerun: Callable[[str], str] = lambda case_id: ""


class _Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clients = [
            AdapterClient(
                cmd,
                read_timeout=settings.read_timeout,
                startup_timeout=settings.startup_timeout,
                max_reply=settings.max_reply,
                label=name,
            )
            for cmd, name in zip(settings.commands, settings.names)
        ]
        self.start_failures = [0] * len(self.clients)
        self.last_start_error = [""] * len(self.clients)

    def ensure(self, n: int) -> str | None:
        """Start the first n adapters if needed; the reason they cannot run, or None."""
        for i, c in enumerate(self.clients[:n]):
            if c.alive:
                continue
            if self.start_failures[i] >= MAX_START_FAILURES:
                return (
                    f"{c.label}: the adapter failed to start {MAX_START_FAILURES} times in a "
                    f"row; last time: {self.last_start_error[i]}"
                )
            try:
                c.start()
                self.start_failures[i] = 0
            except (AdapterCrashed, AdapterTimeout, ap.AdapterProtocolError) as exc:
                self.start_failures[i] += 1
                self.last_start_error[i] = str(exc)
                tail = c.stderr_since((c.starts, 0), 2000).strip()
                return f"{c.label}: the adapter did not start: {exc}" + (
                    f"\nits stderr:\n{tail}" if tail else ""
                )
        return None

    def kill_all(self) -> None:
        for c in self.clients:
            c.kill()

    def stop(self) -> None:
        for c in self.clients:
            c.stop()


def run_case(worker: _Worker, case: Case, exp: Expectation | None) -> Result:
    s = worker.settings
    res = Result(
        case.id,
        case.kind,
        case.suite,
        case.role,
        "PASS",
        case.title,
        case.expected,
        section=case.section,
        rules=case.rules,
        rerun=s.rerun(case.id),
        info=dict(case.info),
    )
    if exp is not None and exp.action == "skip":
        res.outcome, res.reason = "SKIP", exp.reason
        return res
    t0 = time.monotonic()
    why = worker.ensure(case.adapters)
    if why is not None:
        res.outcome, res.actual = "CRASH", why.splitlines()[0]
        res.details = why.splitlines()[1:]
        return _finish(res, exp, t0)
    clients = worker.clients[: case.adapters]
    if case.role is not None:
        hello = clients[0].hello
        assert hello is not None, "ensure() started the adapter and read its hello"
        if case.role not in hello.roles or case.suite not in hello.suites:
            res.outcome = "UNSUPPORTED"
            res.actual = (
                f"the adapter announces roles {list(hello.roles)} and suites "
                f"{list(hello.suites)} (adapter §3.2)"
            )
            return _finish(res, exp, t0)
    marks = [c.stderr_mark() for c in clients]
    ctx = CaseContext(case, clients, time.monotonic() + s.case_timeout)
    broken = False
    try:
        case.body(ctx)
    except CaseFailure as exc:
        res.outcome, res.actual, res.details = "FAIL", exc.actual, exc.details
        res.frames = exc.frames
    except CaseUnsupported as exc:
        res.outcome, res.actual = "UNSUPPORTED", str(exc)
    except AdapterTimeout as exc:
        res.outcome, res.actual, broken = "TIMEOUT", str(exc), True
        res.details.append(
            "a timeout never counts as a correct rejection (adapter §5.1); the "
            "adapter's process group was killed and the adapter restarted"
        )
    except AdapterCrashed as exc:
        res.outcome, res.actual, broken = "CRASH", str(exc), True
        res.details.append(
            "a crash never counts as a correct rejection (adapter §5.2); the adapter was restarted"
        )
    except ap.AdapterProtocolError as exc:
        res.outcome, res.actual, broken = "FAIL", f"adapter protocol violation: {exc}", True
        res.details.append(
            "the adapter's process group was killed and the adapter restarted (adapter §5.2)"
        )
    except Exception as exc:  # noqa: BLE001 - a runner bug: say so, never blame the adapter
        res.outcome = "FAIL"
        res.actual = f"internal error of the conformance runner (please report it): {exc!r}"
        res.details = traceback.format_exc().splitlines()[-12:]
        res.reason = "harness-error"
        broken = True
    if broken:
        worker.kill_all()
    res.notes = ctx.notes
    res.warnings = list(ctx.warnings)
    if res.outcome == "PASS" and res.warnings:
        # A violated SHOULD: visible as WARN; with --strict a failure (adapter §5.3).
        res.outcome = "FAIL" if s.strict else "WARN"
        res.actual = res.warnings[0] + (" (--strict)" if s.strict else "")
        res.details = res.warnings[1:]
    res.transcript = ctx.transcript.finish()
    if res.outcome not in ("PASS", "WARN", "UNSUPPORTED"):
        tails = []
        for c, m in zip(clients, marks):
            tail = c.stderr_since(m).rstrip()
            if tail:
                tails.append(tail if len(clients) == 1 else f"[{c.label}]\n{tail}")
        res.stderr = "\n".join(tails)
    return _finish(res, exp, t0)


def _finish(res: Result, exp: Expectation | None, t0: float) -> Result:
    res.duration = time.monotonic() - t0
    if exp is not None and exp.action == "xfail":
        res.reason = exp.reason or res.reason
        if res.outcome in ("FAIL", "TIMEOUT", "CRASH"):
            res.details.insert(0, f"expected to fail: {res.outcome}: {res.actual}")
            res.outcome = "XFAIL"
        elif res.outcome == "PASS":
            res.outcome = "XPASS"
            res.actual = (
                "passed, but the expected-failures file lists it as xfail: "
                "remove the entry (adapter §5.3)"
            )
    return res


@dataclass
class Run:
    """The results of a run, in the cases' order, and what the adapters announced."""

    results: list[Result]
    hellos: list[ap.Hello | None]
    duration: float
    universe: list[str] = field(default_factory=list)  # every case id of the command (reruns)
    not_run: int = 0  # cases left out because -x stopped the run at a failure


def run(
    cases: list[Case],
    settings: Settings,
    expectations: Sequence[Expectation] = (),
    on_result: Callable[[Result], None] | None = None,
) -> Run:
    """Run ``cases`` on ``settings.jobs`` workers (adapter §5)."""
    t0 = time.monotonic()
    expectations = list(expectations)
    todo: queue.Queue = queue.Queue()
    for i, c in enumerate(cases):
        todo.put((i, c, expectation_for(c.id, expectations)))
    results: list[Result | None] = [None] * len(cases)
    lock = threading.Lock()
    jobs = max(1, min(settings.jobs, len(cases)))
    workers = [_Worker(settings) for _ in range(jobs)]
    hellos: list[ap.Hello | None] = [None] * len(settings.commands)
    if cases:
        # Fail fast and clearly when the adapter cannot start at all (adapter §5.3: exit 2).
        why = workers[0].ensure(max(c.adapters for c in cases))
        if why is not None:
            workers[0].stop()
            raise HarnessError(why)
        hellos = [c.hello for c in workers[0].clients]

    stop = threading.Event()

    def work(worker: _Worker) -> None:
        try:
            while not stop.is_set():
                try:
                    i, case, exp = todo.get_nowait()
                except queue.Empty:
                    return
                res = run_case(worker, case, exp)
                with lock:
                    results[i] = res
                    if on_result:
                        on_result(res)
                    if settings.exitfirst and res.outcome in FAILING:
                        stop.set()
        finally:
            worker.stop()

    threads = [
        threading.Thread(target=work, args=(w,), name=f"worker-{n}", daemon=True)
        for n, w in enumerate(workers)
    ]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.25)
    except BaseException:
        # Interrupted (^C, SIGTERM): the adapters run in their own process groups, so kill
        # them here; never leave a hung adapter behind.
        stop.set()
        for w in workers:
            w.kill_all()
        raise
    done = [r for r in results if r is not None]
    return Run(done, hellos, time.monotonic() - t0, not_run=len(cases) - len(done))


def unused(expectations: list[Expectation]) -> list[Expectation]:
    return [e for e in expectations if not e.used]

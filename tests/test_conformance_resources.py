"""The runner survives adapters that hang, crash, flood, lie about lengths or talk out of turn.

adapter §5.1, adapter §5.2 and adapter §5.4: a hanging adapter ends in TIMEOUT
within its timeout and the run goes on; a crash is CRASH and the adapter is
restarted; the whole process group is killed; a declared reply length over
the cap is refused before anything is allocated; stdout floods and stderr
floods cannot block or exhaust the runner.  Real adapter processes throughout
(tests/zoo and small scripts written here).
"""

from __future__ import annotations

import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from parley_conformance import adapter_protocol as ap, runner
from parley_conformance.cases import live
from parley_conformance.client import STDERR_KEEP, AdapterClient, AdapterCrashed, AdapterTimeout

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "tests" / "zoo"
BY_ID = {c.id: c for c in live.cases()}
SESSION_R = "live/receiver/suite1/session/frame-by-frame"
SESSION_E = "live/emitter/suite2/session/frame-by-frame"
EARLY_R = "live/receiver/suite1/e-hello-version-2/frame-by-frame"  # fails before the data phase
EARLY_E = "live/emitter/suite2/r-hello-mac-flip/frame-by-frame"


def _run(adapter, ids, **kw):
    settings = runner.Settings(commands=[[str(adapter)]], names=["impl"], jobs=1, **kw)
    return runner.run([BY_ID[i] for i in ids], settings).results


def _script(tmp_path, body: str) -> list[str]:
    """An adapter: the reference adapter with ``body`` run first (it may patch ``ra``)."""
    path = tmp_path / "adapter.py"
    path.write_text(
        textwrap.dedent(f"""\
        import os, subprocess, sys, time
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "reference")!r}]
        from parley_conformance.adapters import reference_adapter as ra
        """)
        + textwrap.dedent(body)
        + "\nsys.exit(ra.main())\n"
    )
    return [sys.executable, str(path)]


def test_hanging_adapter_times_out_within_its_timeout_and_the_run_goes_on():
    results = _run(ZOO / "hangs", [SESSION_R, EARLY_R, SESSION_E, EARLY_E], read_timeout=1.0)
    assert [r.outcome for r in results] == ["TIMEOUT", "PASS", "TIMEOUT", "PASS"]
    for r in results[0], results[2]:
        assert r.duration < 1.0 + 3.0, r.duration  # the timeout, plus the handshake, killing, slack
        assert "no reply within 1 s" in r.actual
        assert "zoo: hanging" in r.stderr


def test_crashing_adapter_is_restarted_and_the_run_goes_on():
    results = _run(ZOO / "crashes", [SESSION_R, EARLY_R, SESSION_R, EARLY_E])
    assert [r.outcome for r in results] == ["CRASH", "PASS", "CRASH", "PASS"]
    assert "killed by SIGSEGV" in results[0].actual


def test_case_timeout_bounds_a_case_of_many_quick_replies(tmp_path):
    """An adapter answering each request slowly but within the read timeout: the byte-by-byte
    session makes hundreds of requests, 0.05 s each, so the case lasts far longer than its
    0.5 s case timeout whatever the machine's speed, while no single reply is late."""
    cmd = _script(
        tmp_path,
        """
        handle = ra.Adapter.handle
        def slow(self, req):
            time.sleep(0.05)
            return handle(self, req)
        ra.Adapter.handle = slow
        """,
    )
    settings = runner.Settings(
        commands=[cmd], names=["impl"], jobs=1, case_timeout=0.5, read_timeout=5.0
    )
    results = runner.run([BY_ID["live/receiver/suite1/session/byte-by-byte"]], settings).results
    assert results[0].outcome == "TIMEOUT" and "case timeout" in results[0].actual


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    cmd = _script(
        tmp_path,
        f"""
        child = subprocess.Popen(["sleep", "300"])
        open({str(pidfile)!r}, "w").write(str(child.pid))
        ra.Adapter.handle = lambda self, req: time.sleep(300)
        """,
    )
    client = AdapterClient(cmd, read_timeout=0.5)
    client.start()
    adapter_pid, child_pid = client.proc.pid, int(pidfile.read_text())
    with pytest.raises(AdapterTimeout):
        client.request(lambda rid: ap.close_request(rid, 1), time.monotonic() + 10)
    client.kill()
    for pid in (adapter_pid, child_pid):
        assert _gone(pid), f"process {pid} survived the kill"


def _gone(pid: int, wait: float = 5.0) -> bool:
    """True once the process no longer runs (exited, or a zombie waiting to be reaped)."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_a_1_gib_reply_is_refused_before_allocation():
    client = AdapterClient([str(ZOO / "huge-reply")])
    results = _run(ZOO / "huge-reply", [EARLY_R])
    assert results[0].outcome == "PASS"  # fine until the data phase
    case = BY_ID[SESSION_R]
    worker = runner._Worker(runner.Settings(commands=[client.command], names=["impl"]))
    worker.ensure(1)
    tracemalloc.start()
    t0 = time.monotonic()
    res = runner.run_case(worker, case, None)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    worker.stop()
    assert res.outcome == "FAIL"
    assert "declared length of 1073741824 bytes, over the 16777216-byte cap" in res.actual
    assert time.monotonic() - t0 < 3 and peak < 8 << 20, peak


@pytest.mark.parametrize(
    "cap,message",
    [
        (1 << 20, "declared length of 8388608 bytes, over the 1048576-byte cap"),
        (ap.DEFAULT_MAX_REPLY, "not valid CBOR"),  # read 8 MiB up to its length, then refused
    ],
)
def test_stdout_flood_is_cut_off(cap, message):
    t0 = time.monotonic()
    results = _run(ZOO / "floods-stdout", [SESSION_R, EARLY_R], max_reply=cap)
    assert [r.outcome for r in results] == ["FAIL", "PASS"]
    assert message in results[0].actual and "non-protocol bytes on stdout" in results[0].actual
    assert time.monotonic() - t0 < 15


def test_stderr_flood_neither_blocks_nor_grows_without_bound():
    """1 MiB of stderr per request, far more than a pipe holds: the session still passes."""
    client = AdapterClient([str(ZOO / "chatty-stderr")])
    worker = runner._Worker(runner.Settings(commands=[client.command], names=["impl"]))
    worker.clients = [client]
    res = runner.run_case(worker, BY_ID["live/receiver/suite2/session/split-frames"], None)
    assert res.outcome == "PASS", res.actual
    assert client._stderr.total > 8 << 20
    assert len(client._stderr._buf) <= 2 * STDERR_KEEP
    worker.stop()


def test_unsolicited_bytes_and_out_of_turn_replies(tmp_path):
    cmd = _script(
        tmp_path,
        """
        handle = ra.Adapter.handle
        def twice(self, req):
            reply = handle(self, req)
            body = ra.cbor.encode(reply)
            sys.stdout.buffer.write(len(body).to_bytes(4, "big") + body)   # one reply too many
            return reply
        ra.Adapter.handle = twice
        """,
    )
    client = AdapterClient(cmd)
    client.start()
    deadline = time.monotonic() + 10
    rid, msg = client.request(lambda rid: ap.close_request(rid, 1), deadline)
    ap.parse_closed(msg, rid)
    time.sleep(0.2)
    with pytest.raises(ap.AdapterProtocolError, match="no reply was due"):
        client.request(lambda rid: ap.close_request(rid, 2), deadline)
    client.kill()


def test_adapter_that_exits_at_startup_is_a_harness_error(tmp_path):
    cmd = _script(tmp_path, 'print("cannot load libparley.so", file=sys.stderr); sys.exit(3)')
    with pytest.raises(runner.HarnessError) as info:
        runner.run([BY_ID[EARLY_R]], runner.Settings(commands=[cmd], names=["impl"]))
    assert "exited with status 3" in str(info.value)
    assert "cannot load libparley.so" in str(info.value)


def test_never_says_hello_gives_up_after_the_startup_timeout():
    client = AdapterClient([str(ZOO / "never-hello")], startup_timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(AdapterTimeout, match=r"no hello within 0\.5 s"):
        client.start()
    assert time.monotonic() - t0 < 4
    assert not client.alive


def test_adapter_that_dies_mid_reply_is_a_crash(tmp_path):
    cmd = _script(
        tmp_path,
        """
        def half(self, req):
            sys.stdout.buffer.write((100).to_bytes(4, "big") + b"\\xa1")
            sys.stdout.buffer.flush()
            os._exit(0)
        ra.Adapter.handle = half
        """,
    )
    client = AdapterClient(cmd)
    client.start()
    with pytest.raises(AdapterCrashed, match=r"exited with status 0"):
        client.request(lambda rid: ap.close_request(rid, 1), time.monotonic() + 10)
    client.kill()

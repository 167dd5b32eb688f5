"""The adapter protocol (spec/adapter.md): framing, message checks, and the reference adapter.

Framing is checked against bytes written out by hand from adapter §2.2 and
RFC 8949, key order against cbor2's canonical encoder (a second
implementation), and the reference adapter is driven over its pipes by this
test directly, with the reference library playing the peer: neither the
runner's client nor its cases are involved.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time

import cbor2
import pytest

from parley import Emitter, SessionConfig
from parley.entropy import SeededEntropy
from parley_conformance import adapter_protocol as ap
from parley_conformance.peer import fixed_keyset

REFERENCE = [sys.executable, "-m", "parley_conformance.adapters.reference_adapter"]


# -- framing and encoding (adapter §2.2, adapter §2.3) ------------------------------


def test_framing_by_hand():
    # {"type": "eof", "id": 1, "session": 2}: a map of 3 (0xa3); "id" (0x62 69 64) sorts first,
    # then "type" (0x64 ...), then "session" (0x67 ...): shorter encodings first (RFC 8949 §4.2.1).
    body = b"\xa3" + b"\x62id" + b"\x01" + b"\x64type" + b"\x63eof" + b"\x67session" + b"\x02"
    assert ap.encode(ap.eof_request(1, 2)) == len(body).to_bytes(4, "big") + body
    assert ap.decode(body) == {"type": "eof", "id": 1, "session": 2}


def test_requests_are_in_the_canonical_key_order_of_a_second_encoder():
    req = ap.start_request(
        7,
        3,
        role="emitter",
        suite=2,
        own_key="k",
        peer_key="p",
        entropy=[("sid", b"\x01" * 16)],
        deterministic_signatures=True,
        app_header=b"h",
        message=b"m" * 300,
        chunk_size=32,
    )
    assert ap.encode(req)[4:] == cbor2.dumps(req, canonical=True)


def test_non_deterministic_reply_is_refused_with_a_hint():
    body = cbor2.dumps({"type": "closed", "id": 1, "session": 1})  # insertion order: not sorted
    with pytest.raises(ap.AdapterProtocolError, match="shorter keys first"):
        ap.decode(body)


@pytest.mark.parametrize(
    "body,message",
    [
        (cbor2.dumps([1, 2], canonical=True), "not a map"),
        (cbor2.dumps({"id": 1}, canonical=True), 'no text "type"'),
        (b"\xff", "not valid CBOR"),
    ],
)
def test_malformed_bodies(body, message):
    with pytest.raises(ap.AdapterProtocolError, match=message):
        ap.decode(body)


# -- replies (adapter §3.7 to adapter §3.9) -----------------------------------------------


def _result(**over):
    msg = {
        "type": "result",
        "id": 5,
        "session": 1,
        "out": b"",
        "released": b"",
        "events": [],
        "status": "running",
        "error": None,
    }
    msg.update(over)
    return {k: v for k, v in msg.items() if v != "DROP"}


@pytest.mark.parametrize(
    "over,message",
    [
        ({"id": 6}, 'reply "id" is 6'),
        ({"out": "DROP"}, 'lacks "out"'),
        ({"released": "text"}, '"released" must be a byte string'),
        ({"status": "ok"}, '"status" must be one of'),
        ({"status": "failed"}, 'status "failed" without an "error"'),
        ({"error": "DROP"}, 'lacks "error"'),
        ({"events": [{"type": "data"}]}, "unknown event"),
        ({"events": [{"type": "end_of_stream", "total": -1}]}, '"total" must be a uint'),
        ({"type": "hello"}, 'expected a "result" reply'),
    ],
)
def test_bad_results_are_protocol_errors(over, message):
    with pytest.raises(ap.AdapterProtocolError, match=message):
        ap.parse_result(_result(**over), 5)


def test_unsupported_and_error_replies():
    with pytest.raises(ap.Unsupported, match="no emitter"):
        ap.parse_result({"type": "unsupported", "id": 5, "reason": "no emitter"}, 5)
    with pytest.raises(ap.AdapterErrorReply, match="bad_request: nope"):
        ap.parse_result({"type": "error", "id": None, "code": "bad_request", "message": "nope"}, 5)


def test_error_names_and_numbers_are_checked_against_the_registry():
    # Numbers written from spec/parley.md §11, not read from the code under test.
    assert ap.ErrorInfo("BAD_RECORD_MAC", 11).registry_problem() is None
    assert "registry number is 11" in ap.ErrorInfo("BAD_RECORD_MAC", 12).registry_problem()
    assert "not in the registry" in ap.ErrorInfo("BAD_MAC", 11).registry_problem()


def test_hello_checks():
    hello = {
        "type": "hello",
        "magic": "parley-adapter",
        "version": 1,
        "implementation": "x",
        "roles": ["receiver"],
        "suites": [2],
        "injected_randomness": False,
        "deterministic_signatures": False,
        "max_message": 1 << 20,
    }
    h = ap.parse_hello(hello)
    assert h.roles == ("receiver",) and h.suites == (2,) and not h.injected_randomness
    with pytest.raises(ap.AdapterProtocolError, match="speaks version 1"):
        ap.parse_hello({**hello, "version": 2})
    with pytest.raises(ap.AdapterProtocolError, match="magic"):
        ap.parse_hello({**hello, "magic": "parley"})


# -- the reference adapter, spoken to directly ------------------------------------------------


class Pipe:
    """The reference adapter as a child; every read has a deadline (READ_TIMEOUT)."""

    READ_TIMEOUT = 60.0

    def __init__(self):
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 - a file: a chatty adapter never blocks
        self.p = subprocess.Popen(
            REFERENCE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.err,
            start_new_session=True,
        )

    def _fail(self, what: str):
        os.killpg(self.p.pid, signal.SIGKILL)
        self.p.wait()
        self.err.seek(0)
        tail = "\n".join(self.err.read().decode(errors="replace").splitlines()[-15:])
        raise AssertionError(f"reference adapter: {what}; killed; its stderr ended with:\n{tail}")

    def _read_exactly(self, n: int, deadline: float) -> bytes:
        data = b""
        fd = self.p.stdout.fileno()
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self._fail(
                    f"no complete message within {self.READ_TIMEOUT} s "
                    f"(had {len(data)} of {n} bytes)"
                )
            chunk = os.read(fd, n - len(data))
            if not chunk:
                self._fail(f"end of its output after {len(data)} of {n} bytes")
            data += chunk
        return data

    def read(self):
        deadline = time.monotonic() + self.READ_TIMEOUT
        n = int.from_bytes(self._read_exactly(4, deadline), "big")
        return cbor2.loads(self._read_exactly(n, deadline))

    def send(self, msg: dict):
        body = cbor2.dumps(msg, canonical=True)
        self.p.stdin.write(len(body).to_bytes(4, "big") + body)
        self.p.stdin.flush()
        return self.read()

    def finish(self) -> int:
        """End of input; the adapter's exit status, its pipes closed."""
        self.p.stdin.close()
        try:
            status = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._fail("still running 10 s after the end of its input")
        self.p.stdout.close()
        self.err.close()
        return status


@pytest.mark.parametrize("suite", [1, 2])
def test_reference_adapter_runs_a_session_against_the_library(suite):
    keys = fixed_keyset(suite)
    pipe = Pipe()
    hello = pipe.read()
    assert hello["magic"] == "parley-adapter" and hello["version"] == 1
    assert sorted(hello["roles"]) == ["emitter", "receiver"] and hello["suites"] == [1, 2]
    start = {
        "type": "start",
        "id": 1,
        "session": 9,
        "role": "receiver",
        "suite": suite,
        "own_key": keys.private_pem("receiver"),
        "peer_key": keys.public_pem("emitter"),
        "entropy": None,
        "deterministic_signatures": False,
        "app_header": b"",
        "message": b"",
        "chunk_size": 0,
    }
    r = pipe.send(start)
    assert r == {
        "type": "result",
        "id": 1,
        "session": 9,
        "out": b"",
        "released": b"",
        "events": [],
        "status": "running",
        "error": None,
    }
    e = Emitter(
        SessionConfig(
            keys.key("emitter"),
            keys.key("receiver").public,
            SeededEntropy(b"x", "E"),
            app_header=b"hdr",
            chunk_size=3,
        )
    )
    e.start()
    r = pipe.send({"type": "feed", "id": 2, "session": 9, "data": e.data_to_send()})
    assert r["status"] == "running" and r["error"] is None and r["out"]
    e.receive_data(r["out"])
    e.send_data(b"hello world")
    e.end_stream()
    r = pipe.send({"type": "feed", "id": 3, "session": 9, "data": e.data_to_send()})
    assert r["status"] == "done" and r["released"] == b"hello world"
    assert [ev["type"] for ev in r["events"]] == ["handshake_complete", "end_of_stream"]
    assert r["events"][0]["transcript_hash"] == e.transcript_hash
    assert r["events"][0]["app_header"] == b"hdr" and r["events"][1]["total"] == 11
    assert [type(ev).__name__ for ev in e.receive_data(r["out"])] == ["Acknowledged"]
    # A later request on the completed session: end of transport is normal (parley §7.5).
    r = pipe.send({"type": "eof", "id": 4, "session": 9})
    assert r["status"] == "done" and r["error"] is None
    assert pipe.send({"type": "close", "id": 5, "session": 9}) == {
        "type": "closed",
        "id": 5,
        "session": 9,
    }
    r = pipe.send({"type": "feed", "id": 6, "session": 9, "data": b"x"})
    assert r["type"] == "error" and r["code"] == "unknown_session"
    assert pipe.finish() == 0  # end of input: exit 0 (adapter §2.4)


def test_reference_adapter_reports_registry_errors_and_bad_requests():
    keys = fixed_keyset(2)
    pipe = Pipe()
    pipe.read()
    r = pipe.send(
        {
            "type": "start",
            "id": 1,
            "session": 1,
            "role": "receiver",
            "suite": 2,
            "own_key": keys.private_pem("receiver"),
            "peer_key": keys.public_pem("emitter"),
            "entropy": None,
            "deterministic_signatures": False,
            "app_header": b"",
            "message": b"",
            "chunk_size": 0,
        }
    )
    r = pipe.send({"type": "feed", "id": 2, "session": 1, "data": (8193).to_bytes(4, "big")})
    assert r["status"] == "failed"
    assert r["error"]["name"] == "FRAME_TOO_LARGE" and r["error"]["number"] == 4  # parley §11
    assert r["out"] == bytes.fromhex("00000005a200070904")  # ABORT {0: 7, 9: 4}
    r = pipe.send({"type": "feed", "id": 3, "session": 1, "data": b"more"})
    assert r["status"] == "failed" and r["error"]["name"] == "FRAME_TOO_LARGE"  # parley §9.3
    r = pipe.send(
        {
            "type": "start",
            "id": 4,
            "session": 2,
            "role": "receiver",
            "suite": 1,
            "own_key": "not a key",
            "peer_key": keys.public_pem("emitter"),
        }
    )
    # adapter §3.3 (1.1): a key that fails to load fails the session: a result, not an error.
    assert r["type"] == "result" and r["status"] == "failed" and r["out"] == b""
    assert r["error"]["name"] == "KEY_FILE_INVALID" and r["error"]["number"] == 64
    r = pipe.send({"type": "eof", "id": 5, "session": 2})
    assert r["status"] == "failed" and r["error"]["name"] == "KEY_FILE_INVALID"
    body = b"\xff\xff"
    pipe.p.stdin.write(len(body).to_bytes(4, "big") + body)
    pipe.p.stdin.flush()
    r = pipe.read()
    assert r["type"] == "error" and r["id"] is None
    assert pipe.finish() == 0


def test_unsorted_keys_are_reported_as_non_deterministic_not_as_invalid_cbor():
    """Finding 34: a reply with unsorted keys is valid CBOR, only not deterministic."""
    body = cbor2.dumps({"type": "closed", "id": 1, "session": 1})
    with pytest.raises(ap.AdapterProtocolError) as exc:
        ap.decode(body)
    assert "not valid CBOR" not in str(exc.value)
    assert "well-formed CBOR but not in the deterministic encoding" in str(exc.value)


def test_a_result_must_echo_the_session_and_detail_is_text_or_absent():
    """adapter §3.7: "session" is the request's; "detail" is optional text (finding 37)."""
    base = {
        "type": "result",
        "id": 3,
        "session": 9,
        "out": b"",
        "released": b"",
        "events": [],
        "status": "running",
        "error": None,
    }
    assert ap.parse_result(dict(base), 3, 9).status == "running"
    with pytest.raises(ap.AdapterProtocolError, match="echoes the request's session"):
        ap.parse_result(dict(base, session=8), 3, 9)
    err = {"name": "TRUNCATED", "number": 14}
    failed = dict(base, status="failed")
    assert ap.parse_result(dict(failed, error=err), 3, 9).error.detail == ""
    assert ap.parse_result(dict(failed, error=dict(err, detail=None)), 3, 9).error.detail == ""
    with pytest.raises(ap.AdapterProtocolError, match="must be text"):
        ap.parse_result(dict(failed, error=dict(err, detail=5)), 3, 9)

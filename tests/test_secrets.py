"""No secret ever reaches a string the code produces (§13.3, §14 "Do not log secrets").

Sessions of both suites, successful and failing in many ways, run with a
``trace`` callback and a recording entropy source that hand the test every
secret: long-term private keys, ephemeral secrets, DSA nonces k, DH outputs Z,
PRK, every derived key of §6, the message and the application header.  The
test then collects every string the code produced — exception messages and
reprs with their whole traceback (chained exceptions included), reprs and
strs of sessions, configurations, keys, entropy sources and events, logging
output at DEBUG, stdout, stderr and warnings — and every byte it put on the
wire, and searches them for each secret as raw bytes, hex (either case),
base64 (standard and URL-safe, every alignment), Python's bytes repr, and
decimal/hex of integers.  Any 8-byte window of a secret counts.
"""

from __future__ import annotations

import base64
import logging
import sys
import traceback
import warnings

import pytest

from helpers import frames_of, join
from parley import Emitter, ParleyError, Receiver, SessionConfig, keys
from parley.entropy import RecordingEntropy, SeededEntropy
from parley.frames import FINAL, encode
from parley.primitives import keyfile, symmetric
from parley.records import final_fields

SECRET_TRACES = {"Z", "PRK", "K_R", "MK_R", "K_E", "MK_E", "K_data", "MK_data", "MK_ack"}
WINDOW = 8
MESSAGE = b"Confidential payload: launch codes 0000, " * 5 + bytes(range(256))
HEADER = b"name=secret-plans.txt"


# -- collecting secrets ----------------------------------------------------------------


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8 or 1, "big")


def private_secrets(key) -> list[object]:
    """A long-term private key as the integer, its bytes, and its PKCS#8 DER encoding."""
    x = keyfile.private_scalar(key.handle)
    der = keys.private_key_pem(key, None)
    body = b"".join(der.split(b"\n")[1:-2])
    return [x, _int_bytes(x), base64.b64decode(body)]


class Recorder:
    """Collects the secrets of one session from its trace and entropy, and everything it emits."""

    def __init__(self) -> None:
        self.secrets: list[object] = []
        self.strings: list[str] = []
        self.wire: list[bytes] = []

    def trace(self, name: str, value: object) -> None:
        if name in SECRET_TRACES or name.startswith("k("):
            self.secrets.append(value)

    def config(self, own, peer, seed: bytes, party: str, **kw) -> SessionConfig:
        entropy = RecordingEntropy(SeededEntropy(seed, party))
        self._entropies = getattr(self, "_entropies", []) + [entropy]
        return SessionConfig(own, peer, entropy, trace=self.trace, **kw)

    def finish(self) -> None:
        for entropy in getattr(self, "_entropies", []):
            for purpose, value in entropy.draws:
                if purpose == "ephemeral":
                    self.secrets += [value, int.from_bytes(value, "big")]

    def say(self, *objects) -> None:
        for obj in objects:
            self.strings += [repr(obj), str(obj)]

    def error(self, exc: BaseException) -> None:
        self.say(exc, getattr(exc, "detail", ""), exc.args, getattr(exc, "events", None))
        self.strings.append("".join(traceback.format_exception(exc)))
        logging.getLogger("parley.test").error("session failed", exc_info=exc)

    def out(self, *parties) -> None:
        for p in parties:
            self.wire.append(p.data_to_send())


def forms(secret: object) -> tuple[set[str], set[bytes]]:
    """Text forms and raw byte windows of a secret."""
    text: set[str] = set()
    raw: set[bytes] = set()
    if isinstance(secret, int):
        if secret.bit_length() >= 64:
            text.add(str(secret))
            text.add(f"{secret:x}")
            text.add(f"{secret:X}")
        secret = _int_bytes(secret)
    data = bytes(secret)
    if len(data) < WINDOW:
        return text, raw
    for i in range(0, len(data) - WINDOW + 1):
        w = data[i : i + WINDOW]
        raw.add(w)
        text.add(w.hex())
        text.add(w.hex().upper())
        text.add(repr(w)[2:-1])
    for a in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            b64 = enc(data[a:]).decode()
            for i in range(0, len(b64) - 12 - 4, 4):  # 12 characters = 9 bytes, aligned
                text.add(b64[i : i + 12])
    return text, raw


def assert_no_secret(rec: Recorder, extra_text: str = "") -> None:
    rec.finish()
    assert len(rec.secrets) >= 4, "the scenario collected too few secrets to mean anything"
    haystack = "\n".join(rec.strings) + "\n" + extra_text
    wire = b"".join(rec.wire)
    for secret in rec.secrets:
        text, raw = forms(secret)
        for t in text:
            assert t not in haystack, f"a secret appears in an output string (form {t!r})"
        for w in raw:
            assert w not in wire, "a secret appears in clear on the wire"


# -- scenarios -------------------------------------------------------------------------------


def _pair(keypairs, suite, rec, *, e_pin=None, seed=b"secrets"):
    e_key, r_key, _ = keypairs[suite]
    for k in (e_key, r_key):
        rec.secrets += private_secrets(k)
    e = Emitter(
        rec.config(
            e_key,
            e_pin or r_key.public,
            seed,
            "E",
            app_header=HEADER,
            chunk_size=64,
            deterministic_signatures=True,
        )
    )
    r = Receiver(rec.config(r_key, e_key.public, seed, "R", deterministic_signatures=True))
    rec.say(e, r, e.config, r.config, e_key, r_key, e_key.public, e.config.entropy, e.suite)
    return e, r


def _feed(rec, party, data):
    try:
        events = party.receive_data(data)
    except ParleyError as exc:
        rec.error(exc)
        rec.say(party)
        return None
    rec.say(*events, events, party)
    return events


def _handshake(rec, e, r):
    e.start()
    m1 = e.data_to_send()
    rec.wire.append(m1)
    _feed(rec, r, m1)
    m2 = r.data_to_send()
    rec.wire.append(m2)
    _feed(rec, e, m2)


def _flight(rec, e):
    e.send_data(MESSAGE)
    e.end_stream()
    flight = e.data_to_send()
    rec.wire.append(flight)
    return frames_of(flight)


def flip(body: bytes, i: int) -> bytes:
    return body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :]


def scenario(name, keypairs, suite, rec, monkeypatch):
    if name == "bad signature (wrong pinned key)":
        _, _, other = keypairs[suite]
        e, r = _pair(keypairs, suite, rec, e_pin=other.public)
        _handshake(rec, e, r)
        rec.out(e, r)
        return
    e, r = _pair(keypairs, suite, rec)
    if name == "R_HELLO tampered":
        e.start()
        m1 = e.data_to_send()
        _feed(rec, r, m1)
        m2 = frames_of(r.data_to_send())[0]
        _feed(rec, e, join([flip(m2, len(m2) - 3)]))
        rec.out(e, r)
        return
    _handshake(rec, e, r)
    bodies = _flight(rec, e)  # E_AUTH, DATA..., FINAL
    if name == "complete session":
        _feed(rec, r, join(bodies))
        r.acknowledge()  # the application committed the message (§7.4, §8)
        ack = r.data_to_send()
        rec.wire.append(ack)
        _feed(rec, e, ack)
    elif name == "E_AUTH tampered":
        _feed(rec, r, join([flip(bodies[0], 10)] + bodies[1:]))
    elif name == "record tampered":
        _feed(rec, r, join(bodies[:3] + [flip(bodies[3], 12)] + bodies[4:]))
    elif name == "records reordered":
        _feed(rec, r, join(bodies[:2] + [bodies[3], bodies[2]] + bodies[4:]))
    elif name == "wrong total, resealed":
        n = len(bodies) - 2
        bad_final = encode(FINAL, final_fields(e._keys, n, len(MESSAGE) + 1)) if e._keys else None
        _feed(rec, r, join(bodies[:-1] + [bad_final or bodies[-1]]))
    elif name == "truncated":
        _feed(rec, r, join(bodies[:4])[:-7])
        try:
            r.receive_eof()
        except ParleyError as exc:
            rec.error(exc)
        try:
            e.receive_eof()
        except ParleyError as exc:
            rec.error(exc)
    elif name == "ACK tampered":
        _feed(rec, r, join(bodies))
        r.acknowledge()
        ack = frames_of(r.data_to_send())[0]
        _feed(rec, e, join([flip(ack, 8)]))
    elif name == "library failure in the data path":
        # A library exception whose message quotes its arguments (a KeyError of a key,
        # a ValueError of a buffer) must not travel with the INTERNAL_ERROR (§11).
        def failing(key, counter_block, data):
            raise ValueError(f"cipher failed: key={bytes(key).hex()} data={bytes(data)!r}")

        _feed(rec, r, join(bodies[:1]))  # E_AUTH: the handshake completes
        keys_ = r._keys
        monkeypatch.setattr(symmetric, "aes256_ctr", failing)
        if hasattr(symmetric, "AesCtrKey"):  # the record layer's per-session context
            monkeypatch.setattr(
                symmetric.AesCtrKey, "apply", lambda self, cb, data: failing(keys_.k_data, cb, data)
            )
        _feed(rec, r, join(bodies[1:]))
        assert r.error is not None and r.error.error.name == "INTERNAL_ERROR"
    elif name == "API misuse after failure":
        _feed(rec, r, join([flip(bodies[0], 10)]))
        for op in (lambda: r.receive_data(b"x"), r.receive_eof):
            try:
                op()
            except ParleyError as exc:
                rec.error(exc)
    rec.out(e, r)


SCENARIOS = [
    "complete session",
    "bad signature (wrong pinned key)",
    "R_HELLO tampered",
    "E_AUTH tampered",
    "record tampered",
    "records reordered",
    "wrong total, resealed",
    "truncated",
    "ACK tampered",
    "library failure in the data path",
    "API misuse after failure",
]


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("name", SCENARIOS)
def test_no_secret_in_any_output(keypairs, suite, name, caplog, capsys, monkeypatch):
    caplog.set_level(logging.DEBUG)
    rec = Recorder()
    rec.secrets += [MESSAGE[i : i + 64] for i in range(0, len(MESSAGE), 64)] + [HEADER]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario(name, keypairs, suite, rec, monkeypatch)
    rec.strings += [str(w.message) for w in caught]
    rec.strings += [r.getMessage() for r in caplog.records]
    out, err = capsys.readouterr()
    assert_no_secret(rec, caplog.text + out + err)
    if name != "complete session":
        assert any("Error" in s for s in rec.strings), "the scenario did not fail"


# -- key files ------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", [1, 2])
def test_key_file_errors_do_not_quote_the_key(keypairs, suite):
    """KEY_FILE_INVALID / KEY_PASSWORD_WRONG messages for damaged private key files never quote
    the key's material (§12)."""
    key = keypairs[suite][0]
    rec = Recorder()
    rec.secrets += private_secrets(key)
    plain = keys.private_key_pem(key, None)
    locked = keys.private_key_pem(key, b"Tr0ub4dor&3 xyzzy")
    lines = plain.split(b"\n")
    mid = len(lines) // 2
    damaged = [
        (locked, b"wrong"),
        (locked, None),
        (b"\n".join(lines[:mid] + [lines[mid][:-4] + b"!!!!"] + lines[mid + 1 :]), None),
        (b"\n".join(lines[:mid] + lines[mid + 1 :]), None),  # a line missing
        (b"\n".join(lines[:2] + lines[-2:]), None),  # truncated DER
        (plain.replace(b"PRIVATE KEY", b"EC PRIVATE KEY"), None),
        (plain + plain, None),
    ]
    for pem, password in damaged:
        # (each lambda is called at once, in this iteration of the outer loop)
        for load in (
            lambda: keys.load_private_key(pem, password),  # noqa: B023
            lambda: keys.load_public_key(pem),  # noqa: B023
        ):
            try:
                load()
            except ParleyError as exc:
                rec.error(exc)
            except Exception as exc:
                raise AssertionError(f"key loading leaked {type(exc).__name__}") from exc
    assert len(rec.strings) > 20
    rec.secrets.append(b"Tr0ub4dor&3 xyzzy")
    assert_no_secret(rec)


def test_the_search_finds_a_leak():
    """The search itself can fail: a secret in any searched form is found."""
    secret = bytes(range(7, 57))
    for leak in (
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(b"xy" + secret).decode(),
        repr(secret),
        str(int.from_bytes(secret, "big")),
    ):
        rec = Recorder()
        rec.secrets = [secret, int.from_bytes(secret, "big")] * 2
        rec.strings = [f"error: {leak}"]
        with pytest.raises(AssertionError, match="output string"):
            assert_no_secret(rec)
    rec = Recorder()
    rec.secrets = [secret] * 4
    rec.wire = [b"\x00" + secret[10:30] + b"\x00"]
    with pytest.raises(AssertionError, match="wire"):
        assert_no_secret(rec)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))

"""Tags and MACs are compared in constant time, and only so (§5.3, §5.4, §7.3, §7.4, §13.3).

Three independent checks, each of which fails if a verification compares a
received tag with ``==`` (or any other early-exit comparison):

1. static: the data path and key confirmation sources (``records.py``,
   ``connection.py``, ``primitives/symmetric.py``) contain no ``==``, ``!=``,
   ``is``, ``in`` comparison, and no ``__eq__``/``operator.eq`` call, with a
   tag-valued operand (a name or attribute such as ``tag``, ``mac_r``,
   ``_final_tag``, ``digest``; a ``f[K_MAC]`` field; a call to
   ``.tag()``, ``.digest()`` or ``hmac()``); lengths (``len(tag)``) are
   public and allowed.  The checker is tested on known-bad code.
2. dynamic: with ``hmac.compare_digest`` wrapped to record its arguments, a
   complete session calls it exactly once per verification (mac_r, mac_e,
   every DATA record, FINAL, ACK), each time with the tag that arrived; a
   tampered tag of each kind is refused after a ``compare_digest`` call that
   saw it.
3. dynamic: every received tag is handed to the core as a ``bytes`` subclass
   whose ``==``, ``!=``, ordering and hashing raise; complete sessions of both
   suites still succeed.
"""

from __future__ import annotations

import ast
import hmac
import pathlib

import pytest

from helpers import frames_of, join, make_pair
from parley import ParleyError, cbor, frames, records
from parley.events import Acknowledged, EndOfStream
from parley.frames import K_MAC

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "reference" / "parley" / p
    for p in ("records.py", "connection.py", "primitives/symmetric.py")
]
TAG_WORDS = {"tag", "mac", "digest"}
TAG_CALLS = {"tag", "digest", "hmac", "hexdigest"}


# -- 1. static -----------------------------------------------------------------------------


def _tagish_name(identifier: str) -> bool:
    if identifier.isupper():  # constants such as K_MAC, TAG_LEN: structure, not values
        return False
    return bool(TAG_WORDS & set(identifier.lower().strip("_").split("_")))


def _tag_valued(node: ast.AST) -> bool:
    """Whether an expression may hold a tag's value (outside ``len(...)``)."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "len":
            return False
        if name in TAG_CALLS:
            return True
        return any(_tag_valued(a) for a in node.args)
    if isinstance(node, ast.Name):
        return _tagish_name(node.id)
    if isinstance(node, ast.Attribute):
        return _tagish_name(node.attr)
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Name) and index.id == "K_MAC":
            return True
        return _tag_valued(node.value) and not isinstance(index, (ast.Constant, ast.BinOp))
    if isinstance(node, (ast.BinOp,)):
        return _tag_valued(node.left) or _tag_valued(node.right)
    return False


def non_constant_time_comparisons(source: str) -> list[str]:
    """Comparisons (and __eq__/operator.eq calls) with a tag-valued operand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            if any(_tag_valued(x) for x in [node.left, *node.comparators]):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("__eq__", "__ne__", "eq", "ne") and any(_tag_valued(a) for a in node.args):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_tag_is_compared_with_an_early_exit_comparison(path):
    assert non_constant_time_comparisons(path.read_text()) == []


def _function(path: pathlib.Path, cls: str | None, func: str) -> ast.FunctionDef:
    tree = ast.parse(path.read_text())
    scope = (
        next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls)
        if cls
        else tree
    )
    return next(n for n in ast.walk(scope) if isinstance(n, ast.FunctionDef) and n.name == func)


def test_record_keys_verify_through_the_fence():
    """RecordKeys.verify returns what RecordMac.verify (behind the fence) decides."""
    fn = _function(SOURCES[0], "RecordKeys", "verify")
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    assert len(returns) == 1, "RecordKeys.verify has one return"
    call = returns[0].value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
    assert call.func.attr == "verify" and ast.unparse(call.func.value) == "mac"
    assign = [n for n in ast.walk(fn) if isinstance(n, ast.Assign)]
    assert [ast.unparse(a) for a in assign] == [
        "mac = self._ack_mac if rtype == ACK else self._data_mac"
    ]
    init = _function(SOURCES[0], "RecordKeys", "__init__")
    macs = {
        ast.unparse(a.targets[0]): ast.unparse(a.value.func)
        for a in ast.walk(init)
        if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call)
    }
    assert macs["self._data_mac"] == macs["self._ack_mac"] == "symmetric.RecordMac"


def test_verifiers_use_compare_digest():
    """The places that decide whether a tag verifies call hmac.compare_digest: the record
    MAC (RecordMac.verify, which RecordKeys.verify returns, and RecordMac.opener, the
    receiver's per-record path) and the handshake MACs (hmac_verify)."""
    for path, cls, func in (
        (SOURCES[2], "RecordMac", "verify"),
        (SOURCES[2], "RecordMac", "opener"),  # the receiver's per-record path
        (SOURCES[2], None, "hmac_verify"),
    ):
        fn = _function(path, cls, func)
        calls = [
            n.func.attr
            for n in ast.walk(fn)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
        ]
        assert "compare_digest" in calls, f"{path.name}: {func} does not call compare_digest"


@pytest.mark.parametrize(
    "bad",
    [
        "if tag == expected:\n    pass",
        "if f[K_MAC] != self._keys.tag(DATA, seq, offset, ct):\n    raise E",
        "ok = h.digest() == mac_e",
        "return symmetric.hmac(name, key, data) == bytes(tag)",
        "if self._final_tag in seen:\n    pass",
        "ok = bytes.__eq__(tag_a, computed)",
        "ok = operator.eq(mac_r, x)",
        "ok = fields[K_MAC][:16] == prefix",
    ],
)
def test_the_checker_finds_early_exit_comparisons(bad):
    assert non_constant_time_comparisons(bad), bad


@pytest.mark.parametrize(
    "good",
    [
        "if len(tag) != 32:\n    pass",
        "if body[ct_end] != K_MAC or body[ct_end + 2] != TAG_LEN:\n    pass",
        "base = self._ack_mac if rtype == ACK else self._data_mac",
        "if len(mac_r) != suite.hash_len:\n    pass",
    ],
)
def test_the_checker_allows_public_comparisons(good):
    assert non_constant_time_comparisons(good) == []


# -- 2. dynamic: every verification goes through compare_digest -------------------------------


@pytest.fixture
def compare_calls(monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a, b):
        calls.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    return calls


def _session(keypairs, suite, message=b"x" * 100):
    """(emitter, receiver, E->R bodies after R_HELLO, R_HELLO body) of a session up to FINAL."""
    e, r = make_pair(keypairs, suite, chunk=32)
    e.start()
    r.receive_data(e.data_to_send())
    r_hello = frames_of(r.data_to_send())[0]
    return e, r, r_hello, message


def _tag(body: bytes) -> bytes:
    return cbor.decode(body)[K_MAC]


def _flip_tag(body: bytes) -> bytes:
    item = cbor.decode(body)
    item[K_MAC] = item[K_MAC][:-1] + bytes([item[K_MAC][-1] ^ 1])
    return cbor.encode(item)


@pytest.mark.parametrize("suite", [1, 2])
def test_each_verification_calls_compare_digest_with_the_received_tag(
    keypairs, suite, compare_calls
):
    e, r, r_hello, message = _session(keypairs, suite)
    compare_calls.clear()
    e.receive_data(join([r_hello]))  # mac_r (§5.3)
    e.send_data(message)
    e.end_stream()
    flight = frames_of(e.data_to_send())  # E_AUTH, DATA x4, FINAL
    events = r.receive_data(join(flight))  # mac_e, 4 tags, tag_f
    r.acknowledge()  # the application committed the message (§7.4, §8)
    ack = frames_of(r.data_to_send())[0]
    events += e.receive_data(join([ack]))  # tag_a (§7.4)
    assert isinstance(events[-1], Acknowledged)
    received = [_tag(r_hello)] + [_tag(b) for b in flight] + [_tag(ack)]
    assert len(compare_calls) == len(received) == 8, "one compare_digest per verification"
    for tag, (a, b) in zip(received, compare_calls):
        assert tag in (a, b), "compare_digest did not see the received tag"


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize(
    "which,error",
    [
        ("mac_r", "KEY_CONFIRMATION_FAILED"),
        ("mac_e", "KEY_CONFIRMATION_FAILED"),
        ("DATA", "BAD_RECORD_MAC"),
        ("FINAL", "BAD_RECORD_MAC"),
        ("ACK", "BAD_RECORD_MAC"),
    ],
)
def test_a_tampered_tag_is_refused_by_compare_digest(keypairs, suite, which, error, compare_calls):
    e, r, r_hello, message = _session(keypairs, suite)
    if which == "mac_r":
        r_hello = _flip_tag(r_hello)
        target, data, bad = e, join([r_hello]), _tag(r_hello)
    else:
        e.receive_data(join([r_hello]))
        e.send_data(message)
        e.end_stream()
        flight = frames_of(e.data_to_send())
        index = {"mac_e": 0, "DATA": 2, "FINAL": len(flight) - 1}.get(which)
        if index is not None:
            flight[index] = _flip_tag(flight[index])
            target, data, bad = r, join(flight), _tag(flight[index])
        else:
            r.receive_data(join(flight))
            r.acknowledge()
            ack = _flip_tag(frames_of(r.data_to_send())[0])
            target, data, bad = e, join([ack]), _tag(ack)
    compare_calls.clear()
    with pytest.raises(ParleyError) as info:
        target.receive_data(data)
    assert info.value.error.name == error
    assert any(bad in pair for pair in compare_calls), "refused without compare_digest"
    assert not any(isinstance(ev, EndOfStream) for ev in info.value.events)


# -- 3. dynamic: a received tag that cannot be compared with == --------------------------------


class UncomparableTag(bytes):
    """A received tag: any ==, !=, ordering or hashing of it is an early-exit comparison."""

    def _refuse(self, *_):
        raise AssertionError("a received tag was compared with an early-exit operator")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = _refuse


@pytest.mark.parametrize("suite", [1, 2])
def test_sessions_succeed_when_tags_refuse_equality(keypairs, suite, monkeypatch):
    real_decode, real_fast = cbor.decode, records.parse_data_body

    def wrap(item):
        if isinstance(item, dict) and isinstance(item.get(K_MAC), bytes):
            item[K_MAC] = UncomparableTag(item[K_MAC])
        return item

    monkeypatch.setattr(cbor, "decode", lambda *a, **kw: wrap(real_decode(*a, **kw)))
    monkeypatch.setattr(records, "parse_data_body", lambda body: wrap(real_fast(body)))
    wrapped = []
    real_verify = records.RecordKeys.verify

    def verify(self, rtype, seq, count, body, tag):
        wrapped.append(type(tag) is UncomparableTag)
        return real_verify(self, rtype, seq, count, body, tag)

    monkeypatch.setattr(records.RecordKeys, "verify", verify)

    e, r, r_hello, message = _session(keypairs, suite)
    e.receive_data(join([r_hello]))
    e.send_data(message)
    e.end_stream()
    events = r.receive_data(e.data_to_send())
    assert isinstance(events[-1], EndOfStream) and events[-1].total == len(message)
    r.acknowledge()
    events = e.receive_data(r.data_to_send())
    assert isinstance(events[-1], Acknowledged)
    assert len(wrapped) == 6 and all(wrapped), "the record tags did not reach verify() wrapped"
    assert frames.decode_body  # the general decoder was the one wrapped

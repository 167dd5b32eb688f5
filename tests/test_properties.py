"""Property tests: the decoder and both state machines under hostile input (hypothesis).

What may happen when a party is fed bytes an attacker chose is written once,
in ``fuzz/oracle.py`` (shared with the atheris targets): progress, or a
registry error the peer may cause (§11); only authenticated plaintext, whole
records, a prefix of the true message (§7.3, §9.3); dead after a failure,
with the same error (§9.3); the same outcome for every split of the byte
stream (§4.1).  The inputs here are

* arbitrary bytes, for the frame reader, the CBOR profile, the schema and
  each party in each state;
* a valid deterministic transcript per suite (made once with
  ``helpers.make_pair``) mutated: bit flips, insertions, deletions,
  truncations, duplicated byte ranges; frames dropped, duplicated, swapped,
  moved, taken from another session or reflected from the other direction;
  both at random (hypothesis) and exhaustively for single edits (every bit
  position's byte, every truncation point, every frame);
* arbitrary splits of those streams, which must not change the outcome;
* arbitrary sequences of API calls (state machine, §9.2).

Profiles: ``ci`` (default; the whole file in well under 30 s) and ``long``
(50 times the examples): ``HYPOTHESIS_PROFILE=long python3 -m pytest tests/test_properties.py``.
Any other registered hypothesis profile name is used as is.
"""

from __future__ import annotations

import os
import pathlib
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import make_pair
from parley import ParleyError, cbor, frames
from parley.errors import LocalProtocolError
from parley.events import Data
from parley.state import Role, State, next_state

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "fuzz"))

import oracle  # noqa: E402
import targets  # noqa: E402
import transcripts  # noqa: E402

_BASE = dict(
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
_PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "ci")
_SCALE = {"ci": 1, "long": 50}.get(_PROFILE_NAME)
_PARENT = settings.get_profile(_PROFILE_NAME) if _SCALE is None else settings.default


def budget(n: int) -> settings:
    """``n`` examples in the ci profile, 50 n in the long one."""
    if _SCALE is None:
        return settings(_PARENT, **_BASE)
    return settings(_PARENT, max_examples=n * _SCALE, **_BASE)


MESSAGE = bytes(range(50)) + b"property message"  # 66 bytes: four records of 16 and one of 2
SUITES = [1, 2]


@pytest.fixture(scope="session")
def tr(keypairs):
    """{suite: (transcript, another session's transcript)}, deterministic, recorded once."""
    out = {}
    for suite in SUITES:
        t = transcripts.record(
            *make_pair(keypairs, suite, seed=b"prop", header=b"name=p.txt", chunk=16), MESSAGE
        )
        o = transcripts.record(
            *make_pair(keypairs, suite, seed=b"other", header=b"name=p.txt", chunk=16), MESSAGE
        )
        out[suite] = (t, o)
    return out


# -- helpers -----------------------------------------------------------------------------


def split(stream: bytes, cuts: list[int]) -> list[bytes]:
    """``stream`` cut at ``cuts`` (any positions, repeats give empty pieces)."""
    points = sorted(min(max(c, 0), len(stream)) for c in cuts)
    out, prev = [], 0
    for p in points:
        out.append(stream[prev:p])
        prev = p
    out.append(stream[prev:])
    return out


def run_receiver(t, stream: bytes, cuts=(), *, eof: bool = True) -> oracle.Outcome:
    """Feed ``stream`` to a Receiver (from the latest snapshot it agrees with), whole and split."""
    snap = t.receiver_snapshot_for(stream)
    rest = stream[snap.consumed :]
    whole = oracle.run(snap, [rest], eof=eof)
    oracle.check_receiver(whole, t)
    if cuts:
        cut = oracle.run(snap, split(rest, list(cuts)), eof=eof)
        assert cut.signature() == whole.signature(), "the outcome depends on the split (§4.1)"
    return whole


def run_emitter(t, snap, stream: bytes, cuts=(), *, eof: bool = False) -> oracle.Outcome:
    whole = oracle.run(snap, [stream], eof=eof)
    oracle.check_emitter(whole, t)
    if cuts:
        cut = oracle.run(snap, split(stream, list(cuts)), eof=eof)
        assert cut.signature() == whole.signature(), "the outcome depends on the split (§4.1)"
    return whole


cuts_st = st.lists(st.integers(0, 3000), max_size=8)


@st.composite
def mutated(draw, frames_list: list[bytes], foreign: list[bytes], reflected: list[bytes]) -> bytes:
    """A transcript with 1 to 5 edits: frame-level first, then byte-level."""
    fr = list(frames_list)
    n_frame = draw(st.integers(0, 2))
    for _ in range(n_frame):
        op = draw(st.sampled_from(["drop", "dup", "swap", "move", "foreign", "reflect"]))
        i = draw(st.integers(0, len(fr) - 1)) if fr else 0
        j = draw(st.integers(0, len(fr)))
        if op == "drop" and fr:
            del fr[i]
        elif op == "dup" and fr:
            fr.insert(j, fr[i])
        elif op == "swap" and fr:
            j = min(j, len(fr) - 1)
            fr[i], fr[j] = fr[j], fr[i]
        elif op == "move" and fr:
            fr.insert(j, fr.pop(i))
        elif op == "foreign":
            fr.insert(j, draw(st.sampled_from(foreign)))
        elif op == "reflect":
            fr.insert(j, draw(st.sampled_from(reflected)))
    s = bytearray(b"".join(fr))
    for _ in range(draw(st.integers(0 if n_frame else 1, 3))):
        op = draw(
            st.sampled_from(["flip", "insert", "delete", "truncate", "dup_range", "overwrite"])
        )
        p = draw(st.integers(0, len(s)))
        q = draw(st.integers(p, min(len(s), p + 300)))
        if op == "flip" and p < len(s):
            s[p] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            s[p:p] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del s[p:q]
        elif op == "truncate":
            del s[p:]
        elif op == "dup_range":
            s[q:q] = s[p:q]
        elif op == "overwrite":
            junk = draw(st.binary(min_size=1, max_size=8))
            s[p : p + len(junk)] = junk
    return bytes(s)


def _released_before(t, position: int) -> bytes:
    """The records whose DATA frames end at or before ``position`` of the E -> R stream."""
    bounds = t.e_bounds()
    # frames 0, 1 are E_HELLO, E_AUTH; frames 2 .. 2+len(records)-1 are DATA.
    whole = [k for k in range(len(t.records)) if bounds[k + 3] <= position]
    return b"".join(t.records[: len(whole)])


def _frame_start(t, position: int) -> int:
    bounds = t.e_bounds()
    return max(b for b in bounds if b <= position)


# -- the decoder (§4.1, §4.2, §4.3) -------------------------------------------------------


@budget(300)
@given(stream=st.binary(max_size=600), ctl=st.integers(0, 255))
def test_frame_reader_arbitrary_bytes_and_splits(stream, ctl):
    """FrameReader = an independent reading of §4.1, in every split; every body decodes or
    fails with its registry error; the DATA fast path agrees with the general decoder."""
    targets.decoder(bytes([ctl]) + stream)


@budget(200)
@given(
    stream=st.lists(st.binary(min_size=0, max_size=60), max_size=6),
    cuts=cuts_st,
    limit=st.sampled_from([0, 1, 5, 64, 8192, 262400]),
)
def test_frame_reader_framed_bodies(stream, cuts, limit):
    """Streams of well-framed bodies (plus a ragged tail) give the same frames in any split."""
    data = b"".join(frames.frame(b) if b else b"\x00\x00\x00" for b in stream)
    got = targets.read_frames(split(data, cuts), limit)
    assert got == targets.model_frames(data, limit)


@budget(300)
@given(body=st.binary(min_size=1, max_size=300))
def test_decode_body_arbitrary_bytes(body):
    targets.check_body(body)


_scalars = st.one_of(
    st.integers(-(2**64), 2**64 - 1),
    st.binary(max_size=40),
    st.text(max_size=10),
    st.booleans(),
    st.none(),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3))


@budget(150)
@given(
    fields=st.dictionaries(st.integers(0, 12), _values, max_size=7),
    mtype=st.integers(0, 9),
    canonical=st.booleans(),
    edit=st.tuples(st.integers(0, 400), st.integers(0, 255)),
)
def test_decode_body_near_valid_frames(fields, mtype, canonical, edit):
    """Typed maps like Parley's frames, deterministic or not (cbor2), optionally with one byte
    changed: only §4.2/§4.3 registry errors, and an accepted body is deterministic."""
    import cbor2

    fields = {0: mtype, **fields}
    body = bytearray(cbor2.dumps(fields, canonical=canonical))
    pos, value = edit
    if pos < len(body):
        body[pos] = value
    targets.check_body(bytes(body))


@budget(200)
@given(
    ct=st.binary(min_size=0, max_size=40),
    tag_len=st.sampled_from([31, 32, 33]),
    seq=st.integers(0, 2**64 - 1),
    extra=st.booleans(),
    edit=st.integers(0, 120),
    value=st.integers(0, 255),
)
def test_data_fast_path_equals_general_decoder(ct, tag_len, seq, extra, edit, value):
    """The Receiver's DATA fast path accepts exactly the bodies the general decoder and schema
    accept as DATA with a non-empty ct, with the same fields (§4.2, §7.3)."""
    item = {0: 4, 5: ct, 6: bytes(tag_len), 7: seq}
    if extra:
        item[8] = 0
    body = bytearray(cbor.encode(item))
    if edit < len(body):
        body[edit] = value
    targets.check_body(bytes(body))


@budget(300)
@given(data=st.binary(max_size=300), depth=st.integers(0, 6), items=st.integers(0, 70))
def test_cbor_decode_arbitrary_bytes(data, depth, items):
    """Only CBORError, with a registry kind; an accepted item re-encodes to the same bytes."""
    try:
        item = cbor.decode(data, max_depth=depth, max_items=items)
    except cbor.CBORError as exc:
        assert exc.registry_name in ("DECODE_ERROR", "NON_DETERMINISTIC_CBOR")
        assert 0 <= exc.offset <= len(data)
    else:
        assert cbor.encode(item) == data


# -- the Receiver (§5, §7, §9) --------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
@budget(60)
@given(data=st.binary(max_size=400), cuts=cuts_st, eof=st.booleans())
def test_receiver_arbitrary_bytes(tr, suite, data, cuts, eof):
    t, _ = tr[suite]
    out = run_receiver(t, data, cuts, eof=eof)
    assert out.delivered() == b""


@pytest.mark.parametrize("suite", SUITES)
@budget(60)
@given(
    data=st.binary(max_size=300),
    cuts=cuts_st,
    eof=st.booleans(),
    where=st.sampled_from(["after E_HELLO", "after E_AUTH", "after the last DATA"]),
)
def test_receiver_arbitrary_bytes_in_later_states(tr, suite, data, cuts, eof, where):
    t, _ = tr[suite]
    n = {"after E_HELLO": 1, "after E_AUTH": 2, "after the last DATA": len(t.e_to_r) - 1}[where]
    prefix = b"".join(t.e_to_r[:n])
    run_receiver(t, prefix + data, cuts, eof=eof)


@pytest.mark.parametrize("suite", SUITES)
@budget(80)
@given(data=st.data(), cuts=cuts_st, eof=st.booleans())
def test_receiver_mutated_transcript(tr, suite, data, cuts, eof):
    t, other = tr[suite]
    stream = data.draw(mutated(t.e_to_r, other.e_to_r, t.r_to_e))
    out = run_receiver(t, stream, cuts, eof=eof)
    if stream != t.e_stream:
        # A change to the byte stream never completes the session (§13.4) ...
        assert out.state is not State.DONE or out.error is not None, (
            "a modified transcript completed the session"
        )


@pytest.mark.parametrize("suite", SUITES)
@budget(15)
@given(cuts=st.lists(st.integers(0, 2000), max_size=30))
def test_receiver_whole_session_in_any_split(tr, suite, cuts):
    """The true transcript, from a fresh Receiver (handshake included), in any split (§4.1)."""
    t, _ = tr[suite]
    out = oracle.run(t.receiver[0], split(t.e_stream, cuts), eof=True)
    oracle.check_receiver(out, t)
    assert out.error is None and out.state is State.DONE and out.delivered() == t.message
    assert out.sent == b"".join(t.r_to_e)


@pytest.mark.parametrize("suite", SUITES)
def test_receiver_every_bit_position(tr, suite):
    """One bit flipped in any byte of the transcript: the session fails, having released
    exactly the records whose frames came before the flipped byte (§7.3, §9.3, §13.4)."""
    t, _ = tr[suite]
    stream = t.e_stream
    for p in range(len(stream)):
        s = bytearray(stream)
        s[p] ^= 1 << (p % 8)
        out = run_receiver(t, bytes(s), eof=True)
        assert out.error is not None, f"flip at byte {p} was not detected"
        assert out.delivered() == _released_before(t, _frame_start(t, p)), p


@pytest.mark.parametrize("suite", SUITES)
def test_receiver_every_truncation(tr, suite):
    """The stream cut at any position, then the transport ends: TRUNCATED (§7.5), with the
    records that arrived whole released and nothing else."""
    t, _ = tr[suite]
    stream = t.e_stream
    for p in range(len(stream)):
        out = run_receiver(t, stream[:p], eof=True)
        assert out.error_name == "TRUNCATED", (p, out.error_name)
        assert out.delivered() == _released_before(t, p), p


@pytest.mark.parametrize("suite", SUITES)
def test_receiver_every_frame_edit(tr, suite):
    """Every frame dropped, duplicated in place, swapped with every other, replaced by the
    other session's or reflected: never completes, releases only the true prefix; record
    drops, replays and reorders are RECORD_OUT_OF_ORDER (§13.4)."""
    t, other = tr[suite]
    fr = t.e_to_r
    n = len(fr)
    first_record, final = 2, n - 1
    for i in range(n):
        cases = {
            "drop": fr[:i] + fr[i + 1 :],
            "dup": fr[: i + 1] + fr[i:],
            "foreign": fr[:i] + [other.e_to_r[i]] + fr[i + 1 :],
            "reflect": fr[:i] + [t.r_to_e[0]] + fr[i + 1 :],
        }
        for j in range(i + 1, n):
            swapped = list(fr)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            cases[f"swap {j}"] = swapped
        for name, edited in cases.items():
            out = run_receiver(t, b"".join(edited), eof=True)  # checks what was released
            assert out.error is not None, (i, name)
            if i >= first_record and (name in ("drop", "dup") or name.startswith("swap")):
                if name == "drop" and i == final:
                    assert out.error_name == "TRUNCATED"
                else:
                    assert out.error_name in ("RECORD_OUT_OF_ORDER", "UNEXPECTED_MESSAGE"), (
                        i,
                        name,
                        out.error_name,
                    )
                    if out.error_name == "UNEXPECTED_MESSAGE":
                        assert name == "dup" and i == final  # a second FINAL, after DONE


@pytest.mark.parametrize("suite", SUITES)
@budget(40)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["frame", "junk", "eof", "other"]),
            st.integers(0, 10),
            st.binary(max_size=20),
        ),
        max_size=10,
    )
)
def test_receiver_call_sequences(tr, suite, ops):
    """Any sequence of receive_data/receive_eof: only registry errors, dead after one (§9.3)."""
    t, other = tr[suite]
    r = t.receiver[0].fresh()
    released = []
    for kind, i, junk in ops:
        try:
            if kind == "eof":
                r.receive_eof()
            else:
                piece = {"frame": t.e_to_r, "other": other.e_to_r}.get(kind)
                events = r.receive_data(piece[i % len(piece)] if piece else junk)
                released += [e.data for e in events if isinstance(e, Data)]
        except ParleyError as exc:
            released += [e.data for e in exc.events if isinstance(e, Data)]
            oracle.check_error(exc, eof=kind == "eof")
            oracle.check_dead(r, exc, r.data_to_send())
            break
        r.data_to_send()
    assert released == t.records[: len(released)]


# -- the Emitter (§5.3, §7.4, §9) --------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
@budget(60)
@given(data=st.data(), cuts=cuts_st, eof=st.booleans())
def test_emitter_mutated_r_hello(tr, suite, data, cuts, eof):
    t, other = tr[suite]
    stream = data.draw(mutated(t.r_to_e[:1], other.r_to_e, t.e_to_r[:2]))
    out = run_emitter(t, t.emitter_hello, stream, cuts, eof=eof)
    if not stream.startswith(t.r_to_e[0]):
        assert not out.events, "the Emitter accepted a modified R_HELLO"


@pytest.mark.parametrize("suite", SUITES)
@budget(60)
@given(data=st.data(), cuts=cuts_st, eof=st.booleans())
def test_emitter_mutated_ack(tr, suite, data, cuts, eof):
    t, other = tr[suite]
    stream = data.draw(mutated(t.r_to_e[1:], other.r_to_e, t.e_to_r[-2:]))
    out = run_emitter(t, t.emitter_ack, stream, cuts, eof=eof)
    if not stream.startswith(t.r_to_e[1]):
        assert out.state is not State.DONE, "the Emitter accepted a modified ACK"


@pytest.mark.parametrize("suite", SUITES)
@budget(40)
@given(
    data=st.binary(max_size=300),
    cuts=cuts_st,
    eof=st.booleans(),
    where=st.sampled_from(["hello", "streaming", "ack", "done"]),
)
def test_emitter_arbitrary_bytes(tr, suite, data, cuts, eof, where):
    t, _ = tr[suite]
    snap = {
        "hello": t.emitter_hello,
        "streaming": t.emitter_streaming,
        "ack": t.emitter_ack,
        "done": t.emitter_done,
    }[where]
    run_emitter(t, snap, data, cuts, eof=eof)


@pytest.mark.parametrize("suite", SUITES)
@budget(60)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["start", "send", "end", "recv", "junk", "eof", "abort"]),
            st.binary(max_size=40),
        ),
        max_size=10,
    )
)
def test_emitter_call_sequences(tr, keypairs, suite, ops):
    """Any sequence of API calls follows §9.2: a legal call moves to the table's next state,
    an illegal one is API_MISUSE (never sent: ABORT carries INTERNAL_ERROR, §11), an abort by
    the application fails the session with its error, and the session is then dead (§9.3)."""
    t, _ = tr[suite]
    e, _ = make_pair(keypairs, suite, seed=b"prop", header=b"name=p.txt", chunk=16)
    replies = {State.WAIT_R_HELLO: t.r_to_e[0], State.WAIT_ACK: t.r_to_e[1]}
    for kind, blob in ops:
        before = e.state
        event = {"start": "send E_HELLO", "send": "send DATA", "end": "send FINAL"}.get(kind)
        try:
            if kind == "start":
                e.start()
            elif kind == "send":
                e.send_data(blob)
            elif kind == "end":
                e.end_stream()
            elif kind == "recv":
                e.receive_data(replies.get(before, t.r_to_e[0]))
            elif kind == "junk":
                e.receive_data(blob)
            elif kind == "abort":
                e.abort("TIMEOUT", "the application gave up")  # §8, §13.2
            else:
                e.receive_eof()
        except ParleyError as exc:
            if kind == "abort":
                assert exc.error.name == "TIMEOUT" and e.error is exc
                oracle.check_dead(e, exc, e.data_to_send())
            elif event is not None:
                assert isinstance(exc, LocalProtocolError) and exc.error.name == "API_MISUSE"
                assert next_state(Role.EMITTER, before, event) is None, "a legal call failed"
                oracle.check_dead(e, exc, e.data_to_send())
                assert e.state is State.FAILED
            else:
                oracle.check_error(exc, eof=kind == "eof")
                oracle.check_dead(e, exc, e.data_to_send())
            return
        if event is not None and (kind != "send" or blob):
            assert next_state(Role.EMITTER, before, event)[0] is e.state
        e.data_to_send()


# -- the harness itself ---------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_snapshots_behave_like_replayed_sessions(tr, keypairs, suite):
    """A snapshot-started run equals a fresh Receiver fed the whole stream (the fuzz targets
    and the tests above rely on it)."""
    t, _ = tr[suite]
    stream = t.e_stream
    edits = [stream, stream[:-5], stream[:400] + b"\x00" + stream[401:], stream + b"\x00"]
    for s in edits:
        fast = run_receiver(t, s, eof=True)
        _, r = make_pair(keypairs, suite, seed=b"prop", header=b"name=p.txt", chunk=16)
        slow = oracle.run(transcripts.Snapshot(r, 0), [s], eof=True)
        assert fast.signature() == slow.signature()


def _saved_inputs():
    import seeds

    out = [
        (target, f"seed {i}", data)
        for target, items in seeds.seeds().items()
        for i, data in enumerate(items)
    ]
    for path in sorted((ROOT / "fuzz" / "regressions").glob("*/*")):
        out.append((path.parent.name, path.name, path.read_bytes()))
    return out


def test_fuzz_seeds_and_regressions_pass():
    """Every seed of the fuzz corpus (vectors included) and every saved crash input passes
    its target: the harness is sound on valid input and the crashes stay fixed."""
    inputs = _saved_inputs()
    assert len(inputs) > 50
    for target, name, data in inputs:
        try:
            targets.run(target, data)
        except Exception as exc:
            raise AssertionError(f"{target} {name}: {exc!r}") from exc

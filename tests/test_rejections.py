"""Every rejection rule the spec states yields its registry code and releases nothing it must not.

Each test builds a real session, lets an attacker (or a broken peer) change the
byte stream as the spec's rule describes, and checks the error against the
registry entry the spec names, the released plaintext against the authenticated
prefix, and that the session then refuses everything (§9.3).
"""

from __future__ import annotations

import pytest

from helpers import edit, frames_of, handshake, join, make_pair
from parley import Emitter, ParleyError, Receiver, cbor
from parley.events import Data, EndOfStream
from parley.frames import frame
from parley.primitives import ffdh
from parley.records import seal_data
from parley.state import State

SUITES = [1, 2]
CHUNK = 16


def expect(party, data: bytes, name: str, *, released: bytes = b"") -> ParleyError:
    """Feed ``data``; the spec's error ``name`` must come, with at most ``released`` delivered."""
    with pytest.raises(ParleyError) as info:
        party.receive_data(data)
    exc = info.value
    assert exc.error.name == name, f"expected {name}, got {exc.error.name}: {exc.detail}"
    got = b"".join(ev.data for ev in getattr(exc, "events", []) if isinstance(ev, Data))
    assert got == released
    assert not any(isinstance(ev, EndOfStream) for ev in getattr(exc, "events", []))
    assert party.state is State.FAILED
    # §9.3: dead afterwards, with the same error; an ABORT with the number was queued.
    with pytest.raises(ParleyError) as again:
        party.receive_data(b"")
    assert again.value is exc
    sent = frames_of(party.data_to_send())
    if name not in ("PEER_ABORTED", "TRUNCATED"):
        assert cbor.decode(sent[-1]) == {0: 7, 9: exc.error.number}
    return exc


def streaming_flight(keypairs, suite, message=b"A" * (3 * CHUNK), **kw):
    """A session up to the Emitter's flight E_AUTH, DATA..., FINAL; returns (e, r, bodies)."""
    e, r = make_pair(keypairs, suite, chunk=CHUNK, **kw)
    handshake(e, r)
    e.send_data(message)
    e.end_stream()
    return e, r, frames_of(e.data_to_send())


# -- §4: framing and CBOR -------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_oversized_handshake_frame(keypairs, suite):
    _, r = make_pair(keypairs, suite)
    expect(r, (8193).to_bytes(4, "big"), "FRAME_TOO_LARGE")


@pytest.mark.parametrize("suite", SUITES)
def test_frame_length_2_pow_31_refused_before_allocation(keypairs, suite):
    _e, r, bodies = streaming_flight(keypairs, suite)
    r.receive_data(join(bodies[:1]))  # E_AUTH: now STREAMING, the larger limit applies
    expect(r, (1 << 31).to_bytes(4, "big"), "FRAME_TOO_LARGE")


@pytest.mark.parametrize("suite", SUITES)
def test_record_frame_over_limit(keypairs, suite):
    _e, r, bodies = streaming_flight(keypairs, suite)
    r.receive_data(join(bodies[:1]))
    expect(r, (262401).to_bytes(4, "big"), "FRAME_TOO_LARGE")


def test_empty_frame(keypairs):
    _, r = make_pair(keypairs, 1)
    expect(r, bytes(4), "DECODE_ERROR")


@pytest.mark.parametrize("suite", SUITES)
def test_non_canonical_cbor(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    assert m1[3:5] == b"\x01\x01"  # key 1 (version): 1
    bad = m1[:4] + b"\x18\x01" + m1[5:]  # version 1 as 0x18 0x01: not the shortest head
    assert cbor.decode.__module__  # the decoder is ours, not a lax library's
    expect(r, frame(bad), "NON_DETERMINISTIC_CBOR")


@pytest.mark.parametrize("suite", SUITES)
def test_trailing_bytes_in_frame(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    expect(r, frame(m1 + b"\x00"), "DECODE_ERROR")


@pytest.mark.parametrize(
    "change,name",
    [
        ({"k9": 1}, "SCHEMA_VIOLATION"),  # unknown key
        ({"k3": None}, "SCHEMA_VIOLATION"),  # missing sid
        ({"k3": b"short"}, "SCHEMA_VIOLATION"),  # wrong size
        ({"k1": "1"}, "SCHEMA_VIOLATION"),  # wrong type
        ({"k1": 2}, "UNSUPPORTED_VERSION"),
        ({"k2": 9}, "UNSUPPORTED_SUITE"),
    ],
)
def test_e_hello_schema(keypairs, change, name):
    e, r = make_pair(keypairs, 1)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    expect(r, frame(edit(m1, **change)), name)


def test_downgrade_suite_number(keypairs):
    """An attacker rewrites suite 2 to 1: the Receiver's keys are suite 2 (§13.4)."""
    e, r = make_pair(keypairs, 2)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    expect(r, frame(edit(m1, k2=1)), "UNSUPPORTED_SUITE")


def test_suite_change_in_flight_is_caught_by_key_confirmation(keypairs):
    """If the Receiver did accept a rewritten E_HELLO, TH_1 differs and mac_r fails (§5.3)."""
    e, r = make_pair(keypairs, 1)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    r.receive_data(frame(edit(m1, k3=bytes(16))))  # rewrite sid_e
    expect(e, r.data_to_send(), "KEY_CONFIRMATION_FAILED")


# -- §9: the state machine -------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_unexpected_messages(keypairs, suite):
    _e, _r, bodies = streaming_flight(keypairs, suite)
    _, r2 = make_pair(keypairs, suite)
    expect(r2, join([bodies[1]]), "UNEXPECTED_MESSAGE")  # DATA before the handshake
    e2, r3 = make_pair(keypairs, suite)
    e2.start()
    m1 = e2.data_to_send()
    expect(e2, m1, "UNEXPECTED_MESSAGE")  # E_HELLO sent to an Emitter
    expect(r3, frame(cbor.encode({0: 99})), "UNEXPECTED_MESSAGE")  # unknown type


def test_api_misuse_is_local(keypairs):
    e, _r = make_pair(keypairs, 1)
    with pytest.raises(ParleyError) as info:
        e.send_data(b"too early")
    assert info.value.error.name == "API_MISUSE" and e.state is State.FAILED
    assert cbor.decode(frames_of(e.data_to_send())[-1]) == {
        0: 7,
        9: 17,
    }  # INTERNAL_ERROR on the wire


@pytest.mark.parametrize("suite", SUITES)
def test_abort_received(keypairs, suite):
    e, _r = make_pair(keypairs, suite)
    e.start()
    exc = expect(e, frame(cbor.encode({0: 7, 9: 10})), "PEER_ABORTED")
    assert exc.peer_error.name == "BAD_SIGNATURE"


# -- §3.4: public values ---------------------------------------------------------


def _ffdh_bad_values():
    p = ffdh.P
    minus_two = p - 2  # passes 1 < Y < p-1 but is a non-residue: order 2q (p ≡ 7 mod 8)
    assert pow(minus_two, ffdh.Q, p) == p - 1  # second computation: outside the q-subgroup
    return {
        "zero": 0,
        "one": 1,
        "p-1": p - 1,
        "p": p,
        "p+1": p + 1,
        "2^2048-1": (1 << 2048) - 1,
        "order-2q": minus_two,
    }


@pytest.mark.parametrize("label", list(_ffdh_bad_values()))
def test_ffdh_invalid_elements(keypairs, label):
    y = _ffdh_bad_values()[label]
    e, r = make_pair(keypairs, 1)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    expect(r, frame(edit(m1, k4=y.to_bytes(256, "big"))), "INVALID_PUBLIC_KEY")


@pytest.mark.parametrize("length", [255, 257, 0])
def test_ffdh_wrong_length(keypairs, length):
    e, r = make_pair(keypairs, 1)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    expect(r, frame(edit(m1, k4=b"\x02" * length)), "INVALID_PUBLIC_KEY")


def _p384_bad_values(valid: bytes):
    x, y = valid[1:49], valid[49:]
    p = 2**384 - 2**128 - 2**96 + 2**32 - 1
    return {
        "compressed": bytes([2 + (y[-1] & 1)]) + x,
        "hybrid-prefix": b"\x06" + x + y,
        "infinity": b"\x00",
        "off-curve": b"\x04" + x + y[:-1] + bytes([y[-1] ^ 1]),
        "x-equals-p": b"\x04" + p.to_bytes(48, "big") + y,
        "zero-point": b"\x04" + bytes(96),
        "truncated": valid[:-1],
    }


@pytest.mark.parametrize(
    "label",
    [
        "compressed",
        "hybrid-prefix",
        "infinity",
        "off-curve",
        "x-equals-p",
        "zero-point",
        "truncated",
    ],
)
def test_p384_invalid_points_in_e_hello(keypairs, label):
    e, r = make_pair(keypairs, 2)
    e.start()
    m1 = frames_of(e.data_to_send())[0]
    bad = _p384_bad_values(cbor.decode(m1)[4])[label]
    expect(r, frame(edit(m1, k4=bad)), "INVALID_PUBLIC_KEY")


@pytest.mark.parametrize("suite", SUITES)
def test_invalid_point_in_r_hello(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    e.start()
    r.receive_data(e.data_to_send())
    m2 = frames_of(r.data_to_send())[0]
    g = cbor.decode(m2)[4]
    bad = (1).to_bytes(256, "big") if suite == 1 else _p384_bad_values(g)["compressed"]
    expect(e, frame(edit(m2, k4=bad)), "INVALID_PUBLIC_KEY")


# -- §5.3, §5.4, §5.5: key confirmation and signatures ---------------------------


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("field", [5, 6])
def test_r_hello_bit_flip_fails_key_confirmation(keypairs, suite, field):
    e, r = make_pair(keypairs, suite)
    e.start()
    r.receive_data(e.data_to_send())
    m2 = frames_of(r.data_to_send())[0]
    v = bytearray(cbor.decode(m2)[field])
    v[0] ^= 0x80
    expect(e, frame(edit(m2, **{f"k{field}": bytes(v)})), "KEY_CONFIRMATION_FAILED")


@pytest.mark.parametrize("suite", SUITES)
def test_e_auth_mac_flip(keypairs, suite):
    _e, r, bodies = streaming_flight(keypairs, suite)
    v = bytearray(cbor.decode(bodies[0])[6])
    v[-1] ^= 1
    expect(r, frame(edit(bodies[0], k6=bytes(v))), "KEY_CONFIRMATION_FAILED")


class FlippedSignatureReceiver(Receiver):
    """Signs, then flips one bit of its signature before encrypting and MACing it."""

    def _sign(self, role, th):
        sig = bytearray(super()._sign(role, th))
        sig[5] ^= 0x10
        return bytes(sig)


class WrongRoleReceiver(Receiver):
    """Signs with the role label "emitter" (a reflected or mislabelled signature)."""

    def _sign(self, role, th):
        return super()._sign("emitter", th)


class ZeroRSReceiver(Receiver):
    def _sign(self, role, th):
        sig = super()._sign(role, th)
        return bytes(len(sig) // 2) + sig[len(sig) // 2 :]


class RAtOrderReceiver(Receiver):
    """r = q (the group order), which a verifier must refuse before any arithmetic."""

    def _sign(self, role, th):
        sig = super()._sign(role, th)
        half = len(sig) // 2
        q = self.config.own_key.group_order
        return q.to_bytes(half, "big") + sig[half:]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    "cls", [FlippedSignatureReceiver, WrongRoleReceiver, ZeroRSReceiver, RAtOrderReceiver]
)
def test_bad_receiver_signatures(keypairs, suite, cls):
    e, r = make_pair(keypairs, suite, receiver_cls=cls)
    e.start()
    r.receive_data(e.data_to_send())
    expect(e, r.data_to_send(), "BAD_SIGNATURE")


@pytest.mark.parametrize("suite", SUITES)
def test_signature_by_another_known_key(keypairs, suite):
    """The Receiver runs with a valid key that is not the one the Emitter pinned."""
    other = keypairs[suite][2]
    e, r = make_pair(keypairs, suite, r_key=other)
    e.start()
    r.receive_data(e.data_to_send())
    expect(e, r.data_to_send(), "BAD_SIGNATURE")


class WrongRoleEmitter(Emitter):
    def _sign(self, role, th):
        return super()._sign("receiver", th)


class FlippedSignatureEmitter(Emitter):
    def _sign(self, role, th):
        sig = bytearray(super()._sign(role, th))
        sig[-1] ^= 1
        return bytes(sig)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("cls", [WrongRoleEmitter, FlippedSignatureEmitter])
def test_bad_emitter_signatures(keypairs, suite, cls):
    _e, r, bodies = streaming_flight(keypairs, suite, emitter_cls=cls)
    expect(r, join(bodies), "BAD_SIGNATURE")


@pytest.mark.parametrize("suite", SUITES)
def test_emitter_pins_the_wrong_receiver(keypairs, suite):
    """The Receiver's signature names ID_R of its own key; the Emitter pinned another."""
    other = keypairs[suite][2]
    e, r = make_pair(keypairs, suite, e_pin=other.public)
    e.start()
    r.receive_data(e.data_to_send())
    expect(e, r.data_to_send(), "BAD_SIGNATURE")


# -- §7: records -----------------------------------------------------------------


def _after_auth(keypairs, suite, **kw):
    e, r, bodies = streaming_flight(keypairs, suite, **kw)
    r.receive_data(join(bodies[:1]))
    return e, r, bodies[1:]  # DATA 0, DATA 1, DATA 2, FINAL


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("field", [5, 6])
def test_record_bit_flips(keypairs, suite, field):
    _e, r, recs = _after_auth(keypairs, suite)
    v = bytearray(cbor.decode(recs[1])[field])
    v[3] ^= 4
    bad = recs[:1] + [edit(recs[1], **{f"k{field}": bytes(v)})] + recs[2:]
    expect(r, join(bad), "BAD_RECORD_MAC", released=b"A" * CHUNK)


@pytest.mark.parametrize("suite", SUITES)
def test_record_header_seq_rewritten(keypairs, suite):
    """seq rewritten to the expected value of a replayed record: the MAC covers seq."""
    _e, r, recs = _after_auth(keypairs, suite)
    expect(r, join([recs[0], edit(recs[0], k7=1)]), "BAD_RECORD_MAC", released=b"A" * CHUNK)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    "attack,released",
    [
        ("replay", 1),
        ("swap", 0),
        ("drop", 1),
    ],
)
def test_record_order_attacks(keypairs, suite, attack, released):
    _e, r, recs = _after_auth(keypairs, suite)
    d0, d1, d2, _fin = recs
    stream = {"replay": [d0, d0], "swap": [d1, d0], "drop": [d0, d2]}[attack]
    expect(r, join(stream), "RECORD_OUT_OF_ORDER", released=b"A" * (CHUNK * released))


@pytest.mark.parametrize("suite", SUITES)
def test_merged_records(keypairs, suite):
    _e, r, recs = _after_auth(keypairs, suite)
    f0, f1 = cbor.decode(recs[0]), cbor.decode(recs[1])
    merged = edit(recs[0], k5=f0[5] + f1[5])
    expect(r, join([merged]), "BAD_RECORD_MAC")


@pytest.mark.parametrize("suite", SUITES)
def test_truncation_by_end_of_transport(keypairs, suite):
    _e, r, recs = _after_auth(keypairs, suite)
    events = r.receive_data(join(recs[:2]))
    assert b"".join(ev.data for ev in events) == b"A" * (2 * CHUNK)
    with pytest.raises(ParleyError) as info:
        r.receive_eof()
    assert info.value.error.name == "TRUNCATED" and r.state is State.FAILED


@pytest.mark.parametrize("suite", SUITES)
def test_seed_truncation_forgery(keypairs, suite):
    """The seed's forgery: drop the tail, end with (empty, tag of the last record kept)."""
    _e, r, recs = _after_auth(keypairs, suite)
    last_kept = cbor.decode(recs[1])
    forged_final = cbor.encode({0: 5, 6: last_kept[6], 7: 2, 8: 2 * CHUNK})
    expect(r, join(recs[:2] + [forged_final]), "BAD_RECORD_MAC", released=b"A" * (2 * CHUNK))


@pytest.mark.parametrize("suite", SUITES)
def test_record_after_final(keypairs, suite):
    _e, r, recs = _after_auth(keypairs, suite)
    events = r.receive_data(join(recs))
    assert any(isinstance(ev, EndOfStream) for ev in events)
    r.acknowledge()  # the application committed the message (§7.4, §8)
    with pytest.raises(ParleyError) as info:
        r.receive_data(join(recs[:1]))
    assert info.value.error.name == "UNEXPECTED_MESSAGE"
    assert r.state is State.DONE  # the completed message stays complete (§9.3)


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_total_resealed(keypairs, suite):
    """A FINAL whose MAC is valid (recomputed with the real key) but whose total is wrong."""
    e, r, recs = _after_auth(keypairs, suite)
    tag = e._keys.tag(5, 3, 3 * CHUNK + 1, b"")
    final = cbor.encode({0: 5, 6: tag, 7: 3, 8: 3 * CHUNK + 1})
    expect(r, join(recs[:3] + [final]), "LENGTH_MISMATCH", released=b"A" * (3 * CHUNK))


@pytest.mark.parametrize("suite", SUITES)
def test_record_from_another_session(keypairs, suite):
    _e, r, _recs = _after_auth(keypairs, suite, seed=b"one")
    _, _, other = _after_auth(keypairs, suite, seed=b"two")
    expect(r, join([other[0]]), "BAD_RECORD_MAC")


@pytest.mark.parametrize("suite", SUITES)
def test_oversized_record_resealed(keypairs, suite):
    e, r, _recs = _after_auth(keypairs, suite)
    import parley.records as records

    big = bytes((1 << 18) + 1)
    ct = e._keys.encrypt(0, big)
    tag = e._keys.tag(4, 0, 0, ct)
    body = cbor.encode({0: 4, 5: ct, 6: tag, 7: 0})
    assert len(body) <= 262400
    expect(r, frame(body), "LIMIT_EXCEEDED")
    assert records.MAX_CHUNK == 1 << 18


@pytest.mark.parametrize("suite", SUITES)
def test_empty_data_record(keypairs, suite):
    e, r, _recs = _after_auth(keypairs, suite)
    tag = e._keys.tag(4, 0, 0, b"")
    expect(r, frame(cbor.encode({0: 4, 5: b"", 6: tag, 7: 0})), "SCHEMA_VIOLATION")


# -- §7.4: the ACK ---------------------------------------------------------------


def _to_ack(keypairs, suite):
    e, r, recs = _after_auth(keypairs, suite)
    r.receive_data(join(recs))
    r.acknowledge()
    return e, frames_of(r.data_to_send())[0]


@pytest.mark.parametrize("suite", SUITES)
def test_ack_tampered(keypairs, suite):
    e, ack = _to_ack(keypairs, suite)
    v = bytearray(cbor.decode(ack)[6])
    v[0] ^= 1
    expect(e, frame(edit(ack, k6=bytes(v))), "BAD_RECORD_MAC")


@pytest.mark.parametrize("suite", SUITES)
def test_ack_wrong_total_resealed(keypairs, suite):
    e, _ack = _to_ack(keypairs, suite)
    tag = e._keys.tag(6, 3, 5, e._final_tag)
    expect(e, frame(cbor.encode({0: 6, 6: tag, 8: 5})), "LENGTH_MISMATCH")


@pytest.mark.parametrize("suite", SUITES)
def test_ack_before_final_is_unexpected(keypairs, suite):
    e, r = make_pair(keypairs, suite)
    handshake(e, r)
    expect(e, frame(cbor.encode({0: 6, 6: bytes(32), 8: 0})), "UNEXPECTED_MESSAGE")


def test_no_ack_means_truncated_for_the_emitter(keypairs):
    e, _r, _recs = _after_auth(keypairs, 1)
    with pytest.raises(ParleyError) as info:
        e.receive_eof()
    assert info.value.error.name == "TRUNCATED"


def test_data_record_sealed_by_reference_matches_counter_block_rule(keypairs):
    """§7.2 by a second computation: decrypt a DATA record with CB(seq) using AES directly."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    e, _r, recs = _after_auth(keypairs, 1)
    ct = cbor.decode(recs[2])[5]
    dec = Cipher(
        algorithms.AES(bytes(e._keys.k_data)), modes.CTR((2).to_bytes(8, "big") + bytes(8))
    ).decryptor()
    assert dec.update(ct) == b"A" * CHUNK
    assert seal_data  # imported for the reader: records.seal_data builds these frames

"""Positive vectors: complete sessions with every intermediate value (§5, §6, §7).

A session is run with the reference (deterministic signatures, seeded entropy,
a trace callback on both parties).  Every value in ``intermediates`` is a
value the reference computed (from its trace or from the frames it sent); the
generator only assembles the documented inputs from those values and checks
that both parties computed the same ones.
"""

from __future__ import annotations

from parley import Emitter, Receiver, SessionConfig, cbor, groups
from parley.entropy import RecordingEntropy, SeededEntropy
from parley.events import Acknowledged, Data, EndOfStream, HandshakeComplete
from parley.primitives import ffdh
from parley.suites import Suite

from .common import CHUNK, SEED, entropy_json, frame_view, key_set, message_bytes, split_frames

SCHEMA_NAME = "parley_v1_sessions_schema_v1.json"
ZERO16 = bytes(16)


class Session:
    """One honest session run by the reference, with both parties' traces."""

    def __init__(
        self, suite: Suite, *, header: bytes, message: bytes, chunk: int, e_entropy, r_entropy
    ) -> None:
        ks = key_set(suite.number)
        self.suite, self.keys = suite, ks
        self.trace: dict[tuple[str, str], object] = {}
        self.order: list[tuple[str, str]] = []
        self.e_ent, self.r_ent = RecordingEntropy(e_entropy), RecordingEntropy(r_entropy)
        e = Emitter(
            SessionConfig(
                ks.emitter,
                ks.receiver.public,
                self.e_ent,
                deterministic_signatures=True,
                app_header=header,
                chunk_size=chunk,
                trace=self._tracer("emitter"),
            )
        )
        r = Receiver(
            SessionConfig(
                ks.receiver,
                ks.emitter.public,
                self.r_ent,
                deterministic_signatures=True,
                trace=self._tracer("receiver"),
            )
        )
        self.header, self.message, self.chunk = header, message, chunk
        frames: list[tuple[str, bytes]] = []
        e.start()
        frames += [("E->R", f) for f in split_frames(e.data_to_send())]
        ev_r = r.receive_data(frames[-1][1])
        frames += [("R->E", f) for f in split_frames(r.data_to_send())]
        ev_e = e.receive_data(frames[-1][1])
        e.send_data(message)
        e.end_stream()
        flight = e.data_to_send()
        frames += [("E->R", f) for f in split_frames(flight)]
        ev_r += r.receive_data(flight)
        r.acknowledge()  # the Receiver's application commits, then acknowledges (§7.4, §8)
        ack = r.data_to_send()
        frames += [("R->E", f) for f in split_frames(ack)]
        ev_e += e.receive_data(ack)
        self.frames = frames
        self.delivered = b"".join(ev.data for ev in ev_r if isinstance(ev, Data))
        hs_r = [ev for ev in ev_r if isinstance(ev, HandshakeComplete)][0]
        hs_e = [ev for ev in ev_e if isinstance(ev, HandshakeComplete)][0]
        assert hs_r.transcript_hash == hs_e.transcript_hash
        self.delivered_header = hs_r.app_header
        self.th4 = hs_r.transcript_hash
        self.eos = [ev.total for ev in ev_r if isinstance(ev, EndOfStream)]
        self.ack_total = [ev.total for ev in ev_e if isinstance(ev, Acknowledged)][0]
        assert self.delivered == message and self.delivered_header == header
        assert self.eos == [len(message)] and self.ack_total == len(message)

    def _tracer(self, party: str):
        def trace(name: str, value: object) -> None:
            key = (party, name)
            if name.startswith(("sent ", "received ")):
                return  # frames are taken from the wire
            if key in self.trace and self.trace[key] != value:
                raise AssertionError(f"{party} traced {name} twice with different values")
            self.trace[key] = value
            self.order.append(key)

        return trace

    def both(self, name: str) -> object:
        """A value both parties computed; they must agree."""
        e, r = self.trace[("emitter", name)], self.trace[("receiver", name)]
        assert e == r, f"emitter and receiver disagree on {name}"
        return e


def _ent(party_draws: list[tuple[str, bytes]], purpose: str) -> list[bytes]:
    return [v for p, v in party_draws if p == purpose]


def intermediates(s: Session) -> list[dict]:
    """Every intermediate value in computation order, with its exact inputs."""
    suite, ks = s.suite, s.keys
    hname = "SHA-256" if suite.number == 1 else "SHA-384"
    sec = "x" if suite.number == 1 else "d"
    out: list[dict] = []

    def add(name, party, value, formula, **inputs):
        if isinstance(value, int):
            raise TypeError(name)
        out.append(
            {
                "name": name,
                "party": party,
                "formula": formula,
                "inputs": {
                    k: (v.hex() if isinstance(v, (bytes, bytearray)) else v)
                    for k, v in inputs.items()
                },
                "value": bytes(value).hex(),
            }
        )

    bodies = [f[4:] for _, f in s.frames]
    m1, m2, m3 = bodies[0], bodies[1], bodies[2]
    f1, f2, f3 = cbor.decode(m1), cbor.decode(m2), cbor.decode(m3)
    sid_e, g_e, sid_r, g_r, c_r, mac_r, c_e, mac_e = (
        f1[3],
        f1[4],
        f2[3],
        f2[4],
        f2[5],
        f2[6],
        f3[5],
        f3[6],
    )
    e_draws, r_draws = s.e_ent.draws, s.r_ent.draws
    valid_secret = (
        (lambda b: 2 <= int.from_bytes(b, "big") <= ffdh.Q - 1)
        if suite.number == 1
        else (
            lambda b: (
                1
                <= int.from_bytes(b, "big")
                <= 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973  # noqa: E501
                - 1
            )
        )
    )
    sec_e = [b for b in _ent(e_draws, "ephemeral") if valid_secret(b)][0]
    sec_r = [b for b in _ent(r_draws, "ephemeral") if valid_secret(b)][0]
    assert groups._IMPL[suite.number].public_bytes(int.from_bytes(sec_e, "big")) == g_e

    spki_e, spki_r = ks.emitter.spki_der, ks.receiver.spki_der
    add("ID_E", "both", ks.emitter.identity, f"H(SPKI_E) with H = {hname} (§5.5)", SPKI_E=spki_e)
    add("ID_R", "both", ks.receiver.identity, f"H(SPKI_R) with H = {hname} (§5.5)", SPKI_R=spki_r)
    # E_HELLO (§5.2)
    add("sid_e", "emitter", sid_e, "the Emitter's first draw, purpose sid (§3.5)")
    pub = (
        "I2OSP(2^x_e mod p, 256) (§3.5)"
        if suite.number == 1
        else "SEC 1 uncompressed encoding of d_e·G (§3.5)"
    )
    add(
        f"{sec}_e",
        "emitter",
        sec_e,
        "the Emitter's first valid draw, purpose ephemeral; the secret is OS2IP of it (§3.5)",
    )
    add("g_e", "emitter", g_e, pub, **{f"{sec}_e": sec_e})
    add(
        "M1",
        "emitter",
        m1,
        "cbor({0: 1, 1: 1, 2: suite, 3: sid_e, 4: g_e}) (§5.2)",
        sid_e=sid_e,
        g_e=g_e,
    )
    th1 = s.both("TH_1")
    add("TH_1", "both", th1, f"{hname}(M1) (§5.6)", data=m1)
    # R_HELLO (§5.3)
    add("sid_r", "receiver", sid_r, "the Receiver's first draw, purpose sid (§3.5)")
    add(
        f"{sec}_r",
        "receiver",
        sec_r,
        "the Receiver's first valid draw, purpose ephemeral; the secret is OS2IP of it (§3.5)",
    )
    add("g_r", "receiver", g_r, pub.replace("_e", "_r"), **{f"{sec}_r": sec_r})
    z = s.both("Z")
    zf = (
        "I2OSP(g_e^x_r mod p, 256) = I2OSP(g_r^x_e mod p, 256) (§3.4)"
        if suite.number == 1
        else "I2OSP(x-coordinate of d_r·g_e = d_e·g_r, 48) (§3.4)"
    )
    add("Z", "both", z, zf, **{f"{sec}_r": sec_r, "g_e": g_e, f"{sec}_e": sec_e, "g_r": g_r})
    th2 = s.both("TH_2")
    add("TH_2", "both", th2, f"{hname}(TH_1 ‖ sid_r ‖ g_r) (§5.6)", data=th1 + sid_r + g_r)
    prk = s.both("PRK")
    add(
        "PRK", "both", prk, f"HKDF-Extract with {hname}(salt = TH_2, IKM = Z) (§6)", salt=th2, IKM=z
    )

    def key(name, formula):
        info = s.both(f"info({name})")
        value = s.both(name)
        add(
            name,
            "both",
            value,
            f"HKDF-Expand(PRK, info, L) with info = {formula} (§6)",
            PRK=prk,
            info=info,
            L=len(value),
        )
        return value

    k_r = key("K_R", 'cbor(["Parley v1", "r auth key", TH_2, 32])')
    mk_r = key("MK_R", f'cbor(["Parley v1", "r auth mac", TH_2, {suite.hash_len}])')
    sig_in_r = s.trace[("receiver", "SigInput(receiver)")]
    add(
        "SigInput(receiver)",
        "both",
        sig_in_r,
        'cbor(["Parley v1 signature", "receiver", suite, ID_E, ID_R, TH_2]) (§5.5)',
        ID_E=ks.emitter.identity,
        ID_R=ks.receiver.identity,
        TH=th2,
    )
    k_rv = s.trace[("receiver", "k(receiver)")].to_bytes(suite.scalar_len, "big")
    add(
        "k(receiver)",
        "receiver",
        k_rv,
        f"RFC 6979 §3.2 nonce for the Receiver's key and {hname}(SigInput(receiver)) (§3.3)",
        message=sig_in_r,
    )
    sig_r = s.trace[("receiver", "sig_r")]
    add(
        "sig_r",
        "receiver",
        sig_r,
        "I2OSP(r, L) ‖ I2OSP(s, L), signed with k(receiver) (§3.3)",
        message=sig_in_r,
        k=k_rv,
    )
    add(
        "c_r",
        "receiver",
        c_r,
        "AES-256-CTR(K_R, 0^16, sig_r) (§5.3)",
        key=k_r,
        counterBlock=ZERO16,
        plaintext=sig_r,
    )
    add("mac_r", "both", mac_r, f"HMAC-{hname}(MK_R, TH_2 ‖ c_r) (§5.3)", key=mk_r, data=th2 + c_r)
    add(
        "M2",
        "receiver",
        m2,
        "cbor({0: 2, 3: sid_r, 4: g_r, 5: c_r, 6: mac_r}) (§5.3)",
        sid_r=sid_r,
        g_r=g_r,
        c_r=c_r,
        mac_r=mac_r,
    )
    th3 = s.both("TH_3")
    add("TH_3", "both", th3, f"{hname}(TH_2 ‖ M2) (§5.6)", data=th2 + m2)
    # E_AUTH (§5.4)
    k_e = key("K_E", 'cbor(["Parley v1", "e auth key", TH_3, 32])')
    mk_e = key("MK_E", f'cbor(["Parley v1", "e auth mac", TH_3, {suite.hash_len}])')
    sig_in_e = s.trace[("emitter", "SigInput(emitter)")]
    add(
        "SigInput(emitter)",
        "both",
        sig_in_e,
        'cbor(["Parley v1 signature", "emitter", suite, ID_E, ID_R, TH_3]) (§5.5)',
        ID_E=ks.emitter.identity,
        ID_R=ks.receiver.identity,
        TH=th3,
    )
    k_ev = s.trace[("emitter", "k(emitter)")].to_bytes(suite.scalar_len, "big")
    add(
        "k(emitter)",
        "emitter",
        k_ev,
        f"RFC 6979 §3.2 nonce for the Emitter's key and {hname}(SigInput(emitter)) (§3.3)",
        message=sig_in_e,
    )
    sig_e = s.trace[("emitter", "sig_e")]
    add(
        "sig_e",
        "emitter",
        sig_e,
        "I2OSP(r, L) ‖ I2OSP(s, L), signed with k(emitter) (§3.3)",
        message=sig_in_e,
        k=k_ev,
    )
    add(
        "c_e",
        "emitter",
        c_e,
        "AES-256-CTR(K_E, 0^16, sig_e ‖ app_header) (§5.4)",
        key=k_e,
        counterBlock=ZERO16,
        plaintext=sig_e + s.header,
    )
    add("mac_e", "both", mac_e, f"HMAC-{hname}(MK_E, TH_3 ‖ c_e) (§5.4)", key=mk_e, data=th3 + c_e)
    add("M3", "emitter", m3, "cbor({0: 3, 5: c_e, 6: mac_e}) (§5.4)", c_e=c_e, mac_e=mac_e)
    th4 = s.both("TH_4")
    add("TH_4", "both", th4, f"{hname}(TH_3 ‖ M3) (§5.6)", data=th3 + m3)
    ad = s.both("AD")
    add("AD", "both", ad, "SHA-256(app_header) (§7.1)", app_header=s.header)
    key("K_data", 'cbor(["Parley v1", "e2r data key", TH_4, 32])')
    key("MK_data", 'cbor(["Parley v1", "e2r data mac", TH_4, 32])')
    mk_ack = key("MK_ack", 'cbor(["Parley v1", "r2e ack mac", TH_4, 32])')
    mk_data, k_data = s.both("MK_data"), s.both("K_data")
    # DATA records (§7.2, §7.3)
    offset, seq = 0, 0
    records = [cbor.decode(b) for b in bodies[3:-2]]
    for rec in records:
        ct, tag = rec[5], rec[6]
        assert rec[7] == seq
        chunk = s.message[offset : offset + len(ct)]
        cb = s.trace[("emitter", f"CB({seq})")]
        head = s.trace[("emitter", f"MacInput head({seq})")]
        add(f"CB({seq})", "both", cb, "u64(seq) ‖ u64(0) (§7.2)", seq=seq)
        add(
            f"ct({seq})",
            "emitter",
            ct,
            "AES-256-CTR(K_data, CB(seq), P) (§7.3)",
            key=k_data,
            counterBlock=cb,
            plaintext=chunk,
        )
        add(
            f"MacInput(DATA {seq})",
            "both",
            head + ct,
            "u8(4) ‖ u64(seq) ‖ u64(offset) ‖ u64(len(ct)) ‖ AD ‖ ct (§7.1)",
            seq=seq,
            count=offset,
            AD=ad,
            body=ct,
        )
        add(
            f"tag({seq})",
            "both",
            tag,
            "HMAC-SHA-256(MK_data, MacInput(DATA seq)) (§7.3)",
            key=mk_data,
            data=head + ct,
        )
        offset += len(ct)
        seq += 1
    # FINAL and ACK (§7.4)
    final, ack = cbor.decode(bodies[-2]), cbor.decode(bodies[-1])
    assert final[7] == seq and final[8] == offset == len(s.message)
    mi_f = bytes([5]) + seq.to_bytes(8, "big") + offset.to_bytes(8, "big") + bytes(8) + ad
    add(
        "MacInput(FINAL)",
        "both",
        mi_f,
        "u8(5) ‖ u64(seq) ‖ u64(total) ‖ u64(0) ‖ AD (§7.4)",
        seq=seq,
        count=offset,
        AD=ad,
        body=b"",
    )
    add(
        "tag_f",
        "both",
        final[6],
        "HMAC-SHA-256(MK_data, MacInput(FINAL)) (§7.4)",
        key=mk_data,
        data=mi_f,
    )
    mi_a = (
        bytes([6])
        + seq.to_bytes(8, "big")
        + offset.to_bytes(8, "big")
        + (32).to_bytes(8, "big")
        + ad
        + final[6]
    )
    add(
        "MacInput(ACK)",
        "both",
        mi_a,
        "u8(6) ‖ u64(seq) ‖ u64(total) ‖ u64(32) ‖ AD ‖ tag_f (§7.4)",
        seq=seq,
        count=offset,
        AD=ad,
        body=final[6],
    )
    add(
        "tag_a", "both", ack[6], "HMAC-SHA-256(MK_ack, MacInput(ACK)) (§7.4)", key=mk_ack, data=mi_a
    )
    assert ack[8] == offset
    return out


def vector(tc_id: int, s: Session, comment: str, flags: list[str]) -> dict:
    return {
        "tcId": tc_id,
        "comment": comment,
        "flags": flags,
        "result": "valid",
        "chunkSize": s.chunk,
        "appHeader": s.header.hex(),
        "message": s.message.hex(),
        "entropy": {
            "emitter": entropy_json(s.e_ent.draws),
            "receiver": entropy_json(s.r_ent.draws),
        },
        "signatureNonces": {
            "emitter": s.trace[("emitter", "k(emitter)")].to_bytes(s.suite.scalar_len, "big").hex(),
            "receiver": s.trace[("receiver", "k(receiver)")]
            .to_bytes(s.suite.scalar_len, "big")
            .hex(),
        },
        "frames": [frame_view(i, d, f) for i, (d, f) in enumerate(s.frames)],
        "intermediates": intermediates(s),
        "delivered": s.delivered.hex(),
        "deliveredAppHeader": s.delivered_header.hex(),
        "transcriptHash": s.th4.hex(),
        "ackTotal": s.ack_total,
    }


class _FirstDrawInvalid:
    """Seeded draws, except that the first ephemeral draw is out of range (§3.5: drawn again)."""

    def __init__(self, inner, invalid: bytes) -> None:
        self.inner, self.invalid, self.done = inner, invalid, False

    def draw(self, purpose: str, n: int) -> bytes:
        if purpose == "ephemeral" and not self.done:
            self.done = True
            assert len(self.invalid) == n
            return self.invalid
        return self.inner.draw(purpose, n)


def _zero_z_seed(suite: Suite) -> tuple[bytes, int]:
    """The first seed "parley-v1-vectors/zero-Z/suite<N>/<i>" whose Z starts with a zero byte."""
    i = 0
    while True:
        seed = SEED + f"/zero-Z/suite{suite.number}/{i}".encode()
        ents = {p: SeededEntropy(seed, p) for p in ("E", "R")}
        secrets = {}
        for p, ent in ents.items():
            ent.draw("sid", 16)
            secrets[p] = groups.draw_ephemeral(suite, ent)
        peer = groups.validate_public(suite, secrets["R"][1])
        z = groups.exchange(suite, secrets["E"][0], peer)
        if z[0] == 0:
            return seed, i
        i += 1


# (number, comment, flags, message length, header) -- numbers are never reused.
CASES = [
    (1, "empty message: FINAL alone (§7.1)", ["EmptyMessage"], 0, b""),
    (2, "one-byte message", ["OneByte"], 1, b""),
    (
        3,
        "message of chunk size - 1 bytes: one short DATA record",
        ["ChunkBoundary"],
        CHUNK - 1,
        b"",
    ),
    (4, "message of exactly one chunk", ["ChunkBoundary"], CHUNK, b""),
    (
        5,
        "message of chunk size + 1 bytes: a full record and a 1-byte record",
        ["ChunkBoundary"],
        CHUNK + 1,
        b"",
    ),
    (6, "message of several chunks, the last one partial", ["MultipleRecords"], 3 * CHUNK + 7, b""),
    (
        7,
        "non-empty application header carried in E_AUTH and bound into every record MAC (AD)",
        ["AppHeader", "MultipleRecords"],
        2 * CHUNK + 5,
        b'{"name":"report.txt","type":"text/plain"}',
    ),
]


def generate(suite: Suite) -> list[dict]:
    tests = []
    for number, comment, flags, n, header in CASES:
        seed = SEED + f"/session/suite{suite.number}/{number}".encode()
        s = Session(
            suite,
            header=header,
            message=message_bytes(n),
            chunk=CHUNK,
            e_entropy=SeededEntropy(seed, "E"),
            r_entropy=SeededEntropy(seed, "R"),
        )
        tests.append(vector(suite.number * 100 + number, s, comment, flags))
    # 8: a DH output with a leading zero byte (§3.4: Z keeps its leading zeros).
    seed, counter = _zero_z_seed(suite)
    s = Session(
        suite,
        header=b"",
        message=message_bytes(CHUNK + 3),
        chunk=CHUNK,
        e_entropy=SeededEntropy(seed, "E"),
        r_entropy=SeededEntropy(seed, "R"),
    )
    assert s.both("Z")[0] == 0
    tests.append(
        vector(
            suite.number * 100 + 8,
            s,
            "the DH output Z starts with a zero byte, kept in the fixed-length "
            "encoding (§3.4); an implementation that strips it derives other keys "
            f"(found at seed counter {counter})",
            ["LeadingZeroZ"],
        )
    )
    # 9: the first ephemeral draw of each party is out of range and drawn again (§3.5).
    invalid = bytes(suite.eph_secret_len) if suite.number == 1 else b"\xff" * suite.eph_secret_len
    seed = SEED + f"/session/suite{suite.number}/9".encode()
    s = Session(
        suite,
        header=b"",
        message=message_bytes(5),
        chunk=CHUNK,
        e_entropy=_FirstDrawInvalid(SeededEntropy(seed, "E"), invalid),
        r_entropy=_FirstDrawInvalid(SeededEntropy(seed, "R"), invalid),
    )
    tests.append(
        vector(
            suite.number * 100 + 9,
            s,
            "each party's first ephemeral draw is out of range "
            f"({'x = 0' if suite.number == 1 else 'd = 2^384 - 1 >= n'}) and is "
            "discarded; the second draw is used (§3.5)",
            ["RedrawnEphemeral"],
        )
    )
    return tests

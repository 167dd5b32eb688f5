"""What every vector shares: the seed, the fixed long-term keys, frame views, JSON output.

Provenance (written into every file's ``header``):

* Every injected value derives from the documented seed ``SEED`` through the
  reference's ``SeededEntropy`` (HKDF-SHA-256, §3.5 draws).  Vectors record the
  drawn VALUES; an implementation never needs the seed.
* Long-term keys are derived, not generated at random, so that the files are
  reproducible byte for byte:
  - suite 1: DSA over the domain parameters (p, q, g) of RFC 6979 Appendix A.2.2
    (p of 2048 bits, q of 256 bits), private x = (OS2IP(D) mod (q - 1)) + 1;
  - suite 2: ECDSA on P-384, private d = (OS2IP(D) mod (n - 1)) + 1;
  where D = SeededEntropy(SEED, "long-term/suite<N>/<role>").draw("key", 48).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from parley import cbor_diag, keys
from parley.entropy import SeededEntropy
from parley.errors import ParleyError
from parley.frames import (
    TYPE_NAMES,
    check_schema,
    decode_body,
    message_type,
    split_frames,  # noqa: F401  (§4.1; used by positive/negative)
)
from parley.suites import SUITES, Suite

SEED = b"parley-v1-vectors"
GENERATOR_VERSION = "genvectors 1 (reference parley 1.0.0, spec revision 1.0)"
CHUNK = 32  # the Emitter's chunk size in every vector (§7.1)
ROLES = ("emitter", "receiver", "other")

# RFC 6979 Appendix A.2.2: DSA domain parameters, 2048-bit p, 256-bit q.
DSA_P = int(
    "9db6fb5951b66bb6fe1e140f1d2ce5502374161fd6538df1648218642f0b5c48"
    "c8f7a41aadfa187324b87674fa1822b00f1ecf8136943d7c55757264e5a1a44f"
    "fe012e9936e00c1d3e9310b01c7d179805d3058b2a9f4bb6f9716bfe6117c6b5"
    "b3cc4d9be341104ad4a80ad6c94e005f4b993e14f091eb51743bf33050c38de2"
    "35567e1b34c3d6a5c0ceaa1a0f368213c3d19843d0b4b09dcb9fc72d39c8de41"
    "f1bf14d4bb4563ca28371621cad3324b6a2d392145bebfac748805236f5ca2fe"
    "92b871cd8f9c36d3292b5509ca8caa77a2adfc7bfd77dda6f71125a7456fea15"
    "3e433256a2261c6a06ed3693797e7995fad5aabbcfbe3eda2741e375404ae25b",
    16,
)
DSA_Q = int("f2c3119374ce76c9356990b465374a17f23f9ed35089bd969f61c6dde9998c1f", 16)
DSA_G = int(
    "5c7ff6b06f8f143fe8288433493e4769c4d988ace5be25a0e24809670716c613"
    "d7b0cee6932f8faa7c44d2cb24523da53fbe4f6ec3595892d1aa58c4328a06c4"
    "6a15662e7eaa703a1decf8bbb2d05dbe2eb956c142a338661d10461c0d135472"
    "085057f3494309ffa73c611f78b32adbb5740c361c9f35be90997db2014e2ef5"
    "aa61782f52abeb8bd6432c4dd097bc5423b285dafb60dc364e8161f4a2a35aca"
    "3a10b1c4d203cc76a470a33afdcbdd92959859abd8b56e1725252d78eac66e71"
    "ba9ae3f1dd2487199874393cd4d832186800654760e1e34c09e4d155179f9ec0"
    "dc4473f996bdce6eed1cabed8b6f116f7ad9cf505df0f998e34ab27514b0ffe7",
    16,
)
P384_N = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
    "581a0db248b0a77aecec196accc52973",
    16,
)

HEADER_LINES = [
    "Parley v1 test vectors (spec/parley.md), written by tools/genvectors from the reference "
    "implementation in deterministic mode; tools/checkvectors recomputes every positive vector "
    "without the reference.",
    "Injected values: every draw of a party (§3.5) is listed under 'entropy' in draw order; they "
    'were derived from the seed "parley-v1-vectors" with HKDF-SHA-256 '
    "(reference/parley/entropy.py, SeededEntropy). Implementations are given the values, never "
    "the seed.",
    "Signatures are deterministic (RFC 6979 §3.2 with the signature's hash, §3.3); the nonces k "
    "are recorded under 'signatureNonces' and in the intermediates.",
    "Long-term keys are derived from the same seed: suite 1 is DSA over the domain parameters of "
    "RFC 6979 Appendix A.2.2 with x = (OS2IP(D) mod (q-1)) + 1, suite 2 is ECDSA P-384 with "
    "d = (OS2IP(D) mod (n-1)) + 1, where D is the 48-byte draw 'key' of "
    "SeededEntropy(seed, 'long-term/suite<N>/<role>'). They are given as PEM and MUST NOT be used "
    "outside tests.",
    "Hex strings are lowercase; 'wire' is the frame with its 4-byte length prefix (§4.1), 'body' "
    "the CBOR item alone.",
]


@dataclass(frozen=True)
class KeySet:
    """One suite's three long-term keys (§12): the Emitter's, the Receiver's and another valid
    one."""

    suite: Suite
    emitter: keys.LongTermPrivateKey
    receiver: keys.LongTermPrivateKey
    other: keys.LongTermPrivateKey
    pems: dict  # role -> (pkcs8 PEM text, SPKI PEM text)

    def json(self, role: str) -> dict:
        pkcs8, spki = self.pems[role]
        return {"pkcs8Pem": pkcs8, "spkiPem": spki, "identity": getattr(self, role).identity.hex()}


def _derived_scalar(suite: int, role: str, order: int) -> int:
    draw = SeededEntropy(SEED, f"long-term/suite{suite}/{role}").draw("key", 48)
    return int.from_bytes(draw, "big") % (order - 1) + 1


def _fixed_key(suite: int, role: str) -> keys.LongTermPrivateKey:
    """The vectors' long-term key of ``role``: a scalar derived from SEED (RFC 6979 A.2.2
    domain parameters for suite 1), encoded as PKCS#8 and loaded as any key file is."""
    if suite == 1:
        key = keys.private_key_from_scalar(
            SUITES[1], _derived_scalar(1, role, DSA_Q), (DSA_P, DSA_Q, DSA_G)
        )
    else:
        key = keys.private_key_from_scalar(SUITES[2], _derived_scalar(2, role, P384_N))
    return keys.load_private_key(keys.private_key_pem(key, None), None, expect_suite=SUITES[suite])


@cache
def key_set(suite_number: int) -> KeySet:
    loaded, pems = {}, {}
    for role in ROLES:
        loaded[role] = key = _fixed_key(suite_number, role)
        pkcs8, spki = keys.private_key_pem(key, None), keys.public_key_pem(key)
        pems[role] = (pkcs8.decode("ascii"), spki.decode("ascii"))
    return KeySet(
        SUITES[suite_number], loaded["emitter"], loaded["receiver"], loaded["other"], pems
    )


def message_bytes(n: int, salt: str = "") -> bytes:
    """A readable, deterministic message of n bytes."""
    pattern = (f"Parley vector message{salt}: 0123456789 abcdefghijklmnopqrstuvwxyz. ").encode()
    return (pattern * (n // len(pattern) + 1))[:n]


# -- frames -------------------------------------------------------------------

FIELD_NAMES = {
    "E_HELLO": {1: "version", 2: "suite", 3: "sid_e", 4: "g_e"},
    "R_HELLO": {3: "sid_r", 4: "g_r", 5: "c_r", 6: "mac_r"},
    "E_AUTH": {5: "c_e", 6: "mac_e"},
    "DATA": {5: "ct", 6: "tag", 7: "seq"},
    "FINAL": {6: "tag", 7: "seq", 8: "total"},
    "ACK": {6: "tag", 8: "total"},
    "ABORT": {9: "error"},
}
BIG_BODY = 8192  # bodies larger than this get only their wire bytes (file size)


def wire(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


def frame_view(index: int, direction: str, raw: bytes) -> dict:
    """One entry of ``frames``: wire hex, body, type, RFC 8949 §8 diagnostic, decoded fields."""
    body = raw[4:] if len(raw) >= 4 and int.from_bytes(raw[:4], "big") == len(raw) - 4 else None
    ftype, diag, decoded = "MALFORMED", None, None
    if body:
        try:
            item = decode_body(body)
        except ParleyError:
            item = None
        if item is not None:
            if len(body) <= BIG_BODY:
                diag = cbor_diag.diagnostic(item)
            try:
                name = TYPE_NAMES.get(message_type(item))
            except ParleyError:
                name = None
            if name is not None:
                ftype = name
                try:
                    check_schema(message_type(item), item)
                    ok = True
                except ParleyError:
                    ok = False
                if ok and len(body) <= BIG_BODY:
                    decoded = {"type": name}
                    for key, fname in FIELD_NAMES[name].items():
                        v = item[key]
                        decoded[fname] = v.hex() if isinstance(v, bytes) else v
    return {
        "index": index,
        "direction": direction,
        "type": ftype,
        "wire": raw.hex(),
        "body": body.hex() if body is not None and len(body) <= BIG_BODY else None,
        "diagnostic": diag,
        "decoded": decoded,
    }


# -- output -------------------------------------------------------------------


def dump_json(obj: object) -> str:
    """Deterministic JSON text: fixed key order (as built), 1-space indent, trailing newline."""
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def entropy_json(draws: list[tuple[str, bytes]]) -> list[dict]:
    return [{"purpose": purpose, "value": value.hex()} for purpose, value in draws]

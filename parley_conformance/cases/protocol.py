"""Session-start cases: what an adapter does with a `start` it cannot or must not run.

One table (``START_CASES``) of (name, role, rules, what the start request changes, what the
adapter must answer), expanded by one generator over the suites.  They cover:

* keys that fail to load or contradict ``suite`` (adapter §3.3, parley §12): a ``result``
  with status ``failed`` and the KEY_* error, nothing sent, repeated on later requests;
* a pinned DSA key whose domain parameters are invalid (parley §12, finding 11);
* a session id already in use (adapter §3.1): an ``error`` reply, the first session intact;
* injected draws (adapter §4.4): taken in order, purpose and length checked, INTERNAL_ERROR
  when the list does not fit the draw; an invalid ephemeral draw discarded and the next used,
  and the boundaries of validity (parley §3.5: 2 <= x <= q - 1, 1 <= d <= n - 1).

Ids are ``live/<role>/suite<N>/start-<name>/frame-by-frame`` (adapter §5.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parley import ParleyError, keys as keyfiles
from parley.primitives import dsa, ffdh, keyfile, p384

from .. import peer as P
from ..testkeys import ENCRYPTED, FOREIGN, PASSWORD
from . import Case, CaseContext, CaseFailure, CaseUnsupported, check_abort, frame_bodies
from .live import close_quietly

SID = bytes(range(16))


@dataclass(frozen=True)
class Env:
    suite: int
    keys: P.KeySet


def _other_suite_key(env: Env, name: str) -> str:
    return P.fixed_keyset(3 - env.suite).public_pem(name)


def _pem(label: str, der_bytes: bytes) -> str:
    import base64

    b64 = base64.encodebytes(der_bytes).decode().replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


# DSA key numbers that parley §12 (R-12-4) makes a reader refuse, each with the fault it
# makes: (name, change of (p, q, g, y, x), expected error).  A DER encoding of any integers
# is well formed; only the numbers are wrong.  A 2047-bit p is another suite (R-12-2).
DSA_FAULTS: list[tuple[str, Callable[[int, int, int, int, int], tuple], str]] = [
    ("generator-of-order-2", lambda p, q, g, y, x: (p, q, p - 1, y, x), "KEY_FILE_INVALID"),
    ("generator-one", lambda p, q, g, y, x: (p, q, 1, y, x), "KEY_FILE_INVALID"),
    ("generator-equals-p", lambda p, q, g, y, x: (p, q, p, y, x), "KEY_FILE_INVALID"),
    (
        "q-not-dividing-p-1",
        lambda p, q, g, y, x: (p, q + 2 if (p - 1) % (q + 2) else q + 4, g, y, x),
        "KEY_FILE_INVALID",
    ),
    ("y-one", lambda p, q, g, y, x: (p, q, g, 1, x), "KEY_FILE_INVALID"),
    ("y-of-order-2", lambda p, q, g, y, x: (p, q, g, p - 1, x), "KEY_FILE_INVALID"),
    ("y-equals-p-plus-y", lambda p, q, g, y, x: (p, q, g, p + y, x), "KEY_FILE_INVALID"),
    ("p-of-2047-bits", lambda p, q, g, y, x: (p >> 1, q, g, y, x), "KEY_SUITE_MISMATCH"),
    ("q-of-255-bits", lambda p, q, g, y, x: (p, q >> 1, g, y, x), "KEY_SUITE_MISMATCH"),
]
# Private keys only: x out of 0 < x < q (PKCS#8 carries x alone; y is computed from it).
DSA_PRIVATE_FAULTS: list[tuple[str, Callable[[int, int, int, int, int], tuple], str]] = [
    ("x-zero", lambda p, q, g, y, x: (p, q, g, y, 0), "KEY_FILE_INVALID"),
    ("x-equals-q", lambda p, q, g, y, x: (p, q, g, y, q), "KEY_FILE_INVALID"),
]


def _emitter_dsa(env: Env) -> dsa.PrivateKey:
    """The emitter's suite-1 test key (its public half is what the receiver pins)."""
    priv = keyfiles.load_private_key(env.keys.private_pem("emitter").encode(), None).handle
    assert isinstance(priv, dsa.PrivateKey), "a suite-1 key"
    return priv


def _bad_dsa(env: Env, how: str, *, own: bool = False) -> str:
    """The emitter's suite-1 key with the numbers of ``how`` (DSA_FAULTS): as the receiver's
    pinned public key, or with ``own`` as the emitter's private key (parley §12, R-12-4)."""
    change = {name: fn for name, fn, _ in DSA_FAULTS + DSA_PRIVATE_FAULTS}[how]
    priv = _emitter_dsa(env)
    pr = priv.public.params
    p, q, g, y, x = change(pr.p, pr.q, pr.g, priv.public.y, priv.x)
    public = dsa.PublicKey(dsa.Parameters(p, q, g), y)
    if not own:
        return _pem("PUBLIC KEY", keyfile.spki_der(public))
    return _pem("PRIVATE KEY", keyfile.pkcs8_der(dsa.PrivateKey(public, x)))


def _dsa_with_x(env: Env, x_of: Callable[[int], int]) -> str:
    """The emitter's suite-1 key with secret ``x_of(q)`` and its y = g^x (a valid key)."""
    pr = _emitter_dsa(env).public.params
    x = x_of(pr.q)
    key = dsa.PrivateKey(dsa.PublicKey(pr, pow(pr.g, x, pr.p)), x)
    return _pem("PRIVATE KEY", keyfile.pkcs8_der(key))


def _dsa_pkcs8_v1(env: Env) -> str:
    """The emitter's suite-1 key as a version 1 PrivateKeyInfo (RFC 5958 §2: OneAsymmetricKey,
    here without the optional publicKey), written field by field."""
    from parley.primitives import der

    v0 = keyfile.pkcs8_der(_emitter_dsa(env))
    assert v0[4:7] == der.integer(0), "PrivateKeyInfo starts with version 0"
    return _pem("PRIVATE KEY", der.encode(0x30, der.integer(1) + v0[7:]))


def _der_of(pem: str) -> bytes:
    import base64

    return base64.b64decode("".join(pem.strip().splitlines()[1:-1]))


def _pkcs8_variant(env: Env, how: str) -> str:
    """The emitter's key as a PKCS#8 PrivateKeyInfo changed field by field (RFC 5958 §2)."""
    from parley.primitives import der

    pki = _der_of(env.keys.private_pem("emitter"))
    head = 2 if pki[1] < 0x80 else 2 + (pki[1] & 0x7F)
    content = pki[head:]
    assert content[:3] == der.integer(0), "PrivateKeyInfo starts with version 0"
    if how == "with-attributes":
        content += b"\xa0\x00"  # [0] IMPLICIT SET OF Attribute, empty
    else:
        content += der.integer(5)
    return _pem("PRIVATE KEY", der.encode(0x30, content))


def _dsa_without_parameters(env: Env) -> str:
    """The emitter's suite-1 public key with the DSA OID alone in its AlgorithmIdentifier."""
    from parley.primitives import der

    key = _emitter_dsa(env).public
    algorithm = der.sequence(der.oid("1.2.840.10040.4.1"))
    return _pem("PUBLIC KEY", der.sequence(algorithm, der.bit_string(der.integer(key.y))))


def _compressed_spki(env: Env, name: str) -> str:
    """``name``'s suite-2 public key as a SubjectPublicKeyInfo with the compressed point
    (SEC 1 §2.3.3: 02 or 03 by the parity of y, then x)."""
    from parley.primitives import der

    spki = der.Reader(_der_of(env.keys.public_pem(name))).read_sequence()
    algorithm = spki.read(der.SEQUENCE)
    point = spki.read_bit_string()
    assert point[0] == 4 and len(point) == 97, "an uncompressed P-384 point"
    compressed = bytes([2 | (point[-1] & 1)]) + point[1:49]
    return _pem(
        "PUBLIC KEY",
        der.sequence(der.encode(der.SEQUENCE, algorithm), der.bit_string(compressed)),
    )


def _whole_session(ctx: CaseContext, impl, env: Env, role: str) -> None:
    """Drive ``impl`` (started) through a whole session with the runner's peer: the handshake
    and a 10-byte message, acknowledged (§5, §7)."""
    other = "receiver" if role == "emitter" else "emitter"
    peer = P.make_peer(
        other,
        own_key=env.keys.key(other),
        pinned_key=env.keys.key(role).public,
        seed=ctx.case.id.encode(),
        chunk_size=4,
    )
    try:
        if role == "receiver":
            peer.start()
            impl.feed(peer.data_to_send())  # E_HELLO
            peer.receive_data(impl.take_out())  # R_HELLO
            peer.send_data(b"x" * 10)
            peer.end_stream()
            impl.feed(peer.data_to_send())  # E_AUTH, the records, FINAL
            peer.receive_data(impl.take_out())  # the ACK
        else:
            peer.receive_data(impl.take_out())  # E_HELLO
            impl.feed(peer.data_to_send())  # R_HELLO
            peer.receive_data(impl.take_out())  # E_AUTH, the records, FINAL; the ACK back
            impl.feed(peer.data_to_send())
    except ParleyError as exc:
        who = (
            f"the implementation failed with {impl.error} and sent ABORT"
            if exc.error.name == "PEER_ABORTED" and impl.error is not None
            else f"the runner's peer refused the implementation's bytes with {exc.error.name}"
        )
        raise CaseFailure(
            f"{who}: the two identities differ (§5.5: computed from the key's canonical "
            "encoding, not from the file's bytes)",
            [impl.summary()],
        ) from None
    if impl.status != "done" or impl.error is not None:
        raise CaseFailure(
            f"the session ended {impl.status} with {impl.error or 'no error'}; expected a "
            "complete session (§5.5: identities from the canonical encoding of the key)",
            [impl.summary()],
        )


def _ephemeral(suite: int, value: int) -> bytes:
    return value.to_bytes(32 if suite == 1 else 48, "big")


def _public(suite: int, value: int) -> bytes:
    """The ephemeral public value of a secret, computed here (§3.5)."""
    if suite == 1:
        return pow(ffdh.G, value, ffdh.P).to_bytes(256, "big")
    return p384.public_bytes(value)


# Ephemeral boundaries (parley §3.5): (name, suites, invalid first draw or None, the valid
# draw).  Suite 1 draws 32 bytes and q has 2047 bits, so x = q cannot be drawn: its bounds are
# x = 0, 1 (invalid), 2 and 2^256 - 1 (valid); suite 2's are d = 0, n, 2^384 - 1 and 1, n - 1.
BOUNDARIES = [
    ("lowest-valid", (1, 2), None, lambda s: 2 if s == 1 else 1),
    ("highest-valid", (1, 2), None, lambda s: (1 << 256) - 1 if s == 1 else p384.N - 1),
    ("redraw-zero", (1, 2), lambda s: 0, lambda s: 7),
    ("redraw-one", (1,), lambda s: 1, lambda s: 7),
    ("redraw-at-order", (2,), lambda s: p384.N, lambda s: 7),
    ("redraw-all-ones", (2,), lambda s: (1 << 384) - 1, lambda s: 7),
]


@dataclass(frozen=True)
class StartCase:
    name: str
    role: str
    rules: tuple[str, ...]
    title: str
    change: Callable[..., dict]  # overrides of the start request, from an Env
    expect: tuple  # ("error", NAME) | ("reply-error", code) | ("g", secret fn) | ("running",)
    suites: tuple[int, ...] = (1, 2)
    needs_injection: bool = False
    needs_encrypted_keys: bool = False


def _start_cases() -> list[StartCase]:
    out: list[StartCase] = []
    key_rules = ("R-A3.3-1", "R-12-3")
    for role in ("emitter", "receiver"):
        other = "receiver" if role == "emitter" else "emitter"
        out += [
            StartCase(
                "own-key-not-pem",
                role,
                key_rules,
                "own_key is not a PEM key",
                lambda env: {"own_key": "not a key\n"},
                ("error", "KEY_FILE_INVALID"),
            ),
            StartCase(
                "own-key-truncated",
                role,
                key_rules,
                "own_key's PEM body cut in half",
                lambda env, role=role: {
                    "own_key": _cut(env.keys.private_pem(role)),
                },
                ("error", "KEY_FILE_INVALID"),
            ),
            StartCase(
                "peer-key-of-the-other-suite",
                role,
                ("R-A3.3-1", "R-12-2", "R-3.1-1"),
                "the pinned key is of the other suite",
                lambda env, other=other: {"peer_key": _other_suite_key(env, other)},
                ("error", "KEY_SUITE_MISMATCH"),
            ),
            StartCase(
                "keys-contradict-suite",
                role,
                ("R-A3.3-1", "R-12-2"),
                "both keys are of the other suite than the request's suite",
                lambda env, role=role, other=other: {
                    "own_key": P.fixed_keyset(3 - env.suite).private_pem(role),
                    "peer_key": _other_suite_key(env, other),
                },
                ("error", "KEY_SUITE_MISMATCH"),
            ),
        ]
    for name, pem in FOREIGN.items():
        algorithm, kind = name.rsplit("-", 1)
        for role in ("emitter", "receiver"):
            out.append(
                StartCase(
                    f"{'own' if kind == 'private' else 'peer'}-key-{algorithm}",
                    role,
                    ("R-A3.3-1", "R-12-2"),
                    f"the {'own' if kind == 'private' else 'pinned'} key is {algorithm}, "
                    "neither DSA-2048/256 nor P-384",
                    lambda env, pem=pem, kind=kind: (
                        {"own_key": pem} if kind == "private" else {"peer_key": pem}
                    ),
                    ("error", "KEY_SUITE_MISMATCH"),
                )
            )
    # Encrypted own keys (R-12-1, R-12-5), written by OpenSSL (testkeys.ENCRYPTED): read with
    # the password; without it, with another one, or with a damaged ciphertext refused.
    enc_rules = ("R-A3.3-1", "R-12-1")
    default = ("hmacWithSHA256", "aes-256-cbc", 2048)
    for role in ("emitter", "receiver"):
        out += [
            StartCase(
                "own-key-encrypted",
                role,
                enc_rules,
                "own_key encrypted (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) with its password",
                lambda env, role=role: {
                    "own_key": ENCRYPTED[env.suite, role, default],
                    "own_key_password": PASSWORD,
                },
                ("running",),
                needs_encrypted_keys=True,
            ),
            StartCase(
                "own-key-encrypted-wrong-password",
                role,
                enc_rules + ("R-12-5",),
                "own_key encrypted, and another password given",
                lambda env, role=role: {
                    "own_key": ENCRYPTED[env.suite, role, default],
                    "own_key_password": PASSWORD + b"!",
                },
                ("error", "KEY_PASSWORD_WRONG"),
                needs_encrypted_keys=True,
            ),
            StartCase(
                "own-key-encrypted-no-password",
                role,
                enc_rules + ("R-12-5",),
                "own_key encrypted, and no password given",
                lambda env, role=role: {"own_key": ENCRYPTED[env.suite, role, default]},
                ("error", "KEY_PASSWORD_WRONG"),
                needs_encrypted_keys=True,
            ),
            StartCase(
                "own-key-encrypted-damaged",
                role,
                enc_rules + ("R-12-5",),
                "own_key encrypted, one ciphertext bit changed so that its padding breaks",
                lambda env, role=role: {
                    "own_key": _damage_padding(ENCRYPTED[env.suite, role, default]),
                    "own_key_password": PASSWORD,
                },
                ("error", "KEY_PASSWORD_WRONG"),
                needs_encrypted_keys=True,
            ),
        ]
    # PBES2 fields at and past their bounds (RFC 8018 §A.2, §B.2.5), the emitter's key
    # encrypted here by the reference's writer and then edited field by field.
    for how, what, expect in (
        ("iterations-1", "1 PBKDF2 iteration (the least, R-12-1)", ("running",)),
        ("key-length-field", "the optional keyLength field, 32", ("running",)),
        ("iterations-0", "0 PBKDF2 iterations", ("error", "KEY_FILE_INVALID")),
        ("iv-15-bytes", "an AES-CBC IV of 15 bytes", ("error", "KEY_FILE_INVALID")),
        (
            "ciphertext-cut",
            "a ciphertext 1 byte short of whole blocks",
            ("error", "KEY_PASSWORD_WRONG"),
        ),
    ):
        out.append(
            StartCase(
                f"own-key-encrypted-{how}",
                "emitter",
                enc_rules + (("R-12-5",) if expect[1:] == ("KEY_PASSWORD_WRONG",) else ()),
                f"own_key encrypted with {what}",
                lambda env, how=how: {
                    "own_key": _pbes2_variant(env, how),
                    "own_key_password": PASSWORD,
                },
                expect,
                needs_encrypted_keys=True,
            )
        )
    for (suite, role, scheme), pem in ENCRYPTED.items():
        if scheme == default:
            continue
        prf, cipher, iterations = scheme
        out.append(
            StartCase(
                f"own-key-encrypted-{prf.removeprefix('hmacWith').lower()}-{cipher}-{iterations}",
                role,
                enc_rules,
                f"own_key encrypted with PBKDF2-HMAC-{prf.removeprefix('hmacWith')} "
                f"({'no PRF field, its default' if prf == 'hmacWithSHA1' else 'PRF field'}), "
                f"{iterations} iterations, {cipher.upper()}: read",
                lambda env, pem=pem: {"own_key": pem, "own_key_password": PASSWORD},
                ("running",),
                suites=(suite,),
                needs_encrypted_keys=True,
            )
        )
    # The application's own values outside their limits (§10, R-10-1: LIMIT_EXCEEDED); the
    # limits themselves are live cases (max-app-header, largest-records, seq-past-2-16).
    for name, title, change in (
        ("app-header-4097", "a 4097-byte application header", {"app_header": b"h" * 4097}),
        ("chunk-size-262145", "a chunk size of 262145 bytes", {"chunk_size": 262145}),
        ("chunk-size-0", "a chunk size of 0 bytes", {"chunk_size": 0}),
    ):
        out.append(
            StartCase(
                name,
                "emitter",
                ("R-10-1", "R-A3.3-2"),
                f"{title}: outside its limits",
                lambda env, change=change: dict(change),
                ("error", "LIMIT_EXCEEDED"),
            )
        )
    # A PKCS#8 DSA key carries x alone and y is computed from it, so the y faults are the
    # pinned key's only; x's are the own key's.
    own_faults = [f for f in DSA_FAULTS if not f[0].startswith("y-")] + DSA_PRIVATE_FAULTS
    for which, role, faults in (("pinned", "receiver", DSA_FAULTS), ("own", "emitter", own_faults)):
        for how, _, error in faults:
            out.append(
                StartCase(
                    f"{which}-dsa-key-{how}",
                    role,
                    key_rules + ("R-12-2" if error == "KEY_SUITE_MISMATCH" else "R-12-4",),
                    f"the {which} DSA key's numbers are invalid ({how})",
                    lambda env, how=how, which=which: (
                        {"peer_key": _bad_dsa(env, how)}
                        if which == "pinned"
                        else {"own_key": _bad_dsa(env, how, own=True)}
                    ),
                    ("error", error),
                    suites=(1,),
                )
            )
    # PKCS#8 structure (RFC 5958 §2): [0] attributes after the key are read, a field that is
    # not a PrivateKeyInfo's is KEY_FILE_INVALID (OpenSSL 3 reads and refuses the same; it
    # refuses a version 1 key's [1] publicKey too, so §12 leaves that one open); a pinned key
    # cut short or a DSA key without its parameters is unreadable.
    for how, what, expect in (
        ("with-attributes", "with an empty [0] attributes field", ("running",)),
        ("field-after-key", "with an INTEGER after the key", ("error", "KEY_FILE_INVALID")),
    ):
        out.append(
            StartCase(
                f"own-key-pkcs8-{how}",
                "emitter",
                key_rules,
                f"the own key is a PKCS#8 {what}",
                lambda env, how=how: {"own_key": _pkcs8_variant(env, how)},
                expect,
            )
        )
    for role in ("emitter", "receiver"):
        other = "receiver" if role == "emitter" else "emitter"
        out.append(
            StartCase(
                "peer-key-truncated",
                role,
                key_rules,
                "peer_key's PEM body cut in half",
                lambda env, other=other: {"peer_key": _cut(env.keys.public_pem(other))},
                ("error", "KEY_FILE_INVALID"),
            )
        )
    out.append(
        StartCase(
            "pinned-dsa-key-without-parameters",
            "receiver",
            key_rules,
            "the pinned DSA key's AlgorithmIdentifier has no domain parameters",
            lambda env: {"peer_key": _dsa_without_parameters(env)},
            ("error", "KEY_FILE_INVALID"),
            suites=(1,),
        )
    )
    # A pinned P-384 key whose file holds the compressed point: the same key, so the session
    # completes only if the identity is computed from its canonical encoding (R-5.5-3).
    for role in ("emitter", "receiver"):
        other = "receiver" if role == "emitter" else "emitter"
        out.append(
            StartCase(
                "pinned-key-compressed-point",
                role,
                ("R-5.5-3", "R-12-2"),
                "the pinned P-384 key's file holds its compressed point: a whole session",
                lambda env, other=other: {"peer_key": _compressed_spki(env, other)},
                ("session",),
                suites=(2,),
            )
        )
    # ... and own keys a reader must accept (R-12-4): the extreme valid secrets, and a
    # version 1 PrivateKeyInfo (RFC 5958 OneAsymmetricKey).
    valid_keys: list[tuple[str, str, Callable[[Env], str]]] = [
        ("x-one", "x is 1", lambda env: _dsa_with_x(env, lambda q: 1)),
        ("x-q-minus-1", "x is q - 1", lambda env: _dsa_with_x(env, lambda q: q - 1)),
        ("pkcs8-version-1", "a version 1 PKCS#8", _dsa_pkcs8_v1),
    ]
    for how, what, make_key in valid_keys:
        out.append(
            StartCase(
                f"own-dsa-key-{how}",
                "emitter",
                key_rules + ("R-12-4",),
                f"the own DSA key is valid ({what}): accepted",
                lambda env, make_key=make_key: {"own_key": make_key(env)},
                ("running",),
                suites=(1,),
            )
        )
    out.append(
        StartCase(
            "session-id-in-use",
            "receiver",
            ("R-A3.1-2",),
            "a second start with the session id of a running session",
            lambda env: {},
            ("reply-error", "bad_request"),
        )
    )
    out.append(
        StartCase(
            "fresh-randomness-per-session",
            "emitter",
            ("R-3.5-1",),
            "two sessions on their own randomness share no sid_e and no g_e",
            lambda env: {},
            ("fresh",),
        )
    )
    # Injected draws (adapter §4.4).
    draw_rules = ("R-A4.4-1", "R-A4.4-2", "R-11-1")
    out += [
        StartCase(
            "entropy-wrong-purpose",
            "emitter",
            draw_rules,
            "the injected list names the ephemeral first, then the sid",
            lambda env: {"entropy": [("ephemeral", _ephemeral(env.suite, 7)), ("sid", SID)]},
            ("error", "INTERNAL_ERROR"),
            needs_injection=True,
        ),
        StartCase(
            "entropy-runs-out",
            "emitter",
            draw_rules,
            "the injected list holds the sid only",
            lambda env: {"entropy": [("sid", SID)]},
            ("error", "INTERNAL_ERROR"),
            needs_injection=True,
        ),
        StartCase(
            "entropy-wrong-length",
            "emitter",
            draw_rules,
            "the injected sid has 15 bytes",
            lambda env: {"entropy": [("sid", SID[:15]), ("ephemeral", _ephemeral(env.suite, 7))]},
            ("error", "INTERNAL_ERROR"),
            needs_injection=True,
        ),
        StartCase(
            "entropy-left-over",
            "emitter",
            draw_rules,
            "the injected list holds a spare ephemeral after the draws",
            lambda env: {
                "entropy": [
                    ("sid", SID),
                    ("ephemeral", _ephemeral(env.suite, 7)),
                    ("ephemeral", _ephemeral(env.suite, 9)),
                ]
            },
            ("g", lambda s: 7),
            needs_injection=True,
        ),
    ]
    for name, suites, invalid, valid in BOUNDARIES:
        out.append(
            StartCase(
                f"ephemeral-{name}",
                "emitter",
                ("R-3.5-2", "R-3.5-3", "R-A4.4-1"),
                f"injected ephemeral: {name.replace('-', ' ')}",
                lambda env, invalid=invalid, valid=valid: {
                    "entropy": [("sid", SID)]
                    + (
                        [("ephemeral", _ephemeral(env.suite, invalid(env.suite)))]
                        if invalid
                        else []
                    )
                    + [("ephemeral", _ephemeral(env.suite, valid(env.suite)))]
                },
                ("g", valid),
                suites=suites,
                needs_injection=True,
            )
        )
    return out


def _pbes2_variant(env: Env, how: str) -> str:
    """The emitter's key as an EncryptedPrivateKeyInfo (RFC 5958 §3) with one PBES2 field at
    or past its bound: encrypted by the reference's writer, then rebuilt field by field."""
    from parley.primitives import der, pbes2

    iterations = 1 if how in ("iterations-1", "iterations-0") else 2048
    epki = pbes2.encrypt_pkcs8(
        _der_of(env.keys.private_pem("emitter")),
        PASSWORD,
        salt=bytes(range(16)),
        iv=bytes(range(16, 32)),
        iterations=iterations,
    )
    outer = der.Reader(epki).read_sequence()
    alg = outer.read_sequence()
    ciphertext = outer.read(der.OCTET_STRING)
    pbes2_oid = alg.read_oid()
    params = alg.read_sequence()
    kdf, scheme = params.read_sequence(), params.read_sequence()
    kdf_oid, kp = kdf.read_oid(), kdf.read_sequence()
    salt, count, prf = kp.read(der.OCTET_STRING), kp.read_integer(), kp.read(der.SEQUENCE)
    cipher_oid, iv = scheme.read_oid(), scheme.read(der.OCTET_STRING)
    key_length = b""
    if how == "iterations-0":
        count = 0
    elif how == "key-length-field":
        key_length = der.integer(32)
    elif how == "iv-15-bytes":
        iv = iv[:15]
    elif how == "ciphertext-cut":
        ciphertext = ciphertext[:-1]
    kdf_params = der.octet_string(salt) + der.integer(count) + key_length
    kdf_params += der.encode(der.SEQUENCE, prf)
    rebuilt = der.sequence(
        der.sequence(
            pbes2_oid,
            der.sequence(
                der.sequence(kdf_oid, der.encode(der.SEQUENCE, kdf_params)),
                der.sequence(cipher_oid, der.octet_string(iv)),
            ),
        ),
        der.octet_string(ciphertext),
    )
    return _pem("ENCRYPTED PRIVATE KEY", rebuilt)


def _damage_padding(pem: str) -> str:
    """An EncryptedPrivateKeyInfo whose last plaintext byte decrypts with bit 7 flipped: its
    PKCS#7 padding (1 to 16) becomes 129 to 144, which no password makes valid (CBC: bit i of
    the next-to-last ciphertext block flips bit i of the last plaintext block)."""
    der_bytes = bytearray(_der_of(pem))
    der_bytes[-17] ^= 0x80  # the ciphertext is the structure's last field
    return _pem("ENCRYPTED PRIVATE KEY", bytes(der_bytes))


def _cut(pem: str) -> str:
    lines = pem.strip().splitlines()
    body = lines[1:-1]
    return "\n".join([lines[0]] + body[: len(body) // 2] + [lines[-1]]) + "\n"


def _body(sc: StartCase, suite: int):
    def body(ctx: CaseContext) -> None:
        if sc.needs_injection and not ctx.hello.injected_randomness:
            raise CaseUnsupported("needs injected randomness (adapter §4.4)")
        if sc.needs_encrypted_keys and not ctx.hello.encrypted_keys:
            raise CaseUnsupported("needs encrypted key files (adapter §3.2, `encrypted_keys`)")
        keys = P.fixed_keyset(suite)
        env = Env(suite, keys)
        other = "receiver" if sc.role == "emitter" else "emitter"
        args: dict[str, Any] = dict(
            role=sc.role,
            suite=suite,
            own_key=keys.private_pem(sc.role),
            peer_key=keys.public_pem(other),
            message=b"x" * 10,
            app_header=b"",
            chunk_size=4,
        )
        change = sc.change(env)
        if "entropy" in change:
            args["deterministic_signatures"] = True
        args.update(change)
        kind, *what = sc.expect
        if kind == "reply-error":
            first = ctx.session(**args)
            first.start()
            again = ctx.session(**args)
            again.session_id = first.session_id
            again.expect_error_reply = True
            from .. import adapter_protocol as ap

            try:
                again.start()
            except ap.AdapterErrorReply as exc:
                if exc.code != what[0]:
                    raise CaseFailure(
                        f"answered the second start with error code {exc.code!r}; expected "
                        f"{what[0]!r} (adapter §3.1, adapter §3.9)"
                    ) from None
            else:
                raise CaseFailure(
                    "accepted a start whose session id is in use (adapter §3.1: session ids "
                    "are unique; the reply is an error with code bad_request)"
                )
            # The first session is intact: it still answers (adapter §3.1).
            result = first.eof()
            if result.error is None or result.error.name != "TRUNCATED":
                raise CaseFailure(
                    f"after the refused start, eof on the first session gave {result.error}; "
                    "expected TRUNCATED (the first session must be untouched)"
                )
            first.close()
            return
        if kind == "fresh":
            seen = []
            for _ in range(3):
                impl = ctx.session(**args)
                result = impl.start()
                bodies = frame_bodies(result.out)
                if result.error is not None or len(bodies) != 1:
                    raise CaseFailure(f"start gave {result.error} and {len(bodies)} frames")
                hello = P.decode(bodies[0])
                seen.append((hello.get(3), hello.get(4)))
                impl.close()
            sids, gs = [s for s, _ in seen], [g for _, g in seen]
            if len(set(sids)) != len(sids) or len(set(gs)) != len(gs):
                raise CaseFailure(
                    "two sessions drew the same sid_e or the same ephemeral value: each session "
                    "draws fresh values from a secure source (§3.5)",
                    [f"sid_e {x.hex() if isinstance(x, bytes) else x}" for x in sids],
                )
            return
        impl = ctx.session(**args)
        try:
            result = impl.start()
            if kind == "error":
                if result.error is None or result.error.name != what[0]:
                    raise CaseFailure(
                        f"start gave {result.error or 'no error'} (status {result.status}); "
                        f"expected a result with {what[0]} and status failed (adapter §3.3)",
                        [impl.summary()],
                    )
                if result.status != "failed":
                    raise CaseFailure(f"status {result.status!r} with {what[0]}; expected failed")
                problems = check_abort(result.out, what[0], sends_abort=what[0] == "INTERNAL_ERROR")
                if what[0] != "INTERNAL_ERROR" and result.out:
                    problems.append("sent bytes although the session never started (§11)")
                if problems:
                    raise CaseFailure(problems[0], problems[1:] + [impl.summary()])
                impl.after_end(status="failed", error=impl.error, feed=b"\x00")
            else:
                if result.error is not None or result.status != "running":
                    raise CaseFailure(
                        f"start gave {result.error} (status {result.status}); expected E_HELLO",
                        [impl.summary()],
                    )
                bodies = frame_bodies(result.out)
                if sc.role == "receiver":  # a Receiver sends nothing at start (adapter §4.1)
                    if result.out:
                        raise CaseFailure(f"start sent {len(bodies)} frames; expected none")
                    if kind == "session":
                        _whole_session(ctx, impl, env, sc.role)
                    impl.close()
                    return
                if len(bodies) != 1:
                    raise CaseFailure(f"start sent {len(bodies)} frames; expected E_HELLO alone")
                if kind == "running":
                    impl.close()
                    return
                if kind == "session":
                    _whole_session(ctx, impl, env, sc.role)
                    impl.close()
                    return
                g = P.decode(bodies[0]).get(4)
                want = _public(suite, what[0](suite))
                if g != want:
                    raise CaseFailure(
                        "E_HELLO's g_e is not the public value of the first valid injected "
                        "draw (parley §3.5: an invalid draw is discarded and the next one used; "
                        "adapter §4.4: draws are taken in order)",
                        [
                            f"g_e {g.hex()[:32] if isinstance(g, bytes) else g}…",
                            f"expected {want.hex()[:32]}…",
                        ],
                    )
        except CaseFailure:
            close_quietly(ctx, impl)
            raise
        impl.close()

    return body


def cases() -> list[Case]:
    out = []
    for sc in _start_cases():
        for suite in sc.suites:
            out.append(
                Case(
                    id=f"live/{sc.role}/suite{suite}/start-{sc.name}/frame-by-frame",
                    kind="live",
                    suite=suite,
                    role=sc.role,
                    section="adapter §3.3, adapter §4.4, §3.5, §12",
                    title=sc.title,
                    expected=str(sc.expect[0])
                    + (
                        f" {sc.expect[1]}"
                        if sc.expect[1:] and isinstance(sc.expect[1], str)
                        else ""
                    ),
                    body=_body(sc, suite),
                    rules=sc.rules,
                )
            )
    return out

"""The two cipher suites (§3).

A suite fixes every algorithm and every length; nothing is negotiated beyond
the suite number in E_HELLO, and nothing is generated at run time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suite:
    """One row of the suite table in §3.1."""

    number: int
    name: str
    alias: str  # short name for command lines ("dh", "ec")
    group: str  # key-agreement group (§3.2)
    signature: str  # signature algorithm (§3.3)
    hash_name: str  # H: transcript hash, HKDF hash, handshake MACs, signature hash
    hash_len: int  # Hlen, in bytes
    element_len: int  # encoded ephemeral public value (§3.4)
    shared_secret_len: int  # encoded DH output Z (§3.4)
    eph_secret_len: int  # injected ephemeral secret (§3.4)
    sig_len: int  # fixed-length signature r || s (§3.3)
    scalar_len: int  # length of r and of s


SUITE_1 = Suite(
    number=1,
    name="PARLEY_FFDHE2048_DSA2048_SHA256",
    alias="dh",
    group="ffdhe2048",
    signature="dsa-2048-256-sha256",
    hash_name="sha256",
    hash_len=32,
    element_len=256,
    shared_secret_len=256,
    eph_secret_len=32,
    sig_len=64,
    scalar_len=32,
)

SUITE_2 = Suite(
    number=2,
    name="PARLEY_P384_ECDSA_SHA384",
    alias="ec",
    group="P-384",
    signature="ecdsa-p384-sha384",
    hash_name="sha384",
    hash_len=48,
    element_len=97,
    shared_secret_len=48,
    eph_secret_len=48,
    sig_len=96,
    scalar_len=48,
)

SUITES: dict[int, Suite] = {s.number: s for s in (SUITE_1, SUITE_2)}

# The record layer (§7) is the same in both suites.
RECORD_ENC_KEY_LEN = 32  # AES-256
RECORD_MAC_KEY_LEN = 32  # HMAC-SHA-256 key
RECORD_TAG_LEN = 32  # HMAC-SHA-256 output, untruncated


def by_name(text: str) -> Suite:
    """Suite by number, spec name or alias (case-insensitive); ValueError otherwise."""
    t = text.strip().lower()
    for s in SUITES.values():
        if t in (str(s.number), s.name.lower(), s.alias):
            return s
    raise ValueError(
        f"unknown suite {text!r}; expected one of "
        + ", ".join(f"{s.name} ({s.alias})" for s in SUITES.values())
    )

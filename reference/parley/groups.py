"""The key-agreement group of each suite (§3.2, §3.4, §3.5), behind one interface."""

from __future__ import annotations

from typing import Any

from .entropy import Entropy
from .errors import RemoteProtocolError
from .primitives import InvalidElement, ffdh, p384
from .suites import Suite

_IMPL = {1: ffdh, 2: p384}


def draw_ephemeral(suite: Suite, entropy: Entropy) -> tuple[Any, bytes]:
    """Draw an ephemeral secret until it is valid (§3.5); return (secret, public value).

    The secret is opaque: an integer for suite 1, for suite 2 the library key built
    from the drawn bytes, kept for the exchange so that it is built only once.
    """
    impl = _IMPL[suite.number]
    while True:
        raw = entropy.draw("ephemeral", suite.eph_secret_len)
        try:
            secret = impl.private_from_bytes(raw)
        except ValueError:
            continue  # §3.5: an invalid draw is discarded
        if suite.number == 2:
            return p384.keypair(secret)
        return secret, impl.public_bytes(secret)


def validate_public(suite: Suite, data: bytes) -> object:
    """Check a peer's ephemeral public value (§3.4); INVALID_PUBLIC_KEY otherwise."""
    try:
        return _IMPL[suite.number].decode_public(data)
    except InvalidElement as exc:
        raise RemoteProtocolError(
            "INVALID_PUBLIC_KEY", f"peer's {suite.group} public value fails the {exc.reason} check"
        ) from None


def exchange(suite: Suite, secret: Any, peer: Any) -> bytearray:
    """Z, fixed length (§3.4); ``secret`` as :func:`draw_ephemeral` returned it, ``peer`` as
    :func:`validate_public` returned it (both opaque: their types depend on the suite)."""
    if suite.number == 1:  # peer came from validate_public: skip the repeated subgroup check
        return bytearray(ffdh.exchange(secret, peer, validated=True))
    return bytearray(p384.exchange(secret, peer))

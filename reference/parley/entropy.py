"""Sources of the randomness a session draws (§3.5), injected into the core.

The core never reads a random source by itself: a session is given an object
with ``draw(purpose, n)``.  Purposes are ``"sid"`` and ``"ephemeral"`` (§3.5).
``SystemEntropy`` is what the shells inject; ``SeededEntropy`` and
``FixedEntropy`` make sessions reproducible for tests, vectors and the
conformance runner, and MUST NOT be used in production (§3.5).
"""

from __future__ import annotations

import os
from typing import Protocol

from .primitives import symmetric

PURPOSES = ("sid", "ephemeral")


class Entropy(Protocol):
    def draw(self, purpose: str, n: int) -> bytes: ...


class SystemEntropy:
    """The operating system's CSPRNG."""

    def draw(self, purpose: str, n: int) -> bytes:
        return os.urandom(n)

    def __repr__(self) -> str:
        return "SystemEntropy()"


class SeededEntropy:
    """Deterministic draws: HKDF-Expand-SHA-256(seed, "party/purpose/counter").

    Used only to *derive* the values written into test vectors; implementations
    are given the values, never the seed.  A test-only interface (§3.5): no program of the
    reference uses it; applications use :class:`SystemEntropy`.
    """

    def __init__(self, seed: bytes, party: str) -> None:
        self._prk = symmetric.hkdf_extract("sha256", b"Parley v1 test entropy", seed)
        self._party = party
        self._count: dict[str, int] = {}

    def draw(self, purpose: str, n: int) -> bytes:
        i = self._count.get(purpose, 0)
        self._count[purpose] = i + 1
        info = f"{self._party}/{purpose}/{i}".encode()
        return symmetric.hkdf_expand("sha256", self._prk, info, n)

    def __repr__(self) -> str:
        return f"SeededEntropy(party={self._party!r})"


class FixedEntropy:
    """Replays given values per purpose, in order; fails loudly when they run out.

    A test-only interface (§3.5): injected values are for test vectors and conformance
    adapters; no program of the reference uses it, and applications use
    :class:`SystemEntropy`.
    """

    def __init__(self, values: dict[str, list[bytes]]) -> None:
        self._values = {k: list(v) for k, v in values.items()}

    def draw(self, purpose: str, n: int) -> bytes:
        queue = self._values.get(purpose) or []
        if not queue:
            raise ValueError(f"no injected value left for {purpose!r}")
        value = queue.pop(0)
        if len(value) != n:
            raise ValueError(f"injected {purpose!r} value has {len(value)} bytes, need {n}")
        return value

    def __repr__(self) -> str:
        return "FixedEntropy(<values>)"


class RecordingEntropy:
    """Wraps a source and records every draw as (purpose, value), for vectors."""

    def __init__(self, inner: Entropy) -> None:
        self.inner = inner
        self.draws: list[tuple[str, bytes]] = []

    def draw(self, purpose: str, n: int) -> bytes:
        value = self.inner.draw(purpose, n)
        self.draws.append((purpose, value))
        return value

    def __repr__(self) -> str:
        return f"RecordingEntropy({self.inner!r})"

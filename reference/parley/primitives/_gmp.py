"""GMP (gmpy2) for suite 1, imported at its first use.

Only suite 1 (ffdhe2048, DSA) needs GMP; a process that runs suite 2 (the
``parley`` tool with P-384 keys, say) never pays for importing gmpy2 (whose
package also imports ``importlib.metadata``: about 15-25 ms of start-up on the
project's machine, docs/bench.md).  ``gmpy2`` here behaves as the module: an
attribute lookup imports it on first use, then reads from it.
"""

from __future__ import annotations

from types import ModuleType


def _load() -> ModuleType:
    import gmpy2  # here, not at the top: lazily, on purpose

    return gmpy2


class _LazyModule:
    __slots__ = ("_module",)

    def __init__(self) -> None:
        self._module: ModuleType | None = None

    def __getattr__(self, name: str):
        module = self._module
        if module is None:
            module = self._module = _load()
        return getattr(module, name)


gmpy2 = _LazyModule()

__all__ = ["gmpy2"]

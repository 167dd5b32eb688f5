"""The Parley conformance runner (spec/adapter.md).

``conformance run ./my-adapter`` drives an implementation of Parley through a
small stdin/stdout adapter: vector cases replay the test vectors, live cases
play the other role with a deliberately misbehaving reference peer, and
``conformance interop`` puts two implementations in sessions with each other.
"""

from parley import __version__  # one version for the distribution (reference/parley/__init__.py)

__all__ = ["__version__"]

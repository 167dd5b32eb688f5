"""Adapters shipped with the conformance suite (spec/adapter.md): the reference's."""

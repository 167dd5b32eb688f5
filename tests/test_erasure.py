"""Erasure of the data-phase keys (§6 R-6-2, §9.3 R-9.3-3, §13.3 R-13.3-3), as far as Python
allows: when the session ends or fails, no object still reachable from either party is a
keyed library context of the record layer (an HMAC or an AES-CTR cipher context), so that
the library frees (and OpenSSL cleanses) them.  An adapter cannot see this (the rules are
unobservable to the conformance suite), so the reference checks it here.
"""

from __future__ import annotations

import gc
import os
import types

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from helpers import handshake, make_pair
from parley import ParleyError

# The library's types of a keyed HMAC and of a CTR context, from instances of them.
CONTEXT_TYPES = (
    type(hmac.HMAC(bytes(32), hashes.SHA256())),
    type(Cipher(algorithms.AES256(bytes(32)), modes.CTR(bytes(16))).decryptor()),
)


def contexts_reachable(root) -> int:
    """How many keyed library contexts are reachable from ``root``: through attributes,
    containers, bound methods and closures, but not through classes and modules."""
    seen, stack, found = set(), [root], 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, types.ModuleType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, CONTEXT_TYPES):
            found += 1
        if isinstance(obj, types.FunctionType):
            stack.extend(obj.__closure__ or ())  # not its globals: those are the module's
        else:
            stack.extend(gc.get_referents(obj))
    return found


def streaming(keypairs, suite):
    """A pair in the data phase, the Receiver having opened records on its fast path."""
    e, r = make_pair(keypairs, suite, chunk=100)
    handshake(e, r)
    r.receive_data(e.data_to_send())  # E_AUTH
    e.send_data(os.urandom(1000))
    r.receive_data(e.data_to_send())  # ten DATA records
    assert contexts_reachable(r) and contexts_reachable(e)  # the walk does find them
    return e, r


@pytest.mark.parametrize("suite", [1, 2])
def test_no_key_context_is_left_when_the_session_ends(keypairs, suite):
    e, r = streaming(keypairs, suite)
    e.end_stream()
    r.receive_data(e.data_to_send())
    r.acknowledge()
    e.receive_data(r.data_to_send())
    assert contexts_reachable(r) == 0
    assert contexts_reachable(e) == 0


@pytest.mark.parametrize("suite", [1, 2])
def test_no_key_context_is_left_when_the_session_fails(keypairs, suite):
    e, r = streaming(keypairs, suite)
    e.send_data(b"x" * 100)
    frame = bytearray(e.data_to_send())
    frame[-40] ^= 1  # in the tag
    with pytest.raises(ParleyError) as info:
        r.receive_data(bytes(frame))
    assert info.value.error.name == "BAD_RECORD_MAC"
    assert contexts_reachable(r) == 0
    del info  # the error's traceback holds the failed call's frame

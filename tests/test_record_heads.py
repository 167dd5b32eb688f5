"""DATA records at every CBOR head width of seq and offset (§4.2, §7.3), checked against an
independent codec (cbor2) and an independent record computation (hashlib/hmac + pyca's AES).

The live cases reach seq 300 and records of up to 262144 bytes; a seq of 2^16 or more would
need 65536 records in one case, so the widths above that are checked here, on the record
functions themselves (tools/mutate-survivors.toml cites this file for them).
"""

from __future__ import annotations

import hashlib
import hmac

import cbor2
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from parley import records

K, MK, MK_ACK, AD = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96)), b"ad" * 16
BOUNDS = [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]


def _expected(seq: int, offset: int, chunk: bytes) -> bytes:
    """§7.3 from the spec's text: CB = seq (8 bytes) || 0 (8 bytes); MacInput(4, seq, offset,
    ct) = 4 || seq (8) || offset (8) || len(ct) (8) || AD || ct (§7.2)."""
    cb = seq.to_bytes(8, "big") + bytes(8)
    enc = Cipher(algorithms.AES(K), modes.CTR(cb)).encryptor()
    ct = enc.update(chunk) + enc.finalize()
    mac_in = b"\x04" + seq.to_bytes(8, "big") + offset.to_bytes(8, "big")
    mac_in += len(ct).to_bytes(8, "big") + AD + ct
    tag = hmac.new(MK, mac_in, hashlib.sha256).digest()
    body = cbor2.dumps({0: 4, 5: ct, 6: tag, 7: seq}, canonical=True)
    return len(body).to_bytes(4, "big") + body


@pytest.mark.parametrize("seq", BOUNDS)
@pytest.mark.parametrize("size", [1, 23, 24, 255, 256, 65535, 65536])
def test_data_record_at_every_head_width(seq, size):
    keys = records.RecordKeys(bytearray(K), bytearray(MK), bytearray(MK_ACK), AD)
    chunk = bytes((i * 7 + 3) & 0xFF for i in range(size))
    offset = (2**64 - 1 - size) if seq == 2**64 - 1 else seq * 3
    frame = records.seal_data(keys, seq, offset, chunk)
    assert frame == _expected(seq, offset, chunk)
    fields = records.parse_data_body(memoryview(frame)[4:])
    assert fields is not None and fields[7] == seq
    assert bytes(records.open_data(keys, seq, offset, fields)) == chunk

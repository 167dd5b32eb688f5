"""The ``notes`` of each vector file: for every flag, what it tests, the kind of bug, its effect.

``bugType`` follows Wycheproof's vocabulary: BASIC (a plain functional case),
EDGE_CASE (a boundary an implementation can get wrong), FUNCTIONALITY (a
feature that must work), MISSING_STEP (a check the spec requires is left out),
MODIFIED_SIGNATURE, WRONG_PRIMITIVE (a value derived or used with the wrong
key, label or input), CAN_OF_WORMS (a parser accepts more than the profile),
KNOWN_BUG (a flaw of the seed design, §13.1).
"""

from __future__ import annotations

BUG_TYPES = [
    "BASIC",
    "EDGE_CASE",
    "FUNCTIONALITY",
    "MISSING_STEP",
    "MODIFIED_SIGNATURE",
    "WRONG_PRIMITIVE",
    "CAN_OF_WORMS",
    "KNOWN_BUG",
]


def _n(description: str, bug_type: str, effect: str) -> dict:
    assert bug_type in BUG_TYPES
    return {"description": description, "bugType": bug_type, "effect": effect}


POSITIVE = {
    "EmptyMessage": _n(
        "A message of 0 bytes: the data phase is FINAL alone (§7.1).",
        "EDGE_CASE",
        "An implementation that always sends or expects a DATA record cannot "
        "transfer empty files or rejects valid sessions.",
    ),
    "OneByte": _n(
        "A message of 1 byte: one DATA record of 1 byte.",
        "EDGE_CASE",
        "Off-by-one errors in chunking or length accounting.",
    ),
    "ChunkBoundary": _n(
        "Message sizes chunk - 1, chunk and chunk + 1 (§7.1, §7.3).",
        "EDGE_CASE",
        "Off-by-one errors in chunking: an empty record, a lost or duplicated "
        "byte at a record boundary, a wrong offset in MacInput.",
    ),
    "MultipleRecords": _n(
        "Several DATA records: sequence numbers, counter blocks CB(seq) and "
        "running offsets (§7.2, §7.3).",
        "FUNCTIONALITY",
        "Counter block reuse across records (keystream reuse) or a wrong "
        "offset breaks interoperability or confidentiality.",
    ),
    "AppHeader": _n(
        "A non-empty application header in E_AUTH and its hash AD in every record "
        "MAC (§5.4, §7.1).",
        "FUNCTIONALITY",
        "An implementation that does not bind the header lets an attacker who can "
        "swap headers between sessions go unnoticed, or fails to interoperate.",
    ),
    "LeadingZeroZ": _n(
        "The DH output Z begins with a zero byte and is kept at its fixed length (§3.4).",
        "EDGE_CASE",
        "An implementation that strips leading zeros (a common big-integer "
        "conversion bug) derives different keys in about 1 session in 256.",
    ),
    "RedrawnEphemeral": _n(
        "Each party's first ephemeral draw is out of range and is discarded; "
        "the next draw is used (§3.5).",
        "EDGE_CASE",
        "An implementation that reduces or clamps an out-of-range draw "
        "instead of drawing again uses another secret than the vector.",
    ),
}

NEGATIVE = {
    "OversizedFrame": _n(
        "A frame's declared length exceeds the limit of the state (§4.1, §10).",
        "MISSING_STEP",
        "Memory exhaustion: a peer makes the party allocate or wait for up to "
        "4 GiB before anything is authenticated.",
    ),
    "MalformedFrame": _n(
        "A frame that is not one CBOR item (§4.1).",
        "CAN_OF_WORMS",
        "A parser that accepts empty frames is confused about frame boundaries.",
    ),
    "MalformedCbor": _n(
        "Malformed CBOR or CBOR outside the profile: trailing bytes, truncation, "
        "tags, floats, undefined, reserved values, invalid UTF-8, duplicate keys, "
        "nesting, too many entries (§4.2).",
        "CAN_OF_WORMS",
        "A lax decoder accepts inputs that another implementation reads "
        "differently (parser differentials), or spends unbounded resources.",
    ),
    "NonDeterministicCbor": _n(
        "Well-formed CBOR that is not in the deterministic encoding: "
        "non-shortest heads, indefinite lengths, unsorted keys (§4.2).",
        "CAN_OF_WORMS",
        "Two encodings of one message hash differently: the transcript "
        "hash no longer identifies the message, and frames can be "
        "re-encoded undetected.",
    ),
    "SchemaViolation": _n(
        "A missing, unknown, mistyped or mis-sized field (§4.3, §5, §7).",
        "MISSING_STEP",
        "Fields of the wrong size or type reach the cryptography: crashes, "
        "truncated MACs or signatures accepted.",
    ),
    "UnsupportedVersion": _n(
        "E_HELLO names a version other than 1 (§5.2).",
        "MISSING_STEP",
        "A party runs a protocol version it does not implement.",
    ),
    "UnsupportedSuite": _n(
        "E_HELLO names an unknown suite (§5.2).",
        "MISSING_STEP",
        "A party proceeds with undefined algorithms.",
    ),
    "Downgrade": _n(
        "E_HELLO's suite rewritten to a suite other than the Receiver's keys' (§5.2, §13.4).",
        "MISSING_STEP",
        "Downgrade: an attacker steers the session to another suite.",
    ),
    "UnexpectedMessage": _n(
        "A message that is not legal in the party's state (§9).",
        "MISSING_STEP",
        "State confusion: steps skipped (e.g. data before authentication) "
        "or a completed session reopened.",
    ),
    "Reflection": _n(
        "A party's own message or value sent back to it.",
        "KNOWN_BUG",
        "The seed design's key confirmation HMAC(K, K) and unbound signatures could "
        "be reflected (§13.1).",
    ),
    "Replay": _n(
        "A handshake message sent twice.",
        "MISSING_STEP",
        "State confusion; a handshake restarted in the middle of a session.",
    ),
    "PeerAbort": _n(
        "The peer sends ABORT (§5.7).",
        "FUNCTIONALITY",
        "A party that ignores ABORT waits forever or reports success.",
    ),
    "InvalidPublicValue": _n(
        "An ephemeral public value that is not a valid element of the "
        "suite's prime-order group: wrong length, out of range, outside the "
        "subgroup of order q, compressed, hybrid or infinity encodings, off "
        "the curve (§3.4).",
        "MISSING_STEP",
        "Small-subgroup and invalid-curve attacks: the peer learns bits of "
        "the ephemeral secret or forces a predictable Z.",
    ),
    "KeyConfirmation": _n(
        "The peer's key-confirmation MAC does not verify: a handshake value "
        "was changed in transit, or comes from another session (§5.3, §5.4).",
        "MISSING_STEP",
        "A man in the middle goes unnoticed until later, or forever if the MAC is not checked.",
    ),
    "CrossSession": _n(
        "A message of another session between the same parties.",
        "MISSING_STEP",
        "Replay of messages across sessions.",
    ),
    "SignatureBitFlip": _n(
        "A signature with one bit flipped, correctly encrypted and MACed (§3.3).",
        "MODIFIED_SIGNATURE",
        "A verifier that does not verify accepts any peer.",
    ),
    "SignatureOutOfRange": _n(
        "A signature with r or s equal to 0 or at least q (§3.3).",
        "MODIFIED_SIGNATURE",
        "Verifiers that skip the range check can accept forgeries "
        "(e.g. r = 0 or s = 0 with a broken modular inverse).",
    ),
    "SignatureByOtherKey": _n(
        "A valid signature of the right input by another known key (§5.5).",
        "MISSING_STEP",
        "Authentication of anyone who holds some valid key instead of the pinned one.",
    ),
    "SignatureWrongRole": _n(
        "A signature by the right key with the other role's label (§5.5).",
        "WRONG_PRIMITIVE",
        "A signature made as one role is accepted for the other "
        "(reflection between sessions with the roles swapped).",
    ),
    "ReflectedSignature": _n(
        "The Receiver's own signature sent back to it as the Emitter's (§5.5, §13.1).",
        "KNOWN_BUG",
        "The seed design's signatures covered only the DH values and could be reflected.",
    ),
    "SignatureReplay": _n(
        "A valid signature by the right key from another session (§5.5).",
        "MISSING_STEP",
        "A recorded signature authenticates an attacker in a new session.",
    ),
    "SignatureWrongIdentities": _n(
        "A signature with ID_E and ID_R swapped (§5.5).",
        "WRONG_PRIMITIVE",
        "Identity misbinding: a party believes it talks to someone else.",
    ),
    "SignatureWrongSuite": _n(
        "A signature whose input names another suite (§5.5).",
        "WRONG_PRIMITIVE",
        "Cross-suite confusion and downgrade.",
    ),
    "LimitExceeded": _n(
        "A record, header or counter above a limit of §10.",
        "MISSING_STEP",
        "Memory exhaustion or counter wrap-around.",
    ),
    "RecordBitFlip": _n(
        "One bit of a record's ciphertext or tag flipped (§7.3).",
        "MISSING_STEP",
        "Undetected modification of the message.",
    ),
    "RecordHeader": _n(
        "A record's header (seq, total) or the MAC input's offset changed; the "
        "MAC covers them (§7.1).",
        "MISSING_STEP",
        "Reordering or truncation by editing headers (the seed's nonce was not "
        "covered by the MAC).",
    ),
    "RecordReplay": _n("A record sent twice (§7.3).", "MISSING_STEP", "Duplicated data."),
    "RecordReorder": _n("Records out of order (§7.3).", "MISSING_STEP", "Reordered data."),
    "RecordDrop": _n("A record dropped (§7.3).", "MISSING_STEP", "Silently missing data."),
    "RecordMerge": _n(
        "Two records merged into one (§7.3).",
        "MISSING_STEP",
        "Record boundaries not authenticated.",
    ),
    "RecordSplit": _n(
        "A record split in two (§7.3).", "MISSING_STEP", "Record boundaries not authenticated."
    ),
    "RecordAd": _n(
        "A record MAC computed without the application header's hash AD (§7.1).",
        "WRONG_PRIMITIVE",
        "The header can be swapped between sessions with the same keys.",
    ),
    "Truncation": _n(
        "The transport ends, or records are dropped, before FINAL or the ACK (§7.5).",
        "MISSING_STEP",
        "A truncated message is taken as complete.",
    ),
    "TruncationForgery": _n(
        "The seed design's forgery: the tail dropped and a final message "
        "made from the last kept record's tag (§13.1).",
        "KNOWN_BUG",
        "A truncated message verifies as complete.",
    ),
    "RecordAfterFinal": _n(
        "A record after FINAL (§9.3).", "MISSING_STEP", "Data appended to a completed message."
    ),
    "WrongTotal": _n(
        "FINAL or ACK with a total that differs from the bytes delivered (§7.4).",
        "MISSING_STEP",
        "A message with missing or extra bytes is taken as complete.",
    ),
    "AckForgery": _n(
        "An ACK whose tag does not verify under MK_ack (§7.4).",
        "MISSING_STEP",
        "The Emitter believes the Receiver holds the message when it does not.",
    ),
}

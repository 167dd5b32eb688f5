"""The ``parley`` tool's application header (§7.1, §14; documented in docs/tool.md).

The spec leaves the content of ``app_header`` to the application.  The tool
sends one deterministic CBOR map (§4.2, encoded with ``parley.cbor``) with
text keys, every key optional:

    { ? "name": tstr,   ; the file's name, without any directory
      ? "size": uint,   ; the exact byte count of the message, when known
      ? "type": tstr }  ; a media type, e.g. "application/octet-stream"

An empty header means "nothing said".  A receiver ignores keys it does not
know (a later version may add some) but rejects a header that is not such a
map, or a known key with a value of the wrong type.  The header is
authenticated and encrypted (§5.4), but it is the peer's word: a receiver
sanitises the name before using it in a path (§14) and checks the size
against the bytes that actually arrive.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .. import cbor
from ..errors import ParleyError

MAX_NAME_BYTES = 255  # a common file-name limit (ext4, APFS, NTFS)
_KNOWN = {"name": str, "size": int, "type": str}
_DROPPED = ("Cc", "Cf", "Cs", "Zl", "Zp")


@dataclass(frozen=True)
class FileHeader:
    name: str | None = None
    size: int | None = None
    type: str | None = None

    def encode(self) -> bytes:
        """The header bytes (deterministic CBOR, §4.2); empty if nothing is said."""
        item = {
            k: v
            for k, v in (("name", self.name), ("size", self.size), ("type", self.type))
            if v is not None
        }
        return cbor.encode(item) if item else b""


def decode(raw: bytes) -> FileHeader:
    """The header the peer sent; a ParleyError naming what is wrong with it."""
    if not raw:
        return FileHeader()
    try:
        item = cbor.decode(raw, max_depth=1, max_items=16)
    except cbor.CBORError as exc:
        raise ParleyError(exc.registry_name, f"application header: {exc}") from None
    if not isinstance(item, dict):
        raise ParleyError("SCHEMA_VIOLATION", "application header is not a CBOR map")
    for key, kind in _KNOWN.items():
        value = item.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise ParleyError(
                "SCHEMA_VIOLATION",
                f"application header: {key!r} must be a "
                f"{'text string' if kind is str else 'unsigned integer'}",
            )
    size = item.get("size")
    if size is not None and size < 0:
        raise ParleyError("SCHEMA_VIOLATION", "application header: 'size' must be unsigned")
    return FileHeader(item.get("name"), size, item.get("type"))


def sanitise_name(name: str | None) -> str | None:
    """A file name safe to create in a folder we chose, or None if nothing usable is left.

    Keeps only the last path component (both ``/`` and ``\\`` separate),
    drops control, format and surrogate characters (Unicode categories Cc,
    Cf, Cs, Zl, Zp: NUL, terminal escapes, bidirectional overrides), strips leading dots and
    spaces (no hidden files, no ``.`` or ``..``) and trailing dots and
    spaces, and cuts the result to 255 bytes of UTF-8.
    """
    if not name:
        return None
    last = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in last if unicodedata.category(ch) not in _DROPPED)
    kept = kept.lstrip(". ").rstrip(". ")
    kept = kept.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ")
    return kept or None

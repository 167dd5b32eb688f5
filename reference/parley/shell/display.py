"""Showing peer-controlled text on a terminal or in a log, safely (§14; docs/tool.md).

Names, media types and error details can come from the peer (the
application header is the peer's word, §7.1, §14).  Printed raw, an escape
sequence rewrites the terminal, a newline forges a log line and a
bidirectional override (U+202E) makes ``txt.exe`` read as ``exe.txt``.
``escape`` shows every such character as a Python-style escape instead:

* C0 and C1 controls and DEL (categories Cc): ``\\n``, ``\\t``, ``\\x1b``, ``\\x9b``;
* format characters (Cf), among them the bidirectional embeddings,
  overrides and isolates U+202A to U+202E and U+2066 to U+2069, the marks U+200E,
  U+200F, U+061C, zero-width characters and U+FEFF: ``\\u202e``;
* line and paragraph separators (Zl, Zp), lone surrogates (Cs: undecodable
  bytes of a file name), private-use and unassigned code points (Co, Cn);
* the backslash itself (``\\\\``) and, with ``quote``, the double quote, so that
  the escaped form is unambiguous.
"""

from __future__ import annotations

import unicodedata

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape_char(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str | None, *, quote: bool = False) -> str:
    """``text`` with every control, format, separator or unassigned character escaped."""
    if text is None:
        return ""
    out = []
    for ch in text:
        if ch in _SHORT or (quote and ch == '"'):
            out.append('\\"' if ch == '"' else _SHORT[ch])
        elif unicodedata.category(ch) in _ESCAPED_CATEGORIES:
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def quoted(text: str) -> str:
    """``"text"``, escaped, for a name in a message."""
    return '"' + escape(text, quote=True) + '"'

"""Peer-controlled text made safe to show on a terminal (adapter stderr, ids, frame contents).

``term`` escapes C0/C1 controls, DEL, format characters (the bidirectional overrides and
isolates, zero-width characters), separators, surrogates and unassigned code points as
Python-style escapes, so an adapter cannot move the cursor, forge a report line or reorder
what a person reads.  ``term_lines`` keeps line breaks as line breaks (each line escaped).
The HTML report escapes with ``html.escape`` instead (html_report.py).
"""

from __future__ import annotations

import os
import shutil
import unicodedata

_ESCAPED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _esc(ch: str) -> str:
    code = ord(ch)
    if ch == "\t":
        return "\\t"
    if ch == "\r":
        return "\\r"
    if ch == "\n":
        return "\\n"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def term(text: object) -> str:
    """``text`` on one line with every control, format or unassigned character escaped."""
    s = str(text)
    if s.isprintable() and s.isascii():
        return s
    return "".join(_esc(ch) if unicodedata.category(ch) in _ESCAPED else ch for ch in s)


def term_lines(text: str) -> list[str]:
    """The lines of ``text``, each escaped."""
    return [term(line) for line in str(text).splitlines()]


def width(default: int = 100) -> int:
    """The terminal's width in columns (at least 40), ``$COLUMNS`` honoured."""
    cols = shutil.get_terminal_size((default, 24)).columns
    return max(40, cols)


def color_enabled(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    if os.environ.get("NO_COLOR", "") != "":
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False

"""A one-line progress bar on a terminal: bytes, rate, time left.

Shown only when the stream is a terminal; otherwise every method does
nothing, so logs and pipes never see it.
"""

from __future__ import annotations

import shutil
import time

_INTERVAL = 0.1  # seconds between redraws


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, stream, label: str, total: int | None, *, enabled: bool = True) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(enabled and isatty is not None and isatty())
        self.done = 0
        self.start = time.monotonic()
        self._next = self.start
        self._drawn = False

    def update(self, n: int) -> None:
        self.done += n
        if self.enabled:
            now = time.monotonic()
            if now >= self._next:
                self._next = now + _INTERVAL
                self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        width = shutil.get_terminal_size((80, 24)).columns
        if self.total:
            frac = min(self.done / self.total, 1.0)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            text = (
                f" {frac * 100:3.0f}% {human_bytes(self.done)} / {human_bytes(self.total)}"
                f"  {human_bytes(rate)}/s  {_clock(left)} left"
            )
            bar_width = max(10, min(40, width - len(self.label) - len(text) - 4))
            filled = int(frac * bar_width)
            line = f"{self.label} [{'#' * filled}{'.' * (bar_width - filled)}]{text}"
        else:
            line = (
                f"{self.label} {human_bytes(self.done)}  {human_bytes(rate)}/s  {_clock(elapsed)}"
            )
        self.stream.write("\r" + line[: width - 1].ljust(width - 1))
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Erase the bar (the caller prints its own summary line)."""
        if self.enabled and self._drawn:
            width = shutil.get_terminal_size((80, 24)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
            self._drawn = False

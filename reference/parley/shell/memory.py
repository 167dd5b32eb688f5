"""Process memory for the tool: the allocator setting that keeps records cheap, and peak RSS.

Each 256 KiB record allocates a few buffers of that size (ciphertext,
frame, plaintext).  glibc serves such blocks from the heap, but trims the
top of the heap whenever more than about twice that much is free, so the
next record's buffers are fresh pages again: 64 page faults per buffer,
which on a virtual machine cost more than the record's AES and HMAC
together.  ``tune_allocator`` raises the trim and mmap thresholds so that
freed record buffers are reused.  Memory stays bounded: the tool keeps
only a few records alive at a time, and the heap never grows beyond them.
"""

from __future__ import annotations

import resource
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_allocator() -> bool:
    """Keep freed record buffers in the heap (glibc only; a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only this call needs it (start-up time, docs/bench.md)

    try:
        # The process's own symbols, libc's among them: no ctypes.util.find_library,
        # which runs ldconfig in a child process (several ms per start).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_THRESHOLD, 4 << 20) and mallopt(_M_TRIM_THRESHOLD, 32 << 20))


def peak_rss() -> int:
    """The process's peak resident set size in bytes (VmHWM on Linux)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024

"""``parley demo``: a first run with no setup moves a file in both suites and shows an attack
fail."""

from __future__ import annotations

import os
import re

from tool_harness import env, parley


def test_demo_runs_both_suites_and_cleans_up():
    out = parley("demo", env=env(PARLEY_KEY_PASSWORD=None), timeout=120)
    text = out.stdout.decode()
    assert out.returncode == 0, text + out.stderr.decode()
    for name in ("PARLEY_FFDHE2048_DSA2048_SHA256", "PARLEY_P384_ECDSA_SHA384"):
        assert name in text
    assert text.count("SHA-256 matches") == 2
    assert text.count("(equal)") == 2
    assert text.count("the receiver acknowledged all") == 2
    assert text.count("BAD_RECORD_MAC (11, §7.3)") == 4  # bob's error and alice's report
    assert text.count("wrote nothing (no file)") == 2
    assert "All sessions behaved as specified" in text
    work = re.search(r"Everything lives in (\S+) ", text).group(1)
    assert not os.path.exists(work)

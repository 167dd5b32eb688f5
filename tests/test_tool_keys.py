"""``parley keygen`` and key handling in send/receive (§12), checked with OpenSSL itself.

OpenSSL is the independent party: keys it makes (``openssl genpkey``) must
work in the tool, and it must read the keys the tool writes (``openssl
pkey``), with the same public key.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tool_harness import (
    PASSWORD,
    Receiver,
    env,
    key_args,
    keypair,
    parley,
    send,
    sha256_file,
    spki_fingerprint,
)

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary")


def _openssl(*args: str) -> subprocess.CompletedProcess:
    out = subprocess.run(["openssl", *args], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return out


@pytest.mark.parametrize(
    "suite,alias", [("PARLEY_FFDHE2048_DSA2048_SHA256", "dh"), ("PARLEY_P384_ECDSA_SHA384", "ec")]
)
def test_keygen_files_modes_and_names(suite, alias, tmp_path):
    prefix = str(tmp_path / "k")
    out = parley("keygen", "--suite", suite, "--out", prefix)
    assert out.returncode == 0, out.stderr
    key, pub = prefix + ".key", prefix + ".pub"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Path(key).read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert Path(pub).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert spki_fingerprint(pub) in out.stdout.decode()
    if alias == "dh":
        return  # DSA key generation is slow; the overwrite rules are the same for both
    # Refuses to overwrite; --force replaces both files.
    before = Path(pub).read_text()
    again = parley("keygen", "--suite", alias, "--out", prefix)
    assert again.returncode == 3  # a local file exists (docs/tool.md, exit status)
    assert "exists" in again.stderr.decode() and "--force" in again.stderr.decode()
    assert Path(pub).read_text() == before
    forced = parley("keygen", "--suite", alias, "--out", prefix, "--force")
    assert forced.returncode == 0, forced.stderr
    assert Path(pub).read_text() != before
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_keygen_password_sources(tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text("from a file\n")
    pw.chmod(0o600)  # a password file others can read is refused (test_tool_keyfiles.py)
    prefix = str(tmp_path / "f")
    no_env = env(PARLEY_KEY_PASSWORD=None)
    out = parley("keygen", "--suite", "ec", "--out", prefix, "--password-file", str(pw), env=no_env)
    assert out.returncode == 0, out.stderr
    if shutil.which("openssl"):
        _openssl("pkey", "-in", prefix + ".key", "-passin", "pass:from a file", "-noout")
    # No file, no variable, no terminal: a clear refusal, nothing written.
    out = parley("keygen", "--suite", "ec", "--out", str(tmp_path / "none"), env=no_env)
    assert out.returncode == 1
    line = out.stderr.decode().strip()
    assert "KEY_PASSWORD_WRONG (65, §12)" in line and "--password-file" in line
    assert not os.path.exists(tmp_path / "none.key")


def test_unknown_suite_is_a_usage_error(tmp_path):
    out = parley("keygen", "--suite", "rsa", "--out", str(tmp_path / "x"))
    assert out.returncode == 2
    assert "PARLEY_P384_ECDSA_SHA384" in out.stderr.decode()


@needs_openssl
@pytest.mark.parametrize("suite", ["dh", "ec"])
def test_openssl_reads_parley_keys(suite):
    key, pub = keypair(suite, "alice")
    text = _openssl("pkey", "-in", key, "-passin", f"pass:{PASSWORD}", "-noout", "-text").stdout
    assert (b"P-384" in text or b"secp384r1" in text) if suite == "ec" else b"Q:" in text
    derived = _openssl("pkey", "-in", key, "-passin", f"pass:{PASSWORD}", "-pubout").stdout
    assert derived.decode() == Path(pub).read_text()


@needs_openssl
@pytest.mark.parametrize("suite", ["dh", "ec"])
def test_openssl_keys_work_in_the_tool(suite, tmp_path):
    if suite == "dh":
        _openssl(
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            "dsa_paramgen_bits:2048",
            "-pkeyopt",
            "dsa_paramgen_q_bits:256",
            "-out",
            str(tmp_path / "params.pem"),
        )
        gen = ["genpkey", "-paramfile", str(tmp_path / "params.pem")]
    else:
        gen = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]
    _openssl(*gen, "-aes-256-cbc", "-pass", f"pass:{PASSWORD}", "-out", str(tmp_path / "o.key"))
    _openssl(
        "pkey",
        "-in",
        str(tmp_path / "o.key"),
        "-passin",
        f"pass:{PASSWORD}",
        "-pubout",
        "-out",
        str(tmp_path / "o.pub"),
    )
    src = tmp_path / "msg.txt"
    src.write_bytes(b"made with OpenSSL keys\n" * 1000)
    out = tmp_path / "got.txt"
    bob_key, bob_pub = keypair(suite, "bob")
    receiver = Receiver("--key", bob_key, "--peer", str(tmp_path / "o.pub"), "--out", str(out))
    sent = send(receiver.port, "--key", str(tmp_path / "o.key"), "--peer", bob_pub, str(src))
    got = receiver.wait()
    assert sent.code == 0 and got.code == 0, sent.stderr + got.stderr
    assert sha256_file(str(out)) == sha256_file(str(src))


def test_wrong_password_is_refused_clearly(tmp_path):
    key, _ = keypair("ec", "alice")
    out = tmp_path / "never.bin"
    bad = env(PARLEY_KEY_PASSWORD="not the password")
    run = parley(
        "receive",
        "--once",
        "--listen",
        "127.0.0.1:0",
        "--key",
        key,
        "--peer",
        keypair("ec", "bob")[1],
        "--out",
        str(out),
        env=bad,
    )
    assert run.returncode == 1
    lines = run.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("parley: receive failed: KEY_PASSWORD_WRONG (65, §12): ")
    assert "wrong password" in lines[0] and key in lines[0]
    assert not out.exists()


def test_wrong_peer_key_is_refused(tmp_path):
    """The receiver pins carol instead of alice: the handshake fails with BAD_SIGNATURE (§5.5)."""
    out = tmp_path / "never.bin"
    src = tmp_path / "m.txt"
    src.write_bytes(b"hello")
    receiver = Receiver(*key_args("ec", "bob", "carol"), "--out", str(out))
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    got = receiver.wait()
    assert sent.code == 1 and got.code == 1
    for result in (sent, got):
        assert len(result.lines) == 1, result.lines
        assert "BAD_SIGNATURE (10, §5.3)" in result.lines[0]
    # The sender's own verification failed: the hint says what to check.
    assert "--peer" in sent.lines[0] and "fingerprint" in sent.lines[0]
    # The receiver only has an ABORT, which is not authenticated (§5.7): no advice on
    # keys that an attacker could use to make someone re-pin.
    assert "not authenticated" in got.lines[0] and "--peer" not in got.lines[0], got.lines
    assert not out.exists()


def test_keys_of_two_suites_are_refused(tmp_path):
    run = parley(
        "send",
        "--connect",
        "127.0.0.1:9",
        "--key",
        keypair("ec", "alice")[0],
        "--peer",
        keypair("dh", "bob")[1],
        str(tmp_path),
    )
    assert run.returncode == 1
    line = run.stderr.decode().strip()
    assert line.startswith("parley: send failed: KEY_SUITE_MISMATCH (66, §12): ")
    assert "suite 2" in line and "suite 1" in line


def test_a_private_key_given_as_peer_is_refused(tmp_path):
    run = parley(
        "send",
        "--connect",
        "127.0.0.1:9",
        "--key",
        keypair("ec", "alice")[0],
        "--peer",
        keypair("ec", "bob")[0],
        str(tmp_path),
    )
    assert run.returncode == 1
    assert "KEY_FILE_INVALID (64, §12)" in run.stderr.decode()

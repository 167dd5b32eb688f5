"""Key and password files at rest (§5.5, §12, §14; docs/tool.md, "Keys"): real processes.

* a private key file or a password file that its group or others may access
  is refused, naming the mode and the fix; the same file at 0600 works;
* an unencrypted private key works, with a loud warning on stderr;
* identities come from the canonical SubjectPublicKeyInfo (§5.5): a public
  key file whose P-384 point is compressed has the fingerprint of the
  canonical file (checked against OpenSSL's own uncompressed encoding) and
  pins the same peer;
* the tool disables core dumps (its soft and hard RLIMIT_CORE are 0).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tool_harness import PASSWORD, Receiver, env, key_args, keypair, parley, send, spki_fingerprint

openssl = shutil.which("openssl")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o601])
def test_a_private_key_others_may_read_is_refused(mode, tmp_path):
    key = tmp_path / "k.key"
    key.write_bytes(Path(keypair("ec", "alice")[0]).read_bytes())
    key.chmod(mode)
    run = parley("fingerprint", str(key))
    err = run.stderr.decode()
    assert run.returncode == 1 and "KEY_FILE_INVALID (64, §12)" in err, err
    assert f"mode {mode:04o}" in err and "chmod 600" in err
    key.chmod(0o600)
    assert parley("fingerprint", str(key)).returncode == 0


def test_a_password_file_others_may_read_is_refused(tmp_path):
    pw = tmp_path / "pw.txt"
    pw.write_text(PASSWORD + "\n")
    pw.chmod(0o644)
    key, _ = keypair("ec", "alice")
    run = parley("fingerprint", "--password-file", str(pw), key, env=env(PARLEY_KEY_PASSWORD=None))
    err = run.stderr.decode()
    assert run.returncode == 1 and "KEY_PASSWORD_WRONG (65, §12)" in err and "0644" in err, err
    pw.chmod(0o600)
    ok = parley("fingerprint", "--password-file", str(pw), key, env=env(PARLEY_KEY_PASSWORD=None))
    assert ok.returncode == 0, ok.stderr


def _plain_key(tmp_path) -> Path:
    from parley import keys

    own = keys.load_private_key(Path(keypair("ec", "alice")[0]).read_bytes(), PASSWORD.encode())
    path = tmp_path / "plain.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(keys.private_key_pem(own, None))
    return path


def test_an_unencrypted_private_key_works_with_a_loud_warning(tmp_path):
    plain = _plain_key(tmp_path)
    assert b"ENCRYPTED" not in plain.read_bytes()
    src = tmp_path / "m.bin"
    src.write_bytes(b"hello")
    out = tmp_path / "got.bin"
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", str(out))
    sent = send(
        receiver.port, "--key", str(plain), "--peer", keypair("ec", "bob")[1], "-q", str(src)
    )
    assert receiver.wait().code == 0 and sent.code == 0
    assert "WARNING" in sent.stderr and "NOT encrypted" in sent.stderr, sent.stderr  # even with -q
    assert out.read_bytes() == b"hello"


def _compressed_spki_pem(pub_path: str) -> str:
    """The same P-384 key as a SubjectPublicKeyInfo with a compressed point (RFC 5480 §2.2)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_public_key(Path(pub_path).read_bytes())
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    # SEQUENCE { SEQUENCE { id-ecPublicKey, secp384r1 }, BIT STRING { 0, point } }
    alg = bytes.fromhex("301006072a8648ce3d020106052b81040022")
    bits = b"\x03" + bytes([len(point) + 1]) + b"\x00" + point
    body = alg + bits
    der = b"\x30" + bytes([len(body)]) + body
    import base64

    return (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(der).decode()
        + "\n-----END PUBLIC KEY-----\n"
    )


def test_a_compressed_point_file_has_the_canonical_identity(tmp_path):
    _, alice_pub = keypair("ec", "alice")
    compressed = tmp_path / "alice-compressed.pub"
    compressed.write_text(_compressed_spki_pem(alice_pub))
    assert compressed.read_bytes() != Path(alice_pub).read_bytes()
    run = parley("fingerprint", str(compressed), alice_pub)
    assert run.returncode == 0, run.stderr
    first, second = (ln.split()[0] for ln in run.stdout.decode().splitlines())
    assert first == second == spki_fingerprint(alice_pub)  # the canonical file's SHA-256
    if openssl:  # OpenSSL's own re-encoding of the compressed file is the canonical one
        der = subprocess.run(
            [
                openssl,
                "pkey",
                "-pubin",
                "-in",
                str(compressed),
                "-pubout",
                "-outform",
                "DER",
                "-ec_conv_form",
                "uncompressed",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        import hashlib

        assert "SHA256:" + hashlib.sha256(der).hexdigest() == first
    # And it pins the same peer: a transfer with the compressed file as --peer succeeds.
    src = tmp_path / "m.bin"
    src.write_bytes(b"same identity")
    out = tmp_path / "got.bin"
    receiver = Receiver(
        "--key", keypair("ec", "bob")[0], "--peer", str(compressed), "--out", str(out)
    )
    sent = send(receiver.port, *key_args("ec", "alice", "bob"), str(src))
    assert sent.code == 0 and receiver.wait().code == 0, sent.stderr
    assert out.read_bytes() == b"same identity"


@pytest.mark.skipif(not os.path.exists("/proc/self/limits"), reason="needs /proc")
def test_the_tool_disables_core_dumps(tmp_path):
    """A running receiver's own limits (Linux /proc): no core file, soft and hard."""
    receiver = Receiver(*key_args("ec", "bob", "alice"), "--out", f"{tmp_path}{os.sep}", once=False)
    try:
        limits = Path(f"/proc/{receiver.ready['pid']}/limits").read_text()
    finally:
        receiver.stop()
    (line,) = [ln for ln in limits.splitlines() if ln.startswith("Max core file size")]
    assert line.split()[4:6] == ["0", "0"], line

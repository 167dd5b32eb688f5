"""The committed test vectors: schemas, notes, reproducibility, independent recomputation,
rejection.

* every vector file validates against its JSON Schema (draft 2020-12);
* every flag is explained in the file's notes; tcIds are unique;
* ``tools/genvectors --check`` passes, a second generation is byte-identical, and a
  one-byte change of a committed vector makes ``--check`` fail and name the place;
* ``tools/checkvectors`` (which must not import the reference) recomputes every
  positive vector from the spec;
* the reference, playing the party under test, rejects every negative vector with
  the expected error, at the expected frame, within the release limit; and plays
  both parties of every positive vector byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
FILES = {
    "parley_v1_sessions.json": "parley_v1_sessions_schema_v1.json",
    "parley_v1_negative.json": "parley_v1_negative_schema_v1.json",
}
sys.path.insert(0, str(ROOT / "tools"))

from vectorgen import replay  # noqa: E402


def load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def files() -> dict:
    return {name: load(name) for name in FILES}


def _objects(schema, path="$"):
    """Every subschema that declares properties, with its path."""
    if isinstance(schema, dict):
        if "properties" in schema:
            yield path, schema
        for k, v in schema.items():
            yield from _objects(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from _objects(v, f"{path}/{i}")


@pytest.mark.parametrize("name", FILES)
def test_vector_file_validates_against_its_schema(files, name):
    schema = json.loads((VECTORS / "schema" / FILES[name]).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    loose = [p for p, s in _objects(schema) if s.get("additionalProperties") is not False]
    assert not loose, f"objects without additionalProperties: false: {loose}"
    assert files[name]["schema"] == FILES[name]
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(files[name]),
        key=lambda e: list(e.absolute_path),
    )
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5])


def test_schema_rejects_an_unknown_field(files):
    """The schema is not vacuous: an extra field or a wrong hex value fails validation."""
    schema = json.loads((VECTORS / "schema" / FILES["parley_v1_sessions.json"]).read_text())
    v = jsonschema.Draft202012Validator(schema)
    doc = json.loads(json.dumps(files["parley_v1_sessions.json"]))
    doc["testGroups"][0]["tests"][0]["surprise"] = 1
    assert not v.is_valid(doc)
    doc = json.loads(json.dumps(files["parley_v1_sessions.json"]))
    doc["testGroups"][0]["tests"][0]["frames"][0]["wire"] = "0G"
    assert not v.is_valid(doc)


@pytest.mark.parametrize("name", FILES)
def test_every_flag_is_explained_in_the_notes(files, name):
    data = files[name]
    used = {f for g in data["testGroups"] for t in g["tests"] for f in t["flags"]}
    for flag in used:
        note = data["notes"].get(flag)
        assert note, f"flag {flag} has no note"
        for field in ("description", "bugType", "effect"):
            assert note.get(field, "").strip(), f"flag {flag}: empty {field}"
    assert set(data["notes"]) == used, f"notes without tests: {set(data['notes']) - used}"


@pytest.mark.parametrize("name", FILES)
def test_tcids_are_unique_and_counted(files, name):
    data = files[name]
    ids = [t["tcId"] for g in data["testGroups"] for t in g["tests"]]
    assert len(ids) == len(set(ids))
    assert data["numberOfTests"] == len(ids)


def test_coverage_promised_by_the_issue(files):
    sessions, negative = files["parley_v1_sessions.json"], files["parley_v1_negative.json"]
    for group in sessions["testGroups"]:
        sizes = {len(t["message"]) // 2 for t in group["tests"]}
        chunk = group["tests"][0]["chunkSize"]
        assert {0, 1, chunk - 1, chunk, chunk + 1} <= sizes and max(sizes) > 2 * chunk
        assert any(t["appHeader"] for t in group["tests"])
        zs = [v["value"] for t in group["tests"] for v in t["intermediates"] if v["name"] == "Z"]
        assert any(z.startswith("00") for z in zs), "no DH output with a leading zero byte"
    for group in negative["testGroups"]:
        cases = {t["tcId"] % 1000 for t in group["tests"]}
        assert len(cases) >= 40
        assert {t["expected"]["detectedBy"] for t in group["tests"]} == {"emitter", "receiver"}


def _run(*args, **kw):
    return subprocess.Popen(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kw,
    )


def _finish(p: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    """(status, stdout, stderr), read while it runs (no full pipe can stall it); past
    ``timeout`` the child's process group is killed and the test fails with its stderr tail."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        _, err = p.communicate()
        tail = "\n".join(err.splitlines()[-15:])
        raise AssertionError(
            f"{' '.join(p.args[1:])}: still running after {timeout} s, "
            f"killed; its stderr ended with:\n{tail}"
        ) from None
    return p.returncode, out, err


def test_genvectors_check_reproducible_and_tamper_evident(tmp_path):
    """--check passes; a second generation is byte-identical; a one-byte change is caught."""
    tampered = tmp_path / "tampered"
    shutil.copytree(VECTORS, tampered)
    target = tampered / "parley_v1_negative.json"
    text = target.read_text(encoding="utf-8")
    i = text.index('"mutation"', len(text) // 2)
    j = text.index('"wire": "', i) + len('"wire": "') + 10
    target.write_text(text[:j] + ("0" if text[j] != "0" else "1") + text[j + 1 :], encoding="utf-8")
    fresh = tmp_path / "fresh"
    procs = {
        "check": _run(ROOT / "tools" / "genvectors", "--check"),
        "out": _run(ROOT / "tools" / "genvectors", "--out", fresh),
        "tampered": _run(ROOT / "tools" / "genvectors", "--check", "--against", tampered),
    }
    results = {k: _finish(p, 300) for k, p in procs.items()}
    assert results["check"][0] == 0, results["check"][2]
    assert results["out"][0] == 0, results["out"][2]
    for name in FILES:
        assert (fresh / name).read_bytes() == (VECTORS / name).read_bytes(), name
    rc, _, err = results["tampered"]
    assert rc == 1
    assert "parley_v1_negative.json: line" in err and "tcId" in err and "wire" in err, err


def test_independent_checker_recomputes_every_positive_vector_without_the_reference():
    p = _run("-X", "importtime", ROOT / "tools" / "checkvectors")
    rc, out, err = _finish(p, 300)
    assert rc == 0, out[-3000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in err.splitlines() if "|" in line]
    assert "cbor2" in imported and any(m.startswith("cryptography") for m in imported)
    # not the reference, not the generator, not the reference's suite-1 backend (gmpy2)
    leaked = [m for m in imported if m.split(".")[0] in ("parley", "vectorgen", "gmpy2")]
    assert not leaked, f"tools/checkvectors imported {leaked}"
    sessions = load("parley_v1_sessions.json")
    n = sum(len(g["tests"]) for g in sessions["testGroups"])
    negative = load("parley_v1_negative.json")
    m = sum(len(g["tests"]) for g in negative["testGroups"])
    assert f"{n + m} passed, 0 failed" in out


def test_independent_checker_detects_a_changed_intermediate(tmp_path):
    """The checker can fail: one changed intermediate value is reported."""
    data = load("parley_v1_sessions.json")
    data["testGroups"] = data["testGroups"][1:]
    group = data["testGroups"][0]
    group["tests"] = group["tests"][:1]
    v = next(v for v in group["tests"][0]["intermediates"] if v["name"] == "MK_data")
    v["value"] = ("1" if v["value"][0] == "0" else "0") + v["value"][1:]
    (tmp_path / "parley_v1_sessions.json").write_text(json.dumps(data))
    neg = load("parley_v1_negative.json")
    neg["testGroups"] = []
    (tmp_path / "parley_v1_negative.json").write_text(json.dumps(neg))
    p = _run(ROOT / "tools" / "checkvectors", "--vectors", tmp_path)
    rc, out, _ = _finish(p, 120)
    assert rc == 1
    assert "intermediate MK_data" in out and "0 passed, 1 failed" in out


def test_independent_checker_detects_a_false_resealed_claim(tmp_path):
    """A vector that claims resealed MACs but carries a flipped tag is reported."""
    (tmp_path / "parley_v1_sessions.json").write_text(json.dumps({"testGroups": []}))
    neg = load("parley_v1_negative.json")
    group = neg["testGroups"][0]
    group["tests"] = [t for t in group["tests"] if "RecordBitFlip" in t["flags"]][:1]
    group["tests"][0]["resealed"] = True
    neg["testGroups"] = [group]
    (tmp_path / "parley_v1_negative.json").write_text(json.dumps(neg))
    p = _run(ROOT / "tools" / "checkvectors", "--vectors", tmp_path)
    rc, out, _ = _finish(p, 120)
    assert rc == 1 and "MAC does not verify under the real keys" in out


def test_replay_reports_a_wrong_expectation():
    """The reference check can fail: a changed expected error or frame index is reported."""
    neg = load("parley_v1_negative.json")
    group = neg["testGroups"][1]
    test = next(
        t
        for t in group["tests"]
        if t["expected"]["error"] == "BAD_RECORD_MAC" and t["expected"]["maxReleased"]
    )
    wrong = json.loads(json.dumps(test))
    wrong["expected"]["error"] = "RECORD_OUT_OF_ORDER"
    assert any("expected RECORD_OUT_OF_ORDER" in p for p in replay.check(group, wrong))
    wrong = json.loads(json.dumps(test))
    wrong["expected"]["maxReleased"] = ""
    assert any("released" in p for p in replay.check(group, wrong))


def _cases(name):
    data = load(name)
    return [pytest.param(g, t, id=str(t["tcId"])) for g in data["testGroups"] for t in g["tests"]]


@pytest.mark.parametrize("group,test", _cases("parley_v1_negative.json"))
def test_reference_rejects_negative_vector(group, test):
    assert replay.check(group, test) == []


@pytest.mark.parametrize("group,test", _cases("parley_v1_sessions.json"))
def test_reference_plays_both_parties_of_positive_vector(group, test):
    assert replay.check(group, test) == []

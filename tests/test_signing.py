"""Signed trace records: `qmgrade keys new`, `trace FILE --sign KEYFILE`, `trace verify --pubkey PUBFILE`."""
from __future__ import annotations

import base64
import json
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from conftest import ratings_up_to, run, write_assessment
from test_trace import NODE, SCRIPT


@pytest.fixture
def assessment(tmp_path, model):
    return write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3))


@pytest.fixture
def key(runner, tmp_path):
    result = run(runner, "keys", "new", "--out", tmp_path / "body")
    assert result.exit_code == 0, result.output
    return tmp_path / "body"


def signed_record(runner, assessment, model_dir, key, tmp_path, fmt="json"):
    out = tmp_path / f"trace.{fmt}"
    result = run(runner, "trace", assessment, "--model", model_dir, "--format", fmt, "--sign", f"{key}.key",
                 "--out", out)
    assert result.exit_code == 0, result.output
    return out


def verify(runner, trace, assessment, model_dir, *extra):
    return run(runner, "trace", "verify", trace, assessment, "--model", model_dir, *extra)


def test_keys_new_writes_a_private_key_only_its_owner_reads_and_a_public_pem(runner, tmp_path, key):
    private, public = tmp_path / "body.key", tmp_path / "body.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    loaded = serialization.load_pem_public_key(public.read_bytes())
    assert isinstance(loaded, Ed25519PublicKey)
    before = private.read_bytes()
    again = run(runner, "keys", "new", "--out", key)
    assert again.exit_code == 1
    assert again.output == (f"Error: {private}:1:1: exists already: a key is never overwritten (choose another "
                            f"--out PREFIX)\n")
    assert private.read_bytes() == before
    assert run(runner, "keys", "new").exit_code == 2                   # --out is required


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_signed_record_verifies_with_the_public_key(runner, model_dir, assessment, key, tmp_path, fmt):
    trace = signed_record(runner, assessment, model_dir, key, tmp_path, fmt)
    result = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.pub")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK: {trace} reproduces exactly: ")
    assert result.output.endswith(f"(record format 3: digest over RFC 8785 canonical JSON); signed by SHA256:"
                                  f"{result.output.split('SHA256:')[1][:16]}, checked with {key}.pub\n")
    unchecked = verify(runner, trace, assessment, model_dir)
    assert unchecked.exit_code == 0
    assert unchecked.output.endswith("; signed (not checked: pass --pubkey PUBFILE)\n")


def test_the_signature_is_ed25519_over_the_bytes_of_the_digest(runner, model_dir, assessment, key, tmp_path):
    import rfc8785
    record = json.loads(signed_record(runner, assessment, model_dir, key, tmp_path).read_text(encoding="utf-8"))
    signature = record["signature"]
    assert set(signature) == {"algorithm", "public_key", "value"} and signature["algorithm"] == "Ed25519"
    public = serialization.load_pem_public_key((tmp_path / "body.pub").read_bytes())
    content = rfc8785.dumps({k: v for k, v in record.items() if k not in ("digest", "signature")})
    public.verify(base64.b64decode(signature["value"]), content)      # raises when it does not verify


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_one_changed_byte_fails(runner, model_dir, assessment, key, tmp_path, fmt):
    trace = signed_record(runner, assessment, model_dir, key, tmp_path, fmt)
    text = trace.read_text(encoding="utf-8")
    assert '"测试公司"' in text
    trace.write_text(text.replace('"测试公司"', '"测试公司 "', 1), encoding="utf-8")
    result = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.pub")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:1:1: the signature does not match the record's content: the "
                                    f"record was changed after it was signed (key SHA256:")


def test_a_wrong_key_fails_naming_both_keys(runner, model_dir, assessment, key, tmp_path):
    trace = signed_record(runner, assessment, model_dir, key, tmp_path)
    assert run(runner, "keys", "new", "--out", tmp_path / "other").exit_code == 0
    result = verify(runner, trace, assessment, model_dir, "--pubkey", tmp_path / "other.pub")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:1:1: the record was signed with another key (SHA256:")
    assert f"), not with {tmp_path / 'other.pub'} (SHA256:" in result.output


def test_a_forger_who_re_signs_with_a_key_of_their_own_is_caught(runner, model_dir, assessment, key, tmp_path):
    from engine import audit
    from engine.keys import load_private_key
    record = json.loads(signed_record(runner, assessment, model_dir, key, tmp_path).read_text(encoding="utf-8"))
    assert run(runner, "keys", "new", "--out", tmp_path / "forger").exit_code == 0
    record["company"]["name"] = "另一家公司"
    record.pop("signature")
    record["digest"] = audit.record_digest(record)
    forged = audit.sign_record(record, load_private_key(str(tmp_path / "forger.key")))
    trace = tmp_path / "forged.json"
    trace.write_text(forged.to_json(), encoding="utf-8")
    result = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.pub")
    assert result.exit_code == 1 and "the record was signed with another key" in result.output


def test_an_unsigned_record_fails_when_a_signature_is_required(runner, model_dir, assessment, key, tmp_path):
    trace = tmp_path / "plain.json"
    assert run(runner, "trace", assessment, "--model", model_dir, "--format", "json", "--out", trace).exit_code == 0
    result = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.pub")
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: the record is not signed (sign it with `qmgrade trace FILE "
                             f"--format json --sign KEYFILE`)\n")


def test_signing_errors(runner, model_dir, assessment, key, tmp_path):
    text = run(runner, "trace", assessment, "--model", model_dir, "--sign", f"{key}.key")
    assert text.exit_code == 2 and "--sign signs the record itself: use --format json or jsonl" in text.output
    wrong = run(runner, "trace", assessment, "--model", model_dir, "--format", "json", "--sign", f"{key}.pub")
    assert wrong.exit_code == 1
    assert wrong.output == (f"Error: {key}.pub:1:1: not an Ed25519 private key in PEM (write one with `qmgrade "
                            f"keys new --out PREFIX`)\n")
    trace = signed_record(runner, assessment, model_dir, key, tmp_path)
    private = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.key")
    assert private.exit_code == 1
    assert private.output == (f"Error: {key}.key:1:1: not an Ed25519 public key in PEM (this is a private key: "
                              f"pass the .pub file)\n")
    missing = verify(runner, trace, assessment, model_dir, "--pubkey", tmp_path / "none.pub")
    assert missing.exit_code == 1 and missing.output.startswith(f"Error: {tmp_path / 'none.pub'}:1:1: cannot read")
    key_before = (tmp_path / "body.key").read_bytes()
    over = run(runner, "trace", assessment, "--model", model_dir, "--format", "json", "--sign", f"{key}.key",
               "--out", f"{key}.key")
    assert over.exit_code == 1 and (tmp_path / "body.key").read_bytes() == key_before


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_script_in_docs_checks_the_signature(runner, model_dir, assessment, key, tmp_path):
    trace = signed_record(runner, assessment, model_dir, key, tmp_path)
    result = subprocess.run([NODE, SCRIPT, trace, "--pubkey", f"{key}.pub"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == f"signature OK (Ed25519, {key}.pub)"
    assert run(runner, "keys", "new", "--out", tmp_path / "other").exit_code == 0
    other = subprocess.run([NODE, SCRIPT, trace, "--pubkey", tmp_path / "other.pub"], capture_output=True, text=True)
    assert other.returncode == 1 and "signature by ANOTHER KEY" in other.stdout


def test_a_signature_on_a_record_of_format_1_is_refused(runner, model_dir, assessment, key, tmp_path):
    record = json.loads(signed_record(runner, assessment, model_dir, key, tmp_path).read_text(encoding="utf-8"))
    record["format"] = "qmgrade-trace/1"
    trace = tmp_path / "downgraded.json"
    trace.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = verify(runner, trace, assessment, model_dir, "--pubkey", f"{key}.pub")
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: not a qmgrade trace record: a record of format qmgrade-trace/1 "
                             f"cannot carry a signature\n")

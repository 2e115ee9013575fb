"""Hostile catalogue, outputs: no --out can replace an input, a model file, the history or a device.

Each case states its exact outcome (exit code and message) and that the protected file is untouched.
"""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from conftest import build_model, ratings_up_to, run, write_assessment

QMGRADE = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def case(tmp_path):
    model_dir = build_model(tmp_path / "model")
    model = engine.load_model(model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    return tmp_path, model_dir, path


REFUSED = "refusing to write the output over an input file"


@pytest.mark.parametrize("shape", ["same", "hard-link", "symlink", "relative-dots"])
def test_out_never_resolves_to_the_input(runner, case, shape):
    tmp_path, model_dir, path = case
    before = path.read_bytes()
    target = {"same": path, "hard-link": tmp_path / "hard.yaml", "symlink": tmp_path / "sym.yaml",
              "relative-dots": tmp_path / "model" / ".." / "a.yaml"}[shape]
    if shape == "hard-link":
        os.link(path, target)
    elif shape == "symlink":
        target.symlink_to(path)
    result = run(runner, "assess", path, "--model", model_dir, "--out", target)
    assert result.exit_code == 1
    named = "" if shape in ("same", "relative-dots") else f" ({path})"
    assert result.output == f"Error: {target}:1:1: {REFUSED}{named}\n"
    assert path.read_bytes() == before
    if shape == "symlink":
        assert target.is_symlink()


@pytest.mark.parametrize("rel", ["knowledge/model.yaml", "knowledge/criteria.yaml", "rules/barrel.yaml"])
def test_out_never_replaces_a_model_file(runner, case, rel):
    tmp_path, model_dir, path = case
    victim = model_dir / rel
    before = victim.read_bytes()
    for command in (["assess", path], ["batch", path]):
        result = run(runner, *command, "--model", model_dir, "--out", victim)
        assert result.exit_code == 1
        assert result.output == f"Error: {victim}:1:1: {REFUSED}\n"
    link = tmp_path / "innocent.txt"
    link.symlink_to(victim)
    result = run(runner, "batch", path, "--model", model_dir, "--out", link)
    assert result.output == f"Error: {link}:1:1: {REFUSED} ({victim})\n"
    assert victim.read_bytes() == before


def test_out_never_adds_a_file_to_the_model(runner, case):
    tmp_path, model_dir, path = case
    target = model_dir / "rules" / "new.yaml"
    result = run(runner, "assess", path, "--model", model_dir, "--out", target)
    assert result.exit_code == 1
    assert result.output == f"Error: {target}:1:1: refusing to write into the model folder {model_dir / 'rules'}\n"
    assert not target.exists()


@pytest.mark.parametrize("command", ["assess", "batch"])
def test_out_never_replaces_the_history(runner, case, command):
    tmp_path, model_dir, path = case
    db = tmp_path / "h.sqlite"
    assert run(runner, "assess", path, "--model", model_dir, "--db", db).exit_code == 0
    before = db.read_bytes()
    result = run(runner, command, path, "--model", model_dir, "--db", db, "--out", db)
    assert result.exit_code == 1
    assert result.output == f"Error: {db}:1:1: {REFUSED}\n"
    assert db.read_bytes() == before


def test_out_is_refused_for_a_new_history_file_too(runner, case):
    tmp_path, model_dir, path = case
    db = tmp_path / "new.sqlite"
    result = run(runner, "assess", path, "--model", model_dir, "--db", db, "--out", db)
    assert result.exit_code == 1
    assert result.output == f"Error: {db}:1:1: {REFUSED}\n"
    assert not db.exists()      # refused before any work was done


@pytest.mark.parametrize("target", ["/dev/stdout", "/proc/self/fd/1", "link-to-fd1", "/dev/null"])
def test_out_never_replaces_a_device_or_pipe(case, target):
    tmp_path, model_dir, path = case
    if target == "link-to-fd1":
        link = tmp_path / "fd1"
        link.symlink_to("/proc/self/fd/1")
        target = str(link)
    result = subprocess.run([*QMGRADE, "assess", str(path), "--model", str(model_dir), "--out", target],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (f"Error: {target}:1:1: is not a regular file (a device, pipe or socket such as "
                             f"/dev/stdout); use --out - for standard output\n")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if target.endswith("fd1"):
        assert Path(target).is_symlink()


def test_out_dash_is_standard_output(runner, case):
    tmp_path, model_dir, path = case
    plain = run(runner, "assess", path, "--model", model_dir, "--format", "json")
    dashed = run(runner, "assess", path, "--model", model_dir, "--format", "json", "--out", "-")
    assert dashed.exit_code == 0 and dashed.output == plain.output
    batch = run(runner, "batch", path, "--model", model_dir, "--out", "-", "-j", "1")
    assert batch.exit_code == 0 and batch.output.count("\n") == 1
    assert not (Path.cwd() / "-").exists()


def test_an_existing_file_keeps_its_mode_and_a_read_only_one_is_refused(runner, case):
    tmp_path, model_dir, path = case
    out = tmp_path / "report.txt"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    assert run(runner, "assess", path, "--model", model_dir, "--out", out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640 and out.read_text(encoding="utf-8") != "old\n"
    out.chmod(0o444)
    before = out.read_bytes()
    result = run(runner, "assess", path, "--model", model_dir, "--out", out)
    assert result.exit_code == 1
    assert result.output == f"Error: {out}:1:1: cannot write: permission denied (the file is read-only)\n"
    assert out.read_bytes() == before and stat.S_IMODE(out.stat().st_mode) == 0o444


def test_a_new_file_gets_the_umask_permissions(runner, case):
    tmp_path, model_dir, path = case
    old = os.umask(0o027)
    try:
        out = tmp_path / "new.txt"
        assert run(runner, "assess", path, "--model", model_dir, "--out", out).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize("shape", ["under-a-file", "dangling-link", "missing-folder"])
def test_path_problems_are_ordinary_errors(runner, case, shape):
    tmp_path, model_dir, path = case
    target = {"under-a-file": path / "x.txt", "dangling-link": tmp_path / "dangling",
              "missing-folder": tmp_path / "nowhere" / "x.txt"}[shape]
    if shape == "dangling-link":
        target.symlink_to(tmp_path / "missing.txt")
    result = run(runner, "assess", path, "--model", model_dir, "--out", target)
    assert result.exit_code == 1
    expected = {"under-a-file": "cannot write: a part of the path is a file, not a folder",
                "dangling-link": f"is a symbolic link to a missing file ({tmp_path / 'missing.txt'}); "
                                 f"give the real path",
                "missing-folder": f"cannot write: no such folder {tmp_path / 'nowhere'}"}[shape]
    assert result.output == f"Error: {target}:1:1: {expected}\n"
    assert "internal error" not in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_an_ordinary_error(runner, case):
    tmp_path, model_dir, path = case
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    result = run(runner, "assess", path, "--model", model_dir, "--out", folder / "x.txt")
    assert result.exit_code == 1
    assert result.output == f"Error: {folder / 'x.txt'}:1:1: cannot write: permission denied\n"


@pytest.mark.parametrize("shape", ["under-a-file", "dangling-link", "not-empty", "into-the-model"])
def test_kb_init_refuses_cleanly(runner, tmp_path, shape):
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x", encoding="utf-8")
    target = {"under-a-file": plain / "m", "dangling-link": tmp_path / "dangling", "not-empty": full,
              "into-the-model": engine.default_model_dir() / "knowledge" / "copy"}[shape]
    if shape == "dangling-link":
        target.symlink_to(tmp_path / "missing")
    result = run(runner, "kb", "init", target)
    assert result.exit_code == 1
    expected = {"under-a-file": "cannot write: a part of the path is a file, not a folder",
                "dangling-link": f"is a symbolic link to a missing folder ({tmp_path / 'missing'})",
                "not-empty": "directory exists and is not empty; choose a new or empty directory",
                "into-the-model": f"refusing to create a model in or around the model folder "
                                  f"{engine.default_model_dir()}"}[shape]
    assert result.output == f"Error: {target}:1:1: {expected}\n"
    assert plain.read_text(encoding="utf-8") == "x" and not (engine.default_model_dir() / "knowledge" / "copy").exists()

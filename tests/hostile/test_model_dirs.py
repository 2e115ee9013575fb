"""Hostile catalogue, model directories: files that resolve outside the model are refused unless
--allow-outside, before they are read; messages never quote a file's content."""
from __future__ import annotations

import os

import pytest

from conftest import build_model, run

SECRET = "api_token: s3cr3t-0123456789-abcdefghijklmnopqrstuvwxyz-never-shown"


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model")


@pytest.mark.parametrize("where", ["rules/leak.yaml", "knowledge/leak.yaml"])
def test_a_linked_file_outside_the_model_is_refused_unread(runner, tmp_path, model_dir, where):
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    link = model_dir / where
    link.symlink_to(os.path.relpath(secret, link.parent))      # a relative link: ../../secret.yaml
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {link}:1:1: resolves outside the model directory (a link?); refused unless "
                             f"--allow-outside (outside-model)\n")


def test_a_linked_system_file_is_quoted_at_most_40_characters(runner, model_dir):
    link = model_dir / "rules" / "passwd.yaml"
    link.symlink_to("/etc/passwd")
    refused = run(runner, "kb", "validate", "--model", model_dir)
    assert refused.exit_code == 1 and "root:" not in refused.output
    allowed = run(runner, "kb", "validate", "--model", model_dir, "--allow-outside")
    assert allowed.exit_code == 1
    for line in allowed.output.splitlines():
        quoted = max((len(q) for q in line.split("'")[1::2]), default=0)
        assert quoted <= 40, line


def test_a_linked_folder_is_refused(runner, tmp_path, model_dir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "more.yaml").write_text(SECRET + "\n", encoding="utf-8")
    (model_dir / "knowledge" / "extra").symlink_to(elsewhere, target_is_directory=True)
    (model_dir / "knowledge" / "extra.yaml").symlink_to(elsewhere / "more.yaml")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 1
    assert "s3cr3t" not in result.output and "resolves outside the model directory" in result.output


def test_a_link_inside_the_model_is_fine(runner, model_dir):
    (model_dir / "rules" / "barrel-again.yaml").unlink(missing_ok=True)
    os.rename(model_dir / "knowledge" / "actions.yaml", model_dir / "actions.yaml.src")
    (model_dir / "knowledge" / "actions.yaml").symlink_to(model_dir / "actions.yaml.src")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 0, result.output


def test_a_pipe_named_like_a_model_file_is_refused_not_read(runner, model_dir):
    os.mkfifo(model_dir / "rules" / "pipe.yaml")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {model_dir / 'rules' / 'pipe.yaml'}:1:1: is not a regular file (outside-model)\n"

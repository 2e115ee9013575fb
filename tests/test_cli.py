"""The command line, through CliRunner: output, JSON shapes, exit codes and exact error text."""
from __future__ import annotations

import json

import pytest

from cli import main
from conftest import ratings_up_to, write_assessment, run


def test_assess_json_has_the_contract_shape(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 3)
    ratings["beta-4-1"] = "partial"
    path = write_assessment(tmp_path / "a.yaml", ratings,
                            company={"id": "acme-001", "name": "某某机械有限公司", "industry": "C34", "region": "浙江"})
    result = run(runner, "assess", path, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["company"] == {"id": "acme-001", "name": "某某机械有限公司", "industry": "C34", "region": "浙江"}
    assert data["model"] == {"id": "tiny", "version": "0.1"}
    assert data["level"] == {"rank": 3, "id": "assurance", "name": {"zh": "保证级", "en": "Assurance"}}
    assert [d["id"] for d in data["dimensions"]] == ["alpha", "beta", "gamma"]
    assert data["dimensions"][1]["scores"] == {"2": 1.0, "3": 1.0, "4": 0.25, "5": 0.0}
    assert data["not_rated"] == []
    nxt = data["next_level"]
    assert nxt["rank"] == 4
    assert {"criterion": "beta-4-1", "dimension": "beta", "level": 4, "rating": 0.5, "key": False} in nxt["blockers"]
    assert set(nxt["minimal_fix"]) <= {b["criterion"] for b in nxt["blockers"]}
    assert all(set(entry) >= {"seq", "rule", "facts", "conclusion"} for entry in data["trace"])
    exported = json.loads(run(runner, "kb", "export", "--model", model_dir).output)
    assert {e["rule"] for e in data["trace"]} <= {r["id"] for r in exported["rules"]}


def test_assess_text_shows_level_table_blockers_and_not_rated(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    del ratings["gamma-3-1"]
    path = write_assessment(tmp_path / "a.yaml", ratings)
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 0
    assert "Level: 2 Inspection (检验级)" in result.output
    assert "Next level: 3 Assurance (保证级)" in result.output
    assert "gamma-3-1 (not rated): Criterion gamma-3-1" in result.output
    assert "Not rated (1): gamma-3-1" in result.output
    zh = run(runner, "assess", path, "--model", model_dir, "--lang", "zh")
    assert "等级: 2 检验级（Inspection）" in zh.output
    assert "未评分条款 (1): gamma-3-1" in zh.output


def test_json_input_is_accepted(runner, model_dir, model, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"ratings": ratings_up_to(model, 4)}), encoding="utf-8")
    data = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").output)
    assert data["level"]["rank"] == 4


@pytest.mark.parametrize("content, message", [
    ("ratings:\n  alpah-2-1: full\n",
     "{path}:2:3: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)"),
    ("ratings:\n  alpha-2-1: ful\n",
     "{path}:2:14: alpha-2-1: unknown rating 'ful'; did you mean 'full'? (use full, largely, partial, none, na, "
     "全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage such as 80%) (bad-rating)"),
    ("ratings:\n  alpha-2-1: 1.5\n",
     "{path}:2:14: alpha-2-1: rating 1.5 is out of range: numbers must lie in [0, 1] (bad-rating)"),
    ("ratings:\n  alpha-2-1: true\n",
     "{path}:2:14: alpha-2-1: true is not a rating (a boolean is not a number) (bad-rating)"),
    ("ratings: [full, none]\n", "{path}:1:10: ratings: ['full', 'none'] is not of type 'object', 'null' (schema)"),
    ("", "{path}:1:1: empty document: expected an assessment with 'ratings'"),
    ("- 1\n- 2\n", "{path}:1:1: expected a mapping with 'ratings', found a LocList"),
    ("ratings:\n  alpha-2-1: full\n  alpha-2-1: none\n",
     "{path}:3:3: duplicate key 'alpha-2-1' (first defined at line 2) (duplicate-key)"),
    ("ratings: {alpha-2-1: full\n", None),
    ("facts:\n  product_recall_3y: yes please\nratings: {}\n",
     "{path}:2:22: fact 'product_recall_3y' must be a boolean, found 'yes please' (fact-type)"),
    ("facts:\n  recall: true\nratings: {}\n",
     "{path}:2:3: unknown fact 'recall' (unknown-id)"),
])
def test_bad_input_is_an_error_with_its_position_and_exit_1(runner, model_dir, tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if message is None:
        assert result.output.startswith(f"Error: {path}:") and "malformed YAML" in result.output
    else:
        assert result.output == f"Error: {message.format(path=path)}\n"


def test_a_missing_file(runner, model_dir, tmp_path):
    result = run(runner, "assess", tmp_path / "nope.yaml", "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {tmp_path / 'nope.yaml'}:1:1: no such file\n"


def test_a_binary_file(runner, model_dir, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}:1:1: this is an image (PNG), not an assessment; qmgrade reads YAML or "
                             f"JSON assessments and the XLSX questionnaire that qmgrade template writes (file-type)\n")


def test_not_utf8(runner, model_dir, tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes("ratings:\n  alpha-2-1: 全部满足\n".encode("gbk"))
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:2:16: not UTF-8 text\n"


def test_usage_errors_exit_2(runner):
    assert run(runner, "assess").exit_code == 2
    assert run(runner, "assess", "x.yaml", "--format", "pdf").exit_code == 2
    assert run(runner, "frobnicate").exit_code == 2


def test_a_broken_model_is_an_error_not_a_traceback(runner, model_dir, tmp_path):
    (model_dir / "knowledge" / "model.yaml").write_text("model: [\n", encoding="utf-8")
    path = write_assessment(tmp_path / "a.yaml", {})
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {model_dir / 'knowledge' / 'model.yaml'}:2:1: malformed YAML")


def test_kb_validate_reports_ok_and_problems(runner, model_dir):
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 0
    assert result.output.startswith("OK: tiny 0.1: 5 levels, 1 pillars, 3 dimensions, 24 criteria")
    criteria = model_dir / "knowledge" / "criteria.yaml"
    criteria.write_text(criteria.read_text(encoding="utf-8").replace("dimension: gamma", "dimension: gama", 1),
                        encoding="utf-8")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 1
    assert "unknown dimension 'gama'; did you mean 'gamma'? (unknown-id)" in result.output


def test_kb_export_has_the_contract_shape(runner, model_dir):
    data = json.loads(run(runner, "kb", "export", "--model", model_dir, "--format", "json").output)
    assert set(data) >= {"model", "method", "levels", "dimensions", "criteria", "actions", "rules"}
    assert data["method"] == {"threshold": 0.8, "key_minimum": 0.8,
                              "key_minimum_by_level": {"2": 0.8, "3": 0.8, "4": 0.8, "5": 0.8}}
    assert set(data["criteria"][0]) >= {"id", "dimension", "level", "weight", "key", "text", "sources"}
    assert set(data["actions"][0]) >= {"id", "name", "addresses", "depends_on", "effort"}
    assert set(data["rules"][0]) >= {"id", "description"}
    assert data["levels"][2] == {"rank": 3, "id": "assurance", "name": {"zh": "保证级", "en": "Assurance"}}


def test_kb_show_in_both_languages(runner, model_dir):
    en = run(runner, "kb", "show", "--model", model_dir)
    zh = run(runner, "kb", "show", "--model", model_dir, "--lang", "zh")
    assert en.exit_code == zh.exit_code == 0
    assert "Dimension alpha (alpha)" in en.output and "Criterion alpha-2-1" in en.output
    assert "维度alpha (alpha)" in zh.output and "条款 alpha-2-1" in zh.output
    bad = run(runner, "kb", "show", "--model", model_dir, "--dimension", "alpah")
    assert bad.exit_code == 2   # an option's value: a usage error, no file position
    assert bad.output == "Error: --dimension: unknown dimension 'alpah'; did you mean 'alpha'?\n"


def test_kb_init_copies_the_default_model_and_refuses_a_full_directory(runner, tmp_path):
    target = tmp_path / "custom"
    result = run(runner, "kb", "init", target)
    assert result.exit_code == 0, result.output
    assert (target / "knowledge").is_dir() and (target / "rules" / "barrel.yaml").is_file()
    again = run(runner, "kb", "init", target)
    assert again.exit_code == 1
    assert again.output == f"Error: {target}:1:1: directory exists and is not empty; choose a new or empty directory\n"


def test_out_writes_a_file_and_never_over_the_input(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    out = tmp_path / "result.json"
    assert run(runner, "assess", path, "--model", model_dir, "--format", "json", "--out", out).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["level"]["rank"] == 2
    before = path.read_bytes()
    result = run(runner, "assess", path, "--model", model_dir, "--out", path)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:1:1: refusing to write the output over an input file\n"
    assert path.read_bytes() == before


def _commands(group, prefix=()):
    import click
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_every_command_has_help(runner):
    for path, command in _commands(main):
        assert command.help, f"qmgrade {' '.join(path)} has no help"
        result = runner.invoke(main, list(path) + ["--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_out_files_get_ordinary_permissions(runner, model_dir, model, tmp_path):
    import os
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    out = tmp_path / "report.txt"
    old = os.umask(0o022)
    try:
        assert run(runner, "assess", path, "--model", model_dir, "--out", out).exit_code == 0
    finally:
        os.umask(old)
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_text_reports_escape_terminal_control_characters_in_company_names(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2),
                            company={"id": "c-1", "name": "好公司\u202eevil\u001b[31m"})
    for command in ("assess", "explain", "roadmap"):
        result = run(runner, command, path, "--model", model_dir)
        assert result.exit_code == 0, result.output
        assert "\u202e" not in result.output and "\u001b" not in result.output
        assert "好公司\\u202eevil\\x1b[31m" in result.output


def test_a_reader_that_goes_away_stops_qmgrade_quietly(tmp_path):
    """`qmgrade batch … | head -c 10`: no "internal error" on the terminal, exit 141 like a broken pipe."""
    import subprocess
    import sys
    from conftest import ROOT
    command = [sys.executable, "-c", "from cli import main; main()", "batch",
               str(ROOT / "examples" / "batch" / "companies.jsonl")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stdout.read(10)
    process.stdout.close()                       # the reader goes away after ten bytes
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 141
    assert b"internal error" not in stderr and b"Traceback" not in stderr

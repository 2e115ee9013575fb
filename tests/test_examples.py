"""The bundled examples grade as their stories in examples/README.md say."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXPECTED = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_grades_as_its_story_says(runner, name):
    result = runner.invoke(main, ["assess", str(EXAMPLES / name), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = EXPECTED[name]
    assert data["level"]["rank"] == expected["level"]
    assert data["barrel"]["rank"] == expected["barrel"]
    assert data["barrel"]["shortest"] == expected["shortest"]
    holding = [cap for cap in data["caps"] if cap["holding"]]
    assert bool(holding) == expected["capped"]
    if expected["capped"]:
        assert [cap["until"] for cap in holding] == [expected["cap_until"]]
    # Only the files meant to be incomplete leave criteria unrated, and never so many that the grade
    # becomes provisional.
    assert bool(data["not_rated"]) == expected["not_rated"]
    assert data["coverage"]["share"] >= data["coverage"]["min_coverage"]
    assert data["provisional"] is False


def test_every_example_is_written_for_the_shipped_model(runner):
    """No example leans on the 1.0.0 supersedes map: every rated id is a criterion of the model."""
    model = json.loads(runner.invoke(main, ["kb", "export"]).output)
    criteria = {criterion["id"] for criterion in model["criteria"]}
    for name in EXPECTED:
        ratings = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))["ratings"]
        assert set(ratings) <= criteria, (name, sorted(set(ratings) - criteria))


def test_the_recall_example_says_when_its_cap_lifts(runner):
    result = runner.invoke(main, ["assess", str(EXAMPLES / "capped-by-recall.yaml"), "--no-trace"])
    assert result.exit_code == 0, result.output
    until = EXPECTED["capped-by-recall.yaml"]["cap_until"]
    assert f"capped at 3 Assurance until {until}" in result.output


def test_there_is_an_example_at_every_level_and_one_stuck_by_a_single_stave():
    levels = {entry["level"] for entry in EXPECTED.values()}
    assert levels == {1, 2, 3, 4, 5}
    assert any(entry["level"] == 3 and len(entry["shortest"]) == 1 and not entry["capped"]
               for entry in EXPECTED.values())


def test_every_example_file_is_listed_with_its_expected_grade():
    files = {p.name for p in EXAMPLES.glob("*.yaml")} - {"expected.yaml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("sample", ["companies.jsonl", "wide.csv", "wide-gb18030.csv"])
def test_the_batch_samples_grade_the_companies_as_their_files(runner, sample):
    by_company = {}
    for name, expected in EXPECTED.items():
        company = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))["company"]["id"]
        by_company[company] = (expected["level"], expected["barrel"], expected["shortest"])
    result = runner.invoke(main, ["batch", str(EXAMPLES / "batch" / sample), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    graded = [json.loads(line) for line in result.output.splitlines()]
    assert [entry["company"]["id"] for entry in graded] == list(by_company)
    for entry in graded:
        assert (entry["level"]["rank"], entry["barrel"]["rank"], entry["barrel"]["shortest"]) == \
            by_company[entry["company"]["id"]], entry["company"]["id"]


def test_the_batch_samples_are_made_from_the_example_files(tmp_path):
    """make_batch.py rewrites exactly the shipped samples: they cannot drift from the examples."""
    script = EXAMPLES / "batch" / "make_batch.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for sample in ("companies.jsonl", "wide.csv", "wide-gb18030.csv"):
        assert (tmp_path / sample).read_bytes() == (EXAMPLES / "batch" / sample).read_bytes(), sample
    assert (tmp_path / "wide.csv").read_bytes().startswith(b"\xef\xbb\xbf")   # UTF-8 with BOM
    chinese = (tmp_path / "wide-gb18030.csv").read_bytes()           # as Chinese Excel/WPS saves it
    with pytest.raises(UnicodeDecodeError):
        chinese.decode("utf-8")
    assert "示例·".encode("gb18030") in chinese and "基本满足".encode("gb18030") in chinese
    assert ",是\r\n".encode("gb18030") in chinese and ",否\r\n".encode("gb18030") in chinese


def test_raising_the_stuck_companys_minimal_fix_reaches_prevention(runner, tmp_path):
    source = EXAMPLES / "stuck-at-assurance-one-stave.yaml"
    data = json.loads(runner.invoke(main, ["assess", str(source), "--format", "json"]).output)
    assert data["level"]["rank"] == 3
    assessment = yaml.safe_load(source.read_text(encoding="utf-8"))
    for criterion in data["next_level"]["minimal_fix"]:
        assessment["ratings"][criterion] = "full"
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(assessment, allow_unicode=True), encoding="utf-8")
    after = json.loads(runner.invoke(main, ["assess", str(fixed), "--format", "json"]).output)
    assert after["level"]["rank"] == 4


def test_the_installed_command_works_from_any_directory(tmp_path):
    script = Path(sys.executable).parent / "qmgrade"
    if not script.exists():
        pytest.skip("qmgrade is not installed in this environment (run through `make test`)")
    env = dict(os.environ)
    env.pop("QMGRADE_MODEL", None)
    result = subprocess.run([str(script), "assess", str(EXAMPLES / "level-2-machining-shop.yaml"), "--format",
                             "json", "--no-trace"], cwd=tmp_path, capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["level"]["rank"] == 2

"""engine.api: its documented examples run against examples/, and it gives what the CLI's --format json prints."""
from __future__ import annotations

import doctest
import json

import pytest

import engine
from conftest import build_model, ratings_up_to, run, write_assessment
from engine import api


def test_the_documented_examples_run():
    result = doctest.testmod(engine.api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 20 and result.failed == 0


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model", keys=("beta-3-1",))


@pytest.fixture
def assessment_file(model_dir, tmp_path):
    ratings = ratings_up_to(engine.load_model(model_dir), 3)
    ratings["beta-3-1"] = "partial"
    return write_assessment(tmp_path / "a.yaml", ratings, company={"id": "c-1", "name": "测试公司", "region": "浙江"})


@pytest.fixture
def loaded(model_dir, assessment_file):
    model = api.load_model(model_dir)
    return model, api.read_assessment(assessment_file, model)


def test_grade_gives_the_bytes_assess_prints(runner, model_dir, assessment_file, loaded):
    model, assessment = loaded
    for flag, trace in (("--trace", True), ("--no-trace", False)):
        cli = run(runner, "assess", assessment_file, "--model", model_dir, "--format", "json", flag)
        assert cli.exit_code == 0, cli.output
        assert api.grade(model, assessment).to_json(trace=trace) == cli.output


@pytest.mark.parametrize("command, call", [
    (["explain", "--level", "4"], lambda m, a: api.explain(m, a, level=4)),
    (["roadmap", "--target", "5"], lambda m, a: api.roadmap(m, a, target=5)),
    (["whatif", "--set", "beta-3-1=full"], lambda m, a: api.whatif(m, a, ["beta-3-1=full"])),
])
def test_each_command_prints_what_the_api_returns(runner, model_dir, assessment_file, loaded, command, call):
    cli = run(runner, command[0], assessment_file, *command[1:], "--model", model_dir, "--format", "json")
    assert cli.exit_code == 0, cli.output
    assert api.to_json(call(*loaded)) == cli.output


def test_trace_and_verify(runner, model_dir, assessment_file, loaded, tmp_path):
    model, assessment = loaded
    record = api.trace(model, assessment)
    cli = run(runner, "trace", assessment_file, "--model", model_dir, "--format", "json")
    assert cli.output == record.to_json()          # the very bytes, and the digest over them
    saved = tmp_path / "trace.json"
    saved.write_text(cli.output, encoding="utf-8")
    assert api.verify(saved, assessment_file, model) is None
    other = write_assessment(tmp_path / "b.yaml", {**assessment.ratings, "beta-3-1": 1.0})
    assert "input" in api.verify(saved, other, model)


def test_batch_returns_the_lines_batch_prints(runner, model_dir, assessment_file, loaded, tmp_path):
    model, _ = loaded
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.yaml").write_bytes(assessment_file.read_bytes())
    (folder / "bad.yaml").write_text("company: {id: x}\nratings: {no-such-criterion: full}\n", encoding="utf-8")
    cli = run(runner, "batch", folder, "--model", model_dir)
    assert cli.exit_code == 1
    results = api.batch(folder, model)
    assert results == [json.loads(line) for line in cli.stdout.splitlines()]
    assert [bool(r.get("error")) for r in results] == [False, True]


def test_errors_are_raised_not_printed(tmp_path, model_dir):
    model = api.load_model(model_dir)
    bad = tmp_path / "bad.yaml"
    bad.write_text("company: {id: x}\nratings: {alpha-2-1: sometimes}\n", encoding="utf-8")
    with pytest.raises(engine.InputError) as caught:
        api.read_assessment(bad, model)
    assert str(bad) in str(caught.value)
    with pytest.raises(engine.ModelError):
        api.load_model(tmp_path / "no-model-here")

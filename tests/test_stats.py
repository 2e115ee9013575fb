"""qmgrade stats over batch results: distribution overall, by region and industry; staves, blockers, fixes."""
from __future__ import annotations

import json

import pytest

from conftest import ratings_up_to, run


@pytest.fixture
def results(runner, model_dir, model, tmp_path):
    """Five companies and one bad record, graded by batch."""
    def company(cid, region, industry, level, **changes):
        ratings = ratings_up_to(model, level)
        ratings.update(changes)
        return {"company": {"id": cid, "region": region, "industry": industry}, "ratings": ratings}

    records = [
        company("a", "浙江", "C34", 2),                                   # all staves short at 2
        company("b", "浙江", "C34", 3, **{"beta-3-1": "none"}),          # beta at 2
        company("c", "江苏", "C38", 3, **{"beta-3-1": "partial", "gamma-3-2": "none"}),
        company("d", "江苏", "C38", 5),
        {"company": {"id": "e"}, "ratings": ratings_up_to(model, 1)},      # no region nor industry
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    lines.insert(2, '{"company": {"id": "bad", "region": "<b>x</b>"}, "ratings": {"alpha-2-1": "ful"}}')
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    result = run(runner, "batch", source, "--model", model_dir, "--out", out)
    assert result.exit_code == 1
    return out


def test_stats_json(runner, model_dir, results):
    result = run(runner, "stats", results, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["companies"], data["graded"], data["errors"]) == (6, 5, 1)
    assert data["models"] == [{"id": "tiny", "version": "0.1", "companies": 5}]
    assert [(lv["rank"], lv["id"], lv["count"], lv["share"]) for lv in data["levels"]] == [
        (1, "experience", 1, 0.2), (2, "inspection", 3, 0.6), (3, "assurance", 0, 0.0),
        (4, "prevention", 0, 0.0), (5, "excellence", 1, 0.2)]
    assert data["by_region"] == [
        {"region": "江苏", "companies": 2, "levels": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}},
        {"region": "浙江", "companies": 2, "levels": {"1": 0, "2": 2, "3": 0, "4": 0, "5": 0}},
        {"region": "", "companies": 1, "levels": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0}}]
    assert [row["industry"] for row in data["by_industry"]] == ["C34", "C38", ""]
    assert data["shortest_staves"] == [     # a, d, e: all three staves; b: beta; c: beta and gamma
        {"dimension": "beta", "count": 5, "share": 1.0}, {"dimension": "gamma", "count": 4, "share": 0.8},
        {"dimension": "alpha", "count": 3, "share": 0.6}]
    blockers = {row["criterion"]: row["count"] for row in data["blockers"]}
    assert blockers["beta-3-1"] == 3 and blockers["gamma-3-2"] == 2     # a (all of level 3), b, c
    assert data["blockers"][0] == {"criterion": "beta-3-1", "count": 3, "share": 0.6}
    assert {row["criterion"] for row in data["minimal_fix"]} >= {"beta-3-1", "gamma-3-2"}


def test_stats_text_in_both_languages(runner, model_dir, results):
    en = run(runner, "stats", results, "--model", model_dir)
    assert en.exit_code == 0
    assert en.stdout.startswith("Grading statistics\nCompanies: 6 (graded 5, records with errors 1)\n"
                                "Model: tiny 0.1 (5)\n")
    assert ["2", "Inspection", "(检验级)", "3", "60.0%", "█" * 24] in [line.split() for line in en.stdout.splitlines()]
    assert "Most frequent blockers" in en.stdout and "beta-3-1" in en.stdout
    assert "(not given)" in en.stdout
    zh = run(runner, "stats", results, "--model", model_dir, "--lang", "zh")
    assert zh.stdout.startswith("分级统计\n企业数: 6 (已分级 5, 错误记录 1)\n")
    assert "等级分布" in zh.stdout and "按地区" in zh.stdout and "最常见的阻碍项" in zh.stdout
    assert run(runner, "stats", results, "--model", model_dir).stdout == en.stdout   # deterministic


def test_stats_html_has_charts_and_escapes(runner, model_dir, results, tmp_path):
    out = tmp_path / "stats.html"
    result = run(runner, "stats", results, "--model", model_dir, "--format", "html", "--out", out)
    assert result.exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 4
    assert "Level distribution" in page and "2 Inspection (检验级)" in page
    assert "Criterion beta-3-1" in page                     # criterion text from the model
    bad_region = tmp_path / "r.jsonl"
    bad_region.write_text(results.read_text(encoding="utf-8").replace('"江苏"', '"<script>x</script>"'),
                          encoding="utf-8")
    page = run(runner, "stats", bad_region, "--model", model_dir, "--format", "html").stdout
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_batch_summary_equals_stats_of_its_results(runner, model_dir, results, tmp_path):
    source = tmp_path / "in.jsonl"
    summary = run(runner, "batch", source, "--model", model_dir, "--summary", "--out", tmp_path / "again.jsonl")
    assert summary.stdout == run(runner, "stats", results, "--model", model_dir).stdout


@pytest.mark.parametrize("content, message", [
    ('{"level": 1}\n{oops\n', "{path}:1:1: not a batch result (expected an assess object or an error entry per line)"),
    ('\n{oops\n', "{path}:2:2: malformed JSON: Expecting property name enclosed in double quotes "
                  "(expected batch --format jsonl results)"),
])
def test_stats_of_something_else_is_an_error(runner, model_dir, tmp_path, content, message):
    path = tmp_path / "r.jsonl"
    path.write_text(content, encoding="utf-8")
    result = run(runner, "stats", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {message.format(path=path)}\n"
    missing = run(runner, "stats", tmp_path / "none.jsonl", "--model", model_dir)
    assert missing.exit_code == 1 and missing.output == f"Error: {tmp_path / 'none.jsonl'}:1:1: no such file\n"


def test_provisional_grades_are_counted_apart(runner, model_dir, model, tmp_path):
    """A questionnaire left mostly blank grades provisional: it is counted, but not in the distribution."""
    complete = {"company": {"id": "a"}, "ratings": ratings_up_to(model, 3)}
    abandoned = {"company": {"id": "b"}, "ratings": {"alpha-2-1": "full", "beta-2-1": "full"}}
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in (complete, abandoned)) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    assert run(runner, "batch", source, "--model", model_dir, "--out", out).exit_code == 0
    data = json.loads(run(runner, "stats", out, "--model", model_dir, "--format", "json").stdout)
    assert (data["companies"], data["graded"], data["provisional"], data["errors"]) == (2, 1, 1, 0)
    assert data["provisional_levels"] == [{"rank": 1, "count": 1}]
    assert [(level["rank"], level["count"]) for level in data["levels"] if level["count"]] == [(3, 1)]
    text = run(runner, "stats", out, "--model", model_dir).stdout
    assert "Provisional grades (too few criteria rated): 1 — counted apart, not in the tables below" in text
    html = run(runner, "stats", out, "--model", model_dir, "--format", "html").stdout
    assert 'id="provisional"' in html

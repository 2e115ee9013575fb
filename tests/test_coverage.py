"""Coverage and provisional grades, staves not applicable above a level, and red flags (issue 11),
in JSON, text, Markdown and HTML, and --require-complete on assess, explain, roadmap and batch."""
from __future__ import annotations

import json
import re

import pytest
import yaml

import engine
from conftest import build_model, ratings_up_to, write_assessment, run


def flag(model_dir, criteria, **fields):
    """Set fields (red_flag, na_allowed, ...) on some criteria of a model written by build_model."""
    path = model_dir / "knowledge" / "criteria.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in document["criteria"]:
        if entry["id"] in criteria:
            entry.update(fields)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


def set_method(model_dir, **fields):
    path = model_dir / "knowledge" / "model.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["method"].update(fields)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture
def flagged(tmp_path):
    """A tiny model whose beta-2-2 and gamma-4-1 are red flags; min_coverage 0.75."""
    model_dir = build_model(tmp_path / "model")
    flag(model_dir, {"beta-2-2", "gamma-4-1"}, red_flag=True)
    set_method(model_dir, min_coverage=0.75)
    return model_dir, engine.load_model(model_dir)


# -- coverage and provisional ------------------------------------------------------------------------
def test_coverage_counts_rated_applicable_criteria(runner, flagged, tmp_path):
    model_dir, model = flagged
    ratings = ratings_up_to(model, 3)
    ratings["alpha-5-1"] = "na"
    for cid in ("alpha-5-2", "beta-5-1", "beta-5-2"):
        del ratings[cid]
    data = json.loads(run(runner, "assess", write_assessment(tmp_path / "a.yaml", ratings), "--model", model_dir,
                          "--format", "json").output)
    applicable = len(model.criteria) - 1
    assert data["coverage"]["rated"] == applicable - 3 and data["coverage"]["applicable"] == applicable
    assert data["coverage"]["share"] == round((applicable - 3) / applicable, 4)
    assert data["provisional"] is False


def test_a_blank_form_grades_provisional_in_every_format(runner, flagged, tmp_path):
    model_dir, model = flagged
    path = write_assessment(tmp_path / "blank.yaml", {})
    data = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").output)
    assert data["provisional"] is True and data["coverage"]["rated"] == 0
    text = run(runner, "assess", path, "--model", model_dir).output
    assert "Level: 1 Experience (经验级) — provisional (too few criteria rated)" in text
    assert "Coverage: 0 of 24 applicable criteria rated (0%); below the model's 75%: the grade is provisional" in text
    zh = run(runner, "assess", path, "--model", model_dir, "--lang", "zh").output
    assert "暂定（评分覆盖率不足）" in zh
    md = run(runner, "assess", path, "--model", model_dir, "--format", "markdown").output
    assert "## Level: 1 Experience — provisional (too few criteria rated)" in md
    html = run(runner, "assess", path, "--model", model_dir, "--format", "html").output
    assert 'id="provisional"' in html and "provisional (too few criteria rated)" in html
    explained = run(runner, "explain", path, "--model", model_dir).output
    assert "Level: 1 Experience — provisional (too few criteria rated)" in explained
    # a complete form is not provisional and says so nowhere
    full = write_assessment(tmp_path / "full.yaml", ratings_up_to(model, 2))
    assert "provisional" not in run(runner, "assess", full, "--model", model_dir).output


def test_the_default_model_template_grades_provisional(runner, tmp_path):
    template = tmp_path / "t.yaml"
    assert run(runner, "template", "--format", "yaml", "--out", template).exit_code == 0
    result = run(runner, "assess", template, "--format", "json", "--no-trace")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["provisional"] is True and data["level"]["rank"] == 1


def test_require_complete_exits_1_on_a_provisional_grade(runner, flagged, tmp_path):
    model_dir, model = flagged
    ratings = ratings_up_to(model, 2)
    for cid in list(ratings)[:8]:          # 16 of 24 rated: below 75 %
        del ratings[cid]
    path = write_assessment(tmp_path / "a.yaml", ratings)
    for command in ("assess", "explain", "roadmap"):
        result = run(runner, command, path, "--model", model_dir, "--require-complete")
        assert result.exit_code == 1, command
        assert result.output == (f"Error: {path}:1:1: only 16 of 24 applicable criteria are rated (66%), below "
                                 f"the model's minimum coverage 75%: the grade would be provisional "
                                 f"(--require-complete) (incomplete)\n")
        assert run(runner, command, path, "--model", model_dir).exit_code == 0
    complete = write_assessment(tmp_path / "c.yaml", ratings_up_to(model, 2))
    assert run(runner, "assess", complete, "--model", model_dir, "--require-complete").exit_code == 0


def test_batch_require_complete_gives_an_error_entry(runner, flagged, tmp_path):
    model_dir, model = flagged
    folder = tmp_path / "in"
    folder.mkdir()
    write_assessment(folder / "a.yaml", ratings_up_to(model, 2), company={"id": "a"})
    write_assessment(folder / "b.yaml", {"alpha-2-1": "full"}, company={"id": "b"})
    result = run(runner, "batch", folder, "--model", model_dir, "--jobs", 1, "--require-complete")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 1
    assert "error" not in lines[0] and lines[0]["provisional"] is False
    assert "the grade would be provisional (--require-complete)" in lines[1]["error"]
    plain = run(runner, "batch", folder, "--model", model_dir, "--jobs", 1)
    assert plain.exit_code == 0
    assert [json.loads(line)["provisional"] for line in plain.stdout.splitlines()] == [False, True]


# -- not applicable above a level ----------------------------------------------------------------------
def test_a_stave_not_applicable_above_a_level_says_so_everywhere(runner, flagged, tmp_path):
    model_dir, model = flagged
    ratings = ratings_up_to(model, 3)
    for cid in ("gamma-3-1", "gamma-3-2", "gamma-4-1", "gamma-4-2", "gamma-5-1", "gamma-5-2"):
        ratings[cid] = "na"
    path = write_assessment(tmp_path / "a.yaml", ratings)
    data = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").output)
    stave = {d["id"]: d for d in data["dimensions"]}
    assert stave["gamma"]["applicable_to"] == 2 and stave["gamma"]["level"] == 5   # the barrel ignores it above
    assert stave["alpha"]["applicable_to"] == 5
    text = run(runner, "assess", path, "--model", model_dir).output
    assert re.search(r"Dimension gamma \(gamma\)\s+Pillar one\s+5 \(not applicable above L2\)\s+1\.00 ✓\s+n/a\s+n/a"
                     r"\s+n/a", text)
    md = run(runner, "assess", path, "--model", model_dir, "--format", "markdown").output
    assert "| Dimension gamma (`gamma`) | 5 (not applicable above L2) | 1.00 ✓ | n/a | n/a | n/a |" in md
    explained = run(runner, "explain", path, "--model", model_dir).output
    assert "    Dimension gamma (gamma): L5 (not applicable above L2)" in explained
    html = run(runner, "assess", path, "--model", model_dir, "--format", "html").output
    assert 'class="muted small na-above">not applicable above L2<' in html
    # the radar marks the stave at L2 (dashed, hollow) instead of plotting it at 5
    radar = re.findall(r"<svg.*?</svg>", html, flags=re.S)[0]
    assert radar.count('class="na-above"') == 1
    assert "Dimension gamma · 2 (not applicable above L2)" in radar


# -- red flags ---------------------------------------------------------------------------------------------
def test_red_flags_come_first_whatever_the_next_level_needs(runner, flagged, tmp_path):
    model_dir, model = flagged
    ratings = ratings_up_to(model, 3)
    ratings["gamma-4-1"] = "partial"      # a red flag at L4, while the next level is 4 only through other staves
    ratings["beta-2-2"] = "largely"       # a red flag rated largely: not flagged
    path = write_assessment(tmp_path / "a.yaml", ratings)
    data = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").output)
    assert data["red_flags"] == ["gamma-4-1"]
    explained = json.loads(run(runner, "explain", path, "--model", model_dir, "--format", "json").output)
    assert explained["red_flags"] == ["gamma-4-1"]
    text = run(runner, "assess", path, "--model", model_dir).output
    head = text.split("Level:")[0]
    assert ("Red flags (safety-, legality- or integrity-critical criteria rated partial or below) (1):\n"
            "  ! Criterion gamma-4-1 (gamma-4-1)\n") in head
    assert "Red flags" in run(runner, "explain", path, "--model", model_dir).output.split("Why the level")[0]
    md = run(runner, "assess", path, "--model", model_dir, "--format", "markdown").output
    assert md.index("> - ⚠ Criterion gamma-4-1 (`gamma-4-1`)") < md.index("## Level")
    html = run(runner, "assess", path, "--model", model_dir, "--format", "html").output
    assert html.index('id="red-flags"') < html.index('id="company-level"')


def test_a_roadmap_lists_the_red_flag_actions_apart(runner, flagged, tmp_path):
    model_dir, model = flagged
    ratings = ratings_up_to(model, 2)
    ratings["gamma-4-1"] = "none"
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--format", "json").output)
    assert plan["target"] == 3 and plan["red_flags"] == ["gamma-4-1"]
    flagged_actions = [a["id"] for a in plan["red_flag_actions"]]
    assert flagged_actions == ["do-gamma-3-1", "do-gamma-4-1"]         # with its prerequisite, in order
    assert "do-gamma-4-1" not in plan["order"]                          # beside the milestones, not inside
    assert plan["red_flag_actions"][1]["clears"] == ["gamma-4-1"]
    assert plan["red_flag_actions"][0]["milestone"] == 3                 # the prerequisite is in milestone 3 too
    text = run(runner, "roadmap", path, "--model", model_dir).output
    assert text.index("Red flags") < text.index("Milestone 3")
    assert "Actions that clear them (apart from the milestones):" in text

"""`qmgrade explain` and the minimal fix: why a level holds, why level N does not, the fewest criteria to fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY, cell_met, fewest_to_meet, make_assessment, raised, rating_maps
from conftest import build_model, ratings_up_to, write_assessment, run
from engine.diagnosis import explain

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model", keys=("beta-3-1",))


def stuck_at_two(model, tmp_path, **extra):
    """alpha and gamma at 5; beta misses 3 by its key criterion beta-3-1 (partial) -> company at 2."""
    ratings = ratings_up_to(model, 5)
    ratings["beta-3-1"] = "partial"
    return write_assessment(tmp_path / "a.yaml", ratings, **extra)


def test_explain_text_names_the_barrel_the_failing_cell_the_key_criterion_and_the_fix(runner, model_dir, model,
                                                                                    tmp_path):
    path = stuck_at_two(model, tmp_path)
    result = run(runner, "explain", path, "--model", model_dir)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Level: 2 Inspection\nCoverage: 24 of 24 applicable criteria rated (100%)\n" in out
    assert "Why the level holds — 2 Inspection:" in out
    assert "  The barrel stands at 2 Inspection: the shortest staves are Dimension beta (beta)." in out
    assert "    Dimension beta (beta): L2\n" in out
    assert "Why it does not reach 3 Assurance:" in out
    assert "    Dimension beta (beta): L2 — a shortest stave" in out
    assert ("  Dimension beta (beta) does not meet level 3: it scores 0.75 against the threshold 0.80, and a key "
            "criterion is below its minimum.") in out
    assert ("    ! key criterion Criterion beta-3-1 (beta-3-1) is rated partial (0.5), below the key minimum 0.80"
            in out)
    assert "  - Criterion beta-3-1 (beta-3-1) [key]: partial (0.5) → full (1)" in out
    assert "      Evidence: Evidence for beta-3-1" in out
    assert "      addressed by: Action beta-3-1 (do-beta-3-1)" in out
    assert "After the minimal fix: 5 Excellence — reaches 3 Assurance" in out
    # rule notation only with --rules
    for notation in ("⇒", "barrel(level=2)", "key-gate", "company-level"):
        assert notation not in out
    rules = run(runner, "explain", path, "--model", model_dir, "--rules").output
    assert rules.startswith(out)
    assert "barrel: phase(name=barrel); dimension_level(dimension=beta, level=2) ⇒ barrel(level=2)" in rules
    assert "company-level: phase(name=decide); barrel(level=2) ⇒ company_level(level=2)" in rules
    assert "key-gate: cell(dimension=beta, level=3" in rules
    zh = run(runner, "explain", path, "--model", model_dir, "--lang", "zh").output
    assert "为什么未达到 3 保证级:" in zh
    assert "      证据要求: 证据 beta-3-1" in zh
    assert "⇒" not in zh


def test_explain_json_has_the_failing_cells_with_score_threshold_keys_and_rule(runner, model_dir, model, tmp_path):
    path = stuck_at_two(model, tmp_path)
    data = json.loads(run(runner, "explain", path, "--model", model_dir, "--format", "json").output)
    assert data["level"]["rank"] == 2 and data["target"]["rank"] == 3 and data["reached"] is False
    assert data["barrel"] == {"rank": 2, "shortest": ["beta"]}
    why = data["why_not"]
    assert why["staves_below"] == [{"dimension": "beta", "level": 2, "shortest": True}]
    [cell] = why["failing"]
    assert (cell["dimension"], cell["level"], cell["score"], cell["threshold"]) == ("beta", 3, 0.75, 0.8)
    assert (cell["rule"], cell["reason"]) == ("key-gate", "key")
    assert [k["criterion"] for k in cell["keys_below"]] == ["beta-3-1"]
    assert cell["firing"]["conclusion"] == {"fact": "unmet", "dimension": "beta", "level": 3, "reason": "key"}
    assert [e["criterion"] for e in why["minimal_fix"]] == ["beta-3-1"]
    assert why["minimal_fix"][0]["evidence"] == {"zh": "证据 beta-3-1", "en": "Evidence for beta-3-1"}
    assert why["after_fix"] == {"level": 5, "reaches": True}
    assert {r["conclusion"]["fact"] for r in data["holds"]["rules"]} >= {"company_level", "barrel"}


def test_a_level_further_up_lists_every_failing_cell_up_to_it(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    ratings["alpha-3-1"] = ratings["alpha-3-2"] = "full"
    path = write_assessment(tmp_path / "a.yaml", ratings)
    data = json.loads(run(runner, "explain", path, "--model", model_dir, "--level", 4, "--format", "json").output)
    failing = [(c["dimension"], c["level"]) for c in data["why_not"]["failing"]]
    assert failing == [("alpha", 4), ("beta", 3), ("beta", 4), ("gamma", 3), ("gamma", 4)]
    assert data["why_not"]["after_fix"] == {"level": 4, "reaches": True}


def test_a_cap_is_named_and_no_fix_reaches_past_it(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 4), facts={"product_recall_3y": True})
    data = json.loads(run(runner, "explain", path, "--model", model_dir, "--format", "json").output)
    assert data["level"]["rank"] == 2 and data["barrel"]["rank"] == 4
    why = data["why_not"]
    assert [(c["rule"], c["level"]) for c in why["caps"]] == [("cap-recall", 2)]
    assert why["failing"] == [] and why["minimal_fix"] == []
    assert why["after_fix"] == {"level": 2, "reaches": False}
    text = run(runner, "explain", path, "--model", model_dir).output
    assert "cap-recall" not in text            # caps by their reason and when they lift, not by rule id
    assert ("    capped at 2 Inspection, lift date not known: A product recall in the last three years caps the "
            "level at 2.") in text
    assert "  The cap holds the company at level 2, below its barrel level 4; no criterion fix lifts a cap." in text
    assert text.endswith("No action lifts a cap.\n")
    assert "cap-recall → L2: company(product_recall_3y=true)" in run(runner, "explain", path, "--model", model_dir,
                                                                      "--rules").output


def test_a_cap_equal_to_the_barrel_is_not_said_to_hold_it_below(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2), facts={"product_recall_3y": True})
    text = run(runner, "explain", path, "--model", model_dir).output
    assert "below its barrel" not in text
    assert ("The cap is at the barrel level 2: even with the staves raised, the company cannot rise above level 2 "
            "until the cap lifts.") in text
    assessed = run(runner, "assess", path, "--model", model_dir).output
    assert "below its barrel" not in assessed and "The cap is at the barrel level 2" in assessed


def test_a_level_already_reached_and_the_top_level(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3))
    result = run(runner, "explain", path, "--model", model_dir, "--level", 2)
    assert result.exit_code == 0
    assert result.output.endswith("2 Inspection: is reached.\n")
    top = write_assessment(tmp_path / "top.yaml", ratings_up_to(model, 5))
    result = run(runner, "explain", top, "--model", model_dir)
    assert result.output.endswith("The company is at the top level; there is no next level.\n")
    data = json.loads(run(runner, "explain", top, "--model", model_dir, "--format", "json").output)
    assert data["target"] is None and data["why_not"] is None


@pytest.mark.parametrize("level", [0, 6, -1])
def test_a_level_outside_the_model_is_an_error(runner, model_dir, model, tmp_path, level):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3))
    result = run(runner, "explain", path, "--model", model_dir, "--level", level)
    assert result.exit_code == 2   # a usage error (issue 10)
    assert result.output == (f"Error: --level: level {level} is out of range: the model's levels are 1..5 "
                             f"(1 experience, 2 inspection, 3 assurance, 4 prevention, 5 excellence)\n")


def test_bad_input_is_reported_like_assess(runner, model_dir, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("ratings:\n  alpah-2-1: full\n", encoding="utf-8")
    result = run(runner, "explain", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:2:3: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)\n"


def test_explain_is_deterministic_on_the_default_model(runner):
    example = ROOT / "examples" / "stuck-at-assurance-one-stave.yaml"
    first = run(runner, "explain", example, "--format", "json").stdout
    assert first == run(runner, "explain", example, "--format", "json").stdout
    data = json.loads(first)
    model = engine.load_model()
    graded = engine.grade(model, engine.read_assessment(str(example), model))
    assert data["barrel"]["shortest"] == graded.shortest
    assert [(c["dimension"], c["level"]) for c in data["why_not"]["failing"]] == graded.unmet_cells(graded.level + 1)
    assert data["why_not"]["after_fix"]["reaches"] is True
    assert data["red_flags"] == graded.completeness()["red_flags"]


# -- the minimal fix, over many varied assessments ----------------------------------------------------
def check_minimal_fix(model, ratings, facts):
    """assess's next_level.minimal_fix has the fewest criteria possible and reaches the next level."""
    assessment = make_assessment(model, ratings, facts)
    graded = engine.grade(model, assessment)
    result = graded.as_dict(trace=False)
    if result["next_level"] is None:
        return
    rank = result["next_level"]["rank"]
    fix = result["next_level"]["minimal_fix"]
    blockers = {b["criterion"] for b in result["next_level"]["blockers"]}
    assert len(fix) == len(set(fix)) and set(fix) <= blockers
    unmet = [cell for cell, criteria in model.cells.items()
             if cell[1] <= rank and not cell_met(model, criteria, assessment.ratings)]
    assert unmet == graded.unmet_cells(rank)          # the rules and CONTRACT §3 agree
    fewest = sum(fewest_to_meet(model, model.cells[cell], assessment.ratings) for cell in unmet)
    assert len(fix) == fewest
    after = engine.grade(model, raised(assessment, fix))
    assert all(after.met[cell] for cell in model.cells if cell[1] <= rank)
    assert after.barrel >= rank
    # a cap that fired below the next rank keeps it out of reach (next_level.caps names only the caps
    # below the barrel, so one at exactly the company's level is read from the firings)
    caps = [f.conclusion["level"] for f in graded.firings if f.conclusion["fact"] == "cap"]
    blocking = [level for level in caps if level < rank]
    assert after.level == min([after.barrel] + caps)
    assert (after.level >= rank) == (not blocking)
    # explain shows the same fix, each with the evidence it needs
    why = explain(model, assessment, graded=graded).why_not
    assert [e["criterion"] for e in why["minimal_fix"]] == fix
    assert all(e["evidence"]["en"] and e["evidence"]["zh"] for e in why["minimal_fix"])
    assert why["after_fix"]["reaches"] == (after.level >= rank)


@pytest.fixture(scope="module")
def weighted_model(tmp_path_factory):
    root = tmp_path_factory.mktemp("weighted") / "model"
    weights = {"alpha-2-1": 3, "alpha-3-2": 0.5, "beta-2-3": 2, "beta-4-1": 4, "gamma-3-1": 1.5, "gamma-5-3": 2.5}
    return engine.load_model(build_model(root, per_cell=4, weights=weights,
                                         keys=("alpha-2-2", "beta-3-1", "gamma-4-4", "alpha-5-1")))


@pytest.fixture(scope="module")
def default_model():
    return engine.load_model()


@given(data=st.data())
@PROPERTY
def test_minimal_fix_is_fewest_and_reaches_the_next_level_tiny_model(weighted_model, data):
    ratings, facts = data.draw(rating_maps(weighted_model, caps=True))
    check_minimal_fix(weighted_model, ratings, facts)


@given(data=st.data())
@PROPERTY
def test_minimal_fix_is_fewest_and_reaches_the_next_level_default_model(default_model, data):
    ratings, facts = data.draw(rating_maps(default_model, caps=True))
    check_minimal_fix(default_model, ratings, facts)

"""`qmgrade whatif`: before and after changed ratings, each equal to a separate `assess` run."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY, rating_maps
from conftest import build_model, examples, ratings_up_to, write_assessment, run


def test_text_shows_the_changes_the_level_the_staves_and_the_blockers(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 3)
    ratings["beta-3-1"] = "partial"
    del ratings["beta-3-2"]
    path = write_assessment(tmp_path / "a.yaml", ratings)
    result = run(runner, "whatif", path, "--model", model_dir, "--set", "beta-3-1=full", "--set", "beta-3-2=0.9")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "What if:\n"
        "Company: 测试公司 (c-1)\n"
        "Changed ratings:\n"
        "  Criterion beta-3-1 (beta-3-1): partial (0.5) → full (1)\n"
        "  Criterion beta-3-2 (beta-3-2): not rated → 0.9\n"
        "Level: 2 Inspection → 3 Assurance\n"
        "Staves:\n"
        "  Dimension beta (beta): L2 → L3\n"
        "Blockers of the next level: 2 (L3) → 6 (L4)\n"
        "  resolved: Criterion beta-3-1 (beta-3-1); Criterion beta-3-2 (beta-3-2)\n"
        "  new: " + "; ".join(f"Criterion {c} ({c})" for c in FOURS) + "\n"
        "Minimal fix (4 Prevention, 6):\n" + "".join(f"  - Criterion {c} ({c})\n" for c in FOURS))
    zh = run(runner, "whatif", path, "--model", model_dir, "--set", "beta-3-1=全部满足", "--lang", "zh").output
    assert "  条款 beta-3-1 (beta-3-1): 部分满足 (0.5) → 全部满足 (1)\n" in zh
    assert "等级: 2 检验级 → 2 检验级  (不变)\n" in zh


def test_json_shape_and_no_op_changes(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    data = json.loads(run(runner, "whatif", path, "--model", model_dir, "--format", "json",
                          "--set", "alpha-2-1=full", "--set", "alpha-3-1=na").output)
    assert set(data) >= {"before", "after", "changed"}
    assert data["changed"] == [{"criterion": "alpha-3-1", "from": 0.0, "to": None, "from_label": "none",
                                "to_label": "na"}]
    assert data["diff"]["level"] == {"from": 2, "to": 2}


def test_bad_settings_are_errors_with_did_you_mean(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    result = run(runner, "whatif", path, "--model", model_dir, "--set", "alpah-2-1=full", "--set", "beta-2-1",
                 "--set", "gamma-2-1=ful", "--set", "gamma-2-2=1.5", "--set", "alpha-2-2=full",
                 "--set", "alpha-2-2=none")
    assert result.exit_code == 2   # option values: a usage error (issue 10)
    assert result.output == (
        "Error: --set #1: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)\n"
        "Error: --set #2: 'beta-2-1' is not ID=RATING (e.g. qms-3-internal-audit=full)\n"
        "Error: --set #3: gamma-2-1: unknown rating 'ful'; did you mean 'full'? (use full, largely, partial, none, "
        "na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage such as 80%) (bad-rating)\n"
        "Error: --set #4: gamma-2-2: rating 1.5 is out of range: numbers must lie in [0, 1] (bad-rating)\n"
        "Error: --set #6: criterion 'alpha-2-2' is set twice\n")
    missing = run(runner, "whatif", path, "--model", model_dir)
    assert missing.exit_code == 2 and "Missing option '--set'" in missing.output


# -- before/after equals two separate assess runs, over many varied assessments -------------------------
FOURS = ["alpha-4-1", "alpha-4-2", "beta-4-1", "beta-4-2", "gamma-4-1", "gamma-4-2"]
SET_VALUES = ["full", "largely", "partial", "none", "na", "0.35", "不满足"]


def check_whatif_equals_two_assess_runs(model_dir, model, tmp_path, ratings, facts, changes):
    runner = CliRunner()
    original = write_assessment(tmp_path / "before.yaml", ratings, facts=facts or None)
    changed_ratings = dict(ratings)
    changed_ratings.update(changes)
    changed = write_assessment(tmp_path / "after.yaml", changed_ratings, facts=facts or None)
    settings = [x for cid, value in changes.items() for x in ("--set", f"{cid}={value}")]
    model_args = ["--model", model_dir] if model_dir else []
    result = run(runner, "whatif", original, *model_args, "--format", "json", *settings)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    before = json.loads(run(runner, "assess", original, *model_args, "--format", "json").output)
    after = json.loads(run(runner, "assess", changed, *model_args, "--format", "json").output)
    assert data["before"] == before
    assert data["after"] == after
    assert {c["criterion"] for c in data["changed"]} <= set(changes)
    assert data["diff"]["level"] == {"from": before["level"]["rank"], "to": after["level"]["rank"]}


@pytest.fixture(scope="module")
def property_model(tmp_path_factory):
    root = build_model(tmp_path_factory.mktemp("whatif") / "model", per_cell=3, keys=("beta-3-1", "gamma-2-2"))
    return root, engine.load_model(root)


@given(data=st.data())
@settings(PROPERTY, max_examples=examples(40))   # three CLI runs per example
def test_before_and_after_equal_two_separate_assess_runs(property_model, tmp_path_factory, data):
    model_dir, model = property_model
    ratings, facts = data.draw(rating_maps(model, caps=True))
    ids = sorted(model.criteria)
    chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
    changes = {cid: data.draw(st.sampled_from(SET_VALUES)) for cid in chosen}
    check_whatif_equals_two_assess_runs(model_dir, model, tmp_path_factory.mktemp("case"), ratings, facts, changes)


@pytest.fixture(scope="module")
def default_model():
    return engine.load_model()


@given(data=st.data())
@settings(PROPERTY, max_examples=examples(25))   # three CLI runs per example, each loading the full model
def test_before_and_after_equal_two_separate_assess_runs_default_model(default_model, tmp_path_factory, data):
    ratings, facts = data.draw(rating_maps(default_model, caps=True))
    ids = sorted(default_model.criteria)
    chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=12, unique=True))
    # na only where the model allows it (model 2.0: elsewhere na is an input error)
    changes = {cid: data.draw(st.sampled_from(SET_VALUES if default_model.criteria[cid].na_allowed
                                              else [v for v in SET_VALUES if v != "na"])) for cid in chosen}
    check_whatif_equals_two_assess_runs(None, default_model, tmp_path_factory.mktemp("case"), ratings, facts,
                                        changes)

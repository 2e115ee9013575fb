"""qmgrade migrate and model.supersedes (issue 9): an assessment written for model 1.0.0 read and
rewritten for 2.0.0, on a small fixture model so the tests do not depend on the shipped content."""
from __future__ import annotations

import json

import yaml

from conftest import run
from test_method_v2 import build_v2, criterion_ids, line_of, write

# 1.0.0 ids -> 2.0.0 ids: two merged into alpha-2-1, one moved to beta-3-1, one removed
SUPERSEDES = {"version": "1.0.0",
              "criteria": {"alpha-2-old": "alpha-2-1", "alpha-2-older": "alpha-2-1",
                           "beta-2-moved": "beta-3-1", "delta-2-gone": None, "gamma-4-was": "gamma-2-2"}}


def model_v2(tmp_path):
    return build_v2(tmp_path / "m", supersedes=SUPERSEDES)


def old_assessment(tmp_path, model_dir, **changes):
    """An assessment written for 1.0.0: every criterion the two versions share rated full."""
    renamed = {new for new in SUPERSEDES["criteria"].values() if new}
    ratings = {cid: "full" for cid in criterion_ids(model_dir) if cid not in renamed and cid != "gamma-3-2"}
    ratings.update({"alpha-2-old": "largely", "alpha-2-older": "partial", "beta-2-moved": "大部分满足",
                    "delta-2-gone": "full"})
    ratings.update(changes)
    return write(tmp_path / "old.yaml", ratings, assessed_on="2026-10-01",
                 evidence={"beta-2-moved": "QP-07 rev 3", "delta-2-gone": "gone.pdf"})


def test_migrate_rewrites_a_1_0_assessment_and_grades_the_same(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    old = old_assessment(tmp_path, model_dir)
    out = tmp_path / "new.yaml"
    result = run(runner, "migrate", old, "--model", model_dir, "--out", out)
    assert result.exit_code == 0, result.output
    summary = result.stderr
    assert f"{old}: migrated from model 1.0.0 to tiny 2.0.0" in summary
    assert "merged: alpha-2-old, alpha-2-older -> alpha-2-1: carried the lower rating, that of alpha-2-older" \
        in summary
    assert "beta-2-moved -> beta-3-1" in summary
    assert "removed, rating dropped (1): delta-2-gone" in summary
    assert "not rated (2): gamma-2-2, gamma-3-2" in summary

    new = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(new["ratings"]) <= set(criterion_ids(model_dir))
    assert new["ratings"]["alpha-2-1"] == "partial"          # the lower of largely and partial
    assert new["ratings"]["beta-3-1"] == "大部分满足"          # the label as written
    assert new["evidence"] == {"beta-3-1": "QP-07 rev 3"}
    assert new["assessed_on"] == "2026-10-01" and new["company"]["name"] == "测试公司"

    migrated = run(runner, "assess", out, "--model", model_dir, "--format", "json", "--no-trace")
    direct = run(runner, "assess", old, "--model", model_dir, "--format", "json", "--no-trace")
    assert migrated.exit_code == direct.exit_code == 0
    assert migrated.stderr == ""
    before, after = json.loads(direct.stdout), json.loads(migrated.stdout)
    assert before["level"] == after["level"] and before["dimensions"] == after["dimensions"]
    assert after["not_rated"] == ["gamma-2-2", "gamma-3-2"]


def test_reading_an_old_assessment_prints_one_note_and_keeps_json_clean(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    old = old_assessment(tmp_path, model_dir)
    result = run(runner, "assess", old, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"note: {old}: written for model 1.0.0: read through the supersedes map of model "
                             f"2.0.0; run `qmgrade migrate {old}` to rewrite it\n")
    graded = json.loads(result.stdout)
    blockers = {b["criterion"]: b["rating"] for b in graded["next_level"]["blockers"]}
    assert blockers.get("alpha-2-1") == 0.5


def test_a_shared_id_merged_with_old_ones_carries_the_lowest_rating(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    # alpha-2-1 exists in both versions; two old ids merge into it
    old = old_assessment(tmp_path, model_dir, **{"alpha-2-1": "full", "alpha-2-older": "largely"})
    result = run(runner, "migrate", old, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ratings"]["alpha-2-1"] == "largely"
    assert ("merged: alpha-2-1, alpha-2-old, alpha-2-older -> alpha-2-1: carried the lower rating, that of "
            "alpha-2-old") in result.stderr
    lowest = old_assessment(tmp_path, model_dir, **{"alpha-2-1": "none"})
    result = run(runner, "migrate", lowest, "--model", model_dir, "--format", "json")
    assert json.loads(result.stdout)["ratings"]["alpha-2-1"] == "none"
    assert "that of alpha-2-1" in result.stderr


def test_an_na_the_new_criterion_does_not_allow_is_dropped_by_migrate_and_refused_by_assess(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    old = old_assessment(tmp_path, model_dir, **{"beta-2-moved": "na"})
    migrated = run(runner, "migrate", old, "--model", model_dir, "--format", "json")
    assert migrated.exit_code == 0, migrated.output
    assert "beta-3-1" not in json.loads(migrated.stdout)["ratings"]
    assert "beta-2-moved -> beta-3-1: was na, which beta-3-1 no longer allows: rate it" in migrated.stderr
    assessed = run(runner, "assess", old, "--model", model_dir)
    assert assessed.exit_code == 1
    assert f"{old}:{line_of(old, 'beta-2-moved:')}:" in assessed.stderr
    assert "'beta-3-1' does not allow na" in assessed.stderr


def test_migrate_drops_an_na_on_a_kept_id_that_no_longer_allows_it(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    old = old_assessment(tmp_path, model_dir, **{"beta-4-2": "na"})    # an id both versions share
    migrated = run(runner, "migrate", old, "--model", model_dir, "--out", tmp_path / "new.yaml")
    assert migrated.exit_code == 0, migrated.output
    assert "  beta-4-2: was na, which beta-4-2 no longer allows: rate it" in migrated.stderr
    new = yaml.safe_load((tmp_path / "new.yaml").read_text(encoding="utf-8"))
    assert "beta-4-2" not in new["ratings"] and "beta-4-1" in new["ratings"]
    assert run(runner, "assess", tmp_path / "new.yaml", "--model", model_dir).exit_code == 0


def test_an_id_unknown_to_both_versions_is_still_an_error(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    old = old_assessment(tmp_path, model_dir, **{"alpha-2-oldd": "full"})
    for command in ("migrate", "assess"):
        result = run(runner, command, old, "--model", model_dir)
        assert result.exit_code == 1
        assert f"{old}:{line_of(old, 'alpha-2-oldd:')}:" in result.stderr
        assert "unknown criterion 'alpha-2-oldd'" in result.stderr


def test_migrating_a_current_assessment_changes_nothing(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    path = write(tmp_path / "a.yaml", {cid: "full" for cid in criterion_ids(model_dir)})
    result = run(runner, "migrate", path, "--model", model_dir)
    assert result.exit_code == 0, result.output
    assert "nothing to migrate" in result.stderr
    assert yaml.safe_load(result.stdout)["ratings"] == yaml.safe_load(path.read_text(encoding="utf-8"))["ratings"]


def test_kb_export_and_validate_show_the_supersedes_map(runner, tmp_path):
    model_dir = model_v2(tmp_path)
    exported = json.loads(run(runner, "kb", "export", "--model", model_dir).stdout)
    assert exported["model"]["supersedes"] == SUPERSEDES
    broken = build_v2(tmp_path / "b", supersedes={"version": "1.0.0", "criteria": {"x-2-old": "alpha-2-9"}})
    result = run(runner, "kb", "validate", "--model", broken)
    assert result.exit_code == 1
    assert "unknown criterion 'alpha-2-9'; did you mean" in result.stderr


def test_an_old_id_that_is_still_a_criterion_is_a_warning(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m", supersedes={"version": "1.0.0", "criteria": {"alpha-2-2": "alpha-2-1"}})
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 0, result.output
    assert "'alpha-2-2' is still a criterion of this model" in result.stderr and "(supersedes-kept)" in result.stderr

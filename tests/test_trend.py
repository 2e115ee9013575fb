"""qmgrade history re-grades the rounds (issue 11): a blocker still blocks only when the rules say so on the
later ratings, criteria rated lower are reported, one line per change."""
from __future__ import annotations

import json

import pytest

from conftest import ratings_up_to, write_assessment, run


@pytest.fixture
def three_rounds(runner, model_dir, model, tmp_path):
    first = ratings_up_to(model, 3)
    first.update({"beta-3-1": "none", "beta-3-2": "none"})              # beta holds the company at 2
    second = dict(first, **{"beta-3-1": "full", "beta-3-2": "largely",   # beta meets 3 without being full
                            "alpha-2-1": "largely"})                     # alpha-2-1 got worse, alpha still meets 2
    third = dict(second, **{"beta-3-2": "partial"})                      # beta falls back to 2
    db = tmp_path / "history.sqlite"
    for n, (ratings, day) in enumerate(((first, "2025-05-01"), (second, "2025-11-01"), (third, "2026-05-01"))):
        path = write_assessment(tmp_path / f"r{n}.yaml", ratings, company={"id": "acme", "name": "某某机械"})
        path.write_text(path.read_text(encoding="utf-8") + f"assessed_on: {day}\n", encoding="utf-8")
        result = run(runner, "assess", path, "--model", model_dir, "--db", db, "--format", "json")
        assert result.exit_code == 0, result.output
    return db


def test_blockers_that_no_longer_block_and_ratings_that_got_worse(runner, model_dir, three_rounds):
    data = json.loads(run(runner, "history", "acme", "--db", three_rounds, "--model", model_dir,
                          "--format", "json").stdout)
    assert [r["level"]["rank"] for r in data["rounds"]] == [2, 3, 2]
    assert all(r["regraded"] for r in data["rounds"])
    first, second = data["changes"]
    # beta-3-2 is only largely, yet its cell is met: it no longer blocks
    assert first["blockers_cleared"] == ["beta-3-1", "beta-3-2"] and first["still_blocking"] == []
    assert first["worse"] == [{"criterion": "alpha-2-1", "from": 1.0, "to": 0.8}]
    assert second["level"] == {"from": 3, "to": 2}
    assert second["worse"] == [{"criterion": "beta-3-2", "from": 0.8, "to": 0.5}]


def test_one_line_per_change(runner, model_dir, three_rounds):
    text = run(runner, "history", "acme", "--db", three_rounds, "--model", model_dir).stdout
    assert ("Round 1 → 2 (2025-05-01 → 2025-11-01):\n"
            "  level 2 → 3\n"
            "  barrel 2 → 3\n"
            "  stave Dimension beta (beta): 2 → 3\n"
            "  cleared: Criterion beta-3-1 (beta-3-1)\n"
            "  cleared: Criterion beta-3-2 (beta-3-2)\n"
            "  worse: Criterion alpha-2-1 (alpha-2-1) full (1) → largely (0.8)\n") in text
    assert "  worse: Criterion beta-3-2 (beta-3-2) largely (0.8) → partial (0.5)\n" in text
    zh = run(runner, "history", "acme", "--db", three_rounds, "--model", model_dir, "--lang", "zh").stdout
    assert "  变差: 条款 alpha-2-1 (alpha-2-1) 全部满足 (1) → 大部分满足 (0.8)\n" in zh


def test_rounds_under_different_model_versions_are_compared_on_the_criteria_they_share(runner, tmp_path):
    """Issue 9: a round graded under 0.1 keeps its level; the change is compared on the shared criteria."""
    import yaml
    import engine
    from conftest import build_model

    old_dir = build_model(tmp_path / "v1")
    new_dir = build_model(tmp_path / "v2")
    header = new_dir / "knowledge" / "model.yaml"
    document = yaml.safe_load(header.read_text(encoding="utf-8"))
    document["model"]["version"] = "0.2"
    document["model"]["supersedes"] = {"version": "0.1", "criteria": {"alpha-2-1": "alpha-2-9"}}
    header.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for name in ("criteria.yaml", "actions.yaml"):
        path = new_dir / "knowledge" / name
        path.write_text(path.read_text(encoding="utf-8").replace("alpha-2-1", "alpha-2-9"), encoding="utf-8")
    old, new = engine.load_model(old_dir), engine.load_model(new_dir)
    db = tmp_path / "h.sqlite"
    first = ratings_up_to(old, 3)
    second = dict(ratings_up_to(new, 3), **{"alpha-2-9": "largely", "beta-2-2": "partial"})
    for n, (ratings, day, model_dir) in enumerate(((first, "2025-05-01", old_dir), (second, "2026-05-01", new_dir))):
        path = write_assessment(tmp_path / f"r{n}.yaml", ratings, company={"id": "acme", "name": "某某机械"})
        path.write_text(path.read_text(encoding="utf-8") + f"assessed_on: {day}\n", encoding="utf-8")
        assert run(runner, "assess", path, "--model", model_dir, "--db", db).exit_code == 0
    data = json.loads(run(runner, "history", "acme", "--db", db, "--model", new_dir, "--format", "json").stdout)
    assert [r["regraded"] for r in data["rounds"]] == [False, True]      # the 0.1 round keeps its level
    change = data["changes"][0]
    assert change["models"] == {"from": "0.1", "to": "0.2"}
    assert change["shared_criteria"] == len(new.criteria)               # every 0.2 criterion had a 0.1 rating
    assert change["worse"] == [{"criterion": "alpha-2-9", "from": 1.0, "to": 0.8},   # alpha-2-1 under 0.1
                               {"criterion": "beta-2-2", "from": 1.0, "to": 0.5}]
    text = run(runner, "history", "acme", "--db", db, "--model", new_dir).stdout
    assert ("graded under different model versions (0.1 → 0.2): compared on the "
            f"{len(new.criteria)} criteria they share") in text

"""--db on assess and batch, and qmgrade history: the trend between rounds (复核)."""
from __future__ import annotations

import json
import sqlite3

import pytest

import engine
from conftest import ratings_up_to, write_assessment, run


def round_file(tmp_path, name, ratings, date, cid="acme"):
    path = write_assessment(tmp_path / name, ratings, company={"id": cid, "name": "某某机械"})
    path.write_text(path.read_text(encoding="utf-8") + f"assessed_on: {date}\n", encoding="utf-8")
    return path


@pytest.fixture
def two_rounds(runner, model_dir, model, tmp_path):
    first = ratings_up_to(model, 2)
    first.update({"beta-2-1": "partial", "gamma-3-1": "full"})     # beta holds the company at 1
    second = ratings_up_to(model, 3)
    second.update({"alpha-3-2": "none"})                            # alpha now holds it at 2
    db = tmp_path / "history.sqlite"
    for name, ratings, date in (("r2.yaml", second, "2026-11-01"), ("r1.yaml", first, "2025-11-01")):
        result = run(runner, "assess", round_file(tmp_path, name, ratings, date), "--model", model_dir,
                     "--db", db, "--format", "json")
        assert result.exit_code == 0, result.output
    return db


def test_history_json_shows_the_trend(runner, model_dir, two_rounds):
    result = run(runner, "history", "acme", "--db", two_rounds, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["company"] == {"id": "acme", "name": "某某机械"}
    assert [(r["assessed_on"], r["level"]["rank"], r["dimensions"]) for r in data["rounds"]] == [
        ("2025-11-01", 1, {"alpha": 2, "beta": 1, "gamma": 2}),      # stored second, but earlier
        ("2026-11-01", 2, {"alpha": 2, "beta": 3, "gamma": 3})]
    change, = data["changes"]
    assert change["level"] == {"from": 1, "to": 2}
    assert change["staves"] == [{"dimension": "beta", "from": 1, "to": 3}, {"dimension": "gamma", "from": 2, "to": 3}]
    assert change["blockers_cleared"] == ["beta-2-1"]
    assert change["blockers_remaining"] == []
    # every level-3 action whose criterion became full; gamma-3-1 was full already, alpha-3-2 is not
    assert change["actions_done"] == ["do-alpha-3-1", "do-beta-2-1", "do-beta-3-1", "do-beta-3-2", "do-gamma-3-2"]


def test_history_text_in_both_languages(runner, model_dir, two_rounds):
    en = run(runner, "history", "acme", "--db", two_rounds, "--model", model_dir)
    assert en.exit_code == 0
    assert en.stdout.startswith("History: 某某机械 (acme)\n\n"
                                "  Round 1  2025-11-01  Level 1 Experience  Barrel 1  (model tiny 0.1)\n"
                                "  Round 2  2026-11-01  Level 2 Inspection  Barrel 2  (model tiny 0.1)\n\n"
                                # issue 11: one line per change
                                "Round 1 → 2 (2025-11-01 → 2026-11-01):\n"
                                "  level 1 → 2\n"
                                "  barrel 1 → 2\n"
                                "  stave Dimension beta (beta): 1 → 3\n"
                                "  stave Dimension gamma (gamma): 2 → 3\n"
                                "  cleared: Criterion beta-2-1 (beta-2-1)\n"
                                "  looks done: Action alpha-3-1 (do-alpha-3-1)\n")
    zh = run(runner, "history", "acme", "--db", two_rounds, "--model", model_dir, "--lang", "zh")
    assert "复核记录: 某某机械 (acme)" in zh.stdout and "已消除: 条款 beta-2-1 (beta-2-1)" in zh.stdout


def test_the_same_input_stored_twice_is_one_round(runner, model_dir, model, tmp_path):
    db = tmp_path / "h.sqlite"
    path = round_file(tmp_path, "a.yaml", ratings_up_to(model, 2), "2026-01-01")
    for _ in range(2):
        assert run(runner, "assess", path, "--model", model_dir, "--db", db).exit_code == 0
    rows = sqlite3.connect(db).execute("SELECT count(*) FROM assessments").fetchone()[0]
    assert rows == 1                                               # the same grading is stored once
    result = run(runner, "history", "acme", "--db", db, "--model", model_dir)
    assert result.stdout.endswith("Only one round: no changes to compare yet.\n")


def test_the_database_is_append_only_and_keeps_model_and_input_fingerprints(runner, model_dir, model, two_rounds,
                                                                             tmp_path):
    connection = sqlite3.connect(two_rounds)
    row = connection.execute("SELECT company_id, assessed_on, level, model_id, model_version, model_sha256, "
                             "input_sha256, result FROM assessments ORDER BY seq LIMIT 1").fetchone()
    second = engine.read_assessment(str(tmp_path / "r2.yaml"), model)
    assert row[:5] == ("acme", "2026-11-01", 2, "tiny", "0.1")
    assert row[5] == model.sha256 and row[6] == second.sha256
    assert json.loads(row[7]) == engine.grade(model, second).as_dict(trace=False)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("UPDATE assessments SET level = 5")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM assessments")


def test_batch_db_stores_every_graded_company(runner, model_dir, model, tmp_path):
    db = tmp_path / "h.sqlite"
    lines = []
    for index, level in enumerate([1, 2, 3]):
        lines.append(json.dumps({"company": {"id": "acme"}, "assessed_on": f"202{index}-01-01",
                                 "ratings": ratings_up_to(model, level)}))
    lines.append('{"company": {"id": "bad"}, "ratings": {"alpha-2-1": "ful"}}')
    lines.append(json.dumps({"company": {"id": "other"}, "ratings": {}}))
    lines.append(json.dumps({"company": {"name": "无编号"}, "ratings": {}}))
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--db", db, "--jobs", 2, "--format", "csv")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Warning: 1 graded assessment(s) without a company id were not stored in {db}\n")
    ids = [row[0] for row in sqlite3.connect(db).execute("SELECT company_id FROM assessments ORDER BY seq")]
    assert ids == ["acme", "acme", "acme", "other"]
    data = json.loads(run(runner, "history", "acme", "--db", db, "--model", model_dir, "--format", "json").stdout)
    assert [c["level"] for c in data["changes"]] == [{"from": 1, "to": 2}, {"from": 2, "to": 3}]


def test_history_errors(runner, model_dir, model, two_rounds, tmp_path):
    result = run(runner, "history", "acm", "--db", two_rounds, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {two_rounds}:1:1: no assessment of company 'acm' in the history; "
                             f"did you mean 'acme'? (unknown-id)\n")
    missing = tmp_path / "none.sqlite"
    result = run(runner, "history", "acme", "--db", missing, "--model", model_dir)
    assert result.output == f"Error: {missing}:1:1: no such database (write one with --db on assess or batch)\n"
    assert not missing.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database" * 100, encoding="utf-8")
    result = run(runner, "history", "acme", "--db", junk, "--model", model_dir)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {junk}:1:1: not a qmgrade history database")
    assert run(runner, "history", "acme", "--model", model_dir).exit_code == 2      # --db is required
    anonymous = tmp_path / "anon.yaml"
    anonymous.write_text("company: {name: 无编号}\nratings: {}\n", encoding="utf-8")
    result = run(runner, "assess", anonymous, "--model", model_dir, "--db", tmp_path / "h.sqlite")
    assert result.exit_code == 1
    assert result.output == (f"Error: {anonymous}:1:1: --db needs the company's id (company: {{id: ...}}) to follow "
                             f"it between rounds\n")

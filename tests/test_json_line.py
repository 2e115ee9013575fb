"""The lean batch path writes what the full path writes (issue 13).

A batch line without trace is written from pre-encoded fragments
(:meth:`Grade.json_line`), the cells are scored by a vectorised loop
(:func:`engine.scoring.score_cells`), and a worker builds a statistics summary
only when asked for one.  Each must give exactly what the straightforward code
gives: the same text, the same scores, the same statistics.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY, make_assessment, rating_maps
from conftest import run
from engine.assessment import assessment_from_data
from engine.grading import grade
from engine.scoring import _score_plan, score_cells

ROOT = Path(__file__).resolve().parent.parent
ENCODER = json.JSONEncoder(ensure_ascii=False)


@pytest.fixture(scope="module")
def shipped():
    return engine.load_model()


def corpus(model) -> list:
    """The calibration corpus's companies and the examples: every level, every veto event, profiles."""
    found = []
    for path in sorted((ROOT / "knowledge" / "calibration").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))["assessment"]
        found.append((path.name, json.loads(json.dumps(data, default=str))))
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        if path.name != "expected.yaml":
            found.append((path.name, json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")),
                                                           default=str))))
    return found


def test_every_example_and_corpus_company_gets_the_same_line_both_ways(shipped):
    """The corpus holds a firm for every veto event, every level and profiles with na: caps that hold and
    lift, a top-level company (no next level), provisional grades."""
    seen_levels, capped = set(), 0
    for name, data in corpus(shipped):
        assessment = assessment_from_data(data, name, shipped)
        graded = grade(shipped, assessment, detail=False)
        assert graded.json_line() == ENCODER.encode(graded.as_dict(trace=False)), name
        seen_levels.add(graded.level)
        capped += bool(graded.caps)
    assert seen_levels == {1, 2, 3, 4, 5} and capped > 0   # the sample reaches what it is meant to


@given(data=st.data())
@PROPERTY
def test_random_companies_get_the_same_line_both_ways(shipped, data):
    ratings, facts = data.draw(rating_maps(shipped, caps=True))
    graded = grade(shipped, make_assessment(shipped, ratings, facts), detail=False)
    assert graded.json_line() == ENCODER.encode(graded.as_dict(trace=False))


@given(data=st.data())
@PROPERTY
def test_vectorised_scoring_agrees_with_the_cell_by_cell_arithmetic(shipped, data):
    """na, not rated, numbers between the labels and key criteria under their minimum, cell by cell."""
    ratings, _ = data.draw(rating_maps(shipped))
    assessment = make_assessment(shipped, ratings)
    scored = score_cells(shipped, assessment.ratings)
    for (dimension, level), cell in scored.items():
        plan = tuple((c, c.id, c.weight_units, c.key) for c in shipped.cells[(dimension, level)])
        expected = _score_plan(dimension, level, plan, shipped.key_minimum_units_for(level), assessment.ratings)
        assert (cell.applicable, cell.score_units, cell.keys_below, cell.rated) == \
            (expected.applicable, expected.score_units, expected.keys_below, expected.rated), (dimension, level)
        assert cell.entries == expected.entries


@given(data=st.data())
@PROPERTY
def test_the_blockers_are_every_criterion_below_full_of_the_unmet_cells_up_to_the_next_level(shipped, data):
    """A result's blockers, read off the ratings and the cells the rules left unmet, independently of the
    engine's one pass over each cell (engine.scoring.shortfall): na left out, not rated shown as 0.0, in model
    order; the minimal fix is drawn from them."""
    ratings, facts = data.draw(rating_maps(shipped, caps=True))
    assessment = make_assessment(shipped, ratings, facts)
    result = grade(shipped, assessment, detail=False).as_dict(trace=False)
    following = result["next_level"]
    if following is None:
        return
    met = {(row["id"], int(k)): value for row in result["dimensions"] for k, value in row["met"].items()}
    expected = []
    for (dimension, level), criteria in shipped.cells.items():
        if level > following["rank"] or met[(dimension, level)]:
            continue
        for criterion in criteria:
            rated = criterion.id in assessment.ratings
            rating = assessment.ratings[criterion.id] if rated else 0.0
            if rating is not None and rating < 1:
                expected.append((criterion.id, dimension, level, rating, criterion.key, not rated))
    assert [(b["criterion"], b["dimension"], b["level"], b["rating"], b["key"], b.get("not_rated", False))
            for b in following["blockers"]] == expected
    assert set(following["minimal_fix"]) <= {b["criterion"] for b in following["blockers"]}


def test_a_rating_value_never_seen_before_is_scored_exactly(shipped):
    """Free-typed numbers are not in the table of known values: each is worked out (0.333333 of weight 1
    and 0.666667 of weight 1 average to 0.5, floor in millionths)."""
    first = next(iter(shipped.cells.values()))
    ratings = {c.id: 0.0 for c in shipped.criteria.values()}
    values = [0.123457, 0.987653, 0.5, 0.000001]
    for criterion, value in zip(first, values):
        ratings[criterion.id] = value
    scored = score_cells(shipped, ratings)
    cell = scored[(first[0].dimension, first[0].level)]
    used = list(zip(first, values + [0.0] * len(first)))
    total_w = sum(c.weight_units for c, _ in used)
    assert cell.score_units == sum(c.weight_units * round(v * 1_000_000) for c, v in used) // total_w


def test_batch_statistics_are_the_same_whether_or_not_results_carry_summaries(tmp_path, runner):
    """--summary makes the workers summarise each company; without it they send only what the batch
    needs.  The results are the same either way, and so are the statistics of the same companies."""
    source = tmp_path / "in.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for _, data in corpus(engine.load_model()):
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
    plain = run(runner, "batch", str(source), "--jobs", "2")
    summed = run(runner, "batch", str(source), "--jobs", "2", "--summary", "--out", str(tmp_path / "out.jsonl"))
    assert plain.exit_code == summed.exit_code
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == plain.stdout
    stats = run(runner, "stats", str(tmp_path / "out.jsonl"))
    assert stats.exit_code == 0
    # the statistics printed by --summary are those `stats` reads back from the results
    assert stats.output.strip() in summed.output


@pytest.mark.parametrize("where", ["company", "model", "cap", "none"])
def test_a_batch_line_escapes_an_invisible_character_wherever_it_comes_from(runner, tmp_path, where):
    """The batch scans a line for invisible characters only when the company, the date, the profile, the caps
    or the model's texts hold one (issue 13); wherever one is, the line shows it escaped, and the data stay."""
    from conftest import build_model, cap_rule, ratings_up_to
    from engine.textsafe import json_text
    from cli import main
    hidden = "\u202e"
    model_dir = build_model(tmp_path / "m", with_cap=False, extra_rules={
        "cap-recall": cap_rule(2, f"召回{hidden}封顶。" if where == "cap" else "召回封顶。")})
    if where == "model":
        path = model_dir / "knowledge" / "model.yaml"
        path.write_text(path.read_text(encoding="utf-8").replace("维度alpha", f"维度{hidden}alpha"), encoding="utf-8")
    model = engine.load_model(model_dir)
    company = {"id": "c-1", "name": f"好{hidden}公司" if where == "company" else "好公司"}
    record = {"company": company, "ratings": ratings_up_to(model, 3), "facts": {"product_recall_3y": True}}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run(runner, "batch", str(source), "--model", str(model_dir), "--jobs", "1")
    graded = grade(model, assessment_from_data(record, "in.jsonl", model), detail=False)
    expected = json_text(ENCODER.encode(graded.as_dict(trace=False)))
    assert result.output == expected + "\n"
    assert hidden not in result.output and (("\\u202e" in result.output) == (where != "none"))
    assert json.loads(result.output) == json.loads(ENCODER.encode(graded.as_dict(trace=False)))


def test_blockers_written_from_fragments_are_what_the_encoder_writes(shipped):
    """A batch line's blockers are written from each criterion's encoded start and its rating (issue 13): the
    encoder's text for every kind of rating a grade can hold — a label's float, a number, an int from an API
    caller, not rated — and the encoder itself for what no valid model or input makes (a key that is not a
    boolean, a rating that is not a finite number)."""
    from engine.grading import _blocker, _blockers_text, _fragments
    from engine.inference import encode_json
    rows = [("design-2-drawings-specs", "design", 2, 0.5, True, True),
            ("design-2-drawings-specs", "design", 2, 0.123457, True, True),
            ("design-2-prototype-test", "design", 2, 0, False, True),
            ("design-2-prototype-test", "design", 2, 0.0, False, False),
            ("a-\"quoted\"-id", "设计", 3, 1, 1, True),
            ("design-2-reference-samples", "design", 2, float("nan"), True, True),
            ("design-2-reference-samples", "design", 2, True, False, True)]
    for count in range(len(rows) + 1):   # the fragments fill as criteria are met: twice over
        for _ in range(2):
            assert _blockers_text(_fragments(shipped), rows[:count]) == \
                encode_json([_blocker(row) for row in rows[:count]])

"""The grading method of CONTRACT §3, decided in durable_rules, on small hand-built models."""
from __future__ import annotations

import json

import pytest

import engine
from engine.assessment import assessment_from_data
from conftest import build_model, cap_rule, ratings_up_to


def grade(model, ratings, facts=None):
    data = {"company": {"id": "t"}, "ratings": ratings}
    if facts:
        data["facts"] = facts
    return engine.grade(model, assessment_from_data(data, "t.yaml", model)).as_dict()


@pytest.fixture
def model(tiny_model_dir):
    return engine.load_model(tiny_model_dir)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_all_criteria_up_to_k_full_gives_level_k(model, k):
    result = grade(model, ratings_up_to(model, k))
    assert result["level"]["rank"] == k
    assert {d["level"] for d in result["dimensions"]} == {k}


@pytest.mark.parametrize("j", [2, 3, 4, 5])
def test_emptying_one_staves_level_j_drops_the_company_to_j_minus_1(model, j):
    ratings = ratings_up_to(model, 5)
    for cid, criterion in model.criteria.items():
        if criterion.dimension == "beta" and criterion.level == j:
            ratings[cid] = "none"
    result = grade(model, ratings)
    assert result["level"]["rank"] == j - 1
    assert result["barrel"]["shortest"] == ["beta"]
    levels = {d["id"]: d["level"] for d in result["dimensions"]}
    assert levels == {"alpha": 5, "beta": j - 1, "gamma": 5}


def test_no_gaps_a_stave_stops_at_its_first_missed_level(model):
    ratings = ratings_up_to(model, 5)
    ratings["alpha-3-1"] = ratings["alpha-3-2"] = "none"   # alpha misses 3 but meets 4 and 5
    result = grade(model, ratings)
    alpha = next(d for d in result["dimensions"] if d["id"] == "alpha")
    assert alpha["level"] == 2
    assert alpha["met"] == {"2": True, "3": False, "4": True, "5": True}


def test_company_level_is_the_minimum_over_the_staves(model):
    ratings = ratings_up_to(model, 4)
    for cid in model.criteria:
        if cid.startswith("gamma-3"):
            ratings[cid] = "none"
        if cid.startswith("alpha-5"):
            ratings[cid] = "full"
    result = grade(model, ratings)
    assert [d["level"] for d in result["dimensions"]] == [5, 4, 2]
    assert result["level"]["rank"] == 2
    assert result["barrel"] == {"rank": 2, "shortest": ["gamma"]}


def test_threshold_is_inclusive_and_below_it_misses(tmp_path):
    model = engine.load_model(build_model(tmp_path / "m", per_cell=5))
    ratings = ratings_up_to(model, 2)
    for cid in model.criteria:
        if cid.startswith("alpha-2"):
            ratings[cid] = "largely"              # exactly 0.8: met
    assert grade(model, ratings)["level"]["rank"] == 2
    ratings["alpha-2-1"] = 0.79                   # 0.798: below
    result = grade(model, ratings)
    assert result["level"]["rank"] == 1
    assert result["dimensions"][0]["scores"]["2"] == pytest.approx(0.798)


def test_weights_count_in_the_score(tmp_path):
    model = engine.load_model(build_model(tmp_path / "m", weights={"alpha-2-1": 4}))
    ratings = ratings_up_to(model, 2)
    ratings["alpha-2-2"] = "none"       # (4·1 + 1·0) / 5 = 0.8: met
    assert grade(model, ratings)["level"]["rank"] == 2
    ratings["alpha-2-2"] = "full"
    ratings["alpha-2-1"] = "none"       # (4·0 + 1·1) / 5 = 0.2: not met
    assert grade(model, ratings)["level"]["rank"] == 1


def test_a_key_criterion_below_the_minimum_gates_its_level_whatever_the_score(tmp_path):
    model = engine.load_model(build_model(tmp_path / "m", per_cell=5, keys=("alpha-2-1",)))
    ratings = ratings_up_to(model, 3)
    ratings["alpha-2-1"] = "partial"    # score 0.9 ≥ 0.8, but the key item is at 0.5
    result = grade(model, ratings)
    assert result["dimensions"][0]["scores"]["2"] == pytest.approx(0.9)
    assert result["level"]["rank"] == 1
    fired = [f for f in result["trace"] if f["rule"] == "key-gate"]
    assert [f["conclusion"] for f in fired] == [{"fact": "unmet", "dimension": "alpha", "level": 2,
                                                 "reason": "key"}]
    assert result["next_level"]["minimal_fix"] == ["alpha-2-1"]


def test_na_is_left_out_of_the_score_and_an_all_na_cell_is_met(model):
    ratings = ratings_up_to(model, 2)
    ratings["alpha-2-1"] = "na"
    ratings["beta-2-1"] = ratings["beta-2-2"] = "不适用"
    result = grade(model, ratings)
    assert result["level"]["rank"] == 2
    assert result["dimensions"][0]["scores"]["2"] == 1.0
    assert result["dimensions"][1]["scores"]["2"] is None
    assert any(f["rule"] == "cell-empty" and f["conclusion"]["dimension"] == "beta" for f in result["trace"])


def test_not_rated_counts_zero_and_is_listed(model):
    ratings = ratings_up_to(model, 2)
    del ratings["gamma-2-2"]
    result = grade(model, ratings)
    assert result["not_rated"] == ["gamma-2-2"]
    assert result["level"]["rank"] == 1
    assert {"criterion": "gamma-2-2", "dimension": "gamma", "level": 2, "rating": 0.0, "key": False,
            "not_rated": True} in result["next_level"]["blockers"]


def test_chinese_labels_and_numbers_are_ratings(model):
    labels = {"全部满足": 1.0, "大部分满足": 0.8, "部分满足": 0.5, "不满足": 0.0}
    for label, value in labels.items():
        ratings = ratings_up_to(model, 1)
        ratings["alpha-2-1"] = label
        ratings["alpha-2-2"] = value
        score = grade(model, ratings)["dimensions"][0]["scores"]["2"]
        assert score == pytest.approx(value)


def test_a_lower_threshold_in_the_model_changes_the_grade(tmp_path):
    model = engine.load_model(build_model(tmp_path / "m", threshold=0.5))
    ratings = {cid: "partial" for cid in model.criteria}
    assert grade(model, ratings)["level"]["rank"] == 5


def test_a_cap_lowers_the_level_and_is_listed(model):
    result = grade(model, ratings_up_to(model, 4), facts={"product_recall_3y": True})
    assert result["level"]["rank"] == 2
    assert result["barrel"]["rank"] == 4
    caps = result["next_level"]["caps"]
    assert [(c["rule"], c["level"]) for c in caps] == [("cap-recall", 2)]
    assert caps[0]["facts"] == [{"fact": "company", "product_recall_3y": True}]
    assert result["next_level"]["blockers"] == []


def test_caps_only_lower(model):
    result = grade(model, ratings_up_to(model, 1), facts={"product_recall_3y": True})
    assert result["level"]["rank"] == 1
    assert result["next_level"]["caps"] == []


def test_raising_every_blocker_to_full_reaches_the_next_level(model):
    ratings = ratings_up_to(model, 2, low="partial")
    ratings["alpha-2-1"] = "none"
    ratings["beta-3-1"] = "largely"
    for _ in range(4):
        result = grade(model, ratings)
        if result["next_level"] is None:
            break
        target = result["next_level"]["rank"]
        for blocker in result["next_level"]["blockers"]:
            ratings[blocker["criterion"]] = "full"
        assert grade(model, ratings)["level"]["rank"] >= target


def test_minimal_fix_reaches_the_next_level_and_fewer_do_not(tmp_path):
    import itertools
    model = engine.load_model(build_model(tmp_path / "m", per_cell=4, weights={"beta-3-2": 3}))
    ratings = ratings_up_to(model, 2, low="partial")
    ratings["beta-3-2"] = "none"
    result = grade(model, ratings)
    fix = result["next_level"]["minimal_fix"]
    raised = dict(ratings, **{c: "full" for c in fix})
    assert grade(model, raised)["level"]["rank"] == 3
    blockers = [b["criterion"] for b in result["next_level"]["blockers"]]
    for subset in itertools.combinations(blockers, len(fix) - 1):
        trial = dict(ratings, **{c: "full" for c in subset})
        assert grade(model, trial)["level"]["rank"] < 3


def test_every_conclusion_is_backed_by_a_firing(model):
    ratings = ratings_up_to(model, 3, low="partial")
    result = grade(model, ratings, facts={"product_recall_3y": True})
    conclusions = [f["conclusion"] for f in result["trace"]]
    assert {"fact": "company_level", "level": result["level"]["rank"]} in conclusions
    assert {"fact": "barrel", "level": result["barrel"]["rank"]} in conclusions
    for row in result["dimensions"]:
        assert {"fact": "dimension_level", "dimension": row["id"], "level": row["level"]} in conclusions
        for k, met in row["met"].items():
            kind = "met" if met else "unmet"
            assert any(c["fact"] == kind and c["dimension"] == row["id"] and c["level"] == int(k)
                       for c in conclusions)
    rule_ids = {rule.id for rule in model.rules}
    assert {f["rule"] for f in result["trace"]} <= rule_ids
    assert [f["seq"] for f in result["trace"]] == list(range(1, len(result["trace"]) + 1))


def test_the_trace_shows_the_ratings_and_evidence_a_cell_was_scored_on(model):
    data = {"ratings": ratings_up_to(model, 2), "evidence": {"alpha-2-1": ["QM manual v3 §4.4"]}}
    result = engine.grade(model, assessment_from_data(data, "t", model)).as_dict()
    firing = next(f for f in result["trace"] if f["rule"] == "cell-met"
                  and f["facts"][0]["dimension"] == "alpha" and f["facts"][0]["level"] == 2)
    cell = firing["facts"][0]
    assert cell["score"] == 1.0
    assert cell["criteria"][0] == {"criterion": "alpha-2-1", "rating": 1.0, "weight": 1.0, "key": False,
                                   "evidence": ["QM manual v3 §4.4"]}


def test_same_input_same_output(model):
    ratings = ratings_up_to(model, 3, low="partial")
    first = json.dumps(grade(model, ratings), ensure_ascii=False)
    reordered = dict(reversed(list(ratings.items())))
    assert json.dumps(grade(model, reordered), ensure_ascii=False) == first


def test_states_are_removed_so_thousands_of_companies_grade_in_one_process(model):
    # durable_rules allows 1024 live state ids per ruleset: each company's state must go.
    for i in range(1300):
        k = 1 + i % 5
        assert grade(model, ratings_up_to(model, k))["level"]["rank"] == k


def test_two_models_live_in_one_process(tmp_path):
    strict = engine.load_model(build_model(tmp_path / "strict", threshold=0.9))
    lenient = engine.load_model(build_model(tmp_path / "lenient", threshold=0.5))
    ratings = {cid: "largely" for cid in strict.criteria}
    assert grade(strict, ratings)["level"]["rank"] == 1
    assert grade(lenient, ratings)["level"]["rank"] == 5


def test_a_cap_at_the_barrel_level_is_listed_as_blocking_the_next_level(tmp_path):
    cap_at_three = cap_rule(3)
    model = engine.load_model(build_model(tmp_path / "m", with_cap=False, extra_rules={"cap-three": cap_at_three}))
    result = grade(model, ratings_up_to(model, 3), facts={"product_recall_3y": True})
    assert result["level"]["rank"] == result["barrel"]["rank"] == 3
    assert [c["rule"] for c in result["next_level"]["caps"]] == ["cap-three"]

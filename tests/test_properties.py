"""Properties of the grading (CONTRACT §3), checked with Hypothesis on a tiny model and the default one.

- raising any rating never lowers the level (nor any stave's level);
- ``na`` never lowers the level: it is what the applicable criteria alone give
  (an independent oracle in exact fractions), and never below rating it ``none``;
- the order of the input does not matter;
- before caps, the level is the minimum over the staves (the barrel);
- caps only lower.
"""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.assessment import _na_allowed, assessment_from_data, parse_rating
from conftest import build_model, examples

PROPERTY = settings(max_examples=examples(120), deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(max_examples=examples(25), deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

UNRATED = object()
HIGH = st.one_of(st.sampled_from(["full", "largely", "na", "全部满足", "大部分满足"]),
                 st.integers(80, 100).map(lambda n: n / 100))
ANY = st.one_of(st.sampled_from(["full", "largely", "partial", "none", "na", "不满足", "不适用", UNRATED]),
                st.integers(0, 100).map(lambda n: n / 100))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("properties") / "model"
    return engine.load_model(build_model(root, per_cell=3, keys=("alpha-3-1", "beta-4-2", "gamma-2-3"),
                                         weights={"alpha-2-1": 2, "beta-3-3": 0.5, "gamma-4-1": 3}))


@pytest.fixture(scope="module")
def default():
    return engine.load_model()


@st.composite
def ratings_for(draw, model):
    """Ratings spread over every level: each stave is mostly met up to a drawn level, anything above."""
    stands = {d.id: draw(st.integers(1, model.top_rank)) for d in model.dimensions}
    na_ok = _na_allowed(model)   # from model 2.0 on, na only where the criterion allows it
    ratings = {}
    for cid, criterion in model.criteria.items():
        value = draw(HIGH if criterion.level <= stands[criterion.dimension] else ANY)
        if value in ("na", "不适用") and not na_ok(cid):
            value = "none"
        if value is not UNRATED:
            ratings[cid] = value
    return ratings


def grade(model, ratings, facts=None):
    data = {"company": {"id": "p"}, "ratings": ratings}
    if facts:
        data["facts"] = facts
    return engine.grade(model, assessment_from_data(data, "p.yaml", model), detail=False)


def oracle_level(model, ratings) -> int:
    """CONTRACT §3 written independently of the engine: the barrel level, in exact fractions."""
    threshold = Fraction(str(model.threshold))
    values = {cid: (None if parse_rating(v) is None else Fraction(str(parse_rating(v))))
              for cid, v in ratings.items()}
    levels = []
    for dimension in model.dimension_ids:
        level = 1
        for k in range(2, model.top_rank + 1):
            applicable = [(c, values.get(c.id, Fraction(0))) for c in model.cells[(dimension, k)]
                          if values.get(c.id, Fraction(0)) is not None]
            weight = sum(Fraction(str(c.weight)) for c, _ in applicable)
            met = not applicable or (
                sum(Fraction(str(c.weight)) * r for c, r in applicable) >= threshold * weight
                and all(r >= Fraction(str(model.key_minimum_for(k))) for c, r in applicable if c.key))
            if not met:
                break
            level = k
        levels.append(level)
    return min(levels)


def numeric(value):
    return 0.0 if value is UNRATED else parse_rating(value)


# -- raising a rating ---------------------------------------------------------------------------------------
@st.composite
def a_raise(draw, model):
    ratings = draw(ratings_for(model))
    raisable = sorted(cid for cid in model.criteria if cid not in ratings or
                      (parse_rating(ratings[cid]) is not None and parse_rating(ratings[cid]) < 1))
    if not raisable:
        return ratings, None, None
    cid = draw(st.sampled_from(raisable))
    current = numeric(ratings.get(cid, UNRATED))
    higher = draw(st.integers(round(current * 100) + 1, 100)) / 100
    return ratings, cid, higher


@PROPERTY
@given(data=st.data())
def test_raising_any_rating_never_lowers_the_level(tiny, data):
    ratings, cid, higher = data.draw(a_raise(tiny))
    if cid is None:
        return
    before = grade(tiny, ratings)
    after = grade(tiny, {**ratings, cid: higher})
    assert after.level >= before.level
    assert all(after.dimension_level[d] >= before.dimension_level[d] for d in tiny.dimension_ids)
    assert after.cells[(tiny.criteria[cid].dimension, tiny.criteria[cid].level)].score >= \
        before.cells[(tiny.criteria[cid].dimension, tiny.criteria[cid].level)].score


@FEW
@given(data=st.data())
def test_raising_any_rating_never_lowers_the_level_on_the_default_model(default, data):
    ratings, cid, higher = data.draw(a_raise(default))
    if cid is None:
        return
    assert grade(default, {**ratings, cid: higher}).level >= grade(default, ratings).level


# -- na -----------------------------------------------------------------------------------------------------
@PROPERTY
@given(data=st.data())
def test_the_level_is_what_the_applicable_criteria_give(tiny, data):
    ratings = data.draw(ratings_for(tiny))
    result = grade(tiny, ratings)
    assert result.barrel == oracle_level(tiny, ratings)


@FEW
@given(data=st.data())
def test_the_level_is_what_the_applicable_criteria_give_on_the_default_model(default, data):
    ratings = data.draw(ratings_for(default))
    assert grade(default, ratings).barrel == oracle_level(default, ratings)


@PROPERTY
@given(data=st.data())
def test_na_never_lowers_the_level_below_rating_it_none(tiny, data):
    ratings = data.draw(ratings_for(tiny))
    cid = data.draw(st.sampled_from(sorted(tiny.criteria)))
    as_na = grade(tiny, {**ratings, cid: "na"})
    as_none = grade(tiny, {**ratings, cid: "none"})
    assert as_na.level >= as_none.level
    assert as_na.barrel == oracle_level(tiny, {**ratings, cid: "na"})


def test_a_stave_all_na_at_a_level_meets_it(tiny):
    ratings = {cid: ("na" if c.dimension == "beta" and c.level == 3 else "full" if c.level <= 3 else "none")
               for cid, c in tiny.criteria.items()}
    result = grade(tiny, ratings)
    assert result.met[("beta", 3)] and result.level == 3


# -- order ----------------------------------------------------------------------------------------------------
@PROPERTY
@given(data=st.data())
def test_the_order_of_the_input_does_not_matter(tiny, data):
    ratings = data.draw(ratings_for(tiny))
    order = data.draw(st.permutations(sorted(ratings)))
    first = grade(tiny, ratings).as_dict()
    second = grade(tiny, {cid: ratings[cid] for cid in order}).as_dict()
    assert first == second
    assert [f["seq"] for f in first["trace"]] == list(range(1, len(first["trace"]) + 1))


# -- the barrel and caps -----------------------------------------------------------------------------------
@PROPERTY
@given(data=st.data())
def test_before_caps_the_level_is_the_minimum_over_the_staves(tiny, data):
    result = grade(tiny, data.draw(ratings_for(tiny)))
    assert result.barrel == min(result.dimension_level.values())
    assert result.level == result.barrel                      # no cap fact is set
    assert set(result.shortest) == {d for d, level in result.dimension_level.items() if level == result.barrel}
    for dimension, level in result.dimension_level.items():   # a stave's level: no gaps below it
        assert all(result.met[(dimension, k)] for k in range(2, level + 1))
        assert level == tiny.top_rank or not result.met[(dimension, level + 1)]


@PROPERTY
@given(data=st.data())
def test_caps_only_lower(tiny, data):
    ratings = data.draw(ratings_for(tiny))
    free = grade(tiny, ratings)
    capped = grade(tiny, ratings, facts={"product_recall_3y": True})   # the tiny model's cap: level 2
    assert capped.barrel == free.barrel
    assert capped.level == min(free.level, 2)
    assert capped.level <= free.level


@FEW
@given(data=st.data(), fact=st.sampled_from(["major_quality_incident_3y", "product_recall_3y",
                                             "serious_penalty_3y"]))
def test_caps_only_lower_on_the_default_model(default, data, fact):
    ratings = data.draw(ratings_for(default))
    free, capped = grade(default, ratings), grade(default, ratings, facts={fact: True})
    assert capped.barrel == free.barrel and capped.level <= free.level
    assert capped.level == min(free.barrel, {"major_quality_incident_3y": 2, "product_recall_3y": 3,
                                             "serious_penalty_3y": 2}[fact])

"""The stave decision table (issue 13): one rule per stave level decides exactly what the old climb decided.

qmgrade-trace/3 replaced the chain that climbed each stave level by level (``stave-floor`` → ``stave-climb``
… → ``stave-level`` / ``stave-top``) with ``stave-level-1`` … ``stave-level-5`` over a ``stave`` fact that
carries the cell rules' decisions.  A user must not see any other grade: these tests grade the same
assessments under both rule sets (the old chain still runs — model packs written for it keep working) and
compare every decision, and check that each stave fires exactly one stave rule.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from conftest import build_model, examples
from engine.assessment import assessment_from_data

# The rules of qmgrade-trace/2, as they were shipped (git show 2259b7e:rules/stave-*.yaml)
OLD_CHAIN = {
    "stave-floor": """\
        description: {zh: 每个维度至少处于第一级（经验级）。, en: Every dimension stands at least at the first level.}
        when:
          - fact: dimension
        then:
          conclude: reached
          set:
            dimension: {ref: dimension.dimension}
            level: 1
        """,
    "stave-climb": """\
        description: {zh: 逐级攀升、不得跳级。, en: A dimension climbs level by level with no gaps.}
        when:
          - fact: reached
          - fact: met
            where:
              dimension: {ref: reached.dimension}
              level: {ref: reached.level, add: 1}
        then:
          conclude: reached
          set:
            dimension: {ref: reached.dimension}
            level: {ref: met.level}
        """,
    "stave-level": """\
        description: {zh: 已达到第 k 级但不满足第 k+1 级，等级为 k。, en: Reached k and misses k+1 stands at k.}
        when:
          - fact: reached
          - fact: unmet
            where:
              dimension: {ref: reached.dimension}
              level: {ref: reached.level, add: 1}
        then:
          conclude: dimension_level
          set:
            dimension: {ref: reached.dimension}
            level: {ref: reached.level}
        """,
    "stave-top": """\
        description: {zh: 达到最高级。, en: A dimension that reaches the top level stands there.}
        when:
          - fact: reached
            where:
              level: {param: top_rank}
        then:
          conclude: dimension_level
          set:
            dimension: {ref: reached.dimension}
            level: {ref: reached.level}
        """,
}

RATINGS = ["full", "largely", "partial", "none", "na"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("table")
    table = engine.load_model(build_model(root / "table", keys=("beta-3-1", "alpha-4-2")))
    chain_dir = build_model(root / "chain", keys=("beta-3-1", "alpha-4-2"),
                            extra_rules={name: textwrap.dedent(text) for name, text in OLD_CHAIN.items()})
    for rank in range(1, 6):
        (Path(chain_dir) / "rules" / f"stave-level-{rank}.yaml").unlink()
    return table, engine.load_model(chain_dir)


def _decisions(model, data):
    graded = engine.grade(model, assessment_from_data(data, "-", model))
    return graded.level, graded.barrel, graded.dimension_level, graded.met, graded


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_decision_table_decides_what_the_climb_decided(models, data):
    table, chain = models
    ratings = {cid: data.draw(st.sampled_from(RATINGS)) for cid in table.criteria
               if data.draw(st.integers(0, 9)) > 0}                 # now and then a criterion left unrated
    for cid, criterion in table.criteria.items():
        if ratings.get(cid) == "na" and criterion.key:
            ratings[cid] = "partial"
    document = {"company": {"id": "c-1", "name": "x"}, "ratings": ratings,
                "facts": {"product_recall_3y": data.draw(st.booleans())}}
    *new, graded = _decisions(table, document)
    *old, _ = _decisions(chain, document)
    assert new == old
    stave_firings = [f for f in graded.firings if f.rule.startswith("stave-level-")]
    assert sorted(f.conclusion["dimension"] for f in stave_firings) == sorted(d.id for d in table.dimensions)
    for firing in stave_firings:       # the rule that fired names the level it concluded
        assert firing.rule == f"stave-level-{firing.conclusion['level']}"


def test_a_gap_does_not_let_a_stave_climb(models):
    """beta meets level 2 and 4 but not 3: it stands at 2, by one firing of stave-level-2 whose premise shows
    the whole pattern."""
    table, _ = models
    ratings = {cid: ("full" if not cid.startswith("beta-3") else "none") for cid in table.criteria}
    level, barrel, staves, met, graded = _decisions(table, {"company": {"id": "c-1", "name": "x"},
                                                            "ratings": ratings})
    assert staves["beta"] == 2 and met[("beta", 4)] is True and met[("beta", 3)] is False
    firing = next(f for f in graded.firings if f.rule.startswith("stave-level-")
                  and f.conclusion["dimension"] == "beta")
    assert firing.rule == "stave-level-2"
    assert firing.facts == [{"fact": "stave", "dimension": "beta", "pillar": firing.facts[0]["pillar"],
                             "met_2": True, "met_3": False, "met_4": True, "met_5": True}]
    assert (level, barrel) == (2, 2)

"""Random assessments for the property tests of explain, roadmap and whatif.

The ratings lean on a random "base" level: criteria at or below it are mostly
met, those above it mostly not, so the examples spread over every company
level, with na, not-rated, numeric ratings and key criteria in the mix.
The oracle :func:`cell_met` is CONTRACT §3 in exact fractions, written
independently of the engine, for brute-force checks only.
"""
from __future__ import annotations

import itertools
import random
from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import engine
from conftest import examples
from engine.assessment import _na_allowed, assessment_from_data

PROPERTY = settings(derandomize=True, deadline=None, max_examples=examples(150),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

CLEAN = ["full", "full", "full", "full", "largely", "largely", "high", "na"]
MIXED = ["full", "full", "largely", "partial", "none", "unrated", "number", "na"]
LOW = ["none", "none", "none", "partial", "partial", "largely", "full", "unrated", "number", "na"]


@st.composite
def rating_maps(draw, model, caps=False):
    """(ratings dict as written in a file, facts dict).

    Each stave gets a level it stands at (a common base plus a random lead):
    its cells up to there are rated cleanly (full, largely, na, ≥ 0.8), the
    cell just above it is mixed (near the threshold, key criteria at risk),
    the rest mostly low; now and then a cell below is mixed too (a gap).
    The choices come from a seeded ``random.Random`` so that they spread
    evenly (Hypothesis' own draws lean towards the simplest values, which
    here would leave nearly every company at level 1).
    """
    rng = random.Random(draw(st.integers(0, 2 ** 32 - 1)))
    base = rng.randint(1, model.top_rank)
    stands = {d.id: min(model.top_rank, base + rng.choice([0, 0, 0, 1, 2, model.top_rank]))
              for d in model.dimensions}
    gaps = {(d.id, rng.randint(2, model.top_rank)) for d in model.dimensions if rng.random() < 0.1}
    ratings = {}
    na_ok = _na_allowed(model)   # from model 2.0 on, na only where the criterion allows it
    for cid, criterion in model.criteria.items():
        stand = stands[criterion.dimension]
        cell = (criterion.dimension, criterion.level)
        if criterion.level == stand + 1 or cell in gaps:
            pool = MIXED
        elif criterion.level <= stand:
            pool = CLEAN
        else:
            pool = LOW
        choice = rng.choice(pool)
        if choice == "na" and not na_ok(cid):
            choice = "none"
        if choice == "unrated":
            continue
        if choice == "number":
            ratings[cid] = rng.randint(0, 100) / 100
        elif choice == "high":
            ratings[cid] = rng.randint(80, 100) / 100
        else:
            ratings[cid] = choice
    facts = {}
    if caps and rng.randint(0, 4) == 0:
        facts[rng.choice([f.id for f in model.facts if f.type == "boolean"])] = True
    return ratings, facts


def make_assessment(model, ratings, facts=None):
    data = {"company": {"id": "p-1", "name": "性质测试公司"}, "ratings": ratings}
    if facts:
        data["facts"] = facts
    return assessment_from_data(data, "p.yaml", model)


def _fraction(value) -> Fraction:
    return Fraction(str(value))


def cell_met(model, criteria, ratings) -> bool:
    """CONTRACT §3 for one cell: S >= threshold and every key criterion >= key_minimum."""
    total_w = total_wr = Fraction(0)
    for criterion in criteria:
        if criterion.id in ratings and ratings[criterion.id] is None:
            continue
        rating = _fraction(ratings.get(criterion.id, 0.0))
        weight = _fraction(criterion.weight)
        total_w += weight
        total_wr += weight * rating
        if criterion.key and rating < _fraction(model.key_minimum):
            return False
    return total_w == 0 or total_wr / total_w >= _fraction(model.threshold)


def fewest_to_meet(model, criteria, ratings) -> int:
    """Brute force: the size of the smallest set of criteria whose raising to full meets the cell."""
    candidates = [c.id for c in criteria
                  if not (c.id in ratings and ratings[c.id] is None) and _fraction(ratings.get(c.id, 0.0)) < 1]
    for size in range(len(candidates) + 1):
        for subset in itertools.combinations(candidates, size):
            changed = dict(ratings)
            changed.update({cid: 1.0 for cid in subset})
            if cell_met(model, criteria, changed):
                return size
    raise AssertionError("a cell that no set of criteria can meet")


def raised(assessment, criteria_ids):
    return assessment.with_ratings({cid: 1.0 for cid in criteria_ids})


def load(path):
    return engine.load_model(path)

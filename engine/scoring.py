"""The arithmetic rule engines do badly, in small named functions.

S(d, k) = Σ weight·rating / Σ weight over the applicable criteria of stave d
at level k (CONTRACT §3), computed in exact integer arithmetic: ratings in
millionths, weights in thousandths.  The result enters durable_rules as a
``cell`` fact; whether the cell is *met* is decided there, by a rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

__all__ = ["CellScore", "score_cell", "score_cells", "minimal_fix_for_cell", "SCALE"]

SCALE = 1_000_000


@dataclass(frozen=True)
class CellScore:
    dimension: str
    level: int
    applicable: int
    score_units: Optional[int]      # floor(S × 10^6); None when nothing applies
    keys_below: int
    entries: tuple                  # (criterion, rating or None for na, rated?)
    rated: int = 0                  # applicable criteria that were rated (coverage, issue 11)

    @property
    def score(self) -> Optional[float]:
        return None if self.score_units is None else self.score_units / SCALE


def rating_units(rating: Optional[float]) -> int:
    return round((rating or 0.0) * SCALE)


def score_cell(model, dimension: str, level: int, ratings: Dict[str, Optional[float]]) -> CellScore:
    """Score one (dimension, level) cell; not-rated criteria count 0, na are left out.

    ``keys_below`` counts the key criteria rated under the key minimum of this
    cell's level (``method.key_minimum_by_level``, else ``method.key_minimum``).
    """
    plan = _cell_plans(model)[1][(dimension, level)]
    return _score_plan(dimension, level, plan, model.key_minimum_units_for(level), ratings, {})


def _cell_plans(model) -> tuple:
    """Per cell, its criteria with their weight units, worked out once per model: (cells in model order with
    their plans, the same by cell)."""
    cells = model.cells
    cached = model.__dict__.get("_scoring_plans")
    if cached is None or cached[0] is not cells:
        plans = tuple((cell, tuple((c, c.id, c.weight_units, c.key) for c in criteria))
                      for cell, criteria in cells.items())
        cached = model.__dict__["_scoring_plans"] = (cells, plans, dict(plans))
    return cached[1], cached[2]


def score_cells(model, ratings) -> Dict[Tuple[str, int], CellScore]:
    """Every cell of the model, in model order (the arithmetic of :func:`score_cell`), in one pass over the
    ratings that also counts what coverage needs (issue 13)."""
    key_mins = {level: model.key_minimum_units_for(level) for level in model.criteria_ranks}
    units_of: Dict[object, int] = {}   # a questionnaire uses a handful of rating values
    return {(dimension, level): _score_plan(dimension, level, plan, key_mins[level], ratings, units_of)
            for (dimension, level), plan in _cell_plans(model)[0]}


def _score_plan(dimension: str, level: int, plan: tuple, key_min: int, ratings, units_of: Dict[object, int]
                ) -> CellScore:
    """S(d, k), the keys under the key minimum and the counts coverage needs, for one cell's criteria
    (``units_of`` remembers each rating value's millionths across cells)."""
    total_w = total_wr = keys_below = applicable = rated_count = 0
    entries = []
    for criterion, criterion_id, weight, key in plan:
        rated = criterion_id in ratings
        rating = ratings[criterion_id] if rated else 0.0
        entries.append((criterion, rating, rated))
        if rated:
            if rating is None:
                continue
            rated_count += 1
        units = units_of.get(rating)
        if units is None:
            units = units_of[rating] = rating_units(rating)
        applicable += 1
        total_w += weight
        total_wr += weight * units
        if key and units < key_min:
            keys_below += 1
    return CellScore(dimension, level, applicable, (total_wr // total_w) if total_w else None, keys_below,
                     tuple(entries), rated_count)


def minimal_fix_for_cell(model, cell: CellScore) -> List[str]:
    """The fewest criteria of an unmet cell whose raising to full meets it.

    Key criteria below the key minimum come first (they must be raised in any
    case), then the largest weight·(1 − rating) first; ties keep model order.
    Greedy by gain is optimal here: every item raised adds its gain and the
    cell is met once the weighted sum reaches threshold·Σweight.
    """
    threshold = model.threshold_units
    key_min = model.key_minimum_units_for(cell.level)
    chosen: List[str] = []
    total_w = total_wr = 0
    candidates = []
    for order, (criterion, rating, rated) in enumerate(cell.entries):
        if rated and rating is None:
            continue
        units = rating_units(rating)
        weight = criterion.weight_units
        total_w += weight
        total_wr += weight * units
        if criterion.key and units < key_min:
            chosen.append(criterion.id)
            total_wr += weight * (SCALE - units)
        elif units < SCALE:
            candidates.append((-(weight * (SCALE - units)), order, criterion.id))
    candidates.sort()
    for negative_gain, _, criterion_id in candidates:
        if total_wr >= threshold * total_w:
            break
        chosen.append(criterion_id)
        total_wr -= negative_gain
    return chosen

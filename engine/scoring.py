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

    @property
    def score(self) -> Optional[float]:
        return None if self.score_units is None else self.score_units / SCALE


def rating_units(rating: Optional[float]) -> int:
    return round((rating or 0.0) * SCALE)


def score_cell(model, dimension: str, level: int, ratings: Dict[str, Optional[float]]) -> CellScore:
    """Score one (dimension, level) cell; not-rated criteria count 0, na are left out."""
    total_w = total_wr = keys_below = applicable = 0
    entries = []
    key_min = model.key_minimum_units
    for criterion in model.cells[(dimension, level)]:
        rated = criterion.id in ratings
        rating = ratings.get(criterion.id, 0.0)
        entries.append((criterion, rating, rated))
        if rated and rating is None:
            continue
        units = rating_units(rating)
        weight = criterion.weight_units
        applicable += 1
        total_w += weight
        total_wr += weight * units
        if criterion.key and units < key_min:
            keys_below += 1
    score = (total_wr // total_w) if total_w else None
    return CellScore(dimension, level, applicable, score, keys_below, tuple(entries))


def score_cells(model, ratings) -> Dict[Tuple[str, int], CellScore]:
    """Every cell of the model, in model order."""
    return {cell: score_cell(model, cell[0], cell[1], ratings) for cell in model.cells}


def minimal_fix_for_cell(model, cell: CellScore) -> List[str]:
    """The fewest criteria of an unmet cell whose raising to full meets it.

    Key criteria below the key minimum come first (they must be raised in any
    case), then the largest weight·(1 − rating) first; ties keep model order.
    Greedy by gain is optimal here: every item raised adds its gain and the
    cell is met once the weighted sum reaches threshold·Σweight.
    """
    threshold = model.threshold_units
    key_min = model.key_minimum_units
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

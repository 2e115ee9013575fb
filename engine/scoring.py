"""The arithmetic rule engines do badly, in small named functions.

S(d, k) = Σ weight·rating / Σ weight over the applicable criteria of stave d
at level k (CONTRACT §3), computed in exact integer arithmetic: ratings in
millionths, weights in thousandths.  The result enters durable_rules as a
``cell`` fact; whether the cell is *met* is decided there, by a rule.
"""
from __future__ import annotations

import itertools
import operator
from types import MappingProxyType
from typing import Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

__all__ = ["CellScore", "ScoredCells", "applicable_criteria", "score_cell", "score_cells", "minimal_fix_for_cell",
           "shortfall", "SCALE"]

SCALE = 1_000_000
_NO_RATINGS: Mapping[str, Optional[float]] = MappingProxyType({})


class CellScore(NamedTuple):
    """One scored (stave, level) cell — immutable (a named tuple: a company's 48 are built in every grading)."""

    dimension: str
    level: int
    applicable: int
    score_units: Optional[int]      # floor(S × 10^6); None when nothing applies
    keys_below: int
    rated: int = 0                  # applicable criteria that were rated (coverage, issue 11)
    plan: tuple = ()                # (criterion, id, weight units, key) of the cell's criteria, in model order
    ratings: Mapping[str, Optional[float]] = _NO_RATINGS   # the company's ratings

    @property
    def score(self) -> Optional[float]:
        return None if self.score_units is None else self.score_units / SCALE

    @property
    def entries(self) -> tuple:
        """(criterion, rating or None for na, rated?) of each criterion, in model order; not rated: 0.0.
        Worked out when asked (the trace's detail, blockers, the minimal fix): a batch without them
        never builds them (issue 13)."""
        ratings = self.ratings
        return tuple((criterion, ratings[ident], True) if ident in ratings else (criterion, 0.0, False)
                     for criterion, ident, _, _ in self.plan)


def rating_units(rating: Optional[float]) -> int:
    return round((rating or 0.0) * SCALE)


def units_of(rating: float) -> int:
    """:func:`rating_units` of a rated criterion's rating, remembered across companies (see ``_UNITS``)."""
    units = _UNITS.get(rating)
    if units is None:
        units = rating_units(rating)
        if len(_UNITS) < _UNITS_MAX:
            _UNITS[rating] = units
    return units


def score_cell(model, dimension: str, level: int, ratings: Dict[str, Optional[float]]) -> CellScore:
    """Score one (dimension, level) cell; not-rated criteria count 0, na are left out.

    ``keys_below`` counts the key criteria rated under the key minimum of this
    cell's level (``method.key_minimum_by_level``, else ``method.key_minimum``).
    """
    plan = _cell_plans(model)[1][(dimension, level)]
    return _score_plan(dimension, level, plan, model.key_minimum_units_for(level), ratings)


def _cell_plans(model) -> tuple:
    """Per cell, its criteria with their weight units, worked out once per model: (cells in model order with
    their plans, the same by cell)."""
    return model.derived("_scoring_plans", _find_cell_plans, model.cells)


def _find_cell_plans(model) -> tuple:
    plans = tuple((cell, tuple((c, c.id, c.weight_units, c.key) for c in criteria))
                  for cell, criteria in model.cells.items())
    return plans, dict(plans)


# a criterion the company did not rate (counts 0): a NaN of its own, found by identity (NaN equals nothing, itself
# included), so that looking for it among the ratings compares floats with a float (issue 13: with an object()
# each comparison went through both sides' NotImplemented)
_NOT_RATED = float("nan")
_NA_UNITS = -1          # a criterion rated na (left out): never a rating's units, which are ≥ 0
# rating value -> its millionths, shared by every company: a questionnaire uses a handful of values
_UNITS: Dict[object, int] = {_NOT_RATED: 0, None: _NA_UNITS}
_units_known: Callable[[object], int] = _UNITS.__getitem__
_UNITS_MAX = 4096       # distinct values remembered (free-typed ratings must not grow it without bound)


def _layout(model) -> tuple:
    """The model's criteria in cell order and, per cell, where its criteria sit in that order, their
    weights, their total and the positions of its key criteria: worked out once per model."""
    return model.derived("_scoring_layout", _find_layout, model.cells)


def _find_layout(model) -> tuple:
    order: List[str] = []
    all_weights: List[int] = []
    cells = []
    for (dimension, level), plan in _cell_plans(model)[0]:
        start = len(order)
        order.extend(ident for _, ident, _, _ in plan)
        weights = tuple(weight for _, _, weight, _ in plan)
        all_weights.extend(weights)
        keys = tuple(start + index for index, (_, _, _, key) in enumerate(plan) if key)
        cells.append(((dimension, level), dimension, level, plan, start, len(order), sum(weights), keys,
                      model.key_minimum_units_for(level)))
    return tuple(order), tuple(all_weights), tuple(cells)


class ScoredCells(Dict[Tuple[str, int], CellScore]):
    """:func:`score_cells`' result, (stave, level) -> CellScore, with what the scoring saw of the company as a
    whole (issue 13: coverage, the criteria not rated and how high each stave applies then need no second
    pass): ``applicable`` criteria (not na) and ``rated`` ones of those, over every cell; ``all_rated``: every
    criterion of the model rated (na included); ``none_na``: no criterion of the model rated na."""

    __slots__ = ("applicable", "rated", "all_rated", "none_na")
    applicable: int
    rated: int
    all_rated: bool
    none_na: bool


def score_cells(model, ratings) -> ScoredCells:
    """Every cell of the model, in model order (the arithmetic of :func:`score_cell`), with what coverage
    needs (issue 13: the per-criterion work in C — a dict's ``get`` mapped over the criteria, weight × units
    mapped over them all at once, ``sum`` of each cell's slice; a cell with an na criterion is scored by
    :func:`_score_plan`)."""
    order, weights, layout = _layout(model)
    values = list(map(ratings.get, order, itertools.repeat(_NOT_RATED)))
    try:   # every value seen before (no None to look for afterwards)
        units: List[Optional[int]] = list(map(_units_known, values))
    except KeyError:   # a rating value not seen before
        units = list(map(_UNITS.get, values))
        for index, unit in enumerate(units):
            if unit is None:
                units[index] = units_of(values[index])
    mul = operator.mul
    new = tuple.__new__
    out = ScoredCells()
    any_na = _NA_UNITS in units                # each looked for once in the whole company, in C,
    any_not_rated = _NOT_RATED in values       # and cell by cell only when there is one
    out.applicable = applicable_all = len(order) - (units.count(_NA_UNITS) if any_na else 0)
    out.rated = applicable_all - (values.count(_NOT_RATED) if any_not_rated else 0)
    whole = len(order) == len(model.criteria)   # every criterion of the model sits in a cell
    out.all_rated = whole and not any_not_rated
    out.none_na = whole and not any_na
    weighted = list(map(mul, weights, units))   # weight × rating units of every criterion, in one pass in C
    for cell, dimension, level, plan, start, stop, total_w, keys, key_min in layout:
        if any_na and _NA_UNITS in units[start:stop]:
            out[cell] = _score_plan(dimension, level, plan, key_min, ratings)
            continue
        keys_below = 0
        for index in keys:
            if units[index] < key_min:
                keys_below += 1
        applicable = stop - start
        # CellScore(...), without the named tuple's Python-level __new__
        out[cell] = new(CellScore, (dimension, level, applicable,
                                    sum(weighted[start:stop]) // total_w if total_w else None, keys_below,
                                    applicable - values[start:stop].count(_NOT_RATED) if any_not_rated
                                    else applicable, plan, ratings))
    return out


def applicable_criteria(plan: tuple, ratings) -> Iterator[Tuple[int, str, int, bool, float, int, bool]]:
    """(position in the plan, criterion id, weight units, key?, rating, its units, rated?) of each criterion of a
    cell's ``plan`` that applies, in model order: one rated na is left out, one not rated counts 0 (rating 0.0,
    not rated)."""
    for order, (_, ident, weight, key) in enumerate(plan):
        if ident in ratings:
            rating = ratings[ident]
            if rating is None:   # na: left out
                continue
            yield order, ident, weight, key, rating, units_of(rating), True
        else:
            yield order, ident, weight, key, 0.0, 0, False


def _score_plan(dimension: str, level: int, plan: tuple, key_min: int, ratings) -> CellScore:
    """S(d, k), the keys under the key minimum and the counts coverage needs, for one cell's criteria."""
    total_w = total_wr = keys_below = applicable = rated_count = 0
    for _, _, weight, key, _, units, rated in applicable_criteria(plan, ratings):
        rated_count += rated
        applicable += 1
        total_w += weight
        total_wr += weight * units
        if key and units < key_min:
            keys_below += 1
    return CellScore(dimension, level, applicable, (total_wr // total_w) if total_w else None, keys_below,
                     rated_count, plan, ratings)


def minimal_fix_for_cell(model, cell: CellScore) -> List[str]:
    """The fewest criteria of an unmet cell whose raising to full meets it.

    Key criteria below the key minimum come first (they must be raised in any
    case), then the largest weight·(1 − rating) first; ties keep model order.
    Greedy by gain is optimal here: every item raised adds its gain and the
    cell is met once the weighted sum reaches threshold·Σweight.
    """
    return shortfall(model, cell)[1]


def shortfall(model, cell: CellScore) -> Tuple[List[tuple], List[str]]:
    """What holds a cell back, in one pass over its criteria (issue 13: a result line asks for both, of every
    unmet cell up to the next level): (every applicable criterion below full as a row (criterion, stave, level,
    rating, key?, rated?), in model order — the blockers; the minimal fix, as :func:`minimal_fix_for_cell`)."""
    threshold = model.threshold_units
    key_min = model.key_minimum_units_for(cell.level)
    dimension, level = cell.dimension, cell.level
    rows: List[tuple] = []
    chosen: List[str] = []
    total_w = total_wr = 0
    candidates = []
    for order, ident, weight, key, rating, units, rated in applicable_criteria(cell.plan, cell.ratings):
        total_w += weight
        total_wr += weight * units
        if units < SCALE:
            rows.append((ident, dimension, level, rating, key, rated))
        if key and units < key_min:
            chosen.append(ident)
            total_wr += weight * (SCALE - units)
        elif units < SCALE:
            candidates.append((-(weight * (SCALE - units)), order, ident))
    candidates.sort()
    for negative_gain, _, criterion_id in candidates:
        if total_wr >= threshold * total_w:
            break
        chosen.append(criterion_id)
        total_wr -= negative_gain
    return rows, chosen

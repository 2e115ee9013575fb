"""How complete an assessment is, which staves apply how far up, and which critical criteria are weak.

All three are read off the ratings and the model, beside the grade (issue 11):

- *coverage*: of the criteria that apply (not rated ``na``, not made na by the
  company's profile), how many were rated.  Below the model's
  ``method.min_coverage`` the grade is *provisional*: an unrated criterion
  counts 0.0 (CONTRACT §2), so a half-filled questionnaire grades low for
  want of answers, not for want of quality.
- *applicable_to*: the highest level at which a stave has an applicable
  criterion.  Above it every cell of the stave is na; the barrel already
  treats such cells as met, and the reports say "not applicable above Lk"
  instead of showing the stave at the top level.
- *red flags*: criteria the model marks ``red_flag: true`` (safety, legality,
  data integrity) rated ``partial`` or below, or not rated.  They are listed
  whatever the next level needs.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

__all__ = ["DEFAULT_MIN_COVERAGE", "RED_FLAG_AT_OR_BELOW", "min_coverage", "coverage", "counted_coverage",
           "applicable_to", "model_applicable_to", "applicable_to_cells", "red_flags"]

DEFAULT_MIN_COVERAGE = 0.9      # SPEC default when the model's method does not declare min_coverage
RED_FLAG_AT_OR_BELOW = 0.5      # partial


def min_coverage(model) -> float:
    value = getattr(model, "min_coverage", None)
    return DEFAULT_MIN_COVERAGE if value is None else float(value)


def coverage(model, ratings: Mapping[str, Optional[float]]) -> dict:
    """``{"rated", "applicable", "share", "min_coverage", "provisional"}`` for one assessment's ratings."""
    applicable = [cid for cid in model.criteria if not (cid in ratings and ratings[cid] is None)]
    rated = sum(1 for cid in applicable if cid in ratings)
    return counted_coverage(model, rated, len(applicable))


def counted_coverage(model, rated: int, applicable: int) -> dict:
    """:func:`coverage` from the counts: ``rated`` of ``applicable`` criteria (e.g. summed over the
    scored cells, which hold every criterion once)."""
    share = round(rated / applicable, 4) if applicable else 1.0
    floor = min_coverage(model)
    return {"rated": rated, "applicable": applicable, "share": share, "min_coverage": floor,
            "provisional": share < floor}


def applicable_to(model, ratings: Mapping[str, Optional[float]]) -> Dict[str, int]:
    """Dimension id -> the highest level with an applicable criterion (1 when none applies)."""
    out = {d.id: 1 for d in model.dimensions}
    for criterion in model.criteria.values():
        if criterion.id in ratings and ratings[criterion.id] is None:
            continue
        out[criterion.dimension] = max(out[criterion.dimension], criterion.level)
    return out


def model_applicable_to(model) -> Dict[str, int]:
    """:func:`applicable_to` of a company rating nothing na, worked out once per model (issue 13)."""
    return model.derived("_applicable_to", _applicable_to_none_na, model.criteria)


def _applicable_to_none_na(model) -> Dict[str, int]:
    return applicable_to(model, {})


def applicable_to_cells(model, cells) -> Dict[str, int]:
    """:func:`applicable_to` read off scored cells (``applicable`` counts per (stave, level))."""
    out = {d.id: 1 for d in model.dimensions}
    for (dimension, level), cell in cells.items():
        if cell.applicable and level > out[dimension]:
            out[dimension] = level
    return out


def red_flags(model, ratings: Mapping[str, Optional[float]]) -> List[str]:
    """Red-flag criteria rated partial or below, or not rated (na is not a red flag), in model order."""
    out = []
    for ident in _red_flag_ids(model):
        if ident not in ratings:
            out.append(ident)
            continue
        rating = ratings[ident]
        if rating is not None and rating <= RED_FLAG_AT_OR_BELOW:
            out.append(ident)
    return out


def _red_flag_ids(model) -> tuple:
    """The red-flag criteria's ids in model order, worked out once per model (a batch asks per company)."""
    return model.derived("_red_flag_ids", _find_red_flag_ids, model.criteria)


def _find_red_flag_ids(model) -> tuple:
    return tuple(c.id for c in model.criteria.values() if getattr(c, "red_flag", False))

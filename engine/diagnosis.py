"""Why a company stands where it stands: the rules that hold its level, and what keeps it from level N.

:func:`explain` reads everything from a :class:`~engine.grading.Grade` — the
conclusions durable_rules drew and the firings that drew them — and never
decides a level itself.  Whether the minimal fix reaches level N is checked
by grading the changed assessment again.

The result is an :class:`Explanation` (a frozen value); :mod:`engine.render` turns it
into text, Markdown or HTML, and :meth:`Explanation.to_json` gives what ``qmgrade explain
--format json`` prints.

>>> from engine import load_model, read_assessment
>>> model = load_model()                                             # doctest: +SKIP
>>> result = explain(model, read_assessment("examples/level-3-assurance.yaml", model))  # doctest: +SKIP
>>> result.why_not["minimal_fix"][0]["criterion"]                    # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import InputError, Problem
from .export import dumps
from .grading import Grade, grade, level_object, model_object
from .scoring import SCALE, minimal_fix_for_cell, rating_units

__all__ = ["Explanation", "explain", "check_rank", "criterion_entry", "addressed_by"]


@dataclass(frozen=True)
class Explanation:
    """Why a company's level holds and why a target level does not: the result of :func:`explain`.

    ``model`` is the model graded against (its names are what the renderers print); every
    other field is a part of the JSON ``qmgrade explain --format json`` prints, in its order.

    Attributes
    ----------
    company, assessed_on
        The assessment's company (``id``, ``name`` …) and its date.
    level, barrel, dimensions
        The company's level object, the barrel ``{rank, shortest}`` and each stave's level.
    completeness
        ``coverage``, ``provisional`` and ``red_flags`` (see :meth:`engine.grading.Grade.completeness`).
    caps
        Every cap that fired, with ``holding``.
    target, reached
        The level explained (None above the top) and whether it is reached.
    holds
        The rule firings behind the attained level.
    why_not
        None when ``target`` is reached; else the staves below it, the failing cells, the caps,
        the minimal fix (with evidence guidance and actions) and what the fix reaches.
    """

    model: Any = field(repr=False, compare=False)
    company: Dict[str, Any]
    assessed_on: Optional[str]
    level: Dict[str, Any]
    barrel: Dict[str, Any]
    dimensions: List[Dict[str, Any]]
    completeness: Dict[str, Any]
    caps: List[Dict[str, Any]]
    target: Optional[Dict[str, Any]]
    reached: bool
    holds: Dict[str, Any]
    why_not: Optional[Dict[str, Any]]

    @property
    def coverage(self) -> Dict[str, Any]:
        return self.completeness.get("coverage") or {}

    @property
    def provisional(self) -> bool:
        return bool(self.completeness.get("provisional"))

    @property
    def red_flags(self) -> List[str]:
        return list(self.completeness.get("red_flags") or [])

    def as_dict(self) -> dict:
        """The explanation as plain data (what ``--format json`` prints)."""
        return {"company": self.company, "assessed_on": self.assessed_on,
                "model": model_object(self.model),
                "level": self.level, "barrel": self.barrel, "dimensions": self.dimensions,
                **self.completeness, "caps": self.caps, "target": self.target, "reached": self.reached,
                "holds": self.holds, "why_not": self.why_not}

    def to_json(self) -> str:
        """The text ``qmgrade explain --format json`` prints."""
        return dumps(self.as_dict())


def check_rank(model, rank: Optional[int], option: str) -> None:
    """Refuse a level outside the model's ranks 1..top.

    Raises
    ------
    InputError naming the option, e.g. ``--level:1:1: level 6 is out of range ...``.
    """
    if rank is not None and not 1 <= rank <= model.top_rank:
        names = ", ".join(f"{lv.rank} {lv.id}" for lv in model.levels)
        raise InputError(Problem(option, 1, 1, f"level {rank} is out of range: the model's levels are "
                                               f"1..{model.top_rank} ({names})"))


def addressed_by(model) -> Dict[str, List[str]]:
    """Criterion id -> ids of the actions that address it, in model order."""
    out: Dict[str, List[str]] = {cid: [] for cid in model.criteria}
    for action in model.actions.values():
        for cid in action.addresses:
            out[cid].append(action.id)
    return out


def criterion_entry(model, assessment, criterion_id: str, actions: Optional[Dict[str, List[str]]] = None) -> dict:
    """A criterion as the reports show it: its rating, weight, text, evidence guidance and actions."""
    criterion = model.criteria[criterion_id]
    rated = criterion_id in assessment.ratings
    rating = assessment.ratings.get(criterion_id, 0.0)
    entry = {"criterion": criterion_id, "dimension": criterion.dimension, "level": criterion.level,
             "rating": rating if rated else 0.0, "key": criterion.key, "weight": criterion.weight}
    if not rated:
        entry["not_rated"] = True
    if rating is not None:
        entry["gain"] = round(criterion.weight * (SCALE - rating_units(rating)) / SCALE, 6)
    entry["text"] = dict(criterion.text)
    entry["evidence"] = dict(criterion.evidence) if criterion.evidence else {"zh": "", "en": ""}
    if criterion_id in assessment.evidence:
        entry["evidence_given"] = list(assessment.evidence[criterion_id])
    if actions is not None:
        entry["actions"] = list(actions.get(criterion_id, []))
    return entry


def _cell_firing(graded: Grade, cell, kind: str):
    for firing in graded.firings:
        fact = firing.conclusion
        if fact["fact"] == kind and fact.get("dimension") == cell[0] and fact.get("level") == cell[1]:
            return firing
    return None


def _holds(graded: Grade) -> dict:
    """The firings behind the attained level: company level, barrel, caps, staves, cells met."""
    wanted = []
    for firing in graded.firings:
        fact = firing.conclusion
        kind = fact["fact"]
        if kind in ("company_level", "barrel", "cap", "dimension_level"):
            wanted.append(firing.as_dict())
        elif kind == "met" and fact["level"] <= graded.level:
            wanted.append(firing.as_dict())
    met_rules: Dict[str, int] = {}
    for entry in wanted:
        if entry["conclusion"]["fact"] == "met":
            met_rules[entry["rule"]] = met_rules.get(entry["rule"], 0) + 1
    return {"rules": wanted, "cells_met": sum(met_rules.values()),
            "cells_met_by_rule": dict(sorted(met_rules.items()))}


def explain(model, assessment, level: Optional[int] = None, graded: Optional[Grade] = None) -> Explanation:
    """Why the attained level holds and why level ``level`` (default: the next) does not.

    Parameters
    ----------
    model, assessment
        As for :func:`engine.grade`.
    level : int, optional
        The level to explain, 1..top.  At or below the attained level the
        result says it is reached (``why_not`` is None).
    graded : Grade, optional
        A grade already computed for this assessment.

    Returns
    -------
    Explanation with ``level``, ``barrel``, ``target``, ``reached``, ``holds`` and
    ``why_not`` (failing cells with score vs threshold, key criteria below the
    minimum, caps, the staves below the target, the minimal fix with each
    criterion's evidence guidance, and what the fix reaches when graded).

    Raises
    ------
    InputError when ``level`` is outside 1..top.
    """
    check_rank(model, level, "--level")
    graded = graded or grade(model, assessment)
    current = graded.level
    rank = level if level is not None else (current + 1 if current < model.top_rank else None)
    why_not = _why_not(model, assessment, graded, rank) if rank is not None and rank > current else None
    return Explanation(
        model=model, company=dict(assessment.company), assessed_on=assessment.assessed_on,
        level=level_object(model, current), barrel={"rank": graded.barrel, "shortest": graded.shortest},
        dimensions=[{"id": d.id, "level": graded.dimension_level[d.id], "applicable_to": graded.applicable_to[d.id]}
                    for d in model.dimensions],
        completeness=graded.completeness(), caps=graded.dated_caps(),
        target=level_object(model, rank) if rank is not None else None, reached=rank is None or rank <= current,
        holds=_holds(graded), why_not=why_not)


def _why_not(model, assessment, graded: Grade, rank: int) -> dict:
    actions = addressed_by(model)
    failing = []
    for cell in graded.unmet_cells(rank):
        score = graded.cells[cell]
        firing = _cell_firing(graded, cell, "unmet")
        keys = []
        below_full = []
        for criterion, rating, rated in score.entries:
            if rated and rating is None:
                continue
            units = rating_units(rating if rated else 0.0)
            if criterion.key and units < model.key_minimum_units_for(cell[1]):
                keys.append(criterion_entry(model, assessment, criterion.id))
            if units < SCALE:
                below_full.append(criterion.id)
        failing.append({
            "dimension": cell[0], "level": cell[1], "score": score.score, "threshold": model.threshold,
            "key_minimum": model.key_minimum_for(cell[1]), "applicable": score.applicable,
            "reason": (firing.conclusion.get("reason") if firing else None),
            "rule": firing.rule if firing else None,
            "firing": firing.as_dict() if firing else None,
            "keys_below": keys, "below_full": below_full,
            "minimal_fix": minimal_fix_for_cell(model, score),
        })
    fix = graded.minimal_fix(rank)
    facts = {f.rule: f.facts for f in graded.firings if f.conclusion["fact"] == "cap"}
    caps = [{**cap, "facts": facts.get(cap["rule"], [])} for cap in graded.dated_caps() if cap["level"] < rank]
    after = grade(model, assessment.with_ratings({cid: 1.0 for cid in fix}), detail=False)
    staves_below = sorted(
        ({"dimension": d.id, "level": graded.dimension_level[d.id], "shortest": d.id in graded.shortest}
         for d in model.dimensions if graded.dimension_level[d.id] < rank),
        key=lambda entry: (entry["level"], model.dimension_ids.index(entry["dimension"])))
    return {
        **level_object(model, rank),
        "shortest": graded.shortest,
        "staves_below": staves_below,
        "failing": failing,
        "caps": caps,
        "minimal_fix": [criterion_entry(model, assessment, cid, actions) for cid in fix],
        "after_fix": {"level": after.level, "reaches": after.level >= rank},
    }

"""What if some ratings changed: the grade before and after, and what moved.

``before`` and ``after`` are two ordinary grades (the second of the
assessment with the changed ratings), so each equals what ``qmgrade assess``
gives for the corresponding file.  The result is a :class:`WhatIf` (a frozen
value); :mod:`engine.render.text` prints it for people.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .assessment import CANONICAL, parse_rating
from .assessment import na_allowed
from .errors import InputError, Problem, suggestion
from .export import dumps
from .grading import Grade, grade

__all__ = ["WhatIf", "parse_settings", "whatif"]


@dataclass(frozen=True)
class WhatIf:
    """The grade before and after some ratings change: the result of :func:`whatif`.

    Attributes
    ----------
    before, after : Grade
        The two grades, each what ``qmgrade assess`` gives for its assessment.
    changed : list of dict
        ``{criterion, from, to, from_label, to_label}`` for each rating that really changed, in model order.
    diff : dict
        What moved: ``level`` and ``barrel`` ``{from, to}``, the ``staves`` that changed, and the next
        level's ``blockers`` (counts, ``resolved``, ``new``).
    trace : bool
        Whether :meth:`as_dict` includes each grade's rule-firing trace.
    """

    before: Grade = field(repr=False)
    after: Grade = field(repr=False)
    changed: List[Dict[str, Any]]
    diff: Dict[str, Any]
    trace: bool = True

    @property
    def model(self):
        """The model both grades are against (its names are what the renderers print)."""
        return self.before.model

    def as_dict(self) -> dict:
        """The before and after grades, the changes and the diff as plain data (what ``--format json`` prints)."""
        return {"before": self.before.as_dict(trace=self.trace), "after": self.after.as_dict(trace=self.trace),
                "changed": self.changed, "diff": self.diff}

    def to_json(self) -> str:
        """The text ``qmgrade whatif --format json`` prints."""
        return dumps(self.as_dict())


def parse_settings(model, settings: Sequence[str]) -> Dict[str, Optional[float]]:
    """``["qms-3-internal-audit=full", ...]`` -> ``{criterion id: rating}`` in the order given.

    Raises
    ------
    InputError listing every bad setting as ``--set:N:1: message`` (N = the N-th --set).
    """
    problems: List[Problem] = []
    changes: Dict[str, Optional[float]] = {}
    for position, setting in enumerate(settings, start=1):
        criterion_id, sep, value = setting.partition("=")
        criterion_id = criterion_id.strip()
        if not sep or not criterion_id:
            problems.append(Problem("--set", position, 1, f"{setting!r} is not ID=RATING "
                                                          f"(e.g. qms-3-internal-audit=full)"))
            continue
        if criterion_id not in model.criteria:
            suffix = suggestion(criterion_id, model.criteria)
            problems.append(Problem("--set", position, 1, f"unknown criterion {criterion_id!r}{suffix}",
                                    "unknown-id"))
            continue
        if criterion_id in changes:
            problems.append(Problem("--set", position, 1, f"criterion {criterion_id!r} is set twice"))
            continue
        try:
            changes[criterion_id] = parse_rating(value)
        except ValueError as exc:
            problems.append(Problem("--set", position, 1, f"{criterion_id}: {exc}", "bad-rating"))
            continue
        if changes[criterion_id] is None and not na_allowed(model)(criterion_id):
            problems.append(Problem("--set", position, 1, f"criterion {criterion_id!r} does not allow na: rate it "
                                                          f"none, partial, largely or full", "na-not-allowed"))
    if not settings:
        problems.append(Problem("--set", 1, 1, "nothing to change: give at least one --set ID=RATING"))
    if problems:
        raise InputError(problems)
    return changes


def _label(ratings, criterion_id) -> Tuple[Optional[float], str]:
    if criterion_id not in ratings:
        return None, "not_rated"
    value = ratings[criterion_id]
    if value is None:
        return None, "na"
    return value, CANONICAL.get(value, f"{value:g}")


def whatif(model, assessment, settings: Sequence[str], trace: bool = True) -> WhatIf:
    """Grade ``assessment`` before and after the ``ID=RATING`` settings.

    Returns
    -------
    WhatIf: the ``before`` and ``after`` grades, ``changed`` (only real changes,
    in model order) and the ``diff``; ``trace`` says whether its JSON carries
    the rule-firing traces.

    Raises
    ------
    InputError for a malformed setting, an unknown criterion or a bad rating.
    """
    changes = parse_settings(model, settings)
    before = grade(model, assessment)
    changed_assessment = assessment.with_ratings(changes)
    after = grade(model, changed_assessment)
    changed = []
    for criterion_id in model.criteria:
        if criterion_id not in changes:
            continue
        old, old_label = _label(assessment.ratings, criterion_id)
        new, new_label = _label(changed_assessment.ratings, criterion_id)
        if old_label == new_label and old == new:
            continue
        changed.append({"criterion": criterion_id, "from": old, "to": new,
                        "from_label": old_label, "to_label": new_label})
    diff = _diff(before.as_dict(trace=False), after.as_dict(trace=False))
    return WhatIf(before=before, after=after, changed=changed, diff=diff, trace=trace)


def _diff(before: dict, after: dict) -> dict:
    staves = []
    for old, new in zip(before["dimensions"], after["dimensions"]):
        if old["level"] != new["level"]:
            staves.append({"dimension": old["id"], "from": old["level"], "to": new["level"]})
    old_next, new_next = before["next_level"], after["next_level"]
    old_blockers = {b["criterion"] for b in (old_next or {}).get("blockers", [])}
    new_blockers = {b["criterion"] for b in (new_next or {}).get("blockers", [])}
    return {
        "level": {"from": before["level"]["rank"], "to": after["level"]["rank"]},
        "barrel": {"from": before["barrel"]["rank"], "to": after["barrel"]["rank"]},
        "staves": staves,
        "blockers": {
            "from_rank": old_next["rank"] if old_next else None,
            "to_rank": new_next["rank"] if new_next else None,
            "before": len(old_blockers), "after": len(new_blockers),
            "resolved": [b["criterion"] for b in (old_next or {}).get("blockers", [])
                         if b["criterion"] not in new_blockers],
            "new": [b["criterion"] for b in (new_next or {}).get("blockers", [])
                    if b["criterion"] not in old_blockers],
        },
    }

"""What if some ratings changed: the grade before and after, and what moved.

``before`` and ``after`` are two ordinary grades (the second of the
assessment with the changed ratings), so each equals what ``qmgrade assess``
gives for the corresponding file.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

from .assessment import CANONICAL, parse_rating
from .assessment import na_allowed
from .errors import InputError, Problem, suggestion
from .grading import grade
from .present import cap_sentence
from .present import coverage_text, criterion_title, level_name, rating_label, word

__all__ = ["parse_settings", "whatif", "render_whatif"]


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


def whatif(model, assessment, settings: Sequence[str], trace: bool = True) -> dict:
    """Grade ``assessment`` before and after the ``ID=RATING`` settings.

    Returns
    -------
    ``{"before": <assess object>, "after": <assess object>, "changed":
    [{"criterion", "from", "to", "from_label", "to_label"}], "diff": {...}}``;
    ``changed`` lists only real changes, in model order.

    Raises
    ------
    InputError for a malformed setting, an unknown criterion or a bad rating.
    """
    changes = parse_settings(model, settings)
    before = grade(model, assessment).as_dict(trace=trace)
    changed_assessment = assessment.with_ratings(changes)
    after = grade(model, changed_assessment).as_dict(trace=trace)
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
    return {"before": before, "after": after, "changed": changed, "diff": _diff(before, after)}


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


def render_whatif(result: dict, model, lang: str = "en") -> str:
    """Before and after as a short text diff: ratings, level, staves, blockers."""
    lines: List[str] = [f"{word('whatif_title', lang)}:"]
    lines.append(f"{word('changed', lang)}:")
    if not result["changed"]:
        lines.append(f"  {word('no_change', lang)}")
    for change in result["changed"]:
        old = rating_label(change["from"], lang, change["from_label"] == "not_rated")
        new = rating_label(change["to"], lang, change["to_label"] == "not_rated")
        lines.append(f"  {criterion_title(model, change['criterion'], lang)}: {old} → {new}")
    diff = result["diff"]
    old_level, new_level = diff["level"]["from"], diff["level"]["to"]
    mark = "" if old_level != new_level else f"  ({word('unchanged', lang)})"
    lines.append(f"{word('level', lang)}: {level_name(model, old_level, lang)} → "
                 f"{level_name(model, new_level, lang)}{mark}")
    if result["after"].get("provisional"):
        lines.append(f"  {word('provisional', lang)}: "
                     f"{coverage_text({**result['after']['coverage'], 'provisional': True}, lang)}")
    if diff["barrel"] != diff["level"]:   # a cap holds the company below its barrel, before or after
        lines.append(f"{word('barrel', lang)}: {diff['barrel']['from']} → {diff['barrel']['to']}")
    lines.append(f"{word('staves', lang)}:")
    if not diff["staves"]:
        lines.append(f"  {word('unchanged', lang)}")
    for stave in diff["staves"]:
        dim = model.dimensions_by_id[stave["dimension"]]
        lines.append(f"  {dim.name[lang]} ({stave['dimension']}): L{stave['from']} → L{stave['to']}")
    blockers = diff["blockers"]
    old_rank = f"L{blockers['from_rank']}" if blockers["from_rank"] else "—"
    new_rank = f"L{blockers['to_rank']}" if blockers["to_rank"] else "—"
    lines.append(f"{word('blockers_next', lang)}: {blockers['before']} ({old_rank}) → "
                 f"{blockers['after']} ({new_rank})")
    if blockers["resolved"]:
        lines.append(f"  {word('resolved', lang)}: "
                     + "; ".join(criterion_title(model, c, lang) for c in blockers["resolved"]))
    if blockers["new"]:
        lines.append(f"  {word('new', lang)}: " + "; ".join(criterion_title(model, c, lang) for c in blockers["new"]))
    after = result["after"]["next_level"]
    if after:
        fix = after["minimal_fix"]
        lines.append(f"{word('minimal_fix', lang)} ({level_name(model, after['rank'], lang)}, {len(fix)}):"
                     + ("" if fix else f" {word('none', lang)}"))
        lines.extend(f"  - {criterion_title(model, c, lang)}" for c in fix)
        for cap in after.get("caps") or []:
            lines.append(f"{word('caps', lang)}: {cap_sentence(cap, model, lang)}")
    return "\n".join(lines) + "\n"

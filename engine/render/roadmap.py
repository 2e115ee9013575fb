"""The roadmap (``qmgrade roadmap``) as text for people: red flags first, then milestone by milestone.

It takes only the :class:`~engine.roadmap.Roadmap` result (its ``model`` names the criteria,
actions and levels); every level, rating, company and user text is formatted by :mod:`engine.present`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from .. import present
from ..present import cap_sentence, criterion_title, effort_words, level_name, month_text, rating_label, text_of, word

if TYPE_CHECKING:
    from ..roadmap import Roadmap

__all__ = ["render_text"]


def _stop(lang: str) -> str:
    return "。" if lang == "zh" else "."


def _when(entry: dict, lang: str) -> str:
    if entry.get("earliest"):
        return present.for_terminal(entry["earliest"])
    return month_text(entry["months"], lang)


def _action_lines(model, entry: dict, n: int, lang: str) -> List[str]:
    mode = word(f"mode_{entry['mode']}", lang)
    lines = [f"  {n}. {mode}: {text_of(entry['name'], lang)} ({entry['id']})"]
    if entry["mode"] == "strengthen":
        gaps = "; ".join(f"{criterion_title(model, g['criterion'], lang)} "
                         f"{rating_label(g['rating'], lang, g.get('not_rated', False))}" for g in entry["gaps"])
        lines.append(f"     {word('close_gaps', lang)}: {gaps}")
    elif entry.get("clears"):
        lines.append(f"     {word('clears', lang)}: "
                     + "; ".join(criterion_title(model, c, lang) for c in entry["clears"]))
    else:
        lines.append(f"     {word('addresses', lang)}: "
                     + "; ".join(criterion_title(model, c, lang) for c in entry["addresses"]))
    lead = word("evidence_after", lang).format(n=entry["lead_time_months"])
    if lang != "zh" and entry["lead_time_months"] == 1:
        lead = lead.replace("1 months", "1 month")
    lines.append(f"     {word('effort', lang)} {entry['effort']} ({effort_words(entry['person_weeks'], lang)})"
                 f" · {lead}"
                 f" · {word('earliest', lang)} {_when(entry, lang)}")
    if entry["after"]:
        lines.append(f"     {word('after', lang)}: {', '.join(entry['after'])}")
    return lines


def _red_flag_lines(roadmap: "Roadmap", lang: str) -> List[str]:
    model = roadmap.model
    if not roadmap.red_flags:
        return []
    lines = ["", f"{word('red_flags', lang)} ({len(roadmap.red_flags)}):"]
    lines.extend(f"  ! {criterion_title(model, cid, lang)}" for cid in roadmap.red_flags)
    if roadmap.red_flag_actions:
        lines.append(f"  {word('red_flag_actions', lang)}:")
        for n, entry in enumerate(roadmap.red_flag_actions, start=1):
            lines.extend("  " + line for line in _action_lines(model, entry, n, lang))
            if entry.get("milestone"):
                lines.append(f"       ({word('also_in_milestone', lang)} "
                             f"{level_name(model, entry['milestone'], lang)})")
    return lines


def _milestone_lines(roadmap: "Roadmap", milestone: dict, phases: List[dict], lang: str) -> List[str]:
    model = roadmap.model
    weeks = milestone["person_weeks"]
    lines = ["", f"{word('milestone', lang)} {level_name(model, milestone['level'], lang)} — "
                 f"{word('earliest', lang)} {_when(milestone, lang)} — {len(milestone['actions'])} "
                 f"{word('actions_count', lang)}, {word('effort', lang)} {weeks[0]}–{weeks[1]} "
                 f"{word('person_weeks', lang)}"]
    if not milestone["actions"]:
        lines.append(f"  {word('milestone_empty' if milestone['reaches'] else 'milestone_capped', lang)}")
    n = 0
    for phase in phases:
        if len(phases) > 1:
            lines.append(f"  {word('phase', lang)} {phase['phase']}")
        for entry in phase["actions"]:
            n += 1
            lines.extend(_action_lines(model, entry, n, lang))
    checks = [c for phase in phases for c in phase["check"]]
    if checks:
        lines.append(f"  {word('check', lang)}:")
        for entry in checks:
            lines.append(f"    - {criterion_title(model, entry['criterion'], lang)}: {entry['evidence'][lang]}")
    verdict = word("milestone_reaches", lang) if milestone["reaches"] else word("milestone_short", lang)
    lines.append(f"  {verdict} {level_name(model, milestone['level_after'], lang)}{_stop(lang)}")
    lines.extend(f"  {cap_sentence(cap, model, lang)}" for cap in milestone.get("caps") or [])
    return lines


def _closing_lines(roadmap: "Roadmap", lang: str) -> List[str]:
    model = roadmap.model
    lines = [""]
    if roadmap.milestones and roadmap.order:
        lines.append(f"{word('level_dates', lang)}: " + "; ".join(
            f"{level_name(model, m['level'], lang)} {_when(m, lang)}" for m in roadmap.milestones if m["reaches"]))
        weeks = roadmap.total_person_weeks
        lines.append(f"{word('total', lang)}: {len(roadmap.order)} {word('actions_count', lang)}, "
                     f"{word('effort', lang)} {weeks[0]}–{weeks[1]} {word('person_weeks', lang)}{_stop(lang)}")
    if roadmap.reaches:
        if roadmap.order:
            lines.append(f"{word('plan_reaches', lang)} {level_name(model, roadmap.level_after, lang)}{_stop(lang)}")
    elif roadmap.order:
        lines.append(f"{word('plan_blocked', lang)} {level_name(model, roadmap.level_after, lang)}{_stop(lang)}")
        lines.append(word("cap_no_action", lang))
    lines.extend(f"  {cap_sentence(cap, model, lang)}" for cap in ([] if roadmap.reaches else roadmap.caps))
    return lines


def render_text(roadmap: "Roadmap", lang: str = "en") -> str:
    """The roadmap as text (deterministic, no colour): red flags first, then milestone by milestone."""
    model = roadmap.model
    title = present.for_terminal(present.company_title(roadmap.company))
    lines = [f"{word('roadmap_title', lang)}: {title}",
             f"{word('from', lang)}: {level_name(model, roadmap.from_rank, lang)} → "
             f"{word('to', lang)}: {level_name(model, roadmap.target, lang)}"]
    if roadmap.assessed_on:
        lines.append(word("dates_from", lang).format(day=present.for_terminal(roadmap.assessed_on)))
    lines.extend(_red_flag_lines(roadmap, lang))
    if roadmap.message:
        lines += ["", roadmap.message[lang]]
    if roadmap.needed:
        lines += ["", f"{word('needed', lang)} ({len(roadmap.needed)}):"]
        lines.extend(f"  - {criterion_title(model, cid, lang)}" for cid in roadmap.needed)
    phases_by_milestone: Dict[int, List[dict]] = {}
    for phase in roadmap.phases:
        phases_by_milestone.setdefault(phase["milestone"], []).append(phase)
    for milestone in roadmap.milestones:
        lines.extend(_milestone_lines(roadmap, milestone, phases_by_milestone.get(milestone["level"], []), lang))
    lines.extend(_closing_lines(roadmap, lang))
    return "\n".join(line.rstrip() for line in lines) + "\n"

"""Markdown reports of ``assess``, ``explain`` and ``roadmap`` (CommonMark with GFM tables).

Each renderer takes one result — a :class:`~engine.grading.Grade`, an
:class:`~engine.diagnosis.Explanation`, a :class:`~engine.roadmap.Roadmap` — and a
language.  Every string that comes from the assessment or
the model is escaped (:func:`engine.present.for_markdown`), so a company called
``*ACME* | <b>`` prints as written and cannot inject markup, links or HTML; ids are
set in code spans.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from .. import present
from ..present import (cap_sentence, coverage_text, criterion_title, effort_words, level_name, month_text, na_above,
                       rating_label, text_of, word)
from ..present import for_markdown as escape
from ..present import for_markdown_code as code
from .text import cap_relation, holds_sentences

if TYPE_CHECKING:
    from ..diagnosis import Explanation
    from ..grading import Grade
    from ..roadmap import Roadmap

__all__ = ["render_assess", "render_explain", "render_roadmap"]


def _title(result: dict, key: str, lang: str) -> List[str]:
    company = result.get("company") or {}
    name = company.get("name") or company.get("id") or "-"
    lines = [f"# {word(key, lang)}", "",
             f"**{word('company', lang)}:** {escape(name)}"
             + (f" ({code(company['id'])})" if company.get("name") and company.get("id") else "")]
    if result.get("assessed_on"):
        lines.append(f"**{word('assessed_on', lang)}:** {escape(result['assessed_on'])}")
    model = result.get("model")
    if model:
        lines.append(f"**{word('model', lang)}:** {code(model['id'])} {escape(model['version'])}")
    profile = result.get("profile")
    if profile:
        lines.append(f"**{word('profile', lang)}:** {escape(text_of(profile['name'], lang))} "
                     f"({code(profile['id'])})")
    lines = lines[:2] + [line + "  " for line in lines[2:-1]] + lines[-1:]  # hard line breaks
    lines.append("")
    return lines


def _dim(model, dimension: str, lang: str) -> str:
    return f"{escape(text_of(model.dimensions_by_id[dimension].name, lang))} ({code(dimension)})"


def _score(score, threshold=None) -> str:
    return present.score(score, threshold)   # the one score rule (issue 10)


def render_assess(graded: "Grade", lang: str = "en") -> str:
    """The ``assess`` result as Markdown: level, barrel, the table of staves, blockers, minimal fix."""
    model = graded.model
    result = graded.as_dict(trace=False)
    lines = _title(result, "report_assess", lang)
    lines.extend(_red_flags_markdown(model, result.get("red_flags") or [], lang))
    lines.extend(_level_line(result, model, lang))
    barrel = result["barrel"]
    lines.append(f"**{word('barrel', lang)}:** {barrel['rank']} — {word('shortest', lang)}: "
                 + ", ".join(_dim(model, d, lang) for d in barrel["shortest"]))
    lines.append("")
    top = model.top_rank
    header = [word("dimension", lang), word("level", lang)] + [f"L{k}" for k in model.criteria_ranks]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" + "--:|" * (len(header) - 1))
    for row in result["dimensions"]:
        cells = []
        for k in model.criteria_ranks:
            met = row.get("met", {}).get(str(k))
            cells.append(f"{_score(row['scores'][str(k)], model.threshold)} {'✓' if met else '✗'}")
        short = " \\*" if row["id"] in barrel["shortest"] else ""
        stave = str(row["level"])
        if row.get("applicable_to") is not None and row["applicable_to"] < top:
            stave += f" ({escape(na_above(row['applicable_to'], lang))})"
            cells = [c if k <= row["applicable_to"] else escape(word("na", lang)) for k, c in zip(model.criteria_ranks, cells)]
        lines.append(f"| {_dim(model, row['id'], lang)}{short} | {stave} | " + " | ".join(cells) + " |")
    lines.append("")
    nxt = result.get("next_level")
    if nxt is None:
        lines.append(f"## {word('next', lang)}")
        lines.append("")
        lines.append(escape(word("top", lang)))
    else:
        lines.append(f"## {word('next', lang)}: {escape(level_name(model, nxt['rank'], lang))}")
        lines.append("")
        if nxt.get("caps"):
            lines.append(f"**{word('caps', lang)}:**")
            lines.append("")
            lines.extend(f"- {escape(cap_sentence(c, model, lang))}" for c in nxt["caps"])
            lines.append("")
            lines.append(escape(cap_relation(result["level"]["rank"], barrel["rank"], lang)))
            lines.append("")
        lines.append(f"### {word('blockers', lang)} ({len(nxt['blockers'])})")
        lines.append("")
        if not nxt["blockers"]:
            lines.append(escape(word("nothing_blocks", lang)))
        fix = set(nxt["minimal_fix"])
        for blocker in nxt["blockers"]:
            criterion = model.criteria[blocker["criterion"]]
            key = f" **[{word('key', lang)}]**" if criterion.key else ""
            star = " ★" if blocker["criterion"] in fix else ""
            rating = rating_label(blocker["rating"], lang, blocker.get("not_rated", False))
            lines.append(f"- {code(criterion.id)}{key} L{blocker['level']} ({escape(rating)}){star}: "
                         f"{escape(text_of(criterion.text, lang))}")
        lines.append("")
        lines.append(f"### {word('minimal_fix', lang)} ({len(nxt['minimal_fix'])})")
        lines.append("")
        lines.extend(f"- {_crit(model, c, lang)}" for c in nxt["minimal_fix"])
        if not nxt["minimal_fix"]:
            lines.append(escape(word("none", lang)))
    not_rated = result.get("not_rated") or []
    lines.append("")
    lines.append(f"**{word('not_rated', lang)} ({len(not_rated)}):** "
                 + (", ".join(code(c) for c in not_rated) if not_rated else escape(word("none", lang))))
    return "\n".join(lines) + "\n"


def render_explain(explanation: "Explanation", lang: str = "en") -> str:
    """The ``explain`` result as Markdown."""
    model = explanation.model
    result = explanation.as_dict()
    lines = _title(result, "report_explain", lang)
    lines.extend(_red_flags_markdown(model, result.get("red_flags") or [], lang))
    lines.extend(_level_line(result, model, lang))
    current = result["level"]["rank"]
    lines.append(f"## {word('why_holds', lang)}: {escape(level_name(model, current, lang))}")
    lines.append("")
    lines.extend(("  - " if sentence.startswith("  ") else "- ") + escape(sentence.strip())
                 for sentence in holds_sentences(explanation, lang))
    lines.append("")
    target, why = result["target"], result["why_not"]
    if target is None:
        lines.append(escape(word("top_reached", lang)))
        return "\n".join(lines) + "\n"
    if why is None:
        lines.append(f"{escape(level_name(model, target['rank'], lang))}: {escape(word('reached_already', lang))}.")
        return "\n".join(lines) + "\n"
    lines.append(f"## {word('why_not', lang)} {escape(level_name(model, target['rank'], lang))}")
    lines.append("")
    if why["staves_below"]:
        lines.append(f"**{word('staves_below', lang)}:** " + ", ".join(
            f"{_dim(model, s['dimension'], lang)} L{s['level']}" for s in why["staves_below"]))
        lines.append("")
    if why["caps"]:
        lines.append(f"**{escape(word('caps_block', lang))}:**")
        lines.append("")
        lines.extend(f"- {escape(cap_sentence(c, model, lang))}" for c in why["caps"])
        lines.append("")
    if why["failing"]:
        lines.append(f"### {word('failing_cells', lang)}")
        lines.append("")
        lines.append(f"| {word('dimension', lang)} | L | {word('score', lang)} | {word('threshold', lang)} | "
                     f"{escape(word('keys_below_min', lang))} | {word('minimal_fix', lang)} |")
        lines.append("|---|--:|--:|--:|---|---|")
        for cell in why["failing"]:
            keys = "; ".join(f"{_crit(model, k['criterion'], lang)} "
                             f"({escape(rating_label(k['rating'], lang, k.get('not_rated', False)))})"
                             for k in cell["keys_below"]) or "—"
            fix = "; ".join(_crit(model, c, lang) for c in cell["minimal_fix"])
            lines.append(f"| {_dim(model, cell['dimension'], lang)} | {cell['level']} | {_score(cell['score'], cell['threshold'])} | "
                         f"{present.number(cell['threshold'])} | {keys} | {fix} |")
        lines.append("")
    lines.append(f"### {word('minimal_fix', lang)} ({len(why['minimal_fix'])})")
    lines.append("")
    for entry in why["minimal_fix"]:
        key = f" **[{word('key', lang)}]**" if entry["key"] else ""
        rating = rating_label(entry["rating"], lang, entry.get("not_rated", False))
        lines.append(f"- {_crit(model, entry['criterion'], lang)}{key} ({escape(rating)} → "
                     f"{escape(rating_label(1.0, lang))}): {escape(text_of(entry['text'], lang))}")
        lines.append(f"  - *{word('evidence', lang)}:* {escape(text_of(entry['evidence'], lang))}")
        if entry.get("actions"):
            lines.append(f"  - *{word('addressed_by', lang)}:* " + "; ".join(
                (f"{escape(text_of(model.actions[a].name, lang))} ({code(a)})" if a in model.actions else code(a))
                for a in entry["actions"]))
    after = why["after_fix"]
    verdict = word("reaches", lang) if after["reaches"] else word("does_not_reach", lang)
    lines.append("")
    lines.append(f"**{word('after_fix', lang)}:** {escape(level_name(model, after['level'], lang))} — "
                 f"{escape(verdict)} {escape(level_name(model, target['rank'], lang))}")
    return "\n".join(lines) + "\n"


def render_roadmap(roadmap: "Roadmap", lang: str = "en") -> str:
    """The roadmap as Markdown: red flags, then one section per milestone (level) with its dated actions
    and PDCA check, the dates each level can first be claimed."""
    model = roadmap.model
    plan = roadmap.as_dict()
    lines = _title(plan, "report_roadmap", lang)
    lines.append(f"**{word('from', lang)}:** {escape(level_name(model, plan['from'], lang))} → "
                 f"**{word('to', lang)}:** {escape(level_name(model, plan['target'], lang))}")
    lines.append("")
    if plan.get("assessed_on"):
        lines.append(escape(word("dates_from", lang).format(day=plan["assessed_on"])))
        lines.append("")
    lines.extend(_red_flags_markdown(model, plan.get("red_flags") or [], lang))
    if plan.get("red_flag_actions"):
        lines.append(f"**{escape(word('red_flag_actions', lang))}:**")
        lines.append("")
        lines.extend(_actions_table(model, plan["red_flag_actions"], lang))
        lines.append("")
    if plan.get("message"):
        lines.append(escape(text_of(plan["message"], lang)))
        lines.append("")
    phases: Dict[str, List[dict]] = {}
    for phase in plan["phases"]:
        phases.setdefault(phase["milestone"], []).append(phase)
    for milestone in plan["milestones"]:
        weeks = milestone["person_weeks"]
        when = milestone["earliest"] or month_text(milestone["months"], lang)
        lines.append(f"## {word('milestone', lang)} {escape(level_name(model, milestone['level'], lang))} — "
                     f"{escape(word('earliest', lang))} {escape(when)}")
        lines.append("")
        lines.append(f"{len(milestone['actions'])} {escape(word('actions_count', lang))}, "
                     f"{escape(effort_words(weeks, lang))}")
        lines.append("")
        entries = [a for phase in phases.get(milestone["level"], []) for a in phase["actions"]]
        if entries:
            lines.extend(_actions_table(model, entries, lang))
            lines.append("")
        else:
            lines.append(escape(word("milestone_empty" if milestone["reaches"] else "milestone_capped", lang)))
            lines.append("")
        checks = [c for phase in phases.get(milestone["level"], []) for c in phase["check"]]
        if checks:
            lines.append(f"**{escape(word('check', lang))}:**")
            lines.append("")
            for entry in checks:
                lines.append(f"- [ ] {_crit(model, entry['criterion'], lang)}: "
                             f"{escape(text_of(entry['evidence'], lang))}")
            lines.append("")
        verdict = word("milestone_reaches", lang) if milestone["reaches"] else word("milestone_short", lang)
        lines.append(f"*{escape(verdict)} {escape(level_name(model, milestone['level_after'], lang))}"
                     f"{word('full_stop', lang)}*")
        lines.append("")
    if plan["order"]:
        lines.append(f"**{escape(word('level_dates', lang))}:** " + "; ".join(
            f"{escape(level_name(model, m['level'], lang))} {escape(m['earliest'] or month_text(m['months'], lang))}"
            for m in plan["milestones"] if m["reaches"]))
        lines.append("")
        lines.append(f"**{word('total', lang)}:** {len(plan['order'])} {escape(word('actions_count', lang))}, "
                     f"{escape(effort_words(plan['total_person_weeks'], lang))}.")
        lines.append("")
    if not plan["reaches"]:
        if plan["order"]:
            lines.append(f"**{escape(word('plan_blocked', lang))} "
                         f"{escape(level_name(model, plan['level_after'], lang))}.** {escape(word('cap_no_action', lang))}")
            lines.append("")
        lines.extend(f"- {escape(cap_sentence(c, model, lang))}" for c in plan["caps"])
    elif plan["order"]:
        lines.append(f"{escape(word('plan_reaches', lang))} {escape(level_name(model, plan['level_after'], lang))}.")
    return "\n".join(lines) + "\n"


def _actions_table(model, entries, lang: str) -> List[str]:
    lines = [f"| # | {word('actions', lang)} | {escape(word('addresses', lang))} | {word('effort', lang)} | "
             f"{escape(word('earliest', lang))} | {word('after', lang)} |",
             "|--:|---|---|---|---|---|"]
    for n, action in enumerate(entries, start=1):
        mode = word(f"mode_{action['mode']}", lang)
        if action["mode"] == "strengthen":
            what = escape(word("close_gaps", lang)) + " " + "; ".join(
                f"{_crit(model, g['criterion'], lang)} "
                f"({escape(rating_label(g['rating'], lang, g.get('not_rated', False)))})" for g in action["gaps"])
        else:
            what = "; ".join(_crit(model, c, lang) for c in action["addresses"])
        when = action["earliest"] or month_text(action["months"], lang)
        lines.append(f"| {n} | **{escape(mode)}:** {escape(text_of(action['name'], lang))} ({code(action['id'], True)}) | "
                     f"{what} | {escape(effort_words(action['person_weeks'], lang))} | {escape(when)} | "
                     f"{', '.join(code(a, True) for a in action['after']) or '—'} |")
    return lines


def _crit(model, criterion_id: str, lang: str) -> str:
    """A criterion by its title, with its id beside it in a code span."""
    return f"{escape(criterion_title(model, criterion_id, lang, with_id=False))} ({code(criterion_id, True)})"


def _red_flags_markdown(model, flags, lang: str) -> List[str]:
    if not flags:
        return []
    lines = [f"> **{escape(word('red_flags', lang))}:**", ">"]
    lines.extend(f"> - ⚠ {_crit(model, cid, lang)}" for cid in flags)
    lines.append("")
    return lines


def _level_line(result: dict, model, lang: str) -> List[str]:
    """The level with "provisional" beside it when too few criteria are rated, and the coverage."""
    provisional = f" — {word('provisional', lang)}" if result.get("provisional") else ""
    lines = [f"## {word('level', lang)}: {escape(level_name(model, result['level']['rank'], lang) + provisional)}", ""]
    if result.get("coverage"):
        lines.append(f"**{escape(word('coverage', lang))}:** "
                     f"{escape(coverage_text({**result['coverage'], 'provisional': result.get('provisional')}, lang))}")
        lines.append("")
    return lines

"""Plain-text reports of ``assess``, ``explain`` and ``whatif``, in Chinese or English.

Each renderer takes one result — a :class:`~engine.grading.Grade`, an
:class:`~engine.diagnosis.Explanation`, a :class:`~engine.whatif.WhatIf` — and a language,
and returns the text (deterministic, no colour; never printed here).  Scores, levels,
ratings, company titles and words come from :mod:`engine.present`; user text (a company's
name, id, dates) is shown with control characters visible and rich markup printed as written.

The sentences the Markdown and HTML reports share with the text (why a level holds, what a
cap does, the red-flag block) are here too: :func:`holds_sentences`, :func:`cap_relation`,
:func:`red_flag_lines`.
"""
from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, List, Optional, cast

from .. import present
from ..present import (cap_sentence, coverage_text, criterion_title, level_label, level_name, na_above, rating_label,
                       text_of, word)

if TYPE_CHECKING:
    from rich.console import Console

    from ..diagnosis import Explanation
    from ..grading import Grade
    from ..whatif import WhatIf

__all__ = ["render_assess", "render_explain", "render_whatif", "holds_sentences", "cap_relation", "red_flag_lines",
           "fact_summary", "dimension_title", "console", "WIDTH"]

WIDTH = 140


def console(width: int = WIDTH) -> "Console":
    """A rich console writing to a string, ``width`` columns wide, no colour (the text reports' tables)."""
    from rich.console import Console  # rich is imported where used: it costs a seventh of a second at start-up

    return Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None,
                   legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)


def console_text(out: "Console") -> str:
    return cast(io.StringIO, out.file).getvalue()


def strip_lines(text: str) -> str:
    """Every line without trailing blanks, and a final new line."""
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _stop(lang: str) -> str:
    return word("full_stop", lang)


def dimension_title(model, dimension: str, lang: str) -> str:
    """A stave as the reports name it: ``Quality management system (qms)``."""
    return f"{text_of(model.dimensions_by_id[dimension].name, lang)} ({dimension})"


# -- shared sentences ---------------------------------------------------------------------------
def red_flag_lines(model, flags: List[str], lang: str) -> List[str]:
    """The red-flag block every report for people opens with (empty without red flags)."""
    if not flags:
        return []
    out = ["", f"{word('red_flags', lang)} ({len(flags)}):"]
    out.extend(f"  ! {criterion_title(model, cid, lang)}" for cid in flags)
    return out


def cap_relation(level: int, barrel: int, lang: str) -> str:
    """What a holding cap does, said right whether it equals the barrel or sits below it (issue 11)."""
    if level < barrel:
        return word("cap_below_barrel", lang).format(level=level, barrel=barrel)
    return word("cap_at_barrel", lang).format(level=level)


def _stave_words(model, entry: dict, lang: str) -> str:
    text = f"{dimension_title(model, entry['id'], lang)}: L{entry['level']}"
    applicable = entry.get("applicable_to")
    if applicable is not None and applicable < model.top_rank:
        text += f" ({na_above(applicable, lang)})"
    return text


def holds_sentences(explanation: "Explanation", lang: str) -> List[str]:
    """Why the attained level holds: the barrel and its shortest staves, holding caps, every stave."""
    model = explanation.model
    rank = explanation.level["rank"]
    barrel = explanation.barrel
    shortest = ", ".join(dimension_title(model, d, lang) for d in barrel["shortest"])
    out = [word("barrel_stands", lang).format(level=level_name(model, barrel["rank"], lang), shortest=shortest)]
    holding = [c for c in explanation.caps if c.get("holding")]
    out.extend(cap_sentence(cap, model, lang) + _stop(lang) for cap in holding)
    if holding:
        out.append(cap_relation(rank, barrel["rank"], lang))
    out.append(word("staves_heading", lang))
    out.extend(f"  {_stave_words(model, d, lang)}" for d in explanation.dimensions)
    return out


def fact_summary(fact: dict) -> str:
    """``cell(dimension=qms, level=3, score=0.62)``: a matched fact without its criteria list."""
    fields = ", ".join(f"{k}={_short(v)}" for k, v in fact.items() if k not in ("fact", "criteria"))
    return f"{fact.get('fact', '?')}({fields})"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _level_lines(result: dict, model, lang: str) -> List[str]:
    """The level (provisional when too few criteria are rated) and the coverage line."""
    provisional = f" — {word('provisional', lang)}" if result.get("provisional") else ""
    lines = [f"{word('level', lang)}: {level_label(result['level'], lang)}{provisional}"]
    if result.get("coverage"):
        lines.append(f"{word('coverage', lang)}: "
                     f"{coverage_text({**result['coverage'], 'provisional': result.get('provisional')}, lang)}")
    return lines


# -- assess -----------------------------------------------------------------------------------------
def render_assess(graded: "Grade", lang: str = "en") -> str:
    """The ``assess`` result as a report a quality manager reads."""
    model = graded.model
    result = graded.as_dict(trace=False)
    out: List[str] = [f"{word('company', lang)}: {present.for_terminal(present.company_title(result.get('company')))}"]
    if result.get("assessed_on"):
        out.append(f"{word('assessed_on', lang)}: {present.for_terminal(result['assessed_on'])}")
    out.append(f"{word('model', lang)}: {result['model']['id']} {result['model']['version']}")
    profile = result.get("profile")
    if profile:
        na = profile.get("not_applicable")
        out.append(f"{word('profile', lang)}: {text_of(profile['name'], lang)} ({profile['id']})"
                   + (f" — {word('profile_na', lang).format(n=len(na))}" if na else ""))
    out.extend(red_flag_lines(model, result.get("red_flags") or [], lang))
    out.append("")
    out.extend(_level_lines(result, model, lang))
    barrel = result.get("barrel")
    if barrel:
        names = ", ".join(dimension_title(model, d, lang) for d in barrel["shortest"])
        out.append(f"{word('barrel', lang)}: {barrel['rank']} — {word('shortest', lang)}: {names}")
    out.append("")
    out.append(_stave_table(result, model, lang))
    out.extend(_next_level_lines(result, model, lang))
    not_rated = result.get("not_rated") or []
    out.append("")
    out.append(f"{word('not_rated', lang)} ({len(not_rated)}): "
               f"{', '.join(not_rated) if not_rated else word('none', lang)}")
    # plain lines, not rich: long criterion texts must not wrap into the margin
    return strip_lines("\n".join(out))


def _stave_rows(result: dict, model, lang: str) -> tuple:
    """(header, rows) of the staves table: plain text, each cell as it reads."""
    barrel = result.get("barrel")
    header = [word("dimension", lang), word("pillar", lang), word("level", lang),
              *(f"L{k}" for k in model.criteria_ranks)]
    pillars = {p.id: p for p in model.pillars}
    rows = []
    for row in result["dimensions"]:
        marks = [f"{present.score(row['scores'][str(k)], model.threshold)} "
                 f"{'✓' if row.get('met', {}).get(str(k)) else '✗'}" for k in model.criteria_ranks]
        short = "*" if barrel and row["id"] in barrel["shortest"] else ""
        stave = str(row["level"])
        if row.get("applicable_to") is not None and row["applicable_to"] < model.top_rank:
            # issue 11: na above some level is not excellence: say how far the stave applies
            stave = f"{stave} ({na_above(row['applicable_to'], lang)})"
            marks = [m if k <= row["applicable_to"] else word("na", lang) for k, m in zip(model.criteria_ranks, marks)]
        rows.append([dimension_title(model, row["id"], lang) + short, text_of(pillars[row["pillar"]].name, lang),
                     stave, *marks])
    return header, rows


# Characters whose width rich and a terminal agree on (ASCII, CJK ideographs and punctuation, full-width forms,
# the table's own marks): a table of only these is laid out here, without importing rich (issue 13: rich costs
# a tenth of a second at every start); anything else goes through rich, as before.
_PLAIN_TABLE_CHARS = re.compile("[\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e✓✗·–—…‘’“”、]*\\Z")


def _stave_table(result: dict, model, lang: str) -> str:
    """The staves' levels and scores per level as a table (rich markup in any name printed as written)."""
    header, rows = _stave_rows(result, model, lang)
    cells = [header, *([present.for_terminal(cell) for cell in row] for row in rows)]
    if all(_PLAIN_TABLE_CHARS.match(cell) for row in cells for cell in row):
        plain = _plain_table(cells, right=set(range(2, len(header))))
        if plain is not None:
            return plain
    return _rich_table(header, rows)


def _plain_table(cells: List[List[str]], right: set) -> Optional[str]:
    """The table as rich draws it (box SIMPLE_HEAD, no edge, no edge padding: columns three spaces apart,
    a rule of ─ under the header), or None when it would not fit WIDTH columns (rich would shrink it)."""
    def width(text: str) -> int:
        return sum(present.char_width(char) for char in text)

    widths = [max(width(row[i]) for row in cells) for i in range(len(cells[0]))]
    total = sum(widths) + 3 * (len(widths) - 1)
    if total > WIDTH:
        return None

    def line(row: List[str]) -> str:
        padded = [(" " * (w - width(cell)) + cell) if i in right else (cell + " " * (w - width(cell)))
                  for i, (cell, w) in enumerate(zip(row, widths))]
        return "   ".join(padded)

    return "\n".join([line(cells[0]), "─" * total, *(line(row) for row in cells[1:])])


def _rich_table(header: List[str], rows: List[List[str]]) -> str:
    from rich import box
    from rich.table import Table

    out = console()
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(header[0], no_wrap=True)
    table.add_column(header[1], no_wrap=True)
    for title in header[2:]:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(present.for_rich(row[0]), present.for_rich(row[1]), *row[2:])
    out.print(table)
    return console_text(out).rstrip("\n")


def _next_level_lines(result: dict, model, lang: str) -> List[str]:
    nxt = result.get("next_level")
    barrel = result.get("barrel") or {}
    lines: List[str] = [""]
    if nxt is None:
        lines.append(f"{word('next', lang)}: {word('top', lang)}")
        return lines
    lines.append(f"{word('next', lang)}: {level_label(nxt, lang)}")
    if nxt.get("caps"):
        lines.append(f"  {word('caps', lang)}:")
        lines.extend(f"  - {cap_sentence(cap, model, lang)}" for cap in nxt["caps"])
        lines.append(f"  {cap_relation(result['level']['rank'], barrel.get('rank', 0), lang)}")
    blockers = nxt["blockers"]
    lines.append(f"  {word('blockers', lang)} ({len(blockers)}):")
    current = None
    rows = {row["id"]: row for row in result["dimensions"]}
    for blocker in blockers:
        cell = (blocker["dimension"], blocker["level"])
        if cell != current:
            current = cell
            score = rows[cell[0]]["scores"][str(cell[1])]
            lines.append(f"    {text_of(model.dimensions_by_id[cell[0]].name, lang)} L{cell[1]}: "
                         f"{word('score', lang)} {present.score(score, model.threshold)} / "
                         f"{word('threshold', lang)} {present.number(model.threshold)}")
        criterion = model.criteria[blocker["criterion"]]
        rating = rating_label(blocker["rating"], lang, blocker.get("not_rated", False))
        key = f" [{word('key', lang)}]" if criterion.key else ""
        lines.append(f"      - {criterion.id}{key} ({rating}): {text_of(criterion.text, lang)}")
    fix = nxt["minimal_fix"]
    lines.append(f"  {word('minimal_fix', lang)} ({len(fix)}):" + ("" if fix else f" {word('none', lang)}"))
    lines.extend(f"    - {criterion_title(model, cid, lang)}" for cid in fix)
    return lines


# -- explain ----------------------------------------------------------------------------------------
def render_explain(explanation: "Explanation", lang: str = "en", rules: bool = False) -> str:
    """The explanation as text for people, in domain sentences (deterministic, no colour).

    Criteria are named by title with the id beside, caps by their reason and
    the day they lift.  ``rules`` appends the rule firings in rule notation
    (``explain --rules``), for auditors.
    """
    model = explanation.model
    result = explanation.as_dict()
    rank = explanation.level["rank"]
    lines: List[str] = [f"{word('explain_title', lang)}: "
                        f"{present.for_terminal(present.company_title(explanation.company))}"]
    provisional = f" — {word('provisional', lang)}" if explanation.provisional else ""
    lines.append(f"{word('level', lang)}: {level_name(model, rank, lang)}{provisional}")
    if explanation.coverage:
        lines.append(f"{word('coverage', lang)}: "
                     f"{coverage_text({**explanation.coverage, 'provisional': explanation.provisional}, lang)}")
    lines.extend(red_flag_lines(model, explanation.red_flags, lang))
    lines.append("")
    lines.append(f"{word('why_holds', lang)} — {level_name(model, rank, lang)}:")
    lines.extend("  " + line for line in holds_sentences(explanation, lang))
    lines.append("")
    target, why = explanation.target, explanation.why_not
    if target is None:
        lines.append(word("top_reached", lang))
    elif why is None:
        lines.append(f"{level_name(model, target['rank'], lang)}: {word('reached_already', lang)}{_stop(lang)}")
    else:
        lines.extend(_why_not_lines(result, model, lang))
    if rules:
        lines.append("")
        lines.extend(_rule_lines(result, lang))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _why_not_lines(result: dict, model, lang: str) -> List[str]:
    target = result["target"]
    why = result["why_not"]
    lines = [f"{word('why_not', lang)} {level_name(model, target['rank'], lang)}:"]
    if why["staves_below"]:
        lines.append(f"  {word('staves_below', lang)}:")
        for stave in why["staves_below"]:
            mark = f" — {word('shortest_stave', lang)}" if stave["shortest"] else ""
            lines.append(f"    {dimension_title(model, stave['dimension'], lang)}: L{stave['level']}{mark}")
    if why["caps"]:
        lines.append(f"  {word('caps_block', lang)}:")
        lines.extend(f"    {cap_sentence(cap, model, lang)}" for cap in why["caps"])
    for cell in why["failing"]:
        lines.extend(_failing_cell_lines(cell, model, lang))
    fix = why["minimal_fix"]
    lines.append("")
    lines.append(f"{word('minimal_fix', lang)} ({len(fix)}):" + ("" if fix else f" {word('none', lang)}"))
    for entry in fix:
        key = f" [{word('key', lang)}]" if entry["key"] else ""
        lines.append(f"  - {criterion_title(model, entry['criterion'], lang)}{key}: "
                     f"{rating_label(entry['rating'], lang, entry.get('not_rated', False))} → "
                     f"{rating_label(1.0, lang)}")
        lines.append(f"      {text_of(entry['text'], lang)}")
        lines.append(f"      {word('evidence', lang)}: {text_of(entry['evidence'], lang)}")
        if entry.get("actions"):
            names = word("list_sep", lang).join(
                f"{text_of(model.actions[a].name, lang)} ({a})" if a in model.actions else a for a in entry["actions"])
            lines.append(f"      {word('addressed_by', lang)}: {names}")
    after = why["after_fix"]
    verdict = word("reaches", lang) if after["reaches"] else word("does_not_reach", lang)
    lines.append(f"{word('after_fix', lang)}: {level_name(model, after['level'], lang)} — {verdict} "
                 f"{level_name(model, target['rank'], lang)}")
    if why["caps"] and not after["reaches"]:
        lines.append(word("cap_no_action", lang))
    return lines


def _failing_cell_lines(cell: dict, model, lang: str) -> List[str]:
    score = present.score(cell["score"], cell["threshold"])   # the one score rule (issue 10)
    threshold = present.number(cell["threshold"])
    head = word("cell_fails", lang).format(dimension=dimension_title(model, cell["dimension"], lang),
                                           level=cell["level"], score=score, threshold=threshold)
    if cell["reason"] == "key" or cell["keys_below"]:
        head += word("cell_fails_key", lang)
    lines = [f"  {head}{_stop(lang)}"]
    for key in cell["keys_below"]:
        lines.append("    ! " + word("key_rated_below", lang).format(
            criterion=criterion_title(model, key["criterion"], lang),
            rating=rating_label(key["rating"], lang, key.get("not_rated", False)),
            minimum=present.number(cell["key_minimum"])))
    names = word("list_sep", lang).join(criterion_title(model, c, lang) for c in cell["minimal_fix"])
    lines.append(f"    {word('to_meet_it', lang)}: {names}")
    return lines


def _rule_lines(result: dict, lang: str) -> List[str]:
    """The firings behind the level and the failing cells, in rule notation (``explain --rules``)."""
    lines = [f"{word('rules_fired', lang)}:"]
    holds = result["holds"]
    for entry in holds["rules"]:
        kind = entry["conclusion"]["fact"]
        if kind == "met":
            continue
        if kind == "dimension_level" and entry["conclusion"]["dimension"] not in result["barrel"]["shortest"]:
            continue
        matched = "; ".join(fact_summary(f) for f in entry["facts"])
        lines.append(f"  #{entry['seq']} {entry['rule']}: {matched} ⇒ {fact_summary(entry['conclusion'])}")
    by_rule = ", ".join(f"{rule} ×{n}" for rule, n in holds["cells_met_by_rule"].items())
    lines.append(f"  {word('cells_met', lang).format(k=result['level']['rank'])}: {holds['cells_met']}"
                 + (f" ({by_rule})" if by_rule else ""))
    why = result.get("why_not")
    for cell in (why or {}).get("failing", []):
        if cell.get("firing"):
            firing = cell["firing"]
            matched = "; ".join(fact_summary(f) for f in firing["facts"])
            lines.append(f"  #{firing['seq']} {firing['rule']}: {matched} ⇒ {fact_summary(firing['conclusion'])}")
    for cap in (why or {}).get("caps", []):
        matched = "; ".join(fact_summary(f) for f in cap.get("facts", []))
        lines.append(f"  {cap['rule']} → L{cap['level']}: {matched}")
    return lines


# -- whatif -----------------------------------------------------------------------------------------
def render_whatif(change: "WhatIf", lang: str = "en") -> str:
    """Before and after as a short text diff: ratings, level, staves, blockers."""
    model = change.model
    after = change.after.as_dict(trace=False)
    lines: List[str] = [f"{word('whatif_title', lang)}:",
                        f"{word('company', lang)}: "
                        f"{present.for_terminal(present.company_title(after.get('company')))}"]
    lines.append(f"{word('changed', lang)}:")
    if not change.changed:
        lines.append(f"  {word('no_change', lang)}")
    for entry in change.changed:
        old = rating_label(entry["from"], lang, entry["from_label"] == "not_rated")
        new = rating_label(entry["to"], lang, entry["to_label"] == "not_rated")
        lines.append(f"  {criterion_title(model, entry['criterion'], lang)}: {old} → {new}")
    diff = change.diff
    old_level, new_level = diff["level"]["from"], diff["level"]["to"]
    mark = "" if old_level != new_level else f"  ({word('unchanged', lang)})"
    lines.append(f"{word('level', lang)}: {level_name(model, old_level, lang)} → "
                 f"{level_name(model, new_level, lang)}{mark}")
    if after.get("provisional"):
        lines.append(f"  {word('provisional', lang)}: {coverage_text({**after['coverage'], 'provisional': True}, lang)}")
    if diff["barrel"] != diff["level"]:   # a cap holds the company below its barrel, before or after
        lines.append(f"{word('barrel', lang)}: {diff['barrel']['from']} → {diff['barrel']['to']}")
    lines.append(f"{word('staves', lang)}:")
    if not diff["staves"]:
        lines.append(f"  {word('unchanged', lang)}")
    for stave in diff["staves"]:
        lines.append(f"  {dimension_title(model, stave['dimension'], lang)}: L{stave['from']} → L{stave['to']}")
    lines.extend(_blocker_lines(diff["blockers"], model, lang))
    nxt = after["next_level"]
    if nxt:
        fix = nxt["minimal_fix"]
        lines.append(f"{word('minimal_fix', lang)} ({level_name(model, nxt['rank'], lang)}, {len(fix)}):"
                     + ("" if fix else f" {word('none', lang)}"))
        lines.extend(f"  - {criterion_title(model, c, lang)}" for c in fix)
        lines.extend(f"{word('caps', lang)}: {cap_sentence(cap, model, lang)}" for cap in nxt.get("caps") or [])
    return "\n".join(lines) + "\n"


def _blocker_lines(blockers: dict, model, lang: str) -> List[str]:
    old_rank = f"L{blockers['from_rank']}" if blockers["from_rank"] else "—"
    new_rank = f"L{blockers['to_rank']}" if blockers["to_rank"] else "—"
    lines = [f"{word('blockers_next', lang)}: {blockers['before']} ({old_rank}) → {blockers['after']} ({new_rank})"]
    if blockers["resolved"]:
        lines.append(f"  {word('resolved', lang)}: "
                     + "; ".join(criterion_title(model, c, lang) for c in blockers["resolved"]))
    if blockers["new"]:
        lines.append(f"  {word('new', lang)}: " + "; ".join(criterion_title(model, c, lang) for c in blockers["new"]))
    return lines

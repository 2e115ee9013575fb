"""The trend between rounds (``qmgrade history COMPANY``) as text: the rounds, then one line per change.

It takes only the :class:`~engine.trend.Trend` result; levels, ratings, the company and every text
read from the history (dates, model ids) are formatted by :mod:`engine.present`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from .. import present
from ..present import criterion_title, level_name, rating_label, word

if TYPE_CHECKING:
    from ..trend import Trend

__all__ = ["render_text"]


def _w(key: str, lang: str, **values) -> str:
    return word(f"trend.{key}", lang, **values)


def _date(value, lang: str) -> str:
    return present.for_terminal(value) if value else _w("undated", lang)


def _round_line(result: "Trend", index: int, entry: dict, lang: str) -> str:
    model = result.model
    rank = entry["level"]["rank"]
    level = level_name(model, rank, lang) if isinstance(rank, int) and 1 <= rank <= model.top_rank \
        else present.for_terminal(rank)
    stored = entry["model"]
    return (f"  {_w('round', lang)} {index}  {_date(entry['assessed_on'], lang)}  {_w('Level', lang)} {level}"
            f"  {_w('Barrel', lang)} {present.for_terminal(entry['barrel']['rank'])}  "
            f"({_w('model', lang)} {present.for_terminal(stored['id'])} {present.for_terminal(stored['version'])})"
            + ("" if entry.get("regraded", True) else f" {_w('stored', lang)}"))


def _change_items(result: "Trend", change: dict, lang: str) -> List[str]:
    model = result.model
    dims = {d.id: d for d in model.dimensions}
    items = []
    if "models" in change:
        items.append(_w("versions", lang, a=present.for_terminal(change["models"]["from"]),
                        b=present.for_terminal(change["models"]["to"]), n=change["shared_criteria"]))
    if change["level"]["from"] != change["level"]["to"]:
        items.append(f"{_w('level', lang)} {change['level']['from']} → {change['level']['to']}")
    if change["barrel"]["from"] != change["barrel"]["to"]:
        items.append(f"{_w('barrel', lang)} {change['barrel']['from']} → {change['barrel']['to']}")
    for stave in change["staves"]:
        dim = dims.get(stave["dimension"])
        label = f"{dim.name.get(lang)} ({stave['dimension']})" if dim else present.for_terminal(stave["dimension"])
        items.append(f"{_w('stave', lang)} {label}: {stave['from']} → {stave['to']}")
    for criterion in change["blockers_cleared"]:
        items.append(f"{_w('cleared', lang)}: {criterion_title(model, criterion, lang)}")
    for criterion in change["still_blocking"]:
        items.append(f"{_w('still', lang)}: {criterion_title(model, criterion, lang)}")
    for entry in change["worse"]:
        items.append(f"{_w('worse', lang)}: {criterion_title(model, entry['criterion'], lang)} "
                     f"{rating_label(entry['from'], lang)} → "
                     f"{rating_label(entry['to'], lang, entry.get('not_rated', False))}")
    for aid in change["actions_done"]:
        action = model.actions.get(aid)
        items.append(f"{_w('done', lang)}: {action.name.get(lang) if action else aid} ({aid})")
    return items or [_w("no_change", lang)]


def render_text(result: "Trend", lang: str = "en") -> str:
    """The trend as text for people: the rounds, then one line per change."""
    title = present.for_terminal(present.company_title(result.company, fallback=""))
    lines = [f"{_w('history', lang)}: {title}", ""]
    for index, entry in enumerate(result.rounds, 1):
        lines.append(_round_line(result, index, entry, lang))
    if not result.changes:
        lines += ["", _w("one_round", lang)]
    for index, change in enumerate(result.changes, 2):
        a = _date(change["from"]["assessed_on"], lang)
        b = _date(change["to"]["assessed_on"], lang)
        lines += ["", f"{_w('round', lang)} {index - 1} → {index} ({a} → {b}):"]
        lines.extend(f"  {item}" for item in _change_items(result, change, lang))
    return "\n".join(line.rstrip() for line in lines) + "\n"

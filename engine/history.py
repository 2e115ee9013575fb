"""The assessment history: every graded assessment kept, tamper-evident, and the trend between rounds.

The storage is :mod:`engine.ledger` (SQLite, a hash chain of append-only rows
holding the company id, name and assessment date, the level and barrel, the
model's id, version and fingerprint, the input's sha256, the result and the
assessment itself).  This module reads it for people:

A *round* is one stored assessment of a company; rounds are ordered by
``assessed_on`` (undated ones first) and then by the order they were stored.
The same input graded under the same model is stored once (histories made
before the ledger may hold it twice: it is shown once).
"""
from __future__ import annotations

from typing import Sequence

from .ledger import History, row_of
from .report import pick

__all__ = ["History", "row_of", "trend", "render_trend"]


def _full(assessment: dict, criterion: str) -> bool:
    rating = assessment["ratings"].get(criterion)
    return rating is not None and rating >= 1.0


def trend(rounds: Sequence[dict], model) -> dict:
    """Level and stave changes between consecutive rounds, blockers cleared, actions that look done.

    A blocker of the earlier round is *cleared* when it is rated full in the
    later one; an action *looks done* when every criterion it addresses is
    rated full in the later round but was not in the earlier one.
    """
    out_rounds = []
    for entry in rounds:
        result = entry["result"]
        out_rounds.append({
            "seq": entry["seq"], "assessed_on": entry["assessed_on"], "input_sha256": entry["input_sha256"],
            "model": entry["model"], "level": result["level"], "barrel": result["barrel"],
            "dimensions": {d["id"]: d["level"] for d in result["dimensions"]},
            "blockers": [b["criterion"] for b in (result.get("next_level") or {}).get("blockers", [])],
        })
    changes = []
    for before, after, raw_before, raw_after in zip(out_rounds, out_rounds[1:], rounds, rounds[1:]):
        staves = []
        for dim, level in after["dimensions"].items():
            old = before["dimensions"].get(dim)
            if old != level:
                staves.append({"dimension": dim, "from": old, "to": level})
        for dim, old in before["dimensions"].items():
            if dim not in after["dimensions"]:
                staves.append({"dimension": dim, "from": old, "to": None})
        cleared = [c for c in before["blockers"] if _full(raw_after["assessment"], c)]
        remaining = [c for c in before["blockers"] if not _full(raw_after["assessment"], c)]
        done = []
        for action in model.actions.values():
            now = all(_full(raw_after["assessment"], c) for c in action.addresses)
            then = all(_full(raw_before["assessment"], c) for c in action.addresses)
            if now and not then:
                done.append(action.id)
        changes.append({
            "from": {"seq": before["seq"], "assessed_on": before["assessed_on"]},
            "to": {"seq": after["seq"], "assessed_on": after["assessed_on"]},
            "level": {"from": before["level"]["rank"], "to": after["level"]["rank"]},
            "barrel": {"from": before["barrel"]["rank"], "to": after["barrel"]["rank"]},
            "staves": staves,
            "blockers_cleared": cleared,
            "blockers_remaining": remaining,
            "actions_done": done,
        })
    latest = rounds[-1]
    company = dict(latest["result"].get("company") or {"id": latest["company_id"]})
    return {"company": company, "rounds": out_rounds, "changes": changes}


_WORDS = {
    "history": ("复核记录", "History"),
    "round": ("轮次", "Round"),
    "date": ("评估日期", "Assessed on"),
    "level": ("等级", "Level"),
    "barrel": ("木桶", "Barrel"),
    "undated": ("未注明日期", "undated"),
    "changes": ("变化", "Changes"),
    "staves": ("维度等级变化", "Stave changes"),
    "cleared": ("已消除的阻碍项", "Blockers cleared"),
    "remaining": ("仍待解决的阻碍项", "Blockers remaining"),
    "done": ("看来已完成的改进措施", "Roadmap actions that look done"),
    "none": ("无", "none"),
    "one_round": ("只有一轮评估，尚无变化可比。", "Only one round: no changes to compare yet."),
    "model": ("模型", "model"),
}


def _tr(word: str, lang: str) -> str:
    return pick(_WORDS[word], lang)


def render_trend(data: dict, model, lang: str = "en") -> str:
    """The trend as text for people."""
    def level_name(level):
        name = level["name"]
        return f"{level['rank']} {name['zh']}" if lang == "zh" else f"{level['rank']} {name['en']}"

    def names(ids, table, attr):
        if not ids:
            return _tr("none", lang)
        out = []
        for ident in ids:
            item = table.get(ident)
            text = getattr(item, attr).get(lang) if item is not None else None
            out.append(f"{ident} ({text})" if text else ident)
        return "; ".join(out)

    company = data["company"]
    title = f"{company.get('name')} ({company.get('id')})" if company.get("name") else str(company.get("id"))
    lines = [f"{_tr('history', lang)}: {title}", ""]
    for index, entry in enumerate(data["rounds"], 1):
        date = entry["assessed_on"] or _tr("undated", lang)
        lines.append(f"  {_tr('round', lang)} {index}  {date}  {_tr('level', lang)} {level_name(entry['level'])}"
                     f"  {_tr('barrel', lang)} {entry['barrel']['rank']}  "
                     f"({_tr('model', lang)} {entry['model']['id']} {entry['model']['version']})")
    if not data["changes"]:
        lines += ["", _tr("one_round", lang)]
    dims = {d.id: d for d in model.dimensions}
    for index, change in enumerate(data["changes"], 2):
        a = change["from"]["assessed_on"] or _tr("undated", lang)
        b = change["to"]["assessed_on"] or _tr("undated", lang)
        lines += ["", f"{_tr('round', lang)} {index - 1} → {index} ({a} → {b}): {_tr('level', lang)} "
                      f"{change['level']['from']} → {change['level']['to']}, {_tr('barrel', lang)} "
                      f"{change['barrel']['from']} → {change['barrel']['to']}"]
        staves = [f"{s['dimension']}"
                  + (f" ({dims[s['dimension']].name.get(lang)})" if s["dimension"] in dims else "")
                  + f" {s['from']} → {s['to']}" for s in change["staves"]]
        lines.append(f"  {_tr('staves', lang)}: {'; '.join(staves) if staves else _tr('none', lang)}")
        lines.append(f"  {_tr('cleared', lang)} ({len(change['blockers_cleared'])}): "
                     f"{names(change['blockers_cleared'], model.criteria, 'text')}")
        lines.append(f"  {_tr('remaining', lang)} ({len(change['blockers_remaining'])}): "
                     f"{', '.join(change['blockers_remaining']) or _tr('none', lang)}")
        lines.append(f"  {_tr('done', lang)} ({len(change['actions_done'])}): "
                     f"{names(change['actions_done'], model.actions, 'name')}")
    return "\n".join(line.rstrip() for line in lines) + "\n"

"""The assessment history: every graded assessment kept in SQLite, append-only, and the trend between rounds.

One table, ``assessments``: the company id, name and assessment date, the
level and barrel, the model's id, version and fingerprint (sha256 of every
model file), the input's sha256 (:attr:`Assessment.sha256`), the result (the
``assess`` object without trace) and the assessment itself (canonical JSON).
Triggers refuse UPDATE and DELETE, so a record, once written, stays as it was
(复核 needs the earlier rounds exactly as graded).

A *round* is one stored assessment of a company; rounds are ordered by
``assessed_on`` (undated ones first) and then by the order they were stored.
Storing the same input under the same model again adds no new round to the
trend (the repeated rows are kept, but shown once).
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import List, Optional, Sequence

from .errors import InputError, Problem, suggestion
from .report import pick

__all__ = ["History", "row_of", "trend", "render_trend"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS assessments (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    company_id     TEXT NOT NULL,
    company_name   TEXT,
    assessed_on    TEXT,
    level          INTEGER NOT NULL,
    barrel         INTEGER NOT NULL,
    model_id       TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    model_sha256   TEXT NOT NULL,
    input_sha256   TEXT NOT NULL,
    result         TEXT NOT NULL,
    assessment     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assessments_company ON assessments (company_id, assessed_on, seq);
CREATE TRIGGER IF NOT EXISTS assessments_no_update BEFORE UPDATE ON assessments
BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS assessments_no_delete BEFORE DELETE ON assessments
BEGIN SELECT RAISE(ABORT, 'the assessment history is append-only'); END;
"""
_COLUMNS = ("company_id", "company_name", "assessed_on", "level", "barrel", "model_id", "model_version",
            "model_sha256", "input_sha256", "result", "assessment")
_INSERT = f"INSERT INTO assessments ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
_COMMIT_EVERY = 5000


def row_of(model, assessment, result: dict, encoded: Optional[str] = None) -> tuple:
    """The history row of one graded assessment (``result`` = the assess object; any trace is dropped).

    ``encoded`` is the result already as JSON without trace, when the caller has it.
    """
    if encoded is None:
        encoded = json.dumps({k: v for k, v in result.items() if k != "trace"}, ensure_ascii=False)
    company = assessment.company
    return (None if company.get("id") is None else str(company.get("id")),
            None if company.get("name") is None else str(company.get("name")),
            assessment.assessed_on, result["level"]["rank"], result["barrel"]["rank"], model.id, model.version,
            model.sha256, assessment.sha256, encoded,
            json.dumps(assessment.canonical(), ensure_ascii=False, sort_keys=True))


class History:
    """An open history database (created on first use).

    Raises
    ------
    InputError when the file is not a qmgrade history database or cannot be opened.
    """

    def __init__(self, path: str, create: bool = True):
        self.path = str(path)
        if not create and not Path(self.path).is_file():
            raise InputError(Problem(self.path, 1, 1, "no such database (write one with --db on assess or batch)"))
        if Path(self.path).is_dir():
            raise InputError(Problem(self.path, 1, 1, "is a directory, not a database file"))
        try:
            self.connection = sqlite3.connect(self.path)
            self.connection.executescript(SCHEMA)
            columns = [row[1] for row in self.connection.execute("PRAGMA table_info(assessments)")]
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"not a qmgrade history database ({exc})")) from None
        if not set(_COLUMNS) <= set(columns):
            raise InputError(Problem(self.path, 1, 1, "not a qmgrade history database (its 'assessments' "
                                                      "table has other columns)"))
        self._pending = 0

    def add(self, row: Optional[tuple]) -> bool:
        """Append one row (from :func:`row_of` or a batch worker); None (a bad record) is skipped.

        A row without a company id is skipped too (there is no company to
        follow); returns whether the row was stored.
        """
        if row is None or row[0] in (None, ""):
            return False
        row = (str(row[0]), None if row[1] is None else str(row[1]), *row[2:])
        try:
            self.connection.execute(_INSERT, row)
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot write the history: {exc}")) from None
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self.commit()
        return True

    def commit(self) -> None:
        try:
            self.connection.commit()
        except sqlite3.DatabaseError as exc:
            raise InputError(Problem(self.path, 1, 1, f"cannot write the history: {exc}")) from None
        self._pending = 0

    def close(self) -> None:
        self.commit()
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        else:
            self.connection.rollback()
            self.connection.close()

    def rounds(self, company_id: str) -> List[dict]:
        """Every distinct round of a company, oldest first.

        Raises
        ------
        InputError when the database holds no assessment of that company.
        """
        cursor = self.connection.execute(
            "SELECT seq, company_id, company_name, assessed_on, model_id, model_version, model_sha256, "
            "input_sha256, result, assessment FROM assessments WHERE company_id = ? "
            "ORDER BY assessed_on IS NOT NULL, assessed_on, seq", (company_id,))
        rounds, seen = [], set()
        for seq, cid, name, assessed_on, mid, mversion, msha, isha, result, assessment in cursor:
            if (isha, msha) in seen:
                continue
            seen.add((isha, msha))
            rounds.append({"seq": seq, "company_id": cid, "company_name": name, "assessed_on": assessed_on,
                           "model": {"id": mid, "version": mversion, "sha256": msha}, "input_sha256": isha,
                           "result": json.loads(result), "assessment": json.loads(assessment)})
        if not rounds:
            known = [row[0] for row in self.connection.execute("SELECT DISTINCT company_id FROM assessments")]
            suffix = suggestion(company_id, known)
            raise InputError(Problem(self.path, 1, 1, f"no assessment of company {company_id!r} in the "
                                                      f"history{suffix}", "unknown-id"))
        return rounds


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

"""A clean start for a custom model, and the flat interchange format of maturity models (issue 12).

:func:`init_model` writes a model directory holding only the method — the
rules that grade cells, climb staves, take the barrel and set the level — and
a header; no domain criteria, caps or sources.  :func:`import_model` turns a
criteria table (CSV or XLSX: ``id, dimension, level, text, ...``) and an
optional actions table (``id, name, addresses, depends_on, effort``) into a
model directory that ``kb validate`` checks like any other.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from .errors import InputError, Problem
from .model import default_model_dir

__all__ = ["METHOD_RULES", "init_model", "import_model", "read_table"]

# The rules of the grading method (CONTRACT §3), the same for every model; caps are the domain's own.
METHOD_RULES = ("barrel", "cell-below-threshold", "cell-empty", "cell-met", "company-level", "company-level-capped",
                "key-gate")
# ... and one stave-level-<rank> rule per level (issue 13: the stave decision table), written for the new
# model's own ranks by _stave_level_rules.
_GENERIC = {   # descriptions that name no domain (the shipped ones speak of companies and 经验级)
    "barrel": "The barrel principle: the shortest stave sets the level.",
    "cell-below-threshold": "A stave misses a level when its weighted score there is below the threshold.",
    "cell-empty": "A stave with no applicable criteria at a level meets that level.",
    "cell-met": "A stave meets a level when its weighted score there reaches the threshold and every key "
                "criterion there reaches the key minimum.",
    "company-level": "With no cap below the barrel level, the overall level is the barrel level.",
    "company-level-capped": "Caps only lower: when the lowest cap is below the barrel level, the overall level "
                            "is that cap.",
    "key-gate": "A key criterion below the key minimum fails its level, whatever the score.",
}
_LEVEL_NAMES = ["Not yet", "Initial", "Managed", "Defined", "Measured", "Optimising"]


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _method_rule_files(floor: int, top: int, languages) -> Dict[str, str]:
    rules = {}
    for name in METHOD_RULES:
        document = yaml.safe_load((default_model_dir() / "rules" / f"{name}.yaml").read_text(encoding="utf-8"))
        description = {"en": _GENERIC[name]}
        if "zh" in languages:
            description = {"zh": document["description"]["zh"], **description} if "en" in languages else \
                {"zh": document["description"]["zh"]}
        rule = {"description": description, **{k: v for k, v in document.items()
                                               if k in ("salience", "when", "then")}}
        rules[f"{name}.yaml"] = _dump(rule)
    rules.update(_stave_level_rules(floor, top, languages))
    return rules


def _stave_level_rules(floor: int, top: int, languages) -> Dict[str, str]:
    """One rule per level: a stave stands at level k when it meets every level above the floor up to k and
    misses k + 1 (``stave`` facts carry ``met_<rank>``, see engine.rules.stave_kind)."""
    rules = {}
    for rank in range(floor, top + 1):
        where = {f"met_{k}": True for k in range(floor + 1, rank + 1)}
        if rank < top:
            where[f"met_{rank + 1}"] = False
        if rank == floor:
            en, zh = (f"A stave that misses level {floor + 1} stands at the floor level, {floor}.",
                      f"不满足第 {floor + 1} 级的维度处于最低级，第 {floor} 级。")
        elif rank < top:
            en, zh = (f"A stave that meets every level up to {rank} but misses level {rank + 1} stands at level "
                      f"{rank}.", f"逐级满足至第 {rank} 级而不满足第 {rank + 1} 级的维度，等级为第 {rank} 级。")
        else:
            en, zh = (f"A stave that meets every level up to the top, {top}, stands at level {top}.",
                      f"逐级满足至最高级第 {top} 级的维度，等级为第 {top} 级。")
        description = {lang: text for lang, text in (("zh", zh), ("en", en)) if lang in languages} or {"en": en}
        rules[f"stave-level-{rank}.yaml"] = _dump({
            "description": description,
            "when": [{"fact": "stave", "where": where}],
            "then": {"conclude": "dimension_level", "set": {"dimension": {"ref": "stave.dimension"}, "level": rank}},
        })
    return rules


def _header(model_id: str, name: str, languages, floor: int, top: int) -> dict:
    text = {lang: name for lang in languages}
    return {
        "model": {"id": model_id, "version": "0.1.0", "languages": list(languages), "name": text},
        "method": {"threshold": 0.8, "key_minimum": 0.8},
        "levels": [{"rank": rank, "id": re.sub(r"[^a-z0-9]+", "-", _LEVEL_NAMES[rank].lower()).strip("-")
                    if floor == 0 else f"level-{rank}",
                    "name": {lang: (_LEVEL_NAMES[rank] if floor == 0 else f"Level {rank}") for lang in languages}}
                   for rank in range(floor, top + 1)],
    }


def _target(directory) -> Path:
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise InputError(Problem(str(directory), 1, 1, "is a file: a new model needs a folder", "output"))
    if target.exists() and any(target.iterdir()):
        raise InputError(Problem(str(directory), 1, 1, "is not empty: a new model needs an empty or new folder",
                                 "output"))
    return target


def _write(target: Path, files: Dict[str, str]) -> None:
    for rel, content in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def init_model(directory, model_id: str, name: str, languages=("en",), floor: int = 1) -> Path:
    """Write a clean model to ``directory``: a header, the levels and the method rules, nothing else.

    Raises
    ------
    InputError when the folder is not empty.
    """
    target = _target(directory)
    files = {"knowledge/model.yaml": "# Add pillars, dimensions, criteria, actions (see FORMAT.md), or run "
                                     "`qmgrade kb import`.\n" + _dump(_header(model_id, name, languages, floor, 5))}
    files.update({f"rules/{n}": text for n, text in _method_rule_files(floor, 5, languages).items()})
    _write(target, files)
    return target


# -- the flat interchange format ----------------------------------------------------------
def read_table(path) -> List[dict]:
    """Rows of a CSV or XLSX table as dicts keyed by the lower-cased header; each with its ``_line``.

    Raises
    ------
    InputError when the file is not a readable CSV (UTF-8) or XLSX table.
    """
    import zipfile
    try:
        return _read_table(str(path))
    except (OSError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(Problem(str(path), 1, 1, f"not a readable CSV (UTF-8) or XLSX table "
                                                  f"({type(exc).__name__}: {str(exc)[:80]})")) from None


def _read_table(path: str) -> List[dict]:
    rows: List[dict] = []
    if path.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        values = list(book.worksheets[0].iter_rows(values_only=True))
        header = [str(h or "").strip().lower() for h in (values[0] if values else [])]
        for number, row in enumerate(values[1:], 2):
            record = {h: ("" if v is None else str(v).strip()) for h, v in zip(header, row) if h}
            if any(record.values()):
                rows.append({**record, "_line": number})
        return rows
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        for number, row in enumerate(reader, 2):
            record = {h: v.strip() for h, v in zip(header, row) if h}
            if any(record.values()):
                rows.append({**record, "_line": number})
    return rows


def _listed(value: Optional[str]) -> List[str]:
    return [part for part in re.split(r"[;,\s|]+", value or "") if part]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def import_model(criteria_path, out, model_id: str, name: str, actions_path=None, languages=("en",)) -> Path:
    """Turn a criteria table (and an actions table) into a model directory at ``out``.

    Criteria columns: ``id, dimension, level, text`` (required), ``title, key, weight, evidence, pillar,
    source, clause`` (optional); ``text_zh`` / ``text_en`` for a two-language model.  Actions columns:
    ``id, name, addresses`` (required), ``depends_on, effort, lead_time_months``.  Without an actions table
    each criterion gets one action of its own.  A level-1 criterion gives the model a level 0 below it.

    Raises
    ------
    InputError naming the file and line of every missing column or value.
    """
    problems: List[Problem] = []
    rows = read_table(criteria_path)
    src = str(criteria_path)
    if not rows:
        raise InputError(Problem(src, 1, 1, "holds no criteria rows"))
    missing = [c for c in ("id", "dimension", "level") if c not in rows[0]]
    if not any(k in rows[0] for k in ("text", *(f"text_{lang}" for lang in languages))):
        missing.append("text")
    if missing:
        raise InputError(Problem(src, 1, 1, f"missing column(s): {', '.join(missing)}"))

    def text_of(row, key):
        found = {lang: row.get(f"{key}_{lang}") or row.get(key) for lang in languages}
        return {lang: value for lang, value in found.items() if value}

    criteria: List[dict] = []
    dimensions: Dict[str, Tuple[str, str, Optional[str]]] = {}
    sources: Dict[str, str] = {}
    for row in rows:
        level = row.get("level", "")
        if not level.isdigit() or not 1 <= int(level) <= 5:
            problems.append(Problem(src, row["_line"], 1, f"level {level!r} of {row.get('id')!r} is not 1..5"))
            continue
        dimension = _slug(row["dimension"])
        dimensions.setdefault(dimension, (row["dimension"], _slug(row.get("pillar") or "all"), row.get("pillar")))
        source_id = _slug(row.get("source") or "imported")
        sources.setdefault(source_id, row.get("source") or f"Imported from {Path(src).name}")
        item = {"id": row["id"], "dimension": dimension, "level": int(level)}
        if row.get("title"):
            item["title"] = text_of(row, "title")
        if row.get("weight"):
            item["weight"] = float(row["weight"])
        if (row.get("key") or "").lower() in ("1", "true", "yes", "y", "key"):
            item["key"] = True
        item["text"] = text_of(row, "text")
        if text_of(row, "evidence"):
            item["evidence"] = text_of(row, "evidence")
        item["sources"] = [{"source": source_id, **({"clause": row["clause"]} if row.get("clause") else {})}]
        criteria.append(item)
    floor = 0 if any(c["level"] == 1 for c in criteria) else 1
    top = max([c["level"] for c in criteria] + [floor + 1])

    actions = []
    if actions_path is not None:
        asrc = str(actions_path)
        arows = read_table(actions_path)
        if arows and any(c not in arows[0] for c in ("id", "addresses")):
            raise InputError(Problem(asrc, 1, 1, "missing column(s): id, addresses"))
        for row in arows:
            action = {"id": row["id"], "name": text_of(row, "name") or {lang: row["id"] for lang in languages},
                      "addresses": _listed(row.get("addresses"))}
            if _listed(row.get("depends_on")):
                action["depends_on"] = _listed(row.get("depends_on"))
            action["effort"] = int(row["effort"]) if (row.get("effort") or "").isdigit() else 2
            if (row.get("lead_time_months") or "").isdigit():
                action["lead_time_months"] = int(row["lead_time_months"])
            actions.append(action)
    else:
        actions = [{"id": f"meet-{c['id']}", "name": {lang: f"Meet: {c['text'].get(lang, '')}"[:120]
                                                       for lang in languages},
                    "addresses": [c["id"]], "effort": 2} for c in criteria]
    if problems:
        raise InputError(problems)

    header = _header(model_id, name, languages, floor, top)
    pillars = {p: (label or "All") for _, p, label in dimensions.values()}
    files = {
        "knowledge/model.yaml": _dump(header),
        "knowledge/dimensions.yaml": _dump({
            "pillars": [{"id": p, "name": {lang: label for lang in languages}} for p, label in pillars.items()],
            "dimensions": [{"id": d, "pillar": p, "name": {lang: label for lang in languages}}
                           for d, (label, p, _) in dimensions.items()]}),
        "knowledge/sources.yaml": _dump({"sources": [{"id": s, "title": {lang: t for lang in languages}}
                                                     for s, t in sources.items()]}),
        "knowledge/criteria.yaml": _dump({"criteria": criteria}),
        "knowledge/actions.yaml": _dump({"actions": actions}),
    }
    files.update({f"rules/{n}": text for n, text in _method_rule_files(floor, top, languages).items()})
    target = _target(out)
    _write(target, files)
    return target

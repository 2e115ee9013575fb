"""An assessment: a company's ratings, evidence and facts, read and checked against a model.

Accepted rating labels (CONTRACT §2): ``full`` / ``largely`` / ``partial`` /
``none`` / ``na`` and their Chinese forms 全部满足 / 大部分满足 / 部分满足 /
不满足 / 不适用, or a number in [0, 1].  Every problem of a file is reported at
once, each with its line, column and the id it concerns.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import schema
from .errors import InputError, Problem, did_you_mean, suggestion
from .yamlio import load_file, position, value_position

__all__ = ["Assessment", "RATING_LABELS", "parse_rating", "read_assessment", "assessment_from_data", "NA"]

SCALE = 1_000_000
NA = None   # a rating of "not applicable"

RATING_LABELS: Dict[str, Optional[float]] = {
    "full": 1.0, "largely": 0.8, "partial": 0.5, "none": 0.0, "na": NA,
    "全部满足": 1.0, "大部分满足": 0.8, "部分满足": 0.5, "不满足": 0.0, "不适用": NA,
}
_ALIASES = {"n/a": "na", "not applicable": "na", "not_applicable": "na"}
CANONICAL = {1.0: "full", 0.8: "largely", 0.5: "partial", 0.0: "none"}


@dataclass
class Assessment:
    """A checked assessment; ratings are kept as floats (``None`` for na)."""

    company: dict
    assessed_on: Optional[str]
    ratings: Dict[str, Optional[float]]
    evidence: Dict[str, List[str]] = field(default_factory=dict)
    facts: Dict[str, Any] = field(default_factory=dict)
    path: str = "-"

    def canonical(self) -> dict:
        """Key-order-free form, the basis of the input hash."""
        return {
            "company": {k: self.company[k] for k in sorted(self.company)},
            "assessed_on": self.assessed_on,
            "ratings": {k: self.ratings[k] for k in sorted(self.ratings)},
            "evidence": {k: self.evidence[k] for k in sorted(self.evidence)},
            "facts": {k: self.facts[k] for k in sorted(self.facts)},
        }

    @property
    def sha256(self) -> str:
        text = json.dumps(self.canonical(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def with_ratings(self, changes: Dict[str, Optional[float]]) -> "Assessment":
        ratings = dict(self.ratings)
        ratings.update(changes)
        return Assessment(dict(self.company), self.assessed_on, ratings, dict(self.evidence),
                          dict(self.facts), self.path)


def parse_rating(value: Any) -> Optional[float]:
    """A rating value as a float in [0, 1] or ``None`` (na).

    Raises
    ------
    ValueError with a message naming what is accepted.
    """
    if type(value) is str and value in RATING_LABELS:   # the common case, first (batches parse millions)
        return RATING_LABELS[value]
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a rating (a boolean is not a number)")
    if isinstance(value, int) and not 0 <= value <= 1:
        shown = value if abs(value) < 10 ** 15 else f"{str(value)[:15]}…"   # float() fails beyond 1e308
        raise ValueError(f"rating {shown} is out of range: numbers must lie in [0, 1]")
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number) or number < 0 or number > 1:
            raise ValueError(f"rating {value!r} is out of range: numbers must lie in [0, 1]")
        return round(number, 6)
    if isinstance(value, str):
        label = value.strip()
        lowered = _ALIASES.get(label.lower(), label.lower())
        if lowered in RATING_LABELS:
            return RATING_LABELS[lowered]
        if label in RATING_LABELS:
            return RATING_LABELS[label]
        try:
            number = float(label)
        except ValueError:
            hint = did_you_mean(lowered, [k for k in RATING_LABELS if k.isascii()]) or did_you_mean(
                label, RATING_LABELS)
            suffix = f"; did you mean {hint!r}?" if hint else ""
            raise ValueError(f"unknown rating {value!r}{suffix} (use full, largely, partial, none, na, "
                             f"全部满足, 大部分满足, 部分满足, 不满足, 不适用 or a number in [0, 1])") from None
        return parse_rating(number)
    if value is None:
        raise ValueError("empty rating (use na for not applicable, or leave the criterion out)")
    raise ValueError(f"a {type(value).__name__} is not a rating")


def _scalar_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)   # JSON output has no NaN
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else str(value)


COMPANY_FIELDS = ("id", "name", "industry", "region")


def _company(raw: dict) -> dict:
    """The company fields, the known ones first and the rest sorted: the input's key order never shows."""
    fields = {str(k): _scalar_text(v) for k, v in raw.items()}
    order = [k for k in COMPANY_FIELDS if k in fields] + sorted(k for k in fields if k not in COMPANY_FIELDS)
    return {k: fields[k] for k in order}


def assessment_from_data(data: Any, path: str, model) -> Assessment:
    """Check parsed data against the model; raise :class:`InputError` with every problem."""
    if data is None:
        raise InputError(Problem(path, 1, 1, "empty document: expected an assessment with 'ratings'"))
    if not isinstance(data, dict):
        raise InputError(Problem(path, *position(data), f"expected a mapping with 'ratings', "
                                                         f"found a {type(data).__name__}"))
    problems = schema.check(data, schema.ASSESSMENT, path)
    if problems:
        raise InputError(problems)
    criteria = model.criteria
    ratings: Dict[str, Optional[float]] = {}
    raw_ratings = data.get("ratings") or {}
    for criterion_id, value in raw_ratings.items():
        key = str(criterion_id)
        if key not in criteria:
            suffix = suggestion(key, criteria)
            problems.append(Problem(path, *position(raw_ratings, criterion_id),
                                    f"unknown criterion {key!r}{suffix}", "unknown-id"))
            continue
        try:
            ratings[key] = parse_rating(value)
        except ValueError as exc:
            problems.append(Problem(path, *value_position(raw_ratings, criterion_id), f"{key}: {exc}",
                                    "bad-rating"))
    evidence: Dict[str, List[str]] = {}
    raw_evidence = data.get("evidence") or {}
    for criterion_id, refs in raw_evidence.items():
        key = str(criterion_id)
        if key not in criteria:
            suffix = suggestion(key, criteria)
            problems.append(Problem(path, *position(raw_evidence, criterion_id),
                                    f"evidence for unknown criterion {key!r}{suffix}", "unknown-id"))
            continue
        evidence[key] = [refs] if isinstance(refs, str) else list(refs)
    facts: Dict[str, Any] = {}
    declared = {fact.id: fact for fact in model.facts}
    raw_facts = data.get("facts") or {}
    for fact_id, value in raw_facts.items():
        key = str(fact_id)
        if key not in declared:
            suffix = suggestion(key, declared)
            problems.append(Problem(path, *position(raw_facts, fact_id), f"unknown fact {key!r}{suffix}",
                                    "unknown-id"))
            continue
        kind = declared[key].type
        ok = ((kind == "boolean" and isinstance(value, bool))
              or (kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value))
              or (kind == "string" and isinstance(value, str)))
        if not ok:
            problems.append(Problem(path, *value_position(raw_facts, fact_id),
                                    f"fact {key!r} must be a {kind}, found {value!r}", "fact-type"))
            continue
        facts[key] = value
    if problems:
        raise InputError(problems)
    company = _company(data.get("company") or {})
    assessed_on = data.get("assessed_on")
    return Assessment(company, None if assessed_on is None else str(assessed_on), ratings, evidence, facts, path)


def _corrupt_workbook_errors() -> tuple:
    import xml.etree.ElementTree as ElementTree
    import zipfile
    import zlib
    return (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError, UnicodeDecodeError)


_CORRUPT_WORKBOOK = _corrupt_workbook_errors()


def read_assessment(path: str, model) -> Assessment:
    """Read an assessment file (YAML, JSON; XLSX when openpyxl's reader is available)."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        from .spreadsheet import read_questionnaire  # optional: issue 5
        try:
            return read_questionnaire(path, model)
        except _CORRUPT_WORKBOOK as exc:  # openpyxl reads lazily: a damaged part fails mid-way
            raise InputError(Problem(path, 1, 1, f"not a readable XLSX workbook ({type(exc).__name__}: "
                                                 f"{exc})")) from None
    data = load_file(path, InputError)
    return assessment_from_data(data, path, model)

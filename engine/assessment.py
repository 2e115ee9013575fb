"""An assessment: a company's ratings, evidence and facts, read and checked against a model.

Accepted rating labels (CONTRACT §2): ``full`` / ``largely`` / ``partial`` /
``none`` / ``na`` and their Chinese forms 全部满足 / 大部分满足 / 部分满足 /
不满足 / 不适用 (and the usual checklist words 满足, 基本满足, 符合, 基本符合,
部分符合, 不符合), a number in [0, 1] or a percentage (``80%``).  Every problem of a file is reported at
once, each with its line, column and the id it concerns.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import schema
from .limits import MAX_PROBLEMS, capped
from .errors import InputError, Problem, did_you_mean, suggestion
from .yamlio import load_file, position, value_position

__all__ = ["Assessment", "RATING_LABELS", "parse_rating", "fact_value", "input_kind", "read_assessment",
           "assessment_from_data", "NA",
           "profile_object", "apply_model_rules"]

SCALE = 1_000_000
NA = None   # a rating of "not applicable"

RATING_LABELS: Dict[str, Optional[float]] = {
    "full": 1.0, "largely": 0.8, "partial": 0.5, "none": 0.0, "na": NA,
    "全部满足": 1.0, "大部分满足": 0.8, "部分满足": 0.5, "不满足": 0.0, "不适用": NA,
}
_ALIASES = {"n/a": "na", "not applicable": "na", "not_applicable": "na",
            # the usual words of Chinese audit checklists (issue 10): 满足 / 基本满足 / 符合 ...
            "满足": "全部满足", "完全满足": "全部满足", "基本满足": "大部分满足",
            "符合": "全部满足", "完全符合": "全部满足", "基本符合": "大部分满足", "大部分符合": "大部分满足",
            "部分符合": "部分满足", "不符合": "不满足"}
_NEGATION = re.compile(r"[不无没未非否]|\b(?:not|no|non|never)(?:\b|_)|n't")
ACCEPTED = ("full, largely, partial, none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] "
            "or a percentage such as 80%")
# yes/no words of a boolean fact, in every input (YAML, JSON, XLSX, CSV)
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "有", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "无", "f"})
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
    profile_na: tuple = ()          # criteria the company's profile made na (not rated in the file)
    migration: Any = None           # engine.migrate.Migration when read through model.supersedes
    version_note: Optional[str] = None   # the file names another version of the model (issue 12)

    @property
    def profile(self) -> Optional[str]:
        """The id of the business profile the assessment selects (company.profile), or None."""
        value = self.company.get("profile")
        return None if value in (None, "") else str(value)

    @property
    def notes(self) -> List[str]:
        """Lines a front end prints on stderr (never in the report itself)."""
        notes = [self.version_note] if self.version_note else []
        return notes + ([self.migration.note(self.path)] if self.migration is not None else [])

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
                          dict(self.facts), self.path, self.profile_na, self.migration)


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
        rounded = round(number, 6)
        if abs(number - rounded) > 1e-12:   # never rounded silently across a threshold (issue 12)
            raise ValueError(f"rating {value!r} is finer than the rating precision of 0.000001 (six decimals): "
                             f"write it with at most six decimals")
        return rounded
    if isinstance(value, str):
        label = value.strip()
        lowered = label.lower()
        lowered = _ALIASES.get(lowered, lowered)
        if lowered in RATING_LABELS:
            return RATING_LABELS[lowered]
        if label.endswith(("%", "％")):   # "80%" is 0.8
            return _percentage(value, label[:-1].strip())
        try:
            number = float(label)
        except ValueError:
            hint = _rating_hint(lowered)
            suffix = f"; did you mean {hint!r}?" if hint else ""
            raise ValueError(f"unknown rating {value!r}{suffix} (use {ACCEPTED})") from None
        return parse_rating(number)
    if value is None:
        raise ValueError("empty rating (use na for not applicable, or leave the criterion out)")
    raise ValueError(f"a {type(value).__name__} is not a rating")


def _percentage(value: str, digits: str) -> Optional[float]:
    try:
        number = float(digits)
    except ValueError:
        raise ValueError(f"unknown rating {value!r} (a percentage is a number followed by %, e.g. 80%)") from None
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValueError(f"rating {value!r} is out of range: percentages must lie in [0%, 100%]")
    try:
        return parse_rating(round(number / 100, 12))
    except ValueError:
        raise ValueError(f"rating {value!r} is finer than the rating precision of 0.0001% (four decimals of "
                         f"a percentage)") from None


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _rating_hint(label: str) -> Optional[str]:
    """The accepted label closest to ``label`` — never one of the opposite meaning.

    ``满足`` is close to ``不满足`` and ``applicable`` to ``not applicable``: a
    suggestion whose negation differs from the label's is no suggestion at all.
    """
    known = list(RATING_LABELS) + list(_ALIASES)
    for pool in ([k for k in known if k.isascii()], known):
        hint = did_you_mean(label, pool)
        if hint is not None and _negated(hint) == _negated(label):
            return hint
    return None


def fact_value(kind: str, value: Any) -> Any:
    """A cell (XLSX, CSV) or a word as a fact of type ``kind``; raises ValueError."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true/false, yes/no, 是/否, 1/0)")
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind == "record":   # issue 9: dated events do not fit one cell
        raise ValueError("a list of dated events does not fit in one cell: give it in a YAML or JSON assessment")
    if kind == "date":
        day = _iso_date(value.date() if hasattr(value, "date") else value)
        if day is None:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
        return day
    return str(value)


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


def assessment_from_data(data: Any, path: str, model, migrating: bool = False) -> Assessment:
    """Check parsed data against the model; raise :class:`InputError` with every problem.

    Ids the model no longer has but lists in ``model.supersedes`` are read
    through that map (``assessment.migration`` says what moved).  With
    ``migrating`` (``qmgrade migrate``), an na carried to a criterion that no
    longer allows it is dropped and reported instead of refused.
    """
    if data is None:
        raise InputError(Problem(path, 1, 1, "empty document: expected an assessment with 'ratings'"))
    if not isinstance(data, dict):
        raise InputError(Problem(path, *position(data), f"expected a mapping with 'ratings', "
                                                         f"found a {type(data).__name__}"))
    problems = schema.check(data, schema.ASSESSMENT, path)
    if problems:
        raise InputError(problems)
    _check_model_named(data, path, model)
    sections = {**schema.ASSESSMENT["properties"], "model": None}
    for section in data:   # a typo such as `fact:` must not drop the facts silently; x-... is a private extension
        name = str(section)
        if name not in sections and not name.startswith("x-"):
            problems.append(Problem(path, *position(data, section), f"unknown key {name[:40]!r}"
                                    f"{suggestion(name, sections)} (private extensions start with x-)",
                                    "unknown-key"))
    criteria = model.criteria
    ratings: Dict[str, Optional[float]] = {}
    raw_ratings = data.get("ratings") or {}
    superseded = (model.supersedes or {}).get("criteria", {})
    olds = []   # (old id, new id or None, rating) of ids read through model.supersedes
    for criterion_id, value in raw_ratings.items():
        key = str(criterion_id)
        if key not in criteria and key in superseded:
            try:
                olds.append((key, superseded[key], parse_rating(value)))
            except ValueError as exc:
                problems.append(Problem(path, *value_position(raw_ratings, criterion_id), f"{key}: {exc}",
                                        "bad-rating"))
            continue
        if key not in criteria:
            hint = _foreign_hint(raw_ratings, model) if not problems and _foreign(raw_ratings, criteria) else None
            if hint:   # another model's assessment: one hint, not an error per criterion
                raise InputError(Problem(path, *position(raw_ratings, criterion_id), hint, "wrong-model"))
            suffix = suggestion(key, criteria) if len(problems) < MAX_PROBLEMS else ""   # difflib is slow
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
        if key not in criteria and key in superseded:
            if superseded[key] is not None:
                items = [refs] if isinstance(refs, str) else list(refs)
                evidence.setdefault(superseded[key], []).extend(items)
            continue
        if key not in criteria:
            suffix = suggestion(key, criteria) if len(problems) < MAX_PROBLEMS else ""   # difflib is slow
            problems.append(Problem(path, *position(raw_evidence, criterion_id),
                                    f"evidence for unknown criterion {key!r}{suffix}", "unknown-id"))
            continue
        evidence[key] = [refs] if isinstance(refs, str) else list(refs)
    facts: Dict[str, Any] = {}
    declared = {fact.id: fact for fact in model.facts}
    raw_facts = data.get("facts") or {}
    for fact_id, value in raw_facts.items():
        key = str(fact_id)
        if key not in declared and key.startswith("x-"):
            continue   # a private extension: not the model's, not graded
        if key not in declared:
            suffix = suggestion(key, declared) if len(problems) < MAX_PROBLEMS else ""
            problems.append(Problem(path, *position(raw_facts, fact_id), f"unknown fact {key!r}{suffix}",
                                    "unknown-id"))
            continue
        kind = declared[key].type
        if kind == "record":
            events, found = _record_events(declared[key], value, raw_facts, fact_id, path, data)
            problems.extend(found)
            if not found:
                facts[key] = events
            continue
        if kind == "date":
            day = _iso_date(value)
            if day is None:
                problems.append(Problem(path, *value_position(raw_facts, fact_id),
                                        f"fact {key!r} must be a date (YYYY-MM-DD), found {value!r}", "fact-type"))
            else:
                facts[key] = day
            continue
        if kind == "boolean" and isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            value = value.strip().lower() in TRUE_WORDS   # 是/否, yes/no, true/false as written in JSON
        ok = ((kind == "boolean" and isinstance(value, bool))
              or (kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value))
              or (kind == "string" and isinstance(value, str)))
        if not ok:
            problems.append(Problem(path, *value_position(raw_facts, fact_id),
                                    f"fact {key!r} must be a {kind}, found {value!r}", "fact-type"))
            continue
        facts[key] = value
    migration = None
    if olds:
        from .migrate import carry
        ratings, migration = carry(model, ratings, olds)
    if migrating:   # an na the model no longer allows is dropped (to be rated), not refused
        na_ok = _na_allowed(model)
        for ident in [i for i, rating in ratings.items() if rating is NA and not na_ok(i)]:
            from .migrate import new_migration
            migration = migration or new_migration(model)
            migration.na_dropped.append((migration.source_of.get(ident, ident), ident))
            del ratings[ident]
    def rating_at(ident):
        written = ident if ident in raw_ratings or migration is None else migration.source_of.get(ident, ident)
        return (*value_position(raw_ratings, written), f"(written as {written!r}) " if written != ident else "")

    raw_company = data["company"] if isinstance(data.get("company"), dict) else {}
    problems.extend(_na_problems(model, ratings, path, rating_at))
    profile_na, found = _profile_na(model, raw_company.get("profile"), ratings, path,
                                    lambda: (*value_position(raw_company, "profile"), ""))
    problems.extend(found)
    if problems:
        raise InputError(capped(problems))
    for ident in profile_na:
        ratings[ident] = NA
    company = _company(data.get("company") or {})
    assessed_on = data.get("assessed_on")
    named = data["model"] if isinstance(data.get("model"), dict) else {}
    note = None
    if named.get("version") is not None and str(named["version"]) != model.version:
        note = (f"note: {path} was written for {model.id} {named['version']}; graded with {model.id} "
                f"{model.version}")
    return Assessment(company, None if assessed_on is None else str(assessed_on), ratings, evidence, facts, path,
                      profile_na, migration, note)


def _check_model_named(data, path, model) -> None:
    """An assessment may name its model (``model: {id, version}``); another model's is refused, naming it."""
    named = data.get("model")
    if named is None:
        return
    if not isinstance(named, dict) or not isinstance(named.get("id"), str):
        raise InputError(Problem(path, *position(data, "model"), "model must be a mapping {id, version}"))
    if named["id"] != model.id:
        version = f" {named['version']}" if named.get("version") is not None else ""
        raise InputError(Problem(path, *value_position(named, "id"),
                                 f"this assessment was written for model {named['id']}{version}, not {model.id} "
                                 f"{model.version}: run it with --model {named['id']} (a directory or an installed "
                                 f"pack; qmgrade kb list)", "wrong-model"))


def _foreign(raw_ratings, criteria) -> bool:
    """Most rated ids are unknown to the model: the file belongs to another model."""
    keys = [str(k) for k in raw_ratings]
    unknown = sum(1 for k in keys if k not in criteria)
    return len(keys) >= 3 and unknown * 2 > len(keys)


def _foreign_hint(raw_ratings, model) -> Optional[str]:
    """Which model the ratings belong to (the shipped one or an installed pack), or None when it cannot tell."""
    keys = {str(k) for k in raw_ratings}
    unknown = sum(1 for k in keys if k not in model.criteria)
    hint = f"{unknown} of {len(keys)} rated criteria are unknown to model {model.id}: this assessment is of another model"
    try:
        from .model import load_model
        from .packs import installed_packs
        for name in [None] + [pack.name for pack in installed_packs()]:   # the shipped model, then the packs
            other = load_model(name)
            if other.id != model.id and sum(1 for k in keys if k in other.criteria) * 2 > len(keys):
                how = "without --model" if name is None else f"with --model {name}"
                return f"{hint}, {other.id} (run it {how})"
    except Exception:   # noqa: S110 - a broken pack must not hide the hint itself
        pass
    if len(keys) < 10 or unknown * 10 < len(keys) * 9:
        return None   # a few typos, or no model that knows them: each unknown id is reported with its place
    return f"{hint}; run it with --model DIR or --model NAME (qmgrade kb list)"


def profile_object(model, assessment) -> Optional[dict]:
    """``{"id", "name", "not_applicable"}`` of the profile the assessment selects (None without one).

    ``not_applicable`` lists the criteria the profile made na (those the file did not rate).
    """
    ident = assessment.profile
    profile = getattr(model, "profiles_by_id", {}).get(ident) if ident else None
    if profile is None:
        return None
    return {"id": profile.id, "name": dict(profile.name),
            "not_applicable": [c for c in assessment.profile_na if assessment.ratings.get(c, 0.0) is NA]}


def _na_allowed(model):
    """``na_ok(criterion id)``: na is refused only where a model of version 2 or later does not allow it.

    A 1.x model was written before ``na_allowed`` existed: na stays accepted everywhere there.
    """
    from .model import model_major
    if model_major(model.version) < 2:
        return lambda ident: True
    return lambda ident: model.criteria[ident].na_allowed


def _na_problems(model, ratings, path, rating_at) -> List[Problem]:
    """An na on a criterion that does not allow it, named with its place (CONTRACT §6).

    ``rating_at(criterion id)`` gives (line, col, prefix) of the rating in the input.
    """
    na_ok = _na_allowed(model)
    problems = []
    for ident, rating in ratings.items():
        if rating is not NA or na_ok(ident):
            continue
        line, col, prefix = rating_at(ident)
        problems.append(Problem(path, line, col,
                                f"{prefix}criterion {ident!r} does not allow na: rate it none, partial, largely "
                                f"or full (na is allowed only where the model says a business may lack the "
                                f"activity; a company profile names those)", "na-not-allowed"))
    return problems


def _profile_na(model, value, ratings, path, profile_at) -> tuple:
    """The criteria the selected profile makes na (those the input does not rate), and its problems."""
    if value in (None, ""):
        return (), []
    ident = str(value)
    profiles = getattr(model, "profiles_by_id", {})
    if ident not in profiles:
        known = ", ".join(profiles) or "none"
        line, col, prefix = profile_at()
        return (), [Problem(path, line, col,
                            f"{prefix}unknown profile {ident!r}{suggestion(ident, profiles)} (the model's "
                            f"profiles: {known})", "unknown-id")]
    return tuple(c for c in profiles[ident].not_applicable if c not in ratings), []


def apply_model_rules(assessment: Assessment, model, rating_at=None, profile_at=None) -> Assessment:
    """Check na against the model and apply ``company.profile`` to an assessment built elsewhere
    (a questionnaire workbook, a row of a wide table); the same rules as :func:`assessment_from_data`.

    ``rating_at(criterion id)`` / ``profile_at()`` give (line, col, prefix) for the messages.
    """
    rating_at = rating_at or (lambda ident: (1, 1, ""))
    profile_at = profile_at or (lambda: (1, 1, ""))
    ratings = dict(assessment.ratings)
    problems = _na_problems(model, ratings, assessment.path, rating_at)
    profile_na, found = _profile_na(model, assessment.company.get("profile"), ratings, assessment.path, profile_at)
    problems.extend(found)
    if problems:
        raise InputError(problems)
    if not profile_na:
        return assessment
    for ident in profile_na:
        ratings[ident] = NA
    return Assessment(dict(assessment.company), assessment.assessed_on, ratings, dict(assessment.evidence),
                      dict(assessment.facts), assessment.path, profile_na, assessment.migration)


def _iso_date(value: Any) -> Optional[str]:
    """"2025-06-01" for a real calendar day written YYYY-MM-DD, else None."""
    import datetime
    text = str(value).strip() if isinstance(value, (str, datetime.date)) else ""
    try:
        return datetime.date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None


def _field_ok(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "string":
        return isinstance(value, str)
    return _iso_date(value) is not None


def _record_events(fact, value: Any, raw_facts, fact_id, path: str, data) -> tuple:
    """The events of a record fact (dates as YYYY-MM-DD), and the problems found (issue 9).

    Every event has the declared fields (the optional ones may be left out), of
    their types; no date lies after ``assessed_on``, which dated events need.
    """
    problems: List[Problem] = []
    fields = dict(fact.fields)
    choices = dict(fact.choices)
    if not isinstance(value, list) or not all(isinstance(event, dict) for event in value):
        problems.append(Problem(path, *value_position(raw_facts, fact_id),
                                f"fact {fact.id!r} is a list of events, each a mapping of "
                                f"{', '.join(fields)}; found {value!r}", "fact-type"))
        return [], problems
    assessed_on = _iso_date(data.get("assessed_on"))
    if value and assessed_on is None:
        where = value_position(data, "assessed_on") if "assessed_on" in data else position(raw_facts, fact_id)
        problems.append(Problem(path, *where, f"fact {fact.id!r} has dated events: assessed_on must be a date "
                                              f"(YYYY-MM-DD), found {data.get('assessed_on')!r}", "fact-type"))
    events = []
    for index, event in enumerate(value):
        found = len(problems)
        for name in event:
            if str(name) not in fields:
                problems.append(Problem(path, *position(event, name),
                                        f"{fact.id}[{index}]: unknown field {str(name)!r}"
                                        f"{suggestion(str(name), fields)}", "unknown-id"))
        defaults = dict(fact.defaults)
        missing = [name for name in fields if name not in event and name not in fact.optional
                   and name not in defaults]
        if missing:
            problems.append(Problem(path, *position(value, index),
                                    f"{fact.id}[{index}]: missing {', '.join(missing)}", "fact-type"))
        normal = {}
        for name, kind in fields.items():
            if name not in event:
                if name in defaults:
                    normal[name] = defaults[name]
                continue
            item = event[name]
            where = value_position(event, name)
            if not _field_ok(kind, item):
                wanted = "a date (YYYY-MM-DD)" if kind == "date" else f"a {kind}"
                problems.append(Problem(path, *where, f"{fact.id}[{index}].{name} must be {wanted}, found {item!r}",
                                        "fact-type"))
                continue
            if name in choices and item not in choices[name]:
                problems.append(Problem(path, *where, f"{fact.id}[{index}].{name}: {item!r} is not one of "
                                                      f"{', '.join(choices[name])}{suggestion(item, choices[name])}",
                                        "fact-type"))
                continue
            normal[name] = _iso_date(item) if kind == "date" else item
        for name, kind in fields.items():
            if kind == "date" and name in normal and assessed_on and normal[name] > assessed_on:
                problems.append(Problem(path, *value_position(event, name),
                                        f"{fact.id}[{index}].{name} {normal[name]} is after assessed_on "
                                        f"{assessed_on}", "fact-date"))
            elif kind == "date" and name != "date" and name in normal and "date" in normal \
                    and normal[name] < normal["date"]:
                problems.append(Problem(path, *value_position(event, name),
                                        f"{fact.id}[{index}].{name} {normal[name]} is before its date "
                                        f"{normal['date']}", "fact-date"))
        if len(problems) == found:
            events.append(normal)
    return events, problems


def _corrupt_workbook_errors() -> tuple:
    import xml.etree.ElementTree as ElementTree
    import zipfile
    import zlib
    return (zipfile.BadZipFile, zlib.error, ElementTree.ParseError, EOFError, UnicodeDecodeError)


_CORRUPT_WORKBOOK = _corrupt_workbook_errors()


_USE = "qmgrade reads YAML or JSON assessments and the XLSX questionnaire that qmgrade template writes"
_MAGIC = (   # (leading bytes, what the file is): named, never parsed as YAML (issue 10)
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old binary Office file (.xls or .doc): open it in Excel or WPS and "
                                          "save it as .xlsx"),
    (b"\x89PNG\r\n\x1a\n", "an image (PNG)"),
    (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF87a", "an image (GIF)"),
    (b"GIF89a", "an image (GIF)"),
    (b"II*\x00", "an image (TIFF)"),
    (b"MM\x00*", "an image (TIFF)"),
    (b"BM", None),   # a bitmap only with its header size below
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", None),
    (b"{\\rtf", "a Word document (RTF)"),
    (b"\x7fELF", "a program"),
)
_ZIP_PARTS = (("word/", "a Word document (.docx)"), ("ppt/", "a PowerPoint presentation (.pptx)"))
_ODF = {"application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (.ods): save it as .xlsx",
        "application/vnd.oasis.opendocument.text": "an OpenDocument text (.odt)"}


def _describe_zip(path: str) -> Optional[str]:
    """None for an XLSX workbook; else what the zip archive is."""
    import zipfile
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
                return None
            for prefix, what in _ZIP_PARTS:
                if any(n.startswith(prefix) for n in names):
                    return what
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                kind = archive.read("mimetype").decode("ascii", "replace").strip()
                if kind in _ODF:
                    return _ODF[kind]
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError):
        return "a damaged zip archive"
    return "a zip archive that is not an XLSX workbook"


def input_kind(path: str) -> str:
    """What an assessment file holds, from its first bytes (and name): ``"xlsx"`` or ``"text"`` (YAML/JSON).

    Raises
    ------
    InputError naming what the file is when qmgrade cannot read it as an
    assessment: a Word document, a PDF, an image, a zip that is not a
    workbook, a CSV or JSON Lines file (those are ``qmgrade batch`` inputs).
    A missing file or a folder is left to the reader, which says so.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return "xlsx" if path.lower().endswith((".xlsx", ".xlsm")) else "text"
    what = None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        what = _describe_zip(path)
        if what is None:
            return "xlsx"
    else:
        for magic, name in _MAGIC:
            if head.startswith(magic):
                what = name or (_bitmap(head) if magic == b"BM" else "a bzip2 archive")
                break
    if what is None and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].lower().startswith((b"<!doctype html", b"<html")):
        what = "a web page (HTML)"
    if what is not None:
        what, _, advice = what.partition(": ")
        advice = f": {advice}" if advice else f"; {_USE}"
        raise InputError(Problem(path, 1, 1, f"this is {what}, not an assessment{advice}", "file-type"))
    lowered = path.lower()
    if lowered.endswith((".xlsx", ".xlsm")):
        raise InputError(Problem(path, 1, 1, "not an XLSX workbook (not a zip archive): save it from Excel or WPS "
                                             "as .xlsx", "file-type"))
    first = head.split(b"\n", 1)[0].lower()
    if lowered.endswith((".csv", ".tsv")) or (b"company_id" in first and any(d in first for d in (b",", b";", b"\t"))):
        raise InputError(Problem(path, 1, 1, "this is a CSV file: use `qmgrade batch` (one row per company, one "
                                             "column per criterion id) to grade it", "file-type"))
    if lowered.endswith((".jsonl", ".ndjson")):
        raise InputError(Problem(path, 1, 1, "this is a JSON Lines file (one assessment a line): use `qmgrade "
                                             "batch` to grade it", "file-type"))
    return "text"


def _bitmap(head: bytes) -> Optional[str]:
    return "an image (BMP)" if len(head) >= 18 and head[14:18] in (b"\x0c\x00\x00\x00", b"(\x00\x00\x00",
                                                                       b"|\x00\x00\x00", b"l\x00\x00\x00") else None


def read_assessment(path: str, model) -> Assessment:
    """Read an assessment file (YAML, JSON, or the XLSX questionnaire — told apart by its first bytes).

    Raises
    ------
    InputError with every problem; a file of another kind (a Word document,
    a PDF, a CSV, ...) is named as such (:func:`input_kind`).
    """
    if input_kind(path) == "xlsx":
        from .spreadsheet import read_questionnaire  # optional: issue 5
        try:
            return read_questionnaire(path, model)
        except _CORRUPT_WORKBOOK as exc:  # openpyxl reads lazily: a damaged part fails mid-way
            raise InputError(Problem(path, 1, 1, f"not a readable XLSX workbook ({type(exc).__name__}: "
                                                 f"{exc})")) from None
    data = load_file(path, InputError)
    return assessment_from_data(data, path, model)

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
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import schema
from .limits import MAX_PROBLEMS, capped
from .errors import InputError, Problem, suggestion
from .yamlio import position, value_position
# rating, fact and date coercion, shared by every input kind (issue 10); re-exported for the old import paths
from .inputs.coerce import (ACCEPTED, CANONICAL, FALSE_WORDS, NA, RATING_LABELS, TRUE_WORDS, fact_value, iso_date,
                            parse_rating, scalar_text)

__all__ = ["Assessment", "RATING_LABELS", "parse_rating", "fact_value",
           "assessment_from_data", "plain_assessment", "NA",
           "profile_object", "apply_model_rules",
           # re-exported from engine.inputs.coerce (their home since issue 10)
           "ACCEPTED", "CANONICAL", "FALSE_WORDS", "TRUE_WORDS", "iso_date", "scalar_text"]

SCALE = 1_000_000



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


COMPANY_FIELDS = ("id", "name", "industry", "region")


def _company(raw: dict) -> dict:
    """The company fields, the known ones first and the rest sorted: the input's key order never shows."""
    fields = {str(k): scalar_text(v) for k, v in raw.items()}
    order = [k for k in COMPANY_FIELDS if k in fields] + sorted(k for k in fields if k not in COMPANY_FIELDS)
    return {k: fields[k] for k in order}


def assessment_from_data(data: Any, path: str, model, migrating: bool = False, *, fast: bool = True) -> Assessment:
    """Check parsed data against the model; raise :class:`InputError` with every problem.

    Ids the model no longer has but lists in ``model.supersedes`` are read
    through that map (``assessment.migration`` says what moved).  With
    ``migrating`` (``qmgrade migrate``), an na carried to a criterion that no
    longer allows it is dropped and reported instead of refused.

    A plainly valid record (the common case of a batch) is built directly by
    :func:`plain_assessment`; anything else — and every record when ``fast``
    is false — takes the full path, which finds and places every problem.
    Both accept exactly the same records and build the same assessment (tested,
    and checked on every call when ``QMGRADE_CHECK_FAST_PATH=1``).
    """
    if fast and not migrating:
        plain = plain_assessment(data, path, model)
        if CHECK_FAST_PATH:
            _compare_paths(plain, data, path, model)
        if plain is not None:
            return plain
    return _full_assessment(data, path, model, migrating)


def _full_assessment(data: Any, path: str, model, migrating: bool) -> Assessment:
    """The full path of :func:`assessment_from_data`: the schema, then every section, every problem placed."""
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
            day = iso_date(value)
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
        na_ok = na_allowed(model)
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


def na_allowed(model):
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
    na_ok = na_allowed(model)
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


def _field_ok(kind: str, value: Any) -> bool:
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "string":
        return isinstance(value, str)
    return iso_date(value) is not None


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
    assessed_on = iso_date(data.get("assessed_on"))
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
            normal[name] = iso_date(item) if kind == "date" else item
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


# -- the fast path (issue 13) --------------------------------------------------------------------------------
# With QMGRADE_CHECK_FAST_PATH=1 every record the fast path accepts is also read by the full path, and any
# difference is an AssertionError (the test suite runs so, see tests/conftest.py).
CHECK_FAST_PATH = os.environ.get("QMGRADE_CHECK_FAST_PATH", "") not in ("", "0")
_SECTIONS = frozenset(("company", "assessed_on", "ratings", "evidence", "facts"))
# what schema.ASSESSMENT allows for the company fields it names (an integer is never a bool)
_COMPANY_TYPES = {"id": (str, int), "name": (str,), "industry": (str, int), "region": (str,), "profile": (str,)}


def plain_assessment(data: Any, path: str, model) -> Optional[Assessment]:
    """The assessment of a plainly valid record, built directly — or None, and the full path decides.

    Plainly valid: only the five sections of CONTRACT §2, each of the type the
    schema asks; every rated or evidenced id a criterion of the model; every
    rating one the full path accepts, na only where allowed; every fact declared
    (or ``x-``) and of its type (dated events read by the full path's reader);
    a known profile or none.  Such
    a record has no problem the full path could find, and gets the same
    assessment from it: the same coercions (:func:`parse_rating`,
    :func:`iso_date`, :func:`_company`) in the same order.
    """
    if not isinstance(data, dict) or "ratings" not in data:
        return None
    for section in data:
        if section not in _SECTIONS:
            return None
    raw_company = data.get("company", {})
    if not isinstance(raw_company, dict):
        return None
    for name, kinds in _COMPANY_TYPES.items():
        if name in raw_company and (not isinstance(raw_company[name], kinds) or isinstance(raw_company[name], bool)):
            return None
    assessed_on = data.get("assessed_on")
    if "assessed_on" in data and (not isinstance(assessed_on, (str, int)) or isinstance(assessed_on, bool)):
        return None
    ratings = _plain_ratings(data["ratings"], model)
    evidence = _plain_evidence(data.get("evidence"), model.criteria)
    facts = _plain_facts(data, path, model)
    if ratings is None or evidence is None or facts is None:
        return None
    profile_na, found = _profile_na(model, raw_company.get("profile"), ratings, path, lambda: (1, 1, ""))
    if found:
        return None
    for ident in profile_na:
        ratings[ident] = NA
    return Assessment(_company(raw_company), None if assessed_on is None else str(assessed_on), ratings, evidence,
                      facts, path, profile_na)


def _plain_ratings(raw: Any, model) -> Optional[Dict[str, Optional[float]]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    criteria = model.criteria
    labels = RATING_LABELS
    ratings: Dict[str, Optional[float]] = {}
    if criteria.keys() >= raw.keys():   # every key a criterion's id (an id is a str: so is every key)
        try:   # the common case in C: every rating a label (full, largely, ...; the same in Chinese)
            ratings = {key: labels[value] for key, value in raw.items()}
        except (KeyError, TypeError):   # a number, a percentage, an alias...: the loop below
            pass
        else:
            if NA in ratings.values():
                na_ok = na_allowed(model)
                if not all(na_ok(key) for key, rating in ratings.items() if rating is NA):
                    return None
            return ratings
    na_ok = na_allowed(model)
    for key, value in raw.items():
        if type(key) is not str or key not in criteria:
            return None
        if type(value) is str and value in labels:
            rating = labels[value]
        else:
            try:
                rating = parse_rating(value)
            except ValueError:
                return None
        if rating is NA and not na_ok(key):
            return None
        ratings[key] = rating
    return ratings


def _plain_evidence(raw: Any, criteria) -> Optional[Dict[str, List[str]]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    evidence: Dict[str, List[str]] = {}
    for key, refs in raw.items():
        if type(key) is not str or key not in criteria:
            return None
        if isinstance(refs, str):
            evidence[key] = [refs]
        elif isinstance(refs, list) and all(isinstance(ref, str) for ref in refs):
            evidence[key] = list(refs)
        else:
            return None
    return evidence


def _plain_facts(data: dict, path: str, model) -> Optional[Dict[str, Any]]:
    raw = data.get("facts")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        return None
    declared = {fact.id: fact for fact in model.facts}
    facts: Dict[str, Any] = {}
    for key, value in raw.items():
        if type(key) is not str:
            return None
        fact = declared.get(key)
        if fact is None:
            if key.startswith("x-"):
                continue
            return None
        kind = fact.type
        if kind == "record":   # dated events: the full path's own reader, whose problems send it there
            value, found = _record_events(fact, value, raw, key, path, data)
            if found:
                return None
        elif kind == "date":
            value = iso_date(value)
            if value is None:
                return None
        elif kind == "boolean":
            if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
                value = value.strip().lower() in TRUE_WORDS
            if not isinstance(value, bool):
                return None
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                return None
        elif kind != "string" or not isinstance(value, str):
            return None   # a kind the full path knows better
        facts[key] = value
    return facts


def _shape(assessment: Assessment) -> str:
    """Everything an assessment holds, in order and with its types (1 and 1.0 and True differ)."""
    a = assessment
    return repr((list(a.company.items()), a.assessed_on, list(a.ratings.items()), list(a.evidence.items()),
                 list(a.facts.items()), a.path, a.profile_na, a.migration, a.version_note))


def _compare_paths(plain: Optional[Assessment], data: Any, path: str, model) -> None:
    """With QMGRADE_CHECK_FAST_PATH: what the fast path accepted, the full path accepts and builds the same."""
    if plain is None:
        return   # the full path decides anyway
    try:
        full = _full_assessment(data, path, model, False)
    except Exception as error:
        raise AssertionError(f"the fast path accepted a record the full path refuses: {error}") from error
    if _shape(full) != _shape(plain):
        raise AssertionError(f"the fast path built {_shape(plain)[:300]}, the full path {_shape(full)[:300]}")


_na_allowed = na_allowed   # the name before issue 10 (tests import it)

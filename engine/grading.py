"""Grading one assessment: scores in, facts asserted, the rules decide, the result read back.

Every conclusion in the result (a cell met, a stave's level, the barrel, a
cap, the company's level) is read from a fact that a rule concluded in
durable_rules; the trace holds the firing that concluded it.  What is derived
here afterwards (blockers, minimal fix) only explains those conclusions.
"""
from __future__ import annotations

import itertools
import json
import operator
from dataclasses import dataclass, field
from functools import cached_property
from math import isfinite
from typing import Any, Dict, List, Optional, Tuple

from .assessment import CHECK_FAST_PATH, Assessment, profile_object
from .errors import EngineError, Problem
from .inference import encode_json, get_inference
from .scoring import SCALE, CellScore, ScoredCells, score_cells, shortfall
from .textsafe import json_text

__all__ = ["grade", "Grade", "level_object", "model_object"]


def model_object(model) -> dict:
    """The model as every result names it: {id, version}."""
    return {"id": model.id, "version": model.version}


def level_object(model, rank: int) -> dict:
    level = model.level(rank)
    return {"rank": level.rank, "id": level.id, "name": dict(level.name)}


def _dimension_facts(model) -> tuple:
    """The model's staves as facts, made once per model (the engine only reads them: issue 13)."""
    return model.derived("_dimension_facts", _find_dimension_facts, model.dimensions)


def _find_dimension_facts(model) -> tuple:
    return tuple(("dimension", {"dimension": dimension.id, "pillar": dimension.pillar}, None)
                 for dimension in model.dimensions)


def base_facts(model, assessment: Assessment, cells: Dict[Tuple[str, int], CellScore],
               detail: bool = True) -> list:
    """The facts asserted for one company: staves, scored cells, company facts."""
    # (kind, fields or a CellFact, extra)
    facts: List[Tuple[str, Any, Optional[Dict[str, Any]]]] = list(_dimension_facts(model))
    evidence = assessment.evidence if detail else None
    for cell in cells.values():
        fact = CellFact(dimension=cell.dimension, level=cell.level)   # dict's own __init__: no Python frame
        fact.cell = cell
        fact.evidence = evidence
        fact._public = None
        facts.append(("cell", fact, None))
    company = {fact.id: assessment.facts.get(fact.id, fact.default) for fact in model.facts
               if fact.type not in ("record", "date")}
    for fact in model.facts:
        if fact.type == "date" and assessment.facts.get(fact.id, fact.default) is not None:
            company[fact.id] = assessment.facts.get(fact.id, fact.default)
    if assessment.assessed_on is not None and _is_date(assessment.assessed_on):
        company["assessed_on"] = assessment.assessed_on
    facts.append(("company", company, None))
    for fact in model.facts:
        if fact.type == "record":
            for index, event in enumerate(assessment.facts.get(fact.id) or ()):
                facts.append((fact.id, {**event, "event": index + 1, **_lifts_on(fact, event)}, None))
    return facts


class CellFact(dict):
    """A scored cell as the engine asserts it (issue 13): durable_rules gets its fields formatted straight from
    the score (engine.inference), and its public form — the trace's, with each criterion's rating when
    ``evidence`` is given (``detail``) — is built only when something reads it.

    As a dict it holds the two fields the cell rules' actions read (``dimension``, ``level``), so that reading
    them is a lookup in C; any other field is read from the public form.  Made by :func:`base_facts`."""

    __slots__ = ("cell", "evidence", "_public")
    cell: CellScore
    evidence: Optional[Dict[str, Any]]
    _public: Optional[dict]

    def fields(self) -> Dict[str, Any]:
        """The fields the rules see (public units)."""
        cell = self.cell
        return {"dimension": cell.dimension, "level": cell.level,
                "score": 0 if cell.score_units is None else cell.score_units / SCALE,
                "applicable": cell.applicable, "keys_below": cell.keys_below}

    def __missing__(self, name: str):
        """A field of the public form, as a rule's action reads it (``{ref: cell.score}``)."""
        return self.public()[name]

    def public(self) -> dict:
        public = self._public
        if public is None:
            public = self._public = {"fact": "cell", **self.fields()}
            evidence = self.evidence
            if evidence is not None:
                public["criteria"] = [
                    {"criterion": criterion.id, "rating": rating if rated else 0.0,
                     **({"not_rated": True} if not rated else {}),
                     "weight": criterion.weight, "key": criterion.key,
                     **({"evidence": evidence[criterion.id]} if criterion.id in evidence else {})}
                    for criterion, rating, rated in self.cell.entries]
                if self.cell.score_units is None:
                    public["score"] = None
        return public


def _is_date(text) -> bool:
    import datetime
    try:
        datetime.date.fromisoformat(str(text))
    except ValueError:
        return False
    return len(str(text)) == 10


def _lifts_on(fact, event: dict) -> dict:
    """{"lifts_on": day} — the event's date (or its ``period_from`` date, when given) plus the
    fact's period in months, the day clamped to the month's end — or {} without a period."""
    import calendar
    import datetime
    if not fact.period_months:
        return {}
    start = datetime.date.fromisoformat(event.get(fact.period_from) or event["date"]
                                        if fact.period_from else event["date"])
    months = start.month - 1 + fact.period_months
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return {"lifts_on": datetime.date(year, month, day).isoformat()}


_READ_BACK = ("met", "unmet", "dimension_level", "barrel", "cap", "company_level")
_RATED, _APPLICABLE = operator.attrgetter("rated"), operator.attrgetter("applicable")   # of a scored cell


def _check_in_model(model, firings, fact: dict) -> None:
    """A read-back conclusion's level and stave must be the model's (a custom rule may set 0 or 99): else an
    EngineError naming the rule whose firing first concluded it."""
    level = fact.get("level")
    if "level" in fact and (type(level) is not int or not model.floor <= level <= model.top_rank):
        bad = f"level {level!r}, which is not a rank of the model ({model.floor}..{model.top_rank})"
    elif "dimension" in fact and fact["dimension"] not in model.dimensions_by_id:
        bad = f"dimension {fact['dimension']!r}, which the model does not define"
    else:
        return
    firing = next((f for f in firings if f.conclusion is fact), None) or \
        next(f for f in firings if f.conclusion == fact)
    rule = next((r for r in model.rules if r.id == firing.rule), None)
    raise EngineError(Problem(rule.path if rule else model.path, rule.line if rule else 1, 1,
                              f"rule {firing.rule!r} concluded {fact['fact']} with {bad}"))


@dataclass(frozen=True, eq=False)
class Grade:
    """The assessment result (issue 10: a frozen value): the rules' conclusions for one company, read back
    from durable_rules, with the explanations derived from them.  Built by :func:`grade`."""

    model: Any
    assessment: Assessment
    cells: ScoredCells                              # (stave, level) -> CellScore, with the company's counts
    firings: List[Any]                              # engine.inference.Firing, in order
    met: Dict[Tuple[str, int], bool]                # (stave, level) -> a rule concluded met / unmet
    dimension_level: Dict[str, int]
    caps: List[dict]
    level: int
    top: int
    barrel: int

    @classmethod
    def from_conclusions(cls, model, assessment: Assessment, cells: ScoredCells, firings, conclusions) -> "Grade":
        """Read the rules' conclusions back; every cell, stave, the barrel and the company level must be
        decided exactly once (an EngineError names what was not)."""
        met: Dict[Tuple[str, int], bool] = {}
        dimension_level: Dict[str, int] = {}
        caps: List[dict] = []
        barrels, levels = set(), set()
        floor, top, dimensions = model.floor, model.top_rank, model.dimensions_by_id
        # each distinct conclusion is checked once (the first out of the model is the first firing's that is)
        for fact in conclusions:
            kind = fact["fact"]
            if kind == "met" or kind == "unmet":
                cell = (fact["dimension"], fact["level"])
                if cell not in cells or type(cell[1]) is not int:   # a scored cell is the model's: else check
                    _check_in_model(model, firings, fact)
                met[cell] = kind == "met"
                continue
            if kind == "dimension_level":
                level = fact["level"]
                if type(level) is not int or not floor <= level <= top or fact["dimension"] not in dimensions:
                    _check_in_model(model, firings, fact)
                dimension_level[fact["dimension"]] = level
                continue
            if kind not in _READ_BACK:
                continue
            _check_in_model(model, firings, fact)
            if kind == "barrel":
                barrels.add(fact["level"])
            elif kind == "cap":
                caps.append(fact)
            elif kind == "company_level":
                levels.add(fact["level"])
        where = model.rules[0].path if model.rules else model.path
        missing = [c for c in cells if c not in met]
        if missing or len(dimension_level) != len(model.dimensions) or len(levels) != 1 or len(barrels) != 1:
            raise EngineError(Problem(where, 1, 1,
                                      "the model's rules did not decide every cell, stave and the company level "
                                      f"exactly once (cells undecided: {len(missing)}, staves: "
                                      f"{len(dimension_level)}/{len(model.dimensions)}, company levels: "
                                      f"{sorted(levels)}, barrel levels: {sorted(barrels)})"))
        return cls(model, assessment, cells, firings, met, dimension_level, caps, levels.pop(), model.top_rank,
                   barrels.pop())

    @property
    def shortest(self) -> List[str]:
        return [d.id for d in self.model.dimensions if self.dimension_level[d.id] == self.barrel]

    def holding_caps(self) -> List[dict]:
        """Cap firings that keep the company from its next level.

        That is every cap at or below the company's level: those holding it
        below its barrel level, and a cap equal to a barrel level, which no
        criterion fix can lift either (CONTRACT §5 asks for the first kind;
        the second would otherwise leave a minimal fix that cannot work
        unexplained).
        """
        return [{**cap, "facts": firing.facts} for cap, firing in self._cap_firings()
                if cap["level"] <= self.level]

    @cached_property
    def _caps_fired(self) -> list:
        """The firings that concluded a cap, in order (looked for once: a result asks twice)."""
        if not self.caps:   # no rule concluded a cap (most companies): nothing to look for
            return []
        return [firing for firing in self.firings if firing.conclusion["fact"] == "cap"]

    def _cap_firings(self):
        """(cap entry, firing) for every cap that fired, in firing order (issue 9: with when it lifts)."""
        rules = None
        for firing in self._caps_fired:
            fact = firing.conclusion
            if rules is None:
                rules = {rule.id: rule for rule in self.model.rules}
            rule = rules.get(firing.rule)
            entry = {"rule": firing.rule, "level": fact["level"],
                     # the day the cap lifts; None when the rule cannot know it (an undated fact)
                     "until": fact.get("until"), "since": fact.get("since"),
                     "reason": dict(rule.description) if rule else None}
            yield entry, firing

    def dated_caps(self) -> List[dict]:
        """Every cap that fired: {rule, level, until, since, reason, holding}; ``holding`` when it is at or
        below the company's level (it keeps the company where it is)."""
        return [{**cap, "holding": cap["level"] <= self.level} for cap, _ in self._cap_firings()]

    def unmet_cells(self, up_to: int) -> List[Tuple[str, int]]:
        return [cell for cell in self.cells if cell[1] <= up_to and not self.met[cell]]

    def blockers(self, rank: int, unmet: Optional[List[Tuple[str, int]]] = None) -> List[dict]:
        """Every criterion below full in an unmet cell up to ``rank`` (na left out), in model order (``unmet``:
        those cells, when the caller has them)."""
        return [_blocker(row) for row in self._shortfall(self.unmet_cells(rank) if unmet is None else unmet)[0]]

    def minimal_fix(self, rank: int, unmet: Optional[List[Tuple[str, int]]] = None) -> List[str]:
        return self._shortfall(self.unmet_cells(rank) if unmet is None else unmet)[1]

    def _shortfall(self, unmet: List[Tuple[str, int]]) -> Tuple[List[tuple], List[str]]:
        """(the blockers as (criterion, dimension, level, rating, key, rated) rows — issue 13: a batch line writes
        them without a dict for each —, the minimal fix) of the ``unmet`` cells, each cell's criteria read once
        (engine.scoring.shortfall)."""
        rows: List[tuple] = []
        fix: List[str] = []
        model, cells = self.model, self.cells
        for cell in unmet:
            found = shortfall(model, cells[cell])
            rows.extend(found[0])
            fix.extend(found[1])
        return rows, fix

    @cached_property
    def applicable_to(self) -> Dict[str, int]:
        """Dimension id -> the highest level with an applicable criterion (issue 11).

        Worked out once per grade: read per stave, it cost a third of a batch's time (issue 13)."""
        from .coverage import applicable_to_cells, model_applicable_to
        if self.cells.none_na:   # the model's own
            found = dict(model_applicable_to(self.model))
            if CHECK_FAST_PATH and found != applicable_to_cells(self.model, self.cells):  # pragma: no cover
                raise AssertionError("applicable_to: the model's differs from the cells'")
            return found
        return applicable_to_cells(self.model, self.cells)

    @cached_property
    def _next_level(self) -> Optional[Tuple[int, List[tuple], List[str], List[dict]]]:
        """(rank, blockers as rows (see _shortfall), minimal fix, holding caps) of the next level; None at
        the top."""
        if self.level >= self.model.top_rank:
            return None
        rank = self.level + 1
        rows, fix = self._shortfall(self.unmet_cells(rank))
        return rank, rows, fix, self.holding_caps()

    def summary_fields(self) -> dict:
        """The part of :meth:`as_dict` the statistics read (engine.stats.summarize), without the rest."""
        following = self._next_level
        return {"company": self.assessment.company, "model": model_object(self.model),
                "level": level_object(self.model, self.level), "barrel": {"shortest": self.shortest},
                "provisional": self._completeness[0]["provisional"],
                "next_level": None if following is None else {"blockers": [{"criterion": row[0]} for row in following[1]],
                                                                "minimal_fix": following[2]}}

    @cached_property
    def _completeness(self) -> Tuple[dict, Tuple[str, ...]]:
        """(the coverage counts, the red flags), worked out once per grade: a batch line and the statistics'
        summary both ask (issue 13)."""
        from .coverage import counted_coverage, red_flags
        rated, applicable = self.cells.rated, self.cells.applicable   # counted while scoring
        if CHECK_FAST_PATH:
            cells = self.cells.values()
            if (rated, applicable) != (sum(map(_RATED, cells)), sum(map(_APPLICABLE, cells))):  # pragma: no cover
                raise AssertionError("coverage: the counts made while scoring differ from the cells'")
        return counted_coverage(self.model, rated, applicable), tuple(red_flags(self.model, self.assessment.ratings))

    def completeness(self) -> dict:
        """``coverage`` {rated, applicable, share}, ``provisional`` and ``red_flags`` (issue 11); a new dict
        each call, which the caller may change."""
        share, flags = self._completeness
        return {"coverage": {k: share[k] for k in ("rated", "applicable", "share", "min_coverage")},
                "provisional": share["provisional"], "red_flags": list(flags)}

    def not_rated(self) -> List[str]:
        """The criteria without a rating, in model order."""
        criteria, ratings = self.model.criteria, self.assessment.ratings
        if self.cells.all_rated:   # seen while scoring
            if CHECK_FAST_PATH and not criteria.keys() <= ratings.keys():   # pragma: no cover
                raise AssertionError("not_rated: the cells say every criterion is rated, the ratings do not")
            return []
        return list(itertools.filterfalse(ratings.__contains__, criteria))   # the loop in C

    def to_json(self, trace: bool = True) -> str:
        """The text ``qmgrade assess --format json`` prints (``--no-trace``: ``trace=False``)."""
        from .export import dumps
        return dumps(self.as_dict(trace=trace))

    def json_line(self, visible: bool = False) -> str:
        """``json.dumps(self.as_dict(trace=False), ensure_ascii=False)`` — the batch's line for this company —
        written from fragments of the model encoded once (each stave's id, pillar and name, each level's
        object) around the company's own values (issue 13: a batch spent a fifth of its time building the
        dict and encoding it).  The same text, character for character: tests/test_json_line.py compares
        them, and with QMGRADE_CHECK_FAST_PATH=1 (the test suite) every call does.

        ``visible``: the line as ``textsafe.json_text`` writes it (invisible characters escaped), the whole
        line scanned only when a part that can hold one does: the model's texts (looked at once per model),
        the company, the date, the profile and the caps; everything else is ids (ASCII by the schema),
        numbers and booleans (issue 13: the scan of a whole line cost 2 % of a batch)."""
        model = self.model
        fragments = _fragments(model)
        encode = encode_json   # JSONEncoder.encode builds a new C encoder for every list or dict it encodes
        assessment = self.assessment
        cells, met, levels = self.cells, self.met, self.dimension_level
        applicable_to = self.applicable_to
        score_text = _SCORE_TEXT
        staves = []
        for dimension, prefix, ranks in fragments.staves:
            scores = []
            flags = []
            for cell, label in ranks:
                units = cells[cell].score_units
                text = score_text.get(units)
                if text is None:
                    text = "null" if units is None else repr(units / SCALE)
                    if len(score_text) < _SCORE_TEXTS:
                        score_text[units] = text
                scores.append(label + text)
                flags.append(label + ("true" if met[cell] else "false"))
            staves.append(f'{prefix}{levels[dimension]!r}, "scores": {{{", ".join(scores)}}}, '
                          f'"met": {{{", ".join(flags)}}}, "applicable_to": {applicable_to[dimension]!r}}}')
        complete = self.completeness()
        following = "null"
        holding_text = "[]"
        if self._next_level is not None:
            rank, blockers, fix, holding = self._next_level
            holding_text = encode(holding)
            following = (f'{fragments.levels[rank][:-1]}, "blockers": {_blockers_text(fragments, blockers)}, '
                         f'"minimal_fix": {encode(fix)}, "caps": {holding_text}}}')
        company = encode(dict(assessment.company))
        assessed_on = encode(assessment.assessed_on)
        profile = encode(profile_object(model, assessment))
        caps = encode(self.dated_caps())
        line = (f'{{"company": {company}, "assessed_on": {assessed_on}, '
                f'"model": {fragments.model}, "profile": {profile}, '
                f'"level": {fragments.levels[self.level]}, '
                f'"barrel": {{"rank": {self.barrel!r}, "shortest": {encode(self.shortest)}}}, '
                f'"dimensions": [{", ".join(staves)}], "not_rated": {encode(self.not_rated())}, '
                f'"coverage": {encode(complete["coverage"])}, "provisional": {encode(complete["provisional"])}, '
                f'"red_flags": {encode(complete["red_flags"])}, "caps": {caps}, '
                f'"next_level": {following}}}')
        if CHECK_FAST_PATH:
            expected = _ENCODER.encode(self.as_dict(trace=False))
            if line != expected:   # pragma: no cover - what the check is for
                raise AssertionError(f"json_line differs from as_dict:\n{line}\n{expected}")
        if not visible:
            return line
        if fragments.printable and company.isprintable() and assessed_on.isprintable() and profile.isprintable() \
                and caps.isprintable() and holding_text.isprintable():
            if CHECK_FAST_PATH and json_text(line) != line:   # pragma: no cover - what the check is for
                raise AssertionError(f"json_line skipped the scan of a line with an invisible character:\n{line}")
            return line
        return json_text(line)

    def as_dict(self, trace: bool = True) -> dict:
        model = self.model
        ranks = [(k, str(k)) for k in model.criteria_ranks]
        result = {
            "company": dict(self.assessment.company),
            "assessed_on": self.assessment.assessed_on,
            "model": model_object(model),
            "profile": profile_object(model, self.assessment),
            "level": level_object(model, self.level),
            "barrel": {"rank": self.barrel, "shortest": self.shortest},
            "dimensions": [
                {"id": d.id, "pillar": d.pillar, "name": dict(d.name), "level": self.dimension_level[d.id],
                 "scores": {key: self.cells[(d.id, k)].score for k, key in ranks},
                 "met": {key: self.met[(d.id, k)] for k, key in ranks},
                 "applicable_to": self.applicable_to[d.id]}
                for d in model.dimensions],
            "not_rated": self.not_rated(),
            # issue 11: how complete the ratings are, staves that stop applying, critical criteria rated low
            **self.completeness(),
            "caps": self.dated_caps(),
            "next_level": None,
        }
        if self._next_level is not None:
            rank, blockers, fix, holding = self._next_level
            # copies: a caller may change its dict without changing this grade's
            result["next_level"] = {**level_object(model, rank), "blockers": [_blocker(row) for row in blockers],
                                    "minimal_fix": list(fix), "caps": [dict(c) for c in holding]}
        if trace:
            result["trace"] = [f.as_dict() for f in self.firings]
        return result


_ENCODER = json.JSONEncoder(ensure_ascii=False)
# a score's millionths -> its text in a result line, shared by every company (a float's repr is dear; a model's
# cells take a few thousand distinct scores at most, and free-typed ratings must not grow it without bound)
_SCORE_TEXT: Dict[Optional[int], str] = {}
_SCORE_TEXTS = 65536


@dataclass(frozen=True)
class _Fragments:
    """The parts of a result line that depend only on the model, JSON-encoded once."""

    model: str
    levels: Dict[int, str]                              # rank -> its level object
    staves: Tuple[Tuple[str, str, Tuple[Tuple[Tuple[str, int], str], ...]], ...]   # (id, '{"id": …, "level": ',
    #                                                                            ((cell, '"k": '), ...))
    printable: bool                                     # no invisible character in any of them
    # (criterion, dimension, level) -> '{"criterion": …, "dimension": …, "level": …, "rating": ', filled as met
    blockers: Dict[Tuple[str, str, int], str] = field(default_factory=dict)


def _fragments(model) -> _Fragments:
    return model.derived("_json_fragments", _find_fragments)


def _find_fragments(model) -> _Fragments:
    encode = _ENCODER.encode
    staves = tuple((d.id, f'{{"id": {encode(d.id)}, "pillar": {encode(d.pillar)}, '
                          f'"name": {encode(dict(d.name))}, "level": ',
                    tuple(((d.id, k), f'"{k}": ') for k in model.criteria_ranks)) for d in model.dimensions)
    texts = (encode(model_object(model)),
             {level.rank: encode(level_object(model, level.rank)) for level in model.levels}, staves)
    printable = all(text.isprintable() for text in [texts[0], *texts[1].values()]
                    + [prefix + "".join(label for _, label in labels) for _, prefix, labels in staves])
    return _Fragments(*texts, printable)


def _blocker(row: tuple) -> dict:
    """A blocker's dict from its row (see Grade._shortfall)."""
    ident, dimension, level, rating, key, rated = row
    if rated:
        return {"criterion": ident, "dimension": dimension, "level": level, "rating": rating, "key": key}
    return {"criterion": ident, "dimension": dimension, "level": level, "rating": rating, "key": key,
            "not_rated": True}


def _blockers_text(fragments: _Fragments, rows: List[tuple]) -> str:
    """``encode_json([_blocker(row) for row in rows])``, written from each criterion's encoded start (kept per
    model) and its rating (issue 13: encoding the blockers cost a fortieth of a batch)."""
    starts = fragments.blockers
    parts = []
    for row in rows:
        ident, dimension, level, rating, key, rated = row
        kind = type(rating)
        if type(key) is not bool or not (kind is int or kind is float and isfinite(rating)):   # not as validated
            parts.append(encode_json(_blocker(row)))
            continue
        start = starts.get(row[:3])
        if start is None:
            start = starts[row[:3]] = (f'{{"criterion": {encode_json(ident)}, "dimension": {encode_json(dimension)}, '
                                       f'"level": {encode_json(level)}, "rating": ')
        number = float.__repr__(rating) if kind is float else int.__repr__(rating)
        flag = "true" if key else "false"
        parts.append(f'{start}{number}, "key": {flag}}}' if rated
                     else f'{start}{number}, "key": {flag}, "not_rated": true}}')
    return "[" + ", ".join(parts) + "]"


def grade(model, assessment: Assessment, detail: bool = True) -> Grade:
    """Grade ``assessment`` against ``model`` in durable_rules.

    ``detail`` puts each cell's criterion ratings and evidence in the trace.

    Raises
    ------
    EngineError when the rules fail or decide incompletely.
    """
    cells = score_cells(model, assessment.ratings)
    inference = get_inference(model)
    firings, conclusions = inference.run(base_facts(model, assessment, cells, detail))
    return Grade.from_conclusions(model, assessment, cells, firings, conclusions)

"""The rule language: one YAML rule per file, compiled into durable_rules rulesets.

A rule names fact kinds in ``when`` (patterns, joined; ``not: true`` negates)
and the fact kind it asserts in ``then``.  Everything is checked when the model
loads: a rule that names an unknown fact kind or field, refers to a pattern
that is not defined before it, or is malformed fails with its file and line.

Ratios (``score``) and company numbers are asserted into durable_rules as
integer millionths, because its JSON parser mishandles floats such as
``1e-05``; the compiler converts literals and parameters accordingly.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import schema
from .errors import ModelError, Problem, suggestion
from .yamlio import load_file, position, value_position

__all__ = ["Rule", "RuleSet", "Pattern", "load_rules", "compile_ruleset", "kind_mark", "BASE_KINDS", "PHASES", "REQUIRED_CONCLUSIONS",
           "STAVE_KIND", "stave_kind", "met_field", "CAP",
           "SCALED_TYPES", "EVENT_FIELDS"]

SCALE = 1_000_000
PHASES = ("barrel", "decide")
# Fact kinds the engine asserts, with their field types.
BASE_KINDS: Dict[str, Dict[str, str]] = {
    "dimension": {"dimension": "str", "pillar": "str"},
    "cell": {"dimension": "str", "level": "int", "score": "ratio", "applicable": "int", "keys_below": "int"},
    "phase": {"name": "str"},
    # "company" is built from the model's declared facts; "stave" from the model's levels (stave_kind)
}
# A stave's met/unmet pattern (issue 13): once the cell rules have decided every cell, the engine asserts one
# ``stave`` fact per stave carrying those decisions (``met_2`` … ``met_5``: true when a rule concluded the
# cell met, false when one concluded it unmet), so that one rule per stave level — a decision table — can
# conclude each stave's level in one firing instead of a climb through the levels.
STAVE_KIND = "stave"


def stave_kind(cell_ranks: Sequence[int]) -> Dict[str, str]:
    """The fields of the ``stave`` fact for a model whose cells sit at ``cell_ranks`` (2..5 shipped)."""
    return {"dimension": "str", "pillar": "str", **{met_field(rank): "bool" for rank in cell_ranks}}


def met_field(rank: int) -> str:
    """The ``stave`` field that says whether the stave's cell at ``rank`` is met: ``met_3``."""
    return f"met_{rank}"

# Kinds the engine reads back from the rules' conclusions, with the fields it needs.
REQUIRED_CONCLUSIONS: Dict[str, Tuple[str, ...]] = {
    "met": ("dimension", "level"),
    "unmet": ("dimension", "level"),
    "dimension_level": ("dimension", "level"),
    "barrel": ("level",),
    "company_level": ("level",),
}
_OPS = {"eq": None, "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte", "exists": "$ex"}
# Field types as declared in knowledge/facts.yaml, in the rule language's words.
_FACT_TYPES = {"boolean": "bool", "number": "number", "string": "str", "date": "date"}
# Fields the engine adds to every event of a record fact (issue 9): its position in the
# input, and the day its cap lifts (the event's date + the fact's period_months).
EVENT_FIELDS = {"event": "int", "lifts_on": "date"}
# Types durable_rules sees in another form than the public one: ratios and numbers as
# integer millionths, dates ("2027-06-01") as integers 20270601 (DURABLE traps 5 and 6).
SCALED_TYPES = ("ratio", "number", "date")
_PARAM_TYPES = {"threshold": "ratio", "key_minimum": "ratio", "top_rank": "int"}
_RESERVED = {"sid", "id", "t", "fact"}   # durable_rules's own fields, and the trace's kind


@dataclass
class Pattern:
    name: str
    kind: str
    negated: bool
    tests: List[Tuple[str, str, object]]      # (field, op, value-spec)


@dataclass
class Rule:
    """A checked rule, ready to compile."""

    id: str
    description: dict
    path: str
    line: int
    salience: int
    patterns: List[Pattern]
    conclude: str
    set: Dict[str, object]
    sources: tuple = ()
    rationale: Optional[dict] = None
    field_types: Dict[str, str] = field(default_factory=dict)   # of the conclusion

    @property
    def matched(self) -> List[Pattern]:
        return [p for p in self.patterns if not p.negated]


def _all_languages(text) -> dict:
    """A text in every language a renderer may ask for (a one-language model's text stands for the others)."""
    return {lang: text.get(lang) or next(v for v in text.values() if v) for lang in schema.LANGUAGES}


def _value_type(spec, kinds, patterns_so_far, literal_hint):
    """Type of a value spec, or raise ValueError with a message."""
    if isinstance(spec, dict) and "ref" in spec:
        alias, _, fld = spec["ref"].partition(".")
        pattern = patterns_so_far.get(alias)
        if pattern is None:
            suffix = suggestion(alias, patterns_so_far)
            raise ValueError(f"ref {spec['ref']!r} names no earlier pattern {alias!r}{suffix}")
        if pattern.negated:
            raise ValueError(f"ref {spec['ref']!r} names a negated pattern")
        fields = kinds[pattern.kind]
        if fld not in fields:
            suffix = suggestion(fld, fields)
            raise ValueError(f"fact {pattern.kind!r} has no field {fld!r}{suffix}")
        kind = fields[fld]
        if spec.get("add") and kind != "int":
            raise ValueError(f"'add' needs an integer field, {spec['ref']!r} is {kind}")
        return kind
    if isinstance(spec, dict) and "param" in spec:
        return _PARAM_TYPES[spec["param"]]
    if isinstance(spec, bool):
        return "bool"
    if literal_hint == "date" and isinstance(spec, str) and _date_number(spec) is not None:
        return "date"
    if isinstance(spec, int):
        return "int" if literal_hint not in ("ratio", "number") else literal_hint
    if isinstance(spec, float):
        return literal_hint if literal_hint in ("ratio", "number") else "float"
    return "str"


def _compatible(field_type: str, value_type: str) -> bool:
    if field_type == value_type:
        return True
    if field_type in ("ratio", "number") and value_type in ("int", "float", "ratio", "number"):
        return True
    return field_type == "int" and value_type == "int"


@dataclass(frozen=True)
class RuleSet(Sequence[Rule]):
    """The model's checked rules, in file order, with the fact kinds they were checked against.

    A value (issue 10): ``kinds`` — every fact kind and its fields' types, the engine's and the
    conclusions' — travels with the rules instead of being patched onto each of them.  It reads as
    a sequence of :class:`Rule` (``len``, iteration, indexing).
    """

    rules: Tuple[Rule, ...] = ()
    kinds: Dict[str, Dict[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __getitem__(self, index):
        return self.rules[index]

    @property
    def read_kinds(self) -> frozenset:
        """The fact kinds some rule's pattern reads (negated patterns included).

        The engine asserts only these (issue 13): a fact no pattern reads can match nothing, and a
        conclusion no rule reads is recorded in the trace but never costs durable_rules a fact.
        """
        return frozenset(p.kind for rule in self.rules for p in rule.patterns)

    @property
    def compared_fields(self) -> Dict[str, frozenset]:
        """Kind -> the fields durable_rules compares of its facts: those a pattern of the kind tests, and
        those another pattern's test refers to through it (``level: {lt: {ref: stave.level}}``).

        The engine gives durable_rules only these (issue 13: parsing a fact's fields is a good part of its
        cost); an action reads every field from the fact's public form, never from durable_rules.
        """
        fields: Dict[str, set] = {kind: set() for kind in self.read_kinds}
        for rule in self.rules:
            kind_of = {pattern.name: pattern.kind for pattern in rule.patterns}
            for pattern in rule.patterns:
                for name, _, spec in pattern.tests:
                    fields[pattern.kind].add(name)
                    if isinstance(spec, dict) and "ref" in spec:
                        alias, _, referred = str(spec["ref"]).partition(".")
                        if alias in kind_of:
                            fields[kind_of[alias]].add(referred)
        return {kind: frozenset(names) for kind, names in fields.items()}


def load_rules(paths: List[Path], shown: Callable[[Path], str], fact_types: Dict[str, Union[str, Dict[str, str]]],
               source_ids: set, top_rank: int, languages=schema.LANGUAGES,
               floor: int = 1) -> Tuple[RuleSet, List[Problem]]:
    """Parse and check every rule file; returns the rules and the problems found.

    In steps: the fact kinds of the model's facts, the rule files read and checked against the
    schema, the kinds the rules conclude, each rule checked, the conclusions' types agreed, and
    the conclusions the engine needs present.
    """
    problems: List[Problem] = []
    kinds = _fact_kinds(fact_types, problems)
    kinds[STAVE_KIND] = stave_kind(range(floor + 1, top_rank + 1))
    documents, broken_kinds = _read_rule_files(paths, shown, languages, problems)
    concluded = _conclusion_kinds(documents, kinds, problems)
    rules = [rule for rule_id, name, document in documents
             if (rule := _checked_rule(rule_id, name, document, kinds, broken_kinds, source_ids, problems))]
    _agree_conclusion_types(rules, kinds, problems)
    if paths and not problems:
        _require_conclusions(shown(paths[0].parent), concluded, problems)
    return RuleSet(tuple(rules), kinds), problems


def _fact_kinds(fact_types, problems: List[Problem]) -> Dict[str, Dict[str, str]]:
    """The engine's fact kinds, ``company`` with the model's facts, and one kind per record fact."""
    kinds: Dict[str, Dict[str, str]] = {k: dict(v) for k, v in BASE_KINDS.items()}
    company: Dict[str, str] = {}
    for fact_id, fact_type in fact_types.items():
        if fact_id in _RESERVED or fact_id in ("assessed_on", STAVE_KIND) or fact_id in kinds:
            problems.append(Problem("knowledge", 1, 1, f"fact id {fact_id!r} is reserved", "reserved"))
        if isinstance(fact_type, dict):   # a record fact: each event is a fact of its own kind
            kinds[fact_id] = {**{k: _FACT_TYPES[v] for k, v in fact_type.items()}, **EVENT_FIELDS}
            continue
        company[fact_id] = _FACT_TYPES[fact_type]
    company["assessed_on"] = "date"   # the assessment's date, for rules that date a cap
    kinds["company"] = company
    return kinds


def _read_rule_files(paths, shown, languages, problems: List[Problem]) -> Tuple[list, set]:
    """(rule id, shown name, document) of every well-formed rule file, and the kinds broken files conclude."""
    documents = []
    broken_kinds: set = set()   # concluded by a rule that is already reported broken
    for path in paths:
        name = shown(path)
        try:
            document = load_file(str(path), ModelError)
        except ModelError as exc:
            problems.extend(Problem(name, p.line, p.col, p.message, p.code) for p in exc.problems)
            if all(p.code == "duplicate-key" for p in exc.problems):  # still readable, leniently
                broken_kinds |= _conclusion_of(_lenient_load(path))
            continue
        if document is None:
            problems.append(Problem(name, 1, 1, "empty rule file", "schema"))
            continue
        found = schema.check(document, schema.rule_file_schema(languages), name)
        if found:
            problems.extend(found)
            broken_kinds |= _conclusion_of(document)
            continue
        rule_id = path.stem
        if not schema_id_ok(rule_id):
            problems.append(Problem(name, 1, 1, f"rule id (file name) {rule_id!r} is not a valid id", "schema"))
            continue
        documents.append((rule_id, name, document))
    return documents, broken_kinds


def _conclusion_kinds(documents, kinds, problems: List[Problem]) -> Dict[str, Dict[str, str]]:
    """The kinds the rules conclude, with the fields every rule sets on them, added to ``kinds``
    (a first pass, so that rules may read any conclusion)."""
    concluded: Dict[str, Dict[str, str]] = {}
    for _rule_id, name, document in documents:
        kind = document["then"]["conclude"]
        if kind in BASE_KINDS or kind in ("company", STAVE_KIND):
            problems.append(Problem(name, *value_position(document["then"], "conclude"),
                                    f"a rule may not conclude {kind!r}: the engine asserts it", "conclusion"))
            continue
        concluded.setdefault(kind, {})
        for fld in document["then"].get("set", {}):
            concluded[kind].setdefault(fld, "?")
    for kind, fields in concluded.items():
        kinds[kind] = dict(fields)
    # a model without cap rules may still read caps (there are none)
    kinds.setdefault("cap", {"level": "int"})
    _infer_conclusion_types(documents, kinds)
    return concluded


def _checked_rule(rule_id, name, document, kinds, broken_kinds, source_ids, problems: List[Problem]) -> Optional[Rule]:
    """One rule checked against the kinds; None when it has a problem (reported) or reads a broken rule's kind."""
    before = len(problems)
    skipped: set = set()   # patterns on a kind whose (broken) rule is reported already

    def cascades(spec) -> bool:
        return isinstance(spec, dict) and "ref" in spec and spec["ref"].partition(".")[0] in skipped

    patterns, ordered = _rule_patterns(name, document, kinds, broken_kinds, skipped, cascades, problems)
    then = document["then"]
    types = _conclusion_types(name, then, kinds, patterns, cascades, problems)
    for ref in document.get("sources", []):
        if ref["source"] not in source_ids:
            suffix = suggestion(ref["source"], source_ids)
            problems.append(Problem(name, *value_position(ref, "source"),
                                    f"unknown source {ref['source']!r}{suffix}", "unknown-id"))
    if len(problems) > before or skipped:
        return None
    return Rule(
        id=rule_id, description=_all_languages(document["description"]), path=name,
        line=document.pos[0] if hasattr(document, "pos") else 1,
        salience=document.get("salience", 100), patterns=ordered, conclude=then["conclude"],
        set=dict(then.get("set", {})),
        sources=tuple(dict(s) for s in document.get("sources", [])),
        rationale=_all_languages(document["rationale"]) if "rationale" in document else None,
        field_types=types,
    )


def _rule_patterns(name, document, kinds, broken_kinds, skipped, cascades, problems: List[Problem]):
    """The rule's ``when`` patterns checked: ({name: pattern}, patterns in order)."""
    patterns: Dict[str, Pattern] = {}
    ordered: List[Pattern] = []
    for index, item in enumerate(document["when"]):
        kind = item["fact"]
        where = position(document["when"], index)
        if kind not in kinds and kind in broken_kinds:
            skipped.add(item.get("as", kind))
            continue
        if kind not in kinds:
            suffix = suggestion(kind, kinds)
            problems.append(Problem(name, *value_position(item, "fact"),
                                    f"unknown fact {kind!r}{suffix}", "unknown-fact"))
            continue
        alias = item.get("as", kind)
        if alias in patterns:
            problems.append(Problem(name, *where, f"pattern name {alias!r} is used twice; give one an 'as'",
                                    "schema"))
            continue
        pattern = Pattern(alias, kind, bool(item.get("not", False)), [])
        for fld, test in item.get("where", {}).items():
            _add_test(name, item, kind, fld, test, pattern, kinds, patterns, cascades, problems)
        patterns[alias] = pattern
        ordered.append(pattern)
    if ordered and all(p.negated for p in ordered):
        problems.append(Problem(name, *position(document, "when"), "a rule needs at least one pattern that is not negated",
                                "schema"))
    free = _unlinked(ordered)
    if len(free) > MAX_UNLINKED:
        problems.append(Problem(name, *position(document, "when"),
                                f"patterns {', '.join(repr(p.name) for p in free)} are not linked to an earlier "
                                f"pattern by an equality ref: durable_rules would try every combination of their "
                                f"facts; link them (e.g. dimension: {{ref: {free[0].name}.dimension}})",
                                "cartesian-join"))
    return patterns, ordered


def _add_test(name, item, kind, fld, test, pattern, kinds, patterns, cascades, problems: List[Problem]) -> None:
    """One ``where`` test of a pattern checked and, when sound, added to it."""
    tpos = value_position(item["where"], fld)
    if fld not in kinds[kind]:
        suffix = suggestion(fld, kinds[kind])
        what = "the model defines no company fact" if kind == "company" else f"fact {kind!r} has no field"
        problems.append(Problem(name, *position(item["where"], fld), f"{what} {fld!r}{suffix}", "unknown-fact"))
        return
    if isinstance(test, dict) and len(test) == 1 and next(iter(test)) in _OPS:
        op, spec = next(iter(test.items()))
    else:
        op, spec = "eq", test
    if cascades(spec):
        return
    field_type = kinds[kind][fld]
    if op == "exists":
        if not isinstance(spec, bool):
            problems.append(Problem(name, *tpos, "exists takes true or false", "type"))
        else:
            pattern.tests.append((fld, op, spec))
        return
    try:
        vtype = _value_type(spec, kinds, patterns, field_type)
    except ValueError as exc:
        problems.append(Problem(name, *tpos, str(exc), "bad-ref"))
        return
    if field_type != "?" and vtype != "?" and not _compatible(field_type, vtype):
        problems.append(Problem(name, *tpos, f"field {kind}.{fld} is {field_type}, compared with a {vtype}", "type"))
        return
    if kind == "phase" and fld == "name" and not isinstance(spec, dict) and spec not in PHASES:
        problems.append(Problem(name, *tpos, f"unknown phase {spec!r}; phases are {', '.join(PHASES)}",
                                "unknown-fact"))
        return
    pattern.tests.append((fld, op, spec))


def _conclusion_types(name, then, kinds, patterns, cascades, problems: List[Problem]) -> Dict[str, str]:
    """The types of the fields the rule's ``then`` sets, and the fields the engine reads there checked."""
    types: Dict[str, str] = {}
    for fld, spec in then.get("set", {}).items():
        if fld in _RESERVED:
            problems.append(Problem(name, *position(then["set"], fld), f"field name {fld!r} is reserved", "reserved"))
            continue
        if cascades(spec):
            continue
        try:
            types[fld] = _value_type(spec, kinds, patterns, None)
        except ValueError as exc:
            problems.append(Problem(name, *value_position(then["set"], fld), str(exc), "bad-ref"))
    for fld in {**REQUIRED_CONCLUSIONS, "cap": ("level",)}.get(then["conclude"], ()):
        wanted = "str" if fld == "dimension" else "int"
        if fld not in then.get("set", {}):
            problems.append(Problem(name, *value_position(then, "conclude"),
                                    f"a rule concluding {then['conclude']!r} must set {fld!r}: the engine "
                                    f"reads it", "conclusion"))
        elif types.get(fld, wanted) not in (wanted, "?"):
            must = "an integer" if wanted == "int" else "text"
            problems.append(Problem(name, *value_position(then["set"], fld),
                                    f"{then['conclude']}.{fld} must be {must}, found a {types[fld]}", "type"))
    return types


def _agree_conclusion_types(rules: List[Rule], kinds, problems: List[Problem]) -> None:
    """Conclusion field types must agree between rules; fills the kinds table."""
    for rule in rules:
        for fld, ftype in rule.field_types.items():
            known = kinds[rule.conclude].get(fld, "?")
            if known not in ("?", ftype) and not (_compatible(known, ftype) and _compatible(ftype, known)):
                problems.append(Problem(rule.path, rule.line, 1,
                                        f"field {rule.conclude}.{fld} is {ftype} here but {known} in another rule",
                                        "type"))
            kinds[rule.conclude][fld] = ftype


def _require_conclusions(where: str, concluded, problems: List[Problem]) -> None:
    """Every conclusion the engine reads back is concluded by some rule, with the fields it needs."""
    for kind, needed in REQUIRED_CONCLUSIONS.items():
        if kind not in concluded:
            problems.append(Problem(where, 1, 1, f"no rule concludes {kind!r}, which the engine needs", "conclusion"))
            continue
        for fld in needed:
            if fld not in concluded[kind]:
                problems.append(Problem(where, 1, 1, f"no rule sets {kind}.{fld}, which the engine needs",
                                        "conclusion"))


# At most this many patterns per rule may match independently of the earlier ones (their
# fact counts multiply: four unlinked patterns over 48 cells are 5 million combinations).
MAX_UNLINKED = 3
_SINGLETONS = {"phase", "company"}   # one or two facts per company: joining them costs nothing


def _unlinked(patterns: List[Pattern]) -> List[Pattern]:
    """Non-negated patterns with no equality ref to an earlier pattern (singleton kinds aside)."""
    return [p for p in patterns
            if not p.negated and p.kind not in _SINGLETONS
            and not any(op == "eq" and isinstance(spec, dict) and "ref" in spec for _, op, spec in p.tests)]


def _conclusion_of(document) -> set:
    """The kind a (broken) rule document concludes, when that much can be read."""
    then = document.get("then") if isinstance(document, dict) else None
    kind = then.get("conclude") if isinstance(then, dict) else None
    return {kind} if isinstance(kind, str) else set()


def _lenient_load(path: Path):
    """A rule file with duplicate keys, read as PyYAML would (the last key wins): only to avoid cascades."""
    import yaml
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, ValueError):
        return None


def _infer_conclusion_types(documents, kinds) -> None:
    """Give conclusion fields the types of what sets them (refs may chain through other rules)."""
    for _ in range(len(documents) + 1):
        changed = False
        for _, _, document in documents:
            target = kinds.get(document["then"]["conclude"])
            if target is None:
                continue
            aliases = {item.get("as", item["fact"]): item["fact"] for item in document["when"]
                       if not item.get("not")}
            for fld, spec in document["then"].get("set", {}).items():
                if target.get(fld, "?") != "?":
                    continue
                if isinstance(spec, dict) and "ref" in spec:
                    alias, _, src = spec["ref"].partition(".")
                    found = kinds.get(aliases.get(alias, ""), {}).get(src, "?")
                elif isinstance(spec, dict) and "param" in spec:
                    found = _PARAM_TYPES.get(spec["param"], "?")
                else:
                    found = _value_type(spec, kinds, {}, None)
                if found != "?":
                    target[fld] = found
                    changed = True
        if not changed:
            return


def schema_id_ok(ident: str) -> bool:
    import re
    return re.match(schema.ID_PATTERN, ident) is not None


def _date_number(text: str):
    """20270601 for "2027-06-01" (a real calendar day), else None."""
    import datetime
    try:
        day = datetime.date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
    return None if day is None else day.year * 10000 + day.month * 100 + day.day


def scaled(value, field_type: str):
    """A literal as durable_rules sees it (ratios and numbers in millionths, dates as YYYYMMDD)."""
    if field_type in ("ratio", "number") and not isinstance(value, bool) and isinstance(value, (int, float)):
        return round(value * SCALE)
    if field_type == "date" and isinstance(value, str):
        number = _date_number(value)
        return value if number is None else number
    return value


def _spec_json(spec, field_type: str, params: Dict[str, object]):
    if isinstance(spec, dict) and "ref" in spec:
        alias, _, fld = spec["ref"].partition(".")
        ref = {alias: fld}
        if spec.get("add"):
            return {"$add": {"$l": ref, "$r": spec["add"]}}
        return ref
    if isinstance(spec, dict) and "param" in spec:
        return params[spec["param"]]
    return scaled(spec, field_type)


def kind_mark(kind: str) -> str:
    """The property that tells durable_rules a fact's kind: a fact of kind ``cell`` carries ``"t:cell": 1`` and
    each pattern on cells tests it (issue 13).  durable_rules' alpha network compares a fact only with the
    tests on properties the fact has, so a fact is tested against the patterns of its own kind alone — with
    one ``t`` property for every kind, each fact was compared with every kind the rules name."""
    return "t:" + kind


CAP = 10_000   # matches per action message (more than any company's cells; the loop asks again for the rest)


def compile_ruleset(rules: RuleSet, params: Dict[str, object]) -> dict:
    """The durable_rules definition (plain dict) of ``rules``, keyed by rule id.

    ``params`` holds the already scaled method parameters (``threshold``,
    ``key_minimum`` in millionths, ``top_rank``).
    """
    definition = {}
    kinds = rules.kinds
    for rule in rules:
        patterns = []
        for pattern in rule.patterns:
            tests: List[dict] = [{kind_mark(pattern.kind): 1}]
            for fld, op, spec in pattern.tests:
                if op == "exists":
                    tests.append({"$ex" if spec else "$nex": {fld: 1}})
                    continue
                value = _spec_json(spec, kinds[pattern.kind][fld], params)
                tests.append({fld: value} if op == "eq" else {_OPS[op]: {fld: value}})
            expression = tests[0] if len(tests) == 1 else {"$and": tests}
            patterns.append({pattern.name + ("$not" if pattern.negated else ""): expression})
        # "cap": every pending match of the rule arrives in one action (a list of frames), and its
        # conclusions go back in one assert_facts — one C round trip per rule and step, not per match
        definition[rule.id] = {"all": patterns, "pri": rule.salience, "cap": CAP}
    return copy.deepcopy(definition)

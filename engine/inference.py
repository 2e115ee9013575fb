"""Inference in durable_rules: assert a company's facts, run the rules, record every firing.

One :class:`Inference` per model (its ruleset name carries the model's
fingerprint, so several models live in one process).  Each company runs in a
state of its own: one the company before it left empty (its facts retracted,
see ``_Run.clear``), or a new one; a state in which anything went wrong is
deleted (durable_rules allows only 1024 live state ids per ruleset).  Actions
run synchronously on the caller's thread: we
drive the C engine's action loop ourselves instead of ``durable.engine.Host``,
whose timer threads would otherwise pick up actions behind our back.
"""
from __future__ import annotations

import itertools
import json
import json.scanner
import operator
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import EngineError, EnvironmentProblem, Problem
from .python_range import describe as _python_words, supported_range
from .rules import PHASES, SCALED_TYPES, STAVE_KIND, Rule, compile_ruleset, kind_mark, met_field, scaled

__all__ = ["Inference", "Firing", "get_inference", "encode_json", "SUPPORTED_PYTHON"]

SUPPORTED_PYTHON = supported_range() or ((3, 11), (3, 12))   # pyproject's requires-python: the one source
MAX_FIRINGS = 100_000   # per company; the default model needs a few hundred
BEGIN = "qmgrade-begin"  # the private rule (and fact kind) that starts each company's first action
ABANDONED_LIMIT = 256    # undeletable states a ruleset may hold before it is replaced (of 1024)
SPARE_STATES = 4         # emptied states kept for the next companies (one per thread grading at once)


def _engine_module():
    if sys.version_info[:2] > SUPPORTED_PYTHON[1]:
        raise EnvironmentProblem(
            f"qmgrade needs Python {_python_words()}: durable-rules 2.0.28 calls PyEval_CallObject, "
            f"which Python {sys.version_info[0]}.{sys.version_info[1]} removed. Use python3.11 "
            f"(e.g. `make demo` picks it) and reinstall.")
    try:
        import durable_rules_engine  # noqa: WPS433 (import where needed: fail clearly)
    except ImportError as exc:
        raise EnvironmentProblem(f"durable-rules is not installed or did not build ({exc}); "
                                 f"run `make demo` or `pip install .` with Python {_python_words()} and gcc") from None
    return durable_rules_engine


class Firing:
    """One rule firing: its order, rule id, the facts it matched and what it concluded.

    A matched fact may be held in a lazy form (a scored cell, engine.grading.CellFact) until ``facts`` is read:
    a batch without a trace never builds most of them (issue 13)."""

    __slots__ = ("seq", "rule", "_facts", "conclusion")

    def __init__(self, seq: int, rule: str, facts: list, conclusion: dict):
        self.seq = seq
        self.rule = rule
        self._facts = facts
        self.conclusion = conclusion

    @property
    def facts(self) -> List[dict]:
        facts = self._facts
        for index, fact in enumerate(facts):
            if type(fact) is not dict:
                facts[index] = fact.public()
        return facts

    def __eq__(self, other) -> bool:
        if not isinstance(other, Firing):
            return NotImplemented
        return (self.seq, self.rule, self.facts, self.conclusion) == (other.seq, other.rule, other.facts,
                                                                      other.conclusion)

    __hash__ = None   # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return f"Firing(seq={self.seq!r}, rule={self.rule!r}, facts={self.facts!r}, conclusion={self.conclusion!r})"

    def as_dict(self) -> dict:
        return {"seq": self.seq, "rule": self.rule, "facts": self.facts, "conclusion": self.conclusion}


_counter = itertools.count(1)
_cache: Dict[Tuple[str, str], "Inference"] = {}


def forget_compiled() -> None:
    """Drop every compiled ruleset: a forked worker compiles its own (the parent's stays the parent's)."""
    _cache.clear()


# id(model) -> (model, its Inference, its cache key): skips hashing the files per company
_by_model: Dict[int, Tuple[object, "Inference", Tuple[str, str]]] = {}


def get_inference(model) -> "Inference":
    """The compiled rules of ``model`` (compiled once per process and fingerprint)."""
    known = _by_model.get(id(model))
    if known is not None and known[0] is model and _cache.get(known[2]) is known[1]:
        return known[1]
    key = (model.path, model.sha256)
    inference = _cache.get(key)
    if inference is None:
        inference = _cache[key] = Inference(model)
    if len(_by_model) > 64:
        _by_model.clear()
    _by_model[id(model)] = (model, inference, key)
    return inference


class Inference:
    """The model's rules compiled into one durable_rules ruleset."""

    def __init__(self, model):
        self.engine = _engine_module()
        self.model = model
        self.rules: Dict[str, Rule] = {rule.id: rule for rule in model.rules}
        params = {"threshold": model.threshold_units, "key_minimum": model.key_minimum_units,
                  "top_rank": model.top_rank}
        self.params = params
        self.definition = compile_ruleset(model.rules, params)
        self.name = f"qmgrade-{model.sha256[:16]}-{next(_counter)}"
        # The private begin rule: every company's state starts one action before anything else
        # (see _Run.begin), so delete_state is safe whatever the model's rules do.
        engine_definition = {**self.definition, BEGIN: {"all": [{"begin": {kind_mark(BEGIN): 1}}],
                                                      "pri": -1_000_000}}
        try:
            self.handle = self.engine.create_ruleset(self.name, json.dumps(engine_definition, ensure_ascii=False))
        except Exception as exc:  # the C engine rejects what it cannot compile (e.g. error 304)
            first = model.rules[0] if model.rules else None
            raise EngineError(Problem(first.path if first else model.path, 1, 1,
                                      f"durable_rules rejected the rules: {exc}")) from None
        self.kinds = model.rules.kinds
        public_params = {"threshold": model.threshold, "key_minimum": model.key_minimum,
                         "top_rank": model.top_rank}
        # issue 13: durable_rules gets only the fields some pattern compares (model.rules.compared_fields)
        # (as sorted tuples: a fact's text is the same whatever the hash seed)
        self.compared = {kind: tuple(sorted(names)) for kind, names in model.rules.compared_fields.items()}
        self.actions: Dict[str, _Action] = {rule.id: _compile_action(rule, self.kinds, public_params, self.compared)
                                            for rule in model.rules}
        self._sids = itertools.count(1)
        # states emptied after a company, to grade the next one in: creating a state costs durable_rules
        # about 1 MB of memory to clear (16 KB for each pattern of each rule) and regrowing its message pool,
        # which costs more than retracting a company's facts (issue 13)
        self._spare: List[str] = []
        self.abandoned = 0   # states never deleted (see _end)
        self._fact_plans: Dict[str, tuple] = {}
        # issue 13: only the kinds some rule reads are asserted (base facts and conclusions alike)
        self.read_kinds = model.rules.read_kinds
        self.staves = [(d.id, d.pillar) for d in model.dimensions] if STAVE_KIND in self.read_kinds else []
        self.cell_ranks = tuple(model.criteria_ranks)
        stave_fields = self.compared.get(STAVE_KIND, ())
        # (field, its text for durable_rules when false / true) of each cell decision a stave fact carries, in
        # rank order
        self._met_texts = tuple((name, (f', "{name}": false', f', "{name}": true') if name in stave_fields
                                 else ("", ""))
                                for name in map(met_field, self.cell_ranks))
        self._cell_format = _cell_format(self.compared.get("cell", ()))
        # the shipped rules' cell fields: written by an f-string in _Run.base_texts (half the time of a template)
        self._cell_usual = self._cell_format[0] == _USUAL_CELL
        # kinds whose name and compared fields' names need no escaping: their facts are written directly
        self.plain_kinds = frozenset(kind for kind, names in self.compared.items()
                                     if all(_PLAIN_ID.match(name) for name in [kind, *names]))
        # cell and stave facts are formatted directly when their dimension (and pillar) ids need no JSON
        # escaping (model ids never do)
        self.plain_ids = frozenset([d.id for d in model.dimensions if _PLAIN_ID.match(d.id)]
                                   + [d.pillar for d in model.dimensions if _PLAIN_ID.match(d.pillar)])
        # each stave's (id, pillar, the text of its stave fact after the id — None when it needs encoding)
        stave_texts = tuple(
            (dimension, pillar, f', "{kind_mark(STAVE_KIND)}": 1'
             + (f', "dimension": "{dimension}"' if "dimension" in stave_fields else "")
             + (f', "pillar": "{pillar}"' if "pillar" in stave_fields else "")
             if dimension in self.plain_ids and pillar in self.plain_ids else None)
            for dimension, pillar in self.staves)
        # each stave's (id, pillar, text, its cells' keys in rank order, what each pattern of decisions makes)
        self._stave_plans = tuple((dimension, pillar, text, tuple((dimension, rank) for rank in self.cell_ranks), {})
                                  for dimension, pillar, text in stave_texts)

    def scaled_fields(self, kind: str) -> Tuple[Tuple[str, str], ...]:
        """The (field, type) pairs of ``kind`` that durable_rules sees scaled (ratios, numbers, dates)."""
        plan = self._fact_plans.get(kind)
        if plan is None:
            types = self.kinds.get(kind, {})
            plan = self._fact_plans[kind] = tuple((k, t) for k, t in types.items() if t in SCALED_TYPES)
        return plan

    # -- public ---------------------------------------------------------------
    def run(self, base_facts: List[Tuple[str, Any, Optional[dict]]]) -> Tuple[List[Firing], List[dict]]:
        """Infer over one company's facts.

        Parameters
        ----------
        base_facts : list of (kind, fields, extra)
            ``fields`` in public units (ratios as floats); ``extra`` is shown in
            the trace beside the fields (criterion ratings, evidence).

        Returns
        -------
        (firings, conclusions): every firing in order, and every distinct fact
        the rules concluded (public units, with ``fact`` = kind).

        Raises
        ------
        EngineError when durable_rules or a rule action fails.
        """
        spare = self._spare
        try:   # a state the last company left empty (issue 13); list.pop: two threads never share one
            run = _Run(self, spare.pop())
            run.started = True
        except IndexError:
            run = _Run(self, str(next(self._sids)))
        read = self.read_kinds
        clean = False
        try:
            if not run.started:
                run.begin()
            run.assert_and_infer(run.base_texts(base_facts, read))
            if self.staves:
                run.assert_and_infer(self._stave_facts(run))
            if "phase" in read:
                for phase in PHASES:
                    run.assert_and_infer([run.fact("phase", {"name": phase}, None)])
            clean = run.clear()
        finally:
            if clean and len(spare) < SPARE_STATES:
                spare.append(run.sid)
            else:
                self._end(run)
        return run.firings, run.conclusions

    def _stave_facts(self, run: "_Run") -> List[str]:
        """One ``stave`` fact per stave carrying what the cell rules concluded of its cells (issue 13).

        ``met_k`` is true when a rule concluded the cell met, false when one concluded it unmet; a cell
        no rule decided (or decided both ways) is left out, so no stave-level rule can match that stave
        and the grade reports it undecided."""
        conclusions = run.conclusions
        met = [(fact.get("dimension"), fact.get("level")) for fact in conclusions if fact["fact"] == "met"]
        unmet = [(fact.get("dimension"), fact.get("level")) for fact in conclusions if fact["fact"] == "unmet"]
        decided: Dict[tuple, Optional[bool]] = dict.fromkeys(unmet, False)
        decided.update(dict.fromkeys(met, True))
        if len(decided) < len(met) + len(unmet):   # a cell concluded twice: undecided if both ways
            for cell in set(met).intersection(unmet):
                decided[cell] = None
        facts = []
        public = run.public
        start = f'{{"sid": {run.sid_text}, "id": "'
        for dimension, pillar, text, cells, known in self._stave_plans:
            decisions = tuple(map(decided.get, cells))
            made = known.get(decisions)
            if made is None:   # (its public form, the flags as durable_rules gets them), once per pattern
                fields: Dict[str, object] = {"fact": STAVE_KIND, "dimension": dimension, "pillar": pillar}
                flags = ""
                for (name, shown), value in zip(self._met_texts, decisions):
                    if value is not None:
                        fields[name] = value
                        flags += shown[value]
                made = known[decisions] = (fields, flags)
            if text is not None:   # ids and booleans: formatted as the encoder would
                ident = run.new_id(STAVE_KIND)
                public[ident] = dict(made[0])
                facts.append(f'{start}{ident}"{text}{made[1]}}}')
            else:
                fields = dict(made[0])
                del fields["fact"]
                facts.append(run.fact(STAVE_KIND, fields, None))
        return facts

    def _end(self, run: "_Run") -> None:
        """Delete the company's state, unless no action ever started in it.

        durable_rules 2.0.28 frees an uninitialised pointer when it deletes a
        state in which no action was ever started ("double free or corruption"
        or SIGSEGV, DURABLE.md).  Such a state is left alone; after
        ``ABANDONED_LIMIT`` of them (each holds one of the ruleset's 1024 state
        ids) this ruleset is retired and the next company gets a fresh one.
        """
        if run.started:
            try:
                self.engine.delete_state(self.handle, run.sid)
            except Exception:  # noqa: S110  # pragma: no cover - nothing to recover
                pass
            return
        self.abandoned += 1
        if self.abandoned >= ABANDONED_LIMIT:
            for key, inference in list(_cache.items()):
                if inference is self:
                    del _cache[key]


# The stdlib's C encoder, built once: ``json.dumps(..., ensure_ascii=False)``
# would construct a new encoder on every call (a measurable cost per firing).
# The C encoder without the circular-reference check (facts are flat), and the
# C scanner without the whitespace handling of ``json.loads`` (durable_rules
# writes none around its messages).
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)   # private to the stdlib: None without _json
_c_encoder = _c_make_encoder(
    None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False, True) \
    if _c_make_encoder else None
_quote = json.encoder.encode_basestring   # a JSON string, as the encoder writes one
_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # the stdlib passes a decoder too


def encode_json(data) -> str:
    """``json.dumps(data, ensure_ascii=False)`` for data without cycles, from an encoder built once."""
    if _c_encoder is None:  # pragma: no cover - CPython always has the C encoder
        return json.dumps(data, ensure_ascii=False)
    return "".join(_c_encoder(data, 0))


def _decode(message: str):
    try:
        return _scan(message, 0)[0]
    except StopIteration:
        return json.loads(message)  # let json report what is wrong


# durable_rules hands each matched fact back exactly as it was asserted (our encoder's ": " and ", "
# separators included): reading just the ids is far cheaper than decoding the message.
_ID = re.compile(r'"id": "([^"\\]*)"')
_PLAIN_ID = re.compile(r"[a-z0-9_-]+\Z")   # model ids: nothing to escape in JSON
_ESCAPED = re.compile(r'[\x00-\x1f"\\]')    # what a JSON string escapes (non-ASCII is written as it is)


def _fact_ids(message: str) -> Optional[List[str]]:
    """The ids of the facts in an action message, in order — or None when one holds an escape (then the
    message is decoded).  Every fact is asserted as {"sid": …, "id": …, kind mark: 1, fields}, with field names
    that are ids and never "id" (reserved), and a quote inside a JSON string is escaped: so '"id": "'
    outside an escape only ever opens a fact id."""
    if "\\" in message:
        return None
    return _ID.findall(message)


@dataclass(frozen=True)
class _Action:
    """What a rule's action needs at run time, worked out once when the rules compile."""

    rule: str
    conclude: str
    matched: Tuple[str, ...]                  # names of the non-negated patterns, in order
    names: Tuple[str, ...]                    # the pattern names whose facts the action reads: matched first
    scaled: Tuple[Tuple[str, str], ...]       # (field, type) of fields durable_rules sees scaled
    compared: Tuple[str, ...]                 # the conclusion's fields some pattern compares (compared_fields)
    plain: bool                               # its kind and those fields' names need no escaping in JSON
    mark: str                                 # the property that marks the conclusion's kind (kind_mark)
    build: Callable[..., Tuple[dict, str]]    # (public forms of names' facts) -> (conclusion, its fact id)
    # a conclusion's text for durable_rules after '{"sid": <state>', by its id — kept when the rule concludes the
    # same for the same cell or stave in every company (_same_for), else None
    texts: Optional[Dict[str, str]] = None


def _compile_action(rule: Rule, kinds: dict, params: dict, compared: Dict[str, Tuple[str, ...]]) -> _Action:
    setters: List[tuple] = []
    for fld, spec in rule.set.items():
        if isinstance(spec, dict) and "ref" in spec:
            alias, _, src = spec["ref"].partition(".")
            setters.append((fld, alias, src, spec.get("add") or 0, None))
        elif isinstance(spec, dict) and "param" in spec:
            setters.append((fld, None, None, 0, params[spec["param"]]))
        else:
            setters.append((fld, None, None, 0, spec))
    types = kinds.get(rule.conclude, {})
    scaled_fields = tuple((fld, types.get(fld, "")) for fld in rule.set
                          if types.get(fld, "") in SCALED_TYPES)
    order = tuple(sorted(rule.set))
    read = list(dict.fromkeys([p.name for p in rule.matched] + [s[1] for s in setters if s[1] is not None]))
    names = tuple(read)
    same_for = _same_for(rule, setters, names)
    return _Action(rule.id, rule.conclude, tuple(p.name for p in rule.matched), names, scaled_fields,
                   tuple(fld for fld in rule.set if fld in compared.get(rule.conclude, ())),
                   all(_PLAIN_ID.match(name) for name in [rule.conclude, *compared.get(rule.conclude, ())]),
                   kind_mark(rule.conclude),
                   _build_function(rule.conclude, setters, names, order, same_for), None if same_for is None else {})


# the kinds of fact the engine makes itself, by the fields that name one: the model's ids and ranks (exact str and
# int), the same in every company
_ENGINE_MADE = {"cell": ("dimension", "level"), STAVE_KIND: ("dimension", "pillar")}


def _same_for(rule: Rule, setters: List[tuple], names: Tuple[str, ...]) -> Optional[Tuple[str, ...]]:
    """The fields of the one fact ``rule`` matches that decide its conclusion, when those are all it reads of it
    and the fact is one the engine makes (a cell, a stave): such a rule concludes the same for the same cell in
    every company (issue 13: its conclusion is made once per cell and copied).  None otherwise."""
    if len(names) != 1 or len(rule.matched) != 1:
        return None
    fields = _ENGINE_MADE.get(rule.matched[0].kind)
    if fields is None or not all(alias is None or (src in fields and not add) for _, alias, src, add, _ in setters):
        return None
    return fields


def _build_function(kind: str, setters: List[tuple], names: Tuple[str, ...], order: Tuple[str, ...],
                    same_for: Optional[Tuple[str, ...]] = None) -> Callable[..., Tuple[dict, str]]:
    """A rule's action as one function, its plan worked out once (issue 13: the lean action loop): from the
    public forms of the facts it matched (in ``names`` order) to its conclusion and that conclusion's fact id,
    ``kind:f1=v1|f2=v2`` over the sorted fields.  A closure, never generated code (tests/test_safety.py)."""
    slot = {name: index for index, name in enumerate(names)}
    plan = tuple((fld, None if alias is None else slot[alias], src, add, constant)
                 for fld, alias, src, add, constant in setters)

    def percent(text: str) -> str:
        return text.replace("%", "%%")

    # "%s" writes str(value), as str.format's "{}" did for the values a rule concludes (YAML scalars, ids,
    # numbers) — and costs a fifth less (issue 13)
    template = percent(kind) + ":" + "|".join(percent(k) + "=%s" for k in order)
    values = operator.itemgetter(*order) if len(order) > 1 else None
    first = order[0] if len(order) == 1 else None

    def build(*sources) -> Tuple[dict, str]:
        conclusion = {"fact": kind}
        for fld, index, src, add, constant in plan:
            if index is None:
                conclusion[fld] = constant
            else:
                value = sources[index][src]
                conclusion[fld] = value + add if add else value
        if values is not None:
            return conclusion, template % values(conclusion)
        return conclusion, template % (conclusion[first],) if first is not None else template % ()

    if same_for is None:
        return build
    key_of = operator.itemgetter(*same_for)
    made: Dict[object, Tuple[dict, str]] = {}   # the fact's naming fields -> (conclusion, id): one per cell or stave

    def build_once(source) -> Tuple[dict, str]:
        key = key_of(source)
        known = made.get(key)
        if known is None:
            known = made[key] = build(source)
        return known[0].copy(), known[1]   # a conclusion of its own for each firing

    return build_once


# a scored cell's fields as durable_rules sees them: (attribute of engine.scoring.CellScore, its format)
_CELL_FIELDS = {"dimension": ("dimension", '"%s"'), "level": ("level", "%d"), "score": ("score_units", "%d"),
                "applicable": ("applicable", "%d"), "keys_below": ("keys_below", "%d")}


def _cell_format(compared) -> Tuple[str, Callable[[object], tuple]]:
    """(the %-template of a cell fact's text, a function from a scored cell to the values it takes after the
    state and fact ids): the fields some pattern compares, in the order of ``CellFact.fields``."""
    names = [name for name in _CELL_FIELDS if name in compared]
    template = ('{"sid": %s, "id": "%s", "' + kind_mark("cell") + '": 1'
                + "".join(f', "{name}": {_CELL_FIELDS[name][1]}' for name in names) + "}")
    attributes = [_CELL_FIELDS[name][0] for name in names]
    if len(attributes) > 1:
        return template, operator.attrgetter(*attributes)
    if attributes:
        single = operator.attrgetter(attributes[0])
        return template, lambda cell: (single(cell),)
    return template, lambda cell: ()


def _fields_text(values: dict, names, scaled_fields: Tuple[Tuple[str, str], ...]) -> Optional[str]:
    """``, "name": value`` for each of ``names`` in ``values`` (scaled), as the encoder writes them — or None
    when a value is not an integer, a string or a boolean.  The names must need no escaping (issue 13: the
    encoder's start-up cost more than the writing of these few fields)."""
    text = ""
    for name in names:
        if name not in values:
            continue
        value = values[name]
        for field, field_type in scaled_fields:
            if field == name:
                value = scaled(value, field_type)
        kind = type(value)
        if kind is int:
            text += f', "{name}": {value!r}'
        elif kind is str:
            text += f', "{name}": {_quote(value)}'
        elif kind is bool:
            text += f', "{name}": {"true" if value else "false"}'
        else:
            return None
    return text


def _engine_text(sid: str, sid_text: str, ident: str, mark: str, values: dict, names,
                 scaled_fields: Tuple[Tuple[str, str], ...], plain: bool) -> str:
    """A fact as durable_rules gets it — its state and fact ids, its kind's mark (``mark``) and the fields of
    ``values`` some pattern compares (``names``), scaled: written directly when ``plain`` (the kind and the
    names need no escaping) and :func:`_fields_text` can write them, encoded otherwise."""
    if plain:
        fields = _fields_text(values, names, scaled_fields)
        if fields is not None:
            return f'{{"sid": {sid_text}, "id": {_quote(ident)}, "{mark}": 1{fields}}}'
    engine_fact = {"sid": sid, "id": ident, mark: 1}
    for name in names:
        if name in values:
            engine_fact[name] = values[name]
    for name, field_type in scaled_fields:
        if name in engine_fact:
            engine_fact[name] = scaled(engine_fact[name], field_type)
    return encode_json(engine_fact)


# the template of the shipped rules' cell facts (they compare score, applicable and keys_below), written by an
# f-string in _Run.base_texts
_USUAL_CELL = _cell_format(frozenset(("score", "applicable", "keys_below")))[0]
_CELL_MARK = f'"{kind_mark("cell")}": 1'   # ... and its kind's mark, as the template has it


class _Run:
    """The state of one company's inference."""

    def __init__(self, inference: Inference, sid: str):
        self.inference = inference
        self.engine = inference.engine
        self.handle = inference.handle
        self.sid = sid
        self.public: Dict[str, dict] = {}       # fact id -> public form (for the trace)
        self.firings: List[Firing] = []
        self.conclusions: List[dict] = []
        self.errors: List[str] = []
        self._asserted: set = set()
        self.started = False   # an action has started in this state: it may be deleted
        self._count = 0        # facts asserted so far (their ids)
        self.ids: List[str] = []   # the ids of every fact asserted for this company, in order (see clear)
        self.sid_text = encode_json(sid)
        self._plain_ids = inference.plain_ids
        self._actions = inference.actions

    def new_id(self, kind: str) -> str:
        """The next asserted fact's id: its position (``cell#7``), each fact being asserted once."""
        self._count += 1
        ident = f"{kind}#{self._count}"
        self.ids.append(ident)
        return ident

    def base_texts(self, base_facts: List[Tuple[str, Any, Optional[dict]]], read: frozenset) -> List[str]:
        """The texts of the base facts of the kinds some rule reads, as :meth:`fact` makes each; a scored cell
        (the bulk of them) made here directly."""
        texts = []
        public, ids, plain = self.public, self.ids, self._plain_ids
        template, values = self.inference._cell_format
        usual = self.inference._cell_usual
        sid_text, mark = self.sid_text, _CELL_MARK
        count = self._count
        for kind, fields, extra in base_facts:
            if kind not in read:
                continue
            if kind == "cell" and type(fields) is not dict and fields.cell.dimension in plain:
                # as the stdlib's encoder writes it (same separators), with the id new_id gives
                count += 1
                ident = f"cell#{count}"
                ids.append(ident)
                public[ident] = fields
                cell = fields.cell
                if usual:
                    texts.append(f'{{"sid": {sid_text}, "id": "{ident}", {mark}, "score": {cell.score_units or 0}, '
                                 f'"applicable": {cell.applicable}, "keys_below": {cell.keys_below}}}')
                    continue
                found = values(cell)
                if None in found:   # the score of a cell with no applicable criterion
                    found = tuple(0 if value is None else value for value in found)
                texts.append(template % ((sid_text, ident) + found))
            else:
                self._count = count
                texts.append(self.fact(kind, fields, extra))
                count = self._count
        self._count = count
        return texts

    def fact(self, kind: str, fields, extra: Optional[dict]) -> str:
        """The JSON text of a fact as durable_rules gets it (scaled fields, a fact id); its public form is
        kept for the trace.  An asserted fact's id is its position (``cell#7``): each is asserted once.

        ``fields`` is a dict, or a scored cell (engine.grading.CellFact) whose public form is built only
        when read."""
        ident = self.new_id(kind)
        if type(fields) is not dict:   # a scored cell (see base_texts for the common case)
            self.public[ident] = fields
            fields = fields.fields()
        else:
            public = {"fact": kind, **fields}
            if extra:
                public.update(extra)
            self.public[ident] = public
        inference = self.inference
        return _engine_text(self.sid, self.sid_text, ident, kind_mark(kind), fields, inference.compared.get(kind, ()),
                            inference.scaled_fields(kind), kind in inference.plain_kinds)

    def _check(self, result, what) -> int:
        code = result[0]
        # 1, "not handled": some fact matched no pattern.  durable_rules' C engine went on with the others
        # and stored none of it, which no rule could ever join — nothing to report (issue 13: a catch-all rule
        # matched every fact so that this never came up, at the cost of a join frame per fact; DURABLE trap
        # 3's exception and background thread are those of its Python Host, which qmgrade does not use).
        if code == 0 or code == 1:
            return result[1]
        if code == 3:
            return 0
        label = "was already asserted" if code == 2 else f"failed with code {code}"
        raise EngineError(Problem(self.inference.model.path, 1, 1, f"durable_rules: a fact {label}: {what}"))

    def begin(self) -> None:
        """Assert the begin fact and run its (private, unrecorded) action: from here on the state
        has started an action, so deleting it is safe (see Inference._end)."""
        engine, handle = self.engine, self.handle
        try:
            result = engine.assert_facts(handle, encode_json([{"sid": self.sid, "id": BEGIN, kind_mark(BEGIN): 1}]))
            state_handle = self._check(result, BEGIN)
            started = engine.start_action_for_state(handle, state_handle)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(Problem(self.inference.model.path, 1, 1,
                                      f"durable_rules could not start a company's inference: {exc}")) from None
        if not started or not started[1].startswith('{"' + BEGIN + '"'):
            raise EngineError(Problem(self.inference.model.path, 1, 1,
                                      "durable_rules did not start a company's inference with its begin rule"))
        self.started = True
        message = engine.complete_and_start_action(handle, state_handle)
        if message:
            engine.abandon_action(handle, state_handle)
            raise EngineError(Problem(self.inference.model.path, 1, 1,
                                      f"durable_rules fired a rule on the begin fact alone: {message[:200]}"))

    def clear(self) -> bool:
        """Retract every fact asserted for this company, the newest first, so that the next company can be
        graded in this state as in a new one (issue 13: making a state costs more than emptying one).

        True when the state is empty and idle; then False when durable_rules refused.  A rule waiting for a
        fact's absence matches again when that fact goes, but the facts it matched go in the same call, so
        nothing is left pending; a rule of nothing but absences could be, which the rule language refuses (a
        rule needs a pattern that is not negated) — should one still be pending, it is abandoned and the state
        deleted instead of reused."""
        engine, handle = self.engine, self.handle
        head = '{"sid": ' + self.sid_text + ', "id": '
        ids = self.ids[::-1]
        if ids and _ESCAPED.search("".join(ids)) is None:   # (almost always) no id needs escaping: one join, in C
            payload = '[' + head + '"' + ('"}, ' + head + '"').join(ids) + '"}]'
        else:
            payload = "[" + ", ".join([head + _quote(ident) + "}" for ident in ids]) + "]"
        try:
            result = engine.retract_facts(handle, payload)
            if result[0] != 0:
                return False
            if engine.start_action_for_state(handle, result[1]):   # pragma: no cover - see above
                engine.abandon_action(handle, result[1])
                return False
        except Exception:   # noqa: BLE001 - the state is deleted instead of reused
            return False
        return True

    def assert_and_infer(self, facts: List[str]) -> None:
        """Assert ``facts`` and run every action they lead to, to quiescence.

        Every rule is compiled with ``cap`` (issue 13): an action message holds all the pending matches
        of one rule (``{"rule": [frame, ...]}``, a frame being ``{pattern: fact}``, the newest first),
        each recorded as a firing in the order its facts arrived, and the new conclusions that some rule
        reads go back in one ``assert_facts``."""
        if not facts:
            return
        payload = "[" + ", ".join(facts) + "]"
        try:
            result = self.engine.assert_facts(self.handle, payload)
        except Exception as exc:
            raise EngineError(Problem(self.inference.model.path, 1, 1,
                                      f"durable_rules refused the facts: {exc}")) from None
        state_handle = self._check(result, payload[:200])
        started = self.engine.start_action_for_state(self.handle, state_handle)
        message = started[1] if started else None
        engine = self.engine
        handle = self.handle
        complete_and_start = engine.complete_and_start_action
        actions = self._actions
        public = self.public
        firings = self.firings
        conclusions = self.conclusions
        asserted = self._asserted
        ids = self.ids
        read = self.inference.read_kinds
        sid, sid_text = self.sid, self.sid_text
        head = '{"sid": ' + sid_text   # every fact's text for durable_rules starts so (see _engine_text)
        while message:
            rule_id = "?"
            try:
                rule_id = message[2:message.find('"', 2)]   # rule ids are ids: no escapes
                action = actions[rule_id]
                names = action.names
                matched = action.matched
                build = action.build
                found = _fact_ids(message) if len(names) == 1 else None
                frames: List[tuple]
                kind = action.conclude
                is_read = kind in read
                texts = action.texts
                if found is not None:     # one pattern: the ids in the message are its facts', frame by frame
                    frames = list(zip(map(public.__getitem__, reversed(found))))
                else:
                    ((_, decoded),) = _decode(message).items()
                    if isinstance(decoded, dict):   # a rule compiled without cap: one frame
                        decoded = [decoded]
                    frames = [tuple(public[frame[name]["id"]] for name in names) for frame in reversed(decoded)]
                shown = len(matched)   # a firing shows its non-negated patterns' facts: the first of names
                whole = shown == len(names)
                new: List[str] = []
                for sources in frames:
                    conclusion, ident = build(*sources)
                    firings.append(Firing(len(firings) + 1, rule_id, list(sources) if whole else list(sources[:shown]),
                                          conclusion))
                    if is_read:
                        public[ident] = conclusion
                    # the same conclusion again (e.g. several shortest staves) is recorded, not re-asserted
                    if ident not in asserted:
                        asserted.add(ident)
                        conclusions.append(conclusion)
                        if is_read:
                            rest = texts.get(ident) if texts is not None else None
                            if rest is None:
                                text = _engine_text(sid, sid_text, ident, action.mark, conclusion, action.compared,
                                                    action.scaled, action.plain)
                                if texts is not None and text.startswith(head):
                                    texts[ident] = text[len(head):]
                            else:
                                text = head + rest
                            new.append(text)
                            ids.append(ident)
                if new:
                    try:
                        result = engine.assert_facts(handle, "[" + ", ".join(new) + "]")
                    except Exception as exc:
                        raise EngineError(Problem(self.inference.rules[rule_id].path, 1, 1,
                                                  f"rule {rule_id!r}: durable_rules refused its conclusion: "
                                                  f"{exc}")) from None
                    if result[0] != 0 and result[0] != 3:
                        self._check(result, rule_id)
            except EngineError:
                engine.abandon_action(handle, state_handle)
                raise
            except Exception as exc:  # a bug in an action must never pass silently
                engine.abandon_action(handle, state_handle)
                where = self.inference.rules[rule_id].path if rule_id in self.inference.rules else \
                    self.inference.model.path
                raise EngineError(Problem(where, 1, 1, f"rule {rule_id!r} failed: {exc}")) from None
            if len(firings) > MAX_FIRINGS:  # a model whose rules never settle must not hang
                engine.abandon_action(handle, state_handle)
                raise EngineError(Problem(self.inference.rules[rule_id].path, 1, 1,
                                          f"the rules fired more than {MAX_FIRINGS:,} times for one company "
                                          f"(last: {rule_id!r}): does a rule keep concluding new facts from "
                                          f"its own conclusions, or join patterns without conditions?"))
            message = complete_and_start(handle, state_handle)

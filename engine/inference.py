"""Inference in durable_rules: assert a company's facts, run the rules, record every firing.

One :class:`Inference` per model (its ruleset name carries the model's
fingerprint, so several models live in one process).  Each company runs in
its own state id, deleted in ``finally`` (durable_rules allows only 1024 live
state ids per ruleset).  Actions run synchronously on the caller's thread: we
drive the C engine's action loop ourselves instead of ``durable.engine.Host``,
whose timer threads would otherwise pick up actions behind our back.
"""
from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .errors import EngineError, EnvironmentProblem, Problem
from .rules import PHASES, SCALE, Rule, compile_ruleset, scaled

__all__ = ["Inference", "Firing", "get_inference", "SUPPORTED_PYTHON"]

SUPPORTED_PYTHON = ((3, 9), (3, 12))


def _engine_module():
    if sys.version_info[:2] > SUPPORTED_PYTHON[1]:
        raise EnvironmentProblem(
            f"qmgrade needs Python 3.9 to 3.12: durable-rules 2.0.28 calls PyEval_CallObject, "
            f"which Python {sys.version_info[0]}.{sys.version_info[1]} removed. Use python3.11 "
            f"(e.g. `make demo` picks it) and reinstall.")
    try:
        import durable_rules_engine  # noqa: WPS433 (import where needed: fail clearly)
    except ImportError as exc:
        raise EnvironmentProblem(f"durable-rules is not installed or did not build ({exc}); "
                                 f"run `make demo` or `pip install .` with Python 3.9-3.12 and gcc") from None
    return durable_rules_engine


@dataclass
class Firing:
    """One rule firing: its order, rule id, the facts it matched and what it concluded."""

    seq: int
    rule: str
    facts: List[dict]
    conclusion: dict

    def as_dict(self) -> dict:
        return {"seq": self.seq, "rule": self.rule, "facts": self.facts, "conclusion": self.conclusion}


_counter = itertools.count(1)
_cache: Dict[Tuple[str, str], "Inference"] = {}


def get_inference(model) -> "Inference":
    """The compiled rules of ``model`` (compiled once per process and fingerprint)."""
    key = (model.path, model.sha256)
    inference = _cache.get(key)
    if inference is None:
        inference = _cache[key] = Inference(model)
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
        try:
            self.handle = self.engine.create_ruleset(self.name, json.dumps(self.definition, ensure_ascii=False))
        except Exception as exc:  # the C engine rejects what it cannot compile (e.g. error 304)
            first = model.rules[0] if model.rules else None
            raise EngineError(Problem(first.path if first else model.path, 1, 1,
                                      f"durable_rules rejected the rules: {exc}")) from None
        self.kinds = model.rules[0].kinds if model.rules else {}
        self._sids = itertools.count(1)

    # -- public ---------------------------------------------------------------
    def run(self, base_facts: List[Tuple[str, dict, dict]]) -> Tuple[List[Firing], List[dict]]:
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
        sid = str(next(self._sids))
        run = _Run(self, sid)
        try:
            batch = [run.fact(kind, fields, extra) for kind, fields, extra in base_facts]
            run.assert_and_infer(batch)
            for phase in PHASES:
                run.assert_and_infer([run.fact("phase", {"name": phase}, None)])
        finally:
            try:
                self.engine.delete_state(self.handle, sid)
            except Exception:  # pragma: no cover - nothing to recover
                pass
        return run.firings, run.conclusions


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

    def fact(self, kind: str, fields: dict, extra: Optional[dict]) -> dict:
        types = self.inference.kinds.get(kind, {})
        ident = kind + ":" + "|".join(f"{k}={fields[k]}" for k in sorted(fields))
        public = {"fact": kind, **fields}
        if extra:
            public.update(extra)
        self.public[ident] = public
        engine_fact = {"sid": self.sid, "id": ident, "t": kind}
        for key, value in fields.items():
            engine_fact[key] = scaled(value, types.get(key, ""))
        return engine_fact

    def _check(self, result, what) -> int:
        code = result[0]
        if code == 0:
            return result[1]
        if code == 3:
            return 0
        label = {1: "matched no rule", 2: "was already asserted"}.get(code, f"failed with code {code}")
        raise EngineError(Problem(self.inference.model.path, 1, 1, f"durable_rules: a fact {label}: {what}"))

    def assert_and_infer(self, facts: List[dict]) -> None:
        payload = json.dumps(facts, ensure_ascii=False)
        try:
            result = self.engine.assert_facts(self.handle, payload)
        except Exception as exc:
            raise EngineError(Problem(self.inference.model.path, 1, 1,
                                      f"durable_rules refused the facts: {exc}")) from None
        state_handle = self._check(result, payload[:200])
        started = self.engine.start_action_for_state(self.handle, state_handle)
        message = started[1] if started else None
        while message:
            matched = json.loads(message)
            (rule_id, facts_by_pattern), = matched.items()
            try:
                self._act(rule_id, facts_by_pattern)
            except EngineError:
                self.engine.abandon_action(self.handle, state_handle)
                raise
            except Exception as exc:  # a bug in an action must never pass silently
                self.engine.abandon_action(self.handle, state_handle)
                raise EngineError(Problem(self.inference.rules[rule_id].path, 1, 1,
                                          f"rule {rule_id!r} failed: {exc}")) from None
            message = self.engine.complete_and_start_action(self.handle, state_handle)

    def _act(self, rule_id: str, facts_by_pattern: dict) -> None:
        rule = self.inference.rules[rule_id]
        kinds = self.inference.kinds
        matched = [self.public[facts_by_pattern[p.name]["id"]] for p in rule.matched]
        fields = {}
        for fld, spec in rule.set.items():
            if isinstance(spec, dict) and "ref" in spec:
                alias, _, src = spec["ref"].partition(".")
                pattern = next(p for p in rule.matched if p.name == alias)
                value = self.public[facts_by_pattern[alias]["id"]][src]
                if spec.get("add"):
                    value = value + spec["add"]
            elif isinstance(spec, dict) and "param" in spec:
                value = {"threshold": self.inference.model.threshold,
                         "key_minimum": self.inference.model.key_minimum,
                         "top_rank": self.inference.model.top_rank}[spec["param"]]
            else:
                value = spec
            fields[fld] = value
        conclusion = {"fact": rule.conclude, **fields}
        self.firings.append(Firing(len(self.firings) + 1, rule_id, matched, conclusion))
        engine_fact = self.fact(rule.conclude, fields, None)
        if engine_fact["id"] in self._asserted:
            return  # the same conclusion again (e.g. several shortest staves): recorded, not re-asserted
        self._asserted.add(engine_fact["id"])
        self.conclusions.append(conclusion)
        try:
            self._check(self.engine.assert_fact(self.handle, json.dumps(engine_fact, ensure_ascii=False)),
                        engine_fact["id"])
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(Problem(rule.path, 1, 1, f"rule {rule_id!r}: durable_rules refused "
                                                       f"its conclusion: {exc}")) from None

    @property
    def _asserted(self) -> set:
        if not hasattr(self, "_asserted_ids"):
            self._asserted_ids = set()
        return self._asserted_ids

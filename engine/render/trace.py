"""The audit trace (``qmgrade trace FILE``): the record as a justification a person can follow,
and as the JSON or JSON Lines an auditor keeps.

The renderers take only the :class:`~engine.audit.TraceRecord` (its ``model`` gives the rule
descriptions and the names); scores, levels, ratings, the company and every text of the
assessment (evidence references, ids) go through :mod:`engine.present`.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, List, Optional

from .. import present
from ..grading import level_object
from ..present import for_terminal, level_label, text_of, word

if TYPE_CHECKING:
    from ..audit import TraceRecord

__all__ = ["render_text", "render_json", "render_jsonl"]


def _w(key: str, lang: str, **values) -> str:
    return word(f"trace.{key}", lang, **values)


def render_json(record: "TraceRecord") -> str:
    """The record as one stable JSON document (``--format json``)."""
    return record.to_json()


def render_jsonl(record: "TraceRecord") -> str:
    """The record as JSON Lines (``--format jsonl``): the header, one line per firing, the digest."""
    return record.to_jsonl()


class _Writer:
    """Turns one record into sentences, given the model for names and the method."""

    def __init__(self, model, lang: str):
        self.model = model
        self.lang = lang
        self.dims = {d.id: d for d in model.dimensions}
        self.facts = {f.id: f for f in model.facts}

    def ratio(self, value, threshold=None) -> str:
        return present.score(value, threshold)   # the one score rule (issue 10)

    def dim(self, ident, seen: set) -> str:
        if ident in seen or ident not in self.dims:
            return for_terminal(ident)
        seen.add(ident)
        return f"{for_terminal(text_of(self.dims[ident].name, self.lang))} ({ident})"

    def level(self, rank) -> str:
        if isinstance(rank, int) and 1 <= rank <= len(self.model.levels):
            return level_label(level_object(self.model, rank), self.lang)
        return for_terminal(rank)

    def generic(self, fact: dict) -> str:
        fields = ", ".join(f"{k}={for_terminal(v)}" for k, v in fact.items() if k != "fact" and k != "criteria")
        return f"{for_terminal(fact.get('fact'))}({fields})"

    def premise(self, fact: dict, seen: set) -> Optional[str]:
        kind, lang = fact.get("fact"), self.lang
        try:
            if kind == "phase":
                return None
            if kind == "cell":
                where = f"{self.dim(fact['dimension'], seen)} L{fact['level']}"
                if not fact.get("applicable"):
                    return f"{where} {_w('no_applicable', lang)}" if lang == "zh" else \
                        f"{where}: {_w('no_applicable', lang)}"
                score = fact.get("score")
                threshold = self.model.threshold
                sign = "≥" if score is not None and round(score * 1e6) >= round(threshold * 1e6) else "<"
                shown = f"{word('score', lang)} {self.ratio(score, threshold)} {sign} {word('threshold', lang)} " \
                        f"{present.number(threshold)}"
                text = f"{where} {shown}" if lang == "zh" else f"{where}: {shown}"
                if fact.get("keys_below"):
                    minimum = self.model.key_minimum_for(fact["level"])   # the key minimum of its level
                    keys = _w("keys_below", lang, n=fact["keys_below"], m=present.number(minimum),
                              criteria="criterion" if fact["keys_below"] == 1 else "criteria")
                else:
                    keys = _w("keys_ok", lang)
                return text + _w('separator', lang) + keys
            if kind == "dimension":
                return self.dim(fact["dimension"], seen)
            if kind == "stave":   # a stave's cells as the cell rules decided them (met_2 … met_5)
                cells = sorted((int(k[4:]), v) for k, v in fact.items() if k.startswith("met_") and k[4:].isdigit())
                decided = _w('separator', lang).join(_w("meets" if met else "misses", lang, k=rank)
                                                     for rank, met in cells)
                return f"{self.dim(fact['dimension'], seen)} {decided}"
            if kind in ("reached", "met", "unmet", "dimension_level"):
                verb = {"reached": "reached", "met": "meets", "unmet": "misses", "dimension_level": "stands"}[kind]
                return f"{self.dim(fact['dimension'], seen)} {_w(verb, lang, k=fact['level'])}"
            if kind == "barrel":
                return _w("barrel_is", lang, k=fact["level"])
            if kind == "cap":
                return _w("cap_is", lang, k=fact["level"])
            if kind == "company":
                listed: List[str] = []
                for ident, value in fact.items():
                    declared = self.facts.get(ident)
                    if ident == "fact" or declared is None or value == declared.default:
                        continue
                    listed.append(f"{for_terminal(text_of(declared.name, lang))} ({ident}) = "
                                 f"{for_terminal(json.dumps(value, ensure_ascii=False))}")
                return _w('separator', lang).join(listed) if listed else _w("company_facts", lang)
        except (KeyError, TypeError, ValueError):
            pass
        return self.generic(fact)

    def conclusion(self, fact: dict, seen: set) -> str:
        kind, lang = fact.get("fact"), self.lang
        try:
            if kind in ("met", "unmet"):
                return word("met" if kind == "met" else "unmet", lang)  # the premise says why
            if kind == "reached":
                return f"{self.dim(fact['dimension'], seen)} {_w('reaches', lang, k=fact['level'])}"
            if kind == "dimension_level":
                return f"{self.dim(fact['dimension'], seen)} " \
                       f"{_w('stave_level', lang, level=self.level(fact['level']))}"
            if kind == "barrel":
                return _w("barrel_level", lang, level=self.level(fact["level"]))
            if kind == "cap":
                return _w("capped", lang, level=self.level(fact["level"]))
            if kind == "company_level":
                return _w("company_is", lang, level=self.level(fact["level"]))
        except (KeyError, TypeError, ValueError):
            pass
        return self.generic(fact)

    def rating(self, entry: dict) -> str:
        lang = self.lang
        if entry.get("not_rated"):   # it counts 0 in the score: the trace says so
            return f"{present.rating_label(None, lang, not_rated=True)} (0)"
        value = entry.get("rating")
        if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
            return present.rating_label(value, lang)
        return for_terminal(value)

    def criteria_lines(self, fact: dict) -> List[str]:
        lines = []
        for entry in fact.get("criteria") or []:
            if not isinstance(entry, dict):
                continue
            key = f" [{word('key', self.lang)}]" if entry.get("key") else ""
            line = f"       - {for_terminal(entry.get('criterion'))}{key}: {self.rating(entry)}"
            evidence = entry.get("evidence")
            if evidence:
                refs = "; ".join(for_terminal(ref) for ref in evidence)
                line += f"；{_w('evidence', self.lang)}：{refs}" if self.lang == "zh" else \
                    f"; {_w('evidence', self.lang)}: {refs}"
            lines.append(line)
        return lines


def render_text(record: "TraceRecord", lang: str = "en") -> str:
    """The record as a justification a person can follow, firing by firing, in zh or en."""
    model = record.model
    writer = _Writer(model, lang)
    out: List[str] = [_w("title", lang)]
    out.append(f"{word('company', lang)}: {present.for_terminal(present.company_title(record.company))}")
    if record.assessed_on:
        out.append(f"{word('assessed_on', lang)}: {for_terminal(record.assessed_on)}")
    out.append(f"{_w('input', lang)}: {record.input_sha256}")
    fingerprint = record.fingerprint
    out.append(f"{word('model', lang)}: {fingerprint['id']} {fingerprint['version']}, "
               f"sha256 {fingerprint['sha256']} ({len(fingerprint.get('files', []))} {_w('files', lang)})")
    if record.level:
        out.append(f"{word('level', lang)}: {level_label(record.level, lang)}")
    firings = record.firings
    counts: dict = {}
    for firing in firings:
        counts[firing["rule"]] = counts.get(firing["rule"], 0) + 1
    descriptions = {rule.id: rule.description for rule in model.rules}
    out.append("")
    out.append(f"{_w('rules_fired', lang)} ({len(counts)}):")
    for rule, count in counts.items():
        out.append(f"  {rule} ×{count}: {text_of(descriptions.get(rule), lang)}")
    out.append("")
    out.append(f"{_w('firings', lang)} ({len(firings)}):")
    for firing in firings:
        seen: set = set()
        premises = [p for p in (writer.premise(f, seen) for f in firing["facts"]) if p]
        sentence = _w('separator', lang).join(premises)
        arrow = f" → {writer.conclusion(firing['conclusion'], seen)}"
        out.append(f"  {firing['seq']}. {firing['rule']}: {sentence}{arrow}")
        for fact in firing["facts"]:
            if fact.get("fact") == "cell":
                out.extend(writer.criteria_lines(fact))
    out.append("")
    out.append(f"{_w('digest', lang)}: {record.digest}")
    out.append(_w("verify", lang))
    return "\n".join(out) + "\n"

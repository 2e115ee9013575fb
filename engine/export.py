"""The model as JSON-ready data (CONTRACT §5 ``kb export``), and safe output writing."""
from __future__ import annotations

import json

from . import safeio
from .textsafe import json_text

__all__ = ["model_to_dict", "dumps", "write_atomic"]


def model_to_dict(model) -> dict:
    return {
        "model": {"id": model.id, "version": model.version, "name": dict(model.name),
                  **({"description": dict(model.description)} if model.description else {}),
                  **({"supersedes": {"version": model.supersedes["version"],
                                     "criteria": dict(model.supersedes["criteria"])}} if model.supersedes else {}),
                  # a model's own languages, words and floor (issue 12), when not the shipped defaults
                  **({"languages": list(model.languages)} if tuple(model.languages) != ("zh", "en") else {}),
                  **({"words": {k: dict(v) for k, v in model.words.items()}} if model.words else {}),
                  **({"floor": model.floor} if model.floor != 1 else {}),
                  "sha256": model.sha256},
        "method": {"threshold": model.threshold, "key_minimum": model.key_minimum,
                   "key_minimum_by_level": {str(k): model.key_minimum_for(k)
                                            for k in model.criteria_ranks},
                   **({"min_coverage": model.min_coverage} if model.min_coverage is not None else {})},
        "levels": [{"rank": lv.rank, "id": lv.id, "name": dict(lv.name),
                    **({"description": dict(lv.description)} if lv.description else {})} for lv in model.levels],
        "sources": [{"id": s.id, "title": dict(s.title)} for s in model.sources],
        "pillars": [{"id": p.id, "name": dict(p.name)} for p in model.pillars],
        "dimensions": [{"id": d.id, "pillar": d.pillar, "name": dict(d.name),
                        **({"description": dict(d.description)} if d.description else {})}
                       for d in model.dimensions],
        "facts": [{"id": f.id, "type": f.type, "default": f.default, "name": dict(f.name),
                   "sources": [dict(s) for s in f.sources],
                   **({"fields": dict(f.fields), "optional": list(f.optional)} if f.type == "record" else {}),
                   **({"choices": {k: list(v) for k, v in f.choices}} if f.choices else {}),
                   **({"period_months": f.period_months} if f.period_months else {}),
                   **({"period_from": f.period_from} if f.period_from else {})} for f in model.facts],
        "criteria": [{"id": c.id, "dimension": c.dimension, "level": c.level, "weight": c.weight, "key": c.key,
                      "text": dict(c.text), "evidence": dict(c.evidence) if c.evidence else None, "sources": [dict(s) for s in c.sources],
                      "na_allowed": c.na_allowed,
                      "red_flag": c.red_flag,
                      **({"anchors": {r: dict(t) for r, t in c.anchors.items()}} if c.anchors else {}),
                      **({"title": dict(c.title)} if c.title else {})}
                     for c in model.criteria.values()],
        "actions": [{"id": a.id, "name": dict(a.name), "addresses": list(a.addresses),
                     "depends_on": list(a.depends_on), "effort": a.effort,
                     **({"description": dict(a.description)} if a.description else {}),
                     **({"lead_time_months": a.lead_time_months} if a.lead_time_months is not None else {}),
                     **({"strengthen_effort": a.strengthen_effort} if a.strengthen_effort is not None else {})}
                    for a in model.actions.values()],
        "profiles": [{"id": p.id, "name": dict(p.name), "not_applicable": list(p.not_applicable),
                      **({"description": dict(p.description)} if p.description else {})}
                     for p in model.profiles],
        **({"effort_scale": {str(k): {"zh": v["zh"], "en": v["en"], "person_weeks": list(v["person_weeks"])}
                             for k, v in model.effort_scale.items()}} if model.effort_scale else {}),
        "rules": [{"id": r.id, "description": dict(r.description), "conclude": r.conclude,
                   "sources": [dict(s) for s in r.sources],
                   **({"rationale": dict(r.rationale)} if r.rationale else {})} for r in model.rules],
    }


def dumps(data) -> str:
    """Stable JSON: same data, same bytes; invisible characters (bidi, zero-width) as \\u escapes."""
    return json_text(json.dumps(data, ensure_ascii=False, indent=2)) + "\n"


def write_atomic(path: str, content, inputs=(), model_dirs=()) -> None:
    """Write ``content`` (str or bytes) to ``path`` atomically, never over one of ``inputs``.

    See :mod:`engine.safeio` (the one atomic writer of qmgrade).

    Raises
    ------
    InputError when ``path`` resolves to an input, a model file or a device, or cannot be written.
    """
    safeio.write_atomic(path, content, list(inputs), list(model_dirs))

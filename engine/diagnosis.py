"""Why a company stands where it stands: the rules that hold its level, and what keeps it from level N.

:func:`explain` reads everything from a :class:`~engine.grading.Grade` — the
conclusions durable_rules drew and the firings that drew them — and never
decides a level itself.  Whether the minimal fix reaches level N is checked
by grading the changed assessment again.

>>> from engine import load_model, read_assessment
>>> model = load_model()                                             # doctest: +SKIP
>>> result = explain(model, read_assessment("examples/level-3-assurance.yaml", model))  # doctest: +SKIP
>>> result["why_not"]["minimal_fix"][0]["criterion"]                 # doctest: +SKIP
"""
from __future__ import annotations

from typing import Dict, List, Optional

from .errors import InputError, Problem
from .grading import Grade, grade, level_object
from .scoring import SCALE, minimal_fix_for_cell, rating_units
from . import present
from .present import cap_sentence
from .present import coverage_text, criterion_title, level_name, na_above, rating_label, word

__all__ = ["explain", "check_rank", "criterion_entry", "addressed_by", "render_explain", "fact_summary",
           "red_flag_lines", "cap_relation"]


def check_rank(model, rank: Optional[int], option: str) -> None:
    """Refuse a level outside the model's ranks 1..top.

    Raises
    ------
    InputError naming the option, e.g. ``--level:1:1: level 6 is out of range ...``.
    """
    if rank is not None and not 1 <= rank <= model.top_rank:
        names = ", ".join(f"{lv.rank} {lv.id}" for lv in model.levels)
        raise InputError(Problem(option, 1, 1, f"level {rank} is out of range: the model's levels are "
                                               f"1..{model.top_rank} ({names})"))


def addressed_by(model) -> Dict[str, List[str]]:
    """Criterion id -> ids of the actions that address it, in model order."""
    out: Dict[str, List[str]] = {cid: [] for cid in model.criteria}
    for action in model.actions.values():
        for cid in action.addresses:
            out[cid].append(action.id)
    return out


def criterion_entry(model, assessment, criterion_id: str, actions: Optional[Dict[str, List[str]]] = None) -> dict:
    """A criterion as the reports show it: its rating, weight, text, evidence guidance and actions."""
    criterion = model.criteria[criterion_id]
    rated = criterion_id in assessment.ratings
    rating = assessment.ratings.get(criterion_id, 0.0)
    entry = {"criterion": criterion_id, "dimension": criterion.dimension, "level": criterion.level,
             "rating": rating if rated else 0.0, "key": criterion.key, "weight": criterion.weight}
    if not rated:
        entry["not_rated"] = True
    if rating is not None:
        entry["gain"] = round(criterion.weight * (SCALE - rating_units(rating)) / SCALE, 6)
    entry["text"] = dict(criterion.text)
    entry["evidence"] = dict(criterion.evidence) if criterion.evidence else {"zh": "", "en": ""}
    if criterion_id in assessment.evidence:
        entry["evidence_given"] = list(assessment.evidence[criterion_id])
    if actions is not None:
        entry["actions"] = list(actions.get(criterion_id, []))
    return entry


def _cell_firing(graded: Grade, cell, kind: str):
    for firing in graded.firings:
        fact = firing.conclusion
        if fact["fact"] == kind and fact.get("dimension") == cell[0] and fact.get("level") == cell[1]:
            return firing
    return None


def _holds(graded: Grade) -> dict:
    """The firings behind the attained level: company level, barrel, caps, staves, cells met."""
    wanted = []
    for firing in graded.firings:
        fact = firing.conclusion
        kind = fact["fact"]
        if kind in ("company_level", "barrel", "cap", "dimension_level"):
            wanted.append(firing.as_dict())
        elif kind == "met" and fact["level"] <= graded.level:
            wanted.append(firing.as_dict())
    met_rules: Dict[str, int] = {}
    for entry in wanted:
        if entry["conclusion"]["fact"] == "met":
            met_rules[entry["rule"]] = met_rules.get(entry["rule"], 0) + 1
    return {"rules": wanted, "cells_met": sum(met_rules.values()),
            "cells_met_by_rule": dict(sorted(met_rules.items()))}


def explain(model, assessment, level: Optional[int] = None, graded: Optional[Grade] = None) -> dict:
    """Why the attained level holds and why level ``level`` (default: the next) does not.

    Parameters
    ----------
    model, assessment
        As for :func:`engine.grade`.
    level : int, optional
        The level to explain, 1..top.  At or below the attained level the
        result says it is reached (``why_not`` is None).
    graded : Grade, optional
        A grade already computed for this assessment.

    Returns
    -------
    dict with ``level``, ``barrel``, ``target``, ``reached``, ``holds`` and
    ``why_not`` (failing cells with score vs threshold, key criteria below the
    minimum, caps, the staves below the target, the minimal fix with each
    criterion's evidence guidance, and what the fix reaches when graded).

    Raises
    ------
    InputError when ``level`` is outside 1..top.
    """
    check_rank(model, level, "--level")
    graded = graded or grade(model, assessment)
    current = graded.level
    rank = level if level is not None else (current + 1 if current < model.top_rank else None)
    result = {
        "company": dict(assessment.company),
        "assessed_on": assessment.assessed_on,
        "model": {"id": model.id, "version": model.version},
        "level": level_object(model, current),
        "barrel": {"rank": graded.barrel, "shortest": graded.shortest},
        "dimensions": [{"id": d.id, "level": graded.dimension_level[d.id],
                        "applicable_to": graded.applicable_to[d.id]} for d in model.dimensions],
        **graded.completeness(),
        "caps": graded.dated_caps(),
        "target": level_object(model, rank) if rank is not None else None,
        "reached": rank is None or rank <= current,
        "holds": _holds(graded),
        "why_not": None,
    }
    if rank is not None and rank > current:
        result["why_not"] = _why_not(model, assessment, graded, rank)
    return result


def _why_not(model, assessment, graded: Grade, rank: int) -> dict:
    actions = addressed_by(model)
    failing = []
    for cell in graded.unmet_cells(rank):
        score = graded.cells[cell]
        firing = _cell_firing(graded, cell, "unmet")
        keys = []
        below_full = []
        for criterion, rating, rated in score.entries:
            if rated and rating is None:
                continue
            units = rating_units(rating if rated else 0.0)
            if criterion.key and units < model.key_minimum_units_for(cell[1]):
                keys.append(criterion_entry(model, assessment, criterion.id))
            if units < SCALE:
                below_full.append(criterion.id)
        failing.append({
            "dimension": cell[0], "level": cell[1], "score": score.score, "threshold": model.threshold,
            "key_minimum": model.key_minimum_for(cell[1]), "applicable": score.applicable,
            "reason": (firing.conclusion.get("reason") if firing else None),
            "rule": firing.rule if firing else None,
            "firing": firing.as_dict() if firing else None,
            "keys_below": keys, "below_full": below_full,
            "minimal_fix": minimal_fix_for_cell(model, score),
        })
    fix = graded.minimal_fix(rank)
    facts = {f.rule: f.facts for f in graded.firings if f.conclusion["fact"] == "cap"}
    caps = [{**cap, "facts": facts.get(cap["rule"], [])} for cap in graded.dated_caps() if cap["level"] < rank]
    after = grade(model, assessment.with_ratings({cid: 1.0 for cid in fix}), detail=False)
    staves_below = sorted(
        ({"dimension": d.id, "level": graded.dimension_level[d.id], "shortest": d.id in graded.shortest}
         for d in model.dimensions if graded.dimension_level[d.id] < rank),
        key=lambda entry: (entry["level"], model.dimension_ids.index(entry["dimension"])))
    return {
        **level_object(model, rank),
        "shortest": graded.shortest,
        "staves_below": staves_below,
        "failing": failing,
        "caps": caps,
        "minimal_fix": [criterion_entry(model, assessment, cid, actions) for cid in fix],
        "after_fix": {"level": after.level, "reaches": after.level >= rank},
    }


# -- text ------------------------------------------------------------------------------
def fact_summary(fact: dict) -> str:
    """``cell(dimension=qms, level=3, score=0.62)``: a matched fact without its criteria list."""
    fields = ", ".join(f"{k}={_short(v)}" for k, v in fact.items() if k not in ("fact", "criteria"))
    return f"{fact.get('fact', '?')}({fields})"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _dim_name(model, dimension: str, lang: str) -> str:
    dim = model.dimensions_by_id[dimension]
    return f"{dim.name['zh'] if lang == 'zh' else dim.name['en']} ({dimension})"


def render_explain(result: dict, model, lang: str = "en", rules: bool = False) -> str:
    """The explanation as text for people, in domain sentences (deterministic, no colour).

    Criteria are named by title with the id beside, caps by their reason and
    the day they lift.  ``rules`` appends the rule firings in rule notation
    (``explain --rules``), for auditors.
    """
    lines: List[str] = []
    title = present.for_terminal(present.company_title(result.get("company")))
    rank = result["level"]["rank"]
    lines.append(f"{word('explain_title', lang)}: {title}")
    provisional = f" — {word('provisional', lang)}" if result.get("provisional") else ""
    lines.append(f"{word('level', lang)}: {level_name(model, rank, lang)}{provisional}")
    if result.get("coverage"):
        lines.append(f"{word('coverage', lang)}: {coverage_text({**result['coverage'], 'provisional': result.get('provisional')}, lang)}")
    lines.extend(red_flag_lines(model, result.get("red_flags") or [], lang))
    lines.append("")
    lines.append(f"{word('why_holds', lang)} — {level_name(model, rank, lang)}:")
    lines.extend("  " + line for line in holds_sentences(result, model, lang))
    lines.append("")
    target = result["target"]
    why = result["why_not"]
    if target is None:
        lines.append(word("top_reached", lang))
    elif why is None:
        lines.append(f"{level_name(model, target['rank'], lang)}: {word('reached_already', lang)}{_stop(lang)}")
    else:
        lines.extend(_why_not_lines(result, model, lang))
    if rules:
        lines.append("")
        lines.extend(_rule_lines(result, model, lang))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _stop(lang: str) -> str:
    return "。" if lang == "zh" else "."


def red_flag_lines(model, flags: List[str], lang: str) -> List[str]:
    """The red-flag block every report for people opens with (empty without red flags)."""
    if not flags:
        return []
    out = ["", f"{word('red_flags', lang)} ({len(flags)}):"]
    for cid in flags:
        out.append(f"  ! {criterion_title(model, cid, lang)}")
    return out


def _stave_words(model, entry: dict, lang: str) -> str:
    name = _dim_name(model, entry["id"], lang)
    text = f"{name}: L{entry['level']}"
    applicable = entry.get("applicable_to")
    if applicable is not None and applicable < model.top_rank:
        text += f" ({na_above(applicable, lang)})"
    return text


def holds_sentences(result: dict, model, lang: str) -> List[str]:
    rank = result["level"]["rank"]
    barrel = result["barrel"]
    shortest = ", ".join(_dim_name(model, d, lang) for d in barrel["shortest"])
    out = []
    if lang == "zh":
        out.append(f"木桶等级为 {level_name(model, barrel['rank'], lang)}：最短的板是 {shortest}。")
    else:
        out.append(f"The barrel stands at {level_name(model, barrel['rank'], lang)}: the shortest staves are "
                   f"{shortest}.")
    holding = [c for c in result.get("caps") or [] if c.get("holding")]
    for cap in holding:
        out.append(cap_sentence(cap, model, lang) + _stop(lang))
    if holding:
        out.append(cap_relation(rank, barrel["rank"], lang))
    out.append("各维度等级：" if lang == "zh" else "Staves:")
    out.extend(f"  {_stave_words(model, d, lang)}" for d in result["dimensions"])
    return out


def cap_relation(level: int, barrel: int, lang: str) -> str:
    """What a holding cap does, said right whether it equals the barrel or sits below it (issue 11)."""
    if level < barrel:
        return word("cap_below_barrel", lang).format(level=level, barrel=barrel)
    return word("cap_at_barrel", lang).format(level=level)


def _why_not_lines(result: dict, model, lang: str) -> List[str]:
    target = result["target"]
    why = result["why_not"]
    lines = [f"{word('why_not', lang)} {level_name(model, target['rank'], lang)}:"]
    if why["staves_below"]:
        lines.append(f"  {word('staves_below', lang)}:")
        for stave in why["staves_below"]:
            mark = f" — {word('shortest_stave', lang)}" if stave["shortest"] else ""
            lines.append(f"    {_dim_name(model, stave['dimension'], lang)}: L{stave['level']}{mark}")
    if why["caps"]:
        lines.append(f"  {word('caps_block', lang)}:")
        for cap in why["caps"]:
            lines.append(f"    {cap_sentence(cap, model, lang)}")
    for cell in why["failing"]:
        score = present.score(cell["score"], cell["threshold"])   # the one score rule (issue 10)
        threshold = present.number(cell["threshold"])
        dim = _dim_name(model, cell["dimension"], lang)
        if lang == "zh":
            head = f"{dim} 的 L{cell['level']} 要求未满足：得分 {score}，阈值 {threshold}"
        else:
            head = (f"{dim} does not meet level {cell['level']}: it scores {score} against the threshold "
                    f"{threshold}")
        if cell["reason"] == "key" or cell["keys_below"]:
            head += "，且有关键条款低于最低要求" if lang == "zh" else ", and a key criterion is below its minimum"
        lines.append(f"  {head}{_stop(lang)}")
        for key in cell["keys_below"]:
            rating = rating_label(key["rating"], lang, key.get("not_rated", False))
            if lang == "zh":
                lines.append(f"    ! 关键条款 {criterion_title(model, key['criterion'], lang)} 评为 {rating}，"
                             f"低于关键最低分 {present.number(cell['key_minimum'])}")
            else:
                lines.append(f"    ! key criterion {criterion_title(model, key['criterion'], lang)} is rated "
                             f"{rating}, below the key minimum {present.number(cell['key_minimum'])}")
        names = ("；" if lang == "zh" else "; ").join(criterion_title(model, c, lang) for c in cell["minimal_fix"])
        lines.append(f"    {word('to_meet_it', lang)}: {names}")
    fix = why["minimal_fix"]
    lines.append("")
    lines.append(f"{word('minimal_fix', lang)} ({len(fix)}):" + ("" if fix else f" {word('none', lang)}"))
    for entry in fix:
        key = f" [{word('key', lang)}]" if entry["key"] else ""
        lines.append(f"  - {criterion_title(model, entry['criterion'], lang)}{key}: "
                     f"{rating_label(entry['rating'], lang, entry.get('not_rated', False))} → "
                     f"{rating_label(1.0, lang)}")
        lines.append(f"      {entry['text'][lang]}")
        lines.append(f"      {word('evidence', lang)}: {entry['evidence'][lang]}")
        if entry.get("actions"):
            names = ("；" if lang == "zh" else "; ").join(
                f"{model.actions[a].name[lang]} ({a})" if a in model.actions else a for a in entry["actions"])
            lines.append(f"      {word('addressed_by', lang)}: {names}")
    after = why["after_fix"]
    verdict = word("reaches", lang) if after["reaches"] else word("does_not_reach", lang)
    lines.append(f"{word('after_fix', lang)}: {level_name(model, after['level'], lang)} — {verdict} "
                 f"{level_name(model, target['rank'], lang)}")
    if why["caps"] and not after["reaches"]:
        lines.append(word("cap_no_action", lang))
    return lines


def _rule_lines(result: dict, model, lang: str) -> List[str]:
    """The firings behind the level and the failing cells, in rule notation (``explain --rules``)."""
    lines = [f"{word('rules_fired', lang)}:"]
    holds = result["holds"]
    for entry in holds["rules"]:
        kind = entry["conclusion"]["fact"]
        if kind == "met":
            continue
        if kind == "dimension_level" and entry["conclusion"]["dimension"] not in result["barrel"]["shortest"]:
            continue
        matched = "; ".join(fact_summary(f) for f in entry["facts"])
        lines.append(f"  #{entry['seq']} {entry['rule']}: {matched} ⇒ {fact_summary(entry['conclusion'])}")
    by_rule = ", ".join(f"{rule} ×{n}" for rule, n in holds["cells_met_by_rule"].items())
    lines.append(f"  {word('cells_met', lang).format(k=result['level']['rank'])}: {holds['cells_met']}"
                 + (f" ({by_rule})" if by_rule else ""))
    why = result.get("why_not")
    for cell in (why or {}).get("failing", []):
        if cell.get("firing"):
            firing = cell["firing"]
            matched = "; ".join(fact_summary(f) for f in firing["facts"])
            lines.append(f"  #{firing['seq']} {firing['rule']}: {matched} ⇒ {fact_summary(firing['conclusion'])}")
    for cap in (why or {}).get("caps", []):
        matched = "; ".join(fact_summary(f) for f in cap.get("facts", []))
        lines.append(f"  {cap['rule']} → L{cap['level']}: {matched}")
    return lines

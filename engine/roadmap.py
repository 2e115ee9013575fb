"""The improvement roadmap: the fewest actions, in dependency order, that take a company to a target level.

How a plan is built (CONTRACT §5):

1. *Needed criteria*: the minimal fix for the target — the ``minimal_fix``
   rule applied to every (dimension, level ≤ target) cell that is not met.
2. *Cover*: repeatedly choose the action that addresses the most needed
   criteria not yet covered; ties go to the least effort (its own plus that
   of its prerequisites not yet planned), then model order.  A chosen action
   made redundant by later choices is dropped again.
3. *Prerequisites*: add every action the chosen ones depend on, directly or
   through others, that is not already done (done = every criterion it
   addresses is rated full, as CONTRACT §5 says; a criterion rated na is not
   full, so an action over na criteria counts as not done).
4. *Phases*: the topological generations of the plan, where an action follows
   every planned action it depends on, directly or through done ones.  Within
   a phase, what lifts the shortest staves comes first, then the least effort.
5. Each phase is graded (the criteria of the actions so far set to full) to
   say which level it unlocks; its PDCA *check* lists the criteria whose
   evidence proves the phase done.  The whole plan is graded too: only a cap
   can keep it from the target, and the plan then names the caps.

Every level comes from :func:`engine.grade`, i.e. from the rules.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set

import networkx as nx

from .diagnosis import check_rank, criterion_entry
from .errors import ModelError, Problem
from .grading import Grade, grade, level_object
from .scoring import SCALE, rating_units
from .words import level_name, word
from .report import safe_text

__all__ = ["plan_roadmap", "done_actions", "render_roadmap", "dependency_cycle"]


def _is_full(assessment, criterion_id: str) -> bool:
    if criterion_id not in assessment.ratings:
        return False
    rating = assessment.ratings[criterion_id]
    return rating is not None and rating_units(rating) >= SCALE


def done_actions(model, assessment) -> Set[str]:
    """Actions already done: every criterion they address is rated full."""
    return {a.id for a in model.actions.values() if all(_is_full(assessment, c) for c in a.addresses)}


def dependency_cycle(graph: nx.DiGraph) -> Optional[List[str]]:
    """The first dependency cycle found, as ``[a, b, ..., a]``, or None."""
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [cycle[0][0]] + [edge[1] for edge in cycle]


def _check_acyclic(model, graph: nx.DiGraph) -> None:
    cycle = dependency_cycle(graph)
    if cycle:
        raise ModelError(Problem(f"{model.path}/knowledge", 1, 1,
                                 f"dependency cycle: {' -> '.join(cycle)} (each depends on the one before "
                                 f"it); no order of the actions exists", "cycle"))


def _choose(model, graph, needed: List[str], done: Set[str]) -> List[str]:
    """Greedy cover of the needed criteria by actions (see the module docstring)."""
    order = {aid: i for i, aid in enumerate(model.actions)}
    uncovered = set(needed)
    candidates = [a for a in model.actions.values() if uncovered.intersection(a.addresses)]
    chosen: List[str] = []
    planned: Set[str] = set()
    while uncovered:
        def cost(action):
            new = (nx.ancestors(graph, action.id) - done - planned) | {action.id}
            return (-len(uncovered.intersection(action.addresses)),
                    sum(model.actions[a].effort for a in new), action.effort, order[action.id])
        useful = [a for a in candidates if uncovered.intersection(a.addresses)]
        if not useful:      # only a model built in code, bypassing validation, leaves a criterion unaddressed
            break
        best = min(useful, key=cost)
        chosen.append(best.id)
        planned |= (nx.ancestors(graph, best.id) - done) | {best.id}
        uncovered -= set(best.addresses)
    # drop a choice whose needed criteria the rest of the plan covers anyway (latest choice first)
    for aid in list(reversed(chosen)):
        trial = [c for c in chosen if c != aid]
        addressed = {cid for a in _closure(graph, trial, done) for cid in model.actions[a].addresses}
        if set(needed) <= addressed:
            chosen = trial
    return chosen


def _closure(graph, chosen, done: Set[str]) -> Set[str]:
    plan = set(chosen)
    for aid in chosen:
        plan |= nx.ancestors(graph, aid) - done
    return plan


def plan_roadmap(model, assessment, target: Optional[int] = None, graded: Optional[Grade] = None) -> dict:
    """Plan the actions that take ``assessment`` to level ``target`` (default: the next level).

    Returns
    -------
    dict (CONTRACT §5): ``from`` and ``target`` (ranks), ``phases`` (each with
    ``phase``, ``actions``, ``unlocks``, ``level_after`` and ``check``),
    ``order``, ``needed``, ``reaches``, ``level_after``, ``caps`` and, for an
    empty plan, ``message``.  A target at or below the current level, or the
    top level already reached, gives an empty plan and a message.

    Raises
    ------
    InputError when ``target`` is outside 1..top; ModelError naming the
    cycle when the model's dependencies are cyclic.
    """
    check_rank(model, target, "--target")
    graph = model.graph
    _check_acyclic(model, graph)
    graded = graded or grade(model, assessment)
    current = graded.level
    rank = target if target is not None else min(current + 1, model.top_rank)
    plan = {"company": dict(assessment.company), "assessed_on": assessment.assessed_on,
            "model": {"id": model.id, "version": model.version},
            "from": current, "target": rank,
            "from_level": level_object(model, current), "target_level": level_object(model, rank),
            "needed": [], "phases": [], "order": [], "total_effort": 0,
            "reaches": current >= rank, "level_after": current, "caps": []}
    if rank <= current:
        plan["message"] = {lang: (word("at_top", lang) if current == model.top_rank and target is None
                                  else word("already_at", lang)) + f": {level_name(model, current, lang)}"
                                 + _stop(lang) for lang in ("zh", "en")}
        return plan

    needed = graded.minimal_fix(rank)
    done = done_actions(model, assessment)
    chosen = _choose(model, graph, needed, done)
    members = _closure(graph, chosen, done)
    index = {aid: i for i, aid in enumerate(model.actions)}
    # an action follows every planned action it depends on, directly or through done ones
    ordering = nx.DiGraph()
    ordering.add_nodes_from(sorted(members, key=index.get))
    for aid in members:
        for ancestor in nx.ancestors(graph, aid) & members:
            ordering.add_edge(ancestor, aid)
    needed_set = set(needed)
    direct = nx.transitive_reduction(ordering)

    def lift(aid):
        # the shortest stave among the unfinished criteria it brings to full
        levels = [graded.dimension_level[model.criteria[c].dimension]
                  for c in model.actions[aid].addresses if not _is_full(assessment, c)]
        return min(levels) if levels else model.top_rank

    phases = []
    raised: Dict[str, float] = {}
    checked: Set[str] = set()
    previous = current
    for number, generation in enumerate(nx.topological_generations(ordering), start=1):
        actions = sorted(generation, key=lambda a: (lift(a), model.actions[a].effort, index[a]))
        check = []
        for aid in actions:
            for cid in model.actions[aid].addresses:
                raised[cid] = 1.0
                if not _is_full(assessment, cid) and cid not in checked:
                    checked.add(cid)
                    entry = criterion_entry(model, assessment, cid)
                    check.append({k: entry[k] for k in ("criterion", "dimension", "level", "key", "text",
                                                         "evidence")})
        after = grade(model, assessment.with_ratings(raised), detail=False).level
        phases.append({
            "phase": number,
            "actions": [_action_entry(model, aid, needed_set, direct, index) for aid in actions],
            "unlocks": level_object(model, after) if after > previous else None,
            "level_after": after,
            "effort": sum(model.actions[a].effort for a in actions),
            "check": check,
        })
        previous = max(previous, after)
    final = grade(model, assessment.with_ratings(raised), detail=False) if raised else graded
    plan.update({
        "needed": needed,
        "phases": phases,
        "order": [a["id"] for p in phases for a in p["actions"]],
        "total_effort": sum(p["effort"] for p in phases),
        "reaches": final.level >= rank,
        "level_after": final.level,
        "caps": [{"rule": f.rule, "level": f.conclusion["level"], "facts": f.facts}
                 for f in final.firings if f.conclusion["fact"] == "cap" and f.conclusion["level"] < rank],
    })
    if not phases and plan["reaches"]:
        plan["message"] = {lang: word("empty_plan", lang) for lang in ("zh", "en")}
    elif not phases:
        plan["message"] = {lang: f"{word('capped_plan', lang)} {level_name(model, final.level, lang)}"
                                 f"{_stop(lang)} {word('cap_no_action', lang)}" for lang in ("zh", "en")}
    return plan


def _stop(lang: str) -> str:
    return "。" if lang == "zh" else "."


def _action_entry(model, aid: str, needed: Set[str], direct: nx.DiGraph, index: Dict[str, int]) -> dict:
    action = model.actions[aid]
    return {"id": aid, "name": dict(action.name), "addresses": list(action.addresses), "effort": action.effort,
            "depends_on": list(action.depends_on),
            "after": sorted(direct.predecessors(aid), key=index.get),
            "covers": [c for c in action.addresses if c in needed],
            "level": model.action_level(aid)}


# -- text ------------------------------------------------------------------------------
def render_roadmap(plan: dict, model, lang: str = "en") -> str:
    """The roadmap as text for people (deterministic, no colour)."""
    lines: List[str] = []
    company = plan.get("company") or {}
    title = safe_text(company.get("name") or company.get("id") or "-")
    lines.append(f"{word('roadmap_title', lang)}: {title}")
    lines.append(f"{word('from', lang)}: {level_name(model, plan['from'], lang)} → "
                 f"{word('to', lang)}: {level_name(model, plan['target'], lang)}")
    if plan.get("message"):
        lines.append("")
        lines.append(plan["message"][lang])
    if plan["needed"]:
        lines.append("")
        lines.append(f"{word('needed', lang)} ({len(plan['needed'])}): {', '.join(plan['needed'])}")
    for phase in plan["phases"]:
        lines.append("")
        unlocks = (f"{word('unlocks', lang)} {level_name(model, phase['unlocks']['rank'], lang)}"
                   if phase["unlocks"] else word("no_unlock", lang))
        lines.append(f"{word('phase', lang)} {phase['phase']} — {unlocks} — {word('effort', lang)} {phase['effort']}")
        for n, action in enumerate(phase["actions"], start=1):
            lines.append(f"  {n}. {action['id']}: {action['name'][lang]} [{word('effort', lang)} {action['effort']}]")
            lines.append(f"     {word('addresses', lang)}: {', '.join(action['addresses'])}")
            if action["after"]:
                lines.append(f"     {word('after', lang)}: {', '.join(action['after'])}")
        lines.append(f"  {word('check', lang)}:")
        for entry in phase["check"]:
            lines.append(f"    - {entry['criterion']}: {entry['evidence'][lang]}")
    lines.append("")
    if plan["phases"]:
        lines.append(f"{word('total', lang)}: {len(plan['order'])} {word('actions_count', lang)}, "
                     f"{word('total_effort', lang)} {plan['total_effort']}{_stop(lang)}")
    if plan["reaches"]:
        if plan["phases"]:
            lines.append(f"{word('plan_reaches', lang)} {level_name(model, plan['level_after'], lang)}{_stop(lang)}")
    elif plan["phases"]:
        lines.append(f"{word('plan_blocked', lang)} {level_name(model, plan['level_after'], lang)}{_stop(lang)}")
        lines.append(word("cap_no_action", lang))
    for cap in ([] if plan["reaches"] else plan["caps"]):
        lines.append(f"  {word('caps', lang)}: {cap['rule']} → L{cap['level']}")
    return "\n".join(lines) + "\n"

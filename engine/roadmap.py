"""The improvement roadmap: level by level, the fewest actions that take a company to a target level, dated.

How a plan is built (CONTRACT §5 as extended in §6, issue 11):

1. *States of an action.*  *Done*: every criterion it addresses is rated full.
   *In place*: every applicable criterion it addresses is rated ≥ largely; an
   in-place action is never added as a mere prerequisite, and where one of its
   criteria must still rise it appears as *strengthen* (close the gaps), with
   the model's smaller ``strengthen_effort``.  Otherwise it is *complete* (some
   criterion rated above none) or *start*.
2. *Prerequisites* of an action: what it depends on, directly or through
   others, stopping at actions that are done or in place.
3. *Cover*: the criteria of the minimal fix for the target are covered
   greedily, an action's cost counted with the prerequisites it would bring
   in and its gain with the needed criteria those prerequisites address too
   (the cover is chosen knowing the prerequisites).
4. *Irredundant*: every action no other planned action depends on is tried
   for removal, the costliest first; it goes when the rest still meets every
   (dimension, level ≤ target) cell by the method's arithmetic (the
   ``minimal_fix`` of each cell is empty).  Removal only ever lowers ratings,
   so an action kept once stays necessary: no action of the plan can be
   dropped while it still reaches the target.
5. *Milestones*: for k from the current level + 1 to the target, milestone k
   is the same pruning of what is left, for level k, after the milestones
   before it: exactly the actions level k still needs.  Each milestone is then
   graded with :func:`engine.grade` (the rules decide) to say which level it
   reaches; should a custom rule disagree with the arithmetic, the graded
   minimal fix is covered in the milestone as well.  Inside a milestone the
   actions stand in dependency layers (the *phases*, numbered across the
   plan); ``order`` is the concatenation of the milestones.
6. *Time*: an action's work takes the months of the lower bound of its effort
   class (``effort_scale``, person-weeks, at 4.345 weeks a month) after the
   work on its planned prerequisites; its evidence counts ``lead_time_months``
   later, and never before theirs.  Actions run in parallel where the
   dependencies allow (the critical path).  The month a level can first be
   claimed is the latest of its milestone's actions and the earlier milestones.
7. *Red flags*: the actions that would clear the red-flag criteria stand apart
   (``red_flag_actions``), beside the milestones.

Every level reported comes from :func:`engine.grade`, i.e. from the rules.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

import networkx as nx

from .coverage import red_flags
from .diagnosis import check_rank, criterion_entry
from .errors import ModelError, Problem
from .grading import Grade, grade, level_object, model_object
from .scoring import SCALE, minimal_fix_for_cell, rating_units, score_cell, score_cells
from .export import dumps
from .present import level_name, word

__all__ = ["Roadmap", "plan_roadmap", "done_actions", "in_place_actions", "dependency_cycle",
           "effort_scale", "DEFAULT_EFFORT_SCALE", "DEFAULT_LEAD_TIME_MONTHS"]

LARGELY = 0.8
WEEKS_PER_MONTH = 4.345
DEFAULT_LEAD_TIME_MONTHS = 3           # SPEC default for an action that does not declare one
DEFAULT_EFFORT_SCALE = {               # SPEC default for a model that does not declare one
    1: {"zh": "不足 1 人周", "en": "under 1 person-week", "person_weeks": (0, 1)},
    2: {"zh": "1–4 人周", "en": "1–4 person-weeks", "person_weeks": (1, 4)},
    3: {"zh": "4–12 人周", "en": "4–12 person-weeks", "person_weeks": (4, 12)},
    4: {"zh": "12–26 人周", "en": "12–26 person-weeks", "person_weeks": (12, 26)},
    5: {"zh": "26–52 人周", "en": "26–52 person-weeks", "person_weeks": (26, 52)},
}


def effort_scale(model) -> Dict[int, dict]:
    return getattr(model, "effort_scale", None) or DEFAULT_EFFORT_SCALE


# -- states of actions ------------------------------------------------------------------
def _rating(assessment, criterion_id: str):
    """The rating (0.0 when not rated), or None for na."""
    return assessment.ratings.get(criterion_id, 0.0)


def _is_full(assessment, criterion_id: str) -> bool:
    if criterion_id not in assessment.ratings:
        return False
    rating = assessment.ratings[criterion_id]
    return rating is not None and rating_units(rating) >= SCALE


def done_actions(model, assessment) -> Set[str]:
    """Actions already done: every criterion they address is rated full (na is not full)."""
    return {a.id for a in model.actions.values() if all(_is_full(assessment, c) for c in a.addresses)}


def in_place_actions(model, assessment) -> Set[str]:
    """Actions in place: every applicable criterion they address is rated ≥ largely (done ones included)."""
    out = set()
    for action in model.actions.values():
        ratings = [_rating(assessment, c) for c in action.addresses]
        if all(r is None or rating_units(r) >= rating_units(LARGELY) for r in ratings):
            out.add(action.id)
    return out


def _mode(model, assessment, aid: str, in_place: Set[str]) -> str:
    if aid in in_place:
        return "strengthen"
    ratings = [_rating(assessment, c) for c in model.actions[aid].addresses]
    return "complete" if any(r is not None and r > 0 for r in ratings) else "start"


def dependency_cycle(graph: nx.DiGraph) -> Optional[List[str]]:
    """The first dependency cycle found, as ``[a, b, ..., a]``, or None."""
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    return [cycle[0][0]] + [edge[1] for edge in cycle]


def _check_acyclic(model, graph: nx.DiGraph) -> None:
    checked = (graph, graph.number_of_edges())
    if model.__dict__.get("_roadmap_acyclic") == checked:   # checked once per model, not once per plan
        return
    cycle = dependency_cycle(graph)
    if cycle:
        raise ModelError(Problem(f"{model.path}/knowledge", 1, 1,
                                 f"dependency cycle: {' -> '.join(cycle)} (each depends on the one before "
                                 f"it); no order of the actions exists", "cycle"))
    model.__dict__["_roadmap_acyclic"] = checked


def _addressed_by(model) -> Dict[str, List[str]]:
    """Criterion -> the actions addressing it, worked out once per model."""
    return model.derived("_roadmap_addressed_by", _find_addressed_by)


def _find_addressed_by(model) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {cid: [] for cid in model.criteria}
    for action in model.actions.values():
        for cid in action.addresses:
            found.setdefault(cid, []).append(action.id)
    return found


def _address_sets(model) -> Dict[str, frozenset]:
    return model.derived("_roadmap_addresses", _find_address_sets)


def _find_address_sets(model) -> Dict[str, frozenset]:
    return {aid: frozenset(a.addresses) for aid, a in model.actions.items()}


def _criterion_masks(model) -> Dict[str, int]:
    """Action -> the criteria it addresses as a bit mask (bit i: the model's i-th criterion), once per model."""
    return model.derived("_roadmap_criterion_masks", _find_criterion_masks)


def _find_criterion_masks(model) -> Dict[str, int]:
    bit = {cid: 1 << i for i, cid in enumerate(model.criteria)}
    return {aid: sum(bit[c] for c in set(a.addresses) if c in bit) for aid, a in model.actions.items()}


def _action_levels(model) -> Dict[str, int]:
    return model.derived("_roadmap_levels", _find_action_levels)


def _find_action_levels(model) -> Dict[str, int]:
    return {aid: model.action_level(aid) for aid in model.actions}


class _Planner:
    """The state one plan is built in: the assessment, what is done or in place, efforts."""

    def __init__(self, model, assessment):
        self.model = model
        self.assessment = assessment
        self.done = done_actions(model, assessment)
        self.in_place = in_place_actions(model, assessment)
        self.skip = self.done | self.in_place           # never brought in as a prerequisite
        self.index = {aid: i for i, aid in enumerate(model.actions)}
        self.mode = {aid: _mode(model, assessment, aid, self.in_place) for aid in model.actions}
        self.ids = list(model.actions)                   # bit i of a mask is action ids[i]
        self._masks: Optional[Dict[str, int]] = None
        self._reach: Dict[str, int] = {}                 # action -> criteria its closure addresses (a mask)
        # dependencies that order a plan: not on done or in-place actions
        self.needs = {aid: tuple(p for p in a.depends_on if p not in self.skip) for aid, a in model.actions.items()}
        self.addresses = _address_sets(model)
        self.efforts = {aid: self.effort(aid) for aid in model.actions}
        levels = _action_levels(model)
        self.drop_key = {aid: (levels[aid], self.effort(aid), self.index[aid]) for aid in model.actions}

    def effort(self, aid: str) -> int:
        action = self.model.actions[aid]
        if self.mode[aid] == "strengthen":
            smaller = getattr(action, "strengthen_effort", None)
            return smaller if smaller is not None else max(1, math.ceil(action.effort / 2))
        return action.effort

    def masks(self) -> Dict[str, int]:
        """Each action's closure — itself and the prerequisites it brings in (its dependencies, directly or
        through others, stopping at done or in-place ones) — as a bit mask over ``ids``.

        Worked out once per plan, prerequisites first, without recursion: a 10,000-action dependency chain
        costs about 6 MB of masks instead of 50 million set entries (issue 15).
        """
        if self._masks is None:
            actions, skip, index = self.model.actions, self.skip, self.index
            addressed = _criterion_masks(self.model)
            masks: Dict[str, int] = {}
            reach = self._reach
            for start in actions:
                stack = [start]
                while stack:
                    aid = stack[-1]
                    if aid in masks:
                        stack.pop()
                        continue
                    pending = [p for p in actions[aid].depends_on if p not in skip and p not in masks]
                    if pending:             # the model is acyclic (checked before planning)
                        stack.extend(pending)
                        continue
                    mask, criteria = 1 << index[aid], addressed[aid]
                    for p in actions[aid].depends_on:
                        if p not in skip:
                            mask |= masks[p]
                            criteria |= reach[p]
                    masks[aid] = mask
                    reach[aid] = criteria
                    stack.pop()
            self._masks = masks
        return self._masks

    def mask_of(self, actions: Iterable[str]) -> int:
        mask = 0
        for aid in actions:
            mask |= 1 << self.index[aid]
        return mask

    def members_of(self, mask: int) -> Set[str]:
        ids = self.ids
        return {ids[i] for i, bit in enumerate(bin(mask)[:1:-1]) if bit == "1"}

    def required(self, aid: str) -> Set[str]:
        """The prerequisites ``aid`` brings into a plan: its dependencies, stopping at done or in-place ones."""
        return self.members_of(self.masks()[aid]) - {aid}

    def direct(self, aid: str, members: Set[str]) -> List[str]:
        """The planned actions ``aid`` must follow: its dependencies in ``members`` that are not in place."""
        return [p for p in self.needs[aid] if p in members]

    def raised(self, ratings: dict, actions: Iterable[str]) -> dict:
        """``ratings`` with every applicable criterion of ``actions`` at full (na stays na)."""
        out = dict(ratings)
        for aid in actions:
            for cid in self.model.actions[aid].addresses:
                if not (cid in out and out[cid] is None):
                    out[cid] = 1.0
        return out

    # -- cover and pruning ---------------------------------------------------------------
    def cover(self, needed: Iterable[str], planned: Set[str]) -> Set[str]:
        """Actions (with their prerequisites) added to ``planned`` to cover the ``needed`` criteria."""
        addresses, efforts = self.addresses, self.efforts
        uncovered = set(needed) - {c for a in planned for c in addresses[a]}
        added: Set[str] = set()
        by_criterion = _addressed_by(self.model)
        masks = self.masks()
        # the cost of a set of actions, one popcount per effort class; a criterion's actions as a mask
        by_effort: Dict[int, int] = {}
        for aid, effort in efforts.items():
            by_effort[effort] = by_effort.get(effort, 0) | (1 << self.index[aid])
        # the uncovered criteria as a bit mask: an action's gain is one popcount against its closure's criteria
        bit = {cid: 1 << i for i, cid in enumerate(self.model.criteria)}
        open_mask = sum(bit[c] for c in uncovered if c in bit)
        reach = self._reach
        effort_at = [efforts[aid] for aid in self.ids]
        if not uncovered <= bit.keys():   # a criterion the model does not have (a model built in code)
            return self._cover_each_time(uncovered, planned, by_effort, bit, open_mask, effort_at)

        def key(aid: str, free: int) -> tuple:
            # criteria of actions already taken are covered already: the closure's criteria say the gain
            gain = (reach[aid] & open_mask).bit_count()
            new = masks[aid] & free
            if new.bit_count() <= 8:   # a few actions (the usual case): add their efforts up
                cost, rest = 0, new
                while rest:
                    low = rest & -rest
                    cost += effort_at[low.bit_length() - 1]
                    rest ^= low
            else:                      # a long chain: one popcount per effort class
                cost = sum(effort * (new & mask).bit_count() for effort, mask in by_effort.items())
            return (-gain / cost if cost else -gain, cost, self.index[aid])

        # The best candidate each round, from a heap of keys: a key changes only when the round covered one of
        # the criteria its closure reaches (the gain) or took one of its closure's actions (the cost); those are
        # worked out again, the others stand.  A candidate addresses an uncovered criterion and is not taken.
        addressed = _criterion_masks(self.model)
        taken_mask = self.mask_of(planned)
        free = ~taken_mask
        keys = {aid: key(aid, free)
                for aid in {a for c in uncovered for a in by_criterion.get(c, ())} - planned - self.done}
        heap = [(k, aid) for aid, k in keys.items()]
        heapq.heapify(heap)
        while uncovered:
            while heap and keys.get(heap[0][1]) != heap[0][0]:
                heapq.heappop(heap)   # a key worked out again since, or a candidate gone
            if not heap:    # only a model built in code, bypassing validation, leaves a criterion unaddressed
                break
            best = masks[heapq.heappop(heap)[1]] & free
            chosen = self.members_of(best)
            added |= chosen
            covered = set().union(*[addresses[a] for a in chosen])
            uncovered -= covered
            closed = open_mask & sum(bit[c] for c in covered)
            open_mask &= ~closed
            taken_mask |= best
            free = ~taken_mask
            for aid in [a for a in keys if masks[a] & best or reach[a] & closed]:
                if aid in chosen or not addressed[aid] & open_mask:
                    del keys[aid]
                else:
                    keys[aid] = key(aid, free)
                    heapq.heappush(heap, (keys[aid], aid))
        return added

    def _cover_each_time(self, uncovered: Set[str], planned: Set[str], by_effort: Dict[int, int], bit: dict,
                         open_mask: int, effort_at: List[int]) -> Set[str]:
        """:meth:`cover` weighing every candidate in every round (a model with criteria it does not list)."""
        addresses, masks, reach = self.addresses, self.masks(), self._reach
        by_criterion = _addressed_by(self.model)
        added: Set[str] = set()
        while uncovered:
            best, best_key = None, None
            taken = planned | added
            free = ~self.mask_of(taken)
            candidates = {a for c in uncovered for a in by_criterion.get(c, ())} - taken - self.done
            for aid in candidates:
                gain = (reach[aid] & open_mask).bit_count()
                new = masks[aid] & free
                cost = sum(effort * (new & mask).bit_count() for effort, mask in by_effort.items())
                key = (-gain / cost if cost else -gain, cost, self.index[aid])
                if best_key is None or key < best_key:
                    best, best_key = new, key
            if best is None:
                break
            chosen = self.members_of(best)
            added |= chosen
            covered = set().union(*[addresses[a] for a in chosen])
            uncovered -= covered
            open_mask &= ~sum(bit[c] for c in covered & set(bit))
        return added

    def closure(self, aid: str) -> Set[str]:
        """The action with the prerequisites it brings in."""
        return self.members_of(self.masks()[aid])

    def reaches(self, ratings: dict, level: int, cells: Optional[Iterable] = None) -> bool:
        """Every (dimension, level ≤ ``level``) cell — or of ``cells`` only — is met by the method's
        arithmetic (its minimal fix is empty)."""
        model = self.model
        if cells is None:
            scored = score_cells(model, ratings)
            return all(not minimal_fix_for_cell(model, cell) for (_, k), cell in scored.items() if k <= level)
        return all(not minimal_fix_for_cell(model, score_cell(model, d, k, ratings)) for d, k in cells if k <= level)

    def cells_of(self, aid: str) -> Set[tuple]:
        """The cells whose score an action changes."""
        return {(self.model.criteria[c].dimension, self.model.criteria[c].level)
                for c in self.model.actions[aid].addresses}

    def prune(self, members: Set[str], ratings: dict, level: int) -> Set[str]:
        """Drop, costliest and highest first, every action nothing else needs while ``level`` is still met."""
        members = set(members)
        kept: Set[str] = set()
        if not self.reaches(self.raised(ratings, members), level):
            return members
        dependents = {a: 0 for a in members}
        raisers: Dict[str, int] = {}            # criterion -> how many members raise it
        for a in members:
            for p in self.direct(a, members):
                dependents[p] += 1
            for c in self.addresses[a]:
                raisers[c] = raisers.get(c, 0) + 1
        current = self.raised(ratings, members)
        # the sinks (members nothing left depends on, not kept yet), the costliest and highest on top:
        # an action becomes a sink once, so a heap keeps this linear on a 10,000-action chain (issue 15)
        sinks = [self.sink_key(a) for a in members if not dependents[a]]
        heapq.heapify(sinks)
        while True:
            if not sinks:
                return members
            aid = heapq.heappop(sinks)[-1]
            # the rest meets the level already: only the criteria only this action raises can fall back
            alone = [c for c in self.addresses[aid] if raisers[c] == 1 and not (c in ratings and ratings[c] is None)]
            saved = {c: current[c] for c in alone}
            for c in alone:
                if c in ratings:
                    current[c] = ratings[c]
                else:
                    del current[c]
            if self.reaches(current, level, self.cells_of(aid)):
                members.discard(aid)
                for p in self.direct(aid, members):
                    dependents[p] -= 1
                    if not dependents[p]:
                        heapq.heappush(sinks, self.sink_key(p))
                for c in self.addresses[aid]:
                    raisers[c] -= 1
            else:
                kept.add(aid)
                current.update(saved)

    def sink_key(self, aid: str) -> tuple:
        """A heap key putting the largest ``drop_key`` first."""
        level, effort, index = self.drop_key[aid]
        return (-level, -effort, -index, aid)

    def layers(self, members: Set[str]) -> List[List[str]]:
        graph = nx.DiGraph()
        graph.add_nodes_from(sorted(members, key=self.index.get))
        for aid in members:
            for prerequisite in self.direct(aid, members):
                graph.add_edge(prerequisite, aid)
        return [list(g) for g in nx.topological_generations(graph)]


# -- dates -------------------------------------------------------------------------------
def _work_months(model, effort: int) -> int:
    low = effort_scale(model).get(effort, DEFAULT_EFFORT_SCALE.get(effort, {"person_weeks": (0, 0)}))["person_weeks"][0]
    return math.ceil(low / WEEKS_PER_MONTH - 1e-9)


def _lead(model, aid: str) -> int:
    value = getattr(model.actions[aid], "lead_time_months", None)
    return DEFAULT_LEAD_TIME_MONTHS if value is None else int(value)


def add_months(day: Optional[str], months: int) -> Optional[str]:
    """``"2026-11-15"`` + 7 -> ``"2027-06"`` (None without a date)."""
    if not day or len(str(day)) < 7 or not str(day)[:4].isdigit() or not str(day)[5:7].isdigit():
        return None
    year, month = int(str(day)[:4]), int(str(day)[5:7])
    total = year * 12 + (month - 1) + months
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _schedule(planner: _Planner, order: List[str], members: Set[str]) -> Dict[str, dict]:
    """For each planned action (in dependency order): work months, work done and evidence counting, in months."""
    out: Dict[str, dict] = {}
    for aid in order:
        before = [out[p] for p in planner.direct(aid, members)]
        work = _work_months(planner.model, planner.effort(aid))
        work_done = max((b["work_done"] for b in before), default=0) + work
        counts = max([work_done + _lead(planner.model, aid)] + [b["months"] for b in before])
        out[aid] = {"work_months": work, "work_done": work_done, "months": counts}
    return out


# -- the result ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Roadmap:
    """The plan to a target level: the result of :func:`plan_roadmap` (``qmgrade roadmap``).

    ``model`` is the model planned against (its names are what the renderers print,
    :mod:`engine.render.roadmap`); every other field is a part of the JSON
    ``qmgrade roadmap --format json`` prints, in its order (``from_rank`` is ``from``).

    Attributes
    ----------
    company, assessed_on
        The assessment's company and its date (dates run from it).
    from_rank, target, from_level, target_level
        The company's level and the level planned for (ranks and level objects).
    needed
        The criteria of the minimal fix for the target.
    milestones, phases, order
        One milestone per level (its actions, dates, effort, the level it reaches), the
        dependency layers inside them, and every planned action in order.
    total_effort, total_person_weeks
        The plan's effort classes summed, and its person-weeks ``[low, high]``.
    reaches, level_after, caps
        Whether doing it all reaches the target, the level it does reach, the caps that hold it.
    effort_scale
        The model's effort classes (person-weeks per class).
    red_flags, red_flag_actions
        Red-flag criteria rated partial or below, and the actions that would clear them.
    message
        For an empty plan, why it is empty (``{"zh": …, "en": …}``); else None.
    """

    model: Any = field(repr=False, compare=False)
    company: Dict[str, Any]
    assessed_on: Optional[str]
    from_rank: int
    target: int
    from_level: Dict[str, Any]
    target_level: Dict[str, Any]
    needed: List[str]
    milestones: List[Dict[str, Any]]
    phases: List[Dict[str, Any]]
    order: List[str]
    total_effort: int
    total_person_weeks: List[int]
    reaches: bool
    level_after: int
    caps: List[Dict[str, Any]]
    effort_scale: Dict[str, Any]
    red_flags: List[str]
    red_flag_actions: List[Dict[str, Any]]
    message: Optional[Dict[str, str]] = None

    @classmethod
    def from_dict(cls, model, plan: dict) -> "Roadmap":
        """The result from its JSON object (``plan``, as :meth:`as_dict` gives it) and its model."""
        fields = {key: value for key, value in plan.items() if key not in ("model", "from")}
        return cls(model=model, from_rank=plan["from"], **fields)

    def as_dict(self) -> dict:
        """The plan as plain data (what ``--format json`` prints)."""
        plan = {"company": self.company, "assessed_on": self.assessed_on,
                "model": model_object(self.model),
                "from": self.from_rank, "target": self.target,
                "from_level": self.from_level, "target_level": self.target_level,
                "needed": self.needed, "milestones": self.milestones, "phases": self.phases, "order": self.order,
                "total_effort": self.total_effort, "total_person_weeks": self.total_person_weeks,
                "reaches": self.reaches, "level_after": self.level_after, "caps": self.caps,
                "effort_scale": self.effort_scale, "red_flags": self.red_flags,
                "red_flag_actions": self.red_flag_actions}
        if self.message is not None:
            plan["message"] = self.message
        return plan

    def to_json(self) -> str:
        """The text ``qmgrade roadmap --format json`` prints."""
        return dumps(self.as_dict())


# -- the plan ----------------------------------------------------------------------------
def plan_roadmap(model, assessment, target: Optional[int] = None, graded: Optional[Grade] = None) -> Roadmap:
    """Plan the actions that take ``assessment`` to level ``target`` (default: the next level).

    Returns
    -------
    Roadmap, whose JSON (CONTRACT §5, §6) holds ``from`` and ``target`` (ranks), ``milestones``
    (one per level from the current + 1 to the target: ``level``, ``actions``,
    ``earliest``, ``months``, ``reaches``, ``level_after``, ``effort``,
    ``person_weeks``), ``phases`` (the dependency layers inside the
    milestones, each with ``phase``, ``milestone``, ``actions``, ``unlocks``,
    ``level_after`` and ``check``), ``order`` (the milestones concatenated),
    ``needed``, ``reaches``, ``level_after``, ``caps``, ``red_flags``,
    ``red_flag_actions``, ``effort_scale``, ``total_effort``,
    ``total_person_weeks`` and, for an empty plan, ``message``.

    Raises
    ------
    InputError when ``target`` is outside 1..top; ModelError naming the
    cycle when the model's dependencies are cyclic.
    """
    check_rank(model, target, "--target")
    _check_acyclic(model, model.graph)
    graded = graded or grade(model, assessment)
    current = graded.level
    rank = target if target is not None else min(current + 1, model.top_rank)
    planner = _Planner(model, assessment)
    plan = {"company": dict(assessment.company), "assessed_on": assessment.assessed_on,
            "model": model_object(model),
            "from": current, "target": rank,
            "from_level": level_object(model, current), "target_level": level_object(model, rank),
            "needed": [], "milestones": [], "phases": [], "order": [], "total_effort": 0,
            "total_person_weeks": [0, 0],
            "reaches": current >= rank, "level_after": current, "caps": [],
            "effort_scale": {str(k): {"zh": v["zh"], "en": v["en"], "person_weeks": list(v["person_weeks"])}
                             for k, v in sorted(effort_scale(model).items())},
            "red_flags": red_flags(model, assessment.ratings), "red_flag_actions": []}
    if rank <= current:
        plan["message"] = {lang: (word("at_top", lang) if current == model.top_rank and target is None
                                  else word("already_at", lang)) + f": {level_name(model, current, lang)}"
                                 + _stop(lang) for lang in ("zh", "en")}
        plan["red_flag_actions"] = _red_flag_actions(planner, plan["red_flags"], {}, {})
        return Roadmap.from_dict(model, plan)

    needed = graded.minimal_fix(rank)
    members = planner.cover(needed, set())
    members = planner.prune(members, assessment.ratings, rank)
    milestones, final = _milestones(planner, graded, members, rank)
    _fill(plan, planner, graded, milestones, final, needed, rank)
    return Roadmap.from_dict(model, plan)


def _milestones(planner: _Planner, graded: Grade, members: Set[str], rank: int):
    """[(level, actions, grade after)] from the current level + 1 to ``rank``, and the last grade."""
    assessment = planner.assessment
    remaining = set(members)
    ratings = dict(assessment.ratings)
    planned: Set[str] = set()
    out = []
    last = graded
    for level in range(graded.level + 1, rank + 1):
        if level < rank:
            chosen = planner.prune(remaining, ratings, level)
        else:
            chosen = set(remaining)
        after = _grade_with(planner, ratings, chosen)
        for _ in range(3):      # a custom rule that disagrees with the arithmetic: cover what grading asks
            if after.barrel >= level:
                break
            extra = planner.cover(after.minimal_fix(level), planned | chosen)
            if not extra:
                break
            chosen |= extra
            after = _grade_with(planner, ratings, chosen)
        remaining -= chosen
        planned |= chosen
        ratings = planner.raised(ratings, chosen)
        out.append((level, chosen, after))
        last = after
    return out, last


def _grade_with(planner: _Planner, ratings: dict, actions: Set[str]) -> Grade:
    raised = planner.raised(ratings, actions)
    changes = {c: v for c, v in raised.items() if planner.assessment.ratings.get(c, "-") != v}
    return grade(planner.model, planner.assessment.with_ratings(changes), detail=False)


def _fill(plan: dict, planner: _Planner, graded: Grade, milestones, final: Grade, needed: List[str],
          rank: int) -> None:
    model, assessment = planner.model, planner.assessment
    members = set().union(*(chosen for _, chosen, _ in milestones)) if milestones else set()
    needed_set = set(needed)

    def lift(aid):
        levels = [graded.dimension_level[model.criteria[c].dimension]
                  for c in model.actions[aid].addresses if not _is_full(assessment, c)]
        return min(levels) if levels else model.top_rank

    layered = []
    for level, chosen, after in milestones:
        layers = [sorted(layer, key=lambda a: (lift(a), planner.effort(a), planner.index[a]))
                  for layer in planner.layers(chosen)]
        layered.append((level, layers, after))
    order = [aid for _, layers, _ in layered for layer in layers for aid in layer]
    schedule = _schedule(planner, order, members)
    entries = {aid: _action_entry(planner, aid, needed_set, members, schedule) for aid in order}

    phases: List[dict] = []
    out_milestones: List[dict] = []
    checked: Set[str] = set()
    previous_level, previous_months = graded.level, 0
    for level, layers, after in layered:
        months = max([schedule[a]["months"] for layer in layers for a in layer] + [previous_months])
        for n, layer in enumerate(layers):
            last = n == len(layers) - 1
            check = []
            for aid in layer:
                for cid in model.actions[aid].addresses:
                    if not _is_full(assessment, cid) and cid not in checked and assessment.ratings.get(cid, 0) is not None:
                        checked.add(cid)
                        entry = criterion_entry(model, assessment, cid)
                        check.append({k: entry[k] for k in ("criterion", "dimension", "level", "key", "text",
                                                             "evidence")})
            # an irredundant milestone reaches nothing new before its last layer is done
            level_after = after.level if last else previous_level
            phases.append({"phase": len(phases) + 1, "milestone": level,
                           "actions": [entries[a] for a in layer],
                           "unlocks": level_object(model, after.level) if last and after.level > previous_level
                           else None,
                           "level_after": level_after,
                           "effort": sum(planner.effort(a) for a in layer), "check": check})
        actions = [a for layer in layers for a in layer]
        weeks = _person_weeks(planner, actions)
        out_milestones.append({
            "level": level, "name": dict(model.level(level).name), "actions": actions,
            "months": months, "earliest": add_months(assessment.assessed_on, months),
            "reaches": after.barrel >= level and after.level >= level, "level_after": after.level,
            "effort": sum(planner.effort(a) for a in actions), "person_weeks": weeks,
            "caps": [{"rule": c["rule"], "level": c["level"], "until": c.get("until"),
                      "reason": c.get("reason")} for c in after.dated_caps() if c["level"] < level]})
        previous_level, previous_months = max(previous_level, after.level), months
    plan.update({
        "needed": needed,
        "milestones": out_milestones,
        "phases": phases,
        "order": order,
        "total_effort": sum(planner.effort(a) for a in order),
        "total_person_weeks": _person_weeks(planner, order),
        "reaches": final.level >= rank,
        "level_after": final.level,
        "caps": [{"rule": c["rule"], "level": c["level"], "until": c.get("until"), "reason": c.get("reason"),
                  "facts": next((f.facts for f in final.firings if f.rule == c["rule"]), [])}
                 for c in final.dated_caps() if c["level"] < rank],
    })
    plan["red_flag_actions"] = _red_flag_actions(planner, plan["red_flags"], entries,
                                                 {a: m["level"] for m in out_milestones for a in m["actions"]})
    if not order and plan["reaches"]:
        plan["message"] = {lang: word("empty_plan", lang) for lang in ("zh", "en")}
    elif not order:
        plan["message"] = {lang: f"{word('capped_plan', lang)} {level_name(model, final.level, lang)}"
                                 f"{_stop(lang)} {word('cap_no_action', lang)}" for lang in ("zh", "en")}


def _person_weeks(planner: _Planner, actions: Iterable[str]) -> List[int]:
    scale = effort_scale(planner.model)
    low = high = 0
    for aid in actions:
        weeks = scale.get(planner.effort(aid), {"person_weeks": (0, 0)})["person_weeks"]
        low, high = low + weeks[0], high + weeks[1]
    return [low, high]


def _red_flag_actions(planner: _Planner, flags: List[str], entries: Dict[str, dict],
                      milestone_of: Dict[str, int]) -> List[dict]:
    """The actions (with their prerequisites) that would clear the red flags, in dependency order."""
    if not flags:
        return []
    members = planner.cover(flags, set())
    order = [a for layer in planner.layers(members)
             for a in sorted(layer, key=lambda x: (planner.effort(x), planner.index[x]))]
    schedule = _schedule(planner, order, members)
    flagged = set(flags)
    out = []
    for aid in order:
        entry = _action_entry(planner, aid, set(), members, schedule)
        entry["clears"] = [c for c in planner.model.actions[aid].addresses if c in flagged]
        entry["milestone"] = milestone_of.get(aid)
        out.append(entry)
    return out


def _stop(lang: str) -> str:
    return "。" if lang == "zh" else "."


def _action_entry(planner: _Planner, aid: str, needed: Set[str], members: Set[str], schedule) -> dict:
    model, assessment = planner.model, planner.assessment
    action = model.actions[aid]
    mode = planner.mode[aid]
    effort = planner.effort(aid)
    gaps = [{"criterion": c, "rating": _rating(assessment, c), **({"not_rated": True}
                                                                   if c not in assessment.ratings else {})}
            for c in action.addresses
            if _rating(assessment, c) is not None and not _is_full(assessment, c)]
    timing = schedule[aid]
    return {"id": aid, "name": dict(action.name), "addresses": list(action.addresses), "effort": effort,
            "depends_on": list(action.depends_on),
            "after": sorted(planner.direct(aid, members), key=planner.index.get),
            "covers": [c for c in action.addresses if c in needed],
            "level": model.action_level(aid),
            "mode": mode, "gaps": gaps,
            "person_weeks": list(effort_scale(model).get(effort, {"person_weeks": (0, 0)})["person_weeks"]),
            "lead_time_months": _lead(model, aid), "work_months": timing["work_months"],
            "work_done": timing["work_done"],
            "months": timing["months"], "earliest": add_months(assessment.assessed_on, timing["months"])}

"""The trend between rounds of assessment (复核), re-graded: what still blocks, what got worse.

The rounds come from the history (:meth:`engine.history.History.rounds`).  Each
round's stored assessment is graded again with the model in use, so the
question "does last round's blocker still block?" is answered by the rules on
this round's ratings, not by comparing ratings to full: a blocker still
blocks when it is a blocker of the same level in the later round; one whose
(dimension, level) is now met no longer blocks, even if it is not yet rated
full.  A round the current model cannot read (an earlier model's ids) is
compared as it was stored.

Per change between consecutive rounds: the level and barrel, the staves that
moved, the blockers cleared and still blocking, the criteria rated *lower*
than before (a not-rated criterion counts 0), and the actions that look done.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .errors import QmgradeError
from .export import dumps

__all__ = ["Trend", "trend"]


@dataclass(frozen=True)
class Trend:
    """A company's rounds of assessment and the changes between them: the result of :func:`trend`.

    ``model`` is the model the rounds were re-graded with (its names are what
    :mod:`engine.render.trend` prints); the other fields are the JSON ``qmgrade history
    COMPANY --format json`` prints, in its order.

    Attributes
    ----------
    company : dict
        The company as the latest round names it.
    rounds : list of dict
        Per round: ``seq``, ``assessed_on``, ``input_sha256``, ``model``, ``level``, ``barrel``,
        ``dimensions``, ``blockers`` and ``regraded``.
    changes : list of dict
        Per pair of consecutive rounds: ``from``, ``to``, ``level``, ``barrel``, ``staves``,
        ``blockers_cleared``, ``still_blocking`` (also as ``blockers_remaining``), ``worse``,
        ``actions_done`` (and ``models``, ``shared_criteria`` across model versions).
    """

    model: Any = field(repr=False, compare=False)
    company: Dict[str, Any]
    rounds: List[Dict[str, Any]]
    changes: List[Dict[str, Any]]

    def as_dict(self) -> dict:
        """The trend as plain data (what ``--format json`` prints)."""
        return {"company": self.company, "rounds": self.rounds, "changes": self.changes}

    def to_json(self) -> str:
        """The text ``qmgrade history COMPANY --format json`` prints."""
        return dumps(self.as_dict())


def _regrade(entry: dict, model) -> Optional[dict]:
    """The round's assessment graded with ``model`` (None when the model cannot read it)."""
    from .assessment import assessment_from_data
    from .grading import grade
    data = dict(entry.get("assessment") or {})
    data["ratings"] = {k: ("na" if v is None else v) for k, v in (data.get("ratings") or {}).items()}
    data = {k: v for k, v in data.items() if v is not None}
    try:
        assessment = assessment_from_data(data, f"history round {entry['seq']}", model)
        return grade(model, assessment, detail=False).as_dict(trace=False)
    except QmgradeError:
        return None


def _same_model(entry: dict, model) -> bool:
    stored = entry.get("model") or {}
    return (stored.get("id"), stored.get("version")) == (model.id, model.version)


def _mapped_ratings(entry: dict, model) -> dict:
    """The round's ratings under the current model's ids: an earlier version's ids go through ``supersedes``.

    A removed criterion is dropped; when several old ids became one, the lowest rating is kept
    (as ``qmgrade migrate`` does).
    """
    ratings = (entry.get("assessment") or {}).get("ratings") or {}
    stored = entry.get("model") or {}
    supersedes = getattr(model, "supersedes", None) or {}
    if _same_model(entry, model) or stored.get("id") != model.id \
            or supersedes.get("version") != stored.get("version"):
        return dict(ratings)
    moved = supersedes.get("criteria") or {}
    out: dict = {}
    for criterion, rating in ratings.items():
        target = moved.get(criterion, criterion) if criterion in moved else criterion
        if target is None:
            continue
        if target in out and out[target] is not None and rating is not None:
            out[target] = min(out[target], rating)
        else:
            out[target] = rating if target not in out else out[target]
    return out


def _rating(ratings: dict, criterion: str) -> Optional[float]:
    """0.0 when not rated, None for na."""
    return ratings.get(criterion, 0.0)


def trend(rounds: Sequence[dict], model) -> Trend:
    """Level, staves, blockers cleared and still blocking, criteria rated lower, actions that look done.

    Returns
    -------
    Trend, whose JSON is ``{"company", "rounds": [{seq, assessed_on, input_sha256, model, level, barrel, dimensions, blockers,
    regraded}], "changes": [{from, to, level, barrel, staves, blockers_cleared, blockers_remaining,
    still_blocking, worse, actions_done}]}`` — ``blockers_remaining`` is kept as the earlier name of
    ``still_blocking``.
    """
    out_rounds, results = [], []
    for entry in rounds:
        # A round graded under another version of the model keeps the level it was given then: re-grading it
        # here would count every criterion that version did not have as not rated.
        stored = entry.get("model") or {}
        other_version = stored.get("id") == model.id and stored.get("version") != model.version
        regraded = None if other_version else _regrade(entry, model)
        result = regraded or entry["result"]
        results.append(result)
        out_rounds.append({
            "seq": entry["seq"], "assessed_on": entry["assessed_on"], "input_sha256": entry["input_sha256"],
            "model": entry["model"], "level": result["level"], "barrel": result["barrel"],
            "dimensions": {d["id"]: d["level"] for d in result["dimensions"]},
            "blockers": [b["criterion"] for b in (result.get("next_level") or {}).get("blockers", [])],
            "regraded": regraded is not None,
        })
    changes = []
    for i in range(1, len(rounds)):
        before, after = out_rounds[i - 1], out_rounds[i]
        ratings_before = _mapped_ratings(rounds[i - 1], model)
        ratings_after = _mapped_ratings(rounds[i], model)
        versions = (before["model"].get("version"), after["model"].get("version"))
        shared = None
        if versions[0] != versions[1]:
            # Rounds graded under different model versions are compared on the criteria they share.
            shared = set(ratings_before) & set(ratings_after) & set(model.criteria)
        staves = [{"dimension": dim, "from": before["dimensions"].get(dim), "to": level}
                  for dim, level in after["dimensions"].items() if before["dimensions"].get(dim) != level]
        staves += [{"dimension": dim, "from": old, "to": None}
                   for dim, old in before["dimensions"].items() if dim not in after["dimensions"]]
        still = _still_blocking(before, results[i], model)
        cleared = [c for c in before["blockers"] if c not in still]
        worse = []
        compared = shared if shared is not None else set(ratings_before) | set(ratings_after)
        for criterion in sorted(compared,
                                key=lambda c: (list(model.criteria).index(c) if c in model.criteria else 10 ** 6, c)):
            old, new = _rating(ratings_before, criterion), _rating(ratings_after, criterion)
            if old is not None and new is not None and new < old:
                worse.append({"criterion": criterion, "from": old, "to": new,
                              **({"not_rated": True} if criterion not in ratings_after else {})})
        done = [action.id for action in model.actions.values()
                if all(_full(ratings_after, c) for c in action.addresses)
                and not all(_full(ratings_before, c) for c in action.addresses)]
        changes.append({
            "from": {"seq": before["seq"], "assessed_on": before["assessed_on"]},
            "to": {"seq": after["seq"], "assessed_on": after["assessed_on"]},
            "level": {"from": before["level"]["rank"], "to": after["level"]["rank"]},
            "barrel": {"from": before["barrel"]["rank"], "to": after["barrel"]["rank"]},
            "staves": staves,
            "blockers_cleared": cleared,
            "still_blocking": still,
            "blockers_remaining": still,
            "worse": worse,
            "actions_done": done,
            **({"models": {"from": versions[0], "to": versions[1]}, "shared_criteria": len(shared)}
               if shared is not None else {}),
        })
    latest = rounds[-1]
    company = dict(latest["result"].get("company") or {"id": latest["company_id"]})
    return Trend(model=model, company=company, rounds=out_rounds, changes=changes)


def _still_blocking(before: dict, later_result: dict, model) -> List[str]:
    """Earlier blockers that block the same level in the later round, as the later round is graded."""
    rank = before["level"]["rank"] + 1
    if later_result["level"]["rank"] >= rank:
        return []
    nxt = later_result.get("next_level") or {}
    if nxt.get("rank") == rank:
        blocking = {b["criterion"] for b in nxt.get("blockers", [])}
    else:       # the later round fell lower: its next level is below the earlier one's
        blocking = {b["criterion"] for b in nxt.get("blockers", [])} | set(before["blockers"])
    return [c for c in before["blockers"] if c in blocking]


def _full(ratings: dict, criterion: str) -> bool:
    rating = ratings.get(criterion)
    return rating is not None and rating >= 1.0

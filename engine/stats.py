"""Statistics over many results: the level distribution, the common short staves, blockers and fixes.

Built from ``batch --format jsonl`` results (or fed record by record while a
batch runs, see :func:`summarize` and :class:`Tally`); only counts are kept,
so memory does not grow with the number of companies.  Rendered as text
(zh/en), JSON, or an HTML page with inline SVG bar charts.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .errors import InputError, Problem
from .export import dumps
from .limits import DEFAULT as DEFAULT_LIMITS, bounded_lines

__all__ = ["summarize", "Statistics", "Tally", "read_results", "TOP", "UNKNOWN"]

TOP = 10     # rows in each "most frequent" list
UNKNOWN = ""  # region / industry not given

@dataclass(frozen=True)
class Statistics:
    """Counts over many batch results: the result of :meth:`Tally.statistics` (``qmgrade stats``).

    ``model`` (optional) names the staves and criteria in the renderers
    (:mod:`engine.render.stats`); the other fields are the JSON ``qmgrade stats --format json``
    prints, in its order.  Every "most frequent" list is ordered by count, then id.

    Attributes
    ----------
    companies, graded, errors, provisional
        Records read; graded ones counted in the distribution; error entries; provisional grades
        (counted apart, ``provisional_levels`` by level).
    models
        The models the results were graded with (``id``, ``version``, ``companies``).
    levels
        Per level: its object (``rank``, ``id``, ``name``), ``count`` and ``share`` of the graded.
    by_region, by_industry
        Per region (industry): ``companies`` and the count per level (``""``: not given).
    shortest_staves, blockers, minimal_fix
        The most frequent shortest staves, blockers of the next level and minimal-fix criteria.
    """

    model: Any = field(repr=False, compare=False)
    companies: int
    graded: int
    errors: int
    provisional: int
    provisional_levels: List[Dict[str, int]]
    models: List[Dict[str, Any]]
    levels: List[Dict[str, Any]]
    by_region: List[Dict[str, Any]]
    by_industry: List[Dict[str, Any]]
    shortest_staves: List[Dict[str, Any]]
    blockers: List[Dict[str, Any]]
    minimal_fix: List[Dict[str, Any]]

    def as_dict(self) -> dict:
        """The statistics as plain data (what ``--format json`` prints)."""
        return {"companies": self.companies, "graded": self.graded, "errors": self.errors,
                "provisional": self.provisional, "provisional_levels": self.provisional_levels,
                "models": self.models, "levels": self.levels, "by_region": self.by_region,
                "by_industry": self.by_industry, "shortest_staves": self.shortest_staves,
                "blockers": self.blockers, "minimal_fix": self.minimal_fix}

    def to_json(self) -> str:
        """The text ``qmgrade stats --format json`` prints."""
        return dumps(self.as_dict())


def summarize(result: dict) -> dict:
    """What the statistics need of one result (an ``assess`` object or an error entry)."""
    company = result.get("company") or {}
    region = company.get("region")
    industry = company.get("industry")
    summary = {"error": "error" in result,
               "region": UNKNOWN if region is None else str(region),
               "industry": UNKNOWN if industry is None else str(industry)}
    if summary["error"]:
        summary["message"] = result["error"]
        return summary
    nxt = result.get("next_level") or {}
    # issue 11: a grade on too few rated criteria is counted apart, not in the distribution
    summary["provisional"] = bool(result.get("provisional"))
    summary.update(level=result["level"], shortest=list((result.get("barrel") or {}).get("shortest", [])),
                   blockers=[b["criterion"] for b in nxt.get("blockers", [])],
                   minimal_fix=list(nxt.get("minimal_fix", [])), model=result.get("model"))
    return summary


class Tally:
    """Counts over many summaries; add one at a time, read with :meth:`as_dict`."""

    def __init__(self):
        self.companies = 0
        self.errors = 0
        self.levels: Counter = Counter()
        self.level_info: Dict[int, dict] = {}
        self.by_region: Dict[str, Counter] = {}
        self.by_industry: Dict[str, Counter] = {}
        self.shortest: Counter = Counter()
        self.blockers: Counter = Counter()
        self.minimal_fix: Counter = Counter()
        self.models: Counter = Counter()
        self.provisional = 0
        self.provisional_levels: Counter = Counter()

    def add(self, summary: dict) -> None:
        self.companies += 1
        if summary["error"]:
            self.errors += 1
            return
        level = summary["level"]
        rank = level["rank"]
        if summary.get("model"):
            self.models[(summary["model"]["id"], summary["model"]["version"])] += 1
        if summary.get("provisional"):
            self.provisional += 1
            self.provisional_levels[rank] += 1
            self.level_info.setdefault(rank, {"rank": rank, "id": level["id"], "name": dict(level["name"])})
            return
        self.levels[rank] += 1
        self.level_info.setdefault(rank, {"rank": rank, "id": level["id"], "name": dict(level["name"])})
        self.by_region.setdefault(summary["region"], Counter())[rank] += 1
        self.by_industry.setdefault(summary["industry"], Counter())[rank] += 1
        self.shortest.update(summary["shortest"])
        self.blockers.update(set(summary["blockers"]))
        self.minimal_fix.update(set(summary["minimal_fix"]))

    def as_dict(self, model=None, top: int = TOP) -> dict:
        """The statistics as JSON-ready data: :meth:`statistics` ``.as_dict()``."""
        return self.statistics(model, top).as_dict()

    def statistics(self, model=None, top: int = TOP) -> Statistics:
        """The statistics so far (deterministic order: count, then id); ``model`` adds its levels
        (a level no company reached counts 0) and names things in the renderers."""
        graded = self.companies - self.errors - self.provisional
        info = dict(self.level_info)
        if model is not None:
            for level in model.levels:
                info.setdefault(level.rank, {"rank": level.rank, "id": level.id, "name": dict(level.name)})
        ranks = sorted(info)

        def share(count, whole):
            return round(count / whole, 4) if whole else 0.0

        def groups(table, key):
            out = []
            for name in sorted(table, key=lambda n: (n == UNKNOWN, n)):
                counts = table[name]
                total = sum(counts.values())
                out.append({key: name, "companies": total,
                            "levels": {str(r): counts.get(r, 0) for r in ranks}})
            return out

        def most(counter, key):
            rows = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]
            return [{key: name, "count": count, "share": share(count, graded)} for name, count in rows]

        return Statistics(
            model=model,
            companies=self.companies,
            graded=graded,
            errors=self.errors,
            provisional=self.provisional,
            provisional_levels=[{"rank": r, "count": self.provisional_levels[r]}
                                for r in sorted(self.provisional_levels)],
            models=[{"id": m[0], "version": m[1], "companies": n}
                    for m, n in sorted(self.models.items(), key=lambda item: (-item[1], item[0]))],
            levels=[{**info[r], "count": self.levels.get(r, 0), "share": share(self.levels.get(r, 0), graded)}
                    for r in ranks],
            by_region=groups(self.by_region, "region"),
            by_industry=groups(self.by_industry, "industry"),
            shortest_staves=most(self.shortest, "dimension"),
            blockers=most(self.blockers, "criterion"),
            minimal_fix=most(self.minimal_fix, "criterion"),
        )


def read_results(path: str, tally: Optional[Tally] = None, line_bytes: int = DEFAULT_LIMITS.line_bytes) -> Tally:
    """Tally a JSON Lines results file (``batch --format jsonl``), line by line, each line read in
    pieces of at most ``line_bytes`` + 1 bytes (``--max-line-bytes``, as ``batch``).

    Raises
    ------
    InputError naming the line of anything that is not a result, or longer than ``line_bytes``.
    """
    tally = tally or Tally()
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputError(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(path, 1, 1, "is a directory, not a file")) from None
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read: {exc.strerror}")) from None
    with handle:
        for number, raw in bounded_lines(handle, line_bytes, path):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(Problem(path, number, exc.start + 1, "not UTF-8 text")) from None
            if not line.strip():
                continue
            try:
                result = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(Problem(path, number, exc.colno, f"malformed JSON: {exc.msg} "
                                                                  f"(expected batch --format jsonl results)")) from None
            except RecursionError:
                raise InputError(Problem(path, number, 1, "line nested too deeply")) from None
            if not isinstance(result, dict) or not ("error" in result or {"level", "barrel"} <= set(result)):
                raise InputError(Problem(path, number, 1, "not a batch result (expected an assess object "
                                                          "or an error entry per line)"))
            try:
                tally.add(summarize(result))
            except (KeyError, TypeError, AttributeError) as exc:
                raise InputError(Problem(path, number, 1, f"not a batch result (missing {exc})")) from None
    return tally

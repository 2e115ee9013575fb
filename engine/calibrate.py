"""Calibration: grade a model's reference companies and measure how single ratings swing the level.

The corpus lives in ``<model>/knowledge/calibration/*.yaml`` (one company per
file: ``id``, ``kind``, ``narrative``, ``expected: {level, holding_staves,
reasoning, written}`` and a complete ``assessment``).  Every level here comes
from :func:`engine.grading.grade`, i.e. from the rules that fired in
durable_rules; this module only changes ratings and compares the results.

Sensitivity is the set of one-notch changes (full <-> largely <-> partial <->
none) of one rated criterion that move the company's level; ``na`` and
criteria left unrated are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from . import schema
from .assessment import Assessment, assessment_from_data
from .errors import InputError, Problem
from .grading import grade, model_object
from .yamlio import load_file, position, value_position

__all__ = ["calibrate", "Calibration", "CompanyCalibration", "LADDER", "MIN_CELL", "corpus_files"]

LADDER = (1.0, 0.8, 0.5, 0.0)            # full, largely, partial, none: one notch = one step here
RATING_NAMES = {1.0: "full", 0.8: "largely", 0.5: "partial", 0.0: "none"}
MIN_CELL = 5                              # a cell with fewer applicable criteria is reported as thin
CORPUS_DIR = ("knowledge", "calibration")

_ENTRY = {
    "type": "object",
    "required": ["id", "expected", "assessment"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "kind": {"type": "string"},
        "narrative": {"type": "object"},
        "expected": {
            "type": "object",
            "required": ["level"],
            "properties": {
                "level": {"type": "integer", "minimum": 1},
                "holding_staves": {"type": "array", "items": {"type": "string"}},
                "reasoning": {"type": "object"},
                "written": {"type": "string"},
            },
        },
        "assessment": {"type": "object"},
    },
}


@dataclass
class CompanyCalibration:
    """One reference company: what the assessor expected and what the model grades."""

    id: str
    path: str
    kind: Optional[str]
    expected: int
    expected_holding: List[str]
    graded: int
    barrel: int
    shortest: List[str]
    caps: List[str]
    sensitivity: List[dict] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.expected == self.graded

    def as_dict(self) -> dict:
        return {"id": self.id, "file": self.path, "kind": self.kind, "expected": self.expected,
                "graded": self.graded, "agrees": self.agrees, "barrel": self.barrel, "shortest": self.shortest,
                "expected_holding": self.expected_holding, "caps": self.caps, "sensitivity": self.sensitivity}


@dataclass
class Calibration:
    """The whole calibration run: per company, model-wide findings and a summary.

    ``model`` is the model's ``id`` and ``version`` (as the JSON gives them); ``graded_with`` the
    :class:`~engine.model.Model` itself, whose names the renderers print (:mod:`engine.render.calibration`).
    """

    model: dict
    companies: List[CompanyCalibration]
    model_findings: dict
    graded_with: Any = field(default=None, repr=False, compare=False)

    @property
    def disagreements(self) -> List[CompanyCalibration]:
        return [c for c in self.companies if not c.agrees]

    def summary(self) -> dict:
        drops = [(c, s) for c in self.companies for s in c.sensitivity if s["level_before"] - s["level_after"] >= 2]
        levels: Dict[str, int] = {}
        kinds: Dict[str, int] = {}
        for company in self.companies:
            levels[str(company.expected)] = levels.get(str(company.expected), 0) + 1
            if company.kind:
                kinds[company.kind] = kinds.get(company.kind, 0) + 1
        return {
            "companies": len(self.companies),
            "agree": len(self.companies) - len(self.disagreements),
            "disagree": [c.id for c in self.disagreements],
            "expected_levels": dict(sorted(levels.items())),
            "kinds": dict(sorted(kinds.items())),
            "level_moving_changes": sum(len(c.sensitivity) for c in self.companies),
            "drops_of_two_or_more": len(drops),
            "non_key_drops_of_two_or_more": sum(1 for _, s in drops if not s["key"]),
        }

    def as_dict(self) -> dict:
        return {"model": self.model, "companies": [c.as_dict() for c in self.companies],
                "model_findings": self.model_findings, "summary": self.summary()}


def corpus_files(model) -> List[Path]:
    """The corpus files of ``model``, in name order."""
    folder = Path(model.path).joinpath(*CORPUS_DIR)
    return sorted(p for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


def _notches(rating: float) -> List[float]:
    """The ratings one notch above and below ``rating`` on the full/largely/partial/none ladder."""
    above = [r for r in LADDER if r > rating + 1e-9]
    below = [r for r in LADDER if r < rating - 1e-9]
    return ([min(above)] if above else []) + ([max(below)] if below else [])


def _name(rating: float) -> object:
    return RATING_NAMES.get(round(rating, 6), rating)


def sensitivity(model, assessment: Assessment, level: int, tick: Callable[[], None] = lambda: None) -> List[dict]:
    """Every one-notch change of one rated criterion that moves the level, each graded by the rules."""
    out = []
    for criterion_id in model.criteria:
        rating = assessment.ratings.get(criterion_id)
        if rating is None:     # na (None) and unrated (absent) are left alone
            continue
        for changed in _notches(rating):
            after = grade(model, assessment.with_ratings({criterion_id: changed}), detail=False).level
            tick()
            if after != level:
                out.append({"criterion": criterion_id, "key": model.criteria[criterion_id].key,
                            "from": _name(rating), "to": _name(changed),
                            "level_before": level, "level_after": after})
    return out


_worker: dict = {}


def _init_worker(model, parent: int) -> None:
    """A calibration worker: dies with its parent, compiles the model's rules in its own process."""
    from . import inference
    from .batch import guard_worker
    guard_worker(parent)
    inference.forget_compiled()   # a forked parent's compiled ruleset stays the parent's
    inference.get_inference(model)
    _worker["model"] = model


def _sensitivity_task(task) -> List[dict]:
    assessment, level = task
    return sensitivity(_worker["model"], assessment, level)


def _all_sensitivity(model, graded: List[tuple], jobs: int, tick: Callable[[int], None]) -> List[List[dict]]:
    """The sensitivity of every (assessment, level), in order; over ``jobs`` processes when jobs > 1."""
    if jobs <= 1 or len(graded) < 2:
        out = []
        for assessment, level in graded:
            out.append(sensitivity(model, assessment, level, lambda: tick(1)))
        return out
    import os
    from concurrent.futures import ProcessPoolExecutor
    from .batch import pool_context as _context, stop_workers as _stop_workers
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), initializer=_init_worker,
                               initargs=(model, os.getpid()))
    try:
        futures = [pool.submit(_sensitivity_task, task) for task in graded]
        out = []
        for (assessment, _), future in zip(graded, futures):
            out.append(future.result())
            tick(sum(len(_notches(r)) for r in assessment.ratings.values() if r is not None))
        pool.shutdown()
        return out
    except BaseException:
        _stop_workers(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _read_entry(path: Path, shown: str, model) -> tuple:
    """(entry document, checked assessment) of one corpus file; raises InputError with every problem."""
    document = load_file(str(path), InputError)
    if not isinstance(document, dict):
        raise InputError(Problem(shown, *position(document), "a calibration entry is a mapping with id, expected "
                                                             "and assessment"))
    problems = schema.check(document, _ENTRY, shown)
    if problems:
        raise InputError(problems)
    expected = document["expected"]
    if expected["level"] > model.top_rank:
        raise InputError(Problem(shown, *value_position(expected, "level"),
                                 f"expected level {expected['level']} is above the model's top level "
                                 f"{model.top_rank}"))
    for index, stave in enumerate(expected.get("holding_staves", [])):
        if stave not in model.dimensions_by_id:
            from .errors import suggestion
            raise InputError(Problem(shown, *position(expected["holding_staves"], index),
                                     f"unknown dimension {stave!r}{suggestion(stave, model.dimensions_by_id)}"))
    return document, assessment_from_data(document["assessment"], shown, model)


def _all_largely(model) -> Assessment:
    return Assessment({"id": "all-largely"}, None, {c: 0.8 for c in model.criteria}, {}, {}, "all-largely")


def model_findings(model, min_cell: int = MIN_CELL, tick: Callable[[], None] = lambda: None) -> dict:
    """Thin cells, keys that may be na, and the criteria whose one-notch drop from all-largely costs >= 2 levels."""
    thin = []
    for dimension in model.dimensions:
        for level in model.criteria_ranks:
            criteria = [c for c in model.criteria.values() if c.dimension == dimension.id and c.level == level]
            if len(criteria) < min_cell:
                thin.append({"dimension": dimension.id, "level": level, "applicable": len(criteria),
                             "criteria": [c.id for c in criteria], "keys": [c.id for c in criteria if c.key]})
    baseline = _all_largely(model)
    base_level = grade(model, baseline, detail=False).level
    cliffs = []
    for criterion_id, criterion in model.criteria.items():
        after = grade(model, baseline.with_ratings({criterion_id: 0.5}), detail=False).level
        tick()
        if base_level - after >= 2:
            cliffs.append({"criterion": criterion_id, "key": criterion.key, "level_before": base_level,
                           "level_after": after})
    return {
        "min_cell": min_cell,
        "thin_cells": thin,
        "all_largely": {"level": base_level, "top": base_level == model.top_rank},
        "cliffs_from_all_largely": cliffs,
        "na_allowed_keys": [c.id for c in model.criteria.values() if c.key and getattr(c, "na_allowed", False)],
    }


def calibrate(model, min_cell: int = MIN_CELL, with_sensitivity: bool = True,
              progress: Optional[Callable[[int, int], None]] = None, shown: Optional[Callable[[Path], str]] = None,
              jobs: int = 1) -> Calibration:
    """Grade every corpus company of ``model`` and measure the model's sensitivity.

    Parameters
    ----------
    progress : called with (done, total) grades now and then (the CLI draws it on a terminal).
    shown : how a corpus path is named in messages (default: relative to the model directory).
    jobs : worker processes for the sensitivity (each change is still graded by the rules).

    Raises
    ------
    InputError when the corpus is missing or a corpus file is invalid (path:line:col).
    """
    if shown is None:   # as kb validate names model files: relative to the model directory
        root = Path(model.path)
        shown = lambda path: str(path.relative_to(root)) if path.is_relative_to(root) else str(path)  # noqa: E731
    files = corpus_files(model)
    if not files:
        folder = Path(model.path).joinpath(*CORPUS_DIR)
        raise InputError(Problem(shown(folder), 1, 1, "no calibration corpus: put reference companies "
                                                     "(*.yaml) in knowledge/calibration/"))
    entries = []
    problems: List[Problem] = []
    seen: Dict[str, str] = {}
    for path in files:
        try:
            document, assessment = _read_entry(path, shown(path), model)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        ident = str(document["id"])
        if ident in seen:
            problems.append(Problem(shown(path), *value_position(document, "id"),
                                    f"calibration id {ident!r} is used by {seen[ident]} too"))
        seen[ident] = shown(path)
        entries.append((path, document, assessment))
    if problems:
        raise InputError(problems)

    total = 1 + len(model.criteria) + len(entries)
    if with_sensitivity:
        total += sum(sum(len(_notches(r)) for r in a.ratings.values() if r is not None) for _, _, a in entries)
    done = [0]

    def tick(count: int = 1) -> None:
        before = done[0]
        done[0] += count
        if progress and done[0] // 25 != before // 25:
            progress(done[0], total)

    companies = []
    for path, document, assessment in entries:
        graded = grade(model, assessment, detail=False)
        tick()
        expected = document["expected"]
        companies.append(CompanyCalibration(
            id=str(document["id"]), path=shown(path), kind=document.get("kind"), expected=expected["level"],
            expected_holding=list(expected.get("holding_staves", [])), graded=graded.level,
            barrel=graded.barrel, shortest=graded.shortest,
            caps=[cap["rule"] for cap in graded.holding_caps()]))
    if with_sensitivity:
        found = _all_sensitivity(model, [(a, c.graded) for (_, _, a), c in zip(entries, companies)], jobs, tick)
        for company, changes in zip(companies, found):
            company.sensitivity = changes
    findings = model_findings(model, min_cell, tick)
    if progress:
        progress(total, total)
    return Calibration(model_object(model), companies, findings, graded_with=model)

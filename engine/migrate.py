"""Assessments written for an earlier model version, read and rewritten through ``model.supersedes``.

A model may declare what it supersedes (``model.supersedes: {version, criteria:
{old id: new id | null}}``).  An assessment that rates old ids is read through
that map: a rating moves to the new id; when several ids of the file land on one
new id (old ids merged into it, or merged into an id both versions share) the
LOWER of their ratings is carried; an old id mapped to null is dropped
(reported).  ``qmgrade migrate`` writes the result as a new assessment file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import yaml


__all__ = ["Migration", "carry", "migrated_document", "render_document", "summary_lines", "header_lines"]


@dataclass
class Migration:
    """What reading an assessment through the supersedes map did."""

    from_version: str
    to_version: str
    moved: List[Tuple[str, str]] = field(default_factory=list)           # (old id, new id) carried
    merged: List[Tuple[str, List[str], Optional[str]]] = field(default_factory=list)  # (new, olds, kept or None)
    removed: List[str] = field(default_factory=list)                     # old ids with no successor
    na_dropped: List[Tuple[str, str]] = field(default_factory=list)      # (as written, id): na not allowed now
    source_of: Dict[str, str] = field(default_factory=dict)              # new id -> old id its rating is from

    def note(self, path: str) -> str:
        """The one line the CLI prints on stderr when an assessment is read through the map."""
        return (f"note: {path}: written for model {self.from_version}: read through the supersedes map of "
                f"model {self.to_version}; run `qmgrade migrate {path}` to rewrite it")


def _order(value: Optional[float]) -> float:
    # na carries no information about the practice: any rated value is preferred to it
    return 2.0 if value is None else value


def new_migration(model) -> Migration:
    supersedes = model.supersedes or {"version": "?"}
    return Migration(str(supersedes.get("version", "?")), model.version)


def carry(model, current: Dict[str, Optional[float]], olds: List[tuple]) -> Tuple[Dict[str, Optional[float]],
                                                                                   Migration]:
    """Merge ratings written under old ids into ``current`` (ratings under ids the model has).

    ``olds``: (old id, new id or None, rating) in file order.  A rating the file
    gives the new id itself (an id both versions share) takes part in the
    merge: the lowest rating of all that land on one id is carried.
    """
    migration = new_migration(model)
    ratings = dict(current)
    by_new: Dict[str, List[Tuple[str, Optional[float]]]] = {}
    for old, new, rating in olds:
        if new is None:
            migration.removed.append(old)
            continue
        by_new.setdefault(new, []).append((old, rating))
    order = {ident: index for index, ident in enumerate(model.criteria)}
    for new in sorted(by_new, key=order.__getitem__):
        sources = ([(new, current[new])] if new in current else []) + by_new[new]
        old, rating = min(sources, key=lambda pair: _order(pair[1]))   # the lower rating; first on a tie
        ratings[new] = rating
        migration.source_of[new] = old
        if len(sources) > 1:
            same = len({_order(r) for _, r in sources}) == 1
            migration.merged.append((new, [o for o, _ in sources], None if same else old))
        else:
            migration.moved.append((old, new))
    return ratings, migration


def migrated_document(data: dict, assessment, model) -> dict:
    """The assessment document rewritten for the current model (ratings and evidence under current ids).

    Ratings keep the label they were written with; criteria are in model order.
    """
    migration = assessment.migration
    raw_ratings = data.get("ratings") or {}
    raw_evidence = data.get("evidence") or {}
    supersedes = (model.supersedes or {}).get("criteria", {})
    written = {str(k): v for k, v in raw_ratings.items()}
    ratings = {}
    for ident in model.criteria:
        if ident not in assessment.ratings:
            continue     # not rated, or an na dropped because the criterion no longer allows it
        if migration is not None and ident in migration.source_of:
            ratings[ident] = written[migration.source_of[ident]]
        elif ident in written:
            ratings[ident] = written[ident]
    evidence: Dict[str, Any] = {}
    for key, refs in raw_evidence.items():
        key = str(key)
        target = key if key in model.criteria else supersedes.get(key)
        if target is None:
            continue
        items = [refs] if isinstance(refs, str) else list(refs)
        evidence.setdefault(target, []).extend(str(item) for item in items)
    out: Dict[str, Any] = {}
    for key, value in data.items():
        if key == "ratings":
            out["ratings"] = ratings
        elif key == "evidence":
            out["evidence"] = {ident: (refs[0] if len(refs) == 1 else refs)
                               for ident in model.criteria if ident in evidence for refs in [evidence[ident]]}
        else:
            out[str(key)] = _plain(value)
    if "ratings" not in out:
        out["ratings"] = ratings
    return out


def _plain(value):
    """Loaded YAML (LocDict, LocList, dates) as plain data for dumping."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def render_document(document: dict, fmt: str, header: List[str]) -> str:
    if fmt == "json":
        from .export import dumps
        return dumps(document)
    body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
    return "".join(f"# {line}\n" for line in header) + body


def summary_lines(migration: Optional["Migration"], model, assessment, path: str) -> List[str]:
    """The migration summary, in plain words (stderr of ``qmgrade migrate``)."""
    if migration is None:
        return [f"{path}: already written for model {model.id} {model.version}: nothing to migrate"]
    lines = [f"{path}: migrated from model {migration.from_version} to {model.id} {model.version}"]
    if migration.moved:
        moved = [f"{old} -> {new}" for old, new in migration.moved if old != new]
        if moved:
            lines.append(f"  moved ({len(moved)}): " + ", ".join(moved))
    for new, olds, kept in migration.merged:
        how = f"carried the lower rating, that of {kept}" if kept else "all rated the same"
        lines.append(f"  merged: {', '.join(olds)} -> {new}: {how}")
    if migration.removed:
        lines.append(f"  removed, rating dropped ({len(migration.removed)}): " + ", ".join(migration.removed))
    for written, ident in migration.na_dropped:
        was = f"{written} -> {ident}" if written != ident else ident
        lines.append(f"  {was}: was na, which {ident} no longer allows: rate it")
    unrated = [ident for ident in model.criteria if ident not in assessment.ratings]
    if unrated:
        lines.append(f"  not rated ({len(unrated)}): " + ", ".join(unrated))
    return lines


def header_lines(migration: Optional["Migration"], model) -> List[str]:
    if migration is None:
        return [f"assessment for model {model.id} {model.version}"]
    return [f"migrated by qmgrade migrate from model {migration.from_version} to {model.id} {model.version}",
            "criteria not rated count as none: rate them before grading"]


"""The model as JSON-ready data (CONTRACT §5 ``kb export``), and safe output writing."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .errors import InputError, Problem

__all__ = ["model_to_dict", "dumps", "write_atomic"]


def model_to_dict(model) -> dict:
    return {
        "model": {"id": model.id, "version": model.version, "name": dict(model.name),
                  **({"description": dict(model.description)} if model.description else {}),
                  "sha256": model.sha256},
        "method": {"threshold": model.threshold, "key_minimum": model.key_minimum},
        "levels": [{"rank": lv.rank, "id": lv.id, "name": dict(lv.name),
                    **({"description": dict(lv.description)} if lv.description else {})} for lv in model.levels],
        "sources": [{"id": s.id, "title": dict(s.title)} for s in model.sources],
        "pillars": [{"id": p.id, "name": dict(p.name)} for p in model.pillars],
        "dimensions": [{"id": d.id, "pillar": d.pillar, "name": dict(d.name),
                        **({"description": dict(d.description)} if d.description else {})}
                       for d in model.dimensions],
        "facts": [{"id": f.id, "type": f.type, "default": f.default, "name": dict(f.name),
                   "sources": [dict(s) for s in f.sources]} for f in model.facts],
        "criteria": [{"id": c.id, "dimension": c.dimension, "level": c.level, "weight": c.weight, "key": c.key,
                      "text": dict(c.text), "evidence": dict(c.evidence), "sources": [dict(s) for s in c.sources]}
                     for c in model.criteria.values()],
        "actions": [{"id": a.id, "name": dict(a.name), "addresses": list(a.addresses),
                     "depends_on": list(a.depends_on), "effort": a.effort,
                     **({"description": dict(a.description)} if a.description else {})}
                    for a in model.actions.values()],
        "rules": [{"id": r.id, "description": dict(r.description), "conclude": r.conclude,
                   "sources": [dict(s) for s in r.sources],
                   **({"rationale": dict(r.rationale)} if r.rationale else {})} for r in model.rules],
    }


def dumps(data) -> str:
    """Stable JSON: same data, same bytes."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write_atomic(path: str, content, inputs=()) -> None:
    """Write ``content`` (str or bytes) to ``path`` atomically, never over one of ``inputs``.

    Raises
    ------
    InputError when ``path`` is an input file or cannot be written.
    """
    target = Path(path)
    for source in inputs:
        try:
            if source and target.exists() and os.path.samefile(target, source):
                raise InputError(Problem(str(path), 1, 1, "refusing to write the output over an input file"))
        except OSError:
            continue
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(Problem(str(path), 1, 1, f"no such directory: {directory}"))
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(directory))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise InputError(Problem(str(path), 1, 1, f"cannot write: {exc.strerror}")) from None

"""Model packs: models installed as Python packages that register themselves (issue 12).

A pack is a distribution with an entry point in the group ``qmgrade.models``;
its name is what ``--model NAME`` accepts, its value names the model directory
(``knowledge/`` and ``rules/``): a string or path, a callable returning one, or
a module whose folder holds the model::

    [project.entry-points."qmgrade.models"]
    software-delivery = "qmgrade_pack_software_delivery:MODEL_DIR"

``--model`` still takes a directory; a value that is not an existing directory
is looked up as a pack name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from .errors import ModelError, Problem, suggestion

__all__ = ["GROUP", "Pack", "installed_packs", "resolve_model", "pack_path"]

GROUP = "qmgrade.models"


class Pack:
    """An installed pack: its entry point name, distribution and version."""

    def __init__(self, entry_point):
        self.entry_point = entry_point
        self.name = entry_point.name
        dist = getattr(entry_point, "dist", None)
        self.distribution = dist.metadata["Name"] if dist is not None else ""
        self.version = dist.version if dist is not None else ""

    def path(self) -> Path:
        """The model directory the pack names.

        Raises
        ------
        ModelError when the entry point cannot be loaded or names no model directory.
        """
        try:
            value = self.entry_point.load()
        except Exception as exc:   # a broken plug-in is the pack's fault: say so, no traceback
            raise ModelError(Problem(self.name, 1, 1, f"pack {self.name!r} ({self.distribution}) does not load: "
                                                      f"{type(exc).__name__}: {exc}", "pack")) from None
        if callable(value):
            value = value()
        if hasattr(value, "__file__"):   # a module: its folder
            value = Path(value.__file__).parent
        path = Path(os.fspath(value))
        if not (path / "knowledge").is_dir():
            raise ModelError(Problem(self.name, 1, 1, f"pack {self.name!r} ({self.distribution}) names "
                                                      f"{path}, which is not a model directory", "pack"))
        return path


def installed_packs() -> List[Pack]:
    """Every installed pack, sorted by name (the same order on every machine)."""
    from importlib.metadata import entry_points
    seen = {}
    for entry_point in entry_points(group=GROUP):
        seen.setdefault(entry_point.name, Pack(entry_point))
    return [seen[name] for name in sorted(seen)]


def pack_path(name: str) -> Optional[Path]:
    """The model directory of the installed pack ``name``, or None when no pack has that name."""
    for pack in installed_packs():
        if pack.name == name:
            return pack.path()
    return None


def resolve_model(value) -> Optional[str]:
    """``--model`` as given: a directory stays itself; a pack name becomes its model directory.

    Raises
    ------
    ModelError when ``value`` is neither a directory nor the name of an installed pack.
    """
    if value is None:
        return None
    text = os.fspath(value)
    if os.path.isdir(text) or os.sep in text or text.startswith("."):
        return text
    found = pack_path(text)
    if found is not None:
        return str(found)
    names = [p.name for p in installed_packs()]
    known = ", ".join(names) if names else "none installed"
    raise ModelError(Problem(text, 1, 1, f"no model directory and no installed pack named {text!r}"
                                         f"{suggestion(text, names)} (packs: {known}; `qmgrade kb list`)",
                             "unknown-model"))

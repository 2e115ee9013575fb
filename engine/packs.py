"""Model packs: models installed as Python packages that register themselves (issue 12).

A pack is a distribution with an entry point in the group ``qmgrade.models``;
its name is what ``--model NAME`` accepts, its value names the package folder
that holds the model (``knowledge/`` and ``rules/``), or whose ``model/``
subfolder does::

    [project.entry-points."qmgrade.models"]
    software-delivery = "qmgrade_pack_software_delivery.model"

No pack code is imported or run: the installed distributions' metadata
(``*.dist-info/entry_points.txt`` on ``sys.path``) is read as data, and the
folder is found on ``sys.path`` (or, for an editable install, in the project
folder its ``direct_url.json`` names).  ``--model`` still takes a directory; a
value that is not an existing directory is looked up as a pack name.
"""
from __future__ import annotations

import configparser
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import unquote, urlparse

from .errors import ModelError, Problem, suggestion

__all__ = ["GROUP", "Pack", "installed_packs", "resolve_model", "pack_path"]

GROUP = "qmgrade.models"


class Pack:
    """An installed pack: its entry point name and value, distribution, version and where to look."""

    def __init__(self, name: str, value: str, distribution: str, version: str, roots: List[Path]):
        self.name, self.value, self.distribution, self.version = name, value, distribution, version
        self.roots = roots

    def path(self) -> Path:
        """The model directory the pack names.

        Raises
        ------
        ModelError when no folder of that name holding a model is found.
        """
        parts = self.value.split(":", 1)[0].strip().split(".")
        for root in self.roots:
            folder = root.joinpath(*parts)
            for candidate in (folder, folder / "model"):
                if (candidate / "knowledge").is_dir():
                    return candidate
        raise ModelError(Problem(self.name, 1, 1, f"pack {self.name!r} ({self.distribution}) names "
                                                  f"{self.value!r}, but no such folder holds a model "
                                                  f"(knowledge/ and rules/)", "pack"))


def _metadata(dist_info: Path) -> Dict[str, str]:
    found: Dict[str, str] = {}
    try:
        for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                break
            key, _, value = line.partition(":")
            found.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return found


def _editable_roots(dist_info: Path) -> List[Path]:
    try:
        url = json.loads((dist_info / "direct_url.json").read_text(encoding="utf-8")).get("url", "")
    except (OSError, ValueError, AttributeError):
        return []
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return []
    project = Path(unquote(parsed.path))
    return [project, project / "src"]


def installed_packs() -> List[Pack]:
    """Every installed pack, sorted by name (the first on ``sys.path`` wins a name)."""
    seen: Dict[str, Pack] = {}
    search = [Path(p) for p in sys.path if p and os.path.isdir(p)]
    for entry in search:
        try:
            infos = sorted(p for p in entry.iterdir() if p.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
        for info in infos:
            points = info / "entry_points.txt"
            if not points.is_file():
                continue
            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep keys' case: configparser's documented override
            try:
                parser.read(points, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if not parser.has_section(GROUP):
                continue
            meta = _metadata(info)
            roots = search + _editable_roots(info)
            for name, value in parser.items(GROUP):
                seen.setdefault(name, Pack(name, value, meta.get("Name", info.name), meta.get("Version", ""), roots))
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

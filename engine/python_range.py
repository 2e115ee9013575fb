"""The Python versions qmgrade supports, read from one place: ``requires-python`` in pyproject.toml (issue 10).

The runtime check (:mod:`engine.inference`) and the Makefile's interpreter search both read it here, so
the range is written once.  Standard library only, and runnable as a script by any Python 3 (the Makefile
asks it before a virtual environment exists)::

    python3 engine/python_range.py --check      # exit 0 when this interpreter is supported
    python3 engine/python_range.py --describe   # "3.11 or 3.12"
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Optional, Tuple

__all__ = ["requires_python", "supported_range", "describe", "supported"]

_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def requires_python() -> Optional[str]:
    """The ``requires-python`` specifier: from the source tree's pyproject.toml, else the installed metadata."""
    try:
        match = re.search(r'^requires-python\s*=\s*"([^"]*)"', _PYPROJECT.read_text(encoding="utf-8"), re.M)
        if match:
            return match.group(1)
    except OSError:
        pass
    # installed without its source tree: the wheel's metadata, written from the same pyproject line
    for found in sorted(_PYPROJECT.parent.glob("qmgrade-*.dist-info/METADATA")):
        match = re.search(r"^Requires-Python:\s*(.+)$", found.read_text(encoding="utf-8"), re.M)
        if match:
            return match.group(1).strip()
    return None


def supported_range(spec: Optional[str] = None) -> Optional[Tuple[Tuple[int, int], Tuple[int, int]]]:
    """``((3, 11), (3, 12))`` for ``">=3.11,<3.13"``: the first and last supported minor versions."""
    spec = requires_python() if spec is None else spec
    lower = re.search(r">=\s*(\d+)\.(\d+)", spec or "")
    upper = re.search(r"<\s*(\d+)\.(\d+)", spec or "")
    if not (lower and upper):
        return None
    first = (int(lower.group(1)), int(lower.group(2)))
    below = (int(upper.group(1)), int(upper.group(2)))
    return first, (below[0], below[1] - 1)


def describe(spec: Optional[str] = None) -> str:
    """The range in words: ``3.11 or 3.12``, ``3.9 to 3.12``."""
    found = supported_range(spec)
    if found is None:
        return "a supported Python 3"
    (a, b), (c, d) = found
    if (a, b) == (c, d):
        return f"{a}.{b}"
    return f"{a}.{b} or {c}.{d}" if (a, b + 1) == (c, d) else f"{a}.{b} to {c}.{d}"


def supported(version: Optional[Tuple[int, int]] = None) -> bool:
    """Whether ``version`` (this interpreter's by default) lies in the supported range."""
    version = version or (sys.version_info[0], sys.version_info[1])
    found = supported_range()
    return found is None or found[0] <= version <= found[1]


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if supported() else 1)
    if sys.argv[1:] == ["--describe"]:
        print(describe())
        sys.exit(0)
    sys.exit("usage: python_range.py --check | --describe")

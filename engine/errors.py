"""One error hierarchy for qmgrade.

Every error that reaches a user carries where it happened (``path``, ``line``,
``col``, 1-based) and, for unknown ids, the nearest known name.  The CLI
prints ``Error: path:line:col: message`` and exits 1 — or, for a problem in a
command-line option (``path`` is the option's name), ``Error: --option:
message`` and exits 2, a usage error.
"""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

__all__ = [
    "Problem", "QmgradeError", "ModelError", "RuleError", "InputError",
    "EngineError", "EnvironmentProblem", "did_you_mean", "suggestion",
]


def did_you_mean(name: str, known: Iterable[str]) -> Optional[str]:
    """Return the known name closest to ``name``, or None when none is close."""
    return _closest(str(name), tuple(sorted(set(known))))


@functools.lru_cache(maxsize=8192)
def _closest(name: str, known: tuple) -> Optional[str]:
    # 10-25 ms a call over a model's ids: a batch repeating the same typo pays once
    matches = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggestion(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the known name closest to ``name``, or ``""``."""
    hint = did_you_mean(name, known)
    return f"; did you mean {hint!r}?" if hint else ""


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at one place in one file."""

    path: str
    line: int
    col: int
    message: str
    code: str = field(default="", compare=False)

    def __str__(self) -> str:
        suffix = f" ({self.code})" if self.code else ""
        return f"{self.path}:{self.line}:{self.col}: {self.message}{suffix}"

    @property
    def is_option(self) -> bool:
        """The problem is in a command-line option, not a file: ``path`` names the option (``--target``) and
        ``line`` which occurrence of it (the 2nd ``--set``).  The command line reports it as a usage error."""
        return self.path.startswith("--")

    def option_text(self, numbered: bool = False) -> str:
        """``--target: message`` (``--set #2: message`` when ``numbered``) — no file position to fake."""
        suffix = f" ({self.code})" if self.code else ""
        where = f"{self.path} #{self.line}" if numbered else self.path
        return f"{where}: {self.message}{suffix}"


class QmgradeError(Exception):
    """Base of every error qmgrade raises on purpose.

    Holds one or more :class:`Problem`; ``str()`` gives one line per problem.
    """

    def __init__(self, problems: Sequence[Problem] | Problem | str, path: str = "-",
                 line: int = 1, col: int = 1):
        if isinstance(problems, str):
            problems = [Problem(path, line, col, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def line(self) -> int:
        return self.problems[0].line

    @property
    def col(self) -> int:
        return self.problems[0].col


class ModelError(QmgradeError):
    """The model (knowledge/ or rules/) is broken."""


class RuleError(ModelError):
    """A rule file is malformed or names something the model does not define."""


class InputError(QmgradeError):
    """An assessment (or other user input) is malformed or names unknown ids."""

    company: Optional[dict] = None   # the company a reader could read before the error (batch's error entry)


class EngineError(QmgradeError):
    """durable_rules reported a failure while inferring (never silent)."""


class EnvironmentProblem(QmgradeError):
    """The Python running qmgrade cannot run durable_rules."""

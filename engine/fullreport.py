"""The full report's results: one company's grade, the explanation of a level and the roadmap to it.

The HTML report (``assess``, ``explain`` and ``roadmap --format html``) shows all three; they
are computed here once, from one grade, and :func:`engine.render.html.render_html` only
presents them.

>>> from engine import load_model, read_assessment, grade                # doctest: +SKIP
>>> model = load_model()                                                 # doctest: +SKIP
>>> graded = grade(model, read_assessment("examples/level-3-assurance.yaml", model))  # doctest: +SKIP
>>> full_report(graded, focus="roadmap").explanation.target["rank"]     # doctest: +SKIP
4
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .diagnosis import Explanation, explain
from .grading import Grade
from .roadmap import Roadmap, plan_roadmap

__all__ = ["FULL_REPORT_FOCUS", "FullReport", "full_report"]

FULL_REPORT_FOCUS = ("assess", "explain", "roadmap")


@dataclass(frozen=True)
class FullReport:
    """A grade with the explanation of a level and the roadmap to that level.

    Attributes
    ----------
    grade : Grade
        The company's grade (its ``model`` and ``assessment`` ride along).
    explanation : Explanation
        Why the level holds and why the target does not.
    roadmap : Roadmap
        The plan to the target.
    focus : str
        The command the report is for (``assess``, ``explain`` or ``roadmap``): it sets the title.
    """

    grade: Grade
    explanation: Explanation
    roadmap: Roadmap
    focus: str = "assess"

    @property
    def model(self):
        return self.grade.model

    def plan(self) -> dict:
        """The roadmap as plain data (the JSON ``qmgrade roadmap`` prints)."""
        return self.roadmap.as_dict()


def full_report(graded: Grade, focus: str = "assess", rank: Optional[int] = None) -> FullReport:
    """Explain level ``rank`` (default: the next) for ``graded`` and plan the way to it.

    Raises
    ------
    InputError when ``rank`` is outside the model's levels; ValueError for an unknown ``focus``.
    """
    if focus not in FULL_REPORT_FOCUS:
        raise ValueError(f"focus must be one of {', '.join(FULL_REPORT_FOCUS)}, not {focus!r}")
    model, assessment = graded.model, graded.assessment
    explanation = explain(model, assessment, level=rank, graded=graded)
    plan = plan_roadmap(model, assessment, target=rank, graded=graded)
    return FullReport(grade=graded, explanation=explanation, roadmap=plan, focus=focus)

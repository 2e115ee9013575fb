"""Read one assessment file of any supported kind (issue 10): the dispatch over the input modules."""
from __future__ import annotations

from ..assessment import Assessment
from ..errors import InputError, Problem
from .document import read_document
from .kind import corrupt_workbook_errors, input_kind

__all__ = ["read_assessment"]


def read_assessment(path: str, model) -> Assessment:
    """Read an assessment file (YAML, JSON, or the XLSX questionnaire — told apart by its first bytes).

    Raises
    ------
    InputError with every problem; a file of another kind (a Word document,
    a PDF, a CSV, ...) is named as such (:func:`engine.inputs.kind.input_kind`).
    """
    if input_kind(path) == "xlsx":
        from .questionnaire import read_questionnaire  # the workbook reader (and openpyxl) only when needed
        try:
            return read_questionnaire(path, model)
        except corrupt_workbook_errors() as exc:  # openpyxl reads lazily: a damaged part fails mid-way
            raise InputError(Problem(path, 1, 1, f"not a readable XLSX workbook ({type(exc).__name__}: "
                                                 f"{exc})")) from None
    return read_document(path, model)

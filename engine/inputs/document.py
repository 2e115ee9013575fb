"""A YAML or JSON assessment file (CONTRACT §2) read and checked against the model."""
from __future__ import annotations

from ..assessment import Assessment, assessment_from_data
from ..errors import InputError
from ..yamlio import load_file

__all__ = ["read_document"]


def read_document(path: str, model) -> Assessment:
    """Read a YAML or JSON assessment; raises InputError with every problem, each at its line and column."""
    data = load_file(path, InputError)
    return assessment_from_data(data, path, model)

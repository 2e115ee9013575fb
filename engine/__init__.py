"""qmgrade's engine: the model, the rules compiled into durable_rules, grading and its explanations.

The library never prints or exits; ``cli.py`` does the talking.

The public API is :mod:`engine.api` (documented in docs/api.md):

>>> from engine import api
>>> model = api.load_model()                                   # doctest: +SKIP
>>> result = api.grade(model, api.read_assessment("examples/level-3-assurance.yaml", model))  # doctest: +SKIP
>>> result.to_json()                                           # doctest: +SKIP
"""
from .assessment import Assessment, assessment_from_data, parse_rating
from .inputs.reader import read_assessment
from .errors import EngineError, InputError, ModelError, Problem, QmgradeError, RuleError
from .grading import Grade, grade
from .model import Model, default_model_dir, load_model
from . import api   # noqa: E402  (after the names it wraps)

__version__ = "0.1.0"

__all__ = [
    "Assessment", "assessment_from_data", "parse_rating", "read_assessment",
    "EngineError", "InputError", "ModelError", "Problem", "QmgradeError", "RuleError",
    "Grade", "grade", "Model", "default_model_dir", "load_model", "api", "__version__",
]

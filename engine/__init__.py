"""qmgrade's engine: the model, the rules compiled into durable_rules, grading and its explanations.

The library never prints or exits; ``cli.py`` does the talking.

>>> from engine import load_model, read_assessment, grade
>>> model = load_model()                                   # doctest: +SKIP
>>> result = grade(model, read_assessment("examples/level-3-assurance.yaml", model)).as_dict()  # doctest: +SKIP
"""
from .assessment import Assessment, assessment_from_data, parse_rating, read_assessment
from .errors import EngineError, InputError, ModelError, Problem, QmgradeError, RuleError
from .grading import Grade, grade
from .model import Model, default_model_dir, load_model

__version__ = "0.1.0"

__all__ = [
    "Assessment", "assessment_from_data", "parse_rating", "read_assessment",
    "EngineError", "InputError", "ModelError", "Problem", "QmgradeError", "RuleError",
    "Grade", "grade", "Model", "default_model_dir", "load_model", "__version__",
]

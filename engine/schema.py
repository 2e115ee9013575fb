"""JSON Schemas of the model files, rule files and assessments.

Checked with ``jsonschema`` before anything is interpreted, so a wrong type or
a missing field is reported at its line and column, every problem of a file at
once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Optional

from .errors import Problem
from .yamlio import position, value_position

if TYPE_CHECKING:
    import jsonschema

__all__ = ["MODEL_FILE", "RULE_FILE", "ASSESSMENT", "check", "ID_PATTERN", "ANCHOR_RATINGS", "STABLE_ID_PATTERN",
           "LANGUAGES", "model_file_schema", "rule_file_schema"]

ID_PATTERN = r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$"
# Criteria and actions may carry any stable identifier of the source model (a UUID, "SD-1.2",
# an upper-case code) rather than a slug that changes when the source renames an item (issue 12);
# a display label (`title`) is separate.
STABLE_ID_PATTERN = r"^[A-Za-z0-9]+([-_.:][A-Za-z0-9]+)*$"
LANGUAGES = ("zh", "en")   # the languages texts may be written in; a model declares which it requires

_ID = {"type": "string", "pattern": ID_PATTERN}
_SID = {"type": "string", "pattern": STABLE_ID_PATTERN, "maxLength": 128}
_TEXT = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {
        "zh": {"type": "string", "minLength": 1},
        "en": {"type": "string", "minLength": 1},
    },
    "additionalProperties": False,
}
_SOURCE_REF = {
    "type": "object",
    "required": ["source"],
    "properties": {
        "source": _ID,
        "clause": {"type": "string", "minLength": 1},
        "note": {"type": "string"},
    },
    "additionalProperties": False,
}
_NUMBER = {"type": "number"}
ANCHOR_RATINGS = ("full", "largely", "partial", "none")
_SINGLE_SECTIONS = ("model", "method", "effort_scale")
# YAML reads `2:` as an integer key; a quoted "2" is accepted as well
_LEVEL_KEY = {"enum": [2, 3, 4, 5, "2", "3", "4", "5"]}
_EFFORT_KEY = {"enum": [1, 2, 3, 4, 5, "1", "2", "3", "4", "5"]}

MODEL_FILE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "model": {
            "type": "object",
            "required": ["id", "version", "name"],
            "properties": {
                "id": _ID,
                "version": {"type": "string", "minLength": 1},
                "name": _TEXT,
                "description": _TEXT,
                # the languages every text of the model is written in (default both); --lang offers those
                "languages": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": {"enum": list(LANGUAGES)}},
                # the model's own words, used by every report and questionnaire (issue 12)
                "words": {
                    "type": "object",
                    "properties": {
                        "subject": _TEXT,           # who is assessed: 企业 / organisation / team / plant
                        "subjects": _TEXT,          # the plural
                        "assessment": _TEXT,        # the title of an assessment report
                        "diagnosis": _TEXT,         # the title of a diagnosis (explain) report
                        "roadmap": _TEXT,           # the title of a roadmap report
                        "facts": _TEXT,             # what the facts the caps read are called
                    },
                    "additionalProperties": False,
                },
                "supersedes": {
                    "type": "object",
                    "required": ["version", "criteria"],
                    "properties": {
                        "version": {"type": "string", "minLength": 1},
                        "criteria": {
                            "type": "object",
                            "propertyNames": _SID,
                            "additionalProperties": {"type": ["string", "null"], "pattern": STABLE_ID_PATTERN},
                        },
                    },
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
        "method": {
            "type": "object",
            "properties": {
                "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                "key_minimum": {"type": "number", "minimum": 0, "maximum": 1},
                "key_minimum_by_level": {
                    "type": "object",
                    "propertyNames": _LEVEL_KEY,
                    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "min_coverage": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "additionalProperties": False,
        },
        "effort_scale": {
            "type": "object",
            "propertyNames": _EFFORT_KEY,
            "additionalProperties": {
                "type": "object",
                "required": ["zh", "en", "person_weeks"],
                "properties": {
                    "zh": {"type": "string", "minLength": 1},
                    "en": {"type": "string", "minLength": 1},
                    "person_weeks": {"type": "array", "minItems": 2, "maxItems": 2,
                                     "items": {"type": "number", "minimum": 0}},
                },
                "additionalProperties": False,
            },
        },
        "profiles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "not_applicable"],
                "properties": {
                    "id": _ID,
                    "name": _TEXT,
                    "description": _TEXT,
                    "not_applicable": {"type": "array", "items": _SID},
                },
                "additionalProperties": False,
            },
        },
        "levels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rank", "id", "name"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 0, "maximum": 5},
                    "id": _ID,
                    "name": _TEXT,
                    "description": _TEXT,
                },
                "additionalProperties": False,
            },
        },
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title"],
                "properties": {"id": _ID, "title": _TEXT, "url": {"type": "string"},
                               "note": {"type": "string"}},
                "additionalProperties": False,
            },
        },
        "pillars": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {"id": _ID, "name": _TEXT, "description": _TEXT},
                "additionalProperties": False,
            },
        },
        "dimensions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "pillar", "name"],
                "properties": {"id": _ID, "pillar": _ID, "name": _TEXT, "description": _TEXT},
                "additionalProperties": False,
            },
        },
        "facts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type", "name"],
                "properties": {
                    "id": _ID,
                    "type": {"enum": ["boolean", "number", "string", "date", "record"]},
                    "default": {"type": ["boolean", "number", "string", "array"], "maxItems": 0},
                    "name": _TEXT,
                    "description": _TEXT,
                    "sources": {"type": "array", "items": _SOURCE_REF},
                    # a record fact is a list of events: their fields, the optional ones, and how many
                    # months a cap holds from the event (issue 9)
                    "fields": {"type": "object", "minProperties": 1, "propertyNames": _ID,
                               "additionalProperties": {"enum": ["boolean", "number", "string", "date"]}},
                    "optional": {"type": "array", "items": _ID},
                    "period_months": {"type": "integer", "minimum": 1, "maximum": 240},
                    "period_from": _ID,
                    "defaults": {"type": "object", "additionalProperties": {"type": ["boolean", "number", "string"]}},
                    "choices": {"type": "object", "additionalProperties": {
                        "type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}},
                },
                "additionalProperties": False,
            },
        },
        "criteria": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "dimension", "level", "text", "sources"],
                "properties": {
                    "id": _SID,
                    "title": _TEXT,
                    "dimension": _ID,
                    "level": {"type": "integer", "minimum": 1, "maximum": 5},
                    "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
                    "key": {"type": "boolean"},
                    "text": _TEXT,
                    "evidence": _TEXT,
                    "sources": {"type": "array", "minItems": 1, "items": _SOURCE_REF},
                    "na_allowed": {"type": "boolean"},
                    "red_flag": {"type": "boolean"},
                    "anchors": {
                        "type": "object",
                        "required": list(ANCHOR_RATINGS),
                        "properties": {r: _TEXT for r in ANCHOR_RATINGS},
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
        },
        "actions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "addresses", "effort"],
                "properties": {
                    "id": _SID,
                    "name": _TEXT,
                    "description": _TEXT,
                    "addresses": {"type": "array", "minItems": 1, "items": _SID},
                    "depends_on": {"type": "array", "items": _SID},
                    "effort": {"type": "integer", "minimum": 1, "maximum": 5},
                    "lead_time_months": {"type": "integer", "minimum": 0, "maximum": 36},
                    "strengthen_effort": {"type": "integer", "minimum": 1, "maximum": 5},
                    "kind": {"enum": ["intervention"]},
                },
                "additionalProperties": False,
            },
        },
    },
}

def _text_schema(languages) -> dict:
    return {"type": "object", "required": list(languages),
            "properties": {lang: {"type": "string", "minLength": 1} for lang in LANGUAGES},
            "additionalProperties": False}


def _with_text(node, text):
    """``node`` with every ``_TEXT`` (and the effort-scale words) requiring ``text``'s languages."""
    if node is _TEXT:
        return text
    if isinstance(node, dict):
        out = {k: _with_text(v, text) for k, v in node.items()}
        if out.get("required") == ["zh", "en", "person_weeks"]:
            out["required"] = [*text["required"], "person_weeks"]
        return out
    if isinstance(node, list):
        return [_with_text(v, text) for v in node]
    return node


_BY_LANGUAGES: dict = {}


def model_file_schema(languages=LANGUAGES) -> dict:
    """The model-file schema whose texts require ``languages`` (a model's ``languages``; default zh and en)."""
    key = ("model", tuple(languages))
    if tuple(languages) == LANGUAGES:
        return MODEL_FILE
    if key not in _BY_LANGUAGES:
        _BY_LANGUAGES[key] = _with_text(MODEL_FILE, _text_schema(languages))
    return _BY_LANGUAGES[key]


def rule_file_schema(languages=LANGUAGES) -> dict:
    """The rule-file schema whose texts require ``languages``."""
    key = ("rule", tuple(languages))
    if tuple(languages) == LANGUAGES:
        return RULE_FILE
    if key not in _BY_LANGUAGES:
        _BY_LANGUAGES[key] = _with_text(RULE_FILE, _text_schema(languages))
    return _BY_LANGUAGES[key]


_VALUE = {
    "oneOf": [
        {"type": ["string", "number", "boolean"]},
        {
            "type": "object",
            "required": ["ref"],
            "properties": {"ref": {"type": "string", "pattern": r"^[a-z_][a-z0-9_-]*\.[a-z_][a-z0-9_-]*$"},
                           "add": {"type": "integer"}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["param"],
            "properties": {"param": {"enum": ["threshold", "key_minimum", "top_rank"]}},
            "additionalProperties": False,
        },
    ]
}
_TEST = {
    "oneOf": [
        _VALUE,
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {**{op: _VALUE for op in ("eq", "ne", "lt", "lte", "gt", "gte")},
                           "exists": {"type": "boolean"}},
            "additionalProperties": False,
        },
    ]
}

RULE_FILE = {
    "type": "object",
    "required": ["description", "when", "then"],
    "additionalProperties": False,
    "properties": {
        "description": _TEXT,
        "rationale": _TEXT,
        "sources": {"type": "array", "items": _SOURCE_REF},
        "salience": {"type": "integer", "minimum": 0, "maximum": 1000},
        "when": {
            "type": "array",
            "minItems": 1,
            "maxItems": 16,
            "items": {
                "type": "object",
                "required": ["fact"],
                "properties": {
                    "fact": _ID,
                    "as": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"},
                    "not": {"type": "boolean"},
                    "where": {"type": "object", "additionalProperties": _TEST},
                },
                "additionalProperties": False,
            },
        },
        "then": {
            "type": "object",
            "required": ["conclude"],
            "properties": {
                "conclude": _ID,
                "set": {"type": "object", "additionalProperties": _VALUE},
            },
            "additionalProperties": False,
        },
    },
}

ASSESSMENT: dict = {
    "type": "object",
    "required": ["ratings"],
    "properties": {
        "company": {
            "type": "object",
            "properties": {
                "id": {"type": ["string", "integer"]},
                "name": {"type": "string"},
                "industry": {"type": ["string", "integer"]},
                "region": {"type": "string"},
                "profile": {"type": "string"},
            },
        },
        "assessed_on": {"type": ["string", "integer"]},
        "ratings": {"type": ["object", "null"]},
        "evidence": {"type": ["object", "null"],
                     "additionalProperties": {"oneOf": [{"type": "string"},
                                                        {"type": "array", "items": {"type": "string"}}]}},
        "facts": {"type": ["object", "null"]},
    },
}


EXCERPT = 40   # characters of an offending value a message may quote (never a linked file's content)


def _excerpt(value: Any) -> str:
    text = repr(value)
    if len(text) <= EXCERPT:
        return text
    if isinstance(value, str):
        return repr(value[:EXCERPT - 3]) + "…"
    return text[:EXCERPT - 1] + "…"


def _describe(error: "jsonschema.ValidationError") -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    prefix = f"{where}: " if where else ""
    if error.validator == "oneOf":
        return f"{prefix}{_excerpt(error.instance)} is not a valid value here"
    if error.validator == "pattern" and error.validator_value == STABLE_ID_PATTERN:
        return (f"{prefix}{_excerpt(error.instance)} is not a valid id (letters and digits, with '-', '_', '.' "
                f"or ':' between them)")
    if error.validator == "pattern":
        return f"{prefix}{_excerpt(error.instance)} is not a valid id (lowercase letters, digits, '-' or '_')"
    message = error.message
    whole = repr(error.instance)
    if len(whole) > EXCERPT and whole in message:
        message = message.replace(whole, _excerpt(error.instance))
    if len(message) > 4 * EXCERPT:   # e.g. a list of unexpected keys
        message = message[:4 * EXCERPT - 1] + "…"
    return f"{prefix}{message}"


def _locate(document: Any, path: Iterable[Any]):
    container, key = document, None
    node = document
    for part in path:
        container, key = node, part
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    if key is None:
        return position(document)
    return value_position(container, key) if isinstance(container, dict) else position(container, key)


_VALIDATORS: dict = {}   # id(schema) -> (schema, its Draft7Validator): built once per schema, not per record


def _validator(schema: dict):
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        import jsonschema  # imported where used: a fifth of a second at start-up

        entry = _VALIDATORS[id(schema)] = (schema, jsonschema.Draft7Validator(schema))
    return entry[1]


def check(document: Any, schema: dict, path: str, bad: Optional[set] = None) -> List[Problem]:
    """Every schema violation of ``document`` as a located :class:`Problem`.

    ``bad``, when given, collects the (section, index) of each list item that
    has a violation (or (None, None) when the document itself is wrong), so a
    caller can drop only the broken items.
    """
    validator = _validator(schema)
    problems = []
    for error in validator.iter_errors(document):
        if bad is not None:
            parts = list(error.absolute_path)
            if len(parts) >= 2 and isinstance(parts[1], int):
                bad.add((parts[0], parts[1]))
            elif len(parts) >= 2 and "effort_scale" in schema.get("properties", {}) and parts[0] in _SINGLE_SECTIONS:
                bad.add((parts[0], None))   # only that section is dropped, the rest of the file is read
            else:
                bad.add((None, None))
        # a missing translation reads better said so
        line, col = _locate(document, error.absolute_path)
        message = _describe(error)
        code = "schema"
        if error.validator == "required" and set(error.validator_value) <= set(LANGUAGES):
            code = "missing-translation"
        problems.append(Problem(path, line, col, message, code))
    return sorted(set(problems))

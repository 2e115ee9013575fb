"""JSON Lines input (``.jsonl`` / ``.ndjson``): one assessment object a line, read lazily for ``qmgrade batch``."""
from __future__ import annotations

import json
import re
from typing import Iterator, List, Optional, Tuple

from ..assessment import Assessment, assessment_from_data
from ..errors import InputError, Problem, QmgradeError
from ..limits import DEFAULT, Limits
from ..yamlio import load_text
from .coerce import scalar_text as _scalar_text
from .lines import Unreadable, open_binary, read_lines

__all__ = ["jsonl_records", "company_of", "jsonl_assessment"]


def jsonl_records(path: str, limits: Limits = DEFAULT) -> Iterator[tuple]:
    with open_binary(path) as handle:
        for number, raw, size in read_lines(handle, limits.line_bytes):
            if isinstance(raw, Unreadable) or raw.strip():
                yield ((number, raw), size)


# -- turning one record into an assessment ---------------------------------------------------
class _Duplicate(ValueError):
    pass


def _pairs(items):
    result = dict(items)
    if len(result) != len(items):
        raise _Duplicate()
    return result


def _reject_constant(name):
    raise ValueError(name)


def _finite(literal: str) -> float:
    value = float(literal)
    if value - value != 0.0:   # inf or nan (1e400): the located loader says where
        raise ValueError(literal)
    return value


# The fast path takes only what the located JSON loader (yamlio) would accept as it is:
# anything unusual (duplicate keys, NaN, infinities, escaped surrogates) goes the slow way.
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


_fast_json = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_float=_finite)


def _shift(error: QmgradeError, line: int) -> List[Problem]:
    return [Problem(p.path, p.line + line - 1, p.col, p.message, p.code) for p in error.problems]


def company_of(data) -> Optional[dict]:
    company = data.get("company") if isinstance(data, dict) else None
    if isinstance(company, dict):
        return {str(k): _scalar_text(v) for k, v in company.items()}
    return None


def jsonl_assessment(path: str, item, model) -> Tuple[Optional[Assessment], Optional[dict], List[Problem]]:
    number, raw = item
    if isinstance(raw, Unreadable):
        return None, None, [Problem(path, number, raw.col, raw.message, raw.code)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, None, [Problem(path, number, exc.start + 1, "not UTF-8 text")]
    text = text.rstrip("\r\n")
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    data = None
    if not _SURROGATE.search(text):
        try:  # fast path: the standard parser; positions only when something is wrong
            data = _fast_json.decode(text)
            return assessment_from_data(data, path, model), company_of(data), []
        except (ValueError, QmgradeError, RecursionError):
            pass
    located = None
    try:
        located = load_text(text, path, InputError, json_mode=True)
        assessment = assessment_from_data(located, path, model)
    except QmgradeError as error:   # the company, when the line could be read (issue 10)
        return None, company_of(located if located is not None else data), _shift(error, number)
    return assessment, company_of(located), []  # pragma: no cover - the fast path agrees

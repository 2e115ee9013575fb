"""Coercion of what people write into ratings, facts and dates — one module for every input kind (issue 10).

YAML and JSON assessments, the XLSX questionnaire, wide CSV/XLSX rows and JSON Lines all turn a cell or a
word into a rating (:func:`parse_rating`), a fact (:func:`fact_value`), a calendar day (:func:`iso_date`) or a
company field (:func:`scalar_text`) here, so that the same word means the same thing in every input.
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Optional

from ..errors import did_you_mean

__all__ = ["NA", "RATING_LABELS", "ACCEPTED", "TRUE_WORDS", "FALSE_WORDS", "CANONICAL", "parse_rating",
           "fact_value", "iso_date", "scalar_text"]

NA = None   # a rating of "not applicable"

RATING_LABELS: Dict[str, Optional[float]] = {
    "full": 1.0, "largely": 0.8, "partial": 0.5, "none": 0.0, "na": NA,
    "全部满足": 1.0, "大部分满足": 0.8, "部分满足": 0.5, "不满足": 0.0, "不适用": NA,
}
_ALIASES = {"n/a": "na", "not applicable": "na", "not_applicable": "na",
            # the usual words of Chinese audit checklists (issue 10): 满足 / 基本满足 / 符合 ...
            "满足": "全部满足", "完全满足": "全部满足", "基本满足": "大部分满足",
            "符合": "全部满足", "完全符合": "全部满足", "基本符合": "大部分满足", "大部分符合": "大部分满足",
            "部分符合": "部分满足", "不符合": "不满足"}
_NEGATION = re.compile(r"[不无没未非否]|\b(?:not|no|non|never)(?:\b|_)|n't")
ACCEPTED = ("full, largely, partial, none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] "
            "or a percentage such as 80%")
# yes/no words of a boolean fact, in every input (YAML, JSON, XLSX, CSV)
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "有", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "无", "f"})
CANONICAL = {1.0: "full", 0.8: "largely", 0.5: "partial", 0.0: "none"}


def parse_rating(value: Any) -> Optional[float]:
    """A rating value as a float in [0, 1] or ``None`` (na).

    Raises
    ------
    ValueError with a message naming what is accepted.
    """
    if type(value) is str and value in RATING_LABELS:   # the common case, first (batches parse millions)
        return RATING_LABELS[value]
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a rating (a boolean is not a number)")
    if isinstance(value, int) and not 0 <= value <= 1:
        shown = value if abs(value) < 10 ** 15 else f"{str(value)[:15]}…"   # float() fails beyond 1e308
        raise ValueError(f"rating {shown} is out of range: numbers must lie in [0, 1]")
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number) or number < 0 or number > 1:
            raise ValueError(f"rating {value!r} is out of range: numbers must lie in [0, 1]")
        rounded = round(number, 6)
        if abs(number - rounded) > 1e-12:   # never rounded silently across a threshold (issue 12)
            raise ValueError(f"rating {value!r} is finer than the rating precision of 0.000001 (six decimals): "
                             f"write it with at most six decimals")
        return rounded
    if isinstance(value, str):
        label = value.strip()
        lowered = label.lower()
        lowered = _ALIASES.get(lowered, lowered)
        if lowered in RATING_LABELS:
            return RATING_LABELS[lowered]
        if label.endswith(("%", "％")):   # "80%" is 0.8
            return _percentage(value, label[:-1].strip())
        try:
            number = float(label)
        except ValueError:
            hint = _rating_hint(lowered)
            suffix = f"; did you mean {hint!r}?" if hint else ""
            raise ValueError(f"unknown rating {value!r}{suffix} (use {ACCEPTED})") from None
        return parse_rating(number)
    if value is None:
        raise ValueError("empty rating (use na for not applicable, or leave the criterion out)")
    raise ValueError(f"a {type(value).__name__} is not a rating")


def _percentage(value: str, digits: str) -> Optional[float]:
    try:
        number = float(digits)
    except ValueError:
        raise ValueError(f"unknown rating {value!r} (a percentage is a number followed by %, e.g. 80%)") from None
    if not math.isfinite(number) or not 0 <= number <= 100:
        raise ValueError(f"rating {value!r} is out of range: percentages must lie in [0%, 100%]")
    try:
        return parse_rating(round(number / 100, 12))
    except ValueError:
        raise ValueError(f"rating {value!r} is finer than the rating precision of 0.0001% (four decimals of "
                         f"a percentage)") from None


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _rating_hint(label: str) -> Optional[str]:
    """The accepted label closest to ``label`` — never one of the opposite meaning.

    ``满足`` is close to ``不满足`` and ``applicable`` to ``not applicable``: a
    suggestion whose negation differs from the label's is no suggestion at all.
    """
    known = list(RATING_LABELS) + list(_ALIASES)
    for pool in ([k for k in known if k.isascii()], known):
        hint = did_you_mean(label, pool)
        if hint is not None and _negated(hint) == _negated(label):
            return hint
    return None


def fact_value(kind: str, value: Any) -> Any:
    """A cell (XLSX, CSV) or a word as a fact of type ``kind``; raises ValueError."""
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true/false, yes/no, 是/否, 1/0)")
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return int(number) if number.is_integer() and "." not in str(value) else number
    if kind == "record":   # issue 9: dated events do not fit one cell
        raise ValueError("a list of dated events does not fit in one cell: give it in a YAML or JSON assessment")
    if kind == "date":
        day = iso_date(value.date() if hasattr(value, "date") else value)
        if day is None:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")
        return day
    return str(value)


def scalar_text(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)   # JSON output has no NaN
    return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else str(value)


def iso_date(value: Any) -> Optional[str]:
    """"2025-06-01" for a real calendar day written YYYY-MM-DD, else None."""
    import datetime
    text = str(value).strip() if isinstance(value, (str, datetime.date)) else ""
    try:
        return datetime.date.fromisoformat(text).isoformat() if len(text) == 10 else None
    except ValueError:
        return None

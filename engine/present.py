"""How qmgrade shows things to people: one place for every renderer (text, Markdown, HTML, trace, stats).

- **Words**: :func:`word` reads the one zh/en catalogue (:mod:`engine.words`), in the current
  model's own words (issue 12).
- **Numbers**: :func:`score` is the one score formatter, :func:`number` the one form of a
  threshold or key minimum.  The rule (one rule everywhere):

  * a score is *truncated*, never rounded, to two decimals: 0.866 reads ``0.86`` in every
    format, and 0.797 reads ``0.79``;
  * a threshold is shown exactly (at least two decimals): 0.8 reads ``0.80``, 0.805 ``0.805``;
  * given its threshold, a score never reads on the wrong side of it: when the two-decimal
    form would (only possible for a threshold with more than two decimals), more decimals
    are shown, up to the six the score is computed to.  So a failing score never prints
    equal to its threshold, and a met one never prints below it.

- **Levels, ratings, companies**: :func:`level_name` (``3 Assurance``), :func:`level_label`
  (``3 Assurance (保证级)``), :func:`rating_label` (``largely (0.8)``), :func:`company_title`
  (``name (id)``).
- **User text** (a company's name, id, region, industry, evidence references) is escaped for
  the output it goes into by :func:`for_terminal`, :func:`for_rich`, :func:`for_markdown`,
  :func:`for_markdown_code` and :func:`for_html`, built on :mod:`engine.textsafe` (control and
  bidi characters shown visibly, markup printed as written).

>>> score(0.866), score(0.797, threshold=0.8), number(0.8)
('0.86', '0.79', '0.80')
>>> score(0.8049, threshold=0.805), score(0.806, threshold=0.805), number(0.805)
('0.80', '0.806', '0.805')
>>> for_rich("[/bad] [bold red]Zhejiang")
'\\\\[/bad] \\\\[bold red]Zhejiang'
"""
from __future__ import annotations

import unicodedata
from typing import Optional

from . import textsafe
# The one catalogue: the words' tables (engine/words.py) and their formatters, used by
# every renderer from here.  level_name: ``3 Assurance``; level_label: ``3 Assurance (保证级)`` from a
# result's level object; rating_label: ``partial (0.5)``, ``n/a``, ``not rated``.
from .words import cap_sentence, level_label, text_of
from .words import area_words   # the words of one output (stats, trend, trace, calibration, web) for a template
from .words import (coverage_text, criterion_title, effort_words, level_name, month_text, na_above, rating_label,
                    word)

__all__ = ["word", "area_words", "text_of", "score", "number", "percent", "level_name", "level_label", "rating_label",
           "criterion_title", "coverage_text", "effort_words", "month_text", "na_above", "cap_sentence",
           "company_title", "char_width", "fit", "for_terminal", "for_rich", "for_markdown", "for_markdown_code", "for_html"]

_SCALE = 1_000_000          # scores are whole millionths (engine.scoring.SCALE)


# -- numbers ----------------------------------------------------------------------------------------
def _units(value) -> int:
    return round(float(value) * _SCALE)


def _decimals(units: int, places: int) -> str:
    step = 10 ** (6 - places)
    whole, frac = divmod(units // step, 10 ** places)
    return f"{whole}.{frac:0{places}d}"


def number(value) -> str:
    """A threshold or key minimum, exactly, with at least two decimals: ``0.80``, ``1.00``, ``0.805``."""
    if value is None:
        return "—"
    units = _units(value)
    places = 2
    while places < 6 and units % 10 ** (6 - places):
        places += 1
    return ("-" if units < 0 else "") + _decimals(abs(units), places)


def score(value, threshold: Optional[float] = None) -> str:
    """A score: truncated to two decimals, ``—`` for no score (nothing applicable).

    With ``threshold``, more decimals (up to six) are shown whenever the two-decimal form
    would read on the other side of the threshold than the score is (see the module rule).
    """
    if value is None:
        return "—"
    units = _units(value)
    if units < 0:
        return "-" + score(-value)
    limit = None if threshold is None else _units(threshold)
    for places in range(2, 7):
        step = 10 ** (6 - places)
        shown = units // step * step
        if limit is None or (shown < limit) == (units < limit):
            return _decimals(units, places)
    return _decimals(units, 6)


def percent(share, places: int = 1) -> str:
    """A share in [0, 1] as a percentage: ``42.5%``."""
    return f"{share * 100:.{places}f}%"


# -- companies -------------------------------------------------------------------------------------
def company_title(company: Optional[dict], fallback: str = "-") -> str:
    """A company as its report names it: ``name (id)``, else whichever it has (raw: escape it for the format)."""
    company = company or {}
    name, ident = company.get("name"), company.get("id")
    if name and ident:
        return f"{name} ({ident})"
    return str(name or ident or fallback)


# -- widths ------------------------------------------------------------------------------------------
def char_width(char: str) -> int:
    """Columns a character takes: 2 for East Asian wide and full-width characters, else 1."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(text: str, units: int) -> str:
    """``text`` cut to about ``units`` half-width characters (CJK count 2), with an ellipsis.

    >>> fit("质量管理能力评估", 8), fit("quality", 8)
    ('质量管…', 'quality')
    """
    total = 0
    for index, char in enumerate(text):
        total += char_width(char)
        if total > units:
            return text[:max(index - 1, 0)].rstrip() + "…"
    return text


# -- user text, escaped for the output it goes into -------------------------------------------------
def for_terminal(value) -> str:
    """Plain text for a terminal or a text file: control, bidi and format characters shown visibly."""
    return textsafe.terminal(value)


def for_rich(value) -> str:
    """Text inside rich markup (tables, console.print): visible, and ``[bold]`` or ``[/bad]`` printed as written."""
    return textsafe.rich_text(value)


def for_markdown(value) -> str:
    """Literal Markdown inline text (one line, safe in a table cell): ``*``, ``<``, ``|``, ``#`` … escaped."""
    return textsafe.md_text(value)


def for_markdown_code(value, in_table: bool = False) -> str:
    """A Markdown code span showing ``value`` exactly (for ids)."""
    return textsafe.md_code(value, in_table)


def for_html(value, one_line: bool = False) -> str:
    """Text for an autoescaping HTML template: control and bidi characters visible (Jinja2 escapes ``<&>``).

    Prose keeps its new lines and tabs (white space in HTML); a ``one_line`` value (a company's
    name, id, region) shows them as ``\\n``, as every other format does.
    """
    return textsafe.visible(value) if one_line else textsafe.html_text(value)

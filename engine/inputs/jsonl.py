"""JSON Lines input (``.jsonl`` / ``.ndjson``): one assessment object a line, read lazily for ``qmgrade batch``."""
from __future__ import annotations

import json
import re
from typing import Iterable, Iterator, List, Optional, Tuple

import orjson

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

_BIG = 2.0 ** 63


def _orjson_keys(data) -> int:
    """How many keys ``data`` (as orjson read it) holds, object by object — or -1 when it holds a float that
    may have been an integer too large for 64 bits (orjson reads those as floats; the standard parser, as
    integers)."""
    keys = 0
    stack = [data]
    while stack:
        value = stack.pop()
        items: Iterable
        if type(value) is dict:
            keys += len(value)
            items = value.values()
        elif type(value) is list:
            items = value
        else:
            continue
        try:   # the common case, checked in C: every item a string (a ratings map of labels), nothing inside
            "".join(items)
            continue
        except TypeError:
            pass
        for item in items:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append(item)
            elif kind is float and not -_BIG < item < _BIG:
                return -1
    return keys


def _read_plain(raw: bytes, number: int):
    """The record read by orjson (issue 13: it parses a record in a quarter of the standard parser's time),
    or None: then the caller reads the line the standard way.

    orjson reads what the standard parser reads, but for three things a record can show: it refuses NaN,
    infinities, lone surrogates and bytes that are not UTF-8 (None: the standard way reports them), it reads
    an integer beyond 64 bits as a float (None when a float that large is in the record), and like the
    standard parser it keeps the last of duplicate keys, which qmgrade refuses.  So the keys are counted in
    the bytes.  Every key is followed by one colon outside any string, so a record with as many colons as
    orjson read keys has no duplicate (a colon inside a string only adds to the count).  When a string holds
    a colon (a time, a web address), the count is of '":' instead, when no white space follows a quote: each
    key then ends in '":', and a '":' that does not end a key (a string starting with a colon, an escaped
    quote) only adds to that count."""
    raw = raw.rstrip(b"\r\n")
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    keys = _orjson_keys(data)
    # the colons counted as the bytes the record loses without them: bytes.replace finds each with memchr where
    # bytes.count tests every byte, and takes a third of its instructions on a 10 KB record
    if keys == len(raw) - len(raw.replace(b":", b"")):
        return data
    # one-byte searches are memchr; the two-byte searches cost as much as the rest
    if keys < 0 or b"\t" in raw or b"\n" in raw or b"\r" in raw or b'" ' in raw or keys != raw.count(b'":'):
        return None
    return data


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
    data = _read_plain(raw, number)
    if data is not None:
        try:
            return assessment_from_data(data, path, model), company_of(data), []
        except (ValueError, QmgradeError, RecursionError):
            pass
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

"""Safe YAML/JSON loading that keeps line numbers and refuses what is dangerous.

Loaded mappings and lists are :class:`LocDict` / :class:`LocList` (:mod:`engine.located`): ordinary
``dict`` / ``list`` that also remember where each key and item came from, so
every later check can say ``path:line:col``.  Duplicate keys, alias bombs,
binary files and oversized files are refused with a clear message.  JSON is read here; YAML by
:mod:`engine.yamlload`, imported on the first YAML read (a company's JSON file is read without PyYAML).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, List, Tuple

from .errors import InputError, Problem, QmgradeError
from .located import LocDict, LocList, position, value_position

__all__ = ["LocDict", "LocList", "load_file", "load_text", "read_text", "position", "value_position", "MAX_BYTES"]

MAX_BYTES = 20 * 1024 * 1024          # refuse inputs larger than this
MAX_ITEMS = 200_000                   # separators (, : - [ { and new lines): an upper bound on the values, so
                                      # a 6 MB YAML list of a million scalars is refused before it is parsed
_SEPARATORS = (",", ":", "-", "[", "{", "\n")


def _decode(raw: bytes, path: str) -> str:
    if len(raw) > MAX_BYTES:
        raise InputError(Problem(path, 1, 1, f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; refused"))
    if b"\x00" in raw[:8192]:
        raise InputError(Problem(path, 1, 1, "not a text file (binary content)"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(Problem(path, line, col, "not UTF-8 text")) from None
    return text


def load_text(text: str, path: str, error=InputError, json_mode: bool = False) -> Any:
    """Parse YAML (or JSON) text; return LocDict/LocList/scalars.

    Raises
    ------
    QmgradeError (the ``error`` subclass given) with every problem found.
    """
    items = sum(text.count(separator) for separator in _SEPARATORS)
    if items > MAX_ITEMS:   # a parsed node costs hundreds of bytes: bound them before parsing
        raise error(Problem(path, 1, 1, f"document has more than {MAX_ITEMS:,} items (about {items:,}); refused"))
    if json_mode:
        return _load_json(text, path, error)
    from .yamlload import load_yaml   # PyYAML is imported on the first YAML read (issue 13: start-up)
    return load_yaml(text, path, error)


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _load_json(text: str, path: str, error) -> Any:
    problems: List[Problem] = []

    repeated = []

    def pairs(items):
        out = LocDict(items)
        if len(out) != len(items):
            repeated.append(True)   # where: found by walking the tokens once parsing is done
        return out

    def number(literal):
        value = float(literal)
        if not math.isfinite(value):  # 1e400 parses as infinity
            line, col = position_of_text(text, literal)
            problems.append(Problem(path, line, col, f"{literal!r} is not a finite number "
                                                     f"(NaN and infinity are not accepted)"))
        return value

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise error(Problem(path, exc.lineno, exc.colno, f"malformed JSON: {exc.msg}")) from None
    except ValueError as exc:
        message = "number too large" if "digits" in str(exc) else str(exc)
        raise error(Problem(path, 1, 1, f"malformed JSON: {message}")) from None
    except RecursionError:
        raise error(Problem(path, 1, 1, "document nested too deeply")) from None
    if repeated:
        problems.extend(_duplicate_keys(text, path))
    if _SURROGATE_ESCAPE.search(text):
        problems.extend(_lone_surrogates(data, text, path))
    if problems:
        raise error(problems)
    _locate_json(data, text)
    return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogates(data: Any, text: str, path: str) -> List[Problem]:
    """JSON may escape half a UTF-16 pair (``"\\ud800"``); such a string cannot be written as UTF-8."""
    problems: List[Problem] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                match = _SURROGATE_ESCAPE.search(text)
                line, col = position_of_text(text, match.group(0)) if match else (1, 1)
                problems.append(Problem(path, line, col,
                                        "invalid Unicode: a lone surrogate escape (\\ud800-\\udfff)"))
                break
    return problems


def position_of_text(text: str, needle: str, start: int = 0) -> Tuple[int, int]:
    """1-based (line, col) of the first ``needle`` at or after ``start`` (1, 1 if absent)."""
    index = text.find(needle, start)
    if index < 0:
        return (1, 1)
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return (line, col)


# JSON tokens: strings, the six structural characters, and the bare literals (numbers, true, false, null)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _json_tokens(text: str):
    """(offset, token, line, col) of every JSON token, lines counted incrementally (one pass)."""
    line, line_start, cursor = 1, 0, 0
    for match in _JSON_TOKEN.finditer(text):
        index = match.start()
        newlines = text.count("\n", cursor, index)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", cursor, index) + 1
        cursor = index
        yield match.group(), line, index - line_start + 1


def _key_text(token: str) -> str:
    return token[1:-1] if "\\" not in token else json.loads(token)


def _duplicate_keys(text: str, path: str) -> List[Problem]:
    """Each repeated key of a JSON object, where it repeats."""
    problems: List[Problem] = []
    stack: list = []   # frames [keys seen (None for a list), expecting a key]
    for token, line, col in _json_tokens(text):
        first = token[0]
        if first in "{[":
            stack.append([set() if first == "{" else None, first == "{"])
        elif first in "}]":
            stack.pop()
        elif first == "," and stack and stack[-1][0] is not None:
            stack[-1][1] = True
        elif first == '"' and stack and stack[-1][1]:
            stack[-1][1] = False
            key = _key_text(token)
            if key in stack[-1][0]:
                problems.append(Problem(path, line, col, f"duplicate key {key!r}", "duplicate-key"))
            stack[-1][0].add(key)
    return problems


def _locate_json(data: Any, text: str) -> None:
    """Give JSON mappings the exact position of each key and each value, walking the text's tokens.

    A position-tracking pass over valid JSON (``json.loads`` has accepted
    it): each token is matched to the value it builds, so a key is found where
    it is written — never at an earlier string that happens to read the same.
    One pass over the text, however many keys.
    """
    stack: list = []   # frames [container, key (mappings) or index (lists), expecting a key]

    def here() -> Any:
        return stack[-1][0][stack[-1][1]] if stack else data

    def mark_value(line: int, col: int) -> None:
        if stack and isinstance(stack[-1][0], LocDict):
            stack[-1][0].value_pos[stack[-1][1]] = (line, col)

    for token, line, col in _json_tokens(text):
        first = token[0]
        if first in "{[":
            child = here()
            mark_value(line, col)
            if isinstance(child, LocDict):
                child.pos = (line, col)
            stack.append([child, None if first == "{" else 0, first == "{"])
        elif first in "}]":
            stack.pop()
            if not stack:
                return
        elif first == ",":
            frame = stack[-1]
            if isinstance(frame[0], dict):
                frame[2] = True
            else:
                frame[1] += 1
        elif first == ":":
            continue
        elif first == '"' and stack and stack[-1][2]:
            frame = stack[-1]
            frame[1], frame[2] = _key_text(token), False
            if isinstance(frame[0], LocDict):
                frame[0].key_pos[frame[1]] = (line, col)
        else:
            mark_value(line, col)


def read_text(path: str, error=InputError) -> str:
    """Read a UTF-8 text file, refusing missing, binary, oversized and non-UTF-8 files."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise error(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise error(Problem(path, 1, 1, "is a directory, not a file")) from None
    except OSError as exc:
        raise error(Problem(path, 1, 1, f"cannot read: {exc.strerror}")) from None
    try:
        return _decode(raw, path)
    except QmgradeError as exc:
        raise error(exc.problems) from None


def load_file(path: str, error=InputError) -> Any:
    """Read and parse a YAML or JSON file (by extension), refusing unsafe input."""
    text = read_text(path, error)
    return load_text(text, path, error, json_mode=path.lower().endswith(".json"))


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

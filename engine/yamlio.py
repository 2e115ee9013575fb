"""Safe YAML/JSON loading that keeps line numbers and refuses what is dangerous.

Loaded mappings and lists are :class:`LocDict` / :class:`LocList`: ordinary
``dict`` / ``list`` that also remember where each key and item came from, so
every later check can say ``path:line:col``.  Duplicate keys, alias bombs,
binary files and oversized files are refused with a clear message.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, List, Tuple

import yaml

from .errors import InputError, Problem, QmgradeError

__all__ = ["LocDict", "LocList", "load_file", "load_text", "read_text", "position", "MAX_BYTES"]

MAX_BYTES = 20 * 1024 * 1024          # refuse inputs larger than this
MAX_NODES = 2_000_000                 # refuse documents that expand beyond this (alias bombs)
MAX_DEPTH = 200
MAX_ITEMS = 200_000                   # separators (, : - [ { and new lines): an upper bound on the values, so
                                      # a 6 MB YAML list of a million scalars is refused before it is parsed
_SEPARATORS = (",", ":", "-", "[", "{", "\n")

try:  # the C parser is much faster; construction stays ours
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader  # type: ignore[assignment,misc]  # the pure-Python loader has the same interface


class LocDict(dict):
    """A dict that remembers the position of itself and of each key."""

    __slots__ = ("pos", "key_pos", "value_pos")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos: Tuple[int, int] = (1, 1)
        self.key_pos: dict = {}
        self.value_pos: dict = {}


class LocList(list):
    """A list that remembers the position of itself and of each item."""

    __slots__ = ("pos", "item_pos")

    def __init__(self, *args):
        super().__init__(*args)
        self.pos: Tuple[int, int] = (1, 1)
        self.item_pos: List[Tuple[int, int]] = []


def _mark(node) -> Tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(_BaseLoader):
    def __init__(self, stream, path):
        super().__init__(stream)
        self.path = path
        self.problems: List[Problem] = []


def _expect(node, kind, what: str) -> None:
    """An explicit tag (``!!map``, ``!!set``, ``!!seq``) on the wrong kind of node is malformed YAML."""
    if not isinstance(node, kind):
        raise yaml.constructor.ConstructorError(None, None, f"expected {what} for the tag {node.tag!r}",
                                                node.start_mark)


def _construct_mapping(loader: _Loader, node, deep=False):
    _expect(node, yaml.MappingNode, "a mapping")
    loader.flatten_mapping(node)
    result = LocDict()
    result.pos = _mark(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict, set)) or not _hashable(key):
            line, col = _mark(key_node)
            loader.problems.append(Problem(loader.path, line, col, "a mapping key must be a scalar"))
            continue
        if key in result:
            line, col = _mark(key_node)
            first = result.key_pos[key]
            loader.problems.append(Problem(
                loader.path, line, col,
                f"duplicate key {key!r} (first defined at line {first[0]})", "duplicate-key"))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_pos[key] = _mark(key_node)
        result.value_pos[key] = _mark(value_node)
    return result


def _construct_sequence(loader: _Loader, node, deep=False):
    _expect(node, yaml.SequenceNode, "a sequence")
    result = LocList()
    result.pos = _mark(node)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_pos.append(_mark(item))
    return result


def _hashable(key) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _scalar_error(node, what: str):
    return yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not {what}", node.start_mark)


def _construct_float(loader: _Loader, node):
    try:
        value = yaml.SafeLoader.construct_yaml_float(loader, node)
    except ValueError:  # an explicit !!float on text
        raise _scalar_error(node, "a number") from None
    if not math.isfinite(value):
        # NaN compares false with everything, so it would slip past every range check
        line, col = _mark(node)
        loader.problems.append(Problem(loader.path, line, col, f"{node.value!r} is not a finite number "
                                                               f"(NaN and infinity are not accepted)"))
    return value


def _construct_int(loader: _Loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    except ValueError as exc:
        if "digits" not in str(exc):  # an explicit !!int on text
            raise _scalar_error(node, "an integer") from None
        # more digits than Python converts (sys.get_int_max_str_digits)
        line, col = _mark(node)
        loader.problems.append(Problem(loader.path, line, col, "number too large"))
        return 0


def _construct_bool(loader: _Loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_bool(loader, node)
    except KeyError:  # an explicit !!bool on text
        raise _scalar_error(node, "a boolean") from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
# A set is a mapping with null values; built as one, its order (and every message) is the file's.
_Loader.add_constructor("tag:yaml.org,2002:set", _construct_mapping)
# Dates stay strings: same bytes out as in, no time zones.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)  # type: ignore[type-var]  # stub types it on SafeConstructor, a base of _Loader


def _check_size(node, path: str) -> None:
    """Refuse alias bombs and absurd nesting before constructing anything."""
    sizes: dict = {}
    stack = [(node, 0, False)]
    while stack:
        current, depth, done = stack.pop()
        key = id(current)
        if depth > MAX_DEPTH:
            line, col = _mark(current)
            raise InputError(Problem(path, line, col, f"nesting deeper than {MAX_DEPTH} levels"))
        if done:
            children = _children(current)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[key] > MAX_NODES:
                line, col = _mark(current)
                raise InputError(Problem(
                    path, line, col,
                    f"document expands to more than {MAX_NODES:,} nodes (YAML alias bomb?)"))
            continue
        if key in sizes:
            continue
        stack.append((current, depth, True))
        for child in _children(current):
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


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
    loader = _Loader(text, path)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, path)
        data = loader.construct_document(node)
    except QmgradeError as exc:
        raise error(exc.problems) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = exc.problem or "malformed YAML"
        if exc.context:
            message = f"{exc.context}; {message}"
        raise error(Problem(path, line, col, f"malformed YAML: {message}")) from None
    except yaml.YAMLError as exc:
        raise error(Problem(path, 1, 1, f"malformed YAML: {exc}")) from None
    except RecursionError:
        raise error(Problem(path, 1, 1, "document nested too deeply")) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:  # a tag PyYAML cannot build
        raise error(Problem(path, 1, 1, f"malformed YAML: cannot construct a value ({exc})")) from None
    finally:
        loader.dispose()
    if loader.problems:
        raise error(sorted(loader.problems))
    return data


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


def position(container: Any, key: Any = None) -> Tuple[int, int]:
    """Best-known position of ``container[key]`` (or of the container itself)."""
    if isinstance(container, LocDict):
        if key is not None and key in container.key_pos:
            return container.key_pos[key]
        return container.pos
    if isinstance(container, LocList):
        if isinstance(key, int) and 0 <= key < len(container.item_pos):
            return container.item_pos[key]
        return container.pos
    return (1, 1)


def value_position(container: Any, key: Any) -> Tuple[int, int]:
    """Position of the value under ``key`` (falls back to the key)."""
    if isinstance(container, LocDict) and key in container.value_pos:
        return container.value_pos[key]
    return position(container, key)


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

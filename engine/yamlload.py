"""The YAML half of :mod:`engine.yamlio`: PyYAML's C parser with our own construction.

Imported on the first YAML read, not at start-up: ``qmgrade assess company.json`` with a cached model reads no
YAML, and importing PyYAML cost a tenth of its start (issue 13).
"""
from __future__ import annotations

import math
from typing import Any, List, Tuple

import yaml

from .errors import InputError, Problem, QmgradeError
from .located import LocDict, LocList

__all__ = ["load_yaml", "MAX_NODES", "MAX_DEPTH"]

MAX_NODES = 2_000_000                 # refuse documents that expand beyond this (alias bombs)
MAX_DEPTH = 200

try:  # the C parser is much faster; construction stays ours
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader  # type: ignore[assignment,misc]  # the pure-Python loader has the same interface


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


def load_yaml(text: str, path: str, error=InputError) -> Any:
    """Parse YAML text into LocDict/LocList/scalars (see :func:`engine.yamlio.load_text`)."""
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

"""Parsed YAML and JSON that remember where each part came from.

:class:`LocDict` and :class:`LocList` are ordinary ``dict`` and ``list`` that also hold the position (line,
column) of themselves and of each key and item, so that every later check can say ``path:line:col``; made by
:mod:`engine.yamlio` (JSON) and :mod:`engine.yamlload` (YAML).
"""
from __future__ import annotations

from typing import Any, List, Tuple

__all__ = ["LocDict", "LocList", "position", "value_position"]


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

"""Input read line by line with a bound on each line's bytes: the JSON Lines and CSV readers share it."""
from __future__ import annotations

from typing import Iterator, List, Optional, Tuple, Union

from ..errors import InputError, Problem
from ..limits import lines_within

__all__ = ["Unreadable", "open_binary", "read_lines"]


class Unreadable:
    """A line that cannot become a record: too long, not UTF-8, or malformed CSV (an error entry, not a stop)."""

    def __init__(self, message: str, col: int = 1, code: str = "malformed", fields: Optional[List[str]] = None):
        self.message, self.col, self.code = message, col, code
        self.fields = fields   # what could be read of the line anyway (its company id, for the error entry)


_BUFFER = 1 << 16   # a survey's JSON line is ~11 KB: with the default 8 KB buffer, reading one took 3 times as long


def open_binary(path: str):
    try:
        return open(path, "rb", buffering=_BUFFER)
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read: {(exc.strerror or '').lower()}")) from None


def read_lines(handle, limit: int) -> Iterator[Tuple[int, Union[bytes, Unreadable], int]]:
    """(line number, bytes or an :class:`Unreadable` for an overlong line, bytes read), never holding
    more than ``limit`` bytes of one line."""
    for number, raw, size in lines_within(handle, limit):
        if raw is None:
            yield number, Unreadable(f"line of {size:,} bytes is longer than the limit of {limit:,} bytes "
                                      f"(raise it with --max-line-bytes)", 1, "too-large"), size
        else:
            yield number, raw, size

"""Size limits on what qmgrade reads, checked before parsing; each can be raised by a ``--max-*`` option.

The defaults keep ``batch`` and ``assess`` under about 200 MB on any input
(zip bombs, 200 MB lines, 200,000 unknown ids): a legitimate assessment is a
few kilobytes, a legitimate survey export a few megabytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator, List, Optional, Tuple

from .errors import InputError, Problem

__all__ = ["Limits", "DEFAULT", "MAX_PROBLEMS", "capped", "bounded_lines", "check_lines"]

MAX_PROBLEMS = 100      # problems listed (with a did-you-mean) before "… and N more"


@dataclass(frozen=True)
class Limits:
    """What one input may hold.

    line_bytes : a JSON Lines or CSV line (``--max-line-bytes``)
    field_chars : a CSV field (``--max-field-size``)
    xlsx_bytes : the uncompressed members of an XLSX archive together (``--max-xlsx-bytes``)
    xlsx_ratio : how many times a member may expand (zip bombs expand thousands of times)
    shared_strings : distinct strings of a workbook (``sharedStrings.xml``)
    rows : rows of a worksheet (``--max-rows``)
    columns : cells in a worksheet row
    """

    line_bytes: int = 2 * 1024 * 1024
    field_chars: int = 131_072
    xlsx_bytes: int = 1024 * 1024 * 1024   # worksheets are streamed; a 10,000-row survey of 263 criteria is ~143 MB
    xlsx_ratio: int = 200
    shared_strings: int = 1_000_000
    rows: int = 1_000_000
    columns: int = 4_096


DEFAULT = Limits()


def capped(problems: List[Problem], limit: int = MAX_PROBLEMS) -> List[Problem]:
    """The first ``limit`` problems, then one line saying how many more there are."""
    if len(problems) <= limit or problems[-1].code == "more":   # short, or capped already
        return problems
    last = problems[limit - 1]
    more = len(problems) - limit
    return problems[:limit] + [Problem(last.path, last.line, last.col, f"… and {more:,} more problems", "more")]


def bounded_lines(handle: BinaryIO, limit: int, path: str,
                  option: str = "--max-line-bytes") -> Iterator[Tuple[int, bytes]]:
    """(line number, bytes) of a file opened in binary, read in pieces of at most ``limit`` + 1 bytes.

    Raises
    ------
    InputError naming the first line longer than ``limit`` bytes (its newline not counted), without
    reading the rest of it.
    """
    for number, raw, _ in lines_within(handle, limit):
        if raw is None:
            raise InputError(Problem(path, number, 1, f"line is longer than the limit of {limit:,} bytes "
                                                      f"(raise it with {option})", "too-large"))
        yield number, raw


def lines_within(handle: BinaryIO, limit: int) -> Iterator[Tuple[int, Optional[bytes], int]]:
    """(line number, bytes — or None for a line longer than ``limit`` bytes —, bytes read) of a binary file.

    Never holds more than ``limit`` + 1 bytes of one line: the rest of an overlong line is skipped in
    pieces, and reading goes on with the next line.
    """
    number = 0
    while True:
        raw = handle.readline(limit + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            size = len(raw)
            while True:   # skip the rest of the line without keeping it
                rest = handle.readline(1 << 20)
                size += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None, size
        else:
            yield number, raw, len(raw)


def check_lines(path: str, limit: int, stop: Optional[int] = None, option: str = "--max-line-bytes") -> None:
    """Refuse a file holding a line longer than ``limit`` bytes (InputError naming the line), reading at
    most about ``stop`` bytes of it in bounded pieces.  A file that cannot be opened is left to its reader,
    which says why."""
    try:
        handle = open(path, "rb")
    except OSError:
        return
    read = 0
    with handle:
        for _, raw in bounded_lines(handle, limit, path, option):
            read += len(raw)
            if stop is not None and read > stop:
                return

"""The XLSX questionnaire (``qmgrade template``) read back as an assessment, with its size checked first."""
from __future__ import annotations

import datetime as _dt
import re
import zipfile
from typing import Any, Dict, List, Optional

from ..assessment import Assessment, apply_model_rules
from ..errors import InputError, Problem, suggestion
from .coerce import fact_value, parse_rating, scalar_text
from .layout import COMPANY_HEADER, COMPANY_KEYS, cell_ref, questionnaire_columns

__all__ = ["read_questionnaire", "open_workbook", "check_archive", "check_sheet_size"]


_SHARED_STRINGS = "xl/sharedStrings.xml"
_SHARED_STRINGS_BYTES = 16 * 1024 * 1024   # openpyxl keeps every shared string in memory


def check_archive(path: str, limits=None) -> None:
    """Refuse a workbook whose archive would expand beyond ``limits`` — before openpyxl reads any of it.

    The sizes are the central directory's; Python's zip reader never inflates
    a member beyond its declared size, so a member that lies fails its CRC.

    Raises
    ------
    InputError naming the member and the limit (and the option that raises it).
    """
    from ..limits import DEFAULT
    limits = limits or DEFAULT
    try:
        with zipfile.ZipFile(path) as archive:
            total = 0
            for info in archive.infolist():
                total += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > (1 << 20) and ratio > limits.xlsx_ratio:
                    raise InputError(Problem(path, 1, 1, f"{info.filename[:40]} expands {ratio:,.0f} times "
                                                         f"(more than {limits.xlsx_ratio}): a zip bomb?", "too-large"))
                if total > limits.xlsx_bytes:
                    raise InputError(Problem(path, 1, 1, f"the workbook expands to more than {limits.xlsx_bytes:,} "
                                                         f"bytes (raise the limit with --max-xlsx-bytes)",
                                             "too-large"))
            for info in archive.infolist():
                if info.filename == _SHARED_STRINGS or info.filename.startswith("xl/worksheets/"):
                    _check_text_runs(path, archive, info, limits)
            if _SHARED_STRINGS in archive.namelist():
                info = archive.getinfo(_SHARED_STRINGS)
                if info.file_size > max(_SHARED_STRINGS_BYTES, limits.xlsx_bytes // 64):
                    raise InputError(Problem(path, 1, 1, f"{_SHARED_STRINGS} holds {info.file_size:,} bytes of "
                                                         f"text: too many shared strings", "too-large"))
                with archive.open(info) as member:
                    head = member.read(2048).decode("utf-8", "replace")
                found = re.search(r'\b(?:uniqueCount|count)="(\d{1,15})"', head)
                if found and int(found.group(1)) > limits.shared_strings:
                    raise InputError(Problem(path, 1, 1, f"more than {limits.shared_strings:,} shared strings "
                                                         f"({int(found.group(1)):,})", "too-large"))
    except FileNotFoundError:
        raise InputError(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(path, 1, 1, "is a directory, not a file")) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, OSError) as exc:
        raise InputError(Problem(path, 1, 1, f"not an XLSX workbook ({type(exc).__name__}: "
                                             f"{str(exc)[:40]})")) from None


def _check_text_runs(path: str, archive, info, limits) -> None:
    """Refuse a cell text longer than ``limits.field_chars`` characters, streaming the member once.

    openpyxl holds a cell's whole text (and copies of it) in memory: a 60 MB
    cell took 470 MB.  Text between two tags is at most 4 bytes a character.
    """
    longest = limits.field_chars * 4
    run = 0
    with archive.open(info) as member:
        while True:
            chunk = member.read(1 << 20)
            if not chunk:
                return
            last = chunk.rfind(b"<")
            if last < 0:
                run += len(chunk)
            else:
                first = chunk.find(b"<")
                inner = max(map(len, chunk[first + 1:last].split(b"<")), default=0)
                if max(run + first, inner) > longest:
                    run = longest + 1
                else:
                    run = len(chunk) - last - 1
            if run > longest:
                raise InputError(Problem(path, 1, 1, f"{info.filename[:40]}: a cell holds more than "
                                                     f"{limits.field_chars:,} characters (raise the limit with "
                                                     f"--max-field-size)", "too-large"))


def check_sheet_size(path: str, sheet, limits=None) -> None:
    """Refuse a worksheet whose declared size (its ``dimension``) is beyond ``limits``.

    Raises
    ------
    InputError naming the sheet and the limit.
    """
    from ..limits import DEFAULT
    limits = limits or DEFAULT
    rows, columns = getattr(sheet, "max_row", None), getattr(sheet, "max_column", None)
    if rows and rows > limits.rows:
        raise InputError(Problem(path, 1, 1, f"{sheet.title}: {rows:,} rows, more than {limits.rows:,} "
                                             f"(raise the limit with --max-rows)", "too-large"))
    if columns and columns > limits.columns:
        raise InputError(Problem(path, 1, 1, f"{sheet.title}: {columns:,} columns, more than {limits.columns:,}",
                                 "too-large"))


def open_workbook(path: str, limits=None, checked: bool = False):
    """Open an XLSX workbook read-only (values, not formulas), after checking its size (:func:`check_archive`).

    Raises
    ------
    InputError when the file is missing, not an XLSX workbook, or too large.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not checked:   # checked: the caller has just checked the archive
        check_archive(path, limits)
    try:
        return load_workbook(path, read_only=True, data_only=True)

    except FileNotFoundError:
        raise InputError(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(path, 1, 1, "is a directory, not a file")) from None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise InputError(Problem(path, 1, 1, f"not an XLSX workbook ({type(exc).__name__}: {exc})")) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date_text(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _company_value(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return _date_text(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return scalar_text(value.strip() if isinstance(value, str) else value)


def read_questionnaire(path: str, model, limits=None) -> Assessment:
    """A filled questionnaire workbook as an :class:`Assessment` (every problem at once).

    Raises
    ------
    InputError naming ``path:ROW:COL: SHEET!CELL: ...`` for an unknown
    criterion, an unknown rating, a duplicate row, an unknown company key or
    a fact of the wrong type; or when the workbook has no questionnaire header.
    """
    book = open_workbook(path, limits)
    problems: List[Problem] = []
    try:
        sheet = book.worksheets[0]
        title = first_title = sheet.title
        check_sheet_size(path, sheet, limits)
        company_rows: Dict[str, int] = {}

        def problem(row, col, message, code=""):
            problems.append(Problem(path, row, col, f"{title}!{cell_ref(row, col)}: {message}", code))

        header_row, columns = None, {}
        rows = sheet.iter_rows(values_only=True)
        number = 0
        for number, row in enumerate(rows, 1):
            found = questionnaire_columns(row)   # English or Chinese names, any order (older layouts too)
            if "criterion" in found:
                header_row, columns = number, found
                break
            if number >= 10:
                break
        if header_row is None or "rating" not in columns:
            missing = "criterion" if header_row is None else "rating"
            raise InputError(Problem(path, 1, 1, f"{title}!A1: no questionnaire header: the first sheet needs a "
                                                 f"header row with 'criterion', 'rating' and 'evidence' "
                                                 f"(missing {missing!r}; write one with qmgrade template)", "header"))
        c_col, r_col, e_col = columns["criterion"], columns["rating"], columns.get("evidence")
        ratings: Dict[str, Optional[float]] = {}
        evidence: Dict[str, List[str]] = {}
        seen: Dict[str, int] = {}
        for number, row in enumerate(rows, header_row + 1):
            cid_value = row[c_col] if c_col < len(row) else None
            if _blank(cid_value):
                continue
            cid = str(cid_value).strip()
            if cid not in model.criteria:
                suffix = suggestion(cid, model.criteria)
                problem(number, c_col + 1, f"unknown criterion {cid!r}{suffix}", "unknown-id")
                continue
            if cid in seen:
                problem(number, c_col + 1, f"criterion {cid!r} appears twice (first in row {seen[cid]})",
                        "duplicate-key")
                continue
            seen[cid] = number
            value = row[r_col] if r_col < len(row) else None
            if not _blank(value):
                try:
                    ratings[cid] = parse_rating(value)
                except ValueError as exc:
                    problem(number, r_col + 1, f"{cid}: {exc}", "bad-rating")
            refs = row[e_col] if e_col is not None and e_col < len(row) else None
            if not _blank(refs):
                lines = [line.strip() for line in str(refs).splitlines() if line.strip()]
                if lines:
                    evidence[cid] = lines

        company: Dict[str, Any] = {}
        assessed_on = None
        facts: Dict[str, Any] = {}
        if "company" in book.sheetnames:
            sheet = book["company"]
            title = sheet.title
            declared = {fact.id: fact for fact in model.facts}
            known = list(COMPANY_KEYS) + list(declared)
            first_row: Dict[str, int] = {}
            check_sheet_size(path, sheet, limits)
            for number, row in enumerate(sheet.iter_rows(values_only=True), 1):
                key = row[0] if row else None
                if _blank(key):
                    continue
                key = str(key).strip()
                if number == 1 and key.lower() in ("key", COMPANY_HEADER["zh"][0]):
                    continue
                value = row[1] if len(row) > 1 else None
                if key in first_row:   # the last row must not silently win (a 是 corrected to 否 below it)
                    problem(number, 1, f"key {key!r} appears twice (first in row {first_row[key]})", "duplicate-key")
                    continue
                first_row[key] = number
                if key in COMPANY_KEYS:
                    if _blank(value):
                        continue
                    company_rows[key] = number
                    if key == "assessed_on":
                        assessed_on = _date_text(value)
                    else:
                        company[key] = _company_value(value)
                elif key in declared:
                    if _blank(value):
                        continue
                    try:
                        facts[key] = fact_value(declared[key].type, value)
                    except ValueError as exc:
                        problem(number, 2, f"fact {key!r}: {exc}", "fact-type")
                else:
                    suffix = suggestion(key, known)
                    problem(number, 1, f"unknown key {key!r}{suffix}", "unknown-id")
    finally:
        book.close()
    row_of = company_rows.get("profile", 1)
    try:
        if problems:
            raise InputError(problems)
        return apply_model_rules(
            Assessment(company, assessed_on, ratings, evidence, facts, path), model,
            lambda cid: (seen.get(cid, 1), r_col + 1, f"{first_title}!{cell_ref(seen.get(cid, 1), r_col + 1)}: "),
            lambda: (row_of, 2, f"company!{cell_ref(row_of, 2)}: "))
    except InputError as error:   # batch's error entry keeps the company it could read (issue 10)
        error.company = {k: company[k] for k in ("id", "name", "industry", "region") if k in company} or None
        raise

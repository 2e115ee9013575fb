"""The records of ``qmgrade batch``, read lazily: JSON Lines, wide CSV/XLSX tables (one row per company),
single assessment files and folders of any of these (issue 10: moved out of :mod:`engine.batch`, which keeps
only the worker pool and the output stream).

:func:`open_source` tells the input apart and returns a :class:`Source` whose records the pool grades with
:func:`jsonl_assessment`, :func:`wide_assessment` or :func:`file_assessment` — in a worker process.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple, Union

from ..assessment import Assessment, apply_model_rules, assessment_from_data
from ..errors import InputError, Problem, QmgradeError, suggestion
from ..limits import DEFAULT, MAX_PROBLEMS, Limits, capped, lines_within
from ..yamlio import load_file, load_text
from .coerce import fact_value as _fact_value, parse_rating, scalar_text as _scalar_text
from .kind import input_kind
from .reader import read_assessment

__all__ = ["Source", "open_source", "COMPANY_COLUMNS", "FILE_SUFFIXES", "FOLDER_SUFFIXES", "CsvDialect",
           "sniff_encoding", "sniff_delimiter", "jsonl_assessment", "wide_assessment", "file_assessment"]

COMPANY_COLUMNS = ("company_id", "company_name", "industry", "region", "assessed_on")
_COMPANY_KEYS = {"company_id": "id", "company_name": "name", "industry": "industry", "region": "region"}
FILE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")
# what a folder holds that batch reads: assessments, questionnaires, JSON Lines and wide tables (issue 10)
FOLDER_SUFFIXES = FILE_SUFFIXES + (".jsonl", ".ndjson", ".csv", ".tsv")
SNIFF_BYTES = 1 << 20   # a CSV's encoding is judged from its first MiB
DELIMITERS = (",", ";", "\t")


# -- sources ------------------------------------------------------------------------------
class Source:
    """A stream of records from one input; ``kind`` is files, jsonl or wide."""

    def __init__(self, path: str, kind: str, total: int, records: Callable[[], Iterator[tuple]],
                 context=None, inputs: Sequence[str] = ()):
        self.path = path
        self.kind = kind
        self.total = total              # progress units (bytes or files)
        self._records = records
        self.context = context          # what every record of this source needs (the wide header)
        self.inputs = list(inputs) or [path]
        self.skipped: List[Tuple[str, str]] = []   # (file, why) a folder holds but batch does not read

    def records(self) -> Iterator[tuple]:
        """(item, progress units) pairs, lazily."""
        return self._records()


def open_source(path: str, model, limits: Limits = DEFAULT, encoding: Optional[str] = None) -> Source:
    """Recognise the input and check its header; records are read later, lazily.

    ``encoding`` forces the text encoding of CSV input (default: UTF-8, with
    or without a BOM, else GB18030 — what Excel and WPS save in China).

    Raises
    ------
    InputError when the input does not exist, is of no known kind, is empty,
    or (wide layout) has a header with unknown or duplicate columns.  A folder
    is read file by file: a bad file becomes an error entry, and the files it
    does not read are listed in ``source.skipped``.
    """
    target = Path(path)
    if not target.exists():
        raise InputError(Problem(path, 1, 1, "no such file or directory"))
    if target.is_dir():
        return _folder_source(path, target, model, limits, encoding)
    suffix = target.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return Source(path, "jsonl", target.stat().st_size, lambda: _jsonl_records(path, limits))
    if suffix in (".csv", ".tsv"):
        dialect, header = _csv_header(path, limits, encoding)
        plan = _header_plan(path, header, model, lambda col: (1, col, ""))
        return Source(path, "wide", target.stat().st_size, lambda: _csv_records(path, limits, dialect),
                      context=plan)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_source(path, model, limits)
    if suffix in (".yaml", ".yml", ".json"):
        return Source(path, "files", 1, lambda: iter([(path, 1)]))
    raise InputError(Problem(path, 1, 1, f"unknown input {target.name!r}: expected a folder, JSON Lines "
                                         f"(.jsonl), CSV, XLSX, YAML or JSON"))


def _folder_source(path: str, target: Path, model, limits: Limits, encoding: Optional[str]) -> Source:
    """Every file of the folder batch can read, in file-name order; the others listed as skipped."""
    try:
        entries = sorted(target.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read: {(exc.strerror or '').lower()}")) from None
    names, skipped = [], []
    for entry in entries:
        why = _skip_reason(entry)
        if why:
            skipped.append((str(entry), why))
        else:
            names.append(str(entry))
    if not names:
        others = f"; skipped {len(skipped)} other file(s)" if skipped else ""
        raise InputError(Problem(path, 1, 1, f"no assessments here (expected *.yaml, *.yml, *.json, *.xlsx, "
                                             f"*.jsonl or *.csv files{others})"))
    source = Source(path, "mixed", len(names), lambda: _folder_records(names, model, limits, encoding),
                    inputs=names)
    source.skipped = skipped
    return source


def _skip_reason(entry: Path) -> Optional[str]:
    """Why batch does not read this folder entry (None: it does)."""
    if entry.is_dir():
        return "a folder (batch reads the files of one folder, not its subfolders)"
    if entry.name.startswith("~$"):
        return "a lock file of an open Excel or WPS workbook"
    if entry.name.startswith("."):
        return "a hidden file"
    if not entry.is_file():
        return "not a regular file"
    if entry.suffix.lower() in FOLDER_SUFFIXES:
        return None
    try:
        input_kind(str(entry))
    except InputError as error:   # named: a Word document, a PDF, an image ...
        message = error.problems[0].message
        return message.split(", not an assessment")[0].replace("this is ", "", 1)
    return f"not an input batch reads ({entry.suffix or 'no extension'}: expected .yaml, .yml, .json, .xlsx, " \
           f".jsonl or .csv)"


def _folder_records(names: List[str], model, limits: Limits, encoding: Optional[str]) -> Iterator[tuple]:
    """(("files"|"jsonl"|"wide"|"failed", context, item), progress) for every record of every file.

    A file that cannot be read as a whole (a wide table with a bad header, a
    workbook too large) is one ``failed`` record, and the batch goes on.
    """
    for name in names:
        units = 1
        try:
            for kind, context, records in _file_records(name, model, limits, encoding):
                for item, _ in records:
                    yield (kind, context, item), units
                    units = 0
        except InputError as error:
            yield ("failed", name, error.problems), units
            units = 0
        if units:   # a file without records still counts as done
            yield None, units


def _file_records(name: str, model, limits: Limits, encoding: Optional[str]):
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield "jsonl", name, _jsonl_records(name, limits)
    elif suffix in (".csv", ".tsv"):
        dialect, header = _csv_header(name, limits, encoding)
        plan = _header_plan(name, header, model, lambda col: (1, col, ""))
        yield "wide", plan, _csv_records(name, limits, dialect)
    elif suffix in (".xlsx", ".xlsm") and input_kind(name) == "xlsx":
        source = _xlsx_source(name, model, limits)
        yield source.kind, source.context, source.records()
    else:   # YAML, JSON (and a file named .xlsx that is not a workbook: its record says what it is)
        yield "files", None, iter([(name, 1)])


class _Unreadable:
    """A line that cannot become a record: too long, not UTF-8, or malformed CSV (an error entry, not a stop)."""

    def __init__(self, message: str, col: int = 1, code: str = "malformed", fields: Optional[List[str]] = None):
        self.message, self.col, self.code = message, col, code
        self.fields = fields   # what could be read of the line anyway (its company id, for the error entry)


def _open_binary(path: str):
    try:
        return open(path, "rb")
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read: {(exc.strerror or '').lower()}")) from None


def _lines(handle, limit: int) -> Iterator[Tuple[int, Union[bytes, _Unreadable], int]]:
    """(line number, bytes or an :class:`_Unreadable` for an overlong line, bytes read), never holding
    more than ``limit`` bytes of one line."""
    for number, raw, size in lines_within(handle, limit):
        if raw is None:
            yield number, _Unreadable(f"line of {size:,} bytes is longer than the limit of {limit:,} bytes "
                                      f"(raise it with --max-line-bytes)", 1, "too-large"), size
        else:
            yield number, raw, size


def _jsonl_records(path: str, limits: Limits = DEFAULT) -> Iterator[tuple]:
    with _open_binary(path) as handle:
        for number, raw, size in _lines(handle, limits.line_bytes):
            if isinstance(raw, _Unreadable) or raw.strip():
                yield ((number, raw), size)


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV file is written: its text encoding and its field delimiter."""

    encoding: str = "utf-8"
    delimiter: str = ","
    forced: bool = False   # --encoding named the encoding


_UTF8_CHAR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def sniff_encoding(sample: bytes) -> str:
    """``"utf-8"`` or ``"gb18030"`` for the first bytes of a CSV file.

    UTF-8 (with or without a BOM) when the sample is UTF-8, or mostly is (a
    UTF-8 file with a stray byte stays UTF-8, so that line is named as an
    error); GB18030 — the superset of GBK and GB2312 that Excel and WPS write
    on Chinese Windows — when the sample reads as GB18030 and not as UTF-8.
    """
    import codecs
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = sample.decode("utf-8", "replace")
    if len(_UTF8_CHAR.findall(sample)) > text.count("\ufffd"):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "utf-8"
    return "gb18030"


def sniff_delimiter(header: str) -> str:
    """The delimiter of a header line: comma, semicolon or tab, whichever splits it most (comma on a tie)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _csv_fields(number: int, raw: Union[bytes, _Unreadable], limits: Limits, dialect: CsvDialect = CsvDialect()):
    """One physical CSV line as its fields, or an :class:`_Unreadable` saying what is wrong with it.

    A record of the wide layout is one line: a quoted field that runs past the
    end of its line is an unbalanced quote, not a licence to swallow the rows after it.
    """
    if isinstance(raw, _Unreadable):
        return raw
    try:
        text = raw.decode(dialect.encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if dialect.encoding == "utf-8" else dialect.encoding.upper()
        advice = "save the CSV as UTF-8" if dialect.encoding == "utf-8" and not dialect.forced else \
            "is --encoding right?" if dialect.forced else "save the CSV as UTF-8, or give its encoding with --encoding"
        return _Unreadable(f"not {name} text (byte {exc.start + 1} of the line; {advice})", exc.start + 1, "encoding",
                           _fields_anyway(raw, dialect))
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    text = text.rstrip("\r\n")
    if "\r" in text:
        return _Unreadable("a carriage return inside the line (lines ending in CR only? save the CSV with "
                           "ordinary line ends)", text.index("\r") + 1)
    previous = csv.field_size_limit(limits.field_chars)
    try:
        return next(csv.reader([text], strict=True, delimiter=dialect.delimiter), [])
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            return _Unreadable(f"a field is longer than {limits.field_chars:,} characters "
                               f"(raise the limit with --max-field-size)", 1, "too-large")
        if "unexpected end of data" in message:
            return _Unreadable(f"unbalanced quote: a quoted field does not end on line {number}")
        return _Unreadable(f"malformed CSV: {message}")
    finally:
        csv.field_size_limit(previous)


def _fields_anyway(raw: bytes, dialect: CsvDialect) -> Optional[List[str]]:
    """The fields of an undecodable line, its bad bytes replaced (U+FFFD): enough to name its company."""
    try:
        return next(csv.reader([raw.decode(dialect.encoding, "replace").rstrip("\r\n")],
                               delimiter=dialect.delimiter), [])
    except csv.Error:
        return None


def _readable_company(plan: dict, fields) -> Optional[dict]:
    """The company columns of a row that is otherwise in error, those read cleanly (issue 10)."""
    company = {}
    for index, kind, name in plan["columns"]:
        if kind == "company" and name in _COMPANY_KEYS and fields is not None and index < len(fields):
            value = fields[index]
            if value is not None and str(value).strip() and "\ufffd" not in str(value):
                company[_COMPANY_KEYS[name]] = _wide_text(value)
    return {key: company[key] for key in ("id", "name", "industry", "region") if key in company} or None


def _csv_dialect(path: str, encoding: Optional[str] = None) -> CsvDialect:
    """The encoding (``encoding``, else sniffed from the first MiB) and the delimiter (from the header)."""
    with _open_binary(path) as handle:
        sample = handle.read(SNIFF_BYTES)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) and encoding is None:
        raise InputError(Problem(path, 1, 1, "this CSV is UTF-16 text (Excel's \"Unicode text\"): save it as "
                                             "\"CSV UTF-8\" (or give --encoding utf-16)", "encoding"))
    chosen = encoding or ("utf-8" if sample.startswith(b"\xef\xbb\xbf") else sniff_encoding(sample))
    first = sample.split(b"\n", 1)[0]
    header = first.decode(chosen, "replace")
    delimiter = "\t" if path.lower().endswith(".tsv") else sniff_delimiter(header)
    return CsvDialect(chosen, delimiter, encoding is not None)


def _csv_header(path: str, limits: Limits = DEFAULT, encoding: Optional[str] = None) -> Tuple[CsvDialect, List[str]]:
    dialect = _csv_dialect(path, encoding)
    with _open_binary(path) as handle:
        for number, raw, _ in _lines(handle, limits.line_bytes):
            fields = _csv_fields(number, raw, limits, dialect)
            if isinstance(fields, _Unreadable):
                raise InputError(Problem(path, number, fields.col, f"header: {fields.message}", fields.code))
            return dialect, fields
    raise InputError(Problem(path, 1, 1, "empty CSV: expected a header row with company_id and criterion ids"))


def _csv_records(path: str, limits: Limits = DEFAULT, dialect: CsvDialect = CsvDialect()) -> Iterator[tuple]:
    with _open_binary(path) as handle:
        lines = _lines(handle, limits.line_bytes)
        next(lines, None)   # the header
        for number, raw, size in lines:
            fields = _csv_fields(number, raw, limits, dialect)
            if isinstance(fields, _Unreadable) or any(cell.strip() for cell in fields):
                yield ((number, fields), size)


def _xlsx_source(path: str, model, limits: Limits = DEFAULT) -> Source:
    from .questionnaire import check_sheet_size, open_workbook  # openpyxl only when needed
    workbook = open_workbook(path, limits)
    try:
        sheet = workbook.worksheets[0]
        check_sheet_size(path, sheet, limits)
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        header = ["" if cell is None else str(cell) for cell in first]
        total = sheet.max_row or 1
        title = sheet.title
    finally:
        workbook.close()
    lowered = {h.strip().lower() for h in header}
    from .layout import questionnaire_columns   # a questionnaire's header may be Chinese (--lang zh)
    if "criterion" in questionnaire_columns(header) and "company_id" not in lowered:
        return Source(path, "files", 1, lambda: iter([(path, 1)]))
    plan = _header_plan(path, header, model, lambda col: (1, col, f"{title}!{_cell(1, col)}: "))
    plan["sheet"] = title
    return Source(path, "wide", total, lambda: _xlsx_records(path, limits), context=plan)


def _xlsx_records(path: str, limits: Limits = DEFAULT) -> Iterator[tuple]:
    from .questionnaire import open_workbook, check_sheet_size
    workbook = open_workbook(path, limits)
    try:
        sheet = workbook.worksheets[0]
        check_sheet_size(path, sheet, limits)
        rows = sheet.iter_rows(min_row=2, values_only=True)
        for number, row in enumerate(rows, 2):
            if number > limits.rows:
                raise InputError(Problem(path, number, 1, f"{sheet.title}: more than {limits.rows:,} rows "
                                                          f"(raise the limit with --max-rows)", "too-large"))
            if any(cell is not None and str(cell).strip() for cell in row):
                yield ((number, list(row)), 1)
    finally:
        workbook.close()


def _cell(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


def _header_plan(path: str, header: List[str], model, where) -> dict:
    """Map each column of a wide header to what it holds; every problem of the header at once."""
    problems: List[Problem] = []
    columns = []
    seen: dict = {}
    facts = {fact.id: fact for fact in model.facts}
    known = list(COMPANY_COLUMNS) + list(model.criteria) + list(facts)
    for index, raw in enumerate(header):
        col = index + 1
        name = str(raw).strip()
        line, col_at, prefix = where(col)
        if not name:
            if index == len(header) - 1:   # a trailing separator
                continue
            problems.append(Problem(path, line, col_at, f"{prefix}column {col} has no name", "header"))
            continue
        lowered = name.lower()
        if lowered in COMPANY_COLUMNS:
            kind, name = "company", lowered
        elif name in model.criteria:
            kind = "criterion"
        elif name in facts:
            kind = "fact"
        else:
            suffix = suggestion(name, known) if len(problems) < MAX_PROBLEMS else ""   # difflib is slow
            problems.append(Problem(path, line, col_at, f"{prefix}unknown column {name!r}{suffix}", "unknown-id"))
            continue
        if name in seen:
            problems.append(Problem(path, line, col_at,
                                    f"{prefix}duplicate column {name!r} (first in column {seen[name]})", "header"))
            continue
        seen[name] = col
        columns.append((index, kind, name))
    if "company_id" not in seen:
        problems.append(Problem(path, 1, 1, "missing column 'company_id' (the wide layout needs company_id, "
                                            "company_name, then one column per criterion id)", "header"))
    if problems:
        raise InputError(capped(problems))
    return {"path": path, "columns": columns, "width": len(header)}


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


def _shift(error: QmgradeError, line: int) -> List[Problem]:
    return [Problem(p.path, p.line + line - 1, p.col, p.message, p.code) for p in error.problems]


def _company_of(data) -> Optional[dict]:
    company = data.get("company") if isinstance(data, dict) else None
    if isinstance(company, dict):
        return {str(k): _scalar_text(v) for k, v in company.items()}
    return None


def jsonl_assessment(path: str, item, model) -> Tuple[Optional[Assessment], Optional[dict], List[Problem]]:
    number, raw = item
    if isinstance(raw, _Unreadable):
        return None, None, [Problem(path, number, raw.col, raw.message, raw.code)]
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
            return assessment_from_data(data, path, model), _company_of(data), []
        except (ValueError, QmgradeError, RecursionError):
            pass
    located = None
    try:
        located = load_text(text, path, InputError, json_mode=True)
        assessment = assessment_from_data(located, path, model)
    except QmgradeError as error:   # the company, when the line could be read (issue 10)
        return None, _company_of(located if located is not None else data), _shift(error, number)
    return assessment, _company_of(located), []  # pragma: no cover - the fast path agrees


def file_assessment(path: str, model) -> Tuple[Optional[Assessment], Optional[dict], List[Problem]]:
    try:
        kind = input_kind(path)   # a Word document or a PDF in the folder is named, not parsed
    except QmgradeError as error:
        return None, None, error.problems
    if kind == "xlsx":
        try:
            return read_assessment(path, model), None, []
        except QmgradeError as error:   # the company sheet's id and name, when they could be read
            return None, getattr(error, "company", None), error.problems
    data = None
    try:
        data = load_file(path, InputError)
        return assessment_from_data(data, path, model), _company_of(data), []
    except QmgradeError as error:
        return None, _company_of(data), error.problems


def _wide_text(value):
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return _scalar_text(value.strip() if isinstance(value, str) else value)


def wide_assessment(plan: dict, item, model) -> Tuple[Optional[Assessment], Optional[dict], List[Problem]]:
    path = plan["path"]
    number, row = item
    sheet = plan.get("sheet")

    def where(index: int):
        prefix = f"{sheet}!{_cell(number, index + 1)}: " if sheet else ""
        return number, index + 1, prefix

    if isinstance(row, _Unreadable):
        return None, _readable_company(plan, row.fields), [Problem(path, number, row.col, row.message, row.code)]
    problems: List[Problem] = []
    needed = max((index for index, _, _ in plan["columns"]), default=0) + 1
    if sheet is None and len(row) < needed:   # a spreadsheet leaves trailing blank cells out; a CSV row must not
        problems.append(Problem(path, number, len(row) + 1, f"the row has {len(row)} fields but the header "
                                                            f"{needed} (a short or truncated row)", "header"))
        return None, _readable_company(plan, row), problems
    if len(row) > plan["width"] and any(str(c).strip() for c in row[plan["width"]:] if c is not None):
        line, col, prefix = where(plan["width"])
        problems.append(Problem(path, line, col, f"{prefix}the row has {len(row)} fields but the header only "
                                                 f"{plan['width']}", "header"))
    company: dict = {}
    assessed_on = None
    ratings = {}
    facts = {}
    declared = {fact.id: fact for fact in model.facts}
    for index, kind, name in plan["columns"]:
        value = row[index] if index < len(row) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if kind == "company":
            if name == "assessed_on":
                assessed_on = str(_wide_text(value))
            else:
                company[_COMPANY_KEYS[name]] = _wide_text(value)
        elif kind == "criterion":
            try:
                ratings[name] = parse_rating(value)
            except ValueError as exc:
                line, col, prefix = where(index)
                problems.append(Problem(path, line, col, f"{prefix}{name}: {exc}", "bad-rating"))
        else:
            try:
                facts[name] = _fact_value(declared[name].type, value)
            except ValueError as exc:
                line, col, prefix = where(index)
                problems.append(Problem(path, line, col, f"{prefix}fact {name!r}: {exc}", "fact-type"))
    if "id" not in company:
        index = next(i for i, kind, name in plan["columns"] if name == "company_id")
        line, col, prefix = where(index)
        problems.append(Problem(path, line, col, f"{prefix}company_id is empty", "missing"))
    ordered = {key: company[key] for key in ("id", "name", "industry", "region") if key in company}
    if problems:
        return None, ordered or None, problems
    column = {name: index for index, kind, name in plan["columns"] if kind == "criterion"}
    try:   # na only where the model allows it (issue 9)
        return apply_model_rules(Assessment(ordered, assessed_on, ratings, {}, facts, path), model,
                                 lambda ident: where(column[ident])), ordered, []
    except InputError as exc:
        return None, ordered, exc.problems

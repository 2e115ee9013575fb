"""What ``qmgrade batch`` reads, told apart: a JSON Lines file, a wide CSV/XLSX table, a single assessment
file or questionnaire, or a folder of any of these (every file it does not read listed in ``Source.skipped``).

:func:`open_source` returns a :class:`Source` whose records the worker pool (:mod:`engine.batch`) grades."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from ..assessment import Assessment, assessment_from_data
from ..errors import InputError, Problem, QmgradeError
from ..limits import DEFAULT, Limits
from ..yamlio import load_file
from .kind import file_kind, input_kind
from .reader import read_assessment
from .jsonl import company_of, jsonl_records
from .layout import cell_ref
from .wide import csv_header, csv_records, header_plan, xlsx_rows

__all__ = ["FILE_SUFFIXES", "FOLDER_SUFFIXES", "Source", "open_source", "file_assessment"]


FILE_SUFFIXES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")


# what a folder holds that batch reads: assessments, questionnaires, JSON Lines and wide tables (issue 10)
FOLDER_SUFFIXES = FILE_SUFFIXES + (".jsonl", ".ndjson", ".csv", ".tsv")


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
        return Source(path, "jsonl", target.stat().st_size, lambda: jsonl_records(path, limits))
    if suffix in (".csv", ".tsv"):
        dialect, header = csv_header(path, limits, encoding)
        plan = header_plan(path, header, model, lambda col: (1, col, ""))
        return Source(path, "wide", target.stat().st_size, lambda: csv_records(path, limits, dialect),
                      context=plan)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_source(path, model, limits)
    if suffix in (".yaml", ".yml", ".json"):
        return Source(path, "files", 1, lambda: iter([(path, 1)]))
    what = file_kind(path) if target.is_file() else None
    if what is not None:   # a PDF or a Word document is named, as assess names it
        raise InputError(Problem(path, 1, 1, f"this is {what}, not a batch input: qmgrade batch reads a folder, "
                                             f"JSON Lines (.jsonl), CSV, XLSX, YAML or JSON", "file-type"))
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
        yield "jsonl", name, jsonl_records(name, limits)
    elif suffix in (".csv", ".tsv"):
        dialect, header = csv_header(name, limits, encoding)
        plan = header_plan(name, header, model, lambda col: (1, col, ""))
        yield "wide", plan, csv_records(name, limits, dialect)
    elif suffix in (".xlsx", ".xlsm") and input_kind(name) == "xlsx":
        source = _xlsx_source(name, model, limits)
        yield source.kind, source.context, source.records()
    else:   # YAML, JSON (and a file named .xlsx that is not a workbook: its record says what it is)
        yield "files", None, iter([(name, 1)])


def _xlsx_source(path: str, model, limits: Limits = DEFAULT) -> Source:
    from .questionnaire import check_sheet_size  # openpyxl only when needed
    from .wide import open_first_sheet
    workbook, sheet = open_first_sheet(path, limits)
    try:
        check_sheet_size(path, sheet, limits)
        first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        header = ["" if cell is None else str(cell) for cell in first]
        total = sheet.max_row or 1
        title = sheet.title
        member = getattr(sheet, "_worksheet_path", None)   # openpyxl's name of the sheet's part in the archive
        max_row = sheet.max_row
    finally:
        workbook.close()
    lowered = {h.strip().lower() for h in header}
    from .layout import questionnaire_columns   # a questionnaire's header may be Chinese (--lang zh)
    if "criterion" in questionnaire_columns(header) and "company_id" not in lowered:
        return Source(path, "files", 1, lambda: iter([(path, 1)]))
    plan = header_plan(path, header, model, lambda col: (1, col, f"{title}!{cell_ref(1, col)}: "))
    plan["sheet"] = title
    return Source(path, "wide", total, lambda: xlsx_rows(path, limits, member, max_row, title), context=plan)


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
        return assessment_from_data(data, path, model), company_of(data), []
    except QmgradeError as error:
        return None, company_of(data), error.problems

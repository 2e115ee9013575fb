"""The *wide* layout of survey tools, CSV or XLSX: one row per company, one column per criterion id (or fact).

A CSV is read as UTF-8 (with or without a BOM), else GB18030 (``encoding`` forces one); its delimiter a
comma, semicolon or tab, judged from the header."""
from __future__ import annotations

import csv
import datetime as _dt
import re
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple, Union

from ..assessment import Assessment, apply_model_rules
from ..errors import InputError, Problem, suggestion
from ..limits import DEFAULT, MAX_PROBLEMS, Limits, capped
from .coerce import fact_value as _fact_value, parse_rating, scalar_text as _scalar_text
from .layout import cell_ref
from .lines import Unreadable, open_binary, read_lines

__all__ = ["COMPANY_COLUMNS", "SNIFF_BYTES", "DELIMITERS", "CsvDialect", "sniff_encoding", "sniff_delimiter", "csv_header",
           "csv_records", "xlsx_records", "xlsx_rows", "SheetRows", "sheet_blocks", "block_rows", "close_sheets", "open_first_sheet",
           "header_plan", "wide_assessment"]


COMPANY_COLUMNS = ("company_id", "company_name", "industry", "region", "assessed_on")


_COMPANY_KEYS = {"company_id": "id", "company_name": "name", "industry": "industry", "region": "region"}


SNIFF_BYTES = 1 << 20   # a CSV's encoding is judged from its first MiB


DELIMITERS = (",", ";", "\t")


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


def _csv_fields(number: int, raw: Union[bytes, Unreadable], limits: Limits, dialect: CsvDialect = CsvDialect()):
    """One physical CSV line as its fields, or an :class:`Unreadable` saying what is wrong with it.

    A record of the wide layout is one line: a quoted field that runs past the
    end of its line is an unbalanced quote, not a licence to swallow the rows after it.
    """
    if isinstance(raw, Unreadable):
        return raw
    try:
        text = raw.decode(dialect.encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if dialect.encoding == "utf-8" else dialect.encoding.upper()
        advice = "save the CSV as UTF-8" if dialect.encoding == "utf-8" and not dialect.forced else \
            "is --encoding right?" if dialect.forced else "save the CSV as UTF-8, or give its encoding with --encoding"
        return Unreadable(f"not {name} text (byte {exc.start + 1} of the line; {advice})", exc.start + 1, "encoding",
                           _fields_anyway(raw, dialect))
    if number == 1 and text.startswith("\ufeff"):
        text = text[1:]
    text = text.rstrip("\r\n")
    if "\r" in text:
        return Unreadable("a carriage return inside the line (lines ending in CR only? save the CSV with "
                           "ordinary line ends)", text.index("\r") + 1)
    previous = csv.field_size_limit(limits.field_chars)
    try:
        return next(csv.reader([text], strict=True, delimiter=dialect.delimiter), [])
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            return Unreadable(f"a field is longer than {limits.field_chars:,} characters "
                               f"(raise the limit with --max-field-size)", 1, "too-large")
        if "unexpected end of data" in message:
            return Unreadable(f"unbalanced quote: a quoted field does not end on line {number}")
        return Unreadable(f"malformed CSV: {message}")
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
    with open_binary(path) as handle:
        sample = handle.read(SNIFF_BYTES)
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) and encoding is None:
        raise InputError(Problem(path, 1, 1, "this CSV is UTF-16 text (Excel's \"Unicode text\"): save it as "
                                             "\"CSV UTF-8\" (or give --encoding utf-16)", "encoding"))
    chosen = encoding or ("utf-8" if sample.startswith(b"\xef\xbb\xbf") else sniff_encoding(sample))
    first = sample.split(b"\n", 1)[0]
    header = first.decode(chosen, "replace")
    delimiter = "\t" if path.lower().endswith(".tsv") else sniff_delimiter(header)
    return CsvDialect(chosen, delimiter, encoding is not None)


def csv_header(path: str, limits: Limits = DEFAULT, encoding: Optional[str] = None) -> Tuple[CsvDialect, List[str]]:
    dialect = _csv_dialect(path, encoding)
    with open_binary(path) as handle:
        for number, raw, _ in read_lines(handle, limits.line_bytes):
            fields = _csv_fields(number, raw, limits, dialect)
            if isinstance(fields, Unreadable):
                raise InputError(Problem(path, number, fields.col, f"header: {fields.message}", fields.code))
            return dialect, fields
    raise InputError(Problem(path, 1, 1, "empty CSV: expected a header row with company_id and criterion ids"))


def csv_records(path: str, limits: Limits = DEFAULT, dialect: CsvDialect = CsvDialect()) -> Iterator[tuple]:
    with open_binary(path) as handle:
        lines = read_lines(handle, limits.line_bytes)
        next(lines, None)   # the header
        for number, raw, size in lines:
            fields = _csv_fields(number, raw, limits, dialect)
            if isinstance(fields, Unreadable) or any(cell.strip() for cell in fields):
                yield ((number, fields), size)


def xlsx_records(path: str, limits: Limits = DEFAULT) -> Iterator[tuple]:
    from .questionnaire import check_sheet_size
    workbook, sheet = open_first_sheet(path, limits)
    try:
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


# -- XLSX rows parsed where they are graded (issue 13) ---------------------------------------------------------
# openpyxl parses a row in milliseconds; done in the parent, that capped XLSX batches at one core.  The parent
# now only splits the worksheet's XML at its row tags (a byte scan) and hands each worker a block of rows as a
# small worksheet document of its own, which the worker parses with openpyxl just as the parent did: same values,
# same row numbers.  A worksheet that cannot be split safely (rows without numbers or out of order, comments,
# CDATA, another encoding) is read in the parent as before.
SHEET_ROWS = 64   # rows per block


@dataclass(frozen=True)
class SheetRows:
    """Rows ``first`` .. ``last`` of a workbook's first worksheet, as a worksheet document holding only them."""

    path: str
    first: int
    last: int
    count: int      # row elements in the block (progress units)
    xml: bytes
    limits: Limits = DEFAULT
    checked: tuple = ()   # (size, modification time) of the workbook when its archive was checked


_SHEET_TAG = re.compile(rb"<(/?)([A-Za-z_][\w.\-]*:)?(row|sheetData|worksheet)(?=[\s/>])([^<>]*)>|<!")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*(?:"(\d{1,10})"|'(\d{1,10})')""")
_BLOCK = 1 << 20


def _scan_sheet(stream) -> Optional[Tuple[bytes, bytes, List[Tuple[int, int]], int]]:
    """(prologue, epilogue, [(row number, offset of its tag)], offset where the rows end) of a worksheet's XML,
    or None when it cannot be split at its row tags safely."""
    base, buf = 0, b""
    prologue = bytearray()
    prefixes: dict = {}
    rows: List[Tuple[int, int]] = []
    while True:
        block = stream.read(_BLOCK)
        buf += block
        cut = len(buf) if not block else buf.rfind(b"<")   # tags before the last "<" are complete
        cut = max(cut, 0)
        if rows and prefixes.get(b"sheetData") == b"":   # past the first row of a sheet without a prefix
            end = _plain_rows(buf, cut, base, rows)
            if end is None:
                return None
            if end >= 0:
                return bytes(prologue), _epilogue(prefixes), rows, end
        for match in () if rows and prefixes.get(b"sheetData") == b"" else _SHEET_TAG.finditer(buf, 0, cut):
            if match.group(0) == b"<!":
                return None   # a comment, CDATA or a DTD: a row tag may hide in it
            closing, prefix, name, attrs = match.group(1), match.group(2) or b"", match.group(3), match.group(4)
            if name == b"worksheet":
                prefixes.setdefault(b"worksheet", prefix)
            elif name == b"sheetData" and closing:
                if not rows or b"sheetData" not in prefixes:
                    return None
                return bytes(prologue), _epilogue(prefixes), rows, base + match.start()
            elif name == b"sheetData":
                if attrs.rstrip().endswith(b"/") or b"sheetData" in prefixes:
                    return None
                prefixes[b"sheetData"] = prefix
            elif not closing:   # a row
                number = _ROW_NUMBER.search(attrs)
                if prefix != prefixes.get(b"sheetData") or number is None:
                    return None
                row = int(number.group(1) or number.group(2))
                if rows and row <= rows[-1][0]:
                    return None
                if not rows:
                    prologue += buf[:match.start()]
                rows.append((row, base + match.start()))
        if not rows:
            prologue += buf[:cut]
            if len(prologue) > _BLOCK * 4:
                return None   # no rows in the first megabytes: nothing worth splitting
        if not block:
            return None
        buf = buf[cut:]
        base += cut


def _epilogue(prefixes: dict) -> bytes:
    return b"</" + prefixes[b"sheetData"] + b"sheetData></" + prefixes.get(b"worksheet", b"") + b"worksheet>"


_ROW_END = frozenset(b" \t\r\n/>")


def _plain_rows(buf: bytes, cut: int, base: int, rows: List[Tuple[int, int]]) -> Optional[int]:
    """The row tags in ``buf[:cut]`` of a sheet whose tags have no prefix, found with plain byte searches (the
    rows of a large sheet, fast): the offset where the rows end when this stretch holds it, else -1 (read on);
    None when the stretch cannot be split safely (a comment, CDATA, a prefixed row tag, a row out of order)."""
    if buf.find(b"<!", 0, cut) >= 0 or buf.find(b":row", 0, cut) >= 0:
        return None
    stop, end = cut, buf.find(b"sheetData", 0, cut)
    if end >= 0:
        if buf[end - 2:end] != b"</" or buf.find(b"sheetData", end + 1, cut) >= 0:
            return None
        stop = end - 2
    last = rows[-1][0]
    at = buf.find(b"<row", 0, stop)
    while at >= 0:
        if at + 4 < stop and buf[at + 4] in _ROW_END:
            number = _ROW_NUMBER.search(buf, at + 4, buf.find(b">", at, stop))
            if number is None:
                return None
            row = int(number.group(1) or number.group(2))
            if row <= last:
                return None
            rows.append((row, base + at))
            last = row
        at = buf.find(b"<row", at + 4, stop)
    return base + stop if end >= 0 else -1


def xlsx_rows(path: str, limits: Limits, member: Optional[str], max_row: Optional[int], title: str) -> Iterator[tuple]:
    """The records of a wide XLSX table: blocks of rows (:class:`SheetRows`) parsed where they are graded, or,
    when the worksheet cannot be split safely, ``(row number, cells)`` parsed here (:func:`xlsx_records`).

    ``member``, ``max_row`` and ``title``: the first worksheet's part in the archive, its declared last row
    and its name, as the open workbook gave them (its size already checked).
    """
    blocks = sheet_blocks(path, limits, member, max_row, title)
    yield from (blocks if blocks is not None else xlsx_records(path, limits))


def sheet_blocks(path: str, limits: Limits, member: Optional[str], max_row: Optional[int],
                 title: str) -> Optional[Iterator[tuple]]:
    """(:class:`SheetRows`, progress units) for the rows of the first worksheet below its header, or None when
    the worksheet is to be read whole (:func:`xlsx_records`).

    Raises
    ------
    InputError (while iterating) where :func:`xlsx_records` raises it: a row beyond ``limits.rows``.
    """
    import zipfile
    if not isinstance(member, str):
        return None
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            scanned = _scan_sheet(stream)
    except (OSError, KeyError, zipfile.BadZipFile, EOFError, ValueError):
        return None
    if scanned is None:
        return None
    prologue, epilogue, rows, end = scanned
    return _blocks(path, limits, member, title, max_row, prologue, epilogue, rows, end)


def _blocks(path, limits, member, title, max_row, prologue, epilogue, rows, end) -> Iterator[tuple]:
    import os
    import zipfile
    info = os.stat(path)
    checked = (info.st_size, info.st_mtime_ns)
    offsets = [offset for _, offset in rows] + [end]
    wanted = [i for i, (row, _) in enumerate(rows) if row >= 2 and (max_row is None or row <= max_row)]
    beyond = max_row is None and any(row > limits.rows for row, _ in rows)   # what xlsx_records refuses
    if beyond:
        wanted = [i for i in wanted if rows[i][0] <= limits.rows]
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        position, pending = 0, b""   # pending: the bytes read from offset `position` on, not yet sent
        for at in range(0, len(wanted), SHEET_ROWS):
            block = wanted[at:at + SHEET_ROWS]
            start, stop = offsets[block[0]], offsets[block[-1] + 1]
            parts = [pending]
            have = position + len(pending)
            while have < stop:
                data = stream.read(max(_BLOCK, stop - have))
                if not data:
                    break
                parts.append(data)
                have += len(data)
            pending = b"".join(parts)[start - position:]
            body, pending, position = pending[:stop - start], pending[stop - start:], stop
            yield SheetRows(path, rows[block[0]][0], rows[block[-1]][0], len(block),
                            prologue + body + epilogue, limits, checked), len(block)
    if beyond:
        raise InputError(Problem(path, limits.rows + 1, 1, f"{title}: more than {limits.rows:,} rows "
                                                          f"(raise the limit with --max-rows)", "too-large"))


def open_first_sheet(path: str, limits: Limits = DEFAULT, checked: bool = False):
    """(workbook, its first worksheet), read-only, as :func:`engine.inputs.questionnaire.open_workbook` gives
    them — but the sheet's size is read from the part before its rows.

    openpyxl looks for a sheet's declared size (``<dimension>``) by walking its XML until the end of the rows
    when there is none (spreadsheet tools streaming a table do not write one): a whole parse of the sheet, seconds
    for a survey of a few thousand rows, at every opening.  The size comes out the same (``None`` without a
    declaration).  ``checked``: the archive's size was checked already.  Anything unusual takes openpyxl's
    own way, with its messages.

    Raises
    ------
    InputError as :func:`open_workbook` does.
    """
    from .questionnaire import check_archive, open_workbook
    if not checked:
        check_archive(path, limits)
    try:
        opened = _open_first_sheet(path)
    except Exception:  # noqa: BLE001 - openpyxl's own way says what is wrong
        opened = None
    if opened is not None:
        return opened
    workbook = open_workbook(path, limits, checked=True)
    try:
        return workbook, workbook.worksheets[0]
    except IndexError:
        workbook.close()
        raise


def _open_first_sheet(path: str):
    import io

    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.workbook.defined_name import DefinedNameDict
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet._reader import WorkSheetParser

    reader = ExcelReader(path, read_only=True, data_only=True)   # what load_workbook does, but the worksheets
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        reader.read_properties()
        reader.read_custom()
        reader.read_theme()
        apply_stylesheet(reader.archive, reader.wb)
        first = next(((sheet, rel) for sheet, rel in reader.parser.find_sheets()
                      if rel.target in reader.valid_files and "chartsheet" not in rel.Type), None)
        if first is None:
            raise ValueError("no worksheet")
        sheet, rel = first
        with reader.archive.open(rel.target) as stream:
            head = _sheet_head(stream)
        if head is None:
            raise ValueError("no rows found where expected")
        size = WorkSheetParser(io.BytesIO(head), []).parse_dimensions()
    except BaseException:
        reader.archive.close()
        raise

    class Sheet(ReadOnlyWorksheet):   # ReadOnlyWorksheet, sized from the part before the rows
        def __init__(self):   # noqa: D107
            self.parent, self.title, self.sheet_state = reader.wb, sheet.name, sheet.state
            self._current_row, self._worksheet_path, self._shared_strings = None, rel.target, reader.shared_strings
            if size is not None:
                self._min_column, self._min_row, self._max_column, self._max_row = size
            self.defined_names = DefinedNameDict()

    worksheet = Sheet()
    reader.wb._sheets.append(worksheet)
    return reader.wb, worksheet


def _sheet_head(stream) -> Optional[bytes]:
    """The worksheet's XML before its first row, closed as a document (None when it cannot be told)."""
    buf = b""
    prefixes: dict = {}
    while len(buf) <= _BLOCK * 4:
        block = stream.read(_BLOCK)
        buf += block
        cut = len(buf) if not block else max(buf.rfind(b"<"), 0)
        for match in _SHEET_TAG.finditer(buf, 0, cut):
            if match.group(0) == b"<!":
                return None
            closing, prefix, name, attrs = match.group(1), match.group(2) or b"", match.group(3), match.group(4)
            if name == b"worksheet":
                prefixes.setdefault(name, prefix)
            elif name == b"sheetData" and not closing and not attrs.rstrip().endswith(b"/"):
                prefixes[name] = prefix
            elif name in (b"row", b"sheetData") and b"sheetData" in prefixes:   # the first row or the end of none
                return buf[:match.start()] + b"</" + prefixes[b"sheetData"] + b"sheetData></" + \
                    prefixes.get(b"worksheet", b"") + b"worksheet>"
            else:
                return None
        if not block:
            return None
    return None


_open_sheet: dict = {}   # path -> (workbook, its first worksheet): one workbook kept open per process


def block_rows(block: SheetRows) -> List[tuple]:
    """The non-blank rows of a block as ``(row number, cells)``, parsed by openpyxl as :func:`xlsx_records` does."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    entry = _open_sheet.get(block.path)
    if entry is None:
        import os
        close_sheets()
        info = os.stat(block.path)
        checked = (info.st_size, info.st_mtime_ns) == block.checked   # the archive checked when it was split
        entry = _open_sheet[block.path] = open_first_sheet(block.path, block.limits, checked)
    sheet = entry[1]

    class Rows(ReadOnlyWorksheet):   # the worksheet, its rows read from the block's document
        def __init__(self):   # noqa: D107 - no archive read (ReadOnlyWorksheet.__init__ reads the sheet's size)
            self.parent, self.title, self.sheet_state = sheet.parent, sheet.title, "visible"
            self._current_row, self._worksheet_path = None, sheet._worksheet_path
            self._shared_strings = sheet._shared_strings
            self._min_column, self._min_row = sheet.min_column, sheet.min_row
            self._max_column, self._max_row = sheet.max_column, sheet.max_row

        def _get_source(self):
            import io
            return io.BytesIO(block.xml)

    found = []
    for number, row in enumerate(Rows().iter_rows(min_row=block.first, values_only=True), block.first):
        if number > block.last:
            break
        if any(cell is not None and str(cell).strip() for cell in row):
            found.append((number, list(row)))
    return found


def close_sheets() -> None:
    """Close the workbook :func:`block_rows` keeps open."""
    for workbook, _ in _open_sheet.values():
        workbook.close()
    _open_sheet.clear()


def header_plan(path: str, header: List[str], model, where) -> dict:
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
        prefix = f"{sheet}!{cell_ref(number, index + 1)}: " if sheet else ""
        return number, index + 1, prefix

    if isinstance(row, Unreadable):
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

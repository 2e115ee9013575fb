"""The questionnaire: written from the model (XLSX or YAML), and a filled XLSX read back as an assessment.

Workbook layout (CONTRACT §5, "Spreadsheets"):

- first sheet ``questionnaire``: a header row, then one row per criterion, in
  model order.  Left to right: ``criterion`` (the id), the criterion's text in
  the chosen language, ``rating`` (a drop-down of the rating labels, English
  and Chinese; a number in [0, 1] or a percentage is accepted too) and
  ``evidence`` (free text, one reference per line) beside it, ``key``, the
  auditor's evidence guidance; when the model has rating anchors,
  ``anchor_full`` … ``anchor_none`` (what each rating looks like); then
  ``dimension``, ``level``, ``weight`` and the text and guidance in the other
  language.  With ``--lang zh`` the header is in Chinese (准则编号, 准则, 评分,
  证据, …, :data:`HEADERS_ZH`) and a key criterion reads 是/否; the ids in the
  criterion column stay as they are.  Only ``criterion``, ``rating`` and
  ``evidence`` are read back, found by their English or Chinese header in
  any column (workbooks of the earlier layout, rating after the texts, read
  the same); a blank rating is *not rated*.
- sheet ``company``: ``key`` / ``value`` rows ``id``, ``name``, ``industry``,
  ``region``, ``assessed_on``, ``profile`` (when the model has profiles) and
  one row per model fact (blank = not given).
- sheet ``instructions``: how to fill it in, in the chosen language.

Errors name the file, the row and column, and the sheet and cell:
``book.xlsx:12:10: questionnaire!J12: alpha-2-1: unknown rating 'ful'; ...``
(``path:ROW:COL: SHEET!CELL: message``).  The XLSX written is the same bytes
for the same model and language (fixed timestamps inside the zip).
"""
from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from typing import Any, Dict, List, Optional

from .assessment import Assessment, apply_model_rules, fact_value as _fact_value, parse_rating, _scalar_text
from .schema import ANCHOR_RATINGS
from .errors import InputError, Problem, suggestion

__all__ = ["template_workbook", "template_yaml", "read_questionnaire", "open_workbook", "QUESTIONNAIRE_COLUMNS",
           "questionnaire_columns", "HEADERS_ZH",
           "RATING_CHOICES"]

QUESTIONNAIRE_COLUMNS = ("criterion", "dimension", "level", "key", "weight", "text_zh", "text_en",
                         "guidance_zh", "guidance_en", "rating", "evidence")
COMPANY_KEYS = ("id", "name", "industry", "region", "assessed_on", "profile")
RATING_CHOICES = {"en": ["full", "largely", "partial", "none", "na", "全部满足", "大部分满足", "部分满足", "不满足", "不适用"],
                  "zh": ["全部满足", "大部分满足", "部分满足", "不满足", "不适用", "full", "largely", "partial", "none", "na"]}
# The header in Chinese (--lang zh); the reader accepts these and the machine names alike, in any order.
HEADERS_ZH = {"criterion": "准则编号", "dimension": "维度", "level": "级别", "key": "关键准则", "weight": "权重",
              "text_zh": "准则", "text_en": "准则（英文）", "guidance_zh": "证据指引", "guidance_en": "证据指引（英文）",
              "rating": "评分", "evidence": "证据", "anchor_full": "全部满足时", "anchor_largely": "大部分满足时",
              "anchor_partial": "部分满足时", "anchor_none": "不满足时"}
_COLUMN_OF = {**{label: name for name, label in HEADERS_ZH.items()}, **{name: name for name in HEADERS_ZH}}
COMPANY_HEADER = {"en": ["key", "value", "note"], "zh": ["项目", "填写", "说明"]}
_FIXED_TIME = "2000-01-01T00:00:00Z"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_WORDS = {
    "id": ("企业编号（必填，用于历史记录）", "company id (needed for the history)"),
    "name": ("企业名称", "company name"),
    "industry": ("行业（如国民经济行业分类代码 C34）", "industry (e.g. the GB/T 4754 code C34)"),
    "region": ("地区（省、市）", "region (province, city)"),
    "assessed_on": ("评估日期（YYYY-MM-DD）", "date of the assessment (YYYY-MM-DD)"),
    "profile": ("企业类型（可选），其不适用的准则按不适用计：", "business profile (optional); its criteria that do not apply "
                                                   "count as na:"),
    "prompt_title": ("评分", "Rating"),
    "prompt": ("全部满足=1.0，大部分满足=0.8，部分满足=0.5，不满足=0，不适用=不计分；也可填 0 到 1 之间的数。留空=未评分（按 0 计）。",
               "full=1.0, largely=0.8, partial=0.5, none=0, na=left out; or a number in [0, 1]. "
               "Blank = not rated (counts as 0)."),
    "error_title": ("评分无效", "Not a rating"),
    "error": ("请从列表中选择，或填 0 到 1 之间的数。", "Pick a label from the list, or type a number in [0, 1]."),
    "fact": ("近三年事实（填 是/否，留空=否）", "veto fact (yes/no; blank = default)"),
    "instructions": (
        ["质量管理能力分级自评问卷",
         "1. 在 questionnaire 表的“评分”列为每条准则选择评分：全部满足 / 大部分满足 / 部分满足 / 不满足 / 不适用，"
         "或填 0 到 1 之间的数（或百分数，如 80%）；留空表示未评分（按 0 计分）。",
         "2. 在“证据”列填写证据（文件名、记录编号），每行一条。",
         "3. 在 company 表填写企业编号、名称、行业、地区、评估日期，以及近三年的否决事实（是/否）。",
         "4. 保存后运行：qmgrade assess 本文件.xlsx",
         "请勿修改“准则编号”列和表头。"],
        ["Quality-management capability self-assessment questionnaire",
         "1. In the questionnaire sheet, rate each criterion in the rating column: full / largely / partial / "
         "none / na (or 全部满足 / 大部分满足 / 部分满足 / 不满足 / 不适用, or a number in [0, 1]); blank = not rated "
         "(counts as 0).",
         "2. Put the evidence (document names, record numbers) in the evidence column, one per line.",
         "3. In the company sheet fill in the company id, name, industry, region, the date, and the veto facts "
         "of the last three years (yes/no).",
         "4. Save, then run: qmgrade assess THIS-FILE.xlsx",
         "Do not change the criterion column or the header row."]),
}


def _tr(word: str, lang: str):
    from .report import pick   # in the model's own words (issue 12)
    return pick(_WORDS[word], lang)


def questionnaire_columns(header) -> Dict[str, int]:
    """``{machine name: 0-based index}`` of a questionnaire header row, English or Chinese (the first of each)."""
    columns: Dict[str, int] = {}
    for index, value in enumerate(header):
        text = str(value).strip() if value is not None else ""
        name = _COLUMN_OF.get(text, _COLUMN_OF.get(text.lower()))
        if name and name not in columns:
            columns[name] = index
    return columns


def _cell_ref(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


# -- writing ---------------------------------------------------------------------------------
def template_workbook(model, lang: str = "en") -> bytes:
    """The blank questionnaire as XLSX bytes (deterministic for a model and language)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "questionnaire"
    other = "en" if lang == "zh" else "zh"
    # what each rating looks like, when the model says so
    with_anchors = any(c.anchors for c in model.criteria.values())
    anchor_cols = [f"anchor_{rating}" for rating in ANCHOR_RATINGS] if with_anchors else []
    # the rating beside the criterion's text: what the assessor reads, rates and cites, left to right
    columns = ["criterion", f"text_{lang}", "rating", "evidence", "key", f"guidance_{lang}", *anchor_cols,
               "dimension", "level", "weight", f"text_{other}", f"guidance_{other}"]
    sheet.append([HEADERS_ZH[name] for name in columns] if lang == "zh" else columns)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDE5F0")
    dims = {d.id: d for d in model.dimensions}
    for criterion in sorted(model.criteria.values(),
                            key=lambda c: (model.dimensions.index(dims[c.dimension]), c.level)):
        texts = {"text_zh": criterion.text["zh"], "text_en": criterion.text["en"],
                 "guidance_zh": (criterion.evidence or {}).get("zh", ""),
                 "guidance_en": (criterion.evidence or {}).get("en", "")}
        anchors = criterion.anchors or {}
        values = {"criterion": criterion.id, "dimension": criterion.dimension, "level": criterion.level,
                  "key": ("是" if criterion.key else "否") if lang == "zh" else bool(criterion.key),
                  "weight": criterion.weight, "rating": None, "evidence": None, **texts,
                  **{f"anchor_{r}": anchors[r][lang] if r in anchors else None for r in ANCHOR_RATINGS}}
        sheet.append([values[name] for name in columns])
    last = sheet.max_row
    rating_col = columns.index("rating") + 1
    letter = _cell_ref(1, rating_col)[:-1]
    choices = RATING_CHOICES[lang]
    validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                showDropDown=False, showErrorMessage=True, errorStyle="warning",
                                promptTitle=_tr("prompt_title", lang), prompt=_tr("prompt", lang)[:255],
                                errorTitle=_tr("error_title", lang), error=_tr("error", lang))
    validation.showInputMessage = True
    sheet.add_data_validation(validation)
    if last >= 2:
        validation.add(f"{letter}2:{letter}{last}")
    widths = {**{name: 36 for name in anchor_cols}, "criterion": 30, "dimension": 14, "level": 7, "key": 7, "weight": 8,
              "rating": 14, "evidence": 40}
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, name in enumerate(columns, 1):
        col_letter = _cell_ref(1, index)[:-1]
        sheet.column_dimensions[col_letter].width = widths.get(name, 50)
        if name.startswith(("text", "guidance", "anchor")) or name == "evidence":
            for row in range(2, last + 1):
                sheet.cell(row=row, column=index).alignment = wrap
    sheet.freeze_panes = "B2"

    company = book.create_sheet("company")
    company.append(COMPANY_HEADER["zh" if lang == "zh" else "en"])
    for cell in company[1]:
        cell.font = bold
    for key in COMPANY_KEYS:
        if key == "profile" and not model.profiles:
            continue
        note = _tr(key, lang)
        if key == "profile":
            note += " " + ", ".join(f"{p.id} ({p.name[lang]})" for p in model.profiles)
        company.append([key, None, note])
    for fact in model.facts:
        company.append([fact.id, None, f"{fact.name[lang]} — {_tr('fact', lang)}"])
    company.column_dimensions["A"].width = 30
    company.column_dimensions["B"].width = 30
    company.column_dimensions["C"].width = 60

    notes = book.create_sheet("instructions")
    for line in _tr("instructions", lang):
        notes.append([line])
    notes.column_dimensions["A"].width = 120

    book.properties.creator = "qmgrade"
    book.properties.title = f"{model.id} {model.version}"
    stream = io.BytesIO()
    book.save(stream)
    return _stable_zip(stream.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """The same workbook bytes every time: fixed zip entry times and document timestamps."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              lambda m: m.group(1) + _FIXED_TIME + m.group(3), text)
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


def template_yaml(model, lang: str = "en") -> str:
    """The blank questionnaire as YAML: a valid (empty) assessment, every criterion as a comment to fill in.

    Uncomment a rating line and give it a label (or a number) to rate that
    criterion; criteria left commented out are *not rated*.
    """
    import yaml

    def quoted(text: str) -> str:
        return " ".join(str(text).split())

    labels = " | ".join(RATING_CHOICES[lang][:5]) + " | 0..1"
    head = ("# 质量管理能力分级自评问卷 —— 去掉评分行前的 “# ” 并填写评分：" if lang == "zh" else
            "# Quality-management self-assessment — to rate a criterion, remove the '# ' before its line "
            "and give a rating:")
    from .words import localise
    lines = [localise(head, lang), f"#   {labels}", f"# model: {model.id} {model.version}", "company:"]
    for key in ("id", "name", "industry", "region"):
        lines.append(f"  {key}: ''          # {_tr(key, lang)}")
    if model.profiles:
        lines.append(f"  # profile: {model.profiles[0].id}   # {_tr('profile', lang)} "
                     + ", ".join(p.id for p in model.profiles))
    lines.append(f"# assessed_on: 2026-01-01   # {_tr('assessed_on', lang)}")
    lines.append("facts:")
    for fact in model.facts:
        lines.append(f"  {fact.id}: {yaml.safe_dump(fact.default).splitlines()[0]}   # {quoted(fact.name[lang])}")
    lines.append("ratings:")
    dims = {d.id: d for d in model.dimensions}
    current = None
    for criterion in sorted(model.criteria.values(),
                            key=lambda c: (model.dimensions.index(dims[c.dimension]), c.level)):
        cell = (criterion.dimension, criterion.level)
        if cell != current:
            current = cell
            lines.append(f"  # ── {dims[cell[0]].name[lang]} ({cell[0]}) · L{cell[1]} ──")
        key = " ★" if criterion.key else ""
        na = (" （可填不适用）" if lang == "zh" else " (na allowed)") if criterion.na_allowed else ""
        lines.append(f"  # {quoted(criterion.text[lang])}{key}{na}")
        guidance = (criterion.evidence or {}).get(lang)
        if guidance:
            lines.append(f"  #   {'证据' if lang == 'zh' else 'evidence'}: {quoted(guidance)}")
        for rating in ANCHOR_RATINGS if criterion.anchors else ():
            label = RATING_CHOICES["zh"][ANCHOR_RATINGS.index(rating)] if lang == "zh" else rating
            lines.append(f"  #     {label}: {quoted(criterion.anchors[rating][lang])}")
        lines.append(f"  # {criterion.id}: ")
    lines.append("evidence: {}                # criterion id: [references]")
    return "\n".join(lines) + "\n"


# -- reading ---------------------------------------------------------------------------------
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
    from .limits import DEFAULT
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
                inner = max((len(piece) for piece in chunk[first + 1:last].split(b"<")), default=0)
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
    from .limits import DEFAULT
    limits = limits or DEFAULT
    rows, columns = getattr(sheet, "max_row", None), getattr(sheet, "max_column", None)
    if rows and rows > limits.rows:
        raise InputError(Problem(path, 1, 1, f"{sheet.title}: {rows:,} rows, more than {limits.rows:,} "
                                             f"(raise the limit with --max-rows)", "too-large"))
    if columns and columns > limits.columns:
        raise InputError(Problem(path, 1, 1, f"{sheet.title}: {columns:,} columns, more than {limits.columns:,}",
                                 "too-large"))


def open_workbook(path: str, limits=None):
    """Open an XLSX workbook read-only (values, not formulas), after checking its size (:func:`check_archive`).

    Raises
    ------
    InputError when the file is missing, not an XLSX workbook, or too large.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

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
    return _scalar_text(value.strip() if isinstance(value, str) else value)


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
            problems.append(Problem(path, row, col, f"{title}!{_cell_ref(row, col)}: {message}", code))

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
                        facts[key] = _fact_value(declared[key].type, value)
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
            lambda cid: (seen.get(cid, 1), r_col + 1, f"{first_title}!{_cell_ref(seen.get(cid, 1), r_col + 1)}: "),
            lambda: (row_of, 2, f"company!{_cell_ref(row_of, 2)}: "))
    except InputError as error:   # batch's error entry keeps the company it could read (issue 10)
        error.company = {k: company[k] for k in ("id", "name", "industry", "region") if k in company} or None
        raise

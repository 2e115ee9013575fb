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

import io
import re
import zipfile

# the layout and the reader live in engine.inputs (issue 10); re-exported here for the old import paths
from .inputs.layout import (COMPANY_HEADER, COMPANY_KEYS, HEADERS_ZH, QUESTIONNAIRE_COLUMNS, RATING_CHOICES,
                            cell_ref as _cell_ref, questionnaire_columns)
from .inputs.questionnaire import check_archive, check_sheet_size, open_workbook, read_questionnaire
from .schema import ANCHOR_RATINGS

__all__ = ["template_workbook", "template_yaml", "read_questionnaire", "open_workbook", "QUESTIONNAIRE_COLUMNS",
           "questionnaire_columns", "HEADERS_ZH",
           "RATING_CHOICES", "COMPANY_KEYS", "COMPANY_HEADER", "check_archive", "check_sheet_size"]

_FIXED_TIME = "2000-01-01T00:00:00Z"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

def _tr(word: str, lang: str):
    from .words import QUESTIONNAIRE_WORDS, pick   # the one catalogue, in the model's own words (issue 12)
    return pick(QUESTIONNAIRE_WORDS[word], lang)


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


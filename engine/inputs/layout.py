"""The questionnaire's layout — its columns, Chinese headers and company keys — shared by the template writer
(:mod:`engine.spreadsheet`) and the reader (:mod:`engine.inputs.questionnaire`)."""
from __future__ import annotations

from typing import Dict

__all__ = ["QUESTIONNAIRE_COLUMNS", "COMPANY_KEYS", "RATING_CHOICES", "HEADERS_ZH", "COMPANY_HEADER",
           "questionnaire_columns", "cell_ref"]

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


def questionnaire_columns(header) -> Dict[str, int]:
    """``{machine name: 0-based index}`` of a questionnaire header row, English or Chinese (the first of each)."""
    columns: Dict[str, int] = {}
    for index, value in enumerate(header):
        text = str(value).strip() if value is not None else ""
        name = _COLUMN_OF.get(text, _COLUMN_OF.get(text.lower()))
        if name and name not in columns:
            columns[name] = index
    return columns


def cell_ref(row: int, col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"

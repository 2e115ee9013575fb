"""Text and Markdown renderings of a calibration run (``qmgrade kb calibrate``).

They take only the value :func:`engine.calibrate.calibrate` returns (as a dict)
and the model for level names; they compute nothing.
"""
from __future__ import annotations

from typing import List

from rich.cells import cell_len

from . import present
from .report import pick, safe_text

__all__ = ["render_calibration_text", "render_calibration_markdown"]

_WORDS = {
    "title": ("模型校准", "Calibration of"),
    "companies": ("家参考企业", "reference companies"),
    "agree": ("一致", "agree"),
    "disagree": ("不一致", "disagree"),
    "company": ("企业", "Company"),
    "kind": ("类型", "Kind"),
    "expected": ("预期", "Expected"),
    "graded": ("评定", "Graded"),
    "shortest": ("最短板", "Shortest staves"),
    "capped": ("封顶", "capped"),
    "disagreements": ("与预期不一致", "Disagreements"),
    "expected_graded": ("预期 {e}，评定 {g}", "expected {e}, graded {g}"),
    "sensitivity": ("敏感性（改变等级的单档评分变化）", "Sensitivity (one-notch rating changes that move the level)"),
    "no_change": ("没有单档变化改变等级", "no one-notch change moves the level"),
    "changes": ("处变化", "changes"),
    "key": ("关键", "key"),
    "findings": ("模型整体发现", "Model findings"),
    "all_largely": ("全部评为“大部分满足”时的等级", "All criteria rated largely grade"),
    "top_warning": ("（最高级：过于容易达到）", " (the top level: too easy to reach)"),
    "thin": ("适用准则少于 {n} 条的维度级别", "Cells with fewer than {n} applicable criteria"),
    "criteria": ("条准则", "criteria"),
    "cliffs": ("从“全部大部分满足”出发、单条降为“部分满足”即降两级及以上的准则",
               "Criteria whose drop from largely to partial (all others largely) costs two levels or more"),
    "na_keys": ("允许不适用的关键准则", "Key criteria that may be rated na"),
    "none": ("无", "none"),
    "summary": ("汇总", "Summary"),
    "moving": ("改变等级的单档变化", "level-moving one-notch changes"),
    "drops2": ("降两级及以上", "drops of two levels or more"),
    "non_key": ("其中非关键准则", "of them on non-key criteria"),
}


def _w(key: str, lang: str, **kw) -> str:
    text = pick(_WORDS[key], lang)
    return text.format(**kw) if kw else text


def _level(model, rank: int, lang: str) -> str:
    return present.level_name(model, rank, lang)


def _change(entry: dict, lang: str) -> str:
    key = f" ({_w('key', lang)})" if entry["key"] else ""
    return (f"{entry['criterion']}{key} {entry['from']} → {entry['to']}: "
            f"{entry['level_before']} → {entry['level_after']}")


def _header(data: dict, lang: str) -> str:
    summary = data["summary"]
    return (f"{_w('title', lang)} {data['model']['id']} {data['model']['version']}: {summary['companies']} "
            f"{_w('companies', lang)}, {summary['agree']} {_w('agree', lang)}, {len(summary['disagree'])} "
            f"{_w('disagree', lang)}")


def _finding_lines(data: dict, model, lang: str, bullet: str, code=lambda s: s) -> List[str]:
    findings = data["model_findings"]
    summary = data["summary"]
    out = []
    level = findings["all_largely"]["level"]
    out.append(f"{bullet}{_w('all_largely', lang)}: {_level(model, level, lang)}"
               f"{_w('top_warning', lang) if findings['all_largely']['top'] else ''}")
    out.append(f"{bullet}{_w('thin', lang, n=findings['min_cell'])}: {len(findings['thin_cells'])}")
    for cell in findings["thin_cells"]:
        out.append(f"  {bullet}{cell['dimension']} L{cell['level']}: {cell['applicable']} {_w('criteria', lang)} "
                   f"({', '.join(code(c) for c in cell['criteria'])})")
    out.append(f"{bullet}{_w('cliffs', lang)}: {len(findings['cliffs_from_all_largely'])}")
    for cliff in findings["cliffs_from_all_largely"]:
        key = f" ({_w('key', lang)})" if cliff["key"] else ""
        out.append(f"  {bullet}{code(cliff['criterion'])}{key}: {cliff['level_before']} → {cliff['level_after']}")
    keys = findings["na_allowed_keys"]
    out.append(f"{bullet}{_w('na_keys', lang)}: {', '.join(code(k) for k in keys) if keys else _w('none', lang)}")
    out.append(f"{bullet}{_w('moving', lang)}: {summary['level_moving_changes']}; {_w('drops2', lang)}: "
               f"{summary['drops_of_two_or_more']} ({_w('non_key', lang)}: {summary['non_key_drops_of_two_or_more']})")
    return out


def render_calibration_text(data: dict, model, lang: str = "en") -> str:
    """The calibration as plain text."""
    lines = [_header(data, lang), ""]
    rows = [(_w("company", lang), _w("kind", lang), _w("expected", lang), _w("graded", lang), "",
             _w("shortest", lang))]
    for company in data["companies"]:
        capped = f" ({_w('capped', lang)}: {', '.join(company['caps'])})" if company["caps"] else ""
        rows.append((safe_text(company["id"]), safe_text(company["kind"] or ""), str(company["expected"]),
                     str(company["graded"]), "✓" if company["agrees"] else "✗",
                     ", ".join(company["shortest"]) + capped))
    widths = [max(cell_len(row[i]) for row in rows) for i in range(5)]   # CJK characters take two columns
    for row in rows:
        lines.append("  ".join(cell + " " * (widths[i] - cell_len(cell)) for i, cell in enumerate(row[:5]))
                     + "  " + row[5])
    disagreeing = [c for c in data["companies"] if not c["agrees"]]
    if disagreeing:
        lines.append("")
        lines.append(f"{_w('disagreements', lang)}:")
        for company in disagreeing:
            lines.append(f"  {safe_text(company['id'])}: "
                         f"{_w('expected_graded', lang, e=company['expected'], g=company['graded'])} "
                         f"({safe_text(company['file'])})")
    lines.append("")
    lines.append(f"{_w('sensitivity', lang)}:")
    for company in data["companies"]:
        changes = company["sensitivity"]
        head = f"  {safe_text(company['id'])}: "
        lines.append(head + (f"{len(changes)} {_w('changes', lang)}" if changes else _w("no_change", lang)))
        lines.extend(f"    {_change(entry, lang)}" for entry in changes)
    lines.append("")
    lines.append(f"{_w('findings', lang)}:")
    lines.extend(_finding_lines(data, model, lang, "  "))
    return "\n".join(lines) + "\n"


def _md(text) -> str:
    return present.for_markdown(text)


def render_calibration_markdown(data: dict, model, lang: str = "en") -> str:
    """The calibration as Markdown (tables for the companies and their sensitivity)."""
    code = present.for_markdown_code
    lines = [f"# {_md(_header(data, lang))}", ""]
    lines.append(f"| {_w('company', lang)} | {_w('kind', lang)} | {_w('expected', lang)} | {_w('graded', lang)} | "
                 f"| {_w('shortest', lang)} |")
    lines.append("|---|---|---|---|---|---|")
    for company in data["companies"]:
        capped = f" ({_w('capped', lang)}: {', '.join(code(c, True) for c in company['caps'])})" if company["caps"] else ""
        lines.append(f"| {code(company['id'], True)} | {_md(company['kind'] or '')} | {company['expected']} | "
                     f"{company['graded']} | {'✓' if company['agrees'] else '✗'} | "
                     f"{', '.join(company['shortest'])}{capped} |")
    lines.append("")
    lines.append(f"## {_w('sensitivity', lang)}")
    lines.append("")
    for company in data["companies"]:
        changes = company["sensitivity"]
        lines.append(f"- {code(company['id'])}: "
                     + (f"{len(changes)} {_w('changes', lang)}" if changes else _w("no_change", lang)))
        lines.extend(f"  - {code(e['criterion'])}{' (' + _w('key', lang) + ')' if e['key'] else ''} "
                     f"{e['from']} → {e['to']}: {e['level_before']} → {e['level_after']}" for e in changes)
    lines.append("")
    lines.append(f"## {_w('findings', lang)}")
    lines.append("")
    lines.extend(_finding_lines(data, model, lang, "- ", code))
    return "\n".join(lines) + "\n"

"""The calibration report (``qmgrade kb calibrate``) as text or Markdown.

Both take only the :class:`~engine.calibrate.Calibration` result (its ``graded_with`` model names
the levels); the words come from the one catalogue and user text (company ids, kinds, file names)
is escaped through :mod:`engine.present`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from rich.cells import cell_len

from .. import present
from ..present import for_terminal, word

if TYPE_CHECKING:
    from ..calibrate import Calibration

__all__ = ["render_text", "render_markdown"]


def _w(key: str, lang: str, **values) -> str:
    return word(f"calibration.{key}", lang, **values)


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


def render_text(calibration: "Calibration", lang: str = "en") -> str:
    """The calibration as plain text."""
    data, model = calibration.as_dict(), calibration.graded_with
    lines = [_header(data, lang), ""]
    rows = [(_w("company", lang), _w("kind", lang), _w("expected", lang), _w("graded", lang), "",
             _w("shortest", lang))]
    for company in data["companies"]:
        capped = f" ({_w('capped', lang)}: {', '.join(company['caps'])})" if company["caps"] else ""
        rows.append((for_terminal(company["id"]), for_terminal(company["kind"] or ""), str(company["expected"]),
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
            lines.append(f"  {for_terminal(company['id'])}: "
                         f"{_w('expected_graded', lang, e=company['expected'], g=company['graded'])} "
                         f"({for_terminal(company['file'])})")
    lines.append("")
    lines.append(f"{_w('sensitivity', lang)}:")
    for company in data["companies"]:
        changes = company["sensitivity"]
        head = f"  {for_terminal(company['id'])}: "
        lines.append(head + (f"{len(changes)} {_w('changes', lang)}" if changes else _w("no_change", lang)))
        lines.extend(f"    {_change(entry, lang)}" for entry in changes)
    lines.append("")
    lines.append(f"{_w('findings', lang)}:")
    lines.extend(_finding_lines(data, model, lang, "  "))
    return "\n".join(lines) + "\n"


def _md(text) -> str:
    return present.for_markdown(text)


def render_markdown(calibration: "Calibration", lang: str = "en") -> str:
    """The calibration as Markdown (tables for the companies and their sensitivity)."""
    data, model = calibration.as_dict(), calibration.graded_with
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

"""Statistics over many results: the level distribution, the common short staves, blockers and fixes.

Built from ``batch --format jsonl`` results (or fed record by record while a
batch runs, see :func:`summarize` and :class:`Tally`); only counts are kept,
so memory does not grow with the number of companies.  Rendered as text
(zh/en), JSON, or an HTML page with inline SVG bar charts.
"""
from __future__ import annotations

import io
import json
from collections import Counter
from typing import Dict, List, Optional, cast

from .errors import InputError, Problem
from .limits import DEFAULT as DEFAULT_LIMITS, bounded_lines
from .present import for_html, for_rich, for_terminal, percent
from .report import pick

__all__ = ["summarize", "Tally", "read_results", "render_text", "render_html", "TOP"]

TOP = 10     # rows in each "most frequent" list
UNKNOWN = ""  # region / industry not given

_WORDS = {
    "title": ("分级统计", "Grading statistics"),
    "companies": ("企业数", "Companies"),
    "graded": ("已分级", "graded"),
    "errors": ("错误记录", "records with errors"),
    "levels": ("等级分布", "Level distribution"),
    "level": ("等级", "Level"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "by_region": ("按地区", "By region"),
    "by_industry": ("按行业", "By industry"),
    "region": ("地区", "Region"),
    "industry": ("行业", "Industry"),
    "unknown": ("（未填）", "(not given)"),
    "shortest": ("最常见的短板", "Most frequent shortest staves"),
    "blockers": ("最常见的阻碍项", "Most frequent blockers"),
    "minimal_fix": ("最常见的最少整改项", "Most frequent minimal-fix criteria"),
    "dimension": ("维度", "Dimension"),
    "criterion": ("条款", "Criterion"),
    "model": ("模型", "Model"),
    "none": ("无", "none"),
    "provisional": ("暂定等级（评分覆盖率不足）", "Provisional grades (too few criteria rated)"),
    "provisional_note": ("另行计数，不计入下列分布与排名", "counted apart, not in the tables below"),
}


def _tr(word: str, lang: str) -> str:
    return pick(_WORDS[word], lang)


def summarize(result: dict) -> dict:
    """What the statistics need of one result (an ``assess`` object or an error entry)."""
    company = result.get("company") or {}
    region = company.get("region")
    industry = company.get("industry")
    summary = {"error": "error" in result,
               "region": UNKNOWN if region is None else str(region),
               "industry": UNKNOWN if industry is None else str(industry)}
    if summary["error"]:
        summary["message"] = result["error"]
        return summary
    nxt = result.get("next_level") or {}
    # issue 11: a grade on too few rated criteria is counted apart, not in the distribution
    summary["provisional"] = bool(result.get("provisional"))
    summary.update(level=result["level"], shortest=list((result.get("barrel") or {}).get("shortest", [])),
                   blockers=[b["criterion"] for b in nxt.get("blockers", [])],
                   minimal_fix=list(nxt.get("minimal_fix", [])), model=result.get("model"))
    return summary


class Tally:
    """Counts over many summaries; add one at a time, read with :meth:`as_dict`."""

    def __init__(self):
        self.companies = 0
        self.errors = 0
        self.levels: Counter = Counter()
        self.level_info: Dict[int, dict] = {}
        self.by_region: Dict[str, Counter] = {}
        self.by_industry: Dict[str, Counter] = {}
        self.shortest: Counter = Counter()
        self.blockers: Counter = Counter()
        self.minimal_fix: Counter = Counter()
        self.models: Counter = Counter()
        self.provisional = 0
        self.provisional_levels: Counter = Counter()

    def add(self, summary: dict) -> None:
        self.companies += 1
        if summary["error"]:
            self.errors += 1
            return
        level = summary["level"]
        rank = level["rank"]
        if summary.get("model"):
            self.models[(summary["model"]["id"], summary["model"]["version"])] += 1
        if summary.get("provisional"):
            self.provisional += 1
            self.provisional_levels[rank] += 1
            self.level_info.setdefault(rank, {"rank": rank, "id": level["id"], "name": dict(level["name"])})
            return
        self.levels[rank] += 1
        self.level_info.setdefault(rank, {"rank": rank, "id": level["id"], "name": dict(level["name"])})
        self.by_region.setdefault(summary["region"], Counter())[rank] += 1
        self.by_industry.setdefault(summary["industry"], Counter())[rank] += 1
        self.shortest.update(summary["shortest"])
        self.blockers.update(set(summary["blockers"]))
        self.minimal_fix.update(set(summary["minimal_fix"]))

    def as_dict(self, model=None, top: int = TOP) -> dict:
        """The statistics as JSON-ready data (deterministic order: count, then id)."""
        graded = self.companies - self.errors - self.provisional
        info = dict(self.level_info)
        if model is not None:
            for level in model.levels:
                info.setdefault(level.rank, {"rank": level.rank, "id": level.id, "name": dict(level.name)})
        ranks = sorted(info)

        def share(count, whole):
            return round(count / whole, 4) if whole else 0.0

        def groups(table, key):
            out = []
            for name in sorted(table, key=lambda n: (n == UNKNOWN, n)):
                counts = table[name]
                total = sum(counts.values())
                out.append({key: name, "companies": total,
                            "levels": {str(r): counts.get(r, 0) for r in ranks}})
            return out

        def most(counter, key):
            rows = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]
            return [{key: name, "count": count, "share": share(count, graded)} for name, count in rows]

        return {
            "companies": self.companies,
            "graded": graded,
            "errors": self.errors,
            "provisional": self.provisional,
            "provisional_levels": [{"rank": r, "count": self.provisional_levels[r]}
                                   for r in sorted(self.provisional_levels)],
            "models": [{"id": m[0], "version": m[1], "companies": n}
                       for m, n in sorted(self.models.items(), key=lambda item: (-item[1], item[0]))],
            "levels": [{**info[r], "count": self.levels.get(r, 0), "share": share(self.levels.get(r, 0), graded)}
                       for r in ranks],
            "by_region": groups(self.by_region, "region"),
            "by_industry": groups(self.by_industry, "industry"),
            "shortest_staves": most(self.shortest, "dimension"),
            "blockers": most(self.blockers, "criterion"),
            "minimal_fix": most(self.minimal_fix, "criterion"),
        }


def read_results(path: str, tally: Optional[Tally] = None, line_bytes: int = DEFAULT_LIMITS.line_bytes) -> Tally:
    """Tally a JSON Lines results file (``batch --format jsonl``), line by line, each line read in
    pieces of at most ``line_bytes`` + 1 bytes (``--max-line-bytes``, as ``batch``).

    Raises
    ------
    InputError naming the line of anything that is not a result, or longer than ``line_bytes``.
    """
    tally = tally or Tally()
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise InputError(Problem(path, 1, 1, "no such file")) from None
    except IsADirectoryError:
        raise InputError(Problem(path, 1, 1, "is a directory, not a file")) from None
    except OSError as exc:
        raise InputError(Problem(path, 1, 1, f"cannot read: {exc.strerror}")) from None
    with handle:
        for number, raw in bounded_lines(handle, line_bytes, path):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(Problem(path, number, exc.start + 1, "not UTF-8 text")) from None
            if not line.strip():
                continue
            try:
                result = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(Problem(path, number, exc.colno, f"malformed JSON: {exc.msg} "
                                                                  f"(expected batch --format jsonl results)")) from None
            except RecursionError:
                raise InputError(Problem(path, number, 1, "line nested too deeply")) from None
            if not isinstance(result, dict) or not ("error" in result or {"level", "barrel"} <= set(result)):
                raise InputError(Problem(path, number, 1, "not a batch result (expected an assess object "
                                                          "or an error entry per line)"))
            try:
                tally.add(summarize(result))
            except (KeyError, TypeError, AttributeError) as exc:
                raise InputError(Problem(path, number, 1, f"not a batch result (missing {exc})")) from None
    return tally


# -- rendering ----------------------------------------------------------------------------------
def _names(model):
    dims = {d.id: d.name for d in model.dimensions} if model is not None else {}
    crits = {c.id: c.text for c in model.criteria.values()} if model is not None else {}
    return dims, crits


def _text(bilingual, lang):
    if not bilingual:
        return ""
    return bilingual.get(lang) or bilingual.get("en") or ""


def _level_name(level: dict, lang: str) -> str:
    from .present import level_label   # one form everywhere (a one-language model's name shown once)
    return level_label(level, lang)


def render_text(stats: dict, model=None, lang: str = "en") -> str:
    """The statistics as a report for people."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None,
                      legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)
    dims, crits = _names(model)
    lines = [_tr("title", lang),
             f"{_tr('companies', lang)}: {stats['companies']} ({_tr('graded', lang)} {stats['graded']}, "
             f"{_tr('errors', lang)} {stats['errors']})"]
    if stats.get("provisional"):
        lines.append(f"{_tr('provisional', lang)}: {stats['provisional']} — {_tr('provisional_note', lang)}")
    for m in stats["models"]:
        lines.append(f"{_tr('model', lang)}: {for_terminal(m['id'])} {for_terminal(m['version'])} ({m['companies']})")
    console.print("\n".join(lines), markup=False)
    console.print()

    table = Table(title=_tr("levels", lang), box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
    table.add_column(_tr("level", lang))
    table.add_column(_tr("count", lang), justify="right")
    table.add_column(_tr("share", lang), justify="right")
    table.add_column("")
    for level in stats["levels"]:
        bar = "█" * round(level["share"] * 40)
        table.add_row(for_rich(_level_name(level, lang)), str(level["count"]), percent(level["share"]), bar)
    console.print(table)

    for key, word in (("by_region", "region"), ("by_industry", "industry")):
        rows = stats[key]
        if not rows or (len(rows) == 1 and rows[0][word] == UNKNOWN):
            continue
        console.print()
        table = Table(title=_tr(key, lang), box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
        table.add_column(_tr(word, lang))
        table.add_column(_tr("companies", lang), justify="right")
        for level in stats["levels"]:
            table.add_column(f"L{level['rank']}", justify="right")
        for row in rows:
            # the region and industry are the users' own text: [/bad] prints as written (issue 10)
            table.add_row(for_rich(row[word]) if row[word] else _tr("unknown", lang), str(row["companies"]),
                          *[str(row["levels"][str(level["rank"])]) for level in stats["levels"]])
        console.print(table)

    for key, field, names in (("shortest_staves", "dimension", dims), ("blockers", "criterion", crits),
                              ("minimal_fix", "criterion", crits)):
        console.print()
        word = "shortest" if key == "shortest_staves" else key
        rows = stats[key]
        if not rows:
            console.print(f"{_tr(word, lang)}: {_tr('none', lang)}", markup=False)
            continue
        table = Table(title=_tr(word, lang), box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
        table.add_column(_tr(field, lang), no_wrap=True)
        table.add_column(_tr("count", lang), justify="right")
        table.add_column(_tr("share", lang), justify="right")
        table.add_column("", overflow="fold")
        for row in rows:
            table.add_row(for_rich(row[field]), str(row["count"]), percent(row["share"]),
                          for_rich(_text(names.get(row[field]), lang)))
        console.print(table)
    text = cast(io.StringIO, console.file).getvalue()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _bars(rows: List[dict], label, value, width: int = 640) -> dict:
    """Geometry of a horizontal bar chart (inline SVG), computed here so the template stays dumb."""
    top = max((value(r) for r in rows), default=0) or 1
    bar_h, gap, left = 22, 6, 260
    items = []
    for index, row in enumerate(rows):
        v = value(row)
        items.append({"label": label(row), "value": v, "y": index * (bar_h + gap),
                      "w": round((width - left - 60) * v / top, 1)})
    return {"items": items, "height": max(1, len(rows)) * (bar_h + gap), "width": width, "left": left,
            "bar": bar_h}


def render_html(stats: dict, model=None, lang: str = "en") -> str:
    """A self-contained HTML page: tables and inline SVG bar charts (Jinja2, autoescaped)."""
    import jinja2

    import markupsafe

    def shown(value):   # a region or industry is the users' text: control and bidi characters visible (issue 10)
        return for_html(value, one_line=True) if isinstance(value, str) and not isinstance(value, markupsafe.Markup) \
            else value

    env = jinja2.Environment(loader=jinja2.PackageLoader("engine", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                             trim_blocks=True, lstrip_blocks=True, finalize=shown)
    dims, crits = _names(model)

    def dim_label(row):
        name = _text(dims.get(row["dimension"]), lang)
        return f"{name} ({row['dimension']})" if name else row["dimension"]

    charts = {
        "levels": _bars(stats["levels"], lambda r: _level_name(r, lang), lambda r: r["count"]),
        "shortest": _bars(stats["shortest_staves"], dim_label, lambda r: r["count"]),
        "blockers": _bars(stats["blockers"], lambda r: r["criterion"], lambda r: r["count"]),
        "minimal_fix": _bars(stats["minimal_fix"], lambda r: r["criterion"], lambda r: r["count"]),
    }
    words = {key: _tr(key, lang) for key in _WORDS}
    return env.get_template("stats.html.j2").render(
        stats=stats, charts=charts, w=words, lang=lang, crits={k: _text(v, lang) for k, v in crits.items()},
        level_name=lambda level: _level_name(level, lang))

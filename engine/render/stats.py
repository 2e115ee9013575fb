"""The statistics (``qmgrade stats``, ``batch --summary``) as text or as an HTML page.

Both take only the :class:`~engine.stats.Statistics` result.  A region, an industry or a model id
is the users' own text: printed as written ([/bad], [bold red]Zhejiang, <b>, control characters
shown visibly), through :mod:`engine.present`.
"""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, Callable, List, cast

from .. import present
from ..present import for_rich, for_terminal, level_label, percent, text_of, word

from ..stats import UNKNOWN   # a region or industry not given

if TYPE_CHECKING:
    from ..stats import Statistics

__all__ = ["render_text", "render_html"]


def _w(key: str, lang: str) -> str:
    return word(f"stats.{key}", lang)


def _names(model):
    dims = {d.id: d.name for d in model.dimensions} if model is not None else {}
    crits = {c.id: c.text for c in model.criteria.values()} if model is not None else {}
    return dims, crits


def _header(stats: "Statistics", lang: str) -> str:
    lines = [_w("title", lang),
             f"{_w('companies', lang)}: {stats.companies} ({_w('graded', lang)} {stats.graded}, "
             f"{_w('errors', lang)} {stats.errors})"]
    if stats.provisional:
        lines.append(f"{_w('provisional', lang)}: {stats.provisional} — {_w('provisional_note', lang)}")
    for m in stats.models:
        lines.append(f"{_w('model', lang)}: {for_terminal(m['id'])} {for_terminal(m['version'])} ({m['companies']})")
    return "\n".join(lines)


def render_text(stats: "Statistics", lang: str = "en") -> str:
    """The statistics as a report for people (tables 120 columns wide, no colour)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None,
                      legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)
    dims, crits = _names(stats.model)
    console.print(_header(stats, lang), markup=False)
    console.print()

    def table_of(title: str) -> "Table":
        return Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")

    table = table_of(_w("levels", lang))
    table.add_column(_w("level", lang))
    table.add_column(_w("count", lang), justify="right")
    table.add_column(_w("share", lang), justify="right")
    table.add_column("")
    for level in stats.levels:
        bar = "█" * round(level["share"] * 40)
        table.add_row(for_rich(level_label(level, lang)), str(level["count"]), percent(level["share"]), bar)
    console.print(table)

    for key, column in (("by_region", "region"), ("by_industry", "industry")):
        rows = getattr(stats, key)
        if not rows or (len(rows) == 1 and rows[0][column] == UNKNOWN):
            continue
        console.print()
        table = table_of(_w(key, lang))
        table.add_column(_w(column, lang))
        table.add_column(_w("companies", lang), justify="right")
        for level in stats.levels:
            table.add_column(f"L{level['rank']}", justify="right")
        for row in rows:
            # the region and industry are the users' own text: [/bad] prints as written (issue 10)
            table.add_row(for_rich(row[column]) if row[column] else _w("unknown", lang), str(row["companies"]),
                          *[str(row["levels"][str(level["rank"])]) for level in stats.levels])
        console.print(table)

    for key, column, names in (("shortest_staves", "dimension", dims), ("blockers", "criterion", crits),
                               ("minimal_fix", "criterion", crits)):
        console.print()
        title = "shortest" if key == "shortest_staves" else key
        rows = getattr(stats, key)
        if not rows:
            console.print(f"{_w(title, lang)}: {_w('none', lang)}", markup=False)
            continue
        table = table_of(_w(title, lang))
        table.add_column(_w(column, lang), no_wrap=True)
        table.add_column(_w("count", lang), justify="right")
        table.add_column(_w("share", lang), justify="right")
        table.add_column("", overflow="fold")
        for row in rows:
            table.add_row(for_rich(row[column]), str(row["count"]), percent(row["share"]),
                          for_rich(text_of(names.get(row[column]), lang)))
        console.print(table)
    text = cast(io.StringIO, console.file).getvalue()
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _bars(rows: List[dict], label: Callable[[dict], str], value: Callable[[dict], int], width: int = 640) -> dict:
    """Geometry of a horizontal bar chart (inline SVG), computed here so the template stays dumb."""
    top = max((value(r) for r in rows), default=0) or 1
    bar_h, left = 22, 260
    items = []
    for index, row in enumerate(rows):
        v = value(row)
        items.append({"label": label(row), "value": v, "y": index * (bar_h + 6),
                      "w": round((width - left - 60) * v / top, 1)})
    return {"items": items, "height": max(1, len(rows)) * (bar_h + 6), "width": width, "left": left,
            "bar": bar_h}


def render_html(stats: "Statistics", lang: str = "en") -> str:
    """A self-contained HTML page: tables and inline SVG bar charts (Jinja2, autoescaped)."""
    import jinja2
    import markupsafe

    def shown(value):   # a region or industry is the users' text: control and bidi characters visible (issue 10)
        return present.for_html(value, one_line=True) \
            if isinstance(value, str) and not isinstance(value, markupsafe.Markup) else value

    env = jinja2.Environment(loader=jinja2.PackageLoader("engine", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                             trim_blocks=True, lstrip_blocks=True, finalize=shown)
    dims, crits = _names(stats.model)

    def dim_label(row):
        name = text_of(dims.get(row["dimension"]), lang)
        return f"{name} ({row['dimension']})" if name else row["dimension"]

    charts = {
        "levels": _bars(stats.levels, lambda r: level_label(r, lang), lambda r: r["count"]),
        "shortest": _bars(stats.shortest_staves, dim_label, lambda r: r["count"]),
        "blockers": _bars(stats.blockers, lambda r: r["criterion"], lambda r: r["count"]),
        "minimal_fix": _bars(stats.minimal_fix, lambda r: r["criterion"], lambda r: r["count"]),
    }
    return env.get_template("stats.html.j2").render(
        stats=stats.as_dict(), charts=charts, w=present.area_words("stats", lang), lang=lang,
        crits={k: text_of(v, lang) for k, v in crits.items()},
        level_name=lambda level: level_label(level, lang))

"""The HTML report: one self-contained file (no scripts, no network) that prints on A4.

It shows the five-level ladder with the company's place, a radar chart of the
staves (SVG), the table of scores by dimension, what blocks the target level
and the minimal fix with its evidence, why the level holds, and the roadmap
as phases and as a dependency graph (inline SVG laid out here).  Text comes
from Jinja2 templates in ``engine/templates`` with autoescaping on, so no
string from an assessment or a model can inject markup.

:func:`render_html` takes one :class:`~engine.fullreport.FullReport` (the grade,
the explanation and the roadmap, computed elsewhere) and only lays them out:
geometry for the charts, and the words, scores and levels of :mod:`engine.present`.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Dict, List, Optional

import jinja2
import markupsafe

from .. import present
from ..fullreport import FullReport
from .gantt import gantt_charts
from ..grading import Grade
from .graph import LEVEL_BORDERS, LEVEL_COLOURS
from ..present import (cap_sentence, coverage_text, criterion_title, effort_words, fit, level_name, month_text,
                       na_above, rating_label, text_of, word)
from ..present import char_width as _width
from .text import cap_relation, holds_sentences

__all__ = ["render_html", "radar_geometry", "graph_layout", "TEMPLATES"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, finalize=_shown)
    return env


def _shown(value):
    """Every value a template prints: user text with control and bidi characters visible (then autoescaped)."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return present.for_html(value)
    return value


def _wrap(text: str, units: int, lines: int = 2) -> List[str]:
    """Break ``text`` into at most ``lines`` lines of about ``units`` half-width characters."""
    out, current, size = [], "", 0
    words = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    for piece in words:
        piece_size = sum(_width(c) for c in piece)
        extra = piece_size + (len(joiner) if current else 0)
        if current and size + extra > units:
            out.append(current)
            current, size = piece, piece_size
        else:
            current = current + joiner + piece if current else piece
            size += extra
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines - 1] + [fit(joiner.join(out[lines - 1:]), units)]
    return out


def radar_geometry(model, graded: Grade, lang: str, size: int = 520) -> dict:
    """Points of the radar chart: one axis per stave, rings at ranks 1..top, the stave levels."""
    dims = model.dimensions
    n = len(dims)
    cx, cy, radius = size / 2, size / 2 - 10, size * 0.30
    top = model.top_rank

    def point(i, value):
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * value / top
        return round(cx + r * math.cos(angle), 1), round(cy + r * math.sin(angle), 1)

    rings = []
    for rank in range(1, top + 1):
        rings.append({"rank": rank, "points": " ".join(f"{x},{y}" for x, y in (point(i, rank) for i in range(n))),
                      "label": point(0, rank)})
    axes, labels, dots = [], [], []
    for i, dim in enumerate(dims):
        x, y = point(i, top)
        axes.append({"x": x, "y": y})
        lx, ly = point(i, top + 0.55)
        cos = math.cos(-math.pi / 2 + 2 * math.pi * i / n)
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        text = _wrap(text_of(dim.name, lang), 16 if lang == "zh" else 20)
        level = graded.dimension_level[dim.id]
        # issue 11: a stave not applicable above Lk is marked at Lk, not plotted at the top
        applicable = graded.applicable_to[dim.id]
        na = na_above(applicable, lang) if applicable < top else ""
        labels.append({"x": lx, "y": round(ly - 6 * (len(text) - 1), 1), "anchor": anchor, "lines": text,
                       "level": level, "shortest": dim.id in graded.shortest, "id": dim.id,
                       "level_text": f"{min(level, applicable)} ({na})" if na else str(level)})
        px, py = point(i, min(level, applicable) if na else level)
        dots.append({"x": px, "y": py, "shortest": dim.id in graded.shortest, "level": level, "na_above": bool(na),
                     "title": f"{text_of(dim.name, lang)}: L{level}" + (f" — {na}" if na else "")})
    polygon = " ".join(f"{d['x']},{d['y']}" for d in dots)
    company = " ".join(f"{x},{y}" for x, y in (point(i, graded.level) for i in range(n)))
    margin = 70   # room for the labels left and right
    return {"size": size, "height": size - 10, "x0": -margin, "width": size + 2 * margin, "cx": cx, "cy": cy, "n": n,
            "rings": rings, "axes": axes, "labels": labels, "dots": dots, "polygon": polygon, "company": company, "top": top}


NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 210, 46, 54, 12, 16


def graph_layout(model, plan: dict, lang: str) -> Optional[dict]:
    """Boxes and edges of the roadmap's dependency graph: one column per phase, in phase order."""
    if not plan["phases"]:
        return None
    where: Dict[str, tuple] = {}
    nodes, headers = [], []
    rows = max(len(p["actions"]) for p in plan["phases"])
    for column, phase in enumerate(plan["phases"]):
        x = PAD + column * (NODE_W + COL_GAP)
        headers.append({"x": x + NODE_W / 2, "text": f"{word('phase', lang)} {phase['phase']}",
                        "unlocks": (f"→ {level_name(model, phase['unlocks']['rank'], lang)}"
                                    if phase["unlocks"] else "")})
        for row, action in enumerate(phase["actions"]):
            y = PAD + 34 + row * (NODE_H + ROW_GAP)
            where[action["id"]] = (x, y)
            level = action["level"]
            nodes.append({
                "x": x, "y": y, "w": NODE_W, "h": NODE_H,
                "id_text": fit(action["id"], 30), "name_text": fit(text_of(action["name"], lang), 33),
                "title": f"{action['id']} — {text_of(action['name'], lang)} (L{level}, {word('effort', lang)} "
                         f"{action['effort']})",
                "fill": LEVEL_COLOURS.get(level, "#ffffff"), "stroke": LEVEL_BORDERS.get(level, "#888888"),
                "prerequisite": not action["covers"]})
    edges = []
    for phase in plan["phases"]:
        for action in phase["actions"]:
            x2, y2 = where[action["id"]]
            direct = set(model.actions[action["id"]].depends_on)
            for before in action["after"]:
                x1, y1 = where[before]
                sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
                bend = max(COL_GAP * 0.6, (ex - sx) * 0.4)
                edges.append({"d": f"M{sx},{sy} C{sx + bend},{sy} {ex - bend},{ey} {ex},{ey}",
                              "indirect": before not in direct})
    width = PAD * 2 + len(plan["phases"]) * NODE_W + (len(plan["phases"]) - 1) * COL_GAP
    height = PAD * 2 + 34 + rows * (NODE_H + ROW_GAP)
    return {"width": width, "height": height, "nodes": nodes, "edges": edges, "headers": headers}


def _levels(model, graded: Grade, target: Optional[int], lang: str) -> List[dict]:
    other = "en" if lang == "zh" else "zh"
    return [{"rank": lv.rank, "name": text_of(lv.name, lang), "other": text_of(lv.name, other),
             "description": (lv.description or {}).get(lang, ""),
             "current": lv.rank == graded.level, "barrel": lv.rank == graded.barrel and graded.barrel != graded.level,
             "target": target is not None and lv.rank == target and target > graded.level,
             "reached": lv.rank <= graded.level, "fill": LEVEL_COLOURS.get(lv.rank, "#ffffff"),
             "stroke": LEVEL_BORDERS.get(lv.rank, "#888888")}
            for lv in model.levels]


def render_html(report: FullReport, lang: str = "en") -> str:
    """The full report as one HTML document: the grade, the explanation and the roadmap of ``report``.

    Its ``focus`` (``assess``, ``explain`` or ``roadmap``) sets the title; the level explained
    and planned for is the explanation's target.
    """
    graded = report.grade
    model = graded.model
    result = graded.as_dict(trace=False)
    explanation = report.explanation
    plan = report.plan()
    target = explanation.target["rank"] if explanation.target else None
    context = {
        "lang": lang, "focus": report.focus, "w": lambda key: word(key, lang),
        "level_name": lambda r: level_name(model, r, lang),
        "rating": lambda value, not_rated=False: rating_label(value, lang, not_rated),
        # issue 10: the one score rule (truncated; a failing score never reads as its threshold)
        "score": present.score, "number": present.number,
        "title": word({"assess": "report_assess", "explain": "report_explain",
                       "roadmap": "report_roadmap"}[report.focus], lang),
        **_company(result["company"]),
        "assessed_on": result.get("assessed_on"),
        "model": {"id": model.id, "version": model.version, "name": text_of(model.name, lang), "sha256": model.sha256},
        "input_sha256": graded.assessment.sha256, "version": _package_version(),
        "level": graded.level, "barrel": graded.barrel, "target": target,
        "threshold": model.threshold, "key_minimum": model.key_minimum,
        "levels": _levels(model, graded, target, lang), "top": model.top_rank,
        "radar": radar_geometry(model, graded, lang) if len(model.dimensions) >= 3 else None,
        "rows": _rows(graded, result, lang), "ranks": list(model.criteria_ranks),
        "dims": {d.id: text_of(d.name, lang) for d in model.dimensions},
        "result": result, "explanation": explanation.as_dict(), "plan": plan,
        "graph": graph_layout(model, plan, lang),
        "criteria": model.criteria,
        "colours": {lv.rank: LEVEL_COLOURS.get(lv.rank, "#f5f5f5") for lv in model.levels},
        "borders": {lv.rank: LEVEL_BORDERS.get(lv.rank, "#888888") for lv in model.levels},
        "holding_caps": [{**cap, "sentence": cap_sentence(cap, model, lang)} for cap in graded.holding_caps()],
        # issue 11: plain words — criteria by title, caps by reason, coverage, red flags, the timeline
        "ctitle": lambda cid: criterion_title(model, cid, lang),
        "action_name": lambda aid: (f"{text_of(model.actions[aid].name, lang)} ({aid})"
                                    if aid in model.actions else aid),
        "cap_text": lambda cap: cap_sentence(cap, model, lang),
        "cap_relation": cap_relation(graded.level, graded.barrel, lang),
        "coverage_line": coverage_text({**result["coverage"], "provisional": result["provisional"]}, lang),
        "red_flags": [criterion_title(model, cid, lang) for cid in result["red_flags"]],
        "holds_sentences": holds_sentences(explanation, lang),
        "effort_text": lambda weeks: effort_words(weeks, lang),
        "when": lambda entry: entry.get("earliest") or month_text(entry["months"], lang),
        "gantt": gantt_charts(model, plan, lang),
    }
    return _environment().get_template("report.html.j2").render(**context)


def _company(company: dict) -> dict:
    """The company's name and its id, industry and region, each on one line with control characters visible."""
    return {"company": company,
            "company_name": present.for_html(company.get("name") or company.get("id") or "—", one_line=True),
            "company_extra": [(k, present.for_html(company[k], one_line=True))
                              for k in ("id", "industry", "region") if company.get(k)]}


def _rows(graded: Grade, result: dict, lang: str) -> List[dict]:
    """The table of staves: each stave's level and its score per level (met, applicable, per cent)."""
    model = graded.model
    pillars = {p.id: text_of(p.name, lang) for p in model.pillars}
    rows = []
    for row in result["dimensions"]:
        cells = []
        for k in model.criteria_ranks:
            score = row["scores"][str(k)]
            cells.append({"k": k, "score": score, "met": row["met"][str(k)],
                          "applicable": graded.cells[(row["id"], k)].applicable,
                          "pct": 0 if score is None else round(score * 100)})
        applicable = row.get("applicable_to", model.top_rank)
        rows.append({"id": row["id"], "name": text_of(model.dimensions_by_id[row["id"]].name, lang),
                     "pillar": pillars.get(row["pillar"], row["pillar"]), "level": row["level"],
                     "shortest": row["id"] in graded.shortest, "cells": cells, "applicable_to": applicable,
                     "na_above": na_above(applicable, lang) if applicable < model.top_rank else ""})
    return rows


def _package_version() -> str:
    from .. import __version__
    return __version__

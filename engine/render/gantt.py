"""The roadmap's timeline as Gantt charts: one chart per milestone, each narrow enough for A4 portrait.

Only geometry is computed here (numbers and short strings); the HTML template
draws it as inline SVG.  Every chart shares one month scale, from the
assessment (month 0) to the last milestone, so the charts stack into one
timeline.  A bar is the action's work (solid), then the months until its
evidence counts (light); a dashed line marks the month the milestone's level
can first be claimed.
"""
from __future__ import annotations

from typing import Dict, List, Optional

from ..present import level_name, word
from ..present import fit

__all__ = ["gantt_charts", "WIDTH"]

WIDTH = 700                 # px: A4 portrait content width (186 mm) at 96 dpi
LABEL_W = 250               # the column of action names
ROW_H = 22
HEAD_H = 34
FOOT_H = 22
MIN_BAR = 3


def _month_label(assessed_on: Optional[str], months: int) -> str:
    from ..roadmap import add_months
    return add_months(assessed_on, months) or f"+{months}"


def _step(span: int) -> int:
    for step in (1, 2, 3, 6, 12):
        if span / step <= 8:
            return step
    return 24


def gantt_charts(model, plan: dict, lang: str) -> List[dict]:
    """One chart per milestone that holds actions: rows (label, work bar, evidence bar), ticks, the level line."""
    entries: Dict[str, dict] = {a["id"]: a for phase in plan["phases"] for a in phase["actions"]}
    milestones = [m for m in plan["milestones"] if m["actions"]]
    if not milestones:
        return []
    span = max(1, max(m["months"] for m in plan["milestones"]))
    chart_w = WIDTH - LABEL_W - 12
    scale = chart_w / span

    def x(months: float) -> float:
        return round(LABEL_W + months * scale, 1)

    step = _step(span)
    ticks = [{"x": x(m), "label": _month_label(plan.get("assessed_on"), m)} for m in range(0, span + 1, step)]
    charts = []
    for milestone in milestones:
        rows = []
        for n, aid in enumerate(milestone["actions"]):
            entry = entries[aid]
            y = HEAD_H + n * ROW_H
            start = _work_end(entry) - entry["work_months"]
            work_x = x(start)
            work_w = max(MIN_BAR, x(_work_end(entry)) - work_x)
            lead_x = work_x + work_w
            lead_w = max(0.0, x(entry["months"]) - lead_x)
            mode = word(f"mode_{entry['mode']}", lang)
            rows.append({
                "y": y, "label": fit(f"{entry['name'][lang]}", 34 if lang == "zh" else 38),
                "mode": mode, "mode_key": entry["mode"],
                "work_x": work_x, "work_w": round(work_w, 1), "lead_x": round(lead_x, 1), "lead_w": round(lead_w, 1),
                "title": f"{mode}: {entry['name'][lang]} ({aid}) — {word('earliest', lang)} "
                         f"{entry['earliest'] or _month_label(None, entry['months'])}",
                "end_label": entry["earliest"] or f"+{entry['months']}", "end_x": round(x(entry["months"]) + 3, 1),
                "level": entry["level"]})
        height = HEAD_H + len(rows) * ROW_H + FOOT_H
        charts.append({
            "level": milestone["level"], "title": f"{word('milestone', lang)} {level_name(model, milestone['level'], lang)}",
            "claim": milestone["earliest"] or f"+{milestone['months']}",
            "claim_x": x(milestone["months"]), "width": WIDTH, "height": height,
            "rows": rows, "ticks": ticks, "axis_y": height - FOOT_H + 4, "label_w": LABEL_W,
            "chart_x": LABEL_W, "chart_w": chart_w})
    return charts


def _work_end(entry: dict) -> int:
    """The month the action's work is done: its evidence counts ``lead_time_months`` later, or with its
    prerequisites' evidence, whichever is later."""
    return entry.get("work_done", entry["months"] - entry["lead_time_months"])

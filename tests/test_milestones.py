"""Roadmap milestones in time (issue 11): effort in the model's units, the earliest month each action's
evidence counts (critical path from assessed_on), the month each level can first be claimed, and the
HTML Gantt chart, one per milestone."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
import yaml

import engine
from conftest import build_model, ratings_up_to, write_assessment, run

SVG = "{http://www.w3.org/2000/svg}"


def t(zh, en):
    return {"zh": zh, "en": en}


def action(ident, addresses, effort=1, depends_on=(), lead=None):
    entry = {"id": ident, "name": t(f"措施{ident}", f"Action {ident}"), "addresses": list(addresses), "effort": effort}
    if depends_on:
        entry["depends_on"] = list(depends_on)
    if lead is not None:
        entry["lead_time_months"] = lead
    return entry


@pytest.fixture
def timed(tmp_path):
    """One action per criterion; alpha's level-2 action is long (effort 4, evidence after 6 months) and
    alpha's level-3 action depends on it (effort 1, evidence after 1 month)."""
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                depends = [f"do-{d}-{level - 1}-{n}"] if level > 2 else []
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=1, depends_on=depends,
                                      lead=2))
    for entry in actions:
        if entry["id"] == "do-alpha-2-1":
            entry.update(effort=4, lead_time_months=6)
        if entry["id"] == "do-alpha-3-1":
            entry.update(lead_time_months=1)
    model_dir = build_model(tmp_path / "model", actions=actions)
    return model_dir, engine.load_model(model_dir)


def dated(path, day="2026-11-15"):
    path.write_text(path.read_text(encoding="utf-8") + f"assessed_on: {day}\n", encoding="utf-8")
    return path


def test_earliest_follows_the_critical_path(runner, timed, tmp_path):
    model_dir, model = timed
    ratings = ratings_up_to(model, 1)
    path = dated(write_assessment(tmp_path / "a.yaml", ratings))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 3, "--format", "json").output)
    entries = {a["id"]: a for p in plan["phases"] for a in p["actions"]}
    long = entries["do-alpha-2-1"]
    # effort 4 = 12-26 person-weeks: at least 3 months of work, then 6 months until the evidence counts
    assert (long["person_weeks"], long["work_months"], long["lead_time_months"]) == ([12, 26], 3, 6)
    assert (long["months"], long["earliest"]) == (9, "2027-08")
    short = entries["do-beta-2-1"]                 # effort 1: no month of work, evidence after 2 months
    assert (short["months"], short["earliest"]) == (2, "2027-01")
    # alpha-3-1 starts when alpha-2-1's work is done (month 3); its evidence cannot count before alpha-2-1's
    follower = entries["do-alpha-3-1"]
    assert follower["after"] == ["do-alpha-2-1"] and (follower["months"], follower["earliest"]) == (9, "2027-08")
    level2, level3 = plan["milestones"]
    assert (level2["level"], level2["months"], level2["earliest"]) == (2, 9, "2027-08")
    assert (level3["level"], level3["earliest"]) == (3, "2027-08")
    assert all(entries[a]["months"] <= m["months"] for m in plan["milestones"] for a in m["actions"])
    text = run(runner, "roadmap", path, "--model", model_dir, "--target", 3).output
    assert "Each level can first be claimed: 2 Inspection 2027-08; 3 Assurance 2027-08" in text
    assert "effort 4 (12–26 person-weeks) · evidence counts 6 months after the work · earliest 2027-08" in text


def test_without_a_date_the_plan_counts_months(runner, timed, tmp_path):
    model_dir, model = timed
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 1))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--format", "json").output)
    assert [(m["level"], m["months"], m["earliest"]) for m in plan["milestones"]] == [(2, 9, None)]
    text = run(runner, "roadmap", path, "--model", model_dir).output
    assert "Milestone 2 Inspection — earliest month 9 after the assessment" in text


def test_effort_units_come_from_the_model(runner, timed, tmp_path):
    model_dir, model = timed
    path = model_dir / "knowledge" / "model.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["effort_scale"] = {k: {"zh": f"{k} 级", "en": f"class {k}", "person_weeks": [k * 10, k * 20]}
                                for k in range(1, 6)}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assessment = dated(write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 1)))
    plan = json.loads(run(runner, "roadmap", assessment, "--model", model_dir, "--format", "json").output)
    assert plan["effort_scale"]["4"] == {"zh": "4 级", "en": "class 4", "person_weeks": [40, 80]}
    entries = {a["id"]: a for p in plan["phases"] for a in p["actions"]}
    assert entries["do-alpha-2-1"]["person_weeks"] == [40, 80] and entries["do-alpha-2-1"]["work_months"] == 10
    assert plan["total_person_weeks"] == [sum(a["person_weeks"][0] for a in entries.values()),
                                          sum(a["person_weeks"][1] for a in entries.values())]


def test_the_html_gantt_chart_has_one_chart_per_milestone_readable_on_a4(runner, timed, tmp_path):
    model_dir, model = timed
    path = dated(write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 1)))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 5, "--format", "json").output)
    html = run(runner, "roadmap", path, "--model", model_dir, "--target", 5, "--format", "html").output
    charts = re.findall(r'<svg class="gantt-chart".*?</svg>', html, flags=re.S)
    assert len(charts) == len([m for m in plan["milestones"] if m["actions"]]) == 4
    span = max(m["months"] for m in plan["milestones"])
    for svg, milestone in zip(charts, plan["milestones"]):
        root = ET.fromstring(svg)
        assert root.get("data-level") == str(milestone["level"])
        assert int(root.get("width")) <= 700                    # A4 portrait content width at 96 dpi
        rows = root.findall(f"{SVG}g")
        assert len(rows) == len(milestone["actions"])
        # the dashed line of the level's month sits where the month falls on the shared scale
        claim = [line for line in root.findall(f"{SVG}line") if line.get("stroke-dasharray")]
        assert len(claim) == 1
        x = float(claim[0].get("x1"))
        assert x == pytest.approx(250 + milestone["months"] * (700 - 250 - 12) / span, abs=0.1)
        assert f"earliest {milestone['earliest']}" in svg

"""The default model is a knowledge base a quality manager would recognise (issue 3's bar)."""
from __future__ import annotations

import json
from collections import Counter

import networkx as nx
import pytest

from cli import main


@pytest.fixture(scope="module")
def exported():
    from click.testing import CliRunner
    result = CliRunner().invoke(main, ["kb", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_four_pillars_of_the_group_standard_and_at_least_ten_staves(exported):
    pillars = {p["id"]: p["name"]["zh"] for p in exported["pillars"]}
    assert sorted(pillars.values()) == sorted(["质量管理体系有效性", "质量管理数字化", "持续成功能力", "质量绩效"])
    assert len(exported["dimensions"]) >= 10
    assert {d["pillar"] for d in exported["dimensions"]} == set(pillars)


def test_five_levels_from_experience_to_excellence(exported):
    assert [(lv["rank"], lv["name"]["zh"]) for lv in exported["levels"]] == [
        (1, "经验级"), (2, "检验级"), (3, "保证级"), (4, "预防级"), (5, "卓越级")]


def test_at_least_120_criteria_and_two_in_every_stave_and_level(exported):
    criteria = exported["criteria"]
    assert len(criteria) >= 120
    cells = Counter((c["dimension"], c["level"]) for c in criteria)
    for dimension in exported["dimensions"]:
        for level in range(2, 6):
            assert cells[(dimension["id"], level)] >= 2, (dimension["id"], level)


def test_key_criteria_at_every_level(exported):
    assert {c["level"] for c in exported["criteria"] if c["key"]} == {2, 3, 4, 5}


def test_every_criterion_has_text_evidence_and_sources_in_both_languages(exported):
    source_ids = {s["id"] for s in exported["sources"]}
    for criterion in exported["criteria"]:
        assert criterion["text"]["zh"].strip() and criterion["text"]["en"].strip()
        assert criterion["evidence"]["zh"].strip() and criterion["evidence"]["en"].strip()
        assert criterion["sources"] and all(s["source"] in source_ids for s in criterion["sources"])


def test_at_least_60_actions_covering_every_criterion(exported):
    actions = exported["actions"]
    assert len(actions) >= 60
    covered = {c for a in actions for c in a["addresses"]}
    assert covered == {c["id"] for c in exported["criteria"]}
    assert all(1 <= a["effort"] <= 5 for a in actions)


def test_dependencies_are_many_acyclic_and_never_inverted(exported):
    actions = {a["id"]: a for a in exported["actions"]}
    level = {c["id"]: c["level"] for c in exported["criteria"]}
    graph = nx.DiGraph((p, a["id"]) for a in actions.values() for p in a["depends_on"])
    assert graph.number_of_edges() >= 0.6 * len(actions)
    assert nx.is_directed_acyclic_graph(graph)
    for action in actions.values():
        own = min(level[c] for c in action["addresses"])
        for prerequisite in action["depends_on"]:
            assert min(level[c] for c in actions[prerequisite]["addresses"]) <= own, (action["id"], prerequisite)


def test_caps_are_sourced_rules_over_declared_facts(exported):
    caps = [r for r in exported["rules"] if r["conclude"] == "cap"]
    assert len(caps) >= 3
    assert all(r["sources"] and r.get("rationale") for r in caps)
    assert {"major_quality_incident_3y", "product_recall_3y"} <= {f["id"] for f in exported["facts"]}


def test_kb_show_reads_in_chinese_and_english(runner):
    zh = runner.invoke(main, ["kb", "show", "--lang", "zh"])
    en = runner.invoke(main, ["kb", "show", "--lang", "en"])
    assert zh.exit_code == en.exit_code == 0
    assert "质量管理体系有效性" in zh.output and "保证级" in zh.output
    assert "Assurance" in en.output


@pytest.fixture(scope="module")
def default_model():
    import engine
    return engine.load_model()


def _grade(model, ratings):
    import engine
    from engine.assessment import assessment_from_data
    return engine.grade(model, assessment_from_data({"ratings": ratings}, "t", model)).as_dict(trace=False)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_default_model_all_criteria_up_to_k_full_gives_level_k(default_model, k):
    ratings = {cid: ("full" if c.level <= k else "none") for cid, c in default_model.criteria.items()}
    assert _grade(default_model, ratings)["level"]["rank"] == k


@pytest.mark.parametrize("j", [2, 3, 4, 5])
def test_default_model_emptying_one_staves_level_j_drops_to_j_minus_1(default_model, j):
    for stave in ("qms", "digital-ops", "results"):
        ratings = {cid: ("none" if (c.dimension == stave and c.level == j) else "full")
                   for cid, c in default_model.criteria.items()}
        result = _grade(default_model, ratings)
        assert result["level"]["rank"] == j - 1
        assert result["barrel"]["shortest"] == [stave]
        # raising every listed blocker to full reaches the next level
        for blocker in result["next_level"]["blockers"]:
            ratings[blocker["criterion"]] = "full"
        assert _grade(default_model, ratings)["level"]["rank"] == 5

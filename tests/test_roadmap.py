"""`qmgrade roadmap`: the fewest actions covering the minimal fix, after their prerequisites, in phases."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY, make_assessment, raised, rating_maps
from conftest import build_model, ratings_up_to, write_assessment, run
from engine.roadmap import done_actions, plan_roadmap

ROOT = Path(__file__).resolve().parent.parent


def t(zh, en):
    return {"zh": zh, "en": en}


def action(ident, addresses, effort=1, depends_on=()):
    entry = {"id": ident, "name": t(f"措施{ident}", f"Action {ident}"), "addresses": list(addresses), "effort": effort}
    if depends_on:
        entry["depends_on"] = list(depends_on)
    return entry


def test_roadmap_json_has_the_contract_shape(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    path = write_assessment(tmp_path / "a.yaml", ratings)
    result = run(runner, "roadmap", path, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert (plan["from"], plan["target"]) == (2, 3)
    assert plan["needed"] == [f"{d}-3-{n}" for d in ("alpha", "beta", "gamma") for n in (1, 2)]
    [phase] = plan["phases"]
    assert phase["phase"] == 1 and phase["unlocks"]["rank"] == 3
    assert {"id", "addresses", "effort", "depends_on"} <= set(phase["actions"][0])
    assert plan["order"] == [a["id"] for a in phase["actions"]]
    # what lifts the shortest staves first (all at 2 here), then the least effort (n=1 -> 2, n=2 -> 3)
    assert plan["order"] == ["do-alpha-3-1", "do-beta-3-1", "do-gamma-3-1", "do-alpha-3-2", "do-beta-3-2",
                             "do-gamma-3-2"]
    assert {c["criterion"] for c in phase["check"]} == set(plan["needed"])
    assert plan["reaches"] is True and plan["level_after"] == 3


def test_prerequisites_not_done_come_first_in_earlier_phases(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    ratings["alpha-2-1"] = "largely"      # alpha still meets 2, but do-alpha-2-1 is not done
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--format", "json").output)
    assert [a["id"] for a in plan["phases"][0]["actions"]] == ["do-alpha-2-1", "do-beta-3-1", "do-gamma-3-1",
                                                                "do-alpha-3-2", "do-beta-3-2", "do-gamma-3-2"]
    assert [a["id"] for a in plan["phases"][1]["actions"]] == ["do-alpha-3-1"]
    assert plan["phases"][1]["actions"][0]["after"] == ["do-alpha-2-1"]
    assert plan["phases"][0]["unlocks"] is None and plan["phases"][1]["unlocks"]["rank"] == 3


def test_an_action_covering_several_needed_criteria_is_preferred_then_the_least_effort(tmp_path, runner):
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=1))
    actions += [action("both-alpha-3", ["alpha-3-1", "alpha-3-2"], effort=5),
                action("cheap-beta-3", ["beta-3-1", "beta-3-2"], effort=2),
                action("dear-beta-3", ["beta-3-1", "beta-3-2"], effort=3)]
    model_dir = build_model(tmp_path / "m", actions=actions)
    model = engine.load_model(model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--format", "json").output)
    assert sorted(plan["order"]) == ["both-alpha-3", "cheap-beta-3", "do-gamma-3-1", "do-gamma-3-2"]


def test_a_target_further_up_and_a_target_already_reached(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 4, "--format", "json").output)
    assert [p["unlocks"]["rank"] if p["unlocks"] else None for p in plan["phases"]] == [3, 4]
    assert plan["reaches"] and plan["level_after"] == 4
    result = run(runner, "roadmap", path, "--model", model_dir, "--target", 2)
    assert result.exit_code == 0
    assert "The company is already at or above this level: 2 Inspection." in result.output
    data = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 1, "--format", "json").output)
    assert data["phases"] == [] and data["order"] == [] and data["reaches"] is True


@pytest.mark.parametrize("target", [0, 6])
def test_a_target_outside_the_model_is_an_error(runner, model_dir, model, tmp_path, target):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    result = run(runner, "roadmap", path, "--model", model_dir, "--target", target)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: --target:1:1: level {target} is out of range: the model's levels are 1..5")


def test_a_cap_is_listed_and_no_action_lifts_it(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3), facts={"product_recall_3y": True})
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 4, "--format", "json").output)
    assert plan["from"] == 2 and plan["phases"] and plan["reaches"] is False and plan["level_after"] == 2
    assert [c["rule"] for c in plan["caps"]] == ["cap-recall"]
    text = run(runner, "roadmap", path, "--model", model_dir, "--target", 4).output
    assert "Doing them all still leaves the company at 2 Inspection.\nNo action lifts a cap.\n  Caps: cap-recall → L2\n" in text
    nothing = run(runner, "roadmap", path, "--model", model_dir).output   # target 3 is all met but capped
    assert "A cap holds the company at 2 Inspection. No action lifts a cap." in nothing


def test_text_and_markdown(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    path = write_assessment(tmp_path / "a.yaml", ratings)
    text = run(runner, "roadmap", path, "--model", model_dir).output
    assert "From: 2 Inspection → To: 3 Assurance" in text
    assert "Phase 1 — unlocks 3 Assurance — effort 15" in text
    assert "  1. do-alpha-3-1: Action alpha-3-1 [effort 2]" in text
    assert "    - alpha-3-1: Evidence for alpha-3-1" in text
    assert text.endswith("Total: 6 actions, total effort 15.\nDoing them all reaches 3 Assurance.\n")
    zh = run(runner, "roadmap", path, "--model", model_dir, "--lang", "zh").output
    assert "阶段 1 — 解锁 3 保证级 — 工作量 15" in zh
    md = run(runner, "roadmap", path, "--model", model_dir, "--format", "markdown").output
    assert "## Phase 1 — unlocks 3 Assurance" in md
    assert "| 1 | `do-alpha-3-1` Action alpha-3-1 | 2 | `alpha-3-1` | — |" in md
    assert "- [ ] `alpha-3-1`: Evidence for alpha-3-1" in md


def test_a_dependency_cycle_is_named(model, tmp_path):
    actions = dict(model.actions)
    actions["do-alpha-2-1"] = dataclasses.replace(actions["do-alpha-2-1"], depends_on=("do-alpha-3-1",))
    cyclic = dataclasses.replace(model, actions=actions)
    assessment = make_assessment(cyclic, ratings_up_to(model, 2))
    with pytest.raises(engine.ModelError) as caught:
        plan_roadmap(cyclic, assessment)
    assert str(caught.value) == (f"{model.path}/knowledge:1:1: dependency cycle: do-alpha-2-1 -> do-alpha-3-1 -> "
                                 f"do-alpha-2-1 (each depends on the one before it); no order of the actions "
                                 f"exists (cycle)")


def test_the_default_model_example_is_planned_and_deterministic(runner):
    example = ROOT / "examples" / "stuck-at-assurance-one-stave.yaml"
    first = run(runner, "roadmap", example, "--format", "json").output
    assert first == run(runner, "roadmap", example, "--format", "json").output
    plan = json.loads(first)
    assert plan["from"] == 3 and plan["target"] == 4 and plan["reaches"]
    assert set(plan["needed"]) == {"supplier-4-development", "supplier-4-ppap", "supplier-4-supply-risk"}


# -- the "done when" properties, over many varied assessments -----------------------------------------
def check_plan(model, ratings, facts, target):
    assessment = make_assessment(model, ratings, facts)
    graded = engine.grade(model, assessment)
    plan = plan_roadmap(model, assessment, target=target, graded=graded)
    rank = plan["target"]
    assert plan["from"] == graded.level
    assert plan["order"] == [a["id"] for p in plan["phases"] for a in p["actions"]]
    assert len(plan["order"]) == len(set(plan["order"]))
    if rank <= graded.level:
        assert plan["order"] == [] and plan["reaches"]
        return
    graph = model.graph
    done = done_actions(model, assessment)
    position = {aid: i for i, aid in enumerate(plan["order"])}
    phase_of = {a["id"]: p["phase"] for p in plan["phases"] for a in p["actions"]}
    needed = set(graded.minimal_fix(rank))
    assert plan["needed"] == graded.minimal_fix(rank)
    covering = {aid for aid in plan["order"] if needed & set(model.actions[aid].addresses)}
    for aid in plan["order"]:
        assert aid not in done
        # each action after every prerequisite (direct or further back) that is not yet done
        for prerequisite in nx.ancestors(graph, aid) - done:
            assert prerequisite in position and position[prerequisite] < position[aid]
            assert phase_of[prerequisite] < phase_of[aid]
        # no action that neither covers a needed criterion nor leads to one that does
        assert aid in covering or nx.descendants(graph, aid) & covering
    # the plan covers the minimal fix, and doing it all reaches the target unless a cap holds the company
    addressed = {cid for aid in plan["order"] for cid in model.actions[aid].addresses}
    assert needed <= addressed
    after = engine.grade(model, raised(assessment, addressed))
    assert plan["level_after"] == after.level and after.barrel >= rank
    caps = [f.conclusion["level"] for f in graded.firings if f.conclusion["fact"] == "cap" and f.conclusion["level"] < rank]
    assert plan["reaches"] == (after.level >= rank) == (not caps)
    assert [c["level"] for c in plan["caps"]] == caps
    # every phase's unlocks agrees with grading the criteria done so far
    so_far = set()
    for phase in plan["phases"]:
        for entry in phase["actions"]:
            so_far |= set(entry["addresses"])
        assert phase["level_after"] == engine.grade(model, raised(assessment, so_far)).level
        assert {c["criterion"] for c in phase["check"]} <= so_far


@pytest.fixture(scope="module")
def shared_actions_model(tmp_path_factory):
    """A tiny model whose actions cover several criteria, across staves, with long prerequisite chains."""
    actions = []
    dims = ("alpha", "beta", "gamma")
    for d in dims:
        for level in range(2, 6):
            for n in (1, 2, 3):
                depends = [f"do-{d}-{level - 1}-{n}"] if level > 2 else []
                if level == 4 and n == 1:
                    depends.append("cross-3")
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=1 + (level + n) % 5,
                                      depends_on=depends))
    actions.append(action("cross-3", ["alpha-3-1", "beta-3-2", "gamma-3-3"], effort=4, depends_on=["do-beta-2-1"]))
    actions.append(action("pair-5", ["alpha-5-2", "alpha-5-3"], effort=2, depends_on=["do-alpha-4-2"]))
    root = tmp_path_factory.mktemp("shared") / "model"
    return engine.load_model(build_model(root, per_cell=3, actions=actions, weights={"beta-4-2": 3},
                                         keys=("gamma-3-1", "alpha-4-3")))


@pytest.fixture(scope="module")
def default_model():
    return engine.load_model()


@given(data=st.data())
@PROPERTY
def test_roadmap_properties_tiny_model(shared_actions_model, data):
    ratings, facts = data.draw(rating_maps(shared_actions_model, caps=True))
    target = data.draw(st.sampled_from([None, 2, 3, 4, 5]))
    check_plan(shared_actions_model, ratings, facts, target)


@given(data=st.data())
@PROPERTY
def test_roadmap_properties_default_model(default_model, data):
    ratings, facts = data.draw(rating_maps(default_model, caps=True))
    target = data.draw(st.sampled_from([None, 2, 3, 4, 5]))
    check_plan(default_model, ratings, facts, target)

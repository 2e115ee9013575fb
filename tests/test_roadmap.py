"""`qmgrade roadmap`: level milestones of irredundant actions, start/complete/strengthen, dated, in dependency order."""
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
from engine.roadmap import done_actions, in_place_actions, plan_roadmap

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
    [milestone] = plan["milestones"]
    assert milestone["level"] == 3 and milestone["actions"] == plan["order"] and milestone["reaches"]
    [phase] = plan["phases"]
    assert phase["phase"] == 1 and phase["milestone"] == 3 and phase["unlocks"]["rank"] == 3
    assert {"id", "addresses", "effort", "depends_on", "mode", "earliest"} <= set(phase["actions"][0])
    assert plan["order"] == [a["id"] for a in phase["actions"]]
    # what lifts the shortest staves first (all at 2 here), then the least effort (n=1 -> 2, n=2 -> 3)
    assert plan["order"] == ["do-alpha-3-1", "do-beta-3-1", "do-gamma-3-1", "do-alpha-3-2", "do-beta-3-2",
                             "do-gamma-3-2"]
    assert {a["mode"] for a in phase["actions"]} == {"start"}
    assert {c["criterion"] for c in phase["check"]} == set(plan["needed"])
    assert plan["reaches"] is True and plan["level_after"] == 3
    assert plan["red_flags"] == [] and plan["red_flag_actions"] == []


def test_an_action_in_place_is_never_a_mere_prerequisite(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    ratings["alpha-2-1"] = "largely"      # do-alpha-2-1 is in place (not done): do-alpha-3-1 need not wait for it
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--format", "json").output)
    assert "do-alpha-2-1" not in plan["order"]
    entry = next(a for p in plan["phases"] for a in p["actions"] if a["id"] == "do-alpha-3-1")
    assert entry["after"] == [] and entry["mode"] == "start"


def test_a_prerequisite_not_in_place_comes_first(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    ratings["alpha-2-1"] = "partial"      # alpha misses level 2 now: do-alpha-2-1 must be completed first
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 3, "--format", "json").output)
    assert plan["from"] == 1
    assert [m["level"] for m in plan["milestones"]] == [2, 3]
    assert plan["milestones"][0]["actions"] == ["do-alpha-2-1"]
    entries = {a["id"]: a for p in plan["phases"] for a in p["actions"]}
    assert entries["do-alpha-2-1"]["mode"] == "complete"
    assert entries["do-alpha-3-1"]["after"] == ["do-alpha-2-1"]
    assert plan["order"].index("do-alpha-2-1") < plan["order"].index("do-alpha-3-1")


def test_strengthen_names_the_gaps_with_the_smaller_effort(tmp_path, runner):
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=1))
    actions = [a for a in actions if a["id"] not in ("do-alpha-3-1", "do-alpha-3-2")]
    big = action("alpha-3-system", ["alpha-3-1", "alpha-3-2"], effort=4)
    big["strengthen_effort"] = 2
    actions.append(big)
    model_dir = build_model(tmp_path / "m", actions=actions, threshold=0.9)
    model = engine.load_model(model_dir)
    ratings = ratings_up_to(model, 3)
    ratings.update({"alpha-3-1": "largely", "alpha-3-2": "largely"})    # in place, but alpha misses level 3
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 3, "--format", "json").output)
    [entry] = [a for p in plan["phases"] for a in p["actions"]]
    assert entry["id"] == "alpha-3-system" and entry["mode"] == "strengthen" and entry["effort"] == 2
    assert [(g["criterion"], g["rating"]) for g in entry["gaps"]] == [("alpha-3-1", 0.8), ("alpha-3-2", 0.8)]
    text = run(runner, "roadmap", path, "--model", model_dir, "--target", 3).output
    assert "strengthen: Action alpha-3-system (alpha-3-system)" in text
    assert "close the gaps in: Criterion alpha-3-1 (alpha-3-1) largely (0.8); Criterion alpha-3-2 (alpha-3-2) largely (0.8)" in text
    assert "start: Action alpha-3-system" not in text


def test_the_cover_is_chosen_knowing_the_prerequisites(tmp_path, runner):
    """A cheap action whose prerequisite covers the rest beats a dearer action covering more alone."""
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=3))
    actions += [action("base-alpha", ["alpha-3-1"], effort=1),
                action("top-alpha", ["alpha-3-2"], effort=1, depends_on=["base-alpha"]),
                action("wide-alpha", ["alpha-3-1", "alpha-3-2"], effort=5)]
    model_dir = build_model(tmp_path / "m", actions=actions)
    model = engine.load_model(model_dir)
    ratings = ratings_up_to(model, 3)
    ratings.update({"alpha-3-1": "none", "alpha-3-2": "none"})
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 3, "--format", "json").output)
    assert plan["order"] == ["base-alpha", "top-alpha"]


def test_no_action_of_the_plan_can_be_dropped(tmp_path, runner):
    """An action the plan's own prerequisites make unnecessary is not in the plan (checked by grading)."""
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                actions.append(action(f"do-{d}-{level}-{n}", [f"{d}-{level}-{n}"], effort=1))
    # the minimal fix of alpha L3 is alpha-3-2 (weight 3); its only action needs one that raises alpha-3-1
    actions = [a for a in actions if a["id"] not in ("do-alpha-3-1", "do-alpha-3-2")]
    actions += [action("raise-alpha-3-1", ["alpha-3-1"], effort=1),
                action("raise-alpha-3-2", ["alpha-3-2"], effort=1, depends_on=["raise-alpha-3-1"])]
    model_dir = build_model(tmp_path / "m", actions=actions, weights={"alpha-3-2": 3})
    model = engine.load_model(model_dir)
    ratings = ratings_up_to(model, 3)
    ratings.update({"alpha-3-1": "none", "alpha-3-2": "partial"})
    path = write_assessment(tmp_path / "a.yaml", ratings)
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 3, "--format", "json").output)
    assert plan["order"] == ["raise-alpha-3-1", "raise-alpha-3-2"]
    assessment = engine.read_assessment(str(path), model)
    for dropped in plan["order"]:
        rest = [a for a in plan["order"] if a != dropped]
        after = engine.grade(model, raised_keep_na(assessment, {c for a in rest for c in model.actions[a].addresses}))
        assert after.barrel < 3, dropped


def test_milestones_one_per_level_each_reaching_its_level(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 1))
    path.write_text(path.read_text(encoding="utf-8") + "assessed_on: 2026-11-15\n", encoding="utf-8")
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 5, "--format", "json").output)
    assert [m["level"] for m in plan["milestones"]] == [2, 3, 4, 5]
    assert [a for m in plan["milestones"] for a in m["actions"]] == plan["order"]
    assessment = engine.read_assessment(str(path), model)
    done = set()
    for milestone in plan["milestones"]:
        # milestone k holds exactly the level-k actions of this tiny model (one action per criterion)
        assert {model.action_level(a) for a in milestone["actions"]} == {milestone["level"]}
        done |= {c for a in milestone["actions"] for c in model.actions[a].addresses}
        assert engine.grade(model, raised_keep_na(assessment, done)).level == milestone["level"]
        assert milestone["reaches"] and milestone["level_after"] == milestone["level"]
    assert [p["unlocks"]["rank"] if p["unlocks"] else None for p in plan["phases"]] == [2, 3, 4, 5]


def test_a_target_further_up_and_a_target_already_reached(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 4, "--format", "json").output)
    assert [p["unlocks"]["rank"] if p["unlocks"] else None for p in plan["phases"]] == [3, 4]
    assert [m["level"] for m in plan["milestones"]] == [3, 4]
    assert plan["reaches"] and plan["level_after"] == 4
    result = run(runner, "roadmap", path, "--model", model_dir, "--target", 2)
    assert result.exit_code == 0
    assert "The company is already at or above this level: 2 Inspection." in result.output
    data = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 1, "--format", "json").output)
    assert data["phases"] == [] and data["order"] == [] and data["milestones"] == [] and data["reaches"] is True


@pytest.mark.parametrize("target", [0, 6])
def test_a_target_outside_the_model_is_an_error(runner, model_dir, model, tmp_path, target):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    result = run(runner, "roadmap", path, "--model", model_dir, "--target", target)
    assert result.exit_code == 2   # a usage error (issue 10)
    assert result.output.startswith(f"Error: --target: level {target} is out of range: the model's levels are 1..5")


def test_a_cap_is_listed_and_no_action_lifts_it(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3), facts={"product_recall_3y": True})
    plan = json.loads(run(runner, "roadmap", path, "--model", model_dir, "--target", 4, "--format", "json").output)
    assert plan["from"] == 2 and plan["order"] and plan["reaches"] is False and plan["level_after"] == 2
    assert [c["rule"] for c in plan["caps"]] == ["cap-recall"]
    # milestone 3: the staves meet it already, the cap keeps the company below
    assert plan["milestones"][0] == {**plan["milestones"][0], "level": 3, "actions": [], "reaches": False}
    text = run(runner, "roadmap", path, "--model", model_dir, "--target", 4).output
    assert "Doing them all still leaves the company at 2 Inspection.\nNo action lifts a cap.\n" in text
    assert "The staves already meet this level, but a cap keeps the company below it." in text
    assert "cap-recall" not in text          # caps by their reason, not by rule id
    assert "capped at 2 Inspection" in text
    nothing = run(runner, "roadmap", path, "--model", model_dir).output   # target 3 is all met but capped
    assert "A cap holds the company at 2 Inspection. No action lifts a cap." in nothing


def test_text_and_markdown(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    path = write_assessment(tmp_path / "a.yaml", ratings)
    path.write_text(path.read_text(encoding="utf-8") + "assessed_on: 2026-11-15\n", encoding="utf-8")
    text = run(runner, "roadmap", path, "--model", model_dir).output
    assert "From: 2 Inspection → To: 3 Assurance" in text
    # effort 2 and 3 are 1-4 and 4-12 person-weeks; the work takes 1 month, evidence counts 3 months later
    assert "Milestone 3 Assurance — earliest 2027-03 — 6 actions, effort 15–48 person-weeks" in text
    assert "  1. start: Action alpha-3-1 (do-alpha-3-1)" in text
    assert "     addresses: Criterion alpha-3-1 (alpha-3-1)" in text
    assert "effort 2 (1–4 person-weeks) · evidence counts 3 months after the work · earliest 2027-03" in text
    assert "    - Criterion alpha-3-1 (alpha-3-1): Evidence for alpha-3-1" in text
    assert "Each level can first be claimed: 3 Assurance 2027-03" in text
    assert text.endswith("Total: 6 actions, effort 15–48 person-weeks.\nDoing them all reaches 3 Assurance.\n")
    zh = run(runner, "roadmap", path, "--model", model_dir, "--lang", "zh").output
    assert "里程碑 3 保证级 — 最早 2027-03 — 6 项措施" in zh and "启动: 措施 alpha-3-1 (do-alpha-3-1)" in zh
    md = run(runner, "roadmap", path, "--model", model_dir, "--format", "markdown").output
    assert "## Milestone 3 Assurance — earliest 2027-03" in md
    assert ("| 1 | **start:** Action alpha-3-1 (`do-alpha-3-1`) | Criterion alpha-3-1 (`alpha-3-1`) | "
            "1–4 person-weeks | 2027-03 | — |") in md
    assert "- [ ] Criterion alpha-3-1 (`alpha-3-1`): Evidence for alpha-3-1" in md


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
    first = run(runner, "roadmap", example, "--target", 5, "--format", "json").stdout
    assert first == run(runner, "roadmap", example, "--target", 5, "--format", "json").stdout
    plan = json.loads(first)
    model = engine.load_model()
    assessment = engine.read_assessment(str(example), model)
    graded = engine.grade(model, assessment)
    assert plan["from"] == graded.level and plan["target"] == 5 and plan["reaches"]
    assert plan["needed"] == graded.minimal_fix(5)
    assert [m["level"] for m in plan["milestones"]] == list(range(graded.level + 1, 6))
    assert all(m["earliest"] for m in plan["milestones"])


# -- the "done when" properties, over many varied assessments -----------------------------------------
def raised_keep_na(assessment, criteria_ids):
    """The assessment with these criteria at full; na stays na (an action cannot make it applicable)."""
    return assessment.with_ratings({cid: 1.0 for cid in criteria_ids
                                    if not (cid in assessment.ratings and assessment.ratings[cid] is None)})


def check_plan(model, ratings, facts, target, drop_check=True):
    assessment = make_assessment(model, ratings, facts)
    graded = engine.grade(model, assessment)
    plan = plan_roadmap(model, assessment, target=target, graded=graded).as_dict()
    rank = plan["target"]
    assert plan["from"] == graded.level
    assert plan["order"] == [a["id"] for p in plan["phases"] for a in p["actions"]]
    assert plan["order"] == [a for m in plan["milestones"] for a in m["actions"]]
    assert len(plan["order"]) == len(set(plan["order"]))
    if rank <= graded.level:
        assert plan["order"] == [] and plan["reaches"] and plan["milestones"] == []
        return
    assert [m["level"] for m in plan["milestones"]] == list(range(graded.level + 1, rank + 1))
    done = done_actions(model, assessment)
    in_place = in_place_actions(model, assessment)
    position = {aid: i for i, aid in enumerate(plan["order"])}
    entries = {a["id"]: a for p in plan["phases"] for a in p["actions"]}
    assert plan["needed"] == graded.minimal_fix(rank)
    for aid in plan["order"]:
        assert aid not in done
        entry = entries[aid]
        # in place <=> strengthen, never "start"; an in-place action is there for its own gaps
        assert (entry["mode"] == "strengthen") == (aid in in_place)
        if aid in in_place:
            assert entry["gaps"]
        # each action after every action it depends on that is neither done nor in place
        for prerequisite in model.actions[aid].depends_on:
            if prerequisite not in done and prerequisite not in in_place:
                assert prerequisite in position and position[prerequisite] < position[aid]
                assert entries[prerequisite]["months"] <= entry["months"]
    # milestone k reaches level k (unless a cap holds the company), checked by grading
    so_far = set()
    for milestone in plan["milestones"]:
        so_far |= {c for a in milestone["actions"] for c in model.actions[a].addresses}
        after = engine.grade(model, raised_keep_na(assessment, so_far))
        assert after.barrel >= milestone["level"]
        assert milestone["level_after"] == after.level
        assert all(entries[a]["months"] <= milestone["months"] for a in milestone["actions"])
    assert [m["months"] for m in plan["milestones"]] == sorted(m["months"] for m in plan["milestones"])
    after = engine.grade(model, raised_keep_na(assessment, so_far))
    assert plan["level_after"] == after.level and after.barrel >= rank
    caps = [f.conclusion["level"] for f in graded.firings if f.conclusion["fact"] == "cap" and f.conclusion["level"] < rank]
    assert plan["reaches"] == (after.level >= rank) == (not caps)
    # irredundant: no action that nothing else in the plan needs can be dropped while the target is reached
    if drop_check:
        needed_by = {p for aid in plan["order"] for p in entries[aid]["after"]}
        for aid in plan["order"]:
            if aid in needed_by:
                continue
            rest = {c for a in plan["order"] if a != aid for c in model.actions[a].addresses}
            assert engine.grade(model, raised_keep_na(assessment, rest)).barrel < rank, aid


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
    check_plan(default_model, ratings, facts, target, drop_check=data.draw(st.integers(0, 4)) == 0)

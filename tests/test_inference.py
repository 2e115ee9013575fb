"""The inference loop around durable_rules: states are always safe to delete, results never depend on
how many companies a process grades before this one.

A durable_rules 2.0.28 defect (DURABLE.md): deleting a state in which no action ever started crashes the
process ("double free or corruption" or SIGSEGV).  These tests grade in a child process, so a crash shows as
a failed test instead of taking pytest down with it.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, build_model, write_assessment

CLI = [sys.executable, str(ROOT / "cli.py")]


def never_firing(model_dir: Path) -> Path:
    """Give every rule of ``model_dir`` a first pattern that no fact ever matches: the rules fire nothing."""
    for path in sorted((model_dir / "rules").glob("*.yaml")):
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        rule["when"] = [{"fact": "cell", "as": "never_cell", "where": {"level": {"gt": 1000}}}, *rule["when"]]
        path.write_text(yaml.safe_dump(rule, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return model_dir


def run_cli(*args, stdin=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, input=stdin, timeout=300)


def test_a_model_whose_rules_fire_nothing_is_an_error_not_a_crash(tmp_path):
    model_dir = never_firing(build_model(tmp_path / "model"))
    assessment = write_assessment(tmp_path / "a.yaml", {})
    done = run_cli("assess", assessment, "--model", model_dir)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert done.stderr.startswith("Error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "double free" not in done.stderr
    assert "did not decide" in done.stderr   # the model loaded; the grade failed for the rules' sake


def test_many_companies_whose_rules_fire_nothing_in_one_process(tmp_path):
    """More companies than durable_rules has state ids (1024) in one process: each an error entry, no crash,
    and the next run in the same process still works."""
    model_dir = never_firing(build_model(tmp_path / "model"))
    lines = [json.dumps({"company": {"id": f"c-{i}"}, "ratings": {}}) for i in range(1100)]
    source = tmp_path / "many.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = run_cli("batch", source, "--out", out, "--jobs", "1", "--model", model_dir)
    assert done.returncode in (0, 1), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "double free" not in done.stderr
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 1100
    assert all("did not decide" in r["error"] for r in results)


def test_grading_after_an_engine_error_in_the_same_process_still_grades(tmp_path):
    """An engine error (here: rules that decide nothing) in one company leaves the process able to grade
    another model's companies correctly afterwards."""
    broken = never_firing(build_model(tmp_path / "broken"))
    good = build_model(tmp_path / "good")
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import engine
from engine.assessment import assessment_from_data
from engine.errors import EngineError
bad = engine.load_model({str(broken)!r})
good = engine.load_model({str(good)!r})
errors = 0
for i in range(1100):
    try:
        engine.grade(bad, assessment_from_data({{"company": {{"id": "b"}}, "ratings": {{}}}}, "b.yaml", bad))
    except EngineError:
        errors += 1
ratings = {{cid: ("full" if c.level <= 3 else "none") for cid, c in good.criteria.items()}}
levels = set()
for i in range(1100):
    result = engine.grade(good, assessment_from_data({{"company": {{"id": "g"}}, "ratings": ratings}}, "g.yaml", good))
    levels.add(result.level)
print(errors, sorted(levels))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.split() == ["1100", "[3]"]


# -- batch --jobs by default (issue 13) ------------------------------------------------------------------------
def test_default_jobs_follow_the_available_cores_within_the_memory_budget(monkeypatch):
    from engine import batch
    monkeypatch.setattr(batch.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert batch.default_jobs() == 1
    monkeypatch.setattr(batch.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert batch.default_jobs() == 2
    monkeypatch.setattr(batch.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    jobs = batch.default_jobs()
    assert 1 <= jobs < 64
    assert batch.MAIN_MB + jobs * batch.WORKER_MB <= batch.TREE_BUDGET_MB


# -- one state per company, emptied for the next (issue 13) ------------------------------------------------------
def _graded_alone_and_in_turn(model, companies):
    """Each company's full result (trace included) graded first in a new ruleset, and graded in turn, in one
    ruleset, after every company before it — in the given order and in reverse."""
    import engine
    from engine.assessment import assessment_from_data
    from engine.inference import forget_compiled

    def result(name, data):
        return engine.grade(model, assessment_from_data(data, name, model)).as_dict(trace=True)

    alone = {}
    for name, data in companies:
        forget_compiled()
        alone[name] = result(name, data)
    forget_compiled()
    forward = {name: result(name, data) for name, data in companies}
    backward = {name: result(name, data) for name, data in reversed(companies)}
    return alone, forward, backward


def _corpus() -> list:
    found = []
    for folder in (ROOT / "knowledge" / "calibration", ROOT / "examples"):
        for path in sorted(folder.glob("*.yaml")):
            if path.name != "expected.yaml":
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                found.append((path.name, json.loads(json.dumps(data.get("assessment", data), default=str))))
    return found


def test_a_company_grades_the_same_whatever_the_process_graded_before_it():
    """The calibration corpus and the examples (every level, every veto event), each graded alone and after
    the others: the same result, trace and all, byte for byte."""
    import engine
    model = engine.load_model()
    companies = _corpus()
    alone, forward, backward = _graded_alone_and_in_turn(model, companies)
    assert len(alone) == len(companies) > 30
    assert {r["level"]["rank"] for r in alone.values()} == {1, 2, 3, 4, 5}
    assert any(r["caps"] for r in alone.values())
    for name, _ in companies:
        expected = json.dumps(alone[name], ensure_ascii=False)
        assert json.dumps(forward[name], ensure_ascii=False) == expected, name
        assert json.dumps(backward[name], ensure_ascii=False) == expected, name


UNSETTLED = """\
description:
  zh: 维度尚无等级时记下。
  en: Notes a stave that has no level yet.
when:
  - fact: stave
  - fact: dimension_level
    as: settled
    not: true
    where:
      dimension: {eq: {ref: stave.dimension}}
then:
  conclude: unsettled
  set:
    dimension: {ref: stave.dimension}
"""


def test_a_rule_that_retracting_a_company_sets_off_does_not_reach_the_next(tmp_path):
    """A rule waiting for a fact's absence matches again while a company's facts are taken away after its
    grade (each stave's level goes before the stave): the next company must see neither that match nor
    anything else left of the company before."""
    import engine
    model = engine.load_model(str(build_model(tmp_path / "model", extra_rules={"unsettled": UNSETTLED})))
    companies = []
    for index, k in enumerate((1, 5, 3, 2, 4, 3, 1)):
        ratings = {cid: ("full" if c.level <= k else "none") for cid, c in model.criteria.items()}
        companies.append((f"c{index}.yaml", {"company": {"id": f"c{index}"}, "ratings": ratings,
                                              "facts": {"product_recall_3y": index == 2}}))
    alone, forward, backward = _graded_alone_and_in_turn(model, companies)
    assert any(f["rule"] == "unsettled" for f in alone["c0.yaml"]["trace"])   # the rule does fire
    assert [alone[f"c{i}.yaml"]["level"]["rank"] for i in range(7)] == [1, 5, 2, 2, 4, 3, 1]
    for name, _ in companies:
        assert forward[name] == alone[name], name
        assert backward[name] == alone[name], name


def test_facts_written_directly_and_facts_encoded_grade_alike():
    """Cell and stave facts are written straight from their scores when the model's ids need no escaping (always,
    with ids as the schema allows them) — by an f-string for the fields the shipped rules compare, by a template
    for others — and encoded otherwise; so are the conclusions a rule reads: every way gives the same result,
    trace and all."""
    import engine
    from engine.assessment import assessment_from_data
    from engine.inference import _CELL_FIELDS, _cell_format, forget_compiled, get_inference
    model = engine.load_model()
    companies = _corpus()
    forget_compiled()
    direct = {name: engine.grade(model, assessment_from_data(data, name, model)).as_dict(trace=True)
              for name, data in companies}
    inference = get_inference(model)
    inference._cell_format = _cell_format(frozenset(_CELL_FIELDS))   # a template of every field, not the f-string
    inference._cell_usual = False
    templated = {name: engine.grade(model, assessment_from_data(data, name, model)).as_dict(trace=True)
                 for name, data in companies}
    inference.plain_ids = frozenset()
    inference.plain_kinds = frozenset()
    inference.actions = {rule: dataclasses.replace(action, plain=False, texts=None if action.texts is None else {})
                         for rule, action in inference.actions.items()}   # texts: none kept from the runs above
    inference._stave_plans = tuple((dimension, pillar, None, cells, {})
                                   for dimension, pillar, _, cells, _ in inference._stave_plans)
    try:
        encoded = {name: engine.grade(model, assessment_from_data(data, name, model)).as_dict(trace=True)
                   for name, data in companies}
    finally:
        forget_compiled()
    assert templated == direct
    assert encoded == direct


CELL_NOTE = """\
description:
  zh: 记下每个单元的得分。
  en: Notes each cell's score.
when:
  - fact: cell
    where:
      applicable: {gt: 0}
then:
  conclude: cell_note
  set:
    dimension: {ref: cell.dimension}
    level: {ref: cell.level}
    score: {ref: cell.score}
"""


def test_a_conclusion_made_once_per_cell_is_still_each_firing_s_own(tmp_path):
    """A cell rule that reads only which cell it matched concludes the same for that cell in every company, and
    is worked out once per cell (issue 13); a rule that reads more of the cell (its score) is worked out for
    each company.  Each firing gets a conclusion of its own: changing one company's changes no other's."""
    import engine
    from engine.assessment import assessment_from_data
    model = engine.load_model(str(build_model(tmp_path / "model", extra_rules={"cell-note": CELL_NOTE})))

    def company(k):
        ratings = {cid: ("full" if c.level <= k else "partial") for cid, c in model.criteria.items()}
        return assessment_from_data({"company": {"id": f"c{k}"}, "ratings": ratings}, f"c{k}.yaml", model)

    first = engine.grade(model, company(2))
    before = json.dumps(first.as_dict(trace=True), ensure_ascii=False)
    for firing in first.firings:
        firing.conclusion["changed"] = True
    second = engine.grade(model, company(4))
    fresh = engine.grade(model, company(2))
    assert first.level == fresh.level == 2 and second.level == 4
    assert not any("changed" in f.conclusion for f in second.firings + fresh.firings)
    assert json.dumps(fresh.as_dict(trace=True), ensure_ascii=False) == before
    notes = {(f.conclusion["dimension"], f.conclusion["level"]): f.conclusion["score"]
             for f in second.firings if f.rule == "cell-note"}
    assert notes and all(score == second.cells[cell].score for cell, score in notes.items())
    earlier = {(f.conclusion["dimension"], f.conclusion["level"]): f.conclusion["score"]
               for f in fresh.firings if f.rule == "cell-note"}
    assert earlier.keys() == notes.keys() and earlier != notes   # the same cells, this company's own scores
    met = {(f.conclusion["dimension"], f.conclusion["level"]) for f in second.firings if f.rule == "cell-met"}
    assert met == {cell for cell, value in second.met.items() if value and second.cells[cell].applicable}


def test_a_fact_no_rule_matches_is_left_out_and_the_rest_still_fire(tmp_path):
    """The tiny model's one cap rule reads a company with a recall: a company without one asserts a company fact
    that no pattern matches.  durable_rules then says "not handled" for that fact and keeps the rest of the
    same assert (issue 13: the catch-all rule that used to match every fact, so that no assert was ever "not
    handled", cost a join frame per fact); the grade is the barrel's, and the recall still caps."""
    import engine
    from engine.assessment import assessment_from_data
    from engine.inference import get_inference
    model = engine.load_model(str(build_model(tmp_path / "model")))
    assert set(get_inference(model).definition) == {rule.id for rule in model.rules}
    ratings = {cid: ("full" if c.level <= 4 else "partial") for cid, c in model.criteria.items()}

    def graded(recall: bool):
        document = {"company": {"id": "c1"}, "ratings": ratings, "facts": {"product_recall_3y": recall}}
        return engine.grade(model, assessment_from_data(document, "c1.yaml", model))

    plain, recalled, again = graded(False), graded(True), graded(False)
    assert plain.level == again.level == plain.barrel == 4
    assert recalled.barrel == 4 and recalled.level == 2
    assert [f.rule for f in recalled.firings if f.conclusion["fact"] == "cap"] == ["cap-recall"]
    assert not [f for f in plain.firings if f.conclusion["fact"] == "cap"]

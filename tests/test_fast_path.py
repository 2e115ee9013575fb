"""The fast path of engine.assessment accepts and refuses exactly what the full path does (issue 13).

Every document below is read twice, by ``assessment_from_data(fast=True)`` and
``fast=False``: both refuse it with the same problems (message, line, column,
code), or both give the same assessment (every field, in order, with its
types).  The whole suite checks the same on every record it reads
(``QMGRADE_CHECK_FAST_PATH=1``, set by conftest.py).
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY, rating_maps
from conftest import examples, ratings_up_to
from engine.assessment import assessment_from_data, plain_assessment
from engine.errors import QmgradeError
from engine.yamlio import load_file, load_text
from test_fuzz import documents, scalars, texts

ROOT = Path(__file__).resolve().parent.parent
FUZZ = PROPERTY.__class__(PROPERTY, max_examples=examples(300))


def outcome(data, model, fast: bool, path: str = "x.yaml"):
    """("ok", every field of the assessment) or ("refused", the problems as users see them)."""
    try:
        a = assessment_from_data(data, path, model, fast=fast)
    except QmgradeError as error:
        return "refused", [(str(p), p.code) for p in error.problems]
    except Exception as error:   # noqa: BLE001 - the same exception either way
        return "raised", repr(error)
    return "ok", repr((list(a.company.items()), a.assessed_on, list(a.ratings.items()), list(a.evidence.items()),
                       list(a.facts.items()), a.path, a.profile_na, a.migration, a.notes))


def same_both_ways(data, model, path: str = "x.yaml"):
    fast, full = outcome(data, model, True, path), outcome(data, model, False, path)
    assert fast == full
    return fast


@pytest.fixture(scope="module")
def shipped():
    return engine.load_model(None)


@pytest.fixture(scope="module")
def typed_model(tmp_path_factory):
    """The shipped model with a fact of every other type besides (number, string, date)."""
    root = tmp_path_factory.mktemp("fast") / "model"
    shutil.copytree(ROOT / "knowledge", root / "knowledge", ignore=shutil.ignore_patterns("calibration"))
    shutil.copytree(ROOT / "rules", root / "rules")
    path = root / "knowledge" / "facts.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = {"zh": "事实", "en": "A fact"}
    document["facts"] += [{"id": "staff", "type": "number", "default": 0, "name": name},
                          {"id": "sector", "type": "string", "default": "", "name": name},
                          {"id": "audited_on", "type": "date", "default": "2020-01-01", "name": name}]
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return engine.load_model(root)


def valid(model) -> dict:
    ratings = ratings_up_to(model, 3, low="partial")
    first = next(iter(ratings))
    return {"company": {"id": "c-1", "name": "测试公司", "industry": "C36", "region": "浙江"},
            "assessed_on": "2026-05-01", "ratings": ratings, "evidence": {first: ["质量手册 §4"]},
            "facts": {"product_recall_3y": False}}


def located(document):
    """The document as the YAML loader gives it (every value with its line and column)."""
    return load_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "x.yaml", ValueError)


def test_every_example_takes_the_fast_path_and_the_full_path_agrees(shipped):
    """The shipped examples are plainly valid: the fast path builds them, the same as the full path."""
    files = sorted((ROOT / "examples").glob("*.yaml"))
    files = [f for f in files if f.name != "expected.yaml"]
    assert files
    for file in files:
        data = load_file(str(file), ValueError)
        assert plain_assessment(data, str(file), shipped) is not None, file.name
        assert same_both_ways(data, shipped, str(file))[0] == "ok"


# one change each to a valid record: every way a record can be wrong, and the odd ways it can be right
EDITS = {
    "bool rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): True}),
    "number rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): 0.85}),
    "integer rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): 1}),
    "too fine a rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): 0.1234567}),
    "out of range": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): 2}),
    "percentage": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): "80%"}),
    "chinese label": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): "基本符合"}),
    "padded label": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): " Full "}),
    "unknown label": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): "fulll"}),
    "null rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): None}),
    "list rating": lambda d, m: d["ratings"].update({next(iter(d["ratings"])): ["full"]}),
    "na everywhere": lambda d, m: d["ratings"].update({c: "na" for c in d["ratings"]}),
    "unknown criterion": lambda d, m: d["ratings"].update({"no-such-criterion": "full"}),
    "integer criterion key": lambda d, m: d["ratings"].update({7: "full"}),
    "ratings null": lambda d, m: d.update(ratings=None),
    "ratings a list": lambda d, m: d.update(ratings=["full"]),
    "no ratings": lambda d, m: d.pop("ratings"),
    "company null": lambda d, m: d.update(company=None),
    "company a string": lambda d, m: d.update(company="c-1"),
    "no company": lambda d, m: d.pop("company"),
    "integer company id": lambda d, m: d["company"].update(id=42),
    "float company id": lambda d, m: d["company"].update(id=42.0),
    "bool company id": lambda d, m: d["company"].update(id=True),
    "integer region": lambda d, m: d["company"].update(region=3),
    "company extra field": lambda d, m: d["company"].update(size=[1, 2], founded=1999),
    "integer company key": lambda d, m: d["company"].update({5: "x"}),
    "profile": lambda d, m: d["company"].update(profile=(m.profiles[0].id if m.profiles else "x")),
    "empty profile": lambda d, m: d["company"].update(profile=""),
    "unknown profile": lambda d, m: d["company"].update(profile="no-such-profile"),
    "null profile": lambda d, m: d["company"].update(profile=None),
    "integer assessed_on": lambda d, m: d.update(assessed_on=20260501),
    "bool assessed_on": lambda d, m: d.update(assessed_on=False),
    "null assessed_on": lambda d, m: d.update(assessed_on=None),
    "evidence a string": lambda d, m: d["evidence"].update({next(iter(d["ratings"])): "manual"}),
    "evidence of numbers": lambda d, m: d["evidence"].update({next(iter(d["ratings"])): [1, 2]}),
    "evidence empty list": lambda d, m: d["evidence"].update({next(iter(d["ratings"])): []}),
    "evidence unknown": lambda d, m: d["evidence"].update({"no-such-criterion": "x"}),
    "evidence null": lambda d, m: d.update(evidence=None),
    "evidence a list": lambda d, m: d.update(evidence=["x"]),
    "facts null": lambda d, m: d.update(facts=None),
    "facts a list": lambda d, m: d.update(facts=[1]),
    "fact word": lambda d, m: d["facts"].update(product_recall_3y="是"),
    "fact padded word": lambda d, m: d["facts"].update(product_recall_3y=" Yes "),
    "fact number": lambda d, m: d["facts"].update(product_recall_3y=1),
    "fact unknown": lambda d, m: d["facts"].update(no_such_fact=True),
    "private fact": lambda d, m: d["facts"].update({"x-note": {"anything": [1]}}),
    "record fact": lambda d, m: d["facts"].update(product_recall=[]),
    "private section": lambda d, m: d.update({"x-source": "survey"}),
    "unknown section": lambda d, m: d.update(fact={"product_recall_3y": True}),
    "model named": lambda d, m: d.update(model={"id": m.id, "version": m.version}),
    "other model named": lambda d, m: d.update(model={"id": "other", "version": "1"}),
    "older version named": lambda d, m: d.update(model={"id": m.id, "version": "0.0.1"}),
    "superseded id": lambda d, m: d["ratings"].update(
        {old: "full" for old in list(((m.supersedes or {}).get("criteria") or {"x": None}))[:2]}),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_kind_of_record_is_read_the_same_by_both_paths(shipped, typed_model, edit):
    for model in (shipped, typed_model):
        document = valid(model)
        EDITS[edit](document, model)
        same_both_ways(document, model)
        same_both_ways(located(document), model)


@pytest.mark.parametrize("facts, plain", [
    ({"staff": 120, "sector": "汽车零部件", "audited_on": "2025-12-01"}, True),
    ({"staff": 1.5}, True),
    ({"staff": True}, False),
    ({"staff": "120"}, False),
    ({"staff": float("nan")}, False),
    ({"sector": 3}, False),
    ({"audited_on": "2025-13-01"}, False),
    ({"audited_on": "2025-1-1"}, False),
    ({"audited_on": 20250101}, False),
])
def test_facts_of_every_type(typed_model, facts, plain):
    document = valid(typed_model)
    document["facts"].update(facts)
    assert (plain_assessment(document, "x.yaml", typed_model) is not None) is plain
    result = same_both_ways(document, typed_model)
    assert (result[0] == "ok") is plain


def test_the_plain_path_is_taken_for_a_plainly_valid_record_only(shipped):
    """The fast path is used (a test that could not tell the paths apart would prove nothing)."""
    document = valid(shipped)
    assert plain_assessment(document, "x.yaml", shipped) is not None
    assert plain_assessment(located(document), "x.yaml", shipped) is not None
    document["ratings"]["no-such-criterion"] = "full"
    assert plain_assessment(document, "x.yaml", shipped) is None


SECTION = {"rating": "ratings", "evidence": "evidence", "company": "company", "fact": "facts"}


@st.composite
def near_valid(draw, model):
    """A valid record with one to three random changes in random places."""
    document = valid(model)
    if draw(st.booleans()):
        ratings, facts = draw(rating_maps(model, caps=True))
        document["ratings"], document["facts"] = ratings, facts
    criteria = sorted(model.criteria)
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["section", "rating", "company", "evidence", "fact", "new section"]))
        value = draw(st.one_of(scalars, documents, st.sampled_from(["full", "na", "不适用", "80%", "是"])))
        if where == "section":
            document[draw(st.sampled_from(sorted(document)))] = value
        elif where == "new section":
            document[draw(st.one_of(texts, st.sampled_from(["model", "x-a", "fact"])))] = value
        elif isinstance(document.get(SECTION[where]), dict):
            target = document[SECTION[where]]
            keys = {"rating": st.sampled_from(criteria), "evidence": st.sampled_from(criteria),
                    "company": st.sampled_from(["id", "name", "industry", "region", "profile"]),
                    "fact": st.sampled_from([f.id for f in model.facts] + ["x-y"])}[where]
            target[draw(st.one_of(keys, texts))] = value
    return document


@FUZZ
@given(data=st.data())
def test_random_records_are_read_the_same_by_both_paths(shipped, typed_model, data):
    model = data.draw(st.sampled_from([shipped, typed_model]))
    document = data.draw(near_valid(model))
    same_both_ways(copy.deepcopy(document), model)
    try:
        text = json.dumps(document, ensure_ascii=False)
    except (ValueError, TypeError):
        return
    try:
        parsed = load_text(text, "x.json", ValueError, json_mode=True)
    except Exception:   # noqa: BLE001 - what the loader refuses never reaches either path
        return
    same_both_ways(parsed, model, "x.json")

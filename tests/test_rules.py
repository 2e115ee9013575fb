"""The rule compiler: a broken rule fails when the model loads, naming its file and line."""
from __future__ import annotations

import textwrap

import pytest

import engine
from engine.errors import ModelError
from engine.inference import get_inference
from conftest import build_model


def load_with_rule(tmp_path, name, text):
    return build_model(tmp_path / "m", extra_rules={name: textwrap.dedent(text)})


def problems(model_dir):
    with pytest.raises(ModelError) as caught:
        engine.load_model(model_dir)
    return [str(p) for p in caught.value.problems]


RULE = """\
    description: {zh: 测试, en: test}
    when:
      - fact: company
        where:
          %s: true
    then:
      conclude: cap
      set:
        level: 1
    """


def test_a_rule_naming_an_unknown_company_fact_fails_at_load(tmp_path):
    model_dir = load_with_rule(tmp_path, "cap-typo", RULE % "product_recal_3y")
    path = model_dir / "rules" / "cap-typo.yaml"
    assert problems(model_dir) == [
        f"{path}:5:7: the model defines no company fact 'product_recal_3y'; did you mean 'product_recall_3y'? "
        f"(unknown-fact)"]


def test_a_rule_naming_an_unknown_fact_kind(tmp_path):
    model_dir = load_with_rule(tmp_path, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cels
        then:
          conclude: note
        """)
    assert problems(model_dir) == [
        f"{model_dir / 'rules' / 'odd.yaml'}:3:11: unknown fact 'cels'; did you mean 'cell'? (unknown-fact)"]


def test_a_ref_to_an_undefined_pattern(tmp_path):
    model_dir = load_with_rule(tmp_path, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cell
            where:
              level: {ref: barrle.level}
        then:
          conclude: note
        """)
    found = problems(model_dir)
    assert found == [f"{model_dir / 'rules' / 'odd.yaml'}:5:14: ref 'barrle.level' names no earlier pattern "
                     f"'barrle' (bad-ref)"]


def test_a_malformed_rule_is_reported_with_its_line(tmp_path):
    model_dir = load_with_rule(tmp_path, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cell
            where:
              score: {between: 1}
        then:
          conclude: note
        """)
    found = problems(model_dir)
    assert len(found) == 1
    assert found[0].startswith(f"{model_dir / 'rules' / 'odd.yaml'}:5:14: when/0/where/score:")


def test_comparing_a_number_field_with_text_is_refused(tmp_path):
    model_dir = load_with_rule(tmp_path, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cell
            where:
              level: high
        then:
          conclude: note
        """)
    assert problems(model_dir) == [
        f"{model_dir / 'rules' / 'odd.yaml'}:5:14: field cell.level is int, compared with a str (type)"]


def test_rules_compile_to_plain_dicts_keyed_by_our_rule_ids(tiny_model_dir):
    model = engine.load_model(tiny_model_dir)
    definition = get_inference(model).definition
    assert set(definition) == {r.id for r in model.rules}
    assert definition["cell-met"]["all"] == [{"cell": {"$and": [
        {"t:cell": 1}, {"$gt": {"applicable": 0}}, {"$gte": {"score": 800000}}, {"keys_below": 0}]}}]
    assert definition["barrel"]["all"][2] == {"shorter$not": {"$and": [
        {"t:dimension_level": 1}, {"$lt": {"level": {"stave": "level"}}}]}}


def test_a_model_whose_rules_never_conclude_the_company_level(tmp_path):
    model_dir = build_model(tmp_path / "m")
    (model_dir / "rules" / "company-level.yaml").unlink()
    (model_dir / "rules" / "company-level-capped.yaml").unlink()
    assert problems(model_dir) == [
        f"{model_dir / 'rules'}:1:1: no rule concludes 'company_level', which the engine needs (conclusion)"]

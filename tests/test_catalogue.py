"""The model-validation catalogue: one test per problem, with the exact message and position users see.

Each test breaks a small, valid model in one way and runs `qmgrade kb validate`:
exit 1 and exactly the ``Error: path:line:col: message (code)`` lines listed, no
cascade of follow-on errors.  (Problems already pinned in test_model.py and
test_rules.py: an unknown dimension, an unknown company fact or fact kind, a
ref to an undefined pattern, a number compared with text, a criterion no action
addresses, a model without a company-level rule.)
"""
from __future__ import annotations

import textwrap

import pytest
import yaml

from cli import main
from conftest import ratings_up_to, write_assessment, cap_rule
import engine


def validate(runner, model_dir):
    result = runner.invoke(main, ["kb", "validate", "--model", str(model_dir)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()


def at(path, needle, nth=1):
    """1-based line and column of the ``nth`` occurrence of ``needle`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def at_after(path, anchor, needle):
    """1-based line and column of the first ``needle`` after ``anchor`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    index = text.index(needle, text.index(anchor) + len(anchor))
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def change_actions(model_dir, change):
    path = model_dir / "knowledge" / "actions.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change({a["id"]: a for a in data["actions"]})
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write(path, text):
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- the action graph ----------------------------------------------------------------------------------------
def test_a_dependency_cycle_is_named_in_full(runner, model_dir):
    def cycle(actions):
        actions["do-alpha-2-1"]["depends_on"] = ["do-beta-2-1"]
        actions["do-beta-2-1"]["depends_on"] = ["do-gamma-2-1"]
        actions["do-gamma-2-1"]["depends_on"] = ["do-alpha-2-1"]
    path = change_actions(model_dir, cycle)
    line, col = at(path, "- id: do-alpha-2-1")
    assert validate(runner, model_dir) == [
        f"Error: {path}:{line}:{col + 2}: dependency cycle: do-alpha-2-1 -> do-gamma-2-1 -> do-beta-2-1 -> "
        f"do-alpha-2-1 (each depends on the one before it) (cycle)"]


def test_an_action_that_depends_on_itself(runner, model_dir):
    path = change_actions(model_dir, lambda a: a["do-beta-3-2"].update(depends_on=["do-beta-3-2"]))
    line, col = at_after(path, "- id: do-beta-3-2", "do-beta-3-2")
    assert validate(runner, model_dir) == [
        f"Error: {path}:{line}:{col}: action 'do-beta-3-2' depends on itself (cycle)"]


def test_a_level_inversion_names_both_actions_and_levels(runner, model_dir):
    path = change_actions(model_dir, lambda a: a["do-gamma-3-1"].update(depends_on=["do-beta-5-2"]))
    line, col = at_after(path, "- id: do-gamma-3-1", "do-beta-5-2")
    assert validate(runner, model_dir) == [
        f"Error: {path}:{line}:{col}: level inversion: action 'do-gamma-3-1' (level 3) depends on "
        f"'do-beta-5-2', whose criteria all sit at level 5 or above (level-inversion)"]


# -- duplicates ----------------------------------------------------------------------------------------------
def test_a_duplicate_criterion_id_in_another_file_names_the_first(runner, model_dir):
    criteria = model_dir / "knowledge" / "criteria.yaml"
    more = write(model_dir / "knowledge" / "more.yaml", """\
        criteria:
          - id: beta-4-2
            dimension: beta
            level: 4
            text: {zh: 重复, en: Duplicate}
            evidence: {zh: 证据, en: Evidence}
            sources: [{source: seed}]
        """)
    first, _ = at(criteria, "- id: beta-4-2")
    assert validate(runner, model_dir) == [
        f"Error: {more}:2:9: duplicate criterion id 'beta-4-2' (first defined at {criteria}:{first}) (duplicate-id)"]


def test_a_duplicate_action_id(runner, model_dir):
    actions = model_dir / "knowledge" / "actions.yaml"
    more = write(model_dir / "knowledge" / "more.yaml", """\
        actions:
          - id: do-beta-4-2
            name: {zh: 重复, en: Duplicate}
            addresses: [beta-4-2]
            effort: 1
        """)
    first, _ = at(actions, "- id: do-beta-4-2")
    assert validate(runner, model_dir) == [
        f"Error: {more}:2:9: duplicate action id 'do-beta-4-2' (first defined at {actions}:{first}) (duplicate-id)"]


def test_a_duplicate_dimension_id(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    more = write(model_dir / "knowledge" / "more.yaml", """\
        dimensions:
          - {id: gamma, pillar: p1, name: {zh: 又一个, en: Again}}
        """)
    first, _ = at(model_file, "- id: gamma")
    assert validate(runner, model_dir) == [
        f"Error: {more}:2:10: duplicate dimension id 'gamma' (first defined at {model_file}:{first}) (duplicate-id)"]


def test_duplicate_yaml_keys_in_a_rule_do_not_cascade(runner, model_dir):
    rule = model_dir / "rules" / "barrel.yaml"
    edit(rule, "then:\n", "then:\n  conclude: barrel\n")
    line, _ = at(rule, "  conclude: barrel", 2)
    assert validate(runner, model_dir) == [
        f"Error: {rule}:{line}:3: duplicate key 'conclude' (first defined at line {line - 1}) (duplicate-key)"]


def test_the_model_header_defined_twice(runner, model_dir):
    other = write(model_dir / "knowledge" / "z.yaml", "model: {id: other, version: '1', name: {zh: 另一, en: Other}}\n")
    assert validate(runner, model_dir) == [
        f"Error: {other}:1:1: 'model' is already defined in {model_dir / 'knowledge' / 'model.yaml'} (duplicate-id)"]


# -- unknown references, with did you mean -----------------------------------------------------------------
def test_an_unknown_pillar(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "  pillar: p1\n", "  pillar: p11\n")
    line, col = at(model_file, "p11")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col}: unknown pillar 'p11'; did you mean 'p1'? (unknown-id)"]


def test_an_unknown_criterion_in_addresses(runner, model_dir):
    actions = model_dir / "knowledge" / "actions.yaml"
    criteria = model_dir / "knowledge" / "criteria.yaml"
    edit(actions, "  - alpha-2-2\n", "  - alpha-2-3\n")
    line, col = at(actions, "alpha-2-3")
    orphan, orphan_col = at(criteria, "- id: alpha-2-2")
    assert validate(runner, model_dir) == [
        f"Error: {actions}:{line}:{col}: unknown criterion 'alpha-2-3'; did you mean 'alpha-2-2'? (unknown-id)",
        f"Error: {criteria}:{orphan}:{orphan_col + 2}: criterion 'alpha-2-2' is addressed by no action (unaddressed)"]


def test_an_unknown_action_in_depends_on(runner, model_dir):
    actions = model_dir / "knowledge" / "actions.yaml"
    edit(actions, "  - do-alpha-2-1\n", "  - do-alpa-2-1\n")
    line, col = at(actions, "do-alpa-2-1")
    assert validate(runner, model_dir) == [
        f"Error: {actions}:{line}:{col}: unknown action 'do-alpa-2-1'; did you mean 'do-alpha-2-1'? (unknown-id)"]


def test_an_unknown_source_in_a_criterion(runner, model_dir):
    criteria = model_dir / "knowledge" / "criteria.yaml"
    edit(criteria, "  - source: seed\n", "  - source: sead\n")
    line, col = at(criteria, "sead")
    assert validate(runner, model_dir) == [
        f"Error: {criteria}:{line}:{col}: unknown source 'sead'; did you mean 'seed'? (unknown-id)"]


def test_an_unknown_source_in_a_rule(runner, model_dir):
    rule = model_dir / "rules" / "cap-recall.yaml"
    edit(rule, "sources: [{source: seed}]", "sources: [{source: gbt1904}]")
    line, col = at(rule, "gbt1904")
    assert validate(runner, model_dir) == [
        f"Error: {rule}:{line}:{col}: unknown source 'gbt1904'; did you mean 'gbt19004'? (unknown-id)"]


# -- translations ------------------------------------------------------------------------------------------
def test_a_missing_chinese_name_of_a_dimension(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "    zh: 维度beta\n", "")
    line, col = at(model_file, "en: Dimension beta")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col}: dimensions/1/name: 'zh' is a required property (missing-translation)"]


def test_a_rule_description_in_one_language_only(runner, model_dir):
    rule = model_dir / "rules" / "barrel.yaml"
    edit(rule, "  en: The barrel", "  fr: The barrel")
    assert validate(runner, model_dir) == [
        f"Error: {rule}:2:3: description: 'en' is a required property (missing-translation)",
        f"Error: {rule}:2:3: description: Additional properties are not allowed ('fr' was unexpected) (schema)"]


# -- rules ----------------------------------------------------------------------------------------------------
def add_rule(model_dir, name, text):
    return write(model_dir / "rules" / f"{name}.yaml", text)


def test_a_rule_naming_an_unknown_field_of_a_fact(runner, model_dir):
    rule = add_rule(model_dir, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cell
            where:
              scor: {gte: 0.5}
        then:
          conclude: note
        """)
    assert validate(runner, model_dir) == [
        f"Error: {rule}:5:7: fact 'cell' has no field 'scor'; did you mean 'score'? (unknown-fact)"]


@pytest.mark.parametrize("body, message", [
    ("when:\n  - fact: cell\n", "{rule}:1:1: 'then' is a required property (schema)"),
    ("when:\n  - fact: cell\n    unless: true\nthen:\n  conclude: note\n",
     "{rule}:3:5: when/0: Additional properties are not allowed ('unless' was unexpected) (schema)"),
    ("when:\n  - fact: cell\n    not: 'yes'\nthen:\n  conclude: note\n",
     "{rule}:4:10: when/0/not: 'yes' is not of type 'boolean' (schema)"),
    ("when: []\nthen:\n  conclude: note\n", "{rule}:2:7: when: [] should be non-empty (schema)"),
    ("when:\n  - fact: cell\nthen:\n  conclude: Note\n",
     "{rule}:5:13: then/conclude: 'Note' is not a valid id (lowercase letters, digits, '-' or '_') (schema)"),
    ("salience: high\nwhen:\n  - fact: cell\nthen:\n  conclude: note\n",
     "{rule}:2:11: salience: 'high' is not of type 'integer' (schema)"),
])
def test_a_rule_that_breaks_the_rule_schema(runner, model_dir, body, message):
    rule = add_rule(model_dir, "odd", "description: {zh: 测试, en: test}\n" + body)
    assert validate(runner, model_dir) == ["Error: " + message.format(rule=rule)]


def test_a_rule_file_name_that_is_not_an_id(runner, model_dir):
    rule = add_rule(model_dir, "Odd Rule", "description: {zh: 测试, en: test}\nwhen:\n  - fact: cell\n"
                                           "then:\n  conclude: note\n")
    assert validate(runner, model_dir) == [
        f"Error: {rule}:1:1: rule id (file name) 'Odd Rule' is not a valid id (schema)"]


def test_a_rule_concluding_what_the_engine_reads_must_set_its_fields(runner, model_dir):
    rule = add_rule(model_dir, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: phase
            where: {name: decide}
        then:
          conclude: company_level
          set:
            rank: 1
        """)
    assert validate(runner, model_dir) == [
        f"Error: {rule}:6:13: a rule concluding 'company_level' must set 'level': the engine reads it (conclusion)"]


def test_a_level_the_engine_reads_must_be_an_integer(runner, model_dir):
    rule = add_rule(model_dir, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: phase
            where: {name: decide}
        then:
          conclude: cap
          set:
            level: high
        """)
    assert validate(runner, model_dir) == [f"Error: {rule}:8:12: cap.level must be an integer, found a str (type)"]


def test_a_reserved_field_name(runner, model_dir):
    rule = add_rule(model_dir, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: barrel
        then:
          conclude: note
          set:
            fact: 1
        """)
    assert validate(runner, model_dir) == [f"Error: {rule}:7:5: field name 'fact' is reserved (reserved)"]


def test_a_rule_joining_unlinked_patterns_is_refused(runner, model_dir):
    rule = add_rule(model_dir, "odd", """\
        description: {zh: 测试, en: test}
        when:
          - fact: cell
            as: first
          - fact: cell
            as: second
          - fact: met
          - fact: unmet
        then:
          conclude: note
        """)
    assert validate(runner, model_dir) == [
        f"Error: {rule}:2:1: patterns 'first', 'second', 'met', 'unmet' are not linked to an earlier pattern by an "
        f"equality ref: durable_rules would try every combination of their facts; link them (e.g. dimension: "
        f"{{ref: first.dimension}}) (cartesian-join)"]


def test_a_rule_concluding_a_level_outside_the_model_fails_when_grading(runner, model_dir, tmp_path):
    (model_dir / "rules" / "cap-recall.yaml").unlink()
    rule = add_rule(model_dir, "cap-zero", cap_rule(0))
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(engine.load_model(model_dir), 3),
                            facts={"product_recall_3y": True})
    result = runner.invoke(main, ["assess", str(path), "--model", str(model_dir)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {rule}:1:1: rule 'cap-zero' concluded cap with level 0, which is not a "
                             f"rank of the model (1..5)\n")


# -- values and files --------------------------------------------------------------------------------------
def test_nan_in_the_method(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "threshold: 0.8", "threshold: .nan")
    line, col = at(model_file, ".nan")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col}: '.nan' is not a finite number (NaN and infinity are not accepted)"]


def test_a_pillar_without_dimensions(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "pillars:\n", "pillars:\n- {id: p2, name: {zh: 支柱二, en: Pillar two}}\n")
    line, col = at(model_file, "- {id: p2")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col + 2}: pillar 'p2' has no dimension (empty-pillar)"]


def test_level_ranks_with_a_gap(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "- rank: 4\n", "- rank: 5\n")
    line, col = at(model_file, "- rank: 1")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col + 2}: level ranks must be 1..N without gaps or repeats, found "
        f"[1, 2, 3, 5, 5] (levels)"]


def test_a_fact_default_of_the_wrong_type(runner, model_dir):
    model_file = model_dir / "knowledge" / "model.yaml"
    edit(model_file, "default: false", "default: 'no'")
    line, col = at(model_file, "'no'")
    assert validate(runner, model_dir) == [
        f"Error: {model_file}:{line}:{col}: default 'no' of fact 'product_recall_3y' is not a boolean (fact-type)"]


def test_python_tags_in_a_model_file_are_refused(runner, model_dir):
    bad = write(model_dir / "knowledge" / "z.yaml", "criteria: !!python/object/apply:os.system ['echo pwned']\n")
    assert validate(runner, model_dir) == [
        f"Error: {bad}:1:11: malformed YAML: could not determine a constructor for the tag "
        f"'tag:yaml.org,2002:python/object/apply:os.system'"]


def test_an_explicit_tag_on_the_wrong_kind_of_node(runner, model_dir):
    bad = write(model_dir / "knowledge" / "z.yaml", "criteria: !!set oops\n")
    assert validate(runner, model_dir) == [
        f"Error: {bad}:1:11: malformed YAML: expected a mapping for the tag 'tag:yaml.org,2002:set'"]


@pytest.mark.parametrize("dimension, level, wrong", [
    ("{ref: cell.dimension}", "9", "level 9, which is not a rank of the model (1..5)"),
    ("nowhere", "{ref: cell.level}", "dimension 'nowhere', which the model does not define"),
])
def test_a_cell_rule_concluding_a_cell_outside_the_model_fails_when_grading(runner, model_dir, tmp_path, dimension,
                                                                             level, wrong):
    rule = add_rule(model_dir, "met-odd", f"""\
        description: {{zh: 测试, en: test}}
        when:
          - fact: cell
            where:
              level: 3
        then:
          conclude: met
          set:
            dimension: {dimension}
            level: {level}
        """)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(engine.load_model(model_dir), 3))
    result = runner.invoke(main, ["assess", str(path), "--model", str(model_dir)])
    assert result.exit_code == 1
    assert result.output == f"Error: {rule}:1:1: rule 'met-odd' concluded met with {wrong}\n"

"""Model loading and validation: every problem at its file, line and column, all at once."""
from __future__ import annotations


import pytest
import yaml

import engine
from engine.errors import ModelError


def problems(model_dir):
    with pytest.raises(ModelError) as caught:
        engine.load_model(model_dir)
    return [str(p) for p in caught.value.problems]


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number, line.index(needle.strip()) + 1
    raise AssertionError(needle)


def test_the_shipped_model_loads_and_validates():
    model = engine.load_model()
    assert [lv.id for lv in model.levels] == ["experience", "inspection", "assurance", "prevention", "excellence"]
    assert model.criteria and model.actions and model.rules


def test_a_tiny_model_loads(tiny_model_dir):
    model = engine.load_model(tiny_model_dir)
    assert len(model.criteria) == 24
    assert model.cells[("alpha", 2)][0].id == "alpha-2-1"


def test_unknown_dimension_with_did_you_mean(tiny_model_dir):
    criteria = tiny_model_dir / "knowledge" / "criteria.yaml"
    edit(criteria, "dimension: beta", "dimension: betta")
    line, col = line_of(criteria, "dimension: betta")
    assert problems(tiny_model_dir) == [
        f"{criteria}:{line}:{col + len('dimension: ')}: unknown dimension 'betta'; did you mean 'beta'? (unknown-id)"]


def test_duplicate_ids_name_the_first(tiny_model_dir):
    criteria = tiny_model_dir / "knowledge" / "criteria.yaml"
    edit(criteria, "id: alpha-2-2", "id: alpha-2-1")
    found = problems(tiny_model_dir)
    assert any("duplicate criterion id 'alpha-2-1' (first defined at" in p for p in found)


def test_duplicate_yaml_keys_are_caught(tiny_model_dir):
    model_file = tiny_model_dir / "knowledge" / "model.yaml"
    text = model_file.read_text(encoding="utf-8")
    model_file.write_text(text.replace("  version: '0.1'\n", "  version: '0.1'\n  version: '0.2'\n", 1),
                          encoding="utf-8")
    line, _ = line_of(model_file, "version: '0.2'")
    assert f"{model_file}:{line}:3: duplicate key 'version' (first defined at line {line - 1}) (duplicate-key)" \
        in problems(tiny_model_dir)


def test_a_dependency_cycle_is_named(tiny_model_dir):
    actions = tiny_model_dir / "knowledge" / "actions.yaml"
    data = yaml.safe_load(actions.read_text(encoding="utf-8"))
    by_id = {a["id"]: a for a in data["actions"]}
    by_id["do-alpha-2-1"]["depends_on"] = ["do-alpha-2-2"]
    by_id["do-alpha-2-2"]["depends_on"] = ["do-alpha-2-1"]
    actions.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    found = [p for p in problems(tiny_model_dir) if "(cycle)" in p]
    assert len(found) == 1
    assert "dependency cycle: do-alpha-2-1 -> do-alpha-2-2 -> do-alpha-2-1" in found[0] or \
        "dependency cycle: do-alpha-2-2 -> do-alpha-2-1 -> do-alpha-2-2" in found[0]


def test_a_level_inversion_is_refused(tiny_model_dir):
    actions = tiny_model_dir / "knowledge" / "actions.yaml"
    data = yaml.safe_load(actions.read_text(encoding="utf-8"))
    by_id = {a["id"]: a for a in data["actions"]}
    by_id["do-alpha-2-1"]["depends_on"] = ["do-beta-4-1"]
    actions.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    found = [p for p in problems(tiny_model_dir) if "level-inversion" in p]
    assert len(found) == 1
    assert ("level inversion: action 'do-alpha-2-1' (level 2) depends on 'do-beta-4-1', whose criteria all "
            "sit at level 4 or above (level-inversion)") in found[0]


def test_a_missing_translation_is_reported(tiny_model_dir):
    criteria = tiny_model_dir / "knowledge" / "criteria.yaml"
    edit(criteria, "    en: Criterion gamma-3-1\n", "")
    found = problems(tiny_model_dir)
    assert len(found) == 1
    assert found[0].endswith("/text: 'en' is a required property (missing-translation)")


def test_a_criterion_no_action_addresses(tiny_model_dir):
    actions = tiny_model_dir / "knowledge" / "actions.yaml"
    data = yaml.safe_load(actions.read_text(encoding="utf-8"))
    data["actions"] = [a for a in data["actions"] if a["id"] != "do-gamma-5-2"]
    actions.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    criteria = tiny_model_dir / "knowledge" / "criteria.yaml"
    line, col = line_of(criteria, "- id: gamma-5-2")
    assert problems(tiny_model_dir) == [
        f"{criteria}:{line}:{col + 2}: criterion 'gamma-5-2' is addressed by no action (unaddressed)"]


def test_all_problems_of_a_run_are_reported_at_once(tiny_model_dir):
    criteria = tiny_model_dir / "knowledge" / "criteria.yaml"
    edit(criteria, "dimension: beta", "dimension: betta")
    edit(criteria, "level: 4", "level: 7")
    edit(criteria, "weight: 1", "weight: -1")
    found = problems(tiny_model_dir)
    assert len(found) == 3
    assert "unknown dimension 'betta'; did you mean 'beta'?" in found[-1]
    assert any("/weight: -1 is less than or equal to the minimum of 0" in p for p in found)
    assert any("/level: 7 is greater than the maximum of 5" in p for p in found)


def test_a_file_that_is_not_yaml_is_reported_at_its_line(tiny_model_dir):
    (tiny_model_dir / "knowledge" / "broken.yaml").write_text("criteria:\n  - id: [oops\n", encoding="utf-8")
    found = problems(tiny_model_dir)
    assert found[0].startswith(f"{tiny_model_dir / 'knowledge' / 'broken.yaml'}:3:1: malformed YAML")


def test_not_a_model_directory(tmp_path):
    assert problems(tmp_path) == [f"{tmp_path}:1:1: not a model directory: it has no knowledge/ folder"]


def test_model_fingerprint_changes_with_any_file(tiny_model_dir):
    before = engine.load_model(tiny_model_dir).sha256
    rule = tiny_model_dir / "rules" / "barrel.yaml"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert engine.load_model(tiny_model_dir).sha256 != before

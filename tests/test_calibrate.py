"""`qmgrade kb calibrate`: a tiny model with a two-company corpus in tmp_path."""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import build_model, run


def corpus_entry(ident, expected, ratings, holding=("alpha",), facts=None, assessed_on="2026-11-01"):
    assessment = {"company": {"id": ident, "name": f"公司 {ident}"}, "assessed_on": assessed_on,
                  "ratings": ratings}
    if facts:
        assessment["facts"] = facts
    return {"id": ident, "kind": "job-shop", "narrative": {"en": "A shop."},
            "expected": {"level": expected, "holding_staves": list(holding), "reasoning": {"en": "Because."},
                         "written": "2026-12-01"},
            "assessment": assessment}


@pytest.fixture
def calibrated(tmp_path):
    """A model whose corpus holds an all-full company (level 5) and one held at 1 by a single partial."""
    root = build_model(tmp_path / "model")
    import engine
    model = engine.load_model(root)
    full = {cid: "full" for cid in model.criteria}
    held = dict(full, **{"alpha-2-1": "partial"})
    folder = root / "knowledge" / "calibration"
    folder.mkdir()

    def write(name, entry):
        (folder / name).write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), encoding="utf-8")

    write("01-top.yaml", corpus_entry("cal-top", 5, full))
    write("02-held.yaml", corpus_entry("cal-held", 1, held))
    return root, write


def test_agreement_exits_0_and_names_every_company(runner, calibrated):
    root, _ = calibrated
    result = run(runner, "kb", "calibrate", "--model", root)
    assert result.exit_code == 0, result.output
    assert "2 reference companies, 2 agree, 0 disagree" in result.output
    assert "cal-top" in result.output and "cal-held" in result.output


def test_the_corpus_is_not_read_as_model_files(runner, calibrated):
    root, _ = calibrated
    result = run(runner, "kb", "validate", "--model", root)
    assert result.exit_code == 0, result.output


def test_a_wrong_expectation_exits_1_naming_the_company(runner, calibrated):
    root, write = calibrated
    import engine
    model = engine.load_model(root)
    write("03-wrong.yaml", corpus_entry("cal-wrong", 3, {cid: "full" for cid in model.criteria}))
    result = run(runner, "kb", "calibrate", "--model", root)
    assert result.exit_code == 1
    assert "cal-wrong: expected 3, graded 5" in result.output
    data = json.loads(run(runner, "kb", "calibrate", "--model", root, "--format", "json").output)
    assert data["summary"]["disagree"] == ["cal-wrong"]


def test_sensitivity_finds_the_planted_cliff(runner, calibrated):
    root, _ = calibrated
    result = run(runner, "kb", "calibrate", "--model", root, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    companies = {c["id"]: c for c in data["companies"]}
    assert set(companies["cal-top"]) >= {"id", "expected", "graded", "shortest", "sensitivity"}
    # all full: one notch down leaves every 2-criterion cell at 0.9, so nothing moves
    assert companies["cal-top"]["sensitivity"] == []
    assert companies["cal-held"]["graded"] == 1
    assert companies["cal-held"]["shortest"] == ["alpha"]
    # the one partial holds the company at 1; raising it one notch lifts it to 5 — and nothing else moves it
    assert companies["cal-held"]["sensitivity"] == [
        {"criterion": "alpha-2-1", "key": False, "from": "partial", "to": "largely",
         "level_before": 1, "level_after": 5}]
    text = run(runner, "kb", "calibrate", "--model", root).output
    assert "alpha-2-1 partial → largely: 1 → 5" in text


def test_model_findings_thin_cells_cliffs_and_all_largely(runner, calibrated):
    root, _ = calibrated
    data = json.loads(run(runner, "kb", "calibrate", "--model", root, "--format", "json").output)
    findings = data["model_findings"]
    assert findings["all_largely"] == {"level": 5, "top": True}
    assert len(findings["thin_cells"]) == 12      # 3 staves x 4 levels, 2 criteria each
    assert {"dimension": "beta", "level": 3, "applicable": 2, "criteria": ["beta-3-1", "beta-3-2"],
            "keys": []} in findings["thin_cells"]
    cliffs = {c["criterion"]: c["level_after"] for c in findings["cliffs_from_all_largely"]}
    # from all-largely a level-2 drop costs four levels, a level-4 drop two, a level-5 drop only one
    assert cliffs["gamma-2-2"] == 1 and cliffs["alpha-4-1"] == 3
    assert "alpha-5-1" not in cliffs
    assert findings["na_allowed_keys"] == []
    assert "the top level: too easy to reach" in run(runner, "kb", "calibrate", "--model", root).output


def test_min_cell_option_and_markdown(runner, calibrated):
    root, _ = calibrated
    data = json.loads(run(runner, "kb", "calibrate", "--model", root, "--format", "json",
                          "--min-cell", "2").output)
    assert data["model_findings"]["thin_cells"] == []
    markdown = run(runner, "kb", "calibrate", "--model", root, "--format", "markdown", "--lang", "zh").output
    assert markdown.startswith("# 模型校准")
    assert "| `cal-held` |" in markdown


def test_a_capped_company_is_graded_with_its_cap(runner, tmp_path):
    root = build_model(tmp_path / "model")
    import engine
    model = engine.load_model(root)
    folder = root / "knowledge" / "calibration"
    folder.mkdir()
    entry = corpus_entry("cal-capped", 2, {cid: "full" for cid in model.criteria},
                         facts={"product_recall_3y": True})
    (folder / "01.yaml").write_text(yaml.safe_dump(entry, sort_keys=False), encoding="utf-8")
    data = json.loads(run(runner, "kb", "calibrate", "--model", root, "--format", "json").output)
    company = data["companies"][0]
    assert (company["graded"], company["barrel"], company["caps"]) == (2, 5, ["cap-recall"])


def test_no_corpus_and_a_bad_entry_are_input_errors(runner, tmp_path):
    root = build_model(tmp_path / "model")
    result = run(runner, "kb", "calibrate", "--model", root)
    assert result.exit_code == 1
    assert "no calibration corpus" in result.output
    folder = root / "knowledge" / "calibration"
    folder.mkdir()
    (folder / "01.yaml").write_text(
        "id: cal-bad\nexpected: {level: 2}\nassessment:\n  company: {id: x}\n  ratings:\n    alpha-2-9: full\n",
        encoding="utf-8")
    result = run(runner, "kb", "calibrate", "--model", root)
    assert result.exit_code == 1
    assert "01.yaml:6:5: unknown criterion 'alpha-2-9'" in result.output
    assert "Traceback" not in result.output


def test_worker_processes_give_the_same_result(runner, calibrated):
    root, _ = calibrated
    one = run(runner, "kb", "calibrate", "--model", root, "--format", "json")
    two = run(runner, "kb", "calibrate", "--model", root, "--format", "json", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.output == two.output

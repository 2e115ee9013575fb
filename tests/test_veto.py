"""Dated, structured veto facts (issue 9): the shipped facts and cap rules on a small model.

The model's criteria are the tiny fixture's (all `full` grades 5), its facts and
cap rules are the repository's own knowledge/facts.yaml and rules/cap-*.yaml.
"""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from conftest import ROOT, build_model, run


@pytest.fixture(scope="module")
def veto_model(tmp_path_factory):
    root = build_model(tmp_path_factory.mktemp("veto") / "model", with_cap=False)
    header = yaml.safe_load((root / "knowledge" / "model.yaml").read_text(encoding="utf-8"))
    del header["facts"]   # the shipped facts.yaml declares them
    header["sources"] += [{"id": "gbt19001", "title": {"zh": "GB/T 19001", "en": "GB/T 19001"}},
                          {"id": "iatf16949", "title": {"zh": "IATF 16949", "en": "IATF 16949"}}]
    (root / "knowledge" / "model.yaml").write_text(yaml.safe_dump(header, allow_unicode=True), encoding="utf-8")
    shutil.copy(ROOT / "knowledge" / "facts.yaml", root / "knowledge" / "facts.yaml")
    for rule in sorted((ROOT / "rules").glob("cap-*.yaml")):
        shutil.copy(rule, root / "rules" / rule.name)
    return root


@pytest.fixture
def assess(runner, veto_model, tmp_path):
    """Grade an all-full company with these facts; returns (exit code, JSON result or output)."""
    import engine
    criteria = list(engine.load_model(veto_model).criteria)

    def grade(facts, assessed_on="2026-11-01", fmt="json", lang="en"):
        document = {"company": {"id": "c-1", "name": "测试公司"}, "ratings": {c: "full" for c in criteria},
                    "facts": facts}
        if assessed_on:
            document["assessed_on"] = assessed_on
        path = tmp_path / "a.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        result = run(runner, "assess", path, "--model", veto_model, "--format", fmt, "--lang", lang)
        if fmt == "json" and result.exit_code == 0:
            return result.exit_code, json.loads(result.output)
        return result.exit_code, result.output
    return grade


def recall(date="2025-06-01", ordered=True, responsible=True, **extra):
    return {"product_recall": [{"date": date, "ordered": ordered, "company_responsible": responsible, **extra}]}


def holding(result):
    return [(c["rule"], c["level"], c["until"]) for c in result["caps"] if c["holding"]]


def test_no_facts_no_cap(assess):
    code, result = assess({})
    assert (code, result["level"]["rank"], result["caps"]) == (0, 5, [])


def test_an_ordered_recall_caps_at_assurance_until_36_months_after_it(assess):
    code, result = assess(recall(units=1200))
    assert code == 0
    assert result["level"]["rank"] == 3
    assert holding(result) == [("cap-recall-ordered", 3, "2028-06-01")]
    cap = result["next_level"]["caps"][0]
    assert (cap["rule"], cap["until"], cap["since"]) == ("cap-recall-ordered", "2028-06-01", "2025-06-01")
    assert "recall ordered by the regulator" in cap["reason"]["en"]
    # the decision is a firing in durable_rules, with the event it matched
    firing = next(f for f in result["trace"] if f["rule"] == "cap-recall-ordered")
    assert firing["facts"][1]["date"] == "2025-06-01" and firing["facts"][1]["lifts_on"] == "2028-06-01"


def test_a_voluntary_recall_caps_one_level_higher(assess):
    _, result = assess(recall(ordered=False))
    assert result["level"]["rank"] == 4
    assert holding(result) == [("cap-recall-voluntary", 4, "2028-06-01")]


def test_a_customer_campaign_caused_by_the_companys_part_caps_like_an_ordered_recall(assess):
    _, result = assess(recall(ordered=False, customer_campaign=True))
    assert holding(result) == [("cap-recall-customer-campaign", 3, "2028-06-01")]
    # a customer's campaign whose cause lies elsewhere does not cap
    _, result = assess(recall(ordered=False, responsible=False, customer_campaign=True))
    assert result["caps"] == []


def test_a_recall_not_in_the_company_responsibility_does_not_cap(assess):
    _, result = assess(recall(responsible=False))
    assert (result["level"]["rank"], result["caps"]) == (5, [])


def test_a_cap_lifts_on_its_day(assess):
    # 36 months after 2023-11-01 is the assessment day itself: lifted
    _, result = assess(recall(date="2023-11-01"))
    assert (result["level"]["rank"], result["caps"]) == (5, [])
    # a day later it still holds, until the next day
    _, result = assess(recall(date="2023-11-02"))
    assert holding(result) == [("cap-recall-ordered", 3, "2026-11-02")]
    # the same recall, assessed a year later: lifted
    _, result = assess(recall(date="2023-11-02"), assessed_on="2027-11-01")
    assert result["level"]["rank"] == 5


def test_the_lift_day_is_clamped_to_the_month_end(assess):
    _, result = assess({"falsified_test_data": [{"date": "2024-02-29"}]})
    assert holding(result) == [("cap-falsified-data", 1, "2027-02-28")]


@pytest.mark.parametrize("facts, level, rule", [
    ({"major_quality_incident": [{"date": "2025-01-10"}]}, 2, "cap-major-incident-dated"),
    ({"serious_penalty": [{"date": "2025-01-10", "kind": "blacklist"}]}, 2, "cap-serious-penalty-dated"),
    ({"serious_penalty": [{"date": "2025-01-10", "kind": "revocation"}]}, 2, "cap-serious-penalty-dated"),
    ({"serious_penalty": [{"date": "2025-01-10", "kind": "fine"}]}, 3, "cap-penalty-fine"),
    ({"falsified_test_data": [{"date": "2025-01-10"}]}, 1, "cap-falsified-data"),
    ({"certificate_suspended": [{"date": "2026-05-01", "certificate": "iatf16949", "withdrawn": False,
                                 "restored_on": "2026-08-01"}]}, 3, "cap-certificate-restored"),
])
def test_each_dated_cap(assess, facts, level, rule):
    _, result = assess(facts)
    assert result["level"]["rank"] == level
    assert [c["rule"] for c in result["caps"]] == [rule]
    assert result["caps"][0]["until"] is not None


def test_a_certificate_still_suspended_caps_with_no_lift_date(assess):
    code, result = assess({"certificate_suspended": [{"date": "2026-05-01", "certificate": "ccc"}]})
    assert holding(result) == [("cap-certificate-lost", 2, None)]
    _, text = assess({"certificate_suspended": [{"date": "2026-05-01", "certificate": "ccc"}]}, fmt="text")
    assert "capped at 2 Inspection, lift date not known" in text


def test_restored_certificate_lifts_twelve_months_after_restoration(assess):
    event = {"date": "2025-01-01", "certificate": "production-licence", "withdrawn": True,
             "restored_on": "2025-10-15"}
    _, result = assess({"certificate_suspended": [event]})
    assert result["level"]["rank"] == 5    # 2026-10-15 is before the assessment
    _, result = assess({"certificate_suspended": [event]}, assessed_on="2026-10-14")
    assert holding(result) == [("cap-certificate-restored", 3, "2026-10-15")]


def test_the_lowest_of_several_caps_holds_and_all_are_listed(assess):
    facts = {**recall(ordered=False), "major_quality_incident": [{"date": "2024-03-01"}]}
    _, result = assess(facts)
    assert result["level"]["rank"] == 2
    assert sorted((c["rule"], c["holding"]) for c in result["caps"]) == [
        ("cap-major-incident-dated", True), ("cap-recall-voluntary", False)]


def test_old_boolean_facts_still_read_with_their_meaning(assess):
    _, result = assess({"product_recall_3y": True}, assessed_on=None)
    assert result["level"]["rank"] == 3
    assert holding(result) == [("cap-product-recall", 3, None)]
    _, result = assess({"serious_penalty_3y": True, "major_quality_incident_3y": False})
    assert result["level"]["rank"] == 2
    _, text = assess({"product_recall_3y": True}, fmt="text")
    assert "capped at 3 Assurance, lift date not known" in text
    assert "the cap lifts three years after it" in text


def test_until_is_printed_in_text_markdown_html_and_chinese(assess):
    _, text = assess(recall(), fmt="text")
    assert "capped at 3 Assurance until 2028-06-01" in text
    assert "(event of 2025-06-01)" in text
    _, text = assess(recall(), fmt="text", lang="zh")
    assert "封顶于3 保证级，至 2028-06-01 解除" in text
    _, markdown = assess(recall(), fmt="markdown")
    assert "capped at 3 Assurance until 2028-06-01" in markdown
    _, html = assess(recall(), fmt="html")
    assert "capped at 3 Assurance until 2028-06-01" in html


@pytest.mark.parametrize("facts, assessed_on, message", [
    (recall(cause="design"), "2026-11-01", "product_recall[0]: unknown field 'cause'"),
    (recall(date="2025-02-30"), "2026-11-01", "product_recall[0].date must be a date (YYYY-MM-DD), found '2025-02-30'"),
    (recall(date="2027-01-01"), "2026-11-01", "product_recall[0].date 2027-01-01 is after assessed_on 2026-11-01"),
    (recall(), None, "fact 'product_recall' has dated events: assessed_on must be a date"),
    ({"product_recall": [{"date": "2025-06-01", "ordered": True}]}, "2026-11-01",
     "product_recall[0]: missing company_responsible"),
    ({"product_recall": [{"date": "2025-06-01", "ordered": "yes", "company_responsible": True}]}, "2026-11-01",
     "product_recall[0].ordered must be a boolean"),
    ({"serious_penalty": [{"date": "2025-06-01", "kind": "fines"}]}, "2026-11-01",
     "serious_penalty[0].kind: 'fines' is not one of blacklist, suspension, revocation, fine; did you mean 'fine'?"),
    ({"certificate_suspended": [{"date": "2025-06-01", "certificate": "ccc", "restored_on": "2025-01-01"}]},
     "2026-11-01", "certificate_suspended[0].restored_on 2025-01-01 is before its date 2025-06-01"),
    ({"falsified_test_data": {"date": "2025-06-01"}}, "2026-11-01", "fact 'falsified_test_data' is a list of events"),
])
def test_bad_events_are_input_errors_with_their_place(assess, facts, assessed_on, message):
    code, output = assess(facts, assessed_on=assessed_on)
    assert code == 1
    assert message in output
    assert output.startswith("Error: ") and "a.yaml:" in output
    assert "Traceback" not in output


def test_an_unknown_event_field_is_reported_at_its_line(assess):
    _, output = assess(recall(cause="design"))
    # company (1-2), ratings, then facts: the offending key's own line and column
    line = output.split("a.yaml:")[1].split(":")[0]
    assert int(line) > 3


def test_rules_compare_dates_and_test_existence(tmp_path, runner):
    """A rule may compare a date field with a date literal, and test that an optional field is there."""
    rule = """\
description: {zh: 2025 年以前的召回封顶于检验级。, en: A recall before 2025 caps at Inspection.}
when:
  - fact: company
  - fact: product_recall
    where:
      date: {lt: 2025-01-01}
      units: {exists: true}
then:
  conclude: cap
  set: {level: 2}
"""
    root = build_model(tmp_path / "model", with_cap=False, extra_rules={"cap-early": rule})
    header = yaml.safe_load((root / "knowledge" / "model.yaml").read_text(encoding="utf-8"))
    header["facts"] = [{"id": "product_recall", "type": "record", "name": {"zh": "召回", "en": "Recall"},
                        "fields": {"date": "date", "units": "number"}, "optional": ["units"],
                        "period_months": 36}]
    (root / "knowledge" / "model.yaml").write_text(yaml.safe_dump(header, allow_unicode=True), encoding="utf-8")
    import engine
    from engine.assessment import assessment_from_data
    model = engine.load_model(root)
    full = {c: 1.0 for c in model.criteria}

    def level(events):
        data = {"company": {"id": "x"}, "assessed_on": "2026-11-01", "ratings": full,
                "facts": {"product_recall": events}}
        return engine.grade(model, assessment_from_data(data, "-", model)).level

    assert level([{"date": "2024-12-31", "units": 5}]) == 2
    assert level([{"date": "2024-12-31"}]) == 5          # no units: the exists test fails
    assert level([{"date": "2025-01-01", "units": 5}]) == 5
    bad = rule.replace("{lt: 2025-01-01}", "{lt: 3}")
    (root / "rules" / "cap-early.yaml").write_text(bad, encoding="utf-8")
    result = run(runner, "kb", "validate", "--model", root)
    assert result.exit_code == 1
    assert "field product_recall.date is date, compared with a int" in result.output


def test_the_yaml_questionnaire_lists_the_record_facts_empty(runner, veto_model, tmp_path):
    out = tmp_path / "t.yaml"
    result = run(runner, "template", "--model", veto_model, "--format", "yaml", "--out", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "  product_recall: []" in text and "  falsified_test_data: []" in text
    export = json.loads(run(runner, "kb", "export", "--model", veto_model).output)
    recall_fact = next(f for f in export["facts"] if f["id"] == "product_recall")
    assert (recall_fact["type"], recall_fact["period_months"], recall_fact["fields"]["date"]) == ("record", 36, "date")


@pytest.mark.parametrize("fact, message", [
    ({"type": "record", "fields": {"day": "date"}}, "record fact 'broken' needs a field 'date' of type date"),
    ({"type": "record", "fields": {"date": "date"}, "optional": ["dat"]},
     "optional names 'dat', which is not a field of 'broken'; did you mean 'date'?"),
    ({"type": "boolean", "period_months": 12}, "'period_months' belongs to record facts only"),
    ({"type": "record", "fields": {"date": "date", "n": "integer"}}, "'integer' is not one of"),
])
def test_bad_record_fact_declarations_fail_validation(runner, tmp_path, fact, message):
    root = build_model(tmp_path / "model", with_cap=False)
    header = yaml.safe_load((root / "knowledge" / "model.yaml").read_text(encoding="utf-8"))
    header["facts"].append({"id": "broken", "name": {"zh": "坏", "en": "Broken"}, **fact})
    (root / "knowledge" / "model.yaml").write_text(yaml.safe_dump(header, allow_unicode=True), encoding="utf-8")
    result = run(runner, "kb", "validate", "--model", root)
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert "model.yaml:" in result.output and "Traceback" not in result.output

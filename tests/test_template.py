"""qmgrade template (XLSX, YAML) and reading a filled questionnaire back with qmgrade assess."""
from __future__ import annotations

import json

import yaml
from openpyxl import load_workbook

import engine
from conftest import write_assessment, run


def template(runner, model_dir, path, *extra):
    result = run(runner, "template", "--model", model_dir, "--out", path, *extra)
    assert result.exit_code == 0, result.output
    return path


def columns(sheet):
    return {cell.value: cell.column for cell in sheet[1]}


def test_the_xlsx_template_has_the_contract_layout(runner, model_dir, model, tmp_path):
    book = load_workbook(template(runner, model_dir, tmp_path / "q.xlsx"))
    assert book.sheetnames == ["questionnaire", "company", "instructions"]
    sheet = book["questionnaire"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["criterion", "text_en", "rating", "evidence", "key", "guidance_en", "dimension", "level",
                      "weight", "text_zh", "guidance_zh"]   # the rating beside the text (issue 10)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == list(model.criteria)
    assert rows[0] == ("alpha-2-1", "Criterion alpha-2-1", None, None, False, "Evidence for alpha-2-1", "alpha", 2, 1,
                       "条款 alpha-2-1", "证据 alpha-2-1")
    validation, = sheet.data_validations.dataValidation
    assert validation.type == "list"
    assert validation.formula1 == '"full,largely,partial,none,na,全部满足,大部分满足,部分满足,不满足,不适用"'
    assert str(validation.sqref) == f"C2:C{len(rows) + 1}"
    company = [row[:2] for row in book["company"].iter_rows(values_only=True)]
    assert company == [("key", "value"), ("id", None), ("name", None), ("industry", None), ("region", None),
                       ("assessed_on", None), ("product_recall_3y", None)]


def test_the_template_is_the_same_bytes_every_time_and_chinese_first_in_zh(runner, model_dir, tmp_path):
    first = template(runner, model_dir, tmp_path / "a.xlsx", "--lang", "zh").read_bytes()
    second = template(runner, model_dir, tmp_path / "b.xlsx", "--lang", "zh").read_bytes()
    assert first == second
    sheet = load_workbook(tmp_path / "a.xlsx")["questionnaire"]
    assert [c.value for c in sheet[1]] == ["准则编号", "准则", "评分", "证据", "关键准则", "证据指引", "维度", "级别", "权重",
                                           "准则（英文）", "证据指引（英文）"]   # Chinese headers (issue 10)
    assert [c.value for c in sheet["A"]][1:3] == ["alpha-2-1", "alpha-2-2"]   # the ids stay machine-readable
    assert sheet.data_validations.dataValidation[0].formula1.startswith('"全部满足,大部分满足')
    binary = run(runner, "template", "--model", model_dir)        # not a terminal: the bytes go to stdout
    assert binary.exit_code == 0 and binary.stdout_bytes[:2] == b"PK"


def fill(path, model, ratings, evidence=None, company=None, facts=None, extra_rows=()):
    book = load_workbook(path)
    sheet = book["questionnaire"]
    cols = columns(sheet)
    for row in range(2, sheet.max_row + 1):
        cid = sheet.cell(row=row, column=cols["criterion"]).value
        if cid in ratings:
            sheet.cell(row=row, column=cols["rating"]).value = ratings[cid]
        if evidence and cid in evidence:
            sheet.cell(row=row, column=cols["evidence"]).value = "\n".join(evidence[cid])
    for values in extra_rows:
        sheet.append(values)
    info = book["company"]
    for row in range(2, info.max_row + 1):
        key = info.cell(row=row, column=1).value
        if company and key in company:
            info.cell(row=row, column=2).value = company[key]
        if facts and key in facts:
            info.cell(row=row, column=2).value = facts[key]
    book.save(path)
    return path


def test_a_filled_xlsx_round_trips_through_assess(runner, model_dir, model, tmp_path):
    ratings = {cid: "full" for cid, c in model.criteria.items() if c.level <= 3}
    ratings.update({"alpha-3-2": "大部分满足", "beta-3-1": 0.9, "gamma-3-2": "na", "alpha-4-1": "partial",
                    "beta-4-2": 1, "gamma-5-1": "不满足"})
    del ratings["gamma-2-2"]        # not rated
    evidence = {"alpha-2-1": ["QM-manual v3 §4.4", "内审报告 2026-03"], "beta-3-1": ["SPC charts"]}
    xlsx = fill(template(runner, model_dir, tmp_path / "q.xlsx"), model, ratings, evidence,
                company={"id": "acme-001", "name": "某某机械有限公司", "industry": "C34", "region": "浙江",
                         "assessed_on": "2026-11-01"},
                facts={"product_recall_3y": "否"})
    yaml_ratings = {cid: ratings[cid] for cid in model.criteria if cid in ratings}
    equivalent = write_assessment(tmp_path / "same.yaml", yaml_ratings, facts={"product_recall_3y": False},
                                  company={"id": "acme-001", "name": "某某机械有限公司", "industry": "C34",
                                           "region": "浙江"}, evidence=evidence)
    document = yaml.safe_load(equivalent.read_text(encoding="utf-8"))
    document["assessed_on"] = "2026-11-01"
    equivalent.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    from_xlsx = run(runner, "assess", xlsx, "--model", model_dir, "--format", "json")
    from_yaml = run(runner, "assess", equivalent, "--model", model_dir, "--format", "json")
    assert from_xlsx.exit_code == 0, from_xlsx.output
    assert from_xlsx.stdout == from_yaml.stdout          # trace (with the evidence) included
    data = json.loads(from_xlsx.stdout)
    assert data["company"] == {"id": "acme-001", "name": "某某机械有限公司", "industry": "C34", "region": "浙江"}
    assert data["assessed_on"] == "2026-11-01"
    assert data["not_rated"] == [cid for cid in model.criteria if cid not in ratings]
    assert "gamma-2-2" in data["not_rated"]
    assert engine.read_assessment(str(xlsx), model).sha256 == engine.read_assessment(str(equivalent), model).sha256


def test_an_excel_date_and_numeric_id_are_read_as_text_and_numbers(runner, model_dir, model, tmp_path):
    import datetime
    xlsx = fill(template(runner, model_dir, tmp_path / "q.xlsx"), model, {"alpha-2-1": "full"},
                company={"id": 1001, "assessed_on": datetime.datetime(2026, 3, 5)})
    assessment = engine.read_assessment(str(xlsx), model)
    assert assessment.company == {"id": 1001}
    assert assessment.assessed_on == "2026-03-05"


def test_xlsx_errors_name_the_sheet_and_cell(runner, model_dir, model, tmp_path):
    xlsx = fill(template(runner, model_dir, tmp_path / "q.xlsx"), model, {"alpha-2-1": "ful", "beta-2-1": 1.5},
                extra_rows=[["alpah-2-1", None, "full"], ["gamma-2-1", None, "full"]],
                company={"nmae": "x"}, facts={"product_recall_3y": "maybe"})
    book = load_workbook(xlsx)
    book["company"].append(["nmae", "x"])
    book.save(xlsx)
    beta_row = 2 + list(model.criteria).index("beta-2-1")
    gamma_row = 2 + list(model.criteria).index("gamma-2-1")
    last = len(model.criteria) + 1
    result = run(runner, "assess", xlsx, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {xlsx}:2:3: questionnaire!C2: alpha-2-1: unknown rating 'ful'; did you mean 'full'? (use full, "
        f"largely, partial, none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage "
        f"such as 80%) (bad-rating)\n"
        f"Error: {xlsx}:{beta_row}:3: questionnaire!C{beta_row}: beta-2-1: rating 1.5 is out of range: numbers "
        f"must lie in [0, 1] (bad-rating)\n"
        f"Error: {xlsx}:{last + 1}:1: questionnaire!A{last + 1}: unknown criterion 'alpah-2-1'; did you mean "
        f"'alpha-2-1'? (unknown-id)\n"
        f"Error: {xlsx}:{last + 2}:1: questionnaire!A{last + 2}: criterion 'gamma-2-1' appears twice (first in row "
        f"{gamma_row}) (duplicate-key)\n"
        f"Error: {xlsx}:7:2: company!B7: fact 'product_recall_3y': 'maybe' is not a boolean (use true/false, "
        f"yes/no, 是/否, 1/0) (fact-type)\n"
        f"Error: {xlsx}:8:1: company!A8: unknown key 'nmae'; did you mean 'name'? (unknown-id)\n")


def test_a_workbook_without_a_questionnaire_header(runner, model_dir, tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    book.active.title = "Sheet1"
    book.active.append(["id", "score"])
    book.save(tmp_path / "x.xlsx")
    result = run(runner, "assess", tmp_path / "x.xlsx", "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'x.xlsx'}:1:1: Sheet1!A1: no questionnaire header: the first sheet "
                             f"needs a header row with 'criterion', 'rating' and 'evidence' (missing 'criterion'; "
                             f"write one with qmgrade template) (header)\n")
    (tmp_path / "y.xlsx").write_text("plain text", encoding="utf-8")
    result = run(runner, "assess", tmp_path / "y.xlsx", "--model", model_dir)
    assert result.exit_code == 1 and result.output.startswith(f"Error: {tmp_path / 'y.xlsx'}:1:1: not an XLSX workbook")


def test_the_yaml_template_is_an_assessment_to_fill_in(runner, model_dir, model, tmp_path):
    path = tmp_path / "q.yaml"
    result = run(runner, "template", "--model", model_dir, "--format", "yaml", "--out", path)
    assert result.exit_code == 0
    text = path.read_text(encoding="utf-8")
    for cid in model.criteria:
        assert f"  # {cid}: \n" in text
    assert "  # Criterion alpha-2-1\n  #   evidence: Evidence for alpha-2-1\n" in text
    blank = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").stdout)
    assert blank["level"]["rank"] == 1 and blank["not_rated"] == list(model.criteria)
    filled = text
    for cid, criterion in model.criteria.items():
        if criterion.level <= 2:
            filled = filled.replace(f"  # {cid}: \n", f"  {cid}: full\n")
    path.write_text(filled.replace("id: ''", "id: acme", 1), encoding="utf-8")
    data = json.loads(run(runner, "assess", path, "--model", model_dir, "--format", "json").stdout)
    assert data["level"]["rank"] == 2 and data["company"]["id"] == "acme"
    zh = run(runner, "template", "--model", model_dir, "--format", "yaml", "--lang", "zh")
    assert "  # 条款 alpha-2-1\n  #   证据: 证据 alpha-2-1\n" in zh.stdout


def test_a_batch_folder_may_hold_questionnaires(runner, model_dir, model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    fill(template(runner, model_dir, folder / "a.xlsx"), model, {"alpha-2-1": "full"}, company={"id": "a"})
    write_assessment(folder / "b.yaml", {"alpha-2-1": "full"}, company={"id": "b"})
    result = run(runner, "batch", folder, "--model", model_dir)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["company"]["id"] for line in result.stdout.splitlines()] == ["a", "b"]

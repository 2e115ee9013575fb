"""qmgrade batch: JSON Lines, folders, the wide CSV/XLSX layout; input order, error entries, exit codes."""
from __future__ import annotations

import csv
import json
import random

import pytest
import yaml

import engine
from conftest import write_assessment, run
from engine.assessment import _na_allowed

LABELS = ["full", "largely", "partial", "none", "na", "全部满足", "大部分满足", "部分满足", "不满足", "不适用", 0.9, 0.65, 1, 0]
RATED = [label for label in LABELS if label not in ("na", "不适用")]   # for criteria that do not allow na


def companies(model, count, seed=5):
    """Seeded companies spread over the levels: each rated full up to a level, then mixed."""
    rng = random.Random(seed)
    na_ok = _na_allowed(model)     # model 2.0: na only where the criterion allows it
    facts = [f.id for f in model.facts if f.type == "boolean"]
    out = []
    for index in range(count):
        up_to = rng.randint(1, model.top_rank)
        ratings = {}
        for cid, criterion in model.criteria.items():
            if rng.random() < 0.04:
                continue                      # not rated
            ratings[cid] = ("full" if criterion.level <= up_to and rng.random() < 0.93
                            else rng.choice(LABELS if na_ok(cid) else RATED))
        record = {"company": {"id": f"c-{index:05d}", "name": f"企业{index}",
                              "industry": rng.choice(["C34", "C38", "C39"]), "region": rng.choice(["浙江", "江苏"])},
                  "assessed_on": f"2026-{1 + index % 12:02d}-01", "ratings": ratings}
        if facts and rng.random() < 0.05:
            record["facts"] = {rng.choice(facts): True}
        out.append(record)
    return out


def graded(model, record, path="-"):
    return engine.grade(model, engine.assessment_from_data(record, path, model)).as_dict(trace=False)


def test_4000_json_lines_with_a_bad_record_in_the_middle(runner, tmp_path):
    """The issue's "done when": 4,000 results in input order, the bad one an error entry, the rest as assess grades them."""
    model = engine.load_model()
    records = companies(model, 4000, seed=11)
    bad_index = 2000
    first = next(iter(model.criteria))
    records[bad_index]["ratings"][first] = "ful"
    source = tmp_path / "companies.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"

    result = run(runner, "batch", source, "--out", out, "--jobs", 2)

    assert result.exit_code == 1
    bad_line = bad_index + 1
    col = lines[bad_index].index('"ful"', lines[bad_index].index(f'"{first}"')) + 1   # the rating, as in YAML
    message = (f"{source}:{bad_line}:{col}: {first}: unknown rating 'ful'; did you mean 'full'? (use full, largely, "
               f"partial, none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage "
               f"such as 80%) (bad-rating)")
    assert result.stderr == (f"Error: {message}\n"
                             f"Error: 1 of 4000 records failed (error entries in the results)\n")
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 4000
    assert [r["company"]["id"] for r in results] == [r["company"]["id"] for r in records]
    assert results[bad_index] == {"company": records[bad_index]["company"], "error": message, "errors": [message]}
    # every result is checked above; a sample of them (the bad record's neighbours, the ends and every 16th)
    # is graded again in this process — re-grading all 4,000 took a minute and a half of the suite
    sample = sorted({0, bad_index - 1, bad_index + 1, len(records) - 1, *range(0, len(records), 16)} - {bad_index})
    for index in sample:
        assert results[index] == graded(model, records[index]), index
    assert {r["level"]["rank"] for i, r in enumerate(results) if i != bad_index} == {1, 2, 3, 4, 5}


def test_batch_results_equal_assess_json_no_trace(runner, model_dir, model, tmp_path):
    records = companies(model, 12)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--jobs", 2)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 12
    for index, record in enumerate(records):
        path = tmp_path / f"c{index}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        assessed = run(runner, "assess", path, "--model", model_dir, "--format", "json", "--no-trace")
        assert assessed.exit_code == 0
        assert json.loads(lines[index]) == json.loads(assessed.stdout)
        # the same bytes as assess, only on one line
        assert lines[index] == json.dumps(json.loads(assessed.stdout), ensure_ascii=False)


def test_jobs_one_and_many_give_the_same_bytes(runner, model_dir, model, tmp_path):
    records = companies(model, 300)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n\n" for r in records), encoding="utf-8")
    one = run(runner, "batch", source, "--model", model_dir, "--jobs", 1)
    many = run(runner, "batch", source, "--model", model_dir, "--jobs", 3)
    default = run(runner, "batch", source, "--model", model_dir)
    assert one.exit_code == many.exit_code == default.exit_code == 0
    assert one.stdout == many.stdout == default.stdout
    assert len(one.stdout.splitlines()) == 300   # blank lines are skipped


def wide_rows(model, records):
    facts = [f.id for f in model.facts]
    header = ["company_id", "company_name", "industry", "region", "assessed_on", *model.criteria, *facts]
    rows = []
    for record in records:
        c = record["company"]
        row = [c["id"], c["name"], c["industry"], c["region"], record["assessed_on"]]
        row += ["" if cid not in record["ratings"] else str(record["ratings"][cid]) for cid in model.criteria]
        row += ["yes" if record.get("facts", {}).get(f) else "" for f in facts]
        rows.append(row)
    return header, rows


def test_a_wide_csv_of_50_companies_grades_like_the_yaml_files(runner, model_dir, model, tmp_path):
    records = companies(model, 50, seed=3)
    folder = tmp_path / "yaml"
    folder.mkdir()
    for index, record in enumerate(records):
        (folder / f"{index:03d}.yaml").write_text(yaml.safe_dump(record, allow_unicode=True, sort_keys=False),
                                                   encoding="utf-8")
    header, rows = wide_rows(model, records)
    wide = tmp_path / "survey.csv"
    with open(wide, "w", encoding="utf-8-sig", newline="") as handle:   # survey tools write a BOM
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)

    from_yaml = run(runner, "batch", folder, "--model", model_dir)
    from_csv = run(runner, "batch", wide, "--model", model_dir)
    assert from_yaml.exit_code == from_csv.exit_code == 0, from_csv.output
    assert from_csv.stdout == from_yaml.stdout
    assert len(from_csv.stdout.splitlines()) == 50
    for record, line in zip(records, from_csv.stdout.splitlines()):
        assert json.loads(line) == graded(model, record)


def test_a_wide_xlsx_grades_like_the_csv(runner, model_dir, model, tmp_path):
    from openpyxl import Workbook
    records = companies(model, 20, seed=8)
    header, rows = wide_rows(model, records)
    book = Workbook()
    sheet = book.active
    sheet.title = "问卷星导出"
    sheet.append(header)
    for row in rows:
        sheet.append([float(v) if v.replace(".", "", 1).isdigit() else (v or None) for v in row])
    book.save(tmp_path / "survey.xlsx")
    with open(tmp_path / "survey.csv", "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    from_xlsx = run(runner, "batch", tmp_path / "survey.xlsx", "--model", model_dir)
    from_csv = run(runner, "batch", tmp_path / "survey.csv", "--model", model_dir)
    assert from_xlsx.exit_code == 0, from_xlsx.output
    assert from_xlsx.stdout == from_csv.stdout


def test_csv_summary_format(runner, model_dir, tmp_path):
    wide = tmp_path / "w.csv"
    wide.write_text("company_id,company_name,region,alpha-2-1,alpha-2-2,beta-2-1,beta-2-2,gamma-2-1,gamma-2-2\n"
                    "a1,甲厂,浙江,full,full,full,full,full,full\n"
                    "a2,\"乙厂, 有限公司\",,full,none,full,full,full,ful\n", encoding="utf-8")
    result = run(runner, "batch", wide, "--model", model_dir, "--format", "csv")
    assert result.exit_code == 1
    message = (f"{wide}:3:9: gamma-2-2: unknown rating 'ful'; did you mean 'full'? (use full, largely, partial, "
               f"none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage such as "
               f"80%) (bad-rating)")
    assert result.stdout == (   # a byte-order mark first, so that Excel reads the Chinese names right (issue 10)
        "\ufeffcompany_id,company_name,industry,region,assessed_on,level_rank,level_id,barrel,shortest,alpha,beta,gamma,"
        "error\n"
        "a1,甲厂,,浙江,,2,inspection,2,alpha;beta;gamma,2,2,2,\n"
        f"a2,\"乙厂, 有限公司\",,,,,,,,,,,\"{message}\"\n")


def test_a_bad_header_stops_the_batch_with_every_problem(runner, model_dir, tmp_path):
    wide = tmp_path / "w.csv"
    wide.write_text("company_name,alpah-2-1,,beta-2-1,beta-2-1,x\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(runner, "batch", wide, "--model", model_dir, "--out", out)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {wide}:1:2: unknown column 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)\n"
        f"Error: {wide}:1:3: column 3 has no name (header)\n"
        f"Error: {wide}:1:5: duplicate column 'beta-2-1' (first in column 4) (header)\n"
        f"Error: {wide}:1:6: unknown column 'x' (unknown-id)\n"
        f"Error: {wide}:1:1: missing column 'company_id' (the wide layout needs company_id, company_name, "
        f"then one column per criterion id) (header)\n")
    assert not out.exists()


def test_bad_records_of_every_kind_become_error_entries(runner, model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"company": {"id": "ok"}, "ratings": {"alpha-2-1": "full"}}\n'
        '{"company": {"id": "broken"}, "ratings": {\n'
        '[1, 2]\n'
        '{"company": {"id": "dup"}, "ratings": {"alpha-2-1": "full", "alpha-2-1": "none"}}\n'
        '{"company": {"id": "typo"}, "ratings": {"alpah-2-1": "full"}, "facts": {"product_recall_3y": "maybe"}}\n'
        '{"company": {"id": "nan"}, "ratings": {"alpha-2-1": 1e999}}\n',
        encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--jobs", 2)
    assert result.exit_code == 1
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(entries) == 6
    assert entries[0]["company"] == {"id": "ok"} and "error" not in entries[0]
    assert entries[1]["company"] is None
    assert entries[1]["error"].startswith(f"{source}:2:") and "malformed JSON" in entries[1]["error"]
    assert entries[2]["company"] is None
    assert entries[2]["error"].startswith(f"{source}:3:1: expected a mapping with 'ratings'")
    assert entries[2]["errors"] == [entries[2]["error"]]
    assert entries[3]["error"].startswith(f"{source}:4:") and "duplicate key 'alpha-2-1'" in entries[3]["error"]
    assert entries[4]["company"] == {"id": "typo"}
    typo = source.read_text(encoding="utf-8").splitlines()[4]
    assert entries[4]["errors"] == [
        f"{source}:5:{typo.index('alpah') }: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)",
        f"{source}:5:{typo.index('maybe')}: fact 'product_recall_3y' must be a boolean, found 'maybe' "
        f"(fact-type)"]
    assert entries[5]["error"].startswith(f"{source}:6:")
    assert result.stderr.endswith("Error: 5 of 6 records failed (error entries in the results)\n")


def test_a_folder_is_read_in_file_name_order_and_a_bad_file_is_an_entry(runner, model_dir, model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_assessment(folder / "b.yaml", {"alpha-2-1": "full"}, company={"id": "b"})
    write_assessment(folder / "a.yaml", {"alpha-2-1": "full"}, company={"id": "a"})
    (folder / "c.json").write_text('{"company": {"id": "c"}, "ratings": {"alpha-2-1": 2}}', encoding="utf-8")
    (folder / "notes.txt").write_text("not an assessment", encoding="utf-8")
    result = run(runner, "batch", folder, "--model", model_dir)
    assert result.exit_code == 1
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["company"]["id"] for e in entries] == ["a", "b", "c"]
    assert entries[2]["error"] == (f"{folder / 'c.json'}:1:51: alpha-2-1: rating 2 is out of range: numbers must "
                                   f"lie in [0, 1] (bad-rating)")


def test_trace_is_included_only_when_asked(runner, model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"company": {"id": "x"}, "ratings": {"alpha-2-1": "full"}}\n', encoding="utf-8")
    plain = json.loads(run(runner, "batch", source, "--model", model_dir).stdout)
    traced = json.loads(run(runner, "batch", source, "--model", model_dir, "--trace").stdout)
    assert "trace" not in plain
    assessed = run(runner, "assess", source.with_suffix(".json"), "--model", model_dir)   # missing: exit 1
    assert assessed.exit_code == 1
    (tmp_path / "x.json").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    full = json.loads(run(runner, "assess", tmp_path / "x.json", "--model", model_dir, "--format", "json").stdout)
    assert traced == full


def test_out_is_written_atomically_and_never_over_an_input(runner, model_dir, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"company": {"id": "x"}, "ratings": {}}\n', encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--out", source)
    assert result.exit_code == 1
    assert result.output == f"Error: {source}:1:1: refusing to write the output over an input file\n"
    out = tmp_path / "out.jsonl"
    result = run(runner, "batch", source, "--model", model_dir, "--out", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["company"] == {"id": "x"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temporary file left


@pytest.mark.parametrize("name, content, message", [
    ("nothing.jsonl", None, "{path}:1:1: no such file or directory"),
    ("empty", "dir", "{path}:1:1: no assessments here (expected *.yaml, *.yml, *.json, *.xlsx, *.jsonl or *.csv "
                     "files)"),
    ("data.parquet", "x", "{path}:1:1: unknown input 'data.parquet': expected a folder, JSON Lines (.jsonl), CSV, "
                          "XLSX, YAML or JSON"),
    ("empty.csv", "", "{path}:1:1: empty CSV: expected a header row with company_id and criterion ids"),
    ("bad.xlsx", "not a zip", None),
])
def test_unreadable_inputs_are_errors(runner, model_dir, tmp_path, name, content, message):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = run(runner, "batch", path, "--model", model_dir)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if message:
        assert result.output == f"Error: {message.format(path=path)}\n"
    else:
        assert result.output.startswith(f"Error: {path}:1:1: not an XLSX workbook")


def test_summary_goes_to_stderr_or_stdout(runner, model_dir, model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in companies(model, 10)),
                      encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--summary")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 10
    assert result.stderr.startswith("Grading statistics\nCompanies: 10 (graded 10, records with errors 0)\n")
    result = run(runner, "batch", source, "--model", model_dir, "--summary", "--lang", "zh",
                 "--out", tmp_path / "r.jsonl")
    assert result.stdout.startswith("分级统计\n企业数: 10")
    assert result.stderr == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(runner, model_dir, model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in companies(model, 5)), encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir)
    assert result.exit_code == 0 and result.stderr == ""


def test_spawned_workers_load_the_model_themselves(runner, model_dir, model, tmp_path, monkeypatch):
    """Where fork is missing (Windows, macOS default) each worker loads the model from --model."""
    import multiprocessing
    from engine import batch
    monkeypatch.setattr(batch, "_context", lambda: multiprocessing.get_context("spawn"))
    records = companies(model, 30)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    spawned = run(runner, "batch", source, "--model", model_dir, "--jobs", 2)
    monkeypatch.undo()
    inline = run(runner, "batch", source, "--model", model_dir, "--jobs", 1)
    assert spawned.exit_code == 0, spawned.output
    assert spawned.stdout == inline.stdout


def test_a_bad_cell_of_a_wide_xlsx_names_the_sheet_and_cell(runner, model_dir, tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["company_id", "company_name", "alpha-2-1", "product_recall_3y"])
    sheet.append(["a1", "甲", "full", "否"])
    sheet.append(["a2", "乙", "ful", "maybe"])
    book.save(tmp_path / "w.xlsx")
    result = run(runner, "batch", tmp_path / "w.xlsx", "--model", model_dir)
    assert result.exit_code == 1
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert first["company"] == {"id": "a1", "name": "甲"} and first["level"]["rank"] == 1
    path = tmp_path / "w.xlsx"
    assert second["errors"] == [
        f"{path}:3:3: survey!C3: alpha-2-1: unknown rating 'ful'; did you mean 'full'? (use full, largely, partial, "
        f"none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage such as 80%) "
        f"(bad-rating)",
        f"{path}:3:4: survey!D3: fact 'product_recall_3y': 'maybe' is not a boolean (use true/false, yes/no, 是/否, "
        f"1/0) (fact-type)"]


def test_csv_summary_neutralises_spreadsheet_formulas_in_company_names(runner, model_dir, model, tmp_path):
    import csv as csv_module
    source = tmp_path / "companies.jsonl"
    record = {"company": {"id": "c-1", "name": '=HYPERLINK("http://x","点我")', "region": "@evil"},
              "ratings": {cid: "full" for cid in model.criteria}}
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run(runner, "batch", source, "--model", model_dir, "--format", "csv", "--jobs", "1")
    assert result.exit_code == 0, result.output
    rows = list(csv_module.reader(result.output.splitlines()))
    row = dict(zip(rows[0], rows[1]))
    assert row["company_name"] == '\'=HYPERLINK("http://x","点我")'
    assert row["region"] == "'@evil"

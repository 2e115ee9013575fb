"""Errors and inputs as people have them (issue 10, items 4 and 5).

CSV from Chinese offices (GB18030, semicolons, tabs, a BOM), the Excel-friendly
CSV output, the usual Chinese rating labels and percentages, 是/否 facts, files
of the wrong type named, option errors as usage errors, exact JSON positions,
the Chinese questionnaire workbook and a folder of everything.
"""
from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

import engine
from engine.spreadsheet import template_workbook
from conftest import ratings_up_to, run, write_assessment

NAMES = ["苏州甲精密机械有限公司", "宁波乙塑胶制品厂", "广东丙电子（深圳）有限公司"]


def wide_rows(model):
    """A header and three companies with Chinese names and regions, rated up to levels 2, 3 and 4."""
    ids = list(model.criteria)
    rows = [["company_id", "company_name", "region", *ids]]
    for n, (name, k) in enumerate(zip(NAMES, (2, 3, 4)), 1):
        ratings = ratings_up_to(model, k)
        rows.append([f"c{n}", name, "江苏", *[ratings[i] for i in ids]])
    return rows


def write_wide(path, rows, encoding="utf-8", delimiter=",", newline="\r\n"):
    text = newline.join(delimiter.join(row) for row in rows) + newline
    path.write_bytes(text.encode(encoding))
    return path


def batch_jsonl(runner, path, model_dir, *extra):
    result = run(runner, "batch", path, "--model", model_dir, "-j", 1, *extra)
    return result, [json.loads(line) for line in result.stdout.splitlines()]


# -- item 5: CSV as Chinese offices save it --------------------------------------------------------
def test_a_gb18030_csv_with_chinese_names_grades_as_its_utf8_twin(runner, model_dir, model, tmp_path):
    rows = wide_rows(model)
    utf8 = write_wide(tmp_path / "utf8.csv", rows)
    gb = write_wide(tmp_path / "gb.csv", rows, encoding="gb18030")
    assert gb.read_bytes() != utf8.read_bytes()       # really another encoding
    with pytest.raises(UnicodeDecodeError):
        gb.read_bytes().decode("utf-8")
    first, expected = batch_jsonl(runner, utf8, model_dir)
    second, graded = batch_jsonl(runner, gb, model_dir)
    assert first.exit_code == second.exit_code == 0, second.output
    assert [g["company"]["name"] for g in graded] == NAMES
    assert [g["level"] for g in graded] == [e["level"] for e in expected]
    forced, again = batch_jsonl(runner, gb, model_dir, "--encoding", "gb18030")
    assert forced.exit_code == 0 and again == graded
    wrong, entries = batch_jsonl(runner, gb, model_dir, "--encoding", "utf-8")
    assert wrong.exit_code == 1
    assert all("not UTF-8 text" in e["error"] and "--encoding" in e["error"] for e in entries)


@pytest.mark.parametrize("delimiter", [";", "\t"], ids=["semicolon", "tab"])
def test_the_delimiter_is_sniffed(runner, model_dir, model, tmp_path, delimiter):
    rows = wide_rows(model)
    _, expected = batch_jsonl(runner, write_wide(tmp_path / "comma.csv", rows), model_dir)
    result, graded = batch_jsonl(runner, write_wide(tmp_path / "other.csv", rows, "utf-8-sig", delimiter), model_dir)
    assert result.exit_code == 0, result.output
    assert graded == expected


def test_csv_output_has_a_bom_and_round_trips_the_chinese_names(runner, model_dir, model, tmp_path):
    gb = write_wide(tmp_path / "gb.csv", wide_rows(model), encoding="gb18030")
    out = tmp_path / "results.csv"
    result = run(runner, "batch", gb, "--model", model_dir, "--format", "csv", "--out", out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")           # Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["company_name"] for r in rows] == NAMES and {r["region"] for r in rows} == {"江苏"}
    _, graded = batch_jsonl(runner, gb, model_dir)
    assert [int(r["level_rank"]) for r in rows] == [g["level"]["rank"] for g in graded]
    plain = run(runner, "batch", gb, "--model", model_dir, "--format", "csv", "--no-bom")
    assert plain.stdout.startswith("company_id,")
    assert plain.stdout == data.decode("utf-8")[1:]


def test_a_bad_encoding_option_is_a_usage_error(runner, model_dir, model, tmp_path):
    path = write_wide(tmp_path / "w.csv", wide_rows(model))
    for name in ("klingon", "utf-16"):
        result = run(runner, "batch", path, "--model", model_dir, "--encoding", name)
        assert result.exit_code == 2 and "--encoding" in result.output and "Traceback" not in result.output


def test_a_folder_reads_everything_and_names_what_it_skips(runner, model_dir, model, tmp_path):
    folder = tmp_path / "in"
    (folder / "old").mkdir(parents=True)
    write_assessment(folder / "a.yaml", ratings_up_to(model, 3), company={"id": "yaml-1"})
    (folder / "b.jsonl").write_text(json.dumps({"company": {"id": "jsonl-1"}, "ratings": ratings_up_to(model, 2)})
                                    + "\n", encoding="utf-8")
    write_wide(folder / "c.csv", wide_rows(model), encoding="gb18030")
    questionnaire = folder / "d.xlsx"
    questionnaire.write_bytes(template_workbook(model, "zh"))
    fill_zh(questionnaire, {"alpha-2-1": "满分"}, company_id="xlsx-1")   # a bad rating: an error entry
    (folder / "notes.txt").write_text("meeting notes", encoding="utf-8")
    (folder / "report.docx").write_bytes(docx_bytes())
    (folder / "~$d.xlsx").write_bytes(b"lock")
    result, entries = batch_jsonl(runner, folder, model_dir)
    assert result.exit_code == 1
    ids = [e["company"]["id"] for e in entries]
    assert ids == ["yaml-1", "jsonl-1", "c1", "c2", "c3", "xlsx-1"]   # the bad questionnaire keeps its company id
    assert "unknown rating '满分'" in entries[-1]["error"]
    skipped = [line for line in result.stderr.splitlines() if line.startswith("Note: skipped")]
    assert skipped == [f"Note: skipped {folder / 'notes.txt'}: not an input batch reads (.txt: expected .yaml, "
                       f".yml, .json, .xlsx, .jsonl or .csv)",
                       f"Note: skipped {folder / 'old'}: a folder (batch reads the files of one folder, not its "
                       f"subfolders)",
                       f"Note: skipped {folder / 'report.docx'}: a Word document (.docx)",
                       f"Note: skipped {folder / '~$d.xlsx'}: a lock file of an open Excel or WPS workbook"]


def test_a_bad_wide_file_in_a_folder_is_one_error_entry(runner, model_dir, model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("company_id,alpah-2-1\nx,full\n", encoding="utf-8")
    write_assessment(folder / "b.yaml", ratings_up_to(model, 2), company={"id": "ok"})
    result, entries = batch_jsonl(runner, folder, model_dir)
    assert result.exit_code == 1
    assert entries[0]["error"] == (f"{folder / 'a.csv'}:1:2: unknown column 'alpah-2-1'; did you mean 'alpha-2-1'? "
                                   f"(unknown-id)")
    assert entries[1]["company"]["id"] == "ok" and "error" not in entries[1]


# -- item 5: the questionnaire in Chinese ---------------------------------------------------------
def fill_zh(path, ratings, company_id=None):
    book = load_workbook(path)
    sheet = book["questionnaire"]
    header = [c.value for c in sheet[1]]
    criterion, rating = header.index("准则编号") + 1, header.index("评分") + 1
    for row in range(2, sheet.max_row + 1):
        cid = sheet.cell(row=row, column=criterion).value
        if cid in ratings:
            sheet.cell(row=row, column=rating).value = ratings[cid]
    if company_id is not None:
        company = book["company"]
        for row in range(2, company.max_row + 1):
            if company.cell(row=row, column=1).value == "id":
                company.cell(row=row, column=2).value = company_id
    book.save(path)
    return path


def test_the_chinese_questionnaire_speaks_chinese_and_grades(runner, model_dir, model, tmp_path):
    path = tmp_path / "问卷.xlsx"
    assert run(runner, "template", "--model", model_dir, "--lang", "zh", "--out", path).exit_code == 0
    book = load_workbook(path)
    sheet = book["questionnaire"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["准则编号", "准则", "评分", "证据"]        # the rating beside the criterion's text
    assert all(not str(name).isascii() for name in header)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == list(model.criteria)              # ids stay machine-readable
    keys = {r[0]: r[header.index("关键准则")] for r in rows}
    assert set(keys.values()) <= {"是", "否"}
    assert [c.value for c in book["company"][1]] == ["项目", "填写", "说明"]
    ratings = {cid: "满足" if c.level <= 3 else "基本满足" for cid, c in model.criteria.items()}
    fill_zh(path, ratings, company_id="zh-1")
    graded = run(runner, "assess", path, "--model", model_dir, "--format", "json")
    assert graded.exit_code == 0, graded.output
    same = write_assessment(tmp_path / "same.yaml", {cid: "full" if c.level <= 3 else "largely"
                                                     for cid, c in model.criteria.items()}, company={"id": "zh-1"})
    expected = run(runner, "assess", same, "--model", model_dir, "--format", "json", "--no-trace")
    assert json.loads(graded.stdout)["level"] == json.loads(expected.stdout)["level"]


def test_a_questionnaire_of_the_old_layout_still_reads(runner, model_dir, model, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "questionnaire"
    sheet.append(["criterion", "dimension", "level", "key", "weight", "text_en", "text_zh", "guidance_en",
                  "guidance_zh", "rating", "evidence"])
    ratings = ratings_up_to(model, 3)
    for cid, criterion in model.criteria.items():
        sheet.append([cid, criterion.dimension, criterion.level, False, 1, "", "", "", "", ratings[cid], None])
    book.save(tmp_path / "old.xlsx")
    graded = run(runner, "assess", tmp_path / "old.xlsx", "--model", model_dir, "--format", "json")
    same = run(runner, "assess", write_assessment(tmp_path / "same.yaml", ratings), "--model", model_dir,
               "--format", "json")
    assert graded.exit_code == 0, graded.output
    assert json.loads(graded.stdout)["level"] == json.loads(same.stdout)["level"]


# -- item 4: ratings and facts as people write them ------------------------------------------------
@pytest.mark.parametrize("label, canonical", [
    ("满足", "full"), ("全部满足", "full"), ("基本满足", "largely"), ("大部分满足", "largely"),
    ("部分满足", "partial"), ("不满足", "none"), ("不适用", "na"), ("80%", "largely"), ("50 %", "partial"),
    ("100％", "full"), ("0%", "none"), (" Largely ", "largely")])
def test_the_usual_chinese_labels_and_percentages_are_ratings(label, canonical):
    assert engine.parse_rating(label) == engine.parse_rating(canonical)


@pytest.mark.parametrize("typo, unwanted", [
    ("满足了", "不满足"), ("满 足", "不满足"), ("适用", "不适用"), ("applicable", "not applicable"),
    ("部分满", "不满足"), ("全部满", "不满足")])
def test_the_matcher_never_suggests_the_opposite(typo, unwanted):
    with pytest.raises(ValueError) as error:
        engine.parse_rating(typo)
    message = str(error.value)
    assert f"did you mean {unwanted!r}" not in message
    hint = message.split("did you mean ")[1].split("?")[0].strip("'") if "did you mean" in message else None
    if hint is not None:      # a suggestion, when there is one, means what the typo means
        assert ("不" in hint) == ("不" in typo) and ("not" in hint) == ("not" in typo)


def test_a_typo_still_gets_its_own_label():
    for typo, label in (("fulll", "full"), ("largley", "largely"), ("不满", "不满足"), ("部分满", "部分满足")):
        with pytest.raises(ValueError, match=f"did you mean '{label}'"):
            engine.parse_rating(typo)


@pytest.mark.parametrize("bad, words", [("120%", "must lie in [0%, 100%]"), ("abc%", "a number followed by %"),
                                        ("-5%", "must lie in [0%, 100%]")])
def test_a_bad_percentage_says_why(bad, words):
    with pytest.raises(ValueError) as error:
        engine.parse_rating(bad)
    assert words in str(error.value)


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_yes_no_facts_in_yaml_and_json(runner, model_dir, model, tmp_path, suffix):
    ratings = ratings_up_to(model, 4)
    results = {}
    for word in ("是", "否", "yes", "no", "true", "false", True, False):
        path = tmp_path / f"a.{suffix}"
        document = {"company": {"id": "c"}, "ratings": ratings, "facts": {"product_recall_3y": word}}
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")   # JSON is YAML too
        result = run(runner, "assess", path, "--model", model_dir, "--format", "json")
        assert result.exit_code == 0, result.output
        results[word] = json.loads(result.stdout)["level"]["rank"]
    assert results["是"] == results["yes"] == results["true"] == results[True]
    assert results["否"] == results["no"] == results["false"] == results[False]
    assert results[True] < results[False]       # the recall caps the level: the word was read, not ignored
    path = tmp_path / f"b.{suffix}"
    path.write_text(json.dumps({"ratings": {}, "facts": {"product_recall_3y": "也许"}}, ensure_ascii=False),
                    encoding="utf-8")
    refused = run(runner, "assess", path, "--model", model_dir)
    assert refused.exit_code == 1 and "fact 'product_recall_3y' must be a boolean, found '也许'" in refused.output


# -- item 4: files of the wrong type are named ------------------------------------------------------
def docx_bytes() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return stream.getvalue()


def zip_bytes() -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("photos/readme.txt", "hello")
    return stream.getvalue()


USE = "not an assessment; qmgrade reads YAML or JSON assessments and the XLSX questionnaire that qmgrade template writes"


@pytest.mark.parametrize("name, content, message", [
    ("report.docx", docx_bytes(), f"this is a Word document (.docx), {USE}"),
    ("report.yaml", docx_bytes(), f"this is a Word document (.docx), {USE}"),
    ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", f"this is a PDF document, {USE}"),
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", f"this is an image (PNG), {USE}"),
    ("photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF", f"this is an image (JPEG), {USE}"),
    ("photos.zip", zip_bytes(), f"this is a zip archive that is not an XLSX workbook, {USE}"),
    ("book.xlsx", zip_bytes(), f"this is a zip archive that is not an XLSX workbook, {USE}"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
     "this is an old binary Office file (.xls or .doc), not an assessment: open it in Excel or WPS and save it as "
     ".xlsx"),
    ("survey.csv", "company_id,company_name\nc1,甲\n".encode(),
     "this is a CSV file: use `qmgrade batch` (one row per company, one column per criterion id) to grade it"),
    ("survey.txt", "company_id;company_name\nc1;甲\n".encode("gb18030"),
     "this is a CSV file: use `qmgrade batch` (one row per company, one column per criterion id) to grade it"),
    ("many.jsonl", b'{"ratings": {}}\n',
     "this is a JSON Lines file (one assessment a line): use `qmgrade batch` to grade it"),
])
def test_a_file_of_another_kind_is_named(runner, model_dir, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:1:1: {message} (file-type)\n"


# -- item 4: option errors are usage errors ---------------------------------------------------------
@pytest.mark.parametrize("args, start", [
    (("roadmap", "--target", 9), "Error: --target: level 9 is out of range"),
    (("explain", "--level", 0), "Error: --level: level 0 is out of range"),
    (("whatif", "--set", "alpha-2-1=ful"), "Error: --set: alpha-2-1: unknown rating 'ful'; did you mean 'full'?"),
    (("whatif", "--set", "alpha-2-1=满足", "--set", "alpah-2-2=full"), "Error: --set #2: unknown criterion"),
])
def test_a_bad_option_value_is_a_usage_error_without_a_position(runner, model_dir, model, tmp_path, args, start):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    result = run(runner, args[0], path, "--model", model_dir, *args[1:])
    assert result.exit_code == 2
    assert result.output.startswith(start)
    assert ":1:1:" not in result.output and "Traceback" not in result.output


# -- item 4: JSON positions are exact ---------------------------------------------------------------
def test_json_positions_are_where_the_key_is_written(runner, model_dir, tmp_path):
    # the company's name reads like the later key: a text search would report the name's position
    text = ('{"company": {"id": "c", "name": "alpah-2-1", "region": "ratings"},\n'
            ' "ratings": {"alpha-2-1": "full", "alpha-2-2": "full",\n'
            '             "alpah-2-1": "full", "beta-2-1": "ful"}}\n')
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    line3 = text.splitlines()[2]
    key_col, value_col = line3.index('"alpah') + 1, line3.index('"ful"') + 1   # 1-based, at the opening quote
    assert result.output.splitlines() == [
        f"Error: {path}:3:{key_col}: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? (unknown-id)",
        f"Error: {path}:3:{value_col}: beta-2-1: unknown rating 'ful'; did you mean 'full'? (use full, "
        f"largely, partial, none, na, 全部满足, 大部分满足, 部分满足, 不满足, 不适用, a number in [0, 1] or a percentage "
        f"such as 80%) (bad-rating)"]


def test_a_repeated_json_key_is_reported_where_it_repeats(runner, model_dir, tmp_path):
    text = '{"company": {"id": "x"}, "ratings": {"alpha-2-1": "full", "b": {"alpha-2-1": 1}, "alpha-2-1": "none"}}'
    path = tmp_path / "a.json"
    path.write_text(text, encoding="utf-8")
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    col = text.rindex('"alpha-2-1') + 1   # the third one, at its opening quote (the nested one is another object's)
    assert result.output == f"Error: {path}:1:{col}: duplicate key 'alpha-2-1' (duplicate-key)\n"


def test_error_rows_keep_the_company_id_they_could_read(runner, model_dir, model, tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("company_id,company_name,alpha-2-1\n"
                     "c1,甲厂,full\n".encode()
                     + b"c2,\xff\xfe broken name,full\n"       # a stray byte in a UTF-8 file: that line is in error
                     + "c3,丙厂\n".encode()                      # a short row
                     + "c4,丁厂,ful\n".encode())                 # a bad rating
    result, entries = batch_jsonl(runner, path, model_dir)
    assert result.exit_code == 1
    assert [e["company"] for e in entries] == [{"id": "c1", "name": "甲厂"}, {"id": "c2"},
                                               {"id": "c3", "name": "丙厂"}, {"id": "c4", "name": "丁厂"}]
    assert "error" not in entries[0] and all("error" in e for e in entries[1:])
    assert entries[1]["error"].startswith(f"{path}:3:4: not UTF-8 text")
    csv_out = run(runner, "batch", path, "--model", model_dir, "-j", 1, "--format", "csv", "--no-bom")
    rows = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert [r["company_id"] for r in rows] == ["c1", "c2", "c3", "c4"]


@pytest.mark.parametrize("name, head, what", [
    ("report.pdf", b"%PDF-1.7\n", "a PDF document"),
    ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "an image (PNG)"),
])
def test_batch_names_a_file_of_another_kind_as_assess_does(runner, tmp_path, name, head, what):
    path = tmp_path / name
    path.write_bytes(head)
    batch = run(runner, "batch", path)
    assess = run(runner, "assess", path)
    assert batch.exit_code == assess.exit_code == 1
    assert batch.output == (f"Error: {path}:1:1: this is {what}, not a batch input: qmgrade batch reads a folder, "
                            f"JSON Lines (.jsonl), CSV, XLSX, YAML or JSON (file-type)\n")
    assert f"this is {what}, not an assessment" in assess.output

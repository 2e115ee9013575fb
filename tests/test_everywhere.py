"""Issue 10's "everywhere" clauses where the other tests stop short (acceptance audit).

- The roadmap's HTML report (the full report: stave table, explanation, roadmap) shows a cell's
  score as assess does: a failing 0.797 reads 0.79, a met 0.866 reads 0.86, never rounded up.
- 是/否 veto facts are read in every input: the wide CSV and XLSX tables and the questionnaire's
  company sheet, each grading as the YAML with true/false does (and 是 does cap).
"""
from __future__ import annotations

import json
import re

import pytest
from openpyxl import Workbook, load_workbook

import engine
from conftest import build_model, ratings_up_to, run, write_assessment
from engine.spreadsheet import template_workbook

from test_render import page_text


@pytest.fixture
def scored_dir(tmp_path):
    return build_model(tmp_path / "scored", per_cell=1)


def test_the_roadmap_report_shows_a_score_as_assess_does(runner, scored_dir, tmp_path):
    ratings = ratings_up_to(engine.load_model(scored_dir), 3)
    ratings["alpha-3-1"] = 0.866          # met: 0.866 >= 0.8
    ratings["beta-3-1"] = 0.797           # fails: 0.797 < 0.8
    path = write_assessment(tmp_path / "a.yaml", ratings)
    pages = {}
    for command in ("assess", "roadmap"):
        result = run(runner, command, path, "--model", scored_dir, "--format", "html")
        assert result.exit_code == 0, result.output
        pages[command] = page_text(result.output)
    for command, page in pages.items():
        assert "0.79" in page and "0.86" in page, command
        assert "0.87" not in page, command
        assert not re.search(r"0\.80\s*✗", page), command
    scores = {command: sorted(set(re.findall(r"\b[01]\.\d\d\d?\b", page))) for command, page in pages.items()}
    assert set(scores["assess"]) <= set(scores["roadmap"])     # the same numbers, the same way


def _levels(runner, path, model_dir):
    result = run(runner, "batch", path, "--model", model_dir, "-j", 1)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["level"]["rank"] for line in result.stdout.splitlines()]


def test_yes_no_facts_in_wide_csv_and_xlsx(runner, model_dir, model, tmp_path):
    ids = list(model.criteria)
    ratings = ratings_up_to(model, 4)
    header = ["company_id", "company_name", *ids, "product_recall_3y"]
    rows = [[f"c{n}", name, *[ratings[i] for i in ids], fact]
            for n, (name, fact) in enumerate((("甲厂", "是"), ("乙厂", "否"), ("丙厂", "true"), ("丁厂", "false")))]
    csv_path = tmp_path / "w.csv"
    csv_path.write_bytes("\r\n".join(",".join(row) for row in [header, *rows]).encode("gb18030") + b"\r\n")
    book = Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    xlsx_path = tmp_path / "w.xlsx"
    book.save(xlsx_path)
    for path in (csv_path, xlsx_path):
        capped, free, capped_too, free_too = _levels(runner, path, model_dir)
        assert capped == capped_too < free == free_too, path.name      # 是 caps like true, 否 frees like false


def test_yes_no_facts_in_the_questionnaire(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 4)
    graded = {}
    for word in ("是", "否"):
        path = tmp_path / f"q-{word}.xlsx"
        path.write_bytes(template_workbook(model, "zh"))
        book = load_workbook(path)
        sheet = book["questionnaire"]
        header = [c.value for c in sheet[1]]
        criterion, rating = header.index("准则编号") + 1, header.index("评分") + 1
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row=row, column=rating).value = ratings[sheet.cell(row=row, column=criterion).value]
        company = book["company"]
        for row in range(2, company.max_row + 1):
            key = company.cell(row=row, column=1).value
            if key in ("id", "product_recall_3y"):
                company.cell(row=row, column=2).value = "q-1" if key == "id" else word
        book.save(path)
        result = run(runner, "assess", path, "--model", model_dir, "--format", "json", "--no-trace")
        assert result.exit_code == 0, result.output
        graded[word] = json.loads(result.stdout)["level"]["rank"]
    for word, fact in (("是", True), ("否", False)):
        same = write_assessment(tmp_path / f"same-{word}.yaml", ratings, facts={"product_recall_3y": fact})
        expected = json.loads(run(runner, "assess", same, "--model", model_dir, "--format", "json").stdout)
        assert graded[word] == expected["level"]["rank"], word
    assert graded["是"] < graded["否"]


def test_every_out_file_gets_the_same_permissions(runner, model_dir, model, tmp_path):
    """One atomic writer: batch --out used to leave 0600 where assess --out left 0644."""
    import os
    import stat
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    outs = {"assess": (tmp_path / "a.txt", ["assess", path]),
            "batch": (tmp_path / "r.jsonl", ["batch", path, "-j", 1]),
            "batch csv": (tmp_path / "r.csv", ["batch", path, "-j", 1, "--format", "csv"]),
            "trace": (tmp_path / "t.json", ["trace", path, "--format", "json"])}
    old = os.umask(0o022)
    try:
        for name, (out, args) in outs.items():
            result = run(runner, *args, "--model", model_dir, "--out", out)
            assert result.exit_code == 0, (name, result.output)
        stats = tmp_path / "s.html"
        assert run(runner, "stats", outs["batch"][0], "--model", model_dir, "--format", "html",
                   "--out", stats).exit_code == 0
    finally:
        os.umask(old)
    modes = {name: stat.S_IMODE(out.stat().st_mode) for name, (out, _) in outs.items()}
    modes["stats"] = stat.S_IMODE(stats.stat().st_mode)
    assert set(modes.values()) == {0o644}, modes


def test_trace_and_history_tell_their_forms_apart_through_click_s_public_api(runner, model_dir, model, tmp_path):
    """DefaultCommandGroup names its default command instead of setting click's private ctx._protected_args."""
    import inspect

    import cli
    assert "_protected_args" not in inspect.getsource(cli)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    record = run(runner, "trace", path, "--model", model_dir, "--format", "json")
    assert record.exit_code == 0 and json.loads(record.stdout)["firings"]
    assert run(runner, "trace", "--format", "json", path, "--model", model_dir).stdout == record.stdout
    saved = tmp_path / "t.json"
    saved.write_text(record.stdout, encoding="utf-8")
    assert run(runner, "trace", "verify", saved, path, "--model", model_dir).exit_code == 0
    bad = run(runner, "trace", path, "--lang", "fr")
    assert bad.exit_code == 2 and re.match(r"Usage: \S+ trace \[OPTIONS\] FILE\n", bad.output), bad.output
    missing = run(runner, "history", "--db", tmp_path / "h.sqlite")
    assert missing.exit_code == 2 and "Missing argument 'COMPANY'" in missing.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_questionnaire_instructions_speak_the_chosen_language(runner, model_dir, tmp_path, lang):
    path = tmp_path / "q.xlsx"
    assert run(runner, "template", "--model", model_dir, "--lang", lang, "--out", path).exit_code == 0
    lines = [row[0] for row in load_workbook(path)["instructions"].iter_rows(values_only=True) if row and row[0]]
    text = "\n".join(lines)
    chinese = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if lang == "zh":
        assert chinese > len(text) // 4 and "是/否" in text and "评分" in text
    else:      # English, with the Chinese rating labels offered as alternatives
        assert lines[0].isascii() and "yes/no" in text and "rating column" in text
        assert chinese == len(re.sub(r"[^\u4e00-\u9fff]", "", "全部满足 大部分满足 部分满足 不满足 不适用")), text


def test_a_reader_that_goes_away_ends_a_batch_quietly(model_dir, model, tmp_path):
    """`qmgrade batch … | head -1`: exit 141 at once, nothing on standard error. Before, about one run in
    five printed the process pool's exit-hook traceback (EBADF) or hung for ever joining killed workers."""
    import subprocess
    import sys
    from pathlib import Path
    line = json.dumps({"company": {"id": "c"}, "ratings": ratings_up_to(model, 3)})
    path = tmp_path / "many.jsonl"
    path.write_text((line + "\n") * 3000, encoding="utf-8")
    command = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())",
               "batch", str(path), "--model", str(model_dir), "-j", "2"]
    for attempt in range(6):
        errors = tmp_path / f"stderr-{attempt}.txt"
        with open(errors, "wb") as stderr:
            process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE,
                                       stderr=stderr)
        try:
            assert json.loads(process.stdout.readline())["company"]["id"] == "c"
            process.stdout.close()                        # the reader goes away
            process.wait(timeout=60)                      # a hang fails here
        finally:
            process.kill()
        assert process.returncode == 141 and errors.read_bytes() == b"", errors.read_text(errors="replace")

"""Hostile catalogue, inputs: every hostile file ends as a clean error or a correct result, within 200 MB.

Each case states its exact outcome.  The big ones run ``qmgrade`` in a fresh
process and measure its peak memory (its own and its workers', from
``getrusage(RUSAGE_CHILDREN)`` in a wrapper process).
"""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import engine
from conftest import build_model, ratings_up_to, run, write_assessment

ROOT = Path(__file__).resolve().parents[2]
PEAK_MB = 200
_MEASURE = ("import json, resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True)\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
            "json.dump({'rc': r.returncode, 'peak_mb': peak, 'out': r.stdout.decode('utf-8', 'replace'),\n"
            "           'err': r.stderr.decode('utf-8', 'replace')}, sys.stdout)\n")


def measured(*args, timeout=300):
    """Run ``qmgrade ARGS`` in a fresh process: (exit code, stdout, stderr, peak MB of it and its workers)."""
    command = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())", *map(str, args)]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)
    report = json.loads(done.stdout)
    return report["rc"], report["out"], report["err"], report["peak_mb"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    model_dir = build_model(root / "model")
    return root, model_dir, engine.load_model(model_dir)


def _wide_workbook(path: Path, rows) -> Path:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "companies"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _replace_member(path: Path, name: str, write) -> None:
    """Rewrite one member of a zip archive; ``write(stream)`` streams the new content."""
    source = zipfile.ZipFile(path)
    members = {info.filename: source.read(info.filename) for info in source.infolist()}
    source.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member, content in members.items():
            if member != name:
                target.writestr(member, content)
        with target.open(name, "w") as stream:
            write(stream)


# -- XLSX -----------------------------------------------------------------------------------------------------
def test_an_xlsx_zip_bomb_is_refused_before_parsing_within_200_mb(hostile):
    root, model_dir, model = hostile
    bomb = _wide_workbook(root / "bomb.xlsx", [["company_id", "company_name", "alpha-2-1"], ["c1", "x", "full"]])

    def shared_strings(stream):
        stream.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                     b'main" count="3" uniqueCount="3">')
        for _ in range(60):
            stream.write(b"<si><t>" + b"A" * (1 << 20) + b"</t></si>")
        stream.write(b"</sst>")
    _replace_member(bomb, "xl/sharedStrings.xml", shared_strings)
    info = zipfile.ZipFile(bomb).getinfo("xl/sharedStrings.xml")
    ratio = info.file_size / info.compress_size
    expected = f"Error: {bomb}:1:1: xl/sharedStrings.xml expands {ratio:,.0f} times (more than 200): a zip bomb? (too-large)\n"
    for command in ("batch", "assess"):
        code, out, err, peak = measured(command, bomb, "--model", model_dir)
        assert (code, out, err) == (1, "", expected)
        assert peak < PEAK_MB


def test_an_xlsx_whose_total_size_is_too_large_names_the_option(hostile):
    root, model_dir, model = hostile
    book = _wide_workbook(root / "large.xlsx", [["company_id", "alpha-2-1"], ["c1", "full"]])
    result = run_cli("batch", book, "--model", model_dir, "--max-xlsx-bytes", 1000)
    assert result.exit_code == 1
    assert result.output == (f"Error: {book}:1:1: the workbook expands to more than 1,000 bytes (raise the limit "
                             f"with --max-xlsx-bytes) (too-large)\n")


def test_an_xlsx_sheet_declaring_a_million_rows_is_refused(hostile):
    root, model_dir, model = hostile
    book = _wide_workbook(root / "rows.xlsx", [["company_id", "alpha-2-1"], ["c1", "full"]])
    text = zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml")
    text = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', text)
    assert b"XFD1048576" in text
    _replace_member(book, "xl/worksheets/sheet1.xml", lambda stream: stream.write(text))
    code, out, err, peak = measured("batch", book, "--model", model_dir)
    assert (code, out) == (1, "")
    assert err == (f"Error: {book}:1:1: companies: 1,048,576 rows, more than 1,000,000 (raise the limit with "
                   f"--max-rows) (too-large)\n")
    assert peak < PEAK_MB


def test_a_duplicate_key_in_the_company_sheet_is_refused(hostile):
    from openpyxl import load_workbook
    from engine.spreadsheet import template_workbook
    root, model_dir, model = hostile
    path = root / "questionnaire.xlsx"
    path.write_bytes(template_workbook(model))
    book = load_workbook(path)
    company = book["company"]
    rows = {row[0].value: row[0].row for row in company.iter_rows()}
    company.cell(rows["id"], 2, "c-1")
    company.cell(rows["product_recall_3y"], 2, "是")
    company.append(["product_recall_3y", "否"])      # entered again below: the last must not silently win
    book.save(path)
    result = run_cli("assess", path, "--model", model_dir)
    assert result.exit_code == 1
    last = company.max_row
    assert result.output == (f"Error: {path}:{last}:1: company!A{last}: key 'product_recall_3y' appears twice "
                             f"(first in row {rows['product_recall_3y']}) (duplicate-key)\n")


# -- JSON Lines -------------------------------------------------------------------------------------------------
def test_a_200_mb_class_json_line_is_an_error_entry_read_in_bounded_memory(hostile):
    root, model_dir, model = hostile
    good = json.dumps({"company": {"id": "ok"}, "ratings": ratings_up_to(model, 2)})
    path = root / "long.jsonl"
    with path.open("wb") as stream:
        stream.write(b'{"company": {"id": "' + b"x" * (60 << 20) + b'"}}\n')
        stream.write(good.encode() + b"\n")
    size = (60 << 20) + len('{"company": {"id": ""}}\n')
    code, out, err, peak = measured("batch", path, "--model", model_dir, "-j", "2")
    assert code == 1
    entries = [json.loads(line) for line in out.splitlines()]
    assert entries[0] == {"company": None, "error": f"{path}:1:1: line of {size:,} bytes is longer than the limit "
                                                    f"of 2,097,152 bytes (raise it with --max-line-bytes) (too-large)",
                          "errors": [f"{path}:1:1: line of {size:,} bytes is longer than the limit of 2,097,152 "
                                     f"bytes (raise it with --max-line-bytes) (too-large)"]}
    assert entries[1]["company"]["id"] == "ok" and entries[1]["level"]["rank"] == 2
    assert peak < PEAK_MB


def test_unknown_ids_list_100_problems_with_suggestions_then_a_count(hostile):
    root, model_dir, model = hostile
    big_dir = build_model(root / "big-model", per_cell=25)       # 300 criteria
    big = engine.load_model(big_dir)
    ratings = {criterion: "full" for criterion in big.criteria}  # a real assessment with 250 typos
    ratings.update({f"{criterion}x": "full" for criterion in list(big.criteria)[:250]})
    path = root / "typos.json"
    path.write_text(json.dumps({"company": {"id": "u"}, "ratings": ratings}), encoding="utf-8")
    code, out, err, peak = measured("assess", path, "--model", big_dir, timeout=120)
    lines = err.splitlines()
    assert code == 1 and out == ""
    assert len(lines) == 101
    first = list(big.criteria)[0]
    assert re.fullmatch(rf"Error: {re.escape(str(path))}:1:\d+: unknown criterion '{first}x'; did you mean "
                        rf"'{first}'\? \(unknown-id\)", lines[0])
    assert all("did you mean" in line for line in lines[:100])
    assert re.fullmatch(rf"Error: {re.escape(str(path))}:1:\d+: … and 150 more problems \(more\)", lines[-1])
    assert peak < PEAK_MB


def test_200000_unknown_ids_are_refused_before_parsing(hostile):
    root, model_dir, model = hostile
    path = root / "unknown200k.json"
    path.write_text(json.dumps({"company": {"id": "u"}, "ratings": {f"zz-{i}": "full" for i in range(200_000)}}),
                    encoding="utf-8")
    code, out, err, peak = measured("assess", path, "--model", model_dir, timeout=120)
    assert (code, out) == (1, "")
    assert err == f"Error: {path}:1:1: document has more than 200,000 items (about 600,006); refused\n"
    assert peak < PEAK_MB


def test_a_yaml_alias_bomb_is_refused_within_200_mb(hostile):
    root, model_dir, model = hostile
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        lines.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ", ".join([f"*{chr(96 + n)}"] * 10) + "]")
    lines.append("ratings: {}")
    path = root / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err, peak = measured("assess", path, "--model", model_dir)
    assert (code, out) == (1, "")
    assert err.startswith(f"Error: {path}:") and "more than 2,000,000 nodes (YAML alias bomb?)" in err
    assert peak < PEAK_MB


# -- CSV ----------------------------------------------------------------------------------------------------------
def test_every_malformed_csv_row_is_its_own_error_entry_and_the_batch_goes_on(hostile):
    root, model_dir, model = hostile
    path = root / "wide.csv"
    good = [f"c{n},Company {n},full,full,full\n".encode() for n in range(1, 901)]
    good[899] = "c900,Company 9\u00d100,full,full,full\n".encode("gbk", "replace").replace(b"?", b"\xd5")
    rows = [b"company_id,company_name,alpha-2-1,alpha-2-2,beta-2-1\n", *good,
            b'c901,"Unbalanced,full,full,full\n',
            b"c902,Short,full\n",
            b"c903,Long,full,full,full,full\n",
            b"c904," + b"y" * 200_000 + b",full,full,full\n",
            b"c905,Fine,full,full,full\n",
            b"c906,Truncated,fu"]
    path.write_bytes(b"".join(rows))
    result = run_cli("batch", path, "--model", model_dir, "-j", "1")
    assert result.exit_code == 1
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(entries) == 906
    errors = {n + 2: e["error"] for n, e in enumerate(entries) if "error" in e}
    prefix = str(path)
    assert errors == {
        901: f"{prefix}:901:{good[899].index(bytes([0xd5])) + 1}: not UTF-8 text (byte "
             f"{good[899].index(bytes([0xd5])) + 1} of the line; save the CSV as UTF-8) (encoding)",
        902: f"{prefix}:902:1: unbalanced quote: a quoted field does not end on line 902 (malformed)",
        903: f"{prefix}:903:4: the row has 3 fields but the header 5 (a short or truncated row) (header)",
        904: f"{prefix}:904:6: the row has 6 fields but the header only 5 (header)",
        905: f"{prefix}:905:1: a field is longer than 131,072 characters (raise the limit with --max-field-size) "
             f"(too-large)",
        907: f"{prefix}:907:4: the row has 3 fields but the header 5 (a short or truncated row) (header)",
    }
    assert entries[904]["company"]["id"] == "c905" and entries[904]["level"]["rank"] == 1
    assert [e["company"]["id"] for e in entries[:899]] == [f"c{n}" for n in range(1, 900)]


def test_the_field_limit_can_be_raised(hostile):
    root, model_dir, model = hostile
    path = root / "field.csv"
    path.write_bytes(b"company_id,company_name,alpha-2-1\nc1," + b"z" * 200_000 + b",full\n")
    assert run_cli("batch", path, "--model", model_dir, "-j", "1").exit_code == 1
    result = run_cli("batch", path, "--model", model_dir, "-j", "1", "--max-field-size", 300_000)
    assert result.exit_code == 0 and json.loads(result.stdout)["company"]["id"] == "c1"


def test_a_duplicate_csv_column_is_refused(hostile):
    root, model_dir, model = hostile
    path = root / "dup.csv"
    path.write_text("company_id,alpha-2-1,alpha-2-1\nc1,full,none\n", encoding="utf-8")
    result = run_cli("batch", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:1:3: duplicate column 'alpha-2-1' (first in column 2) (header)\n"


# -- duplicate and unknown keys ---------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".yaml", ".json", ".jsonl"])
def test_duplicate_keys_are_refused_in_every_format(hostile, suffix):
    root, model_dir, model = hostile
    path = root / f"dup{suffix}"
    if suffix == ".yaml":
        path.write_text("company: {id: d}\nratings:\n  alpha-2-1: full\n  alpha-2-1: none\n", encoding="utf-8")
    else:
        path.write_text('{"company": {"id": "d"}, "ratings": {"alpha-2-1": "full", "alpha-2-1": "none"}}\n',
                        encoding="utf-8")
    result = run_cli("batch" if suffix == ".jsonl" else "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    text = result.stdout if suffix == ".jsonl" else result.output
    expected = {".yaml": f"{path}:4:3: duplicate key 'alpha-2-1' (first defined at line 3) (duplicate-key)",
                ".json": f"{path}:1:59: duplicate key 'alpha-2-1' (duplicate-key)",
                ".jsonl": f"{path}:1:59: duplicate key 'alpha-2-1' (duplicate-key)"}[suffix]
    assert expected in text


def test_a_typo_for_facts_is_an_error_not_a_silent_drop(hostile):
    root, model_dir, model = hostile
    path = root / "typo.yaml"
    path.write_text("company: {id: t}\nratings: {}\nfact:\n  product_recall_3y: true\n", encoding="utf-8")
    result = run_cli("assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}:3:1: unknown key 'fact'; did you mean 'facts'? (private extensions "
                             f"start with x-) (unknown-key)\n")


def test_private_extensions_start_with_x(hostile):
    root, model_dir, model = hostile
    path = root / "private.yaml"
    path.write_text("company: {id: p}\nx-survey: {round: 3}\nratings: {}\nfacts:\n  x-note: internal\n",
                    encoding="utf-8")
    result = run_cli("assess", path, "--model", model_dir, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["level"]["rank"] == 1
    path.write_text("company: {id: p}\nratings: {}\nfacts:\n  product_recal_3y: true\n", encoding="utf-8")
    result = run_cli("assess", path, "--model", model_dir)
    assert result.output == (f"Error: {path}:4:3: unknown fact 'product_recal_3y'; did you mean "
                             f"'product_recall_3y'? (unknown-id)\n")


def run_cli(*args):
    from click.testing import CliRunner
    return run(CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
               else CliRunner(), *args)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_document_of_a_million_values_is_refused_before_parsing(hostile, suffix):
    root, model_dir, model = hostile
    path = root / f"million{suffix}"
    path.write_text('{"company": {"id": "m"}, "ratings": {}, "evidence": {"alpha-2-1": ['
                    + ", ".join(['"ab"'] * 1_000_000) + "]}}\n", encoding="utf-8")
    code, out, err, peak = measured("assess", path, "--model", model_dir)
    assert (code, out) == (1, "")
    assert err == f"Error: {path}:1:1: document has more than 200,000 items (about 1,000,014); refused\n"
    assert peak < PEAK_MB


def test_an_xlsx_cell_of_60_mb_is_refused_before_openpyxl_holds_it(hostile):
    import base64
    import os
    root, model_dir, model = hostile
    book = _wide_workbook(root / "cell.xlsx", [["company_id", "company_name", "alpha-2-1"], ["c1", "x", "full"]])
    text = zipfile.ZipFile(book).read("xl/worksheets/sheet1.xml")
    text = text.replace(b"<t>x</t>", b"<t>" + base64.b64encode(os.urandom(45 << 20)) + b"</t>", 1)
    _replace_member(book, "xl/worksheets/sheet1.xml", lambda stream: stream.write(text))
    code, out, err, peak = measured("batch", book, "--model", model_dir)
    assert (code, out) == (1, "")
    assert err == (f"Error: {book}:1:1: xl/worksheets/sheet1.xml: a cell holds more than 131,072 characters "
                   f"(raise the limit with --max-field-size) (too-large)\n")
    assert peak < PEAK_MB

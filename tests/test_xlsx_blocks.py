"""Wide XLSX tables are parsed in the batch workers, in blocks of rows (issue 13).

The parent only splits the worksheet's XML at its row tags; each block is parsed
where it is graded.  The output is byte for byte what parsing the whole sheet in
the parent gives (the path kept for sheets that cannot be split safely), with
every --jobs, the same row numbers in the error entries, the same refusals.
"""
from __future__ import annotations

import datetime
import re
import zipfile

import pytest
from openpyxl import Workbook

import engine
import engine.inputs.wide as wide
from engine.batch import run_batch
from engine.errors import InputError
from engine.inputs.folder import open_source
from engine.limits import Limits


@pytest.fixture(scope="module")
def model():
    return engine.load_model(None)


def survey(model, path, rows=150, title="公司"):
    """A wide table with the odd things people leave in one: blank rows, blank and padded cells, a date, a
    number for a name, a bad rating, a trailing blank column."""
    criteria = sorted(model.criteria)[:40]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(["company_id", "company_name", "region", "assessed_on", *criteria, None])
    for n in range(rows):
        ratings = [["full", "largely", "partial", "none", 1, 0.5, "80%", None, " Full "][(n + i) % 9]
                   for i in range(len(criteria))]
        row = [f"c-{n}", f"公司{n}" if n % 13 else 42, " 浙江 ", datetime.date(2026, 5, 1 + n % 28), *ratings]
        if n == 17:
            row[5] = "fulll"
        if n % 41 == 5:
            sheet.append([])
            sheet.append([None, "  "])
        sheet.append(row)
    book.save(path)
    return path


def graded(path, model, jobs, limits=None, serial=False, monkeypatch=None):
    if serial:
        monkeypatch.setattr(wide, "sheet_blocks", lambda *args: None)
    lines = []
    source = open_source(str(path), model, **({"limits": limits} if limits else {}))
    try:
        run_batch(source, model, jobs=jobs, sink=lines.append)
    finally:
        if serial:
            monkeypatch.undo()
    return "".join(lines)


def rewrite_sheet(path, change):
    """The workbook with its first worksheet's XML changed by ``change(text)``."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data.decode("utf-8")).encode("utf-8")
            archive.writestr(info.filename, data)
    return path


def test_blocks_of_rows_are_graded_as_the_whole_sheet_is(model, tmp_path, monkeypatch):
    path = survey(model, tmp_path / "survey.xlsx")
    records = [item for item, _ in open_source(str(path), model).records()]
    assert records and all(isinstance(item, wide.SheetRows) for item in records)   # the rows travel as blocks
    assert sum(item.count for item in records) == 150 + 2 * 4
    expected = graded(path, model, 1, serial=True, monkeypatch=monkeypatch)
    assert expected.count("\n") == 150
    assert '"error": "' + str(path) + ':21:6: 公司!F21: ' in expected   # the bad rating (two blank rows above)
    assert graded(path, model, 1) == expected
    assert graded(path, model, 2) == expected


@pytest.mark.parametrize("change", [
    lambda xml: re.sub(r'(<row[^>]*?) r="\d+"', r"\1", xml),                        # rows without numbers
    lambda xml: xml.replace("<sheetData>", "<sheetData><!-- <row r=\"9\"> -->", 1),  # a row tag in a comment
])
def test_a_sheet_that_cannot_be_split_safely_is_read_whole(model, tmp_path, monkeypatch, change):
    path = rewrite_sheet(survey(model, tmp_path / "odd.xlsx", rows=20), change)
    records = [item for item, _ in open_source(str(path), model).records()]
    assert records and not any(isinstance(item, wide.SheetRows) for item in records)
    assert graded(path, model, 2) == graded(path, model, 1, serial=True, monkeypatch=monkeypatch)


def test_a_sheet_longer_than_the_row_limit_is_refused_at_the_same_row(model, tmp_path, monkeypatch):
    """Without a declared size the limit is met while reading: the same error, after the same rows."""
    path = rewrite_sheet(survey(model, tmp_path / "long.xlsx", rows=60), lambda xml: re.sub(r"<dimension[^>]*/>",
                                                                                              "", xml))
    limits = Limits(rows=30)
    outcomes = []
    for serial in (True, False):
        with pytest.raises(InputError) as raised:
            graded(path, model, 1, limits=limits, serial=serial, monkeypatch=monkeypatch)
        outcomes.append(str(raised.value.problems[0]))
    assert outcomes[0] == outcomes[1]
    assert "公司: more than 30 rows" in outcomes[0]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_lines_encoded_where_they_are_graded_are_the_text_lines_bytes(tmp_path, model, jobs, fmt):
    """`batch` writes each line as UTF-8 bytes encoded in the worker (issue 13): the same bytes as the text
    lines, new lines and the CSV header's byte-order mark included, error entries too (row 17)."""
    path = survey(model, tmp_path / "survey.xlsx", rows=60)
    texts, blobs = [], []
    run_batch(open_source(str(path), model), model, jobs=jobs, fmt=fmt, bom=True, sink=texts.append)
    run_batch(open_source(str(path), model), model, jobs=jobs, fmt=fmt, bom=True, sink=blobs.append, encoded=True)
    assert all(type(blob) is bytes for blob in blobs) and len(blobs) == len(texts) >= 60
    assert b"".join(blobs) == "".join(text if text.endswith("\n") else text + "\n" for text in texts).encode("utf-8")
    assert "公司" in b"".join(blobs).decode("utf-8") and any("fulll" in text for text in texts)

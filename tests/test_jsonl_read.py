"""A JSON Lines record reads the same whichever parser reads it (issue 13).

``batch`` reads a plain record (no backslash, no white space after a quote) with orjson, which is three times
as fast as the standard parser, and anything else with the standard parser, as before.  orjson differs from
the standard parser in ways a record can show — it drops a duplicate key without a word (as the standard
parser does, but qmgrade refuses one), it reads an integer beyond 64 bits as a float, it refuses NaN — so every
record must come out exactly as the standard parser would have it: the same assessment, the same company in
an error entry, the same problems.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from assessment_strategies import PROPERTY
from conftest import examples
from engine.inputs import jsonl
from test_fuzz import documents

FUZZ = PROPERTY.__class__(PROPERTY, max_examples=examples(300))


@pytest.fixture(scope="module")
def model():
    return engine.load_model()


def read(text: str, model, standard: bool, number: int = 3):
    """What jsonl_assessment makes of one line: the assessment's fields, the company, the problems."""
    saved = jsonl._read_plain
    if standard:
        jsonl._read_plain = lambda raw, number: None
    try:
        assessment, company, problems = jsonl.jsonl_assessment("in.jsonl", (number, text.encode("utf-8")), model)
    finally:
        jsonl._read_plain = saved
    fields = None if assessment is None else repr((
        list(assessment.company.items()), assessment.assessed_on, list(assessment.ratings.items()),
        list(assessment.evidence.items()), list(assessment.facts.items()), assessment.profile_na))
    return fields, company, [(str(p), p.code) for p in problems]


def same_both_ways(text: str, model, number: int = 3):
    by_orjson, by_standard = read(text, model, False, number), read(text, model, True, number)
    assert by_orjson == by_standard, text[:300]
    return by_orjson


def record(model, **extra) -> dict:
    ratings = {cid: "full" if c.level <= 2 else "partial" for cid, c in model.criteria.items()}
    return {"company": {"id": "c-1", "name": "测试"}, "assessed_on": "2026-05-01", "ratings": ratings, **extra}


def test_a_plain_record_reads_the_same_and_is_graded(model):
    text = json.dumps(record(model), ensure_ascii=False)
    fields, company, problems = same_both_ways(text, model)
    assert fields is not None and problems == [] and company == {"id": "c-1", "name": "测试"}
    assert jsonl._read_plain(text.encode("utf-8"), 3) is not None   # and it did go through orjson


@pytest.mark.parametrize("edit", [
    # duplicate keys, at every depth: refused with the key named, as before
    lambda text: text.replace('{"company": {"id": "c-1"', '{"company": {"id": "c-1", "id": "c-2"', 1),
    lambda text: text.replace('"assessed_on": "2026-05-01"', '"assessed_on": "2026-05-01", "assessed_on": "x"'),
    lambda text: text.replace('"ratings": {', '"ratings": {"design-2-drawings-specs": "none", ', 1),
    # integers beyond 64 bits (orjson would make them floats), floats that large, NaN, infinities
    lambda text: text.replace('"id": "c-1"', '"id": 123456789012345678901234567890'),
    lambda text: text.replace('"id": "c-1"', '"id": -9223372036854775809'),
    lambda text: text.replace('"id": "c-1"', '"id": 18446744073709551615'),
    lambda text: text.replace('"id": "c-1"', '"id": 1e19'),
    lambda text: text.replace('"id": "c-1"', '"id": 1e400'),
    lambda text: text.replace('"id": "c-1"', '"id": NaN'),
    lambda text: text.replace('"id": "c-1"', '"id": -Infinity'),
    lambda text: text.replace('"id": "c-1"', '"id": -0'),
    lambda text: text.replace('"id": "c-1"', '"id": 2.5'),
    # a key or value that begins with a colon; other spacing; escapes
    lambda text: text.replace('"name": "测试"', '"name": ":测试", ":note": ":"'),
    lambda text: text.replace('"name": "测试"', '"name" : "测试"'),
    lambda text: text.replace('"name": "测试"', '"name":"测试"\t'),
    lambda text: text.replace('"name": "测试"', '"name": "\\"测试\\"\\\\"'),
    lambda text: text.replace('"name": "测试"', '"name": "\\u6d4b\\u8bd5"'),
    lambda text: text.replace('"name": "测试"', '"name": "\\ud800"'),
    # facts and evidence, nested deeper; deep nesting; not JSON at all
    lambda text: text[:-1] + ', "facts": {"product_recall": [{"date": "2025-01-02", "date": "2025-01-03"}]}}',
    lambda text: text[:-1] + ', "evidence": {"design-2-drawings-specs": {"a": [1, 2, {"b": null}]}}}',
    lambda text: text[:-1] + ', "evidence": ' + "[" * 1100 + "]" * 1100 + "}",
    # colons inside strings (the count of colons then differs from the keys), with and without a duplicate
    lambda text: text[:-1] + ', "evidence": {"design-2-drawings-specs": "https://x.cn/a:b"}}',
    lambda text: text.replace('"name": "测试"', '"name": "12:30", "name" : "x"'),
    lambda text: text.replace('"name": "测试"', '"name": "a\\":", "name" :"x"'),
    lambda text: text.replace('"name": "测试"', '"name":"测试"\t, "name"\t:"x"'),
    lambda text: text[:-1] + ', "x": 1}',
    lambda text: text + " x",
    lambda text: text[:-1],
    lambda text: "[" + text + "]",
])
def test_records_orjson_reads_differently_read_as_the_standard_parser_reads_them(model, edit):
    text = edit(json.dumps(record(model), ensure_ascii=False))
    same_both_ways(text, model)


@pytest.mark.parametrize("number", [1, 2])
def test_a_byte_order_mark_is_taken_off_the_first_line_only(model, number):
    fields, _, problems = same_both_ways("\ufeff" + json.dumps(record(model), ensure_ascii=False), model, number)
    assert (fields is not None) == (number == 1), problems


@pytest.mark.parametrize("text", [
    '{"company": {"id": "c-1", "name": "测试"}, "ratings": {}, "evidence": {"design-2-drawings-specs": "http://a/b"}}',
    '{"company" :\t{"id"\t: "c-1"},\t"ratings" : {}}',
    '{"company":{"id":"c-1"},"ratings":{},"assessed_on":"2026-05-01"}',
])
def test_plain_records_with_colons_or_white_space_anywhere_are_read_by_orjson(model, text):
    """A colon inside a string, white space around the colons: the fast reader takes them (and reads them as
    the standard parser does)."""
    same_both_ways(text, model)
    assert jsonl._read_plain(text.encode("utf-8"), 3) is not None


def test_a_duplicate_key_is_still_refused_and_named(model):
    text = json.dumps(record(model), ensure_ascii=False).replace('"id": "c-1"', '"id": "c-1", "id": "c-2"', 1)
    fields, _, problems = same_both_ways(text, model)
    assert fields is None and problems and "id" in problems[0][0]


def test_a_large_integer_keeps_every_digit(model):
    text = json.dumps(record(model), ensure_ascii=False).replace('"id": "c-1"', '"id": 123456789012345678901234567890')
    fields, company, problems = same_both_ways(text, model)
    assert "123456789012345678901234567890" in repr((fields, company, problems))


@FUZZ
@given(document=documents, ascii_only=st.booleans(), compact=st.booleans())
def test_any_json_document_reads_the_same_both_ways(model, document, ascii_only, compact):
    try:
        text = json.dumps(document, ensure_ascii=ascii_only, separators=(",", ":") if compact else None)
    except ValueError:
        return
    same_both_ways(text, model)


@FUZZ
@given(company=documents, note=documents)
def test_any_company_and_evidence_in_a_valid_record_read_the_same_both_ways(model, company, note):
    data = record(model)
    data["company"] = company
    data["evidence"] = {"design-2-drawings-specs": note}
    same_both_ways(json.dumps(data, ensure_ascii=False), model)

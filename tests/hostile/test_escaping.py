"""Hostile catalogue, escaping: the red-team strings in every user field reach no report raw.

A company id with a new line, backticks and ``<script>``, ESC sequences, U+202E (right-to-left override),
``[/bad]`` and ``[bold red]Zhejiang`` (rich markup), a spreadsheet formula: shown as written, never run.
"""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
import yaml

import engine
from conftest import build_model, run
from engine.textsafe import csv_cell, md_code, md_text, visible

RED_ID = "x\n# Injected\n```\n<script>alert(1)</script>\x1b[31m\u202e`[/bad]"
RED_NAME = "[bold red]Zhejiang\u202eevil\x1b]0;title\x07|cell|"
RED_REGION = "[bold red]Zhejiang\x1b[2J"
RED_INDUSTRY = '=HYPERLINK("http://x")'
RED_EVIDENCE = "QM\n# manual\u202e <script>x</script> \x1b[31m\u2066"
RAW = ["\x1b", "\x07", "\u202e", "\u2066"]


@pytest.fixture(scope="module")
def red(tmp_path_factory):
    root = tmp_path_factory.mktemp("red")
    model_dir = build_model(root / "model")
    path = root / "red.yaml"
    path.write_text(yaml.safe_dump({
        "company": {"id": RED_ID, "name": RED_NAME, "region": RED_REGION, "industry": RED_INDUSTRY},
        "assessed_on": "2026-01-01", "ratings": {"alpha-2-1": "full"},
        "evidence": {"alpha-2-1": [RED_EVIDENCE], "beta-2-1": [RED_EVIDENCE]}}, allow_unicode=True),
        encoding="utf-8")
    return root, model_dir, path


def _outside_code_spans(markdown: str) -> str:
    return re.sub(r"(`+)(?:(?!\1).)*?\1", "", markdown)


@pytest.mark.parametrize("command", ["assess", "explain", "roadmap"])
@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json"])
def test_no_raw_control_or_bidi_character_reaches_a_report(runner, red, command, fmt):
    root, model_dir, path = red
    result = run(runner, command, path, "--model", model_dir, "--format", fmt)
    assert result.exit_code == 0, result.output
    for char in RAW:
        assert char not in result.output, (command, fmt, repr(char))
    if fmt == "markdown":
        assert not re.search(r"(?m)^\s*# (Injected|manual)", result.output)
        rest = _outside_code_spans(result.output)
        assert "<script>" not in rest and "[/bad]" not in rest
        assert "\\[bold red\\]Zhejiang\\\\u202eevil\\\\x1b\\]0;title\\\\x07\\|cell\\|" in result.output
    if fmt == "html":
        assert "<script>alert" not in result.output and "<script>x" not in result.output
        assert "x\\n# Injected\\n```\\n&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m\\u202e`[/bad]" in result.output
    if fmt == "text":
        assert "[bold red]Zhejiang\\u202eevil\\x1b]0;title\\x07|cell|" in result.output
    if fmt == "json":
        assert json.loads(result.output)["company"] == {"id": RED_ID, "name": RED_NAME, "industry": RED_INDUSTRY,
                                                        "region": RED_REGION}


@pytest.mark.parametrize("args", [["whatif", "--set", "alpha-2-2=full"], ["trace"]])
def test_whatif_and_trace_text_show_user_text_visibly(runner, red, args):
    root, model_dir, path = red
    result = run(runner, args[0], path, *args[1:], "--model", model_dir)
    assert result.exit_code == 0
    assert not any(char in result.output for char in RAW)


def test_batch_csv_shows_control_characters_and_defuses_formulas(runner, red):
    root, model_dir, path = red
    result = run(runner, "batch", path, "--model", model_dir, "--format", "csv", "-j", "1")
    assert result.exit_code == 0
    assert not any(char in result.output for char in RAW)
    row = list(csv.reader(io.StringIO(result.output)))[1]
    assert row[:4] == [visible(RED_ID), visible(RED_NAME), "'" + RED_INDUSTRY, visible(RED_REGION)]


def test_batch_jsonl_keeps_the_data_and_escapes_invisible_characters(runner, red):
    root, model_dir, path = red
    result = run(runner, "batch", path, "--model", model_dir, "-j", "1")
    assert "\u202e" not in result.output and "\\u202e" in result.output
    assert json.loads(result.output)["company"]["id"] == RED_ID


@pytest.mark.parametrize("text, expected", [
    ("# heading", "\\# heading"), ("1. item", "1\\. item"), ("- item", "\\- item"), ("a|b", "a\\|b"),
    ("`x`", "\\`x\\`"), ("<b>", "\\<b\\>"), ("line\nbreak", "line break"), ("\u202e", "\\\\u202e"),
    ("[bold]", "\\[bold\\]"), ("!", "\\!")])
def test_markdown_text(text, expected):
    assert md_text(text) == expected


@pytest.mark.parametrize("text, in_table, expected", [
    ("a`b", False, "``a`b``"), ("`a", False, "`` `a ``"), ("a|b", True, "`a\\|b`"), ("a\nb", False, "`a\\nb`"),
    ("```", False, "```` ``` ````")])
def test_markdown_code_span(text, in_table, expected):
    assert md_code(text, in_table) == expected


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
                                             ("\t=1", "\\t=1"), (" =1", "' =1"), ("plain", "plain"), (3, 3),
                                             (None, "")])
def test_csv_cell(value, expected):
    assert csv_cell(value) == expected

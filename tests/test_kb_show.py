"""kb show prints the model's texts in full (issue 10: `kb show --lang zh` cut level descriptions off with "…")."""
from __future__ import annotations

import re

import pytest

import engine
from engine.present import text_of


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_level_description_is_shown_in_full(runner, lang):
    from cli import main
    model = engine.load_model()
    shown = runner.invoke(main, ["kb", "show", "--lang", lang])
    assert shown.exit_code == 0, shown.output
    levels = shown.stdout.split("\n\n■", 1)[0]
    flat = re.sub(r"\s+", "", levels)                    # the table wraps long texts over several lines
    for level in model.levels:
        description = text_of(level.description, lang)
        assert re.sub(r"\s+", "", description) in flat, (level.id, description)
    assert "…" not in levels


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", [72, 100])
def test_kb_show_fits_the_width_it_is_given(runner, lang, width):
    """`kb show` lays its tables out to the terminal's width (--width, or the terminal's; 140 into a file)."""
    import unicodedata
    from conftest import run
    result = run(runner, "kb", "show", "--lang", lang, "--width", width)
    assert result.exit_code == 0, result.output

    def columns(line):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)

    assert max(columns(line) for line in result.output.splitlines()) <= width
    default = run(runner, "kb", "show", "--lang", lang).output      # not a terminal: 140, the same every time
    assert max(columns(line) for line in default.splitlines()) <= 140
    assert max(columns(line) for line in default.splitlines()) > width
    assert run(runner, "kb", "show", "--width", 20).exit_code == 2

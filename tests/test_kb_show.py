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

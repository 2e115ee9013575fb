"""engine/present.py: one score rule, one company title and escaped user text in every report (issue 10)."""
from __future__ import annotations

import json
import re

import pytest

import engine
from conftest import build_model, ratings_up_to, run, write_assessment
from engine import present

HOSTILE = "[bold red]Zhejiang [/bad] <script>alert(1)</script>\n```x``` \x1b[31m \u202eevil"


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model", per_cell=1)


@pytest.fixture
def scored(model_dir, tmp_path):
    """alpha meets L3 with a score of 0.866; beta misses L3 with 0.797 (threshold 0.8)."""
    ratings = ratings_up_to(engine.load_model(model_dir), 3)
    ratings["alpha-3-1"] = 0.866
    ratings["beta-3-1"] = 0.797
    return write_assessment(tmp_path / "a.yaml", ratings,
                            company={"id": "c-[/bad]", "name": HOSTILE, "industry": "[/bad]", "region": "[/bad]"})


# -- the rule ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, threshold, shown", [
    (0.866, None, "0.86"), (0.866, 0.8, "0.86"), (0.797, 0.8, "0.79"), (0.799999, 0.8, "0.79"),
    (0.8, 0.8, "0.80"), (1.0, None, "1.00"), (0.0, 0.8, "0.00"), (None, 0.8, "—"),
    (0.804, 0.805, "0.80"), (0.806, 0.805, "0.806"), (0.805, 0.805, "0.805")])
def test_a_score_is_truncated_and_never_reads_on_the_wrong_side_of_its_threshold(value, threshold, shown):
    assert present.score(value, threshold) == shown


@pytest.mark.parametrize("threshold", [0.8, 0.75, 0.805, 0.123456])
def test_no_failing_score_prints_as_its_threshold(threshold):
    limit = round(threshold * 1_000_000)
    for units in range(limit - 12_000, limit + 12_000, 7):
        value = units / 1_000_000
        shown, printed = present.score(value, threshold), present.number(threshold)
        assert (float(shown) < float(printed)) == (units < limit), (value, shown, printed)


def test_thresholds_show_exactly():
    assert [present.number(v) for v in (0.8, 1, 0.805, 0.5)] == ["0.80", "1.00", "0.805", "0.50"]


# -- the same score everywhere -----------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["assess", "explain"])
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_the_same_score_reads_the_same_in_every_format(runner, model_dir, scored, command, fmt):
    result = run(runner, command, scored, "--model", model_dir, "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "0.79" in out                                  # beta L3: 0.797 truncated
    assert "0.87" not in out and not re.search(r"0\.80\s*(</span>)?\s*✗", out)   # no rounding up
    if command == "assess":
        assert "0.86" in out                              # alpha L3: 0.866 truncated, in every format
    if command == "explain" and fmt == "text":
        assert "it scores 0.79 against the threshold 0.80" in out
    if command == "explain" and fmt == "markdown":
        assert "| 3 | 0.79 | 0.80 |" in out


def test_a_blocker_rated_off_the_scale_shows_its_rating_not_a_rounded_one(runner, model_dir, scored):
    out = run(runner, "assess", scored, "--model", model_dir).output
    assert "- beta-3-1 (0.797): Criterion beta-3-1" in out


# -- user text shown as written ------------------------------------------------------------------------------
def _no_raw_controls(out: str):
    assert "\x1b" not in out and "\u202e" not in out


@pytest.mark.parametrize("command, fmt", [
    ("assess", "text"), ("explain", "text"), ("roadmap", "text"), ("trace", "text"),
    ("assess", "markdown"), ("explain", "markdown"), ("roadmap", "markdown"),
    ("assess", "html"), ("explain", "html"), ("roadmap", "html")])
def test_a_hostile_company_name_prints_literally(runner, model_dir, scored, command, fmt):
    result = run(runner, command, scored, "--model", model_dir, "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.output
    _no_raw_controls(out)
    if fmt == "text":
        assert "[bold red]Zhejiang [/bad] <script>alert(1)</script>\\n```x``` \\x1b[31m \\u202eevil (c-[/bad])" in out
    elif fmt == "markdown":
        assert (r"\[bold red\]Zhejiang \[/bad\] \<script\>alert(1)\</script\> \`\`\`x\`\`\` \\x1b\[31m "
                r"\\u202eevil (`c-[/bad]`)") in out
        assert "<script>" not in out
    else:
        assert "[bold red]Zhejiang [/bad] &lt;script&gt;alert(1)&lt;/script&gt;\\n```x``` \\x1b[31m \\u202eevil" in out
        assert "<script>" not in out


def test_stats_and_batch_summary_print_a_markup_region_as_written(runner, model_dir, scored, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.yaml").write_bytes(scored.read_bytes())
    results = tmp_path / "r.jsonl"
    batch = run(runner, "batch", folder, "--model", model_dir, "--out", results, "--summary")
    assert batch.exit_code == 0, batch.output
    assert re.search(r"^ \[/bad\] +1 ", batch.output, re.M)          # the region row, and the industry row
    assert json.loads(results.read_text(encoding="utf-8").splitlines()[0])["company"]["region"] == "[/bad]"
    stats = run(runner, "stats", results, "--model", model_dir)
    assert stats.exit_code == 0, stats.output
    assert len(re.findall(r"^ \[/bad\] +1 ", stats.output, re.M)) == 2
    _no_raw_controls(stats.output)


def test_stats_show_control_characters_in_a_region_visibly_in_text_and_html(runner, model_dir, scored, tmp_path):
    results = tmp_path / "r.jsonl"
    assert run(runner, "batch", scored, "--model", model_dir, "--out", results).exit_code == 0
    line = json.loads(results.read_text(encoding="utf-8"))
    line["company"]["region"] = "\x1b[31mRed\u202eX"
    results.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    for fmt in ("text", "html"):
        out = run(runner, "stats", results, "--model", model_dir, "--format", fmt).output
        _no_raw_controls(out)
        assert "\\x1b[31mRed\\u202eX" in out


def test_the_documented_examples_run():
    import doctest
    result = doctest.testmod(present)
    assert result.attempted >= 4 and result.failed == 0


def test_history_names_a_hostile_company_literally(runner, model_dir, scored, tmp_path):
    db = tmp_path / "h.sqlite"
    assert run(runner, "assess", scored, "--model", model_dir, "--db", db).exit_code == 0
    out = run(runner, "history", "c-[/bad]", "--db", db, "--model", model_dir).output
    _no_raw_controls(out)
    assert out.startswith("History: [bold red]Zhejiang [/bad] <script>alert(1)</script>\\n```x``` \\x1b[31m "
                          "\\u202eevil (c-[/bad])\n")

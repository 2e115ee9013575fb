"""The roadmap, trend, statistics and trace results and their renderers (issue 10, item 1).

What a user sees: a company, region or industry named with rich markup, HTML or control characters
prints literally in every text and page of these commands; a score reads the same in the trace as
in assess; the web pages' labels are the catalogue's; each result's to_json() is what the CLI prints.
"""
from __future__ import annotations

import dataclasses
import inspect
import json

import pytest

from conftest import ratings_up_to, run, write_assessment

HOSTILE = "[bold red]<b>x</b>\x1b[31m"     # rich markup, HTML and an escape sequence in one name
SHOWN = "[bold red]<b>x</b>\\x1b[31m"      # how a terminal shows it: the markup as written, ESC visible


def _round(tmp_path, name, ratings, date, company):
    path = write_assessment(tmp_path / name, ratings, company=company)
    path.write_text(path.read_text(encoding="utf-8") + f"assessed_on: {date}\n", encoding="utf-8")
    return path


@pytest.fixture
def results(runner, model_dir, model, tmp_path):
    """Batch results of three companies whose regions and industries are hostile text."""
    records = [{"company": {"id": "a", "region": "[/bad]", "industry": HOSTILE}, "ratings": ratings_up_to(model, 2)},
               {"company": {"id": "b", "region": "[bold red]Zhejiang", "industry": "C34"},
                "ratings": ratings_up_to(model, 3)},
               {"company": {"id": "c", "region": "<i>浙江</i>", "industry": "C34"}, "ratings": ratings_up_to(model, 3)}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    assert run(runner, "batch", source, "--model", model_dir, "--out", out).exit_code == 0
    return out


def test_stats_text_prints_regions_and_industries_as_written(runner, model_dir, results, tmp_path):
    for lang in ("en", "zh"):
        result = run(runner, "stats", results, "--model", model_dir, "--lang", lang)
        assert result.exit_code == 0, result.output
        rows = result.stdout.splitlines()
        assert any(line.split()[:1] == ["[/bad]"] for line in rows)            # neither a crash nor swallowed
        assert any(line.startswith("  [bold red]Zhejiang") or line.split()[:2] == ["[bold", "red]Zhejiang"]
                   for line in rows)
        assert any(SHOWN in line for line in rows) and "\x1b" not in result.stdout
        assert "<i>浙江</i>" in result.stdout
    summary = run(runner, "batch", tmp_path / "in.jsonl", "--model", model_dir, "--summary",
                  "--out", tmp_path / "again.jsonl")
    assert summary.exit_code == 0 and "[/bad]" in summary.stdout and SHOWN in summary.stdout


def test_stats_html_prints_regions_and_industries_as_written(runner, model_dir, results):
    page = run(runner, "stats", results, "--model", model_dir, "--format", "html").stdout
    assert "[/bad]" in page and "[bold red]Zhejiang" in page
    assert "&lt;i&gt;浙江&lt;/i&gt;" in page and "<i>浙江" not in page
    assert "[bold red]&lt;b&gt;x&lt;/b&gt;\\x1b[31m" in page and "\x1b" not in page


def test_trend_text_prints_the_company_as_written(runner, model_dir, model, tmp_path):
    db = tmp_path / "history.sqlite"
    company = {"id": "acme", "name": HOSTILE}
    for name, rank, date in (("r1.yaml", 2, "2025-11-01"), ("r2.yaml", 3, "2026-11-01")):
        path = _round(tmp_path, name, ratings_up_to(model, rank), date, company)
        assert run(runner, "assess", path, "--model", model_dir, "--db", db).exit_code == 0
    for lang, title in (("en", "History"), ("zh", "复核记录")):
        text = run(runner, "history", "acme", "--db", db, "--model", model_dir, "--lang", lang).stdout
        assert text.startswith(f"{title}: {SHOWN} (acme)\n") and "\x1b" not in text
    data = json.loads(run(runner, "history", "acme", "--db", db, "--model", model_dir, "--format", "json").stdout)
    assert data["company"]["name"] == HOSTILE          # the JSON keeps the name exactly


def test_trace_text_prints_company_and_evidence_as_written(runner, model_dir, model, tmp_path):
    ratings = ratings_up_to(model, 2)
    first = sorted(ratings)[0]
    path = write_assessment(tmp_path / "a.yaml", ratings, company={"id": "c-1", "name": HOSTILE},
                            evidence={first: ["QP-01 <b>\x1b[2J"]})
    for lang in ("en", "zh"):
        text = run(runner, "trace", path, "--model", model_dir, "--lang", lang).stdout
        assert f": {SHOWN} (c-1)\n" in text
        assert "QP-01 <b>\\x1b[2J" in text and "\x1b" not in text


def test_a_score_reads_the_same_in_the_trace_as_in_assess(runner, model_dir, model, tmp_path):
    """alpha's level-3 cell of the tiny model: one criterion largely, one partial -> 0.65, below 0.80."""
    from engine import present
    ratings = ratings_up_to(model, 3)
    ratings.update({"alpha-3-1": "largely", "alpha-3-2": "partial"})
    path = write_assessment(tmp_path / "a.yaml", ratings)
    record = json.loads(run(runner, "trace", path, "--model", model_dir, "--format", "json").stdout)
    cell = next(fact for firing in record["firings"] for fact in firing["facts"]
                if fact.get("fact") == "cell" and (fact["dimension"], fact["level"]) == ("alpha", 3))
    shown = present.score(cell["score"], model.threshold)
    assert cell["score"] < model.threshold and shown < present.number(model.threshold)
    trace = run(runner, "trace", path, "--model", model_dir).stdout
    assert f"L3: score {shown} < threshold {present.number(model.threshold)}" in trace
    explain = run(runner, "explain", path, "--model", model_dir).stdout
    assert shown in explain


def test_results_are_typed_and_their_json_is_what_the_cli_prints(runner, model_dir, model, tmp_path):
    import engine
    from engine import api
    from engine.stats import read_results
    from engine.trend import trend
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    assessment = engine.read_assessment(str(path), model)
    plan = api.roadmap(model, assessment, target=4)
    assert plan.to_json() == run(runner, "roadmap", path, "--model", model_dir, "--target", "4",
                                 "--format", "json").stdout
    record = api.trace(model, assessment)
    assert record.to_json() == run(runner, "trace", path, "--model", model_dir, "--format", "json").stdout
    assert record.to_jsonl() == run(runner, "trace", path, "--model", model_dir, "--format", "jsonl").stdout
    db = tmp_path / "h.sqlite"
    assert run(runner, "assess", path, "--model", model_dir, "--db", db).exit_code == 0
    from engine.ledger import History
    with History(str(db), create=False) as history:
        change = trend(history.rounds("c-1"), model)
    assert change.to_json() == run(runner, "history", "c-1", "--db", db, "--model", model_dir,
                                   "--format", "json").stdout
    results = tmp_path / "r.jsonl"
    results.write_text(run(runner, "batch", path, "--model", model_dir).stdout, encoding="utf-8")
    statistics = read_results(str(results)).statistics(model)
    assert statistics.to_json() == run(runner, "stats", results, "--model", model_dir, "--format", "json").stdout
    for result in (plan, record, change, statistics):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.company = {}          # type: ignore[misc]
        assert json.loads(result.to_json()) == json.loads(json.dumps(result.as_dict()))


def test_every_renderer_takes_one_result_and_a_language():
    from engine.render import calibration, roadmap, stats, trace, trend
    renderers = [roadmap.render_text, trend.render_text, stats.render_text, stats.render_html, trace.render_text,
                 calibration.render_text, calibration.render_markdown]
    for render in renderers:
        assert list(inspect.signature(render).parameters)[1:] == ["lang"], render.__qualname__


def test_web_labels_are_the_catalogues():
    from engine import present
    from engine.web.words import make_word
    from engine.words import WEB_WORDS
    for lang in ("zh", "en"):
        w = make_word(lang)
        for key, pair in WEB_WORDS.items():
            expected = present.word(f"web.{key}", lang)
            assert w(key) == expected and expected == pair[0 if lang == "zh" else 1]
    assert make_word("en")("stave_of", i=2, n=7) == "Stave 2 of 7"


def test_the_web_home_page_speaks_the_catalogue(tmp_path):
    import engine
    from engine import present
    from engine.web import create_app
    client = create_app(engine.load_model(), str(tmp_path / "web.sqlite")).test_client()
    for lang in ("zh", "en"):
        page = client.get(f"/?lang={lang}").data.decode("utf-8")
        assert present.word("web.start", lang) in page

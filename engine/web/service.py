"""What the web front asks of the engine: the same library calls the CLI makes, one at a time.

durable_rules keeps its rulesets and fact states in process-wide C structures
(``engine.inference`` caches one compiled ruleset per model and process), and
``engine.batch.run_batch(jobs=1)`` keeps its options in a module global.  So
every call into the engine from a request thread goes through :data:`ENGINE`,
one process-wide lock: requests are graded one after another, each exactly as
the CLI grades it, however many threads the server runs.  A batch holds the lock
too, but steps aside between records whenever a request is waiting, so a long
upload does not stall the pages.  Nothing here grades,
explains or renders by itself: each function is the call the CLI command of the
same name makes.
"""
from __future__ import annotations

import json
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Optional, Sequence

import engine
from engine.errors import InputError, Problem
from engine.export import dumps, model_to_dict

__all__ = ["ENGINE", "assessment_of", "assess", "explain", "roadmap", "whatif", "trace", "trace_verify",
           "report_html", "report_markdown", "kb_export", "read_upload", "stats_of_results", "batch_file",
           "history_trend", "history_text"]

ENGINE = threading.RLock()
_BATCH = threading.Lock()          # engine.batch.run_batch(jobs=1) keeps its options in a module global
_queue = {"waiting": 0}
_queue_lock = threading.Lock()


@contextmanager
def engine_turn():
    """Hold the engine for one request; a running batch steps aside between records while any wait."""
    with _queue_lock:
        _queue["waiting"] += 1
    ENGINE.acquire()
    with _queue_lock:
        _queue["waiting"] -= 1
    try:
        yield
    finally:
        ENGINE.release()


def _stepping_aside(records):
    """The batch's records; before each, let every waiting request grade first (the batch thread holds
    the engine between records only while nobody waits)."""
    for item in records:
        if _queue["waiting"]:
            ENGINE.release()
            deadline = time.monotonic() + 5.0
            while _queue["waiting"] and time.monotonic() < deadline:
                time.sleep(0.001)
            ENGINE.acquire()
        yield item


def assessment_of(model, data, where: str = "assessment") -> engine.Assessment:
    """The checked assessment from a JSON/YAML document (``engine.assessment_from_data``)."""
    return engine.assessment_from_data(data, where, model)


def assess(model, assessment, trace: bool = True) -> dict:
    """``qmgrade assess --format json``."""
    with engine_turn():
        return engine.grade(model, assessment).as_dict(trace=trace)


def graded(model, assessment):
    """The Grade object (for pages that show more than the JSON)."""
    with engine_turn():
        return engine.grade(model, assessment)


def explain(model, assessment, level: Optional[int] = None) -> dict:
    """``qmgrade explain --format json``."""
    from engine.diagnosis import explain as explain_level
    with engine_turn():
        grade = engine.grade(model, assessment)
        return explain_level(model, assessment, level=level, graded=grade).as_dict()


def roadmap(model, assessment, target: Optional[int] = None, graded=None) -> dict:
    """``qmgrade roadmap --format json`` (``graded``: the assessment's Grade when the page has it already)."""
    from engine.roadmap import plan_roadmap
    with engine_turn():
        grade = graded if graded is not None else engine.grade(model, assessment)
        return plan_roadmap(model, assessment, target=target, graded=grade).as_dict()


def whatif(model, assessment, settings: Sequence[str], trace: bool = True) -> dict:
    """``qmgrade whatif --set ... --format json``."""
    from engine.whatif import whatif as what_if
    with engine_turn():
        return what_if(model, assessment, list(settings), trace=trace).as_dict()


def whatif_roadmap(model, assessment, settings: Sequence[str]) -> dict:
    """The roadmap after the what-if changes (``qmgrade roadmap`` of the changed assessment)."""
    from engine.roadmap import plan_roadmap
    from engine.whatif import parse_settings
    changed = assessment.with_ratings(parse_settings(model, list(settings)))
    with engine_turn():
        return plan_roadmap(model, changed, graded=engine.grade(model, changed)).as_dict()


def trace(model, assessment) -> dict:
    """``qmgrade trace --format json`` (the record, as the JSON the CLI prints)."""
    from engine import audit
    with engine_turn():
        return json.loads(audit.make_record(model, assessment).to_json())


def trace_json_text(model, assessment) -> str:
    """The bytes ``qmgrade trace FILE --format json`` prints (a record to keep and verify)."""
    from engine import audit
    with engine_turn():
        return audit.make_record(model, assessment).to_json()


def trace_text(model, assessment, lang: str) -> str:
    from engine import audit
    from engine.render.trace import render_text
    with engine_turn():
        return render_text(audit.make_record(model, assessment), lang)


def trace_verify(model, record: dict, assessment) -> Optional[str]:
    """``qmgrade trace verify``: None when the record reproduces exactly, else what differs."""
    from engine import audit
    with engine_turn():
        difference = audit.verify_model(record, model)
        if difference is None:
            difference = audit.verify(record, assessment, model)
    return None if difference is None else difference.message


def report_html(model, assessment, lang: str, focus: str = "assess", rank: Optional[int] = None) -> str:
    """``qmgrade assess|explain|roadmap --format html``: the one HTML report renderer."""
    from engine.fullreport import full_report
    from engine.render.html import render_html
    with engine_turn():
        report = full_report(engine.grade(model, assessment), focus, rank)
    return render_html(report, lang)


def report_markdown(model, assessment, lang: str) -> str:
    """``qmgrade assess``, ``explain`` and ``roadmap --format markdown``, one after another."""
    from engine.fullreport import full_report
    from engine.render import markdown
    with engine_turn():
        report = full_report(engine.grade(model, assessment))
    parts = [markdown.render_assess(report.grade, lang), markdown.render_explain(report.explanation, lang),
             markdown.render_roadmap(report.roadmap, lang)]
    return "\n".join(parts)


def kb_export(model) -> dict:
    """``qmgrade kb export --format json``."""
    return json.loads(dumps(model_to_dict(model)))


def read_upload(model, name: str, content: bytes) -> engine.Assessment:
    """An uploaded questionnaire (XLSX, YAML or JSON) read as ``qmgrade assess`` reads a file.

    The file is read from a private temporary directory under its own base name, so
    error messages name the file the user uploaded.
    """
    base = Path(name or "upload").name or "upload"
    if not base.lower().endswith((".xlsx", ".xlsm", ".yaml", ".yml", ".json")):
        raise InputError(Problem(base, 1, 1, "expected a questionnaire: .xlsx, .yaml, .yml or .json"))
    with tempfile.TemporaryDirectory(prefix="qmgrade-web-") as folder:
        path = Path(folder) / base
        path.write_bytes(content)
        try:
            assessment = engine.read_assessment(str(path), model)
        except engine.QmgradeError as error:   # name the user's file, not the temporary copy
            problems = [Problem(base if p.path == str(path) else p.path.replace(str(path), base), p.line, p.col,
                                p.message.replace(str(path), base), p.code) for p in error.problems]
            raise type(error)(problems) from None
    return _renamed(assessment, base)


def _renamed(assessment, path: str):
    from dataclasses import replace
    return replace(assessment, path=path)


def stats_of_results(model, lines: Iterable[str]) -> dict:
    """``qmgrade stats RESULTS --format json`` over JSON Lines results."""
    from engine.stats import read_results
    with tempfile.TemporaryDirectory(prefix="qmgrade-web-") as folder:
        path = Path(folder) / "results.jsonl"
        with open(path, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line if line.endswith("\n") else line + "\n")
        return json.loads(read_results(str(path)).statistics(model).to_json())


def history_trend(model, db_path: str, company: str) -> dict:
    """``qmgrade history COMPANY --db PATH --format json`` (the chain checked first; rounds re-graded)."""
    from engine.ledger import History
    from engine.trend import trend
    with History(db_path, create=False) as history:
        history.require_intact()
        rounds = history.rounds(company)
    with engine_turn():
        return trend(rounds, model).as_dict()


def history_text(model, data: dict, lang: str) -> str:
    """The trend as text, from its JSON (what :func:`history_trend` gives)."""
    from engine.render.trend import render_text
    from engine.trend import Trend
    return render_text(Trend(model=model, **data), lang)


def stats_html(model, data: dict, lang: str) -> str:
    """The statistics page, from their JSON (what :func:`stats_of_results` gives)."""
    from engine.render.stats import render_html
    from engine.stats import Statistics
    return render_html(Statistics(model=model, **data), lang)


def batch_file(model, path: str, limits=None, on_line=None, on_result=None, on_progress=None,
               with_db: bool = False, on_total=None):
    """``qmgrade batch PATH --format jsonl`` graded in this process (under the engine lock).

    Returns (total progress units, BatchReport); each output line goes to ``on_line``.
    """
    from engine.batch import Source, open_source, run_batch
    from engine.limits import DEFAULT
    opened = open_source(path, model, limits or DEFAULT)
    if on_total is not None:
        on_total(opened.total)
    source = Source(opened.path, opened.kind, opened.total, lambda: _stepping_aside(opened.records()),
                    context=opened.context, inputs=opened.inputs)
    with _BATCH, engine_turn():
        report = run_batch(source, model, jobs=1, fmt="jsonl", sink=on_line or (lambda text: None),
                           on_result=on_result, on_progress=on_progress, with_db=with_db)
    return opened.total, report

"""Many assessments at once: read them as a stream, grade them in worker processes, keep input order.

Inputs (CONTRACT §4, §5):

- a folder, in sorted file-name order: every YAML / JSON assessment, filled
  XLSX questionnaire, JSON Lines file and wide CSV / XLSX table in it (a file
  that cannot be read as a whole is one error entry; the files it does not
  read are listed in ``Source.skipped``, and the command line names them);
- JSON Lines (``.jsonl`` / ``.ndjson``): one assessment object per line,
  blank lines skipped;
- the *wide* layout of survey tools, CSV or XLSX: one row per company, columns
  ``company_id``, ``company_name`` and optionally ``industry``, ``region``,
  ``assessed_on``, then one column per criterion id holding its rating; a
  column named after a model fact (e.g. ``product_recall_3y``) holds that
  fact (``true``/``false``, ``yes``/``no``, ``是``/``否``, ``1``/``0``).  A CSV
  is read as UTF-8 (with or without a BOM), else GB18030 (``encoding`` forces
  one), its delimiter a comma, semicolon or tab, judged from the header;
- a single assessment file or questionnaire (a batch of one).

Each record becomes one result in input order: the ``assess`` object
(:meth:`engine.grading.Grade.as_dict`) or, for a bad record,
``{"company": ..., "error": "path:line:col: message", "errors": [...]}``; the
batch goes on.  Positions: JSON Lines ``path:LINE:COL`` (the column inside the
line), CSV ``path:LINE:FIELD`` (the 1-based field number), XLSX
``path:ROW:COL`` with ``sheet!CELL`` at the start of the message.

Records are read lazily and graded in chunks by ``jobs`` worker processes
(each loads the model once and compiles its own durable_rules ruleset); at
most a few chunks per worker are in flight, so memory stays flat however many
companies stream through.  The library never prints: results go to a
``sink`` callable and progress to an ``on_progress`` callable.
"""
from __future__ import annotations

import csv
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

from . import safeio
from .errors import EngineError, Problem, QmgradeError
from .grading import grade
from .inference import encode_json
from .textsafe import csv_cell, json_text
# the records are read in engine.inputs (issue 10): files and folders, JSON Lines, wide CSV/XLSX tables
from .inputs.folder import FILE_SUFFIXES, FOLDER_SUFFIXES, Source, file_assessment, open_source
from .inputs.jsonl import jsonl_assessment
from .inputs.wide import (COMPANY_COLUMNS, CsvDialect, SheetRows, block_rows, close_sheets, sniff_delimiter,
                          sniff_encoding, wide_assessment)
from .stats import summarize

__all__ = ["run_batch", "BatchReport", "AtomicOutput", "open_source", "Source", "COMPANY_COLUMNS", "csv_header",
           "csv_row", "FILE_SUFFIXES", "FOLDER_SUFFIXES", "CsvDialect", "sniff_encoding", "sniff_delimiter"]

CHUNK = 64          # records per task sent to a worker
IN_FLIGHT = 4       # chunks queued per worker
CHUNK_BYTES = 1 << 20   # ... and at most about this much input per chunk (memory stays flat on long lines)
# --jobs by default (issue 13): the cores this process may run on, but no more workers than keep the whole
# process tree within TREE_BUDGET_MB — measured (make bench, tree PSS/RSS over 100,000 companies): the main
# process about 50 MB, each worker about 50 MB more.
TREE_BUDGET_MB = 200
MAIN_MB = 50
WORKER_MB = 50


def default_jobs() -> int:
    """Worker processes when --jobs is not given: the available cores, at most (200 - 50) / 50 = 3."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, (TREE_BUDGET_MB - MAIN_MB) // WORKER_MB))


@dataclass
class BatchReport:
    """What a batch did: how many records, how many failed."""

    records: int = 0
    failed: int = 0


# -- grading (in a worker process, or in this one with jobs=1) -------------------------------
def _encode_line(value) -> str:
    return json_text(encode_json(value))


_worker: dict = {}
_GRADED = {"error": False}   # the summary of a graded record when the caller reads no statistics


_PR_SET_PDEATHSIG = 1   # linux/prctl.h


def guard_worker(parent: int) -> None:
    """A worker dies with the process that started it and leaves stopping to it.

    SIGINT is ignored (Ctrl-C reaches the whole process group; the parent
    stops the pool), SIGTERM kills; on Linux the kernel sends SIGKILL when the
    parent dies (``PR_SET_PDEATHSIG``), and a watchdog thread that sees the
    parent gone exits anyway (other systems, or a parent that died before
    the request took effect).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):   # not Linux: the watchdog alone
        pass
    if os.getppid() != parent:
        os._exit(1)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="qmgrade-parent-watchdog", daemon=True).start()


def _init_worker(model, model_dir, options, parent=None) -> None:
    """Load the model once per worker and compile a ruleset of this process's own."""
    if parent is not None:
        guard_worker(parent)
    from . import inference
    from .model import load_model
    inference.forget_compiled()   # a forked parent's compiled ruleset stays the parent's
    if model is None:
        model = load_model(model_dir, allow_outside=options.get("allow_outside", False))
    inference.get_inference(model)
    _worker.clear()
    _worker.update(model=model, **options)
    gc.collect()
    gc.freeze()   # the model and the ruleset are long-lived: keep them out of every collection
    # a company's objects are freed by reference counting (no cycles): collect the young generation after
    # 20,000 new containers instead of 700 (issue 13: the collector cost 3% of a worker's instructions)
    gc.set_threshold(20_000, 20, 20)


def _grade_chunk(task) -> list:
    kind, context, items = task
    outcomes = []
    for item in items:
        block = _sheet_block(kind, item)
        if block is None:
            outcomes.append(_grade_one(kind, context, item))
        else:   # a block of XLSX rows: parsed here, in the worker (issue 13)
            plan = context if kind == "wide" else item[1]
            outcomes.extend(_grade_one("wide", plan, row) for row in block_rows(block))
            # openpyxl leaves cyclic objects behind (the block's worksheet class holds its XML): collected now,
            # not at the next full collection, which the worker's thresholds make rare (see _init_worker)
            gc.collect()
    return outcomes


def _sheet_block(kind: str, item) -> Optional[SheetRows]:
    """The block of XLSX rows an item is (a wide source's, or a folder's wide table's), else None."""
    if kind == "mixed" and item[0] == "wide":
        item = item[2]
    elif kind != "wide":
        return None
    return item if isinstance(item, SheetRows) else None


def _grade_one(kind: str, context, item) -> tuple:
    """One record → (output text, summary for the statistics, database row or None)."""
    model = _worker["model"]
    if kind == "mixed":   # a folder: each record says what it is
        kind, context, item = item
    company = None
    try:
        if kind == "failed":   # a folder's file that could not be read as a whole
            assessment, problems = None, item
        elif kind == "files":
            assessment, company, problems = file_assessment(item, model)
        elif kind == "jsonl":
            assessment, company, problems = jsonl_assessment(context, item, model)
        else:
            assessment, company, problems = wide_assessment(context, item, model)
        if not problems:
            if assessment is None:   # every reader gives an assessment or its problems: a bug, reported below
                raise RuntimeError("a reader gave neither an assessment nor a problem")
            trace = _worker["trace"]
            graded = grade(model, assessment, detail=trace)
            # a line of JSON without trace is written from pre-encoded fragments, without the dict (issue 13)
            lean = not trace and _worker["format"] == "jsonl"
            result = None if lean else graded.as_dict(trace=trace)
            complete = graded.completeness() if _worker.get("require_complete") else None
            if complete is not None and complete["provisional"]:
                share = complete["coverage"]
                problems = [Problem(assessment.path or "-", 1, 1, f"only {share['rated']} of {share['applicable']} "
                                    f"applicable criteria are rated, below the model's minimum coverage: the grade "
                                    f"would be provisional (--require-complete)", "incomplete")]
    except QmgradeError as error:
        assessment, problems = None, error.problems
    except RecursionError:
        assessment, problems = None, [Problem(context if isinstance(context, str) else "-", 1, 1,
                                              "input nested too deeply")]
    except Exception as error:  # a bug must not stop the batch, nor pass silently
        assessment, problems = None, [Problem("-", 1, 1, f"internal error ({type(error).__name__}: {error})")]
    if problems:
        entry = {"company": company, "error": str(problems[0]), "errors": [str(p) for p in problems]}
        text = _encode_line(entry) if _worker["format"] == "jsonl" else csv_row(entry, model)
        return _output(text), summarize(entry), None
    if result is None:
        text = graded.json_line(visible=True)
        # the statistics' summary only when the caller reads it (issue 13: it travels back to the parent)
        summary = summarize(graded.summary_fields()) if _worker.get("summaries", True) else _GRADED
    else:
        text = _encode_line(result) if _worker["format"] == "jsonl" else csv_row(result, model)
        summary = summarize(result)
    row = None
    if _worker["db"]:
        from .history import row_of
        stored = text if (_worker["format"] == "jsonl" and not _worker["trace"]) else None
        row = row_of(model, assessment, result if result is not None else graded.as_dict(trace=False), stored)
    return _output(text), summary, row


def _output(text: str):
    """A record's output line as the parent's sink takes it, its new line included: the text, or its UTF-8
    bytes (``run_batch(encoded=True)``)."""
    line = text if text.endswith("\n") else text + "\n"
    return line.encode("utf-8") if _worker.get("encoded") else line


# -- CSV summary ---------------------------------------------------------------------------------
def csv_header(model) -> str:
    """The header line of ``batch --format csv``."""
    columns = ["company_id", "company_name", "industry", "region", "assessed_on", "level_rank", "level_id",
               "barrel", "shortest"] + [d.id for d in model.dimensions] + ["error"]
    return _csv_line(columns)


def csv_row(result: dict, model) -> str:
    """One company's line of ``batch --format csv`` (stave levels in model order)."""
    company = result.get("company") or {}
    base = [company.get("id", ""), company.get("name", ""), company.get("industry", ""), company.get("region", "")]
    if "error" in result:
        return _csv_line(base + [""] * (5 + len(model.dimensions)) + [result["error"]])
    levels = {d["id"]: d["level"] for d in result["dimensions"]}
    return _csv_line(base + [result.get("assessed_on") or "", result["level"]["rank"], result["level"]["id"],
                             result["barrel"]["rank"], ";".join(result["barrel"]["shortest"])]
                     + [levels.get(d.id, "") for d in model.dimensions] + [""])


class _Line:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text = text


def _safe_cell(value):
    """A CSV cell a spreadsheet will not run, with control characters visible (:func:`engine.textsafe.csv_cell`)."""
    return csv_cell(value)


def _csv_line(values) -> str:
    line = _Line()
    csv.writer(line, lineterminator="\n").writerow([_safe_cell(v) for v in values])
    return line.text


# -- writing ---------------------------------------------------------------------------------------
class AtomicOutput:
    """The results file of a batch: written as a stream, put in place only when complete.

    A thin wrapper over :class:`engine.safeio.AtomicFile` (the one atomic writer).

    Raises
    ------
    InputError when the target resolves to one of ``inputs`` (or a model file,
    a device, ...) or cannot be written.
    """

    def __init__(self, path: str, inputs: Sequence[str] = (), model_dirs: Sequence[str] = (), text: bool = True):
        target = safeio.check_output(path, list(inputs), list(model_dirs))
        if target is None:
            raise ValueError("AtomicOutput needs a file path, not '-'")
        self._file = safeio.AtomicFile(target, str(path), text=text)

    def __enter__(self):
        return self._file.__enter__()

    def __exit__(self, kind, value, tb):
        return self._file.__exit__(kind, value, tb)


# -- the batch -------------------------------------------------------------------------------------
def _chunks(source: Source) -> Iterator[tuple]:
    items, units, rows = [], 0, 0
    for item, size in source.records():
        units += size
        if item is None:   # progress only (a folder's file without records)
            continue
        items.append(item)
        block = _sheet_block(source.kind, item)
        rows += 1 if block is None else block.count
        if rows >= CHUNK or units >= CHUNK_BYTES:
            yield (source.kind, source.context if source.kind == "wide" else source.path, items), units
            items, units, rows = [], 0, 0
    if items:
        yield (source.kind, source.context if source.kind == "wide" else source.path, items), units


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def pool_context():
    """The multiprocessing context of the batch pool (fork where there is one); calibration's pool shares it."""
    return _context()   # looked up when called: tests stand in a spawn context for _context


# Set when workers were stopped mid-chunk: the executor's threads may then wait for a message a killed worker
# never finished, so the process must leave with ``os._exit`` once its own clean-up is done (cli.py does).
workers_stopped = False


def stop_workers(pool: ProcessPoolExecutor) -> None:
    global workers_stopped
    workers_stopped = True
    # the executor has no public "kill": its process table is the only handle on the workers
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except (OSError, AttributeError, ValueError):
            pass
    # With the workers gone nobody reads the call queue: its feeder thread may be blocked on a full pipe,
    # and joining it at exit would hang the stopped process (seen about once in 15 SIGTERMs).
    call_queue = getattr(pool, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()


def run_batch(source: Source, model, *, model_dir=None, jobs: Optional[int] = None, fmt: str = "jsonl",
              trace: bool = False, sink: Callable[[Any], None], on_result: Optional[Callable] = None,
              on_progress: Optional[Callable[[int], None]] = None, with_db: bool = False,
              require_complete: bool = False, bom: bool = False, summaries: bool = True,
              encoded: bool = False) -> BatchReport:
    """Grade every record of ``source`` and hand each output line to ``sink``, in input order.

    Parameters
    ----------
    source : Source
        From :func:`open_source`.
    jobs : int, optional
        Worker processes (default: :func:`default_jobs`); 1 grades in this process.
    fmt : {"jsonl", "csv"}
        One ``assess`` object (or error entry) per line, or the CSV summary
        (whose header is written first).
    bom : bool
        Begin CSV output with a byte-order mark, so that Excel opens it as
        UTF-8 and Chinese names read right (the command line's default).
    on_result : callable(summary, db_row), optional
        Called for each record with its statistics summary
        (:func:`engine.stats.summarize`) and, when ``with_db``, the history
        row (None for a bad record).
    summaries : bool
        False when ``on_result`` reads no statistics: a graded record's summary is then only
        ``{"error": False}`` (an error entry's is whole), which spares the workers and the pipe.
    on_progress : callable(units), optional
        Called as records complete, with the progress units they covered.
    encoded : bool
        ``sink`` gets each line as UTF-8 bytes, its new line included, encoded by the worker that graded it
        (issue 13: a line crossing from a worker as text is encoded and decoded once more on the way — pickle
        writes a str with CJK characters the slow way —, then encoded again to be written).

    Returns
    -------
    BatchReport with the number of records and of failed ones.

    Raises
    ------
    InputError when the input cannot be read as a whole (a bad *record* is an
    error entry instead); EngineError when a worker process dies.
    """
    jobs = max(1, jobs or default_jobs())
    # require_complete (issue 11): a provisional grade becomes an error entry
    options = {"trace": trace, "format": fmt, "db": with_db, "require_complete": require_complete,
               "summaries": summaries, "encoded": encoded}
    report = BatchReport()
    if fmt == "csv":
        header = ("\ufeff" if bom else "") + csv_header(model)
        sink(header.encode("utf-8") if encoded else header)

    def deliver(outcomes, units):
        for text, summary, row in outcomes:
            report.records += 1
            if summary.get("error"):
                report.failed += 1
            sink(text)
            if on_result:
                on_result(summary, row)
        if on_progress:
            on_progress(units)

    if jobs == 1:
        saved = dict(_worker)
        _worker.clear()
        _worker.update(model=model, **options)
        try:
            for task, units in _chunks(source):
                deliver(_grade_chunk(task), units)
        finally:
            close_sheets()
            _worker.clear()
            _worker.update(saved)
        return report

    context = _context()
    shipped = model if context.get_start_method() == "fork" else None
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                               initargs=(shipped, model_dir, options, os.getpid()))
    pending: deque = deque()
    stopped = False
    try:
        for task, units in _chunks(source):
            pending.append((pool.submit(_grade_chunk, task), units))
            if len(pending) >= jobs * IN_FLIGHT:
                future, done_units = pending.popleft()
                deliver(future.result(), done_units)
        while pending:
            future, done_units = pending.popleft()
            deliver(future.result(), done_units)
    except BrokenProcessPool:
        raise EngineError(Problem(source.path, 1, 1, "a worker process died (out of memory?); "
                                                     "try fewer --jobs")) from None
    except BaseException:   # Ctrl-C, SIGTERM, a failing sink: stop the workers now, not after their chunks
        stopped = True
        stop_workers(pool)
        raise
    finally:
        if stopped:
            # no waiting and no cancelling: the executor fails the pending futures itself once it sees the
            # workers gone (cancelling them first made it raise InvalidStateError on a thread, a traceback)
            pool.shutdown(wait=False)
        else:
            for future, _ in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
    return report

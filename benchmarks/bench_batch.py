"""How fast qmgrade grades, measured honestly: per wall second, per CPU second, against plain Python.

One run prints, with the conditions it ran under (the machine's cores, the load
average before each measurement, and a fixed-loop calibration of the core):

* ``batch --jobs N`` over seeded synthetic companies of two kinds — *realistic*
  (a survey-like spread, most companies at levels 1-3) and *random* (every
  rating at random) — each: companies/s (wall, start-up included), companies
  per CPU-second (user+system of the whole process tree) — the median of three
  timed runs —, peak memory of the whole process tree (sum of the processes'
  proportional set size, sampled in a fourth run, untimed),
  and, in the same run over the same companies, a plain-Python evaluation of
  CONTRACT §3 (the yardstick; it lives only here and qmgrade never uses it),
  with the ratio of CPU time per company and a check that it finds the same
  level for every company;
* cold ``assess``, ``explain`` and ``roadmap --target 5`` per company (process
  start to exit, median and worst), and ``roadmap --target 5`` in one warm
  process per company (mean and worst);
* instructions per realistic company, counted by valgrind when it is installed
  (a batch worker's grading, and the plain-Python yardstick): a figure that,
  unlike CPU seconds, does not change with the machine's load;
* ``stats`` over many results (100,000 by default: the realistic batch's
  results repeated under fresh company ids; ``--stats-n``);
* ``batch`` of a wide CSV and of an XLSX workbook (10,000 rows by default),
  the XLSX one with ``--jobs 1`` as well (its rows are parsed in the workers:
  does it scale with --jobs?);
* a byte-identity check: ``assess FILE --format json --no-trace`` of sample
  companies (``--identity``) against their lines of the batch output;
* a stream of 1,000,000 companies (``--stream-n``) generated on the fly into
  a pipe: the peak memory of the whole process tree while they go through.

    python benchmarks/bench_batch.py                  # about 3-5 minutes on a 2-core machine
    python benchmarks/bench_batch.py --quick          # smaller (or QMGRADE_BENCH_QUICK=1)
    python benchmarks/bench_batch.py --code /tmp/qm-base --model .   # another source tree, same model

``--code DIR`` measures the qmgrade source tree in DIR (its ``cli.py``) with
this interpreter: run it on the old and the new tree, one after the other on
the same machine, to compare them.  The companies are generated from the
model the measured tree uses (``--model``, else the shipped one).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import engine  # noqa: E402
from engine.assessment import assessment_from_data  # noqa: E402
from generate import KINDS, csv_rows, generate  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# the plain-Python yardstick (about a second a timing) is timed this many times: the median is the table's
# figure, and the fastest and slowest are printed beside it (one timing moved by 2x within minutes, with the
# machine's load: the ratio is read against that spread)
YARDSTICK_TIMINGS = 5
# each JSON Lines batch is timed this many times (the median run is the table's), without the memory sampler,
# and run once more, untimed, with it: the sampler reads every process's /proc smaps_rollup every 50 ms, which
# cost about 7 % of a core beside a 3-second batch (0.22-0.27 CPU-s) — work that shared the two cores with the
# batch it measured
BATCH_TIMINGS = 3
# what cachegrind counts (its summary's label in the pattern), with cache and branch simulation
_EVENTS = {"instructions": r"I\s+refs", "instruction-cache misses": r"I1\s+misses",
           "data-cache misses": r"D1\s+misses", "mispredicted branches": r"Mispredicts"}


# -- the yardstick -------------------------------------------------------------------------------------------
def plain_levels(model, assessments) -> List[int]:
    """CONTRACT §3 in plain Python: the company level of each assessment (no durable_rules).

    The same exact integer arithmetic as engine/scoring.py: a cell is met when nothing in it applies, or
    when its weighted score reaches the threshold and no key criterion is under its level's key minimum;
    a stave's level is the highest level reached with every level below it met; the barrel is the
    shortest stave; a cap rule of the model (one company pattern of equality tests) lowers the level.
    """
    scale = 1_000_000
    threshold = model.threshold_units
    top = model.top_rank
    key_min = {k: (model.key_minimum_units_for(k) if hasattr(model, "key_minimum_units_for")
                   else model.key_minimum_units) for k in range(2, top + 1)}
    cells = [[(k, key_min[k], [(c.id, c.weight_units, c.key) for c in model.cells[(dim.id, k)]])
              for k in range(2, top + 1)] for dim in model.dimensions]
    caps = []
    for rule in model.rules:
        if rule.conclude == "cap" and len(rule.patterns) == 1 and rule.patterns[0].kind == "company":
            tests = [(fld, spec) for fld, op, spec in rule.patterns[0].tests if op == "eq"]
            caps.append((tests, rule.set["level"]))
    defaults = {fact.id: fact.default for fact in model.facts}
    levels = []
    for assessment in assessments:
        ratings = assessment.ratings
        barrel = top
        for ladder in cells:
            level = 1
            for k, minimum, criteria in ladder:
                total_w = total = 0
                met = True
                for cid, weight, key in criteria:
                    rated = cid in ratings
                    rating = ratings.get(cid, 0.0)
                    if rated and rating is None:
                        continue                               # na
                    units = round((rating or 0.0) * scale)
                    total_w += weight
                    total += weight * units
                    if key and units < minimum:
                        met = False
                if met and total_w and total // total_w < threshold:
                    met = False
                if not met:
                    break
                level = k
            if level < barrel:
                barrel = level
        facts = {**defaults, **assessment.facts}
        level = barrel
        for tests, cap in caps:
            if all(facts.get(fld) == spec for fld, spec in tests):
                level = min(level, cap)
        levels.append(level)
    return levels


# -- measuring a process tree ----------------------------------------------------------------------------------
def _children(pid: int) -> List[int]:
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as stream:
                found.extend(int(p) for p in stream.read().split())
    except OSError:
        pass
    return found


def _proc_kib(path: str, field: str) -> Optional[int]:
    """The KiB figure of ``field`` ("Pss:", "VmHWM:") in a /proc file, or None."""
    try:
        with open(path) as stream:
            for line in stream:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _pss_kib(pid: int) -> int:
    """Proportional set size (KiB): shared pages split between the processes sharing them."""
    found = _proc_kib(f"/proc/{pid}/smaps_rollup", "Pss:")
    if found is not None:
        return found
    try:
        with open(f"/proc/{pid}/statm") as stream:
            return int(stream.read().split()[1]) * PAGE // 1024
    except OSError:
        return 0


class TreeSampler(threading.Thread):
    """Samples the memory of a process and all its descendants every ``interval`` seconds."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self.peak_processes = 0
        self.largest_kib = 0      # the largest peak RSS of one process of the tree since its exec (VmHWM)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            tree, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                tree.append(pid)
                todo.extend(_children(pid))
            total = sum(_pss_kib(pid) for pid in tree)
            if total > self.peak_kib:
                self.peak_kib, self.peak_processes = total, len(tree)
            self.largest_kib = max([self.largest_kib, *map(_hwm_kib, tree)])
            self.stop.wait(self.interval)


def _hwm_kib(pid: int) -> int:
    """A process's peak resident set (KiB) since it exec'd.  getrusage's ru_maxrss is no measure here: for a
    child it also counts the pages it shared with this (large) benchmark process between fork and exec."""
    return _proc_kib(f"/proc/{pid}/status", "VmHWM:") or 0


def run_measured(command: List[str], stdout=subprocess.DEVNULL, sample: bool = True, count_lines: bool = False,
                 before=None) -> dict:
    """Run ``command``; its wall seconds, CPU seconds (itself and every descendant it waited for), exit code,
    and the peak memory of its whole process tree.  ``count_lines``: its output is read here and only its lines
    counted (``lines``); ``before()`` runs once the command has started (e.g. a thread feeding its input)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE if count_lines else stdout, stderr=subprocess.PIPE)
    sampler = TreeSampler(process.pid) if sample else None
    if sampler:
        sampler.start()
    counted = {"lines": 0}
    counter = None
    if count_lines:
        def count():
            while True:
                block = process.stdout.read(1 << 20)
                if not block:
                    return
                counted["lines"] += block.count(b"\n")
        counter = threading.Thread(target=count, daemon=True)
        counter.start()
    if before:
        before()
    stderr = process.stderr.read()
    if counter:
        counter.join()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if sampler:
        sampler.stop.set()
        sampler.join()
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "exit": process.returncode,
            "lines": counted["lines"], "tree_mib": (sampler.peak_kib / 1024) if sampler else None,
            "processes": sampler.peak_processes if sampler else None,
            "max_rss_mib": (sampler.largest_kib / 1024) if sampler else None, "load": load,
            "stderr": stderr.decode("utf-8", "replace")}


def calibrate(rounds: int = 3) -> float:
    """CPU milliseconds of a fixed Python loop (best of ``rounds``): how fast one core of this machine is."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        x = 0
        for i in range(2_000_000):
            x += i * i % 7
        best = min(best, time.process_time() - started)
    return best * 1000


# -- the runs ----------------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args, tmp: Path):
        self.args = args
        self.tmp = tmp
        self.cli = [sys.executable, str(Path(args.code).resolve() / "cli.py")]
        self.model_flag = ["--model", str(Path(args.model).resolve())] if args.model else []
        self.model = engine.load_model(args.model)
        self.lines: List[str] = []
        self.out = open(args.out, "w", encoding="utf-8") if args.out else None   # written as it goes

    def compile_code(self) -> None:
        """Every command is measured as an installed qmgrade runs: its modules' bytecode compiled (pip compiles
        it at install time; with PYTHONDONTWRITEBYTECODE set, as on some CI machines, every process would
        compile the sources first — the batches' too)."""
        code = Path(self.args.code).resolve()
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "engine"), str(code / "cli.py")],
                       stdout=subprocess.DEVNULL, check=False)

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)
        if self.out:
            self.out.write(text + "\n")
            self.out.flush()

    def qmgrade(self, *args) -> List[str]:
        return [*self.cli, *map(str, args), *self.model_flag]

    def batch_kind(self, kind: str, count: int) -> dict:
        source = self.tmp / f"{kind}.jsonl"
        documents = list(generate(self.model, count, self.args.seed, kind))
        with open(source, "w", encoding="utf-8") as stream:
            for document in documents:
                stream.write(json.dumps(document, ensure_ascii=False) + "\n")
        out = self.tmp / f"results-{kind}.jsonl"
        command = self.qmgrade("batch", source, "--out", out, "--jobs", self.args.jobs)
        sampled = run_measured(command)   # memory only (see BATCH_TIMINGS); it also reads the input into the cache
        timed = sorted((run_measured(command, sample=False) for _ in range(BATCH_TIMINGS)),
                       key=lambda r: r["seconds"])
        run = dict(timed[len(timed) // 2])   # the median run by wall time: its own CPU seconds and load with it
        run.update(tree_mib=sampled["tree_mib"], processes=sampled["processes"], max_rss_mib=sampled["max_rss_mib"],
                   fastest=timed[0]["seconds"], slowest=timed[-1]["seconds"],
                   exits=[sampled["exit"]] + [r["exit"] for r in timed])
        levels, errors = [], 0
        with open(out, encoding="utf-8") as stream:
            for line in stream:
                result = json.loads(line)
                errors += "error" in result
                levels.append(result.get("level", {}).get("rank"))
        assessments = [assessment_from_data(d, str(source), self.model) for d in documents]
        # the yardstick takes about a second: timed three times, the median kept (one timing moved by half
        # with the machine's load from one run to the next)
        timings = []
        for _ in range(YARDSTICK_TIMINGS):
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            plain = plain_levels(self.model, assessments)
            timings.append((time.process_time() - started_cpu, time.perf_counter() - started_wall))
        plain_cpu = _median([cpu for cpu, _ in timings])
        plain_cpus = sorted(cpu for cpu, _ in timings)
        plain_wall = _median([wall for _, wall in timings])
        run.update(kind=kind, companies=count, results=len(levels), errors=errors, agree=plain == levels,
                   disagree=sum(a != b for a, b in zip(plain, levels)),
                   plain_cpu=plain_cpu, plain_wall=plain_wall, plain_fastest=plain_cpus[0],
                   plain_slowest=plain_cpus[-1],
                   spread={k: levels.count(k) for k in sorted(set(levels), key=lambda v: (v is None, v))})
        if kind == "realistic":
            self.realistic = (documents, out)
        return run

    def cold_commands(self, documents, count: int) -> dict:
        timings = {}
        files = []
        for index, document in enumerate(documents[:count]):
            path = self.tmp / f"company-{index}.json"
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
            files.append(path)
        # the model cache filled by a first, uncounted run (the bytecode is compiled: see compile_code)
        run_measured(self.qmgrade("assess", files[0]), sample=False)
        for label, extra in (("assess", []), ("explain", []), ("roadmap --target 5", ["--target", "5"])):
            runs = []
            for path in files:
                run = run_measured(self.qmgrade(label.split()[0], path, *extra), sample=False)
                if run["exit"] not in (0, 1):
                    raise SystemExit(f"{label} failed ({run['exit']}): {run['stderr'][-500:]}")
                runs.append(run)
            timings[label] = runs
        return timings

    def warm_roadmap(self, source: Path, count: int) -> Optional[dict]:
        """``roadmap --target 5`` per company inside one process (model loaded once): mean and worst."""
        script = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import engine
from engine.assessment import assessment_from_data
from engine.roadmap import plan_roadmap
model = engine.load_model(sys.argv[2] or None)
docs = [json.loads(line) for line, _ in zip(open(sys.argv[3], encoding="utf-8"), range(int(sys.argv[4])))]
times = []
for doc in docs:
    assessment = assessment_from_data(doc, "x.json", model)
    started = time.process_time()
    plan = plan_roadmap(model, assessment, target=5)
    times.append(time.process_time() - started)
print(json.dumps(times))
"""
        done = subprocess.run([sys.executable, "-c", script, str(Path(self.args.code).resolve()),
                               str(Path(self.args.model).resolve()) if self.args.model else "", str(source),
                               str(count)], capture_output=True, text=True)
        if done.returncode != 0:
            self.say(f"(warm roadmap failed: {done.stderr.strip().splitlines()[-1:]})")
            return None
        times = json.loads(done.stdout)
        return {"n": len(times), "mean": statistics.mean(times), "worst": max(times)}

    def instructions(self, small: int = 10, large: int = 110) -> Optional[dict]:
        """Instructions per realistic company, counted by valgrind (cachegrind) when it is installed: a batch
        worker grading ``large`` companies minus the same grading ``small`` ones (start-up, imports and the model
        load cancel), and the plain-Python yardstick the same way.  Unlike CPU seconds, the count does not depend
        on the machine's load or on another process sharing the core.  Beside the instructions, cachegrind's
        simulation of this machine's caches and of a branch predictor counts the first-level instruction- and
        data-cache misses and the mispredicted branches: what makes an instruction of one program cost more
        time than one of the other."""
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            return None
        source = self.tmp / "realistic.jsonl"
        model = str(Path(self.args.model).resolve()) if self.args.model else ""
        worker = r"""
import sys
sys.path.insert(0, sys.argv[1])
from engine.model import load_model
from engine import batch
model = load_model(sys.argv[2] or None)
lines = [(i + 1, l) for i, l in zip(range(int(sys.argv[4])), open(sys.argv[3], "rb"))]
batch._init_worker(model, None, {"format": "jsonl", "trace": False, "db": False, "summaries": False})
for start in range(0, len(lines), 50):
    batch._grade_chunk(("jsonl", sys.argv[3], lines[start:start + 50]))
"""
        plain = r"""
import json, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[1] + "/benchmarks")
import engine
from engine.assessment import assessment_from_data
from bench_batch import plain_levels
model = engine.load_model(sys.argv[2] or None)
docs = [json.loads(l) for _, l in zip(range(int(sys.argv[4])), open(sys.argv[3], encoding="utf-8"))]
assessments = [assessment_from_data(d, "x.json", model) for d in docs]
for _ in range(int(sys.argv[5])):
    plain_levels(model, assessments)
"""

        def count(script: str, *args) -> Optional[dict]:
            done = subprocess.run([valgrind, "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes",
                                   "--cachegrind-out-file=/dev/null", sys.executable, "-c", script, *map(str, args)],
                                  capture_output=True, text=True)
            found = {event: re.search(rf"{pattern}:\s+([\d,]+)", done.stderr) for event, pattern in _EVENTS.items()}
            if done.returncode != 0 or None in found.values():
                return None
            return {event: int(match.group(1).replace(",", "")) for event, match in found.items()}

        def warm(script: str, *args) -> None:
            """Run ``script`` once, uncounted: the model cache is keyed by the code's sources too, so with
            ``--code`` another tree the two trees replace each other's entry (and index), and the first of two
            counted runs would load the model uncached — a difference off by millions, even negative."""
            subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True)

        code = str(Path(self.args.code).resolve())
        warm(worker, code, model, source, 0)
        counts = [count(worker, code, model, source, n) for n in (small, large)]
        # the yardstick: ``large`` companies evaluated 0 and 3 times over
        warm(plain, str(ROOT), model, source, 0, 0)
        yardstick = [count(plain, str(ROOT), model, source, large, rounds) for rounds in (0, 3)]
        if None in counts or None in yardstick:
            return None
        qmgrade = {event: (counts[1][event] - counts[0][event]) / (large - small) for event in _EVENTS}
        plain_counts = {event: (yardstick[1][event] - yardstick[0][event]) / (3 * large) for event in _EVENTS}
        return {"qmgrade": qmgrade["instructions"], "plain": plain_counts["instructions"], "companies": large - small,
                "events": {event: (qmgrade[event], plain_counts[event]) for event in _EVENTS}}

    def stream_run(self, n: int) -> dict:
        """``batch`` of ``n`` companies generated on the fly into a pipe (a FIFO): the whole process tree's peak
        memory while they stream through.  The companies are the realistic ones, cycled under fresh ids."""
        documents = self.realistic[0][:1000]
        templates = []
        for document in documents:
            copy = dict(document, company=dict(document["company"], id="\0"))
            head, tail = json.dumps(copy, ensure_ascii=False).split('"\\u0000"')
            templates.append((head, tail))
        fifo = self.tmp / "stream.jsonl"
        os.mkfifo(fifo)
        failed = []

        def feed():
            try:
                with open(fifo, "w", encoding="utf-8") as stream:
                    for i in range(n):
                        head, tail = templates[i % len(templates)]
                        stream.write(f'{head}"s-{i}"{tail}\n')
            except (BrokenPipeError, OSError) as error:   # the batch stopped early: its exit code says why
                failed.append(error)

        writer = threading.Thread(target=feed, daemon=True)
        run = run_measured(self.qmgrade("batch", fifo, "--jobs", self.args.jobs), count_lines=True,
                           before=writer.start)
        writer.join(timeout=5)
        run.update(n=n, fed_ok=not failed)
        return run

    def identity_check(self, samples: int) -> dict:
        """``assess FILE --format json --no-trace`` of sample companies against their lines of the realistic
        batch's output: the same JSON, and the same bytes once written compactly."""
        documents, results = self.realistic
        lines = open(results, encoding="utf-8").read().splitlines()
        picks = sorted({round(i * (len(documents) - 1) / max(samples - 1, 1)) for i in range(samples)})
        differing = []
        for index in picks:
            path = self.tmp / f"identity-{index}.json"
            path.write_text(json.dumps(documents[index], ensure_ascii=False), encoding="utf-8")
            done = subprocess.run(self.qmgrade("assess", path, "--format", "json", "--no-trace"), capture_output=True)
            try:
                alone = json.loads(done.stdout.decode("utf-8"))
                same = alone == json.loads(lines[index]) and json.dumps(alone, ensure_ascii=False) == lines[index]
            except (ValueError, IndexError):
                same = False
            if not same:
                differing.append(index)
        return {"samples": len(picks), "differing": differing}

    def stats_run(self, n: int) -> dict:
        documents, results = self.realistic
        source = self.tmp / "stats-input.jsonl"
        lines = [line for line in open(results, encoding="utf-8") if '"error"' not in line]
        written = 0
        with open(source, "w", encoding="utf-8") as stream:
            copy = 0
            while written < n:
                for line in lines:
                    if written >= n:
                        break
                    result = json.loads(line)
                    result["company"]["id"] = f"{result['company']['id']}-r{copy}"
                    stream.write(json.dumps(result, ensure_ascii=False) + "\n")
                    written += 1
                copy += 1
        run = run_measured(self.qmgrade("stats", source, "--format", "json"))
        run["n"] = written
        return run

    def wide_runs(self, rows: int) -> List[dict]:
        """The wide CSV and XLSX batches with ``--jobs N``, and the XLSX one with ``--jobs 1`` too (does it scale?)."""
        table = list(csv_rows(self.model, rows, self.args.seed + 1, "realistic"))
        csv_path = self.tmp / "survey.csv"
        with open(csv_path, "w", encoding="utf-8", newline="") as stream:
            csv.writer(stream, lineterminator="\n").writerows(table)
        out = []
        paths = [("CSV", csv_path)]
        try:
            from openpyxl import Workbook
            book = Workbook(write_only=True)
            sheet = book.create_sheet("companies")
            for row in table:
                sheet.append(row)
            xlsx_path = self.tmp / "survey.xlsx"
            book.save(xlsx_path)
            paths.append(("XLSX", xlsx_path))
        except ImportError:  # pragma: no cover - openpyxl is a dependency
            self.say("(openpyxl missing: no XLSX run)")
        runs = [(label, path, self.args.jobs) for label, path in paths]
        if len(paths) > 1 and self.args.jobs != 1:
            runs.append(("XLSX", paths[1][1], 1))
        for label, path, jobs in runs:
            results = self.tmp / f"results-{label}-{jobs}.jsonl"
            run = run_measured(self.qmgrade("batch", path, "--out", results, "--jobs", jobs))
            count = errors = 0
            if results.exists():
                for line in open(results, encoding="utf-8"):
                    count += 1
                    errors += '"error"' in line
            run.update(label=label, rows=rows, results=count, errors=errors, jobs=jobs)
            out.append(run)
        return out


def _median(values):
    return statistics.median(values) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("QMGRADE_BENCH_QUICK")),
                        help="a smaller run: 2,000 companies of each kind, 2,000-row CSV/XLSX, stats over 20,000, "
                             "a stream of 20,000")
    parser.add_argument("--companies", type=int, default=None, help="companies of each kind (default 10,000)")
    parser.add_argument("--rows", type=int, default=None, help="rows of the CSV and XLSX batches (default 10,000)")
    parser.add_argument("--stats-n", type=int, default=None, help="results for `stats` (default 100,000)")
    parser.add_argument("--cold", type=int, default=5, help="companies for the cold assess/explain/roadmap runs")
    parser.add_argument("--warm-roadmap", type=int, default=None, help="companies for the in-process roadmap")
    parser.add_argument("--stream-n", type=int, default=None,
                        help="companies streamed through a pipe for the memory measurement (default 1,000,000)")
    parser.add_argument("--identity", type=int, default=5,
                        help="sample companies whose `assess --format json --no-trace` output is compared with batch")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--code", default=str(ROOT), help="the qmgrade source tree to measure (default: this one)")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    companies = args.companies or (2000 if args.quick else 10000)
    rows = args.rows or (2000 if args.quick else 10000)
    stats_n = args.stats_n or (20000 if args.quick else 100000)
    warm = args.warm_roadmap or (20 if args.quick else 50)
    stream_n = args.stream_n or (20000 if args.quick else 1_000_000)

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    code = Path(args.code).resolve()
    try:
        revision = subprocess.run(["git", "-C", str(code), "describe", "--always", "--dirty"], capture_output=True,
                                  text=True).stdout.strip() or "?"
    except OSError:
        revision = "?"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qmgrade-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        bench.compile_code()
        model = bench.model
        say = bench.say
        say(f"qmgrade bench · code {code} ({revision}) · model {model.id} {model.version}: "
            f"{len(model.dimensions)} staves, {len(model.criteria)} criteria, {len(model.rules)} rules")
        say(f"Python {platform.python_version()} · {platform.machine()} · {cores} cores available "
            f"({os.cpu_count()} in the machine) · batch --jobs {args.jobs} · seed {args.seed} · "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        calibration = calibrate()
        say(f"core calibration: a fixed 2,000,000-step Python loop takes {calibration:.0f} ms of CPU "
            f"(lower = faster core; compare runs only at similar figures)")
        say()

        say("batch of JSON Lines, full inference (companies/s: wall clock, start-up included; per CPU-s: "
            "companies per CPU-second of the whole process tree; every command below runs from compiled bytecode, "
            "as installed)")
        say(f"{'kind':<10} {'companies':>9} {'wall s':>7} {'comp/s':>7} {'CPU s':>7} {'per CPU-s':>9} "
            f"{'tree MiB':>8} {'load':>5} {'plain per CPU-s':>15} {'CPU ratio':>9} {'wall ratio':>10}  check")
        batches = []
        for kind in KINDS:
            run = bench.batch_kind(kind, companies)
            batches.append(run)
            per_cpu = run["companies"] / run["cpu"]
            plain_per_cpu = run["companies"] / run["plain_cpu"]
            check = "ok" if run["results"] == run["companies"] and not run["errors"] and run["agree"] \
                and not any(run["exits"]) else \
                (f"MISMATCH results={run['results']} errors={run['errors']} exit codes={run['exits']} "
                 f"levels differing from plain Python={run['disagree']}")
            say(f"{run['kind']:<10} {run['companies']:>9,} {run['seconds']:>7.1f} "
                f"{run['companies'] / run['seconds']:>7,.0f} {run['cpu']:>7.1f} {per_cpu:>9,.0f} "
                f"{run['tree_mib']:>8.0f} {run['load']:>5.1f} {plain_per_cpu:>15,.0f} "
                f"{plain_per_cpu / per_cpu:>8.1f}× {run['seconds'] / run['plain_wall']:>9.1f}×  {check}")
        for run in batches:
            say(f"  {run['kind']} levels (rank: companies): {run['spread']}; peak {run['processes']} processes")
        for run in batches:
            per_cpu = run["companies"] / run["cpu"]
            slow, fast = run["companies"] / run["plain_slowest"], run["companies"] / run["plain_fastest"]
            say(f"  {run['kind']} yardstick over its {YARDSTICK_TIMINGS} timings: {slow:,.0f} to {fast:,.0f} "
                f"companies per CPU-s, so a CPU ratio of {slow / per_cpu:.1f}× to {fast / per_cpu:.1f}×; "
                f"the batch over its {BATCH_TIMINGS} timings: {run['companies'] / run['slowest']:,.0f} to "
                f"{run['companies'] / run['fastest']:,.0f} companies/s, so a wall ratio of "
                f"{run['fastest'] / run['plain_wall']:.1f}× to {run['slowest'] / run['plain_wall']:.1f}×")
        identity = bench.identity_check(args.identity)
        say(f"  byte identity: `assess FILE --format json --no-trace` of {identity['samples']} realistic companies "
            f"spread over the batch, against their batch lines: "
            + ("identical" if not identity["differing"] else f"DIFFERENT for companies {identity['differing']}"))
        say()

        documents = bench.realistic[0]
        cold = bench.cold_commands(documents, args.cold)
        say(f"cold commands, one realistic company each, process start to exit ({args.cold} companies; bytecode "
            f"compiled and the model cache filled first, as after an install and a first run)")
        say(f"{'command':<20} {'median wall s':>13} {'worst wall s':>12} {'median CPU s':>12} {'load':>5}")
        for label, runs in cold.items():
            walls = [r["seconds"] for r in runs]
            cpus = [r["cpu"] for r in runs]
            say(f"{label:<20} {_median(walls):>13.2f} {max(walls):>12.2f} {_median(cpus):>12.2f} "
                f"{runs[0]['load']:>5.1f}")
        roadmap = bench.warm_roadmap(bench.tmp / "realistic.jsonl", warm)
        if roadmap:
            say(f"roadmap --target 5 in one process (model loaded once): {roadmap['mean'] * 1000:.0f} ms CPU per "
                f"company on average, worst {roadmap['worst'] * 1000:.0f} ms ({roadmap['n']} realistic companies)")
        counted = bench.instructions()
        if counted:
            say(f"instructions per realistic company (valgrind; a batch worker grading {counted['companies']} "
                f"companies, start-up cancelled out; the same whatever the load): qmgrade "
                f"{counted['qmgrade'] / 1e6:.2f} million, plain-Python yardstick {counted['plain'] / 1e6:.2f} "
                f"million: {counted['qmgrade'] / counted['plain']:.1f}×")
            say("  and per company, qmgrade / yardstick (cachegrind's simulation of this machine's first-level "
                "caches and a branch predictor): " + ", ".join(
                    f"{event} {mine:,.0f} / {theirs:,.0f} ({mine / theirs:.0f}×)" if mine > 0 and theirs > 0 else
                    f"{event} {mine:,.0f} / {theirs:,.0f} (too few to compare)"
                    for event, (mine, theirs) in counted["events"].items() if event != "instructions")
                + " — why a CPU second holds fewer of qmgrade's instructions than of the yardstick's")
        else:
            say("instructions per company: not counted (valgrind is not installed)")
        say()

        stats = bench.stats_run(stats_n)
        say(f"stats --format json over {stats['n']:,} results (the realistic results repeated under fresh ids): "
            f"{stats['seconds']:.1f} s wall, {stats['cpu']:.1f} s CPU, tree {stats['tree_mib']:.0f} MiB, "
            f"load {stats['load']:.1f}, exit {stats['exit']}")
        say()

        wide = bench.wide_runs(rows)
        say(f"batch of a wide survey table ({rows:,} realistic rows)")
        say(f"{'input':<6} {'jobs':>4} {'rows':>7} {'wall s':>7} {'rows/s':>7} {'CPU s':>7} {'per CPU-s':>9} "
            f"{'tree MiB':>8} {'load':>5}  check")
        for run in wide:
            check = "ok" if run["results"] == rows and not run["errors"] else \
                f"MISMATCH results={run['results']} errors={run['errors']} exit={run['exit']}"
            say(f"{run['label']:<6} {run['jobs']:>4} {rows:>7,} {run['seconds']:>7.1f} {rows / run['seconds']:>7,.0f} "
                f"{run['cpu']:>7.1f} {rows / run['cpu']:>9,.0f} {run['tree_mib']:>8.0f} {run['load']:>5.1f}  {check}")
        say()

        stream = bench.stream_run(stream_n)
        stream_ok = stream["exit"] == 0 and stream["lines"] == stream_n and stream["fed_ok"]
        say(f"stream of {stream_n:,} companies generated on the fly into a pipe, batch --jobs {args.jobs} (results "
            f"counted, not kept): {stream['seconds']:.0f} s wall, {stream_n / stream['seconds']:,.0f} companies/s, "
            f"{stream['cpu']:.0f} s CPU ({stream_n / stream['cpu']:,.0f} per CPU-s); whole process tree at most "
            f"{stream['tree_mib']:.0f} MiB PSS ({stream['processes']} processes at the peak; the largest process "
            f"{stream['max_rss_mib']:.0f} MiB RSS); load {stream['load']:.1f}; "
            + ("ok" if stream_ok else f"FAILED exit={stream['exit']} results={stream['lines']:,}"))
        say()
        say("CPU s = user+system seconds of the command and every process it started; tree MiB = the peak of the "
            "summed proportional set size (PSS) of the command's whole process tree, sampled every 50 ms (for the JSON "
            f"Lines batches in a run of its own, untimed: the sampling costs about 7 % of a core; each of those "
            f"batches is timed {BATCH_TIMINGS} times without it, and the table shows the median run); "
            "load = the 1-minute load average just before the measurement (other work on the machine slows the "
            "wall-clock figures, less so the per-CPU-second ones); plain per CPU-s = CONTRACT §3 evaluated in "
            "plain Python on one core over the same companies in the same run (parsing excluded; the median of "
            f"{YARDSTICK_TIMINGS} timings); CPU ratio = how many times more CPU per company qmgrade spends than the "
            f"yardstick; wall ratio = the batch's wall-clock time with --jobs {args.jobs} (start-up included) over the "
            "yardstick's on one core (the median timing), for the same companies.")
        say(f"whole benchmark: {time.perf_counter() - started:.0f} s")
        ok = all(r["results"] == r["companies"] and not r["errors"] and r["agree"] and not any(r["exits"])
             for r in batches) and \
            all(r["results"] == rows and not r["errors"] for r in wide) and stats["exit"] == 0 and \
            stream_ok and not identity["differing"]
        if bench.out:
            bench.out.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

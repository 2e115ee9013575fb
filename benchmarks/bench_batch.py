"""How fast `qmgrade batch` grades, measured: companies/s, peak memory, and the price of durable_rules.

For each size (default 10,000 and 100,000 synthetic companies over the
default model, from benchmarks/generate.py) it runs the real command
`qmgrade batch FILE.jsonl --out ... --jobs N` in a fresh process and reports
wall time, companies per second (start-up included), the peak resident memory
of the batch's main process and of its largest worker, and checks the output
(one result per company, none an error).  In the same run it times a plain-
Python evaluation of CONTRACT §3 (scores, met cells, staves, barrel, caps; no
rule engine, one core) over the same companies, checks that it finds the same
levels, and prints the ratio.  It also times `qmgrade assess` of one company.

    python benchmarks/bench_batch.py                 # 10,000 and 100,000
    python benchmarks/bench_batch.py --quick         # 2,000 and 10,000 (or QMGRADE_BENCH_QUICK=1)
    python benchmarks/bench_batch.py --sizes 4000 --jobs 2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import engine  # noqa: E402
from engine.assessment import assessment_from_data  # noqa: E402
from generate import write_jsonl  # noqa: E402

# Runs a command; prints its exit code, the peak RSS (KiB) of its largest process and the CPU
# seconds of all its processes (the batch and its workers).
_MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def plain_levels(model, assessments):
    """CONTRACT §3 in plain Python: the company level of each assessment (no durable_rules)."""
    scale = 1_000_000
    threshold = model.threshold_units            # the same exact integer arithmetic as engine/scoring.py
    key_minimum = model.key_minimum_units
    top = model.top_rank
    cells = [(dim.id, [(k, [(c.id, c.weight_units, c.key) for c in model.cells[(dim.id, k)]])
                       for k in range(2, top + 1)]) for dim in model.dimensions]
    caps = []
    for rule in model.rules:        # the model's cap rules: one company pattern of equality tests
        if rule.conclude == "cap" and len(rule.patterns) == 1 and rule.patterns[0].kind == "company":
            tests = [(fld, spec) for fld, op, spec in rule.patterns[0].tests if op == "eq"]
            caps.append((tests, rule.set["level"]))
    defaults = {fact.id: fact.default for fact in model.facts}
    levels = []
    for assessment in assessments:
        ratings = assessment.ratings
        barrel = top
        for dim, ladder in cells:
            level = 1
            for k, criteria in ladder:
                total_w = total = 0
                met = True
                for cid, weight, key in criteria:
                    rating = ratings.get(cid, 0.0)
                    if rating is None:
                        continue                               # na
                    units = round(rating * scale)
                    total_w += weight
                    total += weight * units
                    if key and units < key_minimum:
                        met = False
                if met and total_w and total // total_w < threshold:
                    met = False
                if not met:
                    break
                level = k
            barrel = min(barrel, level)
        facts = {**defaults, **assessment.facts}
        level = barrel
        for tests, cap in caps:
            if all(facts.get(fld) == spec for fld, spec in tests):
                level = min(level, cap)
        levels.append(level)
    return levels


def measure_batch(path: Path, out: Path, jobs: int) -> dict:
    command = [sys.executable, str(ROOT / "cli.py"), "batch", str(path), "--out", str(out), "--jobs", str(jobs)]
    started = time.perf_counter()
    probe = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    code, peak, cpu = probe.stdout.split()
    return {"seconds": seconds, "exit": int(code), "peak_kib": int(peak), "cpu": float(cpu)}


def measure_assess(example: Path, runs: int = 5) -> float:
    best = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "assess", str(example)], stdout=subprocess.DEVNULL,
                       check=True)
        best.append(time.perf_counter() - started)
    return sorted(best)[len(best) // 2]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma-separated company counts (default 10000,100000)")
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("QMGRADE_BENCH_QUICK")),
                        help="2,000 and 10,000 companies")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([2000, 10000] if args.quick else
                                                                        [10000, 100000])
    model = engine.load_model()
    print(f"qmgrade {engine.__version__} · model {model.id} {model.version}: {len(model.dimensions)} staves, "
          f"{len(model.criteria)} criteria, {len(model.rules)} rules · Python {platform.python_version()} · "
          f"{os.cpu_count()} cores · batch --jobs {args.jobs}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            source = Path(tmp) / f"companies-{size}.jsonl"
            with open(source, "w", encoding="utf-8") as stream:
                write_jsonl(model, size, args.seed, stream)
            out = Path(tmp) / f"results-{size}.jsonl"
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            batch = measure_batch(source, out, args.jobs)
            results, errors, levels = 0, 0, []
            with open(out, encoding="utf-8") as stream:
                for line in stream:
                    result = json.loads(line)
                    results += 1
                    errors += "error" in result
                    levels.append(result.get("level", {}).get("rank"))
            # the plain-Python baseline over the same companies, parsed outside the timing
            assessments = []
            with open(source, encoding="utf-8") as stream:
                for line in stream:
                    assessments.append(assessment_from_data(json.loads(line), str(source), model))
            started = time.perf_counter()
            plain = plain_levels(model, assessments)
            plain_seconds = time.perf_counter() - started
            del assessments
            rows.append({
                "companies": size, "seconds": batch["seconds"], "rate": size / batch["seconds"],
                "cpu": batch["cpu"], "load": load,
                "peak_mib": batch["peak_kib"] / 1024, "results": results, "errors": errors,
                "plain_rate": size / plain_seconds, "agree": plain == levels,
                "spread": {k: levels.count(k) for k in sorted(set(levels))},
            })
            os.unlink(out)
            os.unlink(source)
    example = ROOT / "examples" / "level-3-assurance.yaml"
    assess_seconds = measure_assess(example) if example.exists() else None

    print()
    print(f"{'companies':>10} {'wall s':>8} {'companies/s':>12} {'CPU s':>7} {'per CPU-s':>10} {'load':>5} "
          f"{'peak MiB':>9} {'plain/s':>10} {'plain÷batch':>11}  check")
    for row in rows:
        check = "ok" if row["results"] == row["companies"] and not row["errors"] and row["agree"] else \
            f"MISMATCH results={row['results']} errors={row['errors']} same_levels={row['agree']}"
        print(f"{row['companies']:>10,} {row['seconds']:>8.2f} {row['rate']:>12,.0f} {row['cpu']:>7.1f} "
              f"{row['companies'] / row['cpu']:>10,.0f} {row['load']:>5.1f} {row['peak_mib']:>9.1f} "
              f"{row['plain_rate']:>10,.0f} {row['plain_rate'] / row['rate']:>10.1f}×  {check}")
    print()
    print("levels (rank: companies), largest run:", rows[-1]["spread"])
    if assess_seconds is not None:
        print(f"qmgrade assess {example.relative_to(ROOT)} (one company, process start to exit, median of 5): "
              f"{assess_seconds:.2f} s")
    print("CPU s = user+system seconds of the batch and its workers; per CPU-s = companies per CPU-second "
          "(what one free core grades); load = the 1-minute load average before the run (other work on "
          "the machine slows the wall-clock figures); peak MiB = the largest resident set among the batch "
          "process and its workers")
    ok = all(r["results"] == r["companies"] and not r["errors"] and r["agree"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

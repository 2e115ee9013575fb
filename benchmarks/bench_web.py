"""`qmgrade serve` under load, on loopback only, bounded: every answer checked against the CLI.

One run:

1. generates ``--companies`` seeded synthetic companies (benchmarks/generate.py, realistic mix);
2. runs the CLI (``qmgrade assess|explain|roadmap FILE --format json``, one process each) on each
   company: the expected answers, and the CLI's cost per company (process start to exit, the
   three commands together, median);
3. starts ``qmgrade serve`` in its own process on 127.0.0.1 and a free port (a fresh store);
4. runs ``--clients`` concurrent clients (threads, one HTTP connection each); each does
   ``--rounds`` rounds of POST /api/assess, /api/explain and /api/roadmap for one of the
   companies (client i takes company i mod N) and checks every answer equals the CLI's;
5. prints errors and mismatches (the run fails unless both are 0), p50/p95/max latency per
   endpoint, requests/s, and companies/s (assess+explain+roadmap) beside the CLI's per-company cost.

    python benchmarks/bench_web.py                        # 50 clients x 2 rounds, 10 companies
    python benchmarks/bench_web.py --clients 50 --rounds 4 --companies 20

The server grades one request at a time (durable_rules is process-wide state: a lock around
the engine), so throughput is that of one core; the figures say what 50 waiting clients cost.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ENDPOINTS = (("assess", ["assess"]), ("explain", ["explain"]), ("roadmap", ["roadmap"]))
model_args: list = []       # --model COPY, set in main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _qmgrade() -> list:
    return [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]


def expected_answers(files, folder):
    """The CLI's JSON for every (endpoint, company), and seconds per company (the three commands)."""
    answers, costs = {}, []
    for index, path in enumerate(files):
        spent = 0.0
        for name, command in ENDPOINTS:
            start = time.perf_counter()
            done = subprocess.run(_qmgrade() + command + [str(path), "--format", "json"] + model_args, cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"qmgrade {name} {path.name} failed: {done.stderr.strip()[-500:]}")
            spent += time.perf_counter() - start
            answers[(name, index)] = json.loads(done.stdout)
        costs.append(spent)
    return answers, costs


def start_server(port: int, db: Path):
    process = subprocess.Popen(_qmgrade() + ["serve", "--host", "127.0.0.1", "--port", str(port), "--db", str(db),
                                             "--threads", "16"] + model_args,
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"qmgrade serve exited: {process.stderr.read()}") from None
            time.sleep(0.1)
    process.kill()
    raise SystemExit("qmgrade serve did not start within 60 s")


def client(port, documents, answers, index, rounds, latencies, failures):
    company = index % len(documents)
    body = json.dumps(documents[company], ensure_ascii=False).encode("utf-8")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        for _ in range(rounds):
            for name, _command in ENDPOINTS:
                start = time.perf_counter()
                try:
                    connection.request("POST", f"/api/{name}", body=body,
                                       headers={"Content-Type": "application/json"})
                    response = connection.getresponse()
                    payload = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    failures.append(f"client {index} {name}: {type(exc).__name__}: {exc}")
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                    continue
                latencies[name].append(time.perf_counter() - start)
                if response.status != 200:
                    failures.append(f"client {index} {name}: HTTP {response.status} {payload[:200]!r}")
                elif json.loads(payload) != answers[(name, company)]:
                    failures.append(f"client {index} {name}: the answer differs from the CLI's")
    finally:
        connection.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2, help="assess+explain+roadmap rounds per client")
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 200 and 1 <= args.rounds <= 20 and 1 <= args.companies <= 100):
        parser.error("bounded: 1-200 clients, 1-20 rounds, 1-100 companies")

    import engine
    from generate import generate
    with tempfile.TemporaryDirectory(prefix="qmgrade-bench-web-") as folder:
        # one copy of the model for the CLI and the server alike (the tree may change during the run)
        model_dir = Path(folder) / "model"
        shutil.copytree(engine.default_model_dir(), model_dir)
        model_args[:] = ["--model", str(model_dir)]
        model = engine.load_model(str(model_dir))
        documents = list(generate(model, args.companies, seed=args.seed))
        files = []
        for i, document in enumerate(documents):
            path = Path(folder) / f"company-{i:03d}.json"
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
            files.append(path)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
              f"model {model.id} {model.version}, {len(model.criteria)} criteria")
        answers, costs = expected_answers(files, folder)
        cli_cost = statistics.median(costs)
        port = _free_port()
        server = start_server(port, Path(folder) / "web.sqlite")
        try:
            latencies = {name: [] for name, _ in ENDPOINTS}
            failures: list = []
            threads = [threading.Thread(target=client, args=(port, documents, answers, i, args.rounds, latencies,
                                                              failures)) for i in range(args.clients)]
            start = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - start
        finally:
            server.terminate()
            server.wait(timeout=30)
    requests = sum(len(v) for v in latencies.values())
    print(f"{args.clients} concurrent clients x {args.rounds} rounds of assess+explain+roadmap over "
          f"{args.companies} companies: {requests} requests in {wall:.1f} s")
    print(f"errors or answers unlike the CLI's: {len(failures)}")
    for failure in failures[:10]:
        print(f"  {failure}")
    for name, values in latencies.items():
        if values:
            values = sorted(values)
            p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
            print(f"  {name:8s} p50 {statistics.median(values) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   "
                  f"max {values[-1] * 1000:7.0f} ms")
    per_company = wall / (args.clients * args.rounds)
    print(f"throughput: {requests / wall:.1f} requests/s; {1 / per_company:.2f} companies/s "
          f"(assess+explain+roadmap), {per_company * 1000:.0f} ms of server time per company")
    print(f"the CLI in the same run: {cli_cost * 1000:.0f} ms per company (three processes, start-up included, "
          f"median of {len(costs)}); the server does a company {cli_cost / per_company:.1f}x faster")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile catalogue, signals: SIGTERM/SIGINT stop the workers and remove temporary files; a killed main
process leaves no orphan worker holding the output pipe open."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine
from conftest import build_model, ratings_up_to

ROOT = Path(__file__).resolve().parents[2]
QMGRADE = [sys.executable, "-c", "import sys; from cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    root = tmp_path_factory.mktemp("signals")
    model_dir = build_model(root / "model", per_cell=4)
    model = engine.load_model(model_dir)
    line = json.dumps({"company": {"id": "c"}, "ratings": ratings_up_to(model, 3)})
    path = root / "many.jsonl"
    path.write_text((line + "\n") * 40_000, encoding="utf-8")
    return root, model_dir, path


def _children(pid: int):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_workers(process, count=2, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = _children(process.pid)
        if len(workers) >= count:
            time.sleep(1.0)   # let them start grading
            return workers
        time.sleep(0.1)
    pytest.fail("the workers did not start")


def _gone(pids, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    return not any(_alive(pid) for pid in pids)


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_batch_leaves_no_worker_no_temporary_file_and_no_output(many, tmp_path, signum, code):
    root, model_dir, path = many
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen([*QMGRADE, "batch", str(path), "--model", str(model_dir), "-j", "2",
                                "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers = _wait_for_workers(process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert stderr.decode().endswith("Error: terminated\n" if signum == signal.SIGTERM else "Error: interrupted\n")
    assert _gone(workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == []      # neither the output nor a temporary file


def test_a_killed_batch_leaves_no_orphan_holding_the_pipe(many):
    root, model_dir, path = many
    process = subprocess.Popen([*QMGRADE, "batch", str(path), "--model", str(model_dir), "-j", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    workers = _wait_for_workers(process)
    process.kill()
    started = time.monotonic()
    process.stdout.read()          # returns only when every writer of the pipe is gone
    assert time.monotonic() - started < 15
    process.wait(timeout=10)
    assert _gone(workers)


def test_stdout_keeps_every_complete_line_when_stopped(many):
    root, model_dir, path = many
    process = subprocess.Popen([*QMGRADE, "batch", str(path), "--model", str(model_dir), "-j", "2"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _wait_for_workers(process)
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 143
    lines = stdout.decode().splitlines()
    assert all(json.loads(line)["company"]["id"] == "c" for line in lines[:-1])


def test_the_temporary_file_of_a_killed_batch_is_removed_by_the_next_run(many, tmp_path):
    root, model_dir, path = many
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen([*QMGRADE, "batch", str(path), "--model", str(model_dir), "-j", "2",
                                "--out", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_workers(process)
    process.kill()
    process.wait(timeout=10)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".results.jsonl.{process.pid}.") and not out.exists()
    small = tmp_path / "one.jsonl"
    small.write_text(path.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")
    rerun = subprocess.run([*QMGRADE, "batch", str(small), "--model", str(model_dir), "--out", str(out)], cwd=ROOT,
                           capture_output=True, timeout=120)
    assert rerun.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.jsonl", "results.jsonl"]

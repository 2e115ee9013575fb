"""Same input, same bytes: whatever the key order, the process, PYTHONHASHSEED, the locale or --jobs."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STUCK = EXAMPLES / "stuck-at-assurance-one-stave.yaml"
CAPPED = EXAMPLES / "capped-by-recall.yaml"

COMMANDS = [
    ("assess", "--format", "json"),
    ("assess", "--lang", "zh"),
    ("assess", "--format", "markdown"),
    ("assess", "--format", "html", "--lang", "zh"),
    ("explain", "--format", "json"),
    ("roadmap", "--format", "json"),
    ("whatif", "--set", "qms-3-internal-audit=full", "--format", "json"),
    ("trace", "--format", "json"),
    ("trace", "--format", "jsonl"),
    ("trace", "--lang", "zh"),
]


def output(runner, command, path) -> str:
    name, *options = command
    result = runner.invoke(main, [name, str(path), *options])
    assert result.exit_code == 0, result.output
    return result.output


def shuffled(value, rng: random.Random):
    """The same document with the keys of every mapping in another order (lists keep theirs)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rng) for item in value]
    return value


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """The example as written, and the same data with reordered keys in YAML and in JSON."""
    folder = tmp_path_factory.mktemp("variants")
    data = yaml.safe_load(STUCK.read_text(encoding="utf-8"))
    data["evidence"] = {"qms-3-internal-audit": ["内审报告 2026-03", "audit plan v2"],
                        "leadership-2-quality-rules": "质量手册 §5"}
    data["company"]["employees"] = 320
    files = []
    for index, document in enumerate([data, reversed_keys(data), shuffled(data, random.Random(7)),
                                       shuffled(data, random.Random(8))]):
        path = folder / f"v{index}.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
        files.append(path)
    as_json = folder / "v.json"
    as_json.write_text(json.dumps(shuffled(data, random.Random(9)), ensure_ascii=False), encoding="utf-8")
    files.append(as_json)
    assert len({path.read_bytes() for path in files}) == len(files)   # really different files
    return files


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_reordered_keys_give_identical_bytes(runner, variants, command):
    first = output(runner, command, variants[0])
    for path in variants[1:]:
        assert output(runner, command, path) == first, f"{path.name} differs"


def test_the_company_fields_come_out_in_one_order(runner, variants):
    orders = {tuple(json.loads(output(runner, ("assess", "--format", "json"), path))["company"])
              for path in variants}
    assert orders == {("id", "name", "industry", "region", "employees")}


def test_two_runs_in_one_process_are_identical_and_other_companies_between_change_nothing(runner):
    command = ("trace", "--format", "json")
    first = output(runner, command, STUCK)
    for example in sorted(EXAMPLES.glob("*.yaml")):
        if example.name != "expected.yaml":
            output(runner, command, example)
    assert output(runner, command, STUCK) == first


# -- separate processes -------------------------------------------------------------------------------------
def _locales() -> list:
    try:
        available = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError):
        available = []
    wanted = ["C", "C.UTF-8"]
    # zh_CN.UTF-8 when the system has it; asked for without it, the C library falls back to C
    wanted.append("zh_CN.UTF-8" if any(a.lower().replace("-", "") == "zh_cn.utf8" for a in available)
                  else "zh_CN.UTF-8")
    return wanted


ENVIRONMENTS = [{"PYTHONHASHSEED": "0", "LC_ALL": "C"},
                {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8"},
                {"PYTHONHASHSEED": "4242", "LC_ALL": _locales()[2]},
                {"PYTHONHASHSEED": "random", "LC_ALL": "POSIX"},
                {"PYTHONHASHSEED": "7", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "latin-1"}]


def run_process(args, extra_env) -> bytes:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("LC_", "PYTHONHASHSEED", "PYTHONIOENCODING", "QMGRADE_"))}
    env.update(extra_env)
    env["LANG"] = extra_env["LC_ALL"]
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, env=env,
                            cwd=str(ROOT), timeout=120)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert result.stderr == b""
    return result.stdout


@pytest.mark.parametrize("command", [("trace", str(STUCK), "--format", "json"),
                                     ("trace", str(CAPPED), "--lang", "zh"),
                                     ("assess", str(STUCK), "--format", "html", "--lang", "zh")],
                         ids=["trace-json", "trace-zh", "assess-html-zh"])
def test_separate_processes_with_other_hash_seeds_and_locales_give_identical_bytes(runner, command):
    outputs = {json.dumps(env): run_process(command, env) for env in ENVIRONMENTS}
    in_process = runner.invoke(main, list(command)).output.encode("utf-8")
    assert set(outputs.values()) == {in_process}, [env for env, out in outputs.items() if out != in_process]


def test_the_record_digest_is_the_same_in_every_process():
    digests = {json.loads(run_process(("trace", str(STUCK), "--format", "json"), env))["digest"]
               for env in ENVIRONMENTS[:3]}
    assert len(digests) == 1


# -- batch --jobs ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    for example in sorted(EXAMPLES.glob("*.yaml")):
        if example.name != "expected.yaml":
            (folder / example.name).write_bytes(example.read_bytes())
    for index in range(6):   # more companies than examples, so both workers get several
        data = shuffled(yaml.safe_load(STUCK.read_text(encoding="utf-8")), random.Random(index))
        data["company"]["id"] = f"shuffled-{index}"
        (folder / f"z-shuffled-{index}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                                         encoding="utf-8")
    return folder


@pytest.mark.parametrize("options", [("--format", "jsonl", "--trace"), ("--format", "csv")], ids=["jsonl", "csv"])
def test_batch_with_one_or_two_workers_gives_identical_bytes(batch_folder, options):
    env = {"PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8"}
    one = run_process(("batch", str(batch_folder), "--jobs", "1", *options), env)
    two = run_process(("batch", str(batch_folder), "--jobs", "2", *options), {**env, "PYTHONHASHSEED": "99"})
    assert one == two
    assert one.count(b"\n") >= 15


def test_batch_rows_equal_the_single_assessments(runner, batch_folder):
    lines = runner.invoke(main, ["batch", str(batch_folder), "--jobs", "2", "--no-trace"]).output.splitlines()
    single = json.loads(output(runner, ("assess", "--format", "json", "--no-trace"), batch_folder /
                               STUCK.name))
    shuffled_rows = [json.loads(line) for line in lines if '"shuffled-' in line]
    assert len(shuffled_rows) == 6
    for row in shuffled_rows:
        assert {k: v for k, v in row.items() if k != "company"} == \
            {k: v for k, v in single.items() if k != "company"}

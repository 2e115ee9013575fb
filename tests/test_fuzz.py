"""Fuzzing: whatever a user throws at qmgrade, it answers with exit 0 or 1, never a traceback, never a hang.

Random documents (random types, wrong nesting, huge and odd strings, Unicode
controls, NaN and infinity), mutated text, YAML aliases and alias bombs, deep
nesting, oversized, binary and damaged spreadsheet files, mutated model files
and mutated trace records.  An "internal error" message counts as a failure:
it is the CLI's last line of defence and means the engine has a bug.
"""
from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from cli import main
from conftest import build_model, examples, ratings_up_to, write_assessment

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=examples(60), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

ODD_TEXT = ["", " ", "\t", "\x00", "\x1b[31m", "\u202e", "\u200b", "\ufeff", "\x85", "\u2028", "\ud7ff",
            "😀", "全部满足", "不适用", "na", "full", "&a", "*a", "!!python/object:os.system", "{", "[", "]:",
            "- ", ": ", "#", "%", "@", "`", "'", '"', "\\", "x" * 10_000, "1e400", "-.inf", ".nan", "0x1F",
            "2026-13-45", "~", "null", "yes", "on", "<script>alert(1)</script>"]
texts = st.one_of(st.sampled_from(ODD_TEXT), st.text(max_size=30),
                  st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10 ** 400), max_value=10 ** 400),
                    st.floats(allow_nan=True, allow_infinity=True), texts)
documents = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=4)), max_leaves=20)


def clean(result) -> None:
    """Exit 0 or 1, and no traceback nor internal error anywhere in what the user sees."""
    assert result.exit_code in (0, 1), (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, result.output


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("fuzz") / "model", keys=("alpha-3-1",))


@pytest.fixture(scope="module")
def model(model_dir):
    return engine.load_model(model_dir)


def check_commands(runner, model_dir, path, commands=(("assess", "--format", "json"),)):
    for name, *options in commands:
        result = runner.invoke(main, [name, str(path), "--model", str(model_dir), *options])
        clean(result)
        if result.exit_code == 0 and "json" in options:
            json.loads(result.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))


# -- assessments -----------------------------------------------------------------------------------------------
@st.composite
def assessments(draw, model):
    """Assessment-shaped documents with random types and values in random places."""
    criteria = sorted(model.criteria)
    document = {}
    for key in draw(st.lists(st.sampled_from(["company", "ratings", "evidence", "facts", "assessed_on",
                                              "extra"]), unique=True)):
        if key == "ratings" and draw(st.booleans()):
            ids = draw(st.lists(st.one_of(st.sampled_from(criteria), texts), max_size=6))
            document[key] = {cid: draw(st.one_of(scalars, documents)) for cid in ids}
        elif key == "company" and draw(st.booleans()):
            document[key] = draw(st.dictionaries(st.sampled_from(["id", "name", "industry", "region"]) | texts,
                                                 scalars, max_size=5))
        else:
            document[key] = draw(documents)
    return document


def dump(document, form: str) -> str:
    if form == "json":
        return json.dumps(document, ensure_ascii=False, allow_nan=True, default=str)
    return yaml.safe_dump(document, allow_unicode=bool(len(form) % 2), sort_keys=False, default_flow_style=None)


@FUZZ
@given(data=st.data())
def test_random_assessment_documents(runner, model_dir, model, tmp_path, data):
    document = data.draw(assessments(model))
    form = data.draw(st.sampled_from(["yaml", "json", "yml"]))
    path = tmp_path / f"fuzz.{form if form != 'yml' else 'yaml'}"
    try:
        path.write_text(dump(document, form), encoding="utf-8", errors="surrogatepass")
    except (ValueError, OverflowError):   # values PyYAML/json cannot write at all
        return
    check_commands(runner, model_dir, path, [("assess", "--format", "json"), ("trace", "--format", "text")])


MUTATIONS = ["", ":", "- ", "[", "]", "{", "}", "&a ", "*a", "*b", "<<: *a\n", "!!set ", "!!binary ", "!!omap ",
             "!!python/object/apply:os.system ['true'] ", "? ", "|\n", ">\n", "\t", "\x00", "\x1b", "\u202e",
             "\x85", "\ufeff", ".nan", ".inf", "-.Inf", "1e400", "NaN", "Infinity", "9" * 5000, "'", '"', "\\u",
             "\"\\ud800\"", "\n", "   ", "#", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "!x ",
             "\"" + "a" * 100_000 + "\"", "[" * 500, "]" * 500, "{a: " * 300]


@FUZZ
@given(data=st.data())
def test_mutated_assessment_text(runner, model_dir, model, tmp_path, data):
    base = yaml.safe_dump({"company": {"id": "c-1", "name": "测试公司"}, "assessed_on": "2026-05-01",
                           "ratings": ratings_up_to(model, 3), "evidence": {"alpha-2-1": ["manual §4"]},
                           "facts": {"product_recall_3y": False}}, allow_unicode=True, sort_keys=False)
    if data.draw(st.booleans()):
        base = json.dumps(yaml.safe_load(base), ensure_ascii=False, indent=1)
        suffix = "json"
    else:
        suffix = "yaml"
    text = base
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        text = text[:at] + data.draw(st.sampled_from(MUTATIONS)) + text[at + cut:]
    path = tmp_path / f"mutated.{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_commands(runner, model_dir, path, [("assess", "--format", "json"), ("trace", "--format", "json")])


# -- exact refusals ----------------------------------------------------------------------------------------------
def alias_bomb(levels=9, width=9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\nratings: {}\n"


@pytest.mark.parametrize("name, content, message", [
    ("bomb.yaml", alias_bomb(), "{path}:7:5: document expands to more than 2,000,000 nodes (YAML alias bomb?)"),
    ("deep.yaml", "ratings: " + "[" * 300 + "]" * 300 + "\n", "{path}:1:210: nesting deeper than 200 levels"),
    ("deeper.yaml", "ratings: " + "[" * 100_000 + "]" * 100_000 + "\n",
     "{path}:1:1009: malformed YAML: while increasing flow level; exceeded maximum nesting depth"),
    ("deep.json", '{"ratings": ' + "[" * 100_000 + "]" * 100_000 + "}", "{path}:1:1: document nested too deeply"),
    ("nan.yaml", "ratings:\n  alpha-2-1: .nan\n",
     "{path}:2:14: '.nan' is not a finite number (NaN and infinity are not accepted)"),
    ("inf.yaml", "company: {id: c, size: -.Inf}\nratings: {}\n",
     "{path}:1:24: '-.Inf' is not a finite number (NaN and infinity are not accepted)"),
    ("nan.json", '{"ratings": {"alpha-2-1": NaN}}', "{path}:1:1: malformed JSON: NaN is not valid JSON"),
    ("inf.json", '{"ratings": {"alpha-2-1": Infinity}}', "{path}:1:1: malformed JSON: Infinity is not valid JSON"),
    ("overflow.json", '{"company": {"size": 1e400}, "ratings": {}}',
     "{path}:1:22: '1e400' is not a finite number (NaN and infinity are not accepted)"),
    ("bigint.yaml", "ratings:\n  alpha-2-1: " + "9" * 400 + "\n",
     "{path}:2:14: alpha-2-1: rating 999999999999999… is out of range: numbers must lie in [0, 1] (bad-rating)"),
    ("hugeint.yaml", "ratings:\n  alpha-2-1: " + "9" * 5000 + "\n", "{path}:2:14: number too large"),
    ("hugeint.json", '{"ratings": {"alpha-2-1": ' + "9" * 5000 + "}}", "{path}:1:1: malformed JSON: number too large"),
    ("setkey.yaml", "ratings:\n  ? !!set {a: null}\n  : full\n", "{path}:2:5: a mapping key must be a scalar"),
    ("set.yaml", "ratings: !!set {b, a, c}\n", "{path}:1:17: unknown criterion 'b' (unknown-id)"),
    ("surrogate.json", '{"company": {"name": "\\ud800"}, "ratings": {}}',
     "{path}:1:23: invalid Unicode: a lone surrogate escape (\\ud800-\\udfff)"),
    ("control.yaml", "company: {name: a\x07b}\nratings: {}\n",
     "{path}:1:1: malformed YAML: unacceptable character #x0007: control characters are not allowed"),
    ("binary.yaml", "\x89PNG\r\n\x1a\n\x00\x00", "{path}:1:1: not a text file (binary content)"),
    ("utf16.yaml", None, "{path}:1:1: not a text file (binary content)"),
    ("bad.xlsx", "not a zip at all", "{path}:1:1: not an XLSX workbook (not a zip archive): save it from Excel or WPS "
                                     "as .xlsx (file-type)"),
])
def test_dangerous_input_is_refused_with_a_clear_message(runner, model_dir, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        path.write_bytes("ratings: {}\n".encode("utf-16"))
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    result = runner.invoke(main, ["assess", str(path), "--model", str(model_dir)])
    clean(result)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Error: " + message.format(path=path)


def test_an_oversized_file_is_refused_before_it_is_parsed(runner, model_dir, tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("ratings: {}\n")
        handle.write(("# " + "x" * 1022 + "\n") * (21 * 1024))
    result = runner.invoke(main, ["assess", str(path), "--model", str(model_dir)])
    assert result.exit_code == 1
    assert result.output == f"Error: {path}:1:1: file is larger than 20 MiB; refused\n"


def test_unicode_controls_in_values_are_kept_as_data(runner, model_dir, model, tmp_path):
    company = {"id": "c\u200b1", "name": "A\u202eB\x1bC\u2028D\x85E", "region": "😀"}
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2), company=company)
    result = runner.invoke(main, ["assess", str(path), "--model", str(model_dir), "--format", "json"])
    clean(result)
    assert json.loads(result.output)["company"] == company


@pytest.mark.parametrize("seed", range(4))
def test_damaged_spreadsheets(runner, model_dir, tmp_path, seed):
    result = runner.invoke(main, ["template", "--model", str(model_dir), "--out", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0, result.output
    raw = (tmp_path / "t.xlsx").read_bytes()
    rng = random.Random(seed)
    for attempt in range(8):
        kind = attempt % 4
        if kind == 0:
            data = raw[: rng.randint(10, len(raw) - 1)]
        elif kind == 1:
            data = bytearray(raw)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            source, out = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
            victim = rng.choice([n for n in source.namelist() if n.endswith(".xml")])
            with zipfile.ZipFile(out, "w") as target:
                for name in source.namelist():
                    part = source.read(name)
                    if name == victim:
                        part = part[: rng.randint(0, len(part))] if kind == 2 else part.replace(b"<v>", b"<v>\x01")
                    target.writestr(name, part)
            data = out.getvalue()
        path = tmp_path / f"damaged-{attempt}.xlsx"
        path.write_bytes(bytes(data))
        clean(runner.invoke(main, ["assess", str(path), "--model", str(model_dir)]))


# -- model files -------------------------------------------------------------------------------------------------
def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


@st.composite
def mutated_model(draw, source: Path, target: Path):
    """A copy of ``source`` with one to three files changed at a random place (value, deletion, duplicate)."""
    import shutil
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    files = sorted(p for p in target.rglob("*.yaml"))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(files))
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, ValueError):   # an earlier step broke it: mutate the text only
            document = None
        where = draw(st.sampled_from(list(_paths(document))[:400]))
        action = draw(st.sampled_from(["replace", "delete", "duplicate", "text"]))
        if action == "text" or not where:
            text = path.read_text(encoding="utf-8")
            at = draw(st.integers(0, len(text)))
            path.write_text(text[:at] + draw(st.sampled_from(MUTATIONS)) + text[at + draw(st.integers(0, 6)):],
                            encoding="utf-8", errors="surrogatepass")
            continue
        parent = document
        for part in where[:-1]:
            parent = parent[part]
        last = where[-1]
        if action == "replace":
            parent[last] = draw(documents)
        elif action == "delete":
            del parent[last]
        elif isinstance(parent, list):
            parent.append(parent[last])
        else:
            parent[last] = [parent[last], parent[last]]
        try:
            text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        except (ValueError, OverflowError):
            continue
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return target


@FUZZ
@given(data=st.data())
def test_mutated_model_files(runner, model_dir, tmp_path_factory, data):
    target = data.draw(mutated_model(model_dir, tmp_path_factory.getbasetemp() / "mutated-model"))
    result = runner.invoke(main, ["kb", "validate", "--model", str(target)])
    clean(result)
    if result.exit_code == 0:
        path = write_assessment(target / "a.yaml", {"alpha-2-1": "full", "beta-3-1": "partial"},
                                facts={"product_recall_3y": True})
        clean(runner.invoke(main, ["assess", str(path), "--model", str(target), "--format", "json"]))


def test_a_model_file_that_is_an_alias_bomb(runner, model_dir, tmp_path):
    import shutil
    target = tmp_path / "m"
    shutil.copytree(model_dir, target)
    (target / "knowledge" / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    result = runner.invoke(main, ["kb", "validate", "--model", str(target)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {target / 'knowledge' / 'bomb.yaml'}:7:5: document expands to more than "
                             f"2,000,000 nodes (YAML alias bomb?)\n")


# -- trace records -------------------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_mutated_trace_records(runner, model_dir, model, tmp_path, data):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    record = json.loads(runner.invoke(main, ["trace", str(path), "--model", str(model_dir),
                                             "--format", "json"]).output)
    where = data.draw(st.sampled_from(list(_paths(record))[:600]))
    if where:
        parent = record
        for part in where[:-1]:
            parent = parent[part]
        parent[where[-1]] = data.draw(documents)
    else:
        record = data.draw(documents)
    trace = tmp_path / data.draw(st.sampled_from(["t.json", "t.jsonl"]))
    text = json.dumps(record, ensure_ascii=False, default=str)
    if trace.suffix == ".jsonl" and isinstance(record, dict):
        firings = record.get("firings") if isinstance(record.get("firings"), list) else []
        header = {k: v for k, v in record.items() if k not in ("firings", "digest")}
        text = "\n".join(json.dumps(line, ensure_ascii=False, default=str)
                         for line in [header, *firings, {"digest": record.get("digest")}])
    trace.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = runner.invoke(main, ["trace", "verify", str(trace), str(path), "--model", str(model_dir)])
    clean(result)
    assert result.exit_code == (0 if where and record_equal(runner, path, model_dir, record) else 1)


def record_equal(runner, path, model_dir, record) -> bool:
    honest = json.loads(runner.invoke(main, ["trace", str(path), "--model", str(model_dir), "--format",
                                             "json"]).output)
    return honest == record


# -- never a hang (separate processes with a time limit) --------------------------------------------------------
def run_process(args, timeout=60):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QMGRADE_")}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, env=env,
                            cwd=str(ROOT), timeout=timeout)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (0, 1), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return result.returncode, stderr


def test_a_rule_that_never_settles_stops_with_an_error(tmp_path, model):
    seed = ("description: {zh: 起点, en: seeds}\nwhen:\n  - fact: stave\nthen:\n  conclude: reached\n"
            "  set:\n    dimension: {ref: stave.dimension}\n    level: 1\n")
    loop = ("description: {zh: 自我循环, en: loops}\nwhen:\n  - fact: reached\nthen:\n  conclude: reached\n"
            "  set:\n    dimension: {ref: reached.dimension}\n    level: {ref: reached.level, add: 1}\n")
    target = build_model(tmp_path / "m", extra_rules={"seed": seed, "loop": loop})
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    code, stderr = run_process(["assess", str(path), "--model", str(target)])
    assert code == 1
    assert stderr == (f"Error: {target / 'rules' / 'loop.yaml'}:1:1: the rules fired more than 100,000 times for "
                      f"one company (last: 'loop'): does a rule keep concluding new facts from its own "
                      f"conclusions, or join patterns without conditions?\n")


@pytest.mark.parametrize("name, content, code", [
    ("bomb.yaml", alias_bomb(10, 10), 1),
    ("deep.yaml", "ratings: " + "[" * 1_000_000 + "]" * 1_000_000, 1),
    ("deep-block.yaml", "".join(" " * n + "a:\n" for n in range(3000)) + "ratings: {}\n", 1),
    ("wide.yaml", "ratings:\n" + "".join(f"  k{n}: full\n" for n in range(100_000)), 1),
    ("long-name.yaml", "company: {name: '" + "長" * 6_000_000 + "'}\nratings: {}\n", 0),
    ("many-aliases.yaml", "a: &a x\nratings: [" + ", ".join(["*a"] * 200_000) + "]\n", 1),
])
def test_pathological_files_finish_in_a_separate_process(tmp_path, model_dir, name, content, code):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    found, stderr = run_process(["assess", str(path), "--model", str(model_dir)])
    assert found == code
    assert stderr.startswith(f"Error: {path}:") if code else stderr == ""


# -- wide CSV: every line is its own record ------------------------------------------------------------------
csv_lines = st.lists(st.one_of(st.binary(max_size=60), st.sampled_from(
    [b'c,"open', b"c,x", b"c,x,full,full,full,full", b"\xff\xfe", b'"', b",,,", b"c,\x00,full", b"\r"])),
    min_size=1, max_size=8)


@FUZZ
@given(data=csv_lines)
def test_random_csv_rows_are_graded_or_error_entries_naming_their_line(runner, model_dir, tmp_path, data):
    path = tmp_path / "wide.csv"
    good = b"ok,Fine,full,full,full"
    lines = [b"company_id,company_name,alpha-2-1,alpha-2-2,beta-2-1", *(d.replace(b"\n", b" ") for d in data), good]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(main, ["batch", str(path), "--model", str(model_dir), "-j", "1"])
    assert result.exit_code in (0, 1) and "internal error" not in result.output
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert entries and entries[-1]["company"]["id"] == "ok" and "error" not in entries[-1]   # the batch went on
    for entry in entries:
        if "error" in entry:
            line = int(entry["error"].split(":")[1])
            assert 2 <= line <= len(lines)

"""`qmgrade trace` and `qmgrade trace verify`: the auditor's record, its digest and its re-check."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
import rfc8785

import engine
from conftest import build_model, ratings_up_to, write_assessment, run
from engine import audit


def record_json(record: dict) -> str:
    """A record (perhaps altered, perhaps not a valid one) written as `trace --format json` writes one."""
    return json.dumps(record, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def record_jsonl(record: dict) -> str:
    """A record written as `trace --format jsonl` writes one: the header, the firings, the digest."""
    lines = [{key: record[key] for key in audit.HEADER_FIELDS if key in record}, *record["firings"],
             {key: record[key] for key in audit.UNSIGNED if key in record}]
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("trace") / "model", keys=("beta-3-1",))


@pytest.fixture(scope="module")
def model(model_dir):
    return engine.load_model(model_dir)


@pytest.fixture
def assessment(tmp_path, model):
    ratings = ratings_up_to(model, 3)
    ratings.update({"beta-4-1": "partial", "gamma-2-2": "na", "beta-3-1": "partial"})
    del ratings["alpha-3-2"]
    return write_assessment(tmp_path / "a.yaml", ratings, facts={"product_recall_3y": True},
                            evidence={"alpha-2-1": ["QM manual v3 §4.4", "audit report 2026"]})


def record_of(runner, assessment, model_dir, fmt="json"):
    result = run(runner, "trace", assessment, "--model", model_dir, "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_json_record_has_the_contract_shape(runner, model_dir, model, assessment):
    record = json.loads(record_of(runner, assessment, model_dir))
    assert list(record) == ["format", "input_sha256", "model", "company", "assessed_on", "level", "firings",
                            "digest"]
    assert record["format"] == "qmgrade-trace/3"
    loaded = engine.read_assessment(str(assessment), model)
    assert record["input_sha256"] == loaded.sha256
    assert record["model"] == {"id": "tiny", "version": "0.1", "sha256": model.sha256,
                               "files": [{"path": path, "sha256": sha} for path, sha in model.files]}
    assert {f["path"] for f in record["model"]["files"]} >= {"knowledge/criteria.yaml", "rules/barrel.yaml"}
    assert record["level"] == {"rank": 2, "id": "inspection", "name": {"zh": "检验级", "en": "Inspection"}}
    assessed = json.loads(run(runner, "assess", assessment, "--model", model_dir, "--format", "json").output)
    descriptions = {rule.id: rule.description for rule in model.rules}
    assert [{k: v for k, v in f.items() if k != "description"} for f in record["firings"]] == assessed["trace"]
    assert all(f["description"] == descriptions[f["rule"]] for f in record["firings"])
    content = {k: v for k, v in record.items() if k != "digest"}
    assert record["digest"] == hashlib.sha256(rfc8785.dumps(content)).hexdigest()     # RFC 8785


def test_each_firing_shows_the_criterion_ratings_and_evidence_it_matched(runner, model_dir, assessment):
    record = json.loads(record_of(runner, assessment, model_dir))
    alpha2 = next(f for f in record["firings"] if f["rule"] == "cell-met" and f["conclusion"] ==
                  {"fact": "met", "dimension": "alpha", "level": 2})
    assert alpha2["facts"][0]["criteria"][0] == {"criterion": "alpha-2-1", "rating": 1.0, "weight": 1.0,
                                                 "key": False,
                                                 "evidence": ["QM manual v3 §4.4", "audit report 2026"]}
    assert alpha2["description"]["zh"].startswith("某维度在某一级别的适用条款加权得分达到阈值")


def test_jsonl_is_a_header_one_line_per_firing_and_the_digest(runner, model_dir, assessment):
    record = json.loads(record_of(runner, assessment, model_dir))
    lines = [json.loads(line) for line in record_of(runner, assessment, model_dir, "jsonl").splitlines()]
    assert lines[0] == {k: record[k] for k in ("format", "input_sha256", "model", "company", "assessed_on",
                                               "level")}
    assert lines[1:-1] == record["firings"]
    assert lines[-1] == {"digest": record["digest"]}


def test_the_text_reads_as_a_justification_in_english(runner, model_dir, assessment):
    text = record_of(runner, assessment, model_dir, "text")
    lines = text.splitlines()
    assert lines[0] == "qmgrade audit trace"
    assert "Level: 2 Inspection (检验级)" in lines
    assert "  cell-met ×4: A dimension meets a level when the weighted score of its applicable criteria there " \
           "reaches the threshold and every key criterion there reaches the key minimum." in lines
    at = lines.index("  9. cell-met: Dimension alpha (alpha) L2: score 1.00 ≥ threshold 0.80, key criteria all met"
                     " → met")
    assert lines[at + 1:at + 3] == [
        "       - alpha-2-1: full (1); evidence: QM manual v3 §4.4; audit report 2026",
        "       - alpha-2-2: full (1)"]
    assert "  13. key-gate: Dimension beta (beta) L3: score 0.75 < threshold 0.80, 1 key criterion below the key " \
           "minimum 0.80 → not met" in lines
    assert "       - beta-3-1 [key]: partial (0.5)" in lines
    assert "       - alpha-3-2: not rated (0)" in lines
    assert "       - gamma-2-2: n/a" in lines
    assert "  1. cap-recall: Product recall in the last 3 years (product_recall_3y) = true → level capped at " \
           "2 Inspection (检验级)" in lines
    # one firing per stave level (issue 13): the stave fact carries its cells' decisions
    assert "  14. stave-level-2: Dimension alpha (alpha) meets L2, misses L3, misses L4, misses L5 → alpha stands " \
           "at 2 Inspection (检验级)" in lines
    assert "  16. stave-level-3: Dimension gamma (gamma) meets L2, meets L3, misses L4, misses L5 → gamma stands " \
           "at 3 Assurance (保证级)" in lines
    assert "  19. company-level: barrel level 2 → company level 2 Inspection (检验级)" in lines
    digest = json.loads(record_of(runner, assessment, model_dir))["digest"]
    assert f"Digest (sha256): {digest}" in lines


def test_the_text_reads_as_a_justification_in_chinese(runner, model_dir, assessment):
    result = run(runner, "trace", assessment, "--model", model_dir, "--lang", "zh")
    lines = result.output.splitlines()
    assert lines[0] == "qmgrade 审核追溯记录"
    assert "  9. cell-met: 维度alpha (alpha) L2 得分 1.00 ≥ 阈值 0.80，关键条款均达标 → 满足" in lines
    assert "       - alpha-2-1: 全部满足 (1)；证据：QM manual v3 §4.4; audit report 2026" in lines
    assert "  13. key-gate: 维度beta (beta) L3 得分 0.75 < 阈值 0.80，1 项关键条款低于关键最低分 0.80 → 未满足" in lines
    assert "  14. stave-level-2: 维度alpha (alpha) 满足第 2 级，未满足第 3 级，未满足第 4 级，未满足第 5 级 → alpha 等级为 " \
           "2 检验级（Inspection）" in lines
    assert "  19. company-level: 木桶等级 2 → 企业等级 2 检验级（Inspection）" in lines
    assert "等级: 2 检验级（Inspection）" in lines


def test_control_characters_from_the_input_are_escaped_in_the_text(runner, model_dir, model, tmp_path):
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2),
                            company={"id": "c-1", "name": "Evil\x1b[2J\u202eCo"},
                            evidence={"alpha-2-1": ["ref\x07\x1b]0;pwned\x07"]})
    text = record_of(runner, path, model_dir, "text")
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "Company: Evil\\x1b[2J\\u202eCo (c-1)" in text
    assert "evidence: ref\\x07\\x1b]0;pwned\\x07" in text


# -- verify ------------------------------------------------------------------------------
def write_record(tmp_path, text, name="trace.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_verify_accepts_an_honest_record_in_json_and_jsonl(runner, model_dir, assessment, tmp_path):
    for fmt in ("json", "jsonl"):
        out = tmp_path / f"trace.{fmt}"
        assert run(runner, "trace", assessment, "--model", model_dir, "--format", fmt, "--out", out).exit_code == 0
        result = run(runner, "trace", "verify", out, assessment, "--model", model_dir)
        digest = json.loads(record_of(runner, assessment, model_dir))["digest"]
        assert result.exit_code == 0, result.output
        assert result.output == (f"OK: {out} reproduces exactly: 19 firings, model tiny 0.1, digest {digest} "
                                 f"(record format 3: digest over RFC 8785 canonical JSON)\n")


def test_verify_accepts_a_record_of_a_reordered_but_equal_input(runner, model_dir, model, assessment, tmp_path):
    import yaml
    trace = write_record(tmp_path, record_of(runner, assessment, model_dir))
    data = yaml.safe_load(assessment.read_text(encoding="utf-8"))
    shuffled = {key: data[key] for key in reversed(list(data))}
    shuffled["ratings"] = {k: data["ratings"][k] for k in sorted(data["ratings"], reverse=True)}
    shuffled["company"] = {"name": data["company"]["name"], "id": data["company"]["id"]}
    other = tmp_path / "b.json"
    other.write_text(json.dumps(shuffled, ensure_ascii=False), encoding="utf-8")
    result = run(runner, "trace", "verify", trace, other, "--model", model_dir)
    assert result.exit_code == 0, result.output


def test_verify_names_a_single_altered_firing(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    record["firings"][11]["facts"][0]["criteria"][1]["rating"] = 0.5      # alpha-2-2: full -> partial
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {trace}:1:1: firing 12 (cell-met) differs at facts[0].criteria[1].rating: recorded 0.5, "
        f"reproduced 1.0; the record's digest does not match its content either: it was altered after it "
        f"was written\n")


def test_verify_names_an_altered_firing_even_when_the_digest_was_recomputed(runner, model_dir, assessment,
                                                                           tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    record["firings"][18]["conclusion"]["level"] = 3
    record["digest"] = audit.record_digest(record)
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: firing 19 (company-level) differs at conclusion.level: "
                             f"recorded 3, reproduced 2\n")


def test_verify_rejects_a_record_checked_against_changed_input(runner, model_dir, model, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    trace = write_record(tmp_path, record_json(record))
    text = assessment.read_text(encoding="utf-8")
    assessment.write_text(text.replace("beta-4-1: partial", "beta-4-1: largely"), encoding="utf-8")
    found = engine.read_assessment(str(assessment), model).sha256
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: the assessment is not the one recorded: input sha256 "
                             f"recorded {record['input_sha256'][:12]}…, found {found[:12]}…\n")


def test_verify_names_the_model_file_that_changed(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    trace = write_record(tmp_path, record_json(record))
    copy = build_model(tmp_path / "copy", keys=("beta-3-1",))
    rule = copy / "rules" / "barrel.yaml"
    rule.write_text(rule.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    old = next(f["sha256"] for f in record["model"]["files"] if f["path"] == "rules/barrel.yaml")
    new = hashlib.sha256(rule.read_bytes()).hexdigest()
    result = run(runner, "trace", "verify", trace, assessment, "--model", copy)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: model file rules/barrel.yaml differs: recorded sha256 "
                             f"{old[:12]}…, found {new[:12]}…\n")


def test_verify_an_untouched_copy_of_the_model_elsewhere_reproduces(runner, model_dir, assessment, tmp_path):
    trace = write_record(tmp_path, record_of(runner, assessment, model_dir))
    copy = build_model(tmp_path / "elsewhere", keys=("beta-3-1",))
    assert run(runner, "trace", "verify", trace, assessment, "--model", copy).exit_code == 0


def test_verify_names_another_model(runner, model_dir, assessment, tmp_path):
    trace = write_record(tmp_path, record_of(runner, assessment, model_dir))
    result = run(runner, "trace", "verify", trace, assessment)   # the shipped model
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:1:1: the record was made with model tiny 0.1, not "
                                    f"qmgrade-default ")
    assert result.output.endswith(" (pass that model with --model DIR)\n")


def test_verify_catches_an_altered_digest(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    real = record["digest"]
    record["digest"] = "0" * 64
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: the digest 000000000000… does not match the record's "
                             f"content ({real[:12]}…): the record was altered\n")


def test_verify_catches_a_removed_firing_and_an_altered_company(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    del record["firings"][-1]
    record["digest"] = audit.record_digest(record)
    trace = write_record(tmp_path, record_jsonl(record), "trace.jsonl")
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.output == (f"Error: {trace}:1:1: the record has 18 firings, the re-run 19: firing 19 "
                             f"(company-level) is missing from the record\n")
    record = json.loads(record_of(runner, assessment, model_dir))
    record["company"]["name"] = "另一家公司"
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: company.name differs: recorded \"另一家公司\", reproduced "
                             f"\"测试公司\"; the record's digest does not match its content either: it was "
                             f"altered after it was written\n")


@pytest.mark.parametrize("content, message", [
    ("level: 3\n", "{path}:1:1: not a qmgrade trace record: expected the JSON or JSONL record written by "
                   "`qmgrade trace FILE --format json` (or jsonl)"),
    ('{"firings": []}', "{path}:1:1: not a qmgrade trace record: 'assessed_on' is a required property (schema)"),
    ('{"input_sha256": "x"}\n{"digest": "y"}\n{"seq": 1}\n',
     "{path}:3:1: not a qmgrade trace record: the last line must be {{\"digest\": ...}}"),
    ('{"input_sha256": "x"', "{path}:1:21: malformed JSON: Expecting ',' delimiter"),
])
def test_verify_refuses_what_is_not_a_record(runner, model_dir, assessment, tmp_path, content, message):
    trace = write_record(tmp_path, content)
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "Error: " + message.format(path=trace)


def test_the_library_verifies_without_the_cli(model, assessment):
    loaded = engine.read_assessment(str(assessment), model)
    record = audit.make_record(model, loaded)
    assert audit.verify(record, loaded, model) is None
    altered = record.as_dict()
    altered["firings"][0]["rule"] = "cell-met"
    difference = audit.verify(altered, loaded, model)
    assert difference.part == "firing"
    assert difference.message.startswith("firing 1 (cap-recall) differs at rule: recorded \"cell-met\", "
                                          "reproduced \"cap-recall\"")


# -- the command line ----------------------------------------------------------------------
def test_trace_help_documents_both_forms(runner):
    result = run(runner, "trace", "--help")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "Usage: main trace [OPTIONS] FILE" or lines[0].endswith(" trace [OPTIONS] FILE")
    assert lines[1].endswith(" trace verify [OPTIONS] TRACE FILE")
    assert "--format [text|json|jsonl]" in result.output
    assert "verify  Check that FILE still reproduces the record TRACE exactly." in result.output
    verify = run(runner, "trace", "verify", "--help")
    assert verify.exit_code == 0 and "TRACE FILE" in verify.output.splitlines()[0]


def test_trace_usage_errors_exit_2(runner, assessment):
    assert run(runner, "trace").exit_code == 2
    assert run(runner, "trace", assessment, "--format", "html").exit_code == 2
    missing = run(runner, "trace", "--format", "json")
    assert missing.exit_code == 2 and "Missing argument 'FILE'" in missing.output
    assert run(runner, "trace", "verify", assessment).exit_code == 2


def test_trace_never_writes_over_its_input(runner, model_dir, assessment):
    before = assessment.read_bytes()
    result = run(runner, "trace", assessment, "--model", model_dir, "--out", assessment)
    assert result.exit_code == 1
    assert result.output == f"Error: {assessment}:1:1: refusing to write the output over an input file\n"
    assert assessment.read_bytes() == before


def test_trace_of_a_bad_assessment_is_an_error(runner, model_dir, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("ratings:\n  alpah-2-1: full\n", encoding="utf-8")
    result = run(runner, "trace", path, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}:2:3: unknown criterion 'alpah-2-1'; did you mean 'alpha-2-1'? "
                             f"(unknown-id)\n")


def test_verify_compares_as_json_so_a_changed_type_is_caught_even_with_a_new_digest(runner, model_dir, assessment,
                                                                                 tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    record["firings"][11]["facts"][0]["criteria"][0]["key"] = 0          # False == 0 in Python, not in JSON
    record["digest"] = audit.record_digest(record)
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: firing 12 (cell-met) differs at facts[0].criteria[0].key: "
                             f"recorded 0, reproduced false\n")


# -- a strict record format (issue 15) -------------------------------------------------------
def _rewritten(record, change):
    """``record`` changed by ``change``, its digest recomputed by the documented algorithm (a forger's)."""
    record = json.loads(json.dumps(record))
    change(record)
    record["digest"] = hashlib.sha256(rfc8785.dumps({k: v for k, v in record.items()
                                                     if k not in ("digest", "signature")})).hexdigest()
    return record


def _files(record):
    return record["model"]["files"]


@pytest.mark.parametrize("change, message", [
    (lambda r: r["model"].update(note="x"), "model: Additional properties are not allowed ('note' was unexpected)"),
    (lambda r: _files(r)[0].update(size=1), "model/files/0: Additional properties are not allowed ('size' was unexpected)"),
    (lambda r: r["model"].pop("files"), "model: 'files' is a required property"),
    (lambda r: r.update(comment="ok"), "Additional properties are not allowed ('comment' was unexpected)"),
    (lambda r: r["firings"][0].update(extra=1), "firings/0: Additional properties are not allowed ('extra' was unexpected)"),
    (lambda r: _files(r).append({"path": _files(r)[0]["path"], "sha256": "0" * 64}),
     "model file knowledge/actions.yaml is listed twice in model.files"),
    (lambda r: r.update(format="qmgrade-trace/9"), "format: 'qmgrade-trace/9' is not one of"),
])
def test_a_record_with_fields_the_format_does_not_define_is_refused(runner, model_dir, assessment, tmp_path,
                                                                     change, message):
    record = _rewritten(json.loads(record_of(runner, assessment, model_dir)), change)
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {trace}:")
    assert "not a qmgrade trace record: " + message in result.output


def test_model_files_are_checked_one_by_one_against_the_model(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    dropped = _files(record)[-1]["path"]
    record = _rewritten(record, lambda r: _files(r).pop())
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == f"Error: {trace}:1:1: model file {dropped} is in the model but not in the record\n"


def _format_1(record):
    """The record as qmgrade 0.1 wrote it: format 1, digest over Python's JSON text."""
    record = {**record, "format": "qmgrade-trace/1"}
    content = {k: v for k, v in record.items() if k != "digest"}
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    record["digest"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return record


def test_a_record_of_format_1_still_verifies_and_says_so(runner, model_dir, assessment, tmp_path):
    record = _format_1(json.loads(record_of(runner, assessment, model_dir)))
    trace = write_record(tmp_path, json.dumps(record, ensure_ascii=False, indent=2))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 0, result.output
    assert result.output == (f"OK: {trace} reproduces exactly: 19 firings, model tiny 0.1, digest "
                             f"{record['digest']} (record format 1: digest over Python JSON)\n")
    record["firings"][3]["conclusion"]["level"] = 4               # tampered, digest left as it was
    trace = write_record(tmp_path, json.dumps(record, ensure_ascii=False))
    assert run(runner, "trace", "verify", trace, assessment, "--model", model_dir).exit_code == 1


# -- docs/verify-trace.js: the digest recomputed in another language ------------------------------
NODE = shutil.which("node")
SCRIPT = str(audit.__file__).rsplit("/engine/", 1)[0] + "/docs/verify-trace.js"
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


def node(*args):
    return subprocess.run([NODE, SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=60)


@needs_node
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_the_script_in_docs_recomputes_the_digest(runner, model_dir, assessment, tmp_path, fmt):
    text = record_of(runner, assessment, model_dir, fmt)
    record = json.loads(record_of(runner, assessment, model_dir))
    trace = write_record(tmp_path, text, f"trace.{fmt}")
    result = node(trace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"digest OK {record['digest']}",
                                          f"model.sha256 OK {record['model']['sha256']} "
                                          f"({len(record['model']['files'])} files)"]
    changed = write_record(tmp_path, text.replace('"rank": 2', '"rank": 3', 1), f"changed.{fmt}")
    result = node(changed)
    assert result.returncode == 1
    assert result.stdout.startswith(f"digest MISMATCH: recorded {record['digest']}, computed ")


@needs_node
def test_the_script_canonicalises_as_rfc8785_does(tmp_path):
    document = {"b": [1.0, 0.1, 1e21, 1e-7, -0.0, 0.8333333333333334, 123456789012345, 5e-324, 1.7976931348623157e308],
                "a": {"é": "\u2028\u0000\"\\\t/\U0001f600", "\u00e9a": None, "\U0001f600": True, "z": False},
                "": ["", {}, []], "数据": "质量 \x1f"}
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    result = subprocess.run([NODE, SCRIPT, "--canonical", source], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == rfc8785.dumps(document)


def test_a_format_1_record_that_no_longer_reproduces_says_it_is_older(runner, model_dir, assessment, tmp_path):
    record = json.loads(record_of(runner, assessment, model_dir))
    record["firings"][18]["conclusion"]["level"] = 3              # as if older rules had concluded 3
    record = _format_1(record)
    trace = write_record(tmp_path, json.dumps(record, ensure_ascii=False))
    result = run(runner, "trace", "verify", trace, assessment, "--model", model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {trace}:1:1: firing 19 (company-level) differs at conclusion.level: recorded "
                             f"3, reproduced 2 (record format 1: digest over Python JSON: made by an earlier "
                             f"qmgrade, whose inference may have fired differently)\n")


def test_a_record_of_the_shipped_model_fits_the_strict_format_and_verifies(runner, tmp_path):
    from conftest import ROOT
    example = ROOT / "examples" / "level-3-assurance.yaml"
    trace = tmp_path / "trace.jsonl"
    made = run(runner, "trace", example, "--format", "jsonl", "--out", trace)
    assert made.exit_code == 0, made.output
    result = run(runner, "trace", "verify", trace, example)
    assert result.exit_code == 0, result.output
    assert "(record format 3: digest over RFC 8785 canonical JSON)" in result.output


def test_a_format_2_record_made_under_the_old_rules_says_so_plainly(runner, tmp_path):
    """A record of qmgrade-trace/2 names the rule files that climbed each stave (issue 13): verify says the
    record was made under the old rules instead of only "a model file is missing"."""
    from conftest import ROOT
    example = ROOT / "examples" / "level-3-assurance.yaml"
    record = json.loads(run(runner, "trace", example, "--format", "json").output)
    files = [f for f in record["model"]["files"] if not f["path"].startswith("rules/stave-level-")]
    files += [{"path": f"rules/{name}.yaml", "sha256": "0" * 64}
              for name in ("stave-climb", "stave-floor", "stave-level", "stave-top")]
    record["model"]["files"] = sorted(files, key=lambda f: f["path"])
    record["format"] = "qmgrade-trace/2"
    record["digest"] = audit.record_digest(record)
    trace = write_record(tmp_path, record_json(record))
    result = run(runner, "trace", "verify", trace, example)
    assert result.exit_code == 1
    assert "this record was made under the old rules (record format 2" in result.output
    assert "stave-floor, stave-climb, stave-level, stave-top" in result.output

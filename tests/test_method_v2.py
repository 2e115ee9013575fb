"""Model 2.0 method (issue 9): key minimum per level, na only where allowed, profiles, rating anchors,
and the model checks behind them — seen from the CLI, on small models written to tmp_path."""
from __future__ import annotations

import json

import yaml
from openpyxl import load_workbook

from conftest import build_model, run, t

ANCHORS = ("full", "largely", "partial", "none")
NA_OK = ("gamma-2-2", "gamma-3-2")     # the criteria a business may lack (na_allowed)


def build_v2(root, version="2.0.0", key_minimum_by_level=None, keys=("alpha-5-1", "alpha-3-1"),
             anchors=True, na_ok=NA_OK, profiles=True, supersedes=None, edit=None):
    """A tiny model in the 2.0 format: anchors on key and level 2-3 criteria, two na-able criteria,
    a build-to-print profile naming them; ``edit(criteria, model_doc)`` may change it further."""
    build_model(root, keys=keys)
    knowledge = root / "knowledge"
    header = yaml.safe_load((knowledge / "model.yaml").read_text(encoding="utf-8"))
    header["model"]["version"] = version
    if supersedes is not None:
        header["model"]["supersedes"] = supersedes
    header["method"]["key_minimum_by_level"] = key_minimum_by_level or {2: 0.8, 3: 0.8, 4: 0.8, 5: 1.0}
    criteria = yaml.safe_load((knowledge / "criteria.yaml").read_text(encoding="utf-8"))["criteria"]
    for criterion in criteria:
        if anchors and (criterion["key"] or criterion["level"] in (2, 3)):
            criterion["anchors"] = {r: t(f"{r}：{criterion['id']} 的样子", f"{r} for {criterion['id']} looks like this")
                                    for r in ANCHORS}
        if criterion["id"] in na_ok:
            criterion["na_allowed"] = True
    if edit:
        edit(criteria, header)
    (knowledge / "model.yaml").write_text(yaml.safe_dump(header, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    (knowledge / "criteria.yaml").write_text(yaml.safe_dump({"criteria": criteria}, allow_unicode=True,
                                                            sort_keys=False), encoding="utf-8")
    if profiles:
        (knowledge / "profiles.yaml").write_text(yaml.safe_dump({"profiles": [
            {"id": "build-to-print", "name": t("来图加工", "Build to print"),
             "description": t("按客户图纸加工，不做设计", "Makes parts to the customer's drawings, no design"),
             "not_applicable": list(na_ok)}]}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def criterion_ids(root):
    data = yaml.safe_load((root / "knowledge" / "criteria.yaml").read_text(encoding="utf-8"))
    return [c["id"] for c in data["criteria"]]


def write(path, ratings, company=None, **extra):
    document = {"company": company or {"id": "c-1", "name": "测试公司"}, "ratings": ratings, **extra}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def assess_json(runner, model_dir, path):
    result = run(runner, "assess", path, "--model", model_dir, "--format", "json", "--no-trace")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def line_of(path, needle):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


# -- key minimum per level ----------------------------------------------------------------------
def test_a_level_5_key_at_largely_fails_level_5_but_a_level_3_key_at_largely_passes(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    ratings = {cid: "full" for cid in criterion_ids(model_dir)}
    full = assess_json(runner, model_dir, write(tmp_path / "full.yaml", ratings))
    assert full["level"]["rank"] == 5

    ratings["alpha-5-1"] = "largely"      # a level-5 key: 卓越级 keys need full
    five = assess_json(runner, model_dir, write(tmp_path / "five.yaml", ratings))
    assert five["level"]["rank"] == 4
    assert five["next_level"]["minimal_fix"] == ["alpha-5-1"]
    why = run(runner, "explain", tmp_path / "five.yaml", "--model", model_dir, "--level", "5").stdout
    assert "alpha-5-1) is rated largely (0.8), below the key minimum 1.00" in why

    ratings["alpha-5-1"] = "full"
    ratings["alpha-3-1"] = "largely"      # a level-3 key: largely is enough there
    three = assess_json(runner, model_dir, write(tmp_path / "three.yaml", ratings))
    assert three["level"]["rank"] == 5


def test_without_key_minimum_by_level_every_level_uses_key_minimum(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m", key_minimum_by_level={3: 0.8})   # level 5 falls back to 0.8
    ratings = {cid: "full" for cid in criterion_ids(model_dir)}
    ratings["alpha-5-1"] = "largely"
    assert assess_json(runner, model_dir, write(tmp_path / "a.yaml", ratings))["level"]["rank"] == 5
    exported = json.loads(run(runner, "kb", "export", "--model", model_dir).stdout)
    assert exported["method"]["key_minimum"] == 0.8
    assert exported["method"]["key_minimum_by_level"] == {"2": 0.8, "3": 0.8, "4": 0.8, "5": 0.8}


def test_kb_export_lists_the_new_fields(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    result = run(runner, "kb", "export", "--model", model_dir)
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)
    assert exported["method"]["key_minimum_by_level"] == {"2": 0.8, "3": 0.8, "4": 0.8, "5": 1.0}
    by_id = {c["id"]: c for c in exported["criteria"]}
    assert all(c["na_allowed"] in (True, False) and c["red_flag"] is False for c in exported["criteria"])
    assert [cid for cid, c in by_id.items() if c["na_allowed"]] == list(NA_OK)
    assert by_id["alpha-2-1"]["anchors"]["partial"]["en"] == "partial for alpha-2-1 looks like this"
    assert "anchors" not in by_id["beta-4-1"]          # optional above level 3 (not key)
    assert exported["profiles"] == [{"id": "build-to-print", "name": {"zh": "来图加工", "en": "Build to print"},
                                     "not_applicable": list(NA_OK),
                                     "description": {"zh": "按客户图纸加工，不做设计",
                                                     "en": "Makes parts to the customer's drawings, no design"}}]


# -- na only where allowed ----------------------------------------------------------------------
def test_na_on_a_criterion_that_does_not_allow_it_is_refused_with_file_line_and_id(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    ratings = {cid: "full" for cid in criterion_ids(model_dir)}
    ratings["beta-3-2"] = "na"
    path = write(tmp_path / "a.yaml", ratings)
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    line = line_of(path, "beta-3-2:")
    assert result.stderr.startswith(f"Error: {path}:{line}:")
    assert "'beta-3-2' does not allow na" in result.stderr
    assert "Traceback" not in result.output


def test_na_is_accepted_where_the_model_allows_it(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    ratings = {cid: "full" for cid in criterion_ids(model_dir)}
    ratings["gamma-2-2"] = "不适用"
    graded = assess_json(runner, model_dir, write(tmp_path / "a.yaml", ratings))
    assert graded["level"]["rank"] == 5 and graded["not_rated"] == []


def test_a_1x_model_still_accepts_na_everywhere_and_only_warns_about_anchors(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m", version="1.0.0", anchors=False, na_ok=(), profiles=False)
    validated = run(runner, "kb", "validate", "--model", model_dir)
    assert validated.exit_code == 0, validated.output
    assert "has no rating anchors" in validated.stderr and "from model version 2 on" in validated.stderr
    ratings = {cid: "full" for cid in criterion_ids(model_dir)}
    ratings["beta-3-2"] = "na"
    assert assess_json(runner, model_dir, write(tmp_path / "a.yaml", ratings))["level"]["rank"] == 5


# -- profiles -----------------------------------------------------------------------------------
def test_a_profile_makes_its_criteria_na_and_every_report_says_so(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    ratings = {cid: "full" for cid in criterion_ids(model_dir) if cid not in NA_OK}
    bare = assess_json(runner, model_dir, write(tmp_path / "bare.yaml", ratings))
    assert bare["profile"] is None
    assert bare["not_rated"] == list(NA_OK) and bare["level"]["rank"] == 1

    company = {"id": "c-1", "name": "测试公司", "profile": "build-to-print"}
    path = write(tmp_path / "profiled.yaml", ratings, company=company)
    graded = assess_json(runner, model_dir, path)
    assert graded["level"]["rank"] == 5 and graded["not_rated"] == []
    assert graded["profile"]["id"] == "build-to-print"
    assert graded["profile"]["name"] == {"zh": "来图加工", "en": "Build to print"}
    assert graded["profile"]["not_applicable"] == list(NA_OK)
    text = run(runner, "assess", path, "--model", model_dir)
    assert "Profile: Build to print (build-to-print)" in text.stdout
    assert "企业类型: 来图加工" in run(runner, "assess", path, "--model", model_dir, "--lang", "zh").stdout
    markdown = run(runner, "assess", path, "--model", model_dir, "--format", "markdown").stdout
    assert "**Profile:** Build to print (`build-to-print`)" in markdown
    html = run(runner, "assess", path, "--model", model_dir, "--format", "html").stdout
    assert "Profile: Build to print (<code>build-to-print</code>)" in html


def test_an_explicit_rating_wins_over_the_profile(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    ratings = {cid: "full" for cid in criterion_ids(model_dir) if cid != "gamma-2-2"}
    ratings["gamma-3-2"] = "none"
    company = {"id": "c-1", "profile": "build-to-print"}
    graded = assess_json(runner, model_dir, write(tmp_path / "a.yaml", ratings, company=company))
    assert graded["profile"]["not_applicable"] == ["gamma-2-2"]
    assert graded["dimensions"][2]["scores"]["3"] == 0.5      # gamma L3: full and none, not na
    assert graded["level"]["rank"] == 2


def test_an_unknown_profile_is_an_error_with_a_suggestion(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    path = write(tmp_path / "a.yaml", {"alpha-2-1": "full"}, company={"id": "c-1", "profile": "build-to-prnt"})
    result = run(runner, "assess", path, "--model", model_dir)
    assert result.exit_code == 1
    assert f"{path}:{line_of(path, 'profile:')}:" in result.stderr
    assert "unknown profile 'build-to-prnt'; did you mean 'build-to-print'?" in result.stderr


def test_a_profile_in_the_xlsx_questionnaire_is_applied(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    book_path = tmp_path / "q.xlsx"
    assert run(runner, "template", "--model", model_dir, "--out", book_path).exit_code == 0
    book = load_workbook(book_path)
    sheet = book["questionnaire"]
    header = [c.value for c in sheet[1]]
    rating = header.index("rating") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value not in NA_OK:
            sheet.cell(row=row, column=rating).value = "full"
    company = book["company"]
    for row in range(1, company.max_row + 1):
        if company.cell(row=row, column=1).value == "profile":
            company.cell(row=row, column=2).value = "build-to-print"
    book.save(book_path)
    graded = assess_json(runner, model_dir, book_path)
    assert graded["level"]["rank"] == 5 and graded["profile"]["id"] == "build-to-print"


# -- rating anchors -----------------------------------------------------------------------------
def test_the_yaml_template_and_the_xlsx_show_the_anchors(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    yaml_text = run(runner, "template", "--model", model_dir, "--format", "yaml").stdout
    block = yaml_text.split("# alpha-2-1:")[0].rsplit("# Criterion alpha-2-1", 1)[1]
    assert "#     partial: partial for alpha-2-1 looks like this" in block
    assert "  # Criterion gamma-2-2 (na allowed)\n" in yaml_text
    assert "  # Criterion gamma-2-1\n" in yaml_text
    zh = run(runner, "template", "--model", model_dir, "--format", "yaml", "--lang", "zh").stdout
    assert "#     部分满足: partial：alpha-2-1 的样子" in zh
    book_path = tmp_path / "q.xlsx"
    run(runner, "template", "--model", model_dir, "--out", book_path)
    sheet = load_workbook(book_path)["questionnaire"]
    header = [c.value for c in sheet[1]]
    anchors_at = header.index("guidance_en") + 1   # after the evidence guidance, before the model's bookkeeping
    assert header[anchors_at:anchors_at + 4] == ["anchor_full", "anchor_largely", "anchor_partial", "anchor_none"]
    first = [c.value for c in sheet[2]]
    assert first[0] == "alpha-2-1" and first[header.index("anchor_none")] == "none for alpha-2-1 looks like this"


def test_kb_show_prints_the_anchors_of_a_criterion_and_of_a_stave(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    one = run(runner, "kb", "show", "--model", model_dir, "--criterion", "alpha-3-1")
    assert one.exit_code == 0, one.output
    assert "key" in one.stdout.splitlines()[1]
    for rating in ANCHORS:
        assert f"    {rating}: {rating} for alpha-3-1 looks like this" in one.stdout
    stave = run(runner, "kb", "show", "--model", model_dir, "--dimension", "alpha").stdout
    assert "key_minimum 0.8 (L5 1.0)" in stave.splitlines()[1]
    assert "largely for alpha-2-2 looks like this" in stave
    wrong = run(runner, "kb", "show", "--model", model_dir, "--criterion", "alpha-3-9")
    assert wrong.exit_code == 2 and "did you mean" in wrong.stderr


# -- model checks -------------------------------------------------------------------------------
def test_kb_validate_refuses_what_the_2_0_method_forbids(runner, tmp_path):
    def break_it(criteria, header):
        by_id = {c["id"]: c for c in criteria}
        del by_id["beta-2-1"]["anchors"]           # a level-2 criterion without anchors
        by_id["alpha-3-1"]["na_allowed"] = True    # a key criterion that allows na
        header["model"]["supersedes"] = {"version": "1.0.0", "criteria": {"beta-2-old": "beta-2-nine"}}

    model_dir = build_v2(tmp_path / "m", na_ok=("gamma-2-2",), edit=break_it)
    profiles = model_dir / "knowledge" / "profiles.yaml"
    profiles.write_text(profiles.read_text(encoding="utf-8").replace("- gamma-2-2", "- gamma-2-2\n  - gamma-3-2"),
                        encoding="utf-8")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert any("'beta-2-1' has no rating anchors" in e and "(missing-anchors)" in e for e in errors)
    assert any("'alpha-3-1' is a key criterion: it cannot allow na" in e for e in errors)
    assert any("profiles.yaml:" in e and "'gamma-3-2', which does not allow na" in e for e in errors)
    assert any("model.yaml:" in e and "unknown criterion 'beta-2-nine'" in e for e in errors)
    assert all(e.split(":")[2].isdigit() and e.split(":")[3].isdigit() for e in errors)   # path:line:col


def test_thin_cells_without_a_key_are_a_warning_not_an_error(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: tiny 2.0.0")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    thin = [w for w in warnings if "(thin-cell)" in w]
    # 3 staves x 4 levels of 2 criteria; alpha L3 and alpha L5 name a key criterion
    assert len(thin) == 10
    assert not any("cell alpha level 3 " in w or "cell alpha level 5 " in w for w in thin)


def test_the_calibration_corpus_is_not_read_as_model_files(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    corpus = model_dir / "knowledge" / "calibration"
    corpus.mkdir()
    (corpus / "01-shop.yaml").write_text("id: cal-01\nkind: job-shop\nnarrative: {en: a small shop}\n",
                                         encoding="utf-8")
    result = run(runner, "kb", "validate", "--model", model_dir)
    assert result.exit_code == 0, result.output


def test_whatif_refuses_na_where_the_model_does_not_allow_it(runner, tmp_path):
    model_dir = build_v2(tmp_path / "m")
    path = write(tmp_path / "a.yaml", {cid: "full" for cid in criterion_ids(model_dir)})
    refused = run(runner, "whatif", path, "--model", model_dir, "--set", "beta-2-1=na")
    # an option value the model refuses is a usage error (issue 10: option errors exit 2, without a position)
    assert refused.exit_code == 2 and "'beta-2-1' does not allow na" in refused.stderr
    allowed = run(runner, "whatif", path, "--model", model_dir, "--set", "gamma-2-2=na", "--format", "json")
    assert allowed.exit_code == 0, allowed.output

"""`qmgrade serve` through Flask's test client: the company journey, the JSON API (equal to the
CLI's --format json for the same input), the bureau's pages, accounts, CSRF and upload limits.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli import main
from engine.web import UploadLimits, create_app
from engine.web.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "level-3-assurance.yaml"


@pytest.fixture
def model():
    return engine.load_model()      # cached by file content; loaded per test, as the CLI loads it


def _document(model, rank: int, company_id: str = "acme-001", low: str = "none") -> dict:
    """Every criterion of levels <= rank rated full, the rest ``low`` (na where the model allows none)."""
    ratings = {cid: ("full" if c.level <= rank else low) for cid, c in model.criteria.items()}
    return {"company": {"id": company_id, "name": f"公司 {company_id}", "industry": "C34", "region": "浙江"},
            "assessed_on": "2026-11-01", "ratings": ratings}


def _token(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def _level(page: bytes, element: str = "company-level") -> int:
    return int(re.search(rf'id="{element}" data-rank="(\d)"'.encode(), page).group(1))


def _cli_json(tmp_path, model_args, *args, document=None):
    path = tmp_path / "input.json"
    if document is not None:
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, [str(a) for a in args] + ([str(path)] if document is not None else [])
                                + ["--format", "json"] + model_args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def local(tmp_path, model):
    """The consultant's laptop: no accounts, no login."""
    app = create_app(model, str(tmp_path / "web.sqlite"))
    client = app.test_client()
    client.token = _token(client.get("/").data)
    return client


def _start(client, company_id="acme-001", name="Acme 机械"):
    response = client.post("/new", data={"csrf_token": client.token, "id": company_id, "name": name,
                                         "assessed_on": "2026-11-01"})
    assert response.status_code == 302, response.data[-500:]
    return response.headers["Location"].split("/")[2]


def _fill(client, model, ident, rank: int):
    """Fill every stave through the questionnaire pages: levels <= rank full, the rest none."""
    for dim in model.dimension_ids:
        data = {"csrf_token": client.token, "go": "next"}
        for cid, c in model.criteria.items():
            if c.dimension == dim:
                data[f"rating-{cid}"] = "full" if c.level <= rank else "none"
        response = client.post(f"/a/{ident}/stave/{dim}", data=data)
        assert response.status_code == 302, response.data[-800:]


# -- the company's journey -------------------------------------------------------------------------
def test_company_fills_the_questionnaire_and_sees_its_level(local, model):
    ident = _start(local)
    page = local.get(f"/a/{ident}/stave/{model.dimension_ids[0]}").data.decode()
    first = next(c for c in model.criteria.values() if c.dimension == model.dimension_ids[0] and c.anchors)
    assert first.text["zh"] in page and first.anchors["full"]["zh"] in page and first.evidence["zh"] in page
    assert f'<label for="r-{first.id}-full">' in page        # every control has its label
    _fill(local, model, ident, 3)
    result = local.get(f"/a/{ident}")
    assert result.status_code == 200
    assert _level(result.data) == 3
    assert "暂定结果" not in result.data.decode()            # everything rated: not provisional


def test_draft_is_kept_stave_by_stave_and_reloads(local, model):
    ident = _start(local)
    dim = model.dimension_ids[1]
    criterion = next(c for c in model.criteria.values() if c.dimension == dim)
    response = local.post(f"/a/{ident}/stave/{dim}", data={
        "csrf_token": local.token, "go": "save", f"rating-{criterion.id}": "partial",
        f"evidence-{criterion.id}": "QM-manual v3 §4.4\nAudit 2026-10"})
    assert response.status_code == 302 and "saved=1" in response.headers["Location"]
    page = local.get(f"/a/{ident}/stave/{dim}").data.decode()
    assert f'id="r-{criterion.id}-partial" name="rating-{criterion.id}" value="partial" checked' in page
    assert "QM-manual v3 §4.4\nAudit 2026-10" in page
    stored = json.loads(local.get(f"/api/assessments/{ident}").data)
    assert stored["ratings"] == {criterion.id: "partial"}
    assert stored["evidence"] == {criterion.id: ["QM-manual v3 §4.4", "Audit 2026-10"]}


def test_a_bad_rating_is_refused_with_its_place_and_not_saved(local, model):
    ident = _start(local)
    dim = model.dimension_ids[0]
    criterion = next(c for c in model.criteria.values() if c.dimension == dim)
    response = local.post(f"/a/{ident}/stave/{dim}", data={"csrf_token": local.token, "go": "save",
                                                           f"rating-{criterion.id}": "mostly"})
    assert response.status_code == 400
    assert "Error: stave " in response.data.decode() and criterion.id in response.data.decode()
    assert json.loads(local.get(f"/api/assessments/{ident}").data)["ratings"] == {}


def test_few_ratings_give_a_provisional_result(local, model):
    ident = _start(local)
    page = local.get(f"/a/{ident}").data.decode()
    assert 'id="provisional"' in page and _level(page.encode()) == 1


def test_whatif_in_place_moves_the_level_and_the_roadmap_without_saving(local, model):
    ident = _start(local)
    _fill(local, model, ident, 3)
    before = local.get(f"/a/{ident}")
    # one level-2 criterion of the first stave dropped to none: the company falls below 3
    drop = next(c for c in model.criteria.values() if c.level == 2 and c.key)
    page = local.get(f"/a/{ident}?set_criterion={drop.id}&set_rating=none")
    assert _level(page.data) == 3                           # the stored result is unchanged
    after = _level(page.data, "whatif-level")
    assert after < 3
    assert "变更后的路线图" in page.data.decode()
    assert local.get(f"/a/{ident}").data == before.data      # nothing was saved


def test_downloads_are_the_cli_reports(local, model, tmp_path):
    ident = _start(local)
    _fill(local, model, ident, 2)
    document = json.loads(local.get(f"/api/assessments/{ident}").data)
    path = tmp_path / "same.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    for kind, args in (("result.json", ["assess"]), ("roadmap.json", ["roadmap"]), ("trace.json", ["trace"])):
        response = local.get(f"/a/{ident}/download/{kind}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        cli = CliRunner().invoke(main, [*args, str(path), "--format", "json"])
        assert response.data.decode() == cli.output, kind           # the very bytes the CLI prints
    record = tmp_path / "trace.json"
    record.write_bytes(local.get(f"/a/{ident}/download/trace.json").data)
    verified = CliRunner().invoke(main, ["trace", "verify", str(record), str(path)])
    assert verified.exit_code == 0 and verified.output.startswith("OK:"), verified.output
    html = local.get(f"/a/{ident}/download/report.html?lang=en")
    cli = CliRunner().invoke(main, ["assess", str(path), "--format", "html", "--lang", "en"])
    assert html.data.decode() == cli.output
    yaml_back = local.get(f"/a/{ident}/download/questionnaire.yaml").data.decode()
    assert "acme-001" in yaml_back
    assert local.get(f"/a/{ident}/download/template.xlsx").data[:2] == b"PK"


def test_upload_a_questionnaire_instead(local, model):
    content = EXAMPLE.read_bytes()
    response = local.post("/new", data={"csrf_token": local.token,
                                        "questionnaire": (io.BytesIO(content), "level-3.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 302
    ident = response.headers["Location"].split("/")[2]
    graded = engine.grade(model, engine.read_assessment(str(EXAMPLE), model)).as_dict()
    assert _level(local.get(f"/a/{ident}").data) == graded["level"]["rank"]


def test_upload_a_filled_xlsx_questionnaire_formulas_are_not_run(local, model):
    from openpyxl import load_workbook
    template = local.get("/a/none/download/template.xlsx")          # no such assessment: no template
    assert template.status_code == 404
    ident = _start(local)
    book = load_workbook(io.BytesIO(local.get(f"/a/{ident}/download/template.xlsx").data))
    sheet, company = book["questionnaire"], book["company"]
    from engine.spreadsheet import questionnaire_columns
    header = questionnaire_columns(cell.value for cell in sheet[1])   # the headers are Chinese in zh (issue 10)
    header = [name for name, _ in sorted(header.items(), key=lambda item: item[1])]
    rating, criterion = header.index("rating") + 1, header.index("criterion") + 1
    rows = list(range(2, sheet.max_row + 1))
    for row in rows:
        level = sheet.cell(row, header.index("level") + 1).value
        sheet.cell(row, rating).value = "full" if level <= 2 else "none"
    formula_row = next(r for r in rows if sheet.cell(r, header.index("level") + 1).value == 2)
    sheet.cell(formula_row, rating).value = '=HYPERLINK("http://evil.example","full")'
    for row in company.iter_rows(min_row=2):
        if row[0].value == "id":
            row[1].value = "xlsx-001"
    packed = io.BytesIO()
    book.save(packed)
    response = local.post("/new", data={"csrf_token": local.token,
                                        "questionnaire": (io.BytesIO(packed.getvalue()), "filled.xlsx")},
                          content_type="multipart/form-data")
    assert response.status_code == 302, response.data[-600:]
    new = response.headers["Location"].split("/")[2]
    stored = json.loads(local.get(f"/api/assessments/{new}").data)
    assert stored["company"]["id"] == "xlsx-001"
    formula_criterion = sheet.cell(formula_row, criterion).value
    assert formula_criterion not in stored["ratings"]                # read as a value, never evaluated
    assert all("=" not in str(value) for value in stored["ratings"].values())
    assert _level(local.get(f"/a/{new}").data) == 1                  # one level-2 criterion left unrated


def test_a_bad_upload_names_the_file_and_line(local):
    response = local.post("/new", data={"csrf_token": local.token,
                                        "questionnaire": (io.BytesIO(b"company: {id: x}\nratings:\n  nope: full\n"),
                                                          "mine.yaml")},
                          content_type="multipart/form-data")
    assert response.status_code == 400
    assert re.search(r"Error: mine\.yaml:3:\d+: unknown criterion", response.data.decode())


def test_user_text_is_escaped(local, model):
    ident = _start(local, name='<script>alert("x")</script>')
    page = local.get(f"/a/{ident}").data.decode()
    assert '<script>alert("x")</script>' not in page and "&lt;script&gt;" in page
    listing = local.get("/").data.decode()
    assert '<script>alert("x")</script>' not in listing


def test_pages_switch_between_chinese_and_english(local):
    assert "开始新的评估" in local.get("/?lang=zh").data.decode()
    assert "Start an assessment" in local.get("/?lang=en").data.decode()
    assert "Start an assessment" in local.get("/").data.decode()       # the choice is remembered


# -- CSRF and limits ---------------------------------------------------------------------------------
def test_every_form_needs_the_csrf_token(local, model):
    response = local.post("/new", data={"id": "acme-001"})
    assert response.status_code == 400 and "CSRF" in response.data.decode()
    response = local.post("/new", data={"id": "acme-001", "csrf_token": "forged"})
    assert response.status_code == 400


def test_without_accounts_only_loopback_names_are_answered(local):
    assert local.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    response = local.get("/api/kb", headers={"Host": "evil.example:8000"})
    assert response.status_code == 400 and "127.0.0.1" in json.loads(response.data)["error"]


def test_concurrent_requests_are_graded_as_one_at_a_time(local, model):
    import threading
    documents = [_document(model, rank, f"par-{rank}", low=low) for rank in (1, 2, 3, 4)
                 for low in ("none", "partial")]
    expected = [json.loads(local.post("/api/roadmap", json=d).data) for d in documents]
    app = local.application
    answers = [None] * len(documents)

    def ask(i):
        answers[i] = json.loads(app.test_client().post("/api/roadmap", json=documents[i]).data)
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(documents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == expected
    assert len({json.dumps(a["from"]) for a in answers}) > 1      # different companies, different answers


def test_the_store_keeps_every_draft_under_concurrent_writers(local, model):
    import threading
    dim = model.dimension_ids[0]
    criteria = [c.id for c in model.criteria.values() if c.dimension == dim][:5]
    idents = [_start(local, f"w-{i}") for i in range(6)]
    app = local.application
    statuses = []

    def write(ident):
        client = app.test_client()
        token = _token(client.get("/").data)
        for n, criterion in enumerate(criteria, 1):
            data = {"csrf_token": token, "go": "save"}
            data.update({f"rating-{c}": "full" for c in criteria[:n]})
            statuses.append(client.post(f"/a/{ident}/stave/{dim}", data=data).status_code)
    threads = [threading.Thread(target=write, args=(ident,)) for ident in idents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * (len(idents) * len(criteria))
    for ident in idents:
        assert json.loads(local.get(f"/api/assessments/{ident}").data)["ratings"] == {c: "full" for c in criteria}


def test_the_api_takes_json_only(local, model):
    response = local.post("/api/assess", data=json.dumps(_document(model, 2)),
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_uploads_are_limited(tmp_path, model):
    app = create_app(model, str(tmp_path / "web.sqlite"), limits=UploadLimits(request_bytes=10_000))
    client = app.test_client()
    token = _token(client.get("/").data)
    big = io.BytesIO(b"x" * 20_000)
    response = client.post("/new", data={"csrf_token": token, "questionnaire": (big, "big.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "larger than" in response.data.decode()


def test_a_form_with_too_many_parts_is_refused(local, model):
    most = max(len([c for c in model.criteria.values() if c.dimension == d]) for d in model.dimension_ids)
    files = {f"extra-{i}": (io.BytesIO(b"x"), f"{i}.yaml") for i in range(2 * most + 20)}
    response = local.post("/new", data={"csrf_token": local.token, **files}, content_type="multipart/form-data")
    assert response.status_code == 413 and "too many files" in response.data.decode()


def test_a_zip_with_too_many_files_is_refused(tmp_path, model):
    app = create_app(model, str(tmp_path / "web.sqlite"), limits=UploadLimits(zip_members=3))
    client = app.test_client()
    token = _token(client.get("/bureau/batch").data)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for i in range(4):
            archive.writestr(f"{i}.yaml", "company: {id: x}\nratings: {}\n")
    response = client.post("/bureau/batch", data={"csrf_token": token, "batch": (io.BytesIO(packed.getvalue()),
                                                                                  "many.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "more than 3 files" in response.data.decode()


def test_session_cookies_are_httponly_samesite_and_secure_when_asked(tmp_path, model):
    Store(str(tmp_path / "web.sqlite")).add_user("bureau", "bureau-secret", "bureau", None)
    app = create_app(model, str(tmp_path / "web.sqlite"), secure_cookies=True)
    client = app.test_client()
    token = _token(client.get("/login").data)
    response = client.post("/login", data={"csrf_token": token, "username": "bureau", "password": "bureau-secret"},
                           base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_zip_bomb_is_refused(tmp_path, model):
    app = create_app(model, str(tmp_path / "web.sqlite"), limits=UploadLimits(zip_bytes=1_000_000))
    client = app.test_client()
    token = _token(client.get("/bureau/batch").data)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.yaml", b"#" * 5_000_000)
    response = client.post("/bureau/batch", data={"csrf_token": token, "batch": (io.BytesIO(packed.getvalue()),
                                                                                  "bomb.zip")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "expands to more than" in response.data.decode()


# -- the API equals the CLI ------------------------------------------------------------------------
def test_api_responses_equal_the_cli_json(local, model, tmp_path):
    document = _document(model, 3, low="partial")
    key = next(c for c in model.criteria.values() if c.level == 4)
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    def cli(*args):
        result = CliRunner().invoke(main, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    assert json.loads(local.post("/api/assess", json=document).data) == cli("assess", str(path))
    assert json.loads(local.post("/api/assess?trace=false", json=document).data) == \
        cli("assess", str(path), "--no-trace")
    assert json.loads(local.post("/api/explain?level=4", json=document).data) == \
        cli("explain", str(path), "--level", "4")
    assert json.loads(local.post("/api/roadmap?target=5", json=document).data) == \
        cli("roadmap", str(path), "--target", "5")
    assert json.loads(local.post("/api/whatif", json={"assessment": document, "set": [f"{key.id}=full"]}).data) == \
        cli("whatif", str(path), "--set", f"{key.id}=full")
    record = json.loads(local.post("/api/trace", json=document).data)
    assert record == cli("trace", str(path))
    assert json.loads(local.get("/api/kb").data) == cli("kb", "export")
    verified = json.loads(local.post("/api/trace/verify", json={"record": record, "assessment": document}).data)
    assert verified == {"ok": True, "difference": None}
    changed = {**document, "ratings": {**document["ratings"], key.id: "none"}}
    verified = json.loads(local.post("/api/trace/verify", json={"record": record, "assessment": changed}).data)
    assert verified["ok"] is False and verified["difference"]


def test_api_batch_and_stats_equal_the_cli(local, model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)       # the CLI is given batch.jsonl, as the API names its body
    lines = [json.dumps(_document(model, rank, f"c-{rank}"), ensure_ascii=False) for rank in (1, 2, 3)]
    lines.append(json.dumps({"company": {"id": "bad"}, "ratings": {"no-such-criterion": "full"}}))
    jsonl = tmp_path / "batch.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    response = local.post("/api/batch", data="\n".join(lines) + "\n", content_type="application/x-ndjson")
    cli = CliRunner().invoke(main, ["batch", "batch.jsonl", "--jobs", "1"])
    assert response.status_code == 200
    assert [json.loads(x) for x in response.data.decode().splitlines()] == \
           [json.loads(x) for x in cli.output.splitlines() if x.startswith("{")]
    results = tmp_path / "results.jsonl"
    results.write_text(response.data.decode(), encoding="utf-8")
    stats = local.post("/api/stats", data=response.data, content_type="application/x-ndjson")
    assert json.loads(stats.data) == json.loads(CliRunner().invoke(main, ["stats", str(results), "--format",
                                                                          "json"]).output)


def test_api_errors_are_the_cli_errors(local):
    response = local.post("/api/assess", json={"company": {"id": "x"}, "ratings": {"nope": "full"}})
    assert response.status_code == 400
    body = json.loads(response.data)
    assert body["error"].startswith("request:") and "unknown criterion 'nope'" in body["error"]
    assert json.loads(local.post("/api/explain?level=9", json={"company": {"id": "x"}, "ratings": {}}).data)["error"]


def test_openapi_describes_every_api_path(local):
    spec = json.loads(local.get("/api/openapi.json").data)
    assert spec["openapi"].startswith("3.")
    for path in ("/api/assess", "/api/explain", "/api/roadmap", "/api/whatif", "/api/trace", "/api/trace/verify",
                 "/api/batch", "/api/stats", "/api/kb"):
        assert path in spec["paths"]


# -- the bureau ------------------------------------------------------------------------------------
def _wait_batch(client, ident, timeout=60):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = client.get(f"/bureau/batch/{ident}").data.decode()
        if 'data-status="running"' not in page:
            return page
        time.sleep(0.1)
    raise AssertionError("the batch did not finish")


def test_bureau_uploads_a_batch_and_reads_stats_and_history(local, model, tmp_path):
    lines = [json.dumps(_document(model, rank, f"c-{rank}"), ensure_ascii=False) for rank in (2, 3)]
    lines.append('{"company": {"id": "broken"}, "ratings": {"nope": "full"}}')
    token = _token(local.get("/bureau/batch").data)
    response = local.post("/bureau/batch", data={"csrf_token": token, "batch": (
        io.BytesIO(("\n".join(lines) + "\n").encode()), "round-1.jsonl")}, content_type="multipart/form-data")
    assert response.status_code == 302
    ident = response.headers["Location"].rsplit("/", 1)[1]
    page = _wait_batch(local, ident)
    assert 'id="batch-records">3<' in page and 'id="batch-failed">1<' in page
    assert "round-1.jsonl:3" in page and "nope" in page            # the per-record error list
    stats = json.loads(local.post("/api/stats", json={}).data)      # over the history: the two graded
    assert stats == json.loads(local.post("/api/stats", data="\n".join(
        json.dumps(engine.grade(model, engine.assessment_from_data(json.loads(x), "-", model)).as_dict())
        for x in lines[:2]), content_type="application/x-ndjson").data)
    assert local.get(f"/bureau/stats?batch={ident}&view=1").status_code == 200
    history = local.get("/history").data.decode()
    assert "c-2" in history and "c-3" in history
    assert local.get("/history/c-3").status_code == 200
    # the same store is the CLI's history
    cli = CliRunner().invoke(main, ["history", "c-3", "--db", str(tmp_path / "web.sqlite"), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output)["rounds"][0]["level"]["rank"] == 3


def test_a_zip_of_questionnaires_is_a_batch(local, model):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("a.json", json.dumps(_document(model, 2, "z-1")))
        archive.writestr("sub/b.yaml", EXAMPLE.read_text(encoding="utf-8"))
    token = _token(local.get("/bureau/batch").data)
    response = local.post("/bureau/batch", data={"csrf_token": token, "batch": (io.BytesIO(packed.getvalue()),
                                                                                  "season.zip")},
                          content_type="multipart/form-data")
    page = _wait_batch(local, response.headers["Location"].rsplit("/", 1)[1])
    assert 'id="batch-records">2<' in page and 'id="batch-failed">0<' in page


# -- accounts and roles ----------------------------------------------------------------------------
@pytest.fixture
def accounts(tmp_path, model):
    db = str(tmp_path / "web.sqlite")
    store = Store(db)
    store.add_user("bureau", "bureau-secret", "bureau", None)
    store.add_user("alice", "alice-secret", "company", "acme-001")
    store.add_user("bob", "bob-secret-1", "company", "bolt-002")
    app = create_app(model, db)

    def client_for(name, password):
        client = app.test_client()
        token = _token(client.get("/login").data)
        response = client.post("/login", data={"csrf_token": token, "username": name, "password": password})
        assert response.status_code == 302, response.data[-300:]
        client.token = _token(client.get("/").data)
        return client
    return client_for, app


def test_login_is_required_when_there_are_accounts(accounts):
    _, app = accounts
    client = app.test_client()
    assert client.get("/").status_code == 302
    assert client.get("/api/assessments").status_code == 401
    token = _token(client.get("/login").data)
    assert client.post("/login", data={"csrf_token": token, "username": "alice", "password": "wrong"}).status_code \
        == 401


def test_a_company_user_cannot_reach_another_companys_assessments(accounts, model):
    client_for, _ = accounts
    alice, bob = client_for("alice", "alice-secret"), client_for("bob", "bob-secret-1")
    ident = _start(alice, "acme-001")
    _fill(alice, model, ident, 2)
    # Bob cannot read, change or list Alice's assessment: pages and API
    for url in (f"/a/{ident}", f"/a/{ident}/stave/{model.dimension_ids[0]}", f"/a/{ident}/download/report.html",
                f"/a/{ident}/download/result.json", f"/api/assessments/{ident}", f"/api/assessments/{ident}/assess",
                "/history/acme-001", "/api/history/acme-001"):
        assert bob.get(url).status_code == 404, url
    assert bob.post(f"/a/{ident}/stave/{model.dimension_ids[0]}",
                    data={"csrf_token": bob.token, "go": "save"}).status_code == 404
    assert bob.post(f"/a/{ident}/submit", data={"csrf_token": bob.token}).status_code == 404
    assert bob.put(f"/api/assessments/{ident}", json=_document(model, 5)).status_code == 404
    assert json.loads(bob.get("/api/assessments").data) == []
    assert ident not in bob.get("/").data.decode()
    # nor grade in its name, nor reach the bureau's pages
    assert bob.post("/api/assess", json=_document(model, 2, "acme-001")).status_code == 403
    assert bob.get("/bureau/batch").status_code == 403
    assert bob.post("/api/stats", json={}).status_code == 403
    # a company user's new assessment is its own company's, whatever the form says
    own = bob.post("/new", data={"csrf_token": bob.token, "id": "acme-001"})
    assert json.loads(bob.get(f"/api/assessments/{own.headers['Location'].split('/')[2]}").data)["company"]["id"] \
        == "bolt-002"
    # Alice still sees hers, unchanged; the bureau sees both
    assert _level(alice.get(f"/a/{ident}").data) == 2
    assert [a["id"] for a in json.loads(alice.get("/api/assessments").data)] == [ident]
    bureau = client_for("bureau", "bureau-secret")
    assert len(json.loads(bureau.get("/api/assessments").data)) == 2


def test_users_add_and_serve_refuses_other_hosts_without_accounts(tmp_path):
    db = tmp_path / "web.sqlite"
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--db", str(db)])
    assert result.exit_code == 2 and "refusing to listen on 0.0.0.0 without accounts" in result.output
    result = CliRunner().invoke(main, ["users", "add", "carol", "--role", "company", "--db", str(db)])
    assert result.exit_code == 2 and "--company" in result.output
    result = CliRunner().invoke(main, ["users", "add", "carol", "--role", "company", "--company", "c-9",
                                       "--db", str(db), "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    result = CliRunner().invoke(main, ["users", "add", "carol", "--role", "company", "--company", "c-9",
                                       "--db", str(db), "--password-stdin"], input="carol-secret\n")
    assert result.exit_code == 0, result.output
    user = Store(str(db)).user("carol")
    assert user["role"] == "company" and user["company_id"] == "c-9"
    assert user["password"].startswith("scrypt$") and "carol-secret" not in user["password"]


def test_qmgrade_serve_starts_and_answers_on_loopback(tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", "import sys; from cli import main; sys.exit(main())", "serve",
                               "--port", str(port), "--db", str(tmp_path / "serve.sqlite")],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, page = time.monotonic() + 60, None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?lang=en", timeout=5) as response:
                    page = response.read().decode()
            except OSError:
                assert server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert page is not None and "Start an assessment" in page
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert f"on http://127.0.0.1:{port}/" in err and "no login" in err


def test_a_running_batch_steps_aside_for_requests(tmp_path):
    """A request made while a batch grades is answered before the batch ends (between its records)."""
    import threading
    import time
    from conftest import build_model
    from engine.batch import CHUNK
    from engine.web import service
    small = engine.load_model(build_model(tmp_path / "model"))
    rows = [json.dumps({"company": {"id": f"s-{i}"}, "ratings": {cid: ("full" if (i + n) % 3 else "partial")
                                                                 for n, cid in enumerate(small.criteria)}})
            for i in range(CHUNK * 3)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    started, finished, lines = threading.Event(), threading.Event(), []

    def run():
        service.batch_file(small, str(path), on_line=lines.append, on_total=lambda units: started.set())
        finished.set()
    batch = threading.Thread(target=run)
    batch.start()
    started.wait(30)
    time.sleep(0.05)
    document = json.loads(rows[0])
    answer = service.assess(small, service.assessment_of(small, document))
    answered_during_batch = not finished.is_set()
    batch.join(120)
    assert answered_during_batch
    assert len(lines) == CHUNK * 3 and json.loads(lines[0]) == {k: v for k, v in answer.items() if k != "trace"}

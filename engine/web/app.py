"""``qmgrade serve``: the company's questionnaire and result, the bureau's batches, statistics and
history, and the JSON API, on the public engine API (see :mod:`engine.web.service`).

Pages are rendered on the server and work without JavaScript; ``static/app.js`` only saves
drafts as they are filled.  Every form carries a CSRF token; the API takes JSON bodies only
(a cross-site page cannot send ``application/json`` without a CORS preflight, which this
server never grants).  A company user sees only the assessments of its own company id.
"""
from __future__ import annotations

import io
import json
import secrets
import tempfile
import threading
import time
import zipfile
from functools import wraps
from pathlib import Path
from typing import Optional

import yaml
from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, session, url_for

from engine.errors import InputError, Problem, QmgradeError
from engine.export import dumps
from engine.words import criterion_title, level_name, rating_label

from . import service
from .store import Store
from .words import make_word

__all__ = ["create_app", "UploadLimits", "RATINGS"]

RATINGS = ("full", "largely", "partial", "none", "na")
_RATING_VALUES = {1.0: "full", 0.8: "largely", 0.5: "partial", 0.0: "none"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class UploadLimits:
    """What one upload may be: bytes of a request, files of a form, members and bytes of a zip."""

    def __init__(self, request_bytes: int = 20 * 1024 * 1024, files: int = 5, zip_members: int = 2000,
                 zip_bytes: int = 200 * 1024 * 1024, zip_ratio: int = 200):
        self.request_bytes, self.files = request_bytes, files
        self.zip_members, self.zip_bytes, self.zip_ratio = zip_members, zip_bytes, zip_ratio


def _now() -> int:
    return int(time.time())


# -- documents (what a draft stores: an assessment document as in CONTRACT §2) ---------------------
def rating_word(value) -> str:
    """A stored rating as the form's value: full … none, na, '' (not rated), or the number."""
    if value is None:
        return "na"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ""
    return _RATING_VALUES.get(round(float(value), 6), f"{float(value):g}")


def document_of(assessment) -> dict:
    """The draft document of a checked assessment (an upload)."""
    profile_na = set(assessment.profile_na)
    document = {"company": dict(assessment.company),
                "ratings": {cid: rating_word(value) for cid, value in assessment.ratings.items()
                            if cid not in profile_na},
                "evidence": {cid: list(refs) for cid, refs in assessment.evidence.items()},
                "facts": dict(assessment.facts)}
    if assessment.assessed_on:
        document["assessed_on"] = str(assessment.assessed_on)
    return document


def gradable(document: dict) -> dict:
    """The document without the ratings left blank (not rated)."""
    out = {k: v for k, v in document.items() if k not in ("ratings", "evidence")}
    out["ratings"] = {cid: r for cid, r in document.get("ratings", {}).items() if r not in ("", None)}
    evidence = {cid: refs for cid, refs in document.get("evidence", {}).items() if refs}
    if evidence:
        out["evidence"] = evidence
    return out


def create_app(model, db_path: str, *, login: Optional[bool] = None, secure_cookies: bool = False,
               limits: Optional[UploadLimits] = None) -> Flask:
    """The web application over ``model`` with its store (and history) at ``db_path``.

    ``login`` None means: required exactly when the database holds accounts.
    """
    limits = limits or UploadLimits()
    store = Store(db_path)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=store.secret_key(), MAX_CONTENT_LENGTH=limits.request_bytes, MAX_FORM_PARTS=200,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="qmgrade_session", JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["qmgrade"] = {"model": model, "store": store, "db": str(db_path), "limits": limits,
                                 "login": store.has_users() if login is None else login}
    _register_pages(app)
    _register_api(app)
    return app


# -- who is asking ----------------------------------------------------------------------------------
def _ctx():
    from flask import current_app
    return current_app.extensions["qmgrade"]


def current_user() -> Optional[dict]:
    """The signed-in user; without accounts (a consultant's laptop) everyone is the local bureau user."""
    ctx = _ctx()
    if not ctx["login"]:
        return {"username": None, "role": "bureau", "company_id": None}
    name = session.get("user")
    if not name:
        return None
    user = ctx["store"].user(name)
    if user is None or _password_tag(user) != session.get("pw"):
        return None   # the account was removed or its password changed: the session ends
    return {"username": user["username"], "role": user["role"], "company_id": user["company_id"]}


def _password_tag(user: dict) -> str:
    """A tag of the stored password hash: a session ends when the password changes (the cookie is
    signed, not encrypted, so it carries a hash of the hash, never the hash)."""
    import hashlib
    return hashlib.sha256(user["password"].encode()).hexdigest()[:16]


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def signed_in(role: Optional[str] = None):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                if _wants_json():
                    return _api_error("sign in first", 401)
                return redirect(url_for("login", next=request.full_path))
            if role and user["role"] != role:
                if _wants_json():
                    return _api_error("not allowed for this account", 403)
                abort(403)
            g.user = user
            return view(*args, **kwargs)
        return wrapper
    return decorate


def _may_see(user: dict, company_id: Optional[str]) -> bool:
    return user["role"] == "bureau" or (company_id is not None and company_id == user["company_id"])


def _draft_for(ident: str) -> dict:
    """The draft ``ident`` if the user may see it; otherwise 404 (never saying whether it exists)."""
    draft = _ctx()["store"].draft(ident)
    if draft is None or not _may_see(g.user, draft["company_id"]):
        abort(404)
    return draft


# -- CSRF -------------------------------------------------------------------------------------------
def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _check_host() -> None:
    """Without accounts the server trusts whoever reaches it, so only loopback names may: a page on
    another site cannot rebind its own name to 127.0.0.1 and read the answers (DNS rebinding)."""
    if not _ctx()["login"] and (request.host.rsplit(":", 1)[0].strip("[]") not in LOOPBACK):
        abort(400, description=f"this server without accounts answers only to 127.0.0.1 or localhost, "
                               f"not {request.host!r}")


def _check_csrf() -> None:
    if request.method in ("PUT", "DELETE") and _wants_json() and not request.is_json:
        abort(Response(json.dumps({"error": "send a JSON body (Content-Type: application/json)"}),
                       415, mimetype="application/json"))
    if request.method != "POST":
        return
    if _wants_json():
        # JSON only: a form on another site cannot send it, and no CORS preflight is ever granted
        if not request.is_json and request.mimetype not in ("application/x-ndjson",):
            abort(Response(json.dumps({"error": "send a JSON body (Content-Type: application/json)"}),
                           415, mimetype="application/json"))
        return
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="the form has expired or did not come from this site (CSRF token); reload it")


# -- pages ------------------------------------------------------------------------------------------
def _lang() -> str:
    lang = request.args.get("lang")
    if lang in ("zh", "en"):
        session["lang"] = lang
        return lang
    return session.get("lang", "zh")


def _page(template: str, status: int = 200, **context):
    lang = _lang()
    model = _ctx()["model"]
    html = render_template(template, lang=lang, w=make_word(lang), user=g.get("user") or current_user(),
                           login=_ctx()["login"], csrf_token=csrf_token(), model=model,
                           level_name=lambda rank: level_name(model, rank, lang),
                           rating_label=lambda value: rating_label(value, lang),
                           ctitle=lambda cid: criterion_title(model, cid, lang),
                           dim_name=lambda did: model.dimensions_by_id[did].name[lang]
                           if did in model.dimensions_by_id else did, **context)
    return html, status


def _errors_of(error: QmgradeError):
    return [str(p) for p in error.problems]


def _register_pages(app: Flask) -> None:  # noqa: C901 (one route table, read top to bottom)
    app.before_request(_check_host)
    app.before_request(_check_csrf)

    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                    "frame-ancestors 'self'; form-action 'self'")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(413)
    def http_error(error):
        message = getattr(error, "description", "") or ""
        if error.code == 413:
            message = f"the upload is larger than {_ctx()['limits'].request_bytes // (1024 * 1024)} MB"
        if _wants_json():
            return _api_error(message, error.code)
        g.user = current_user()
        return _page("error.html", error.code, errors=[f"{error.code}: {message}"])

    @app.route("/login", methods=["GET", "POST"])
    def login():
        failed = False
        if request.method == "POST":
            user = _ctx()["store"].authenticate(request.form.get("username", ""), request.form.get("password", ""))
            if user:
                session.clear()
                session["user"], session["pw"] = user["username"], _password_tag(user)
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
            failed = True
        return _page("login.html", 401 if failed else 200, failed=failed)

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    @signed_in()
    def home():
        store = _ctx()["store"]
        drafts = store.drafts(None if g.user["role"] == "bureau" else g.user["company_id"])
        return _page("home.html", drafts=drafts, profiles=_ctx()["model"].profiles)

    @app.post("/new")
    @signed_in()
    def new():
        model, store = _ctx()["model"], _ctx()["store"]
        upload = request.files.get("questionnaire")
        if upload is not None and upload.filename:
            try:
                document = document_of(service.read_upload(model, upload.filename, upload.read()))
            except QmgradeError as error:
                return _page("error.html", 400, errors=_errors_of(error))
        else:
            form = request.form
            company = {key: form.get(key, "").strip() for key in ("id", "name", "industry", "region", "profile")}
            company = {k: v for k, v in company.items() if v}
            document = {"company": company, "ratings": {}, "evidence": {},
                        "facts": {fact.id: fact.id in form.getlist("fact") for fact in model.facts
                                  if fact.type == "boolean"}}
            if form.get("assessed_on"):
                document["assessed_on"] = form["assessed_on"]
        if g.user["role"] == "company":   # a company user assesses its own company, whatever the form says
            document["company"]["id"] = g.user["company_id"]
        if not document["company"].get("id"):
            return _page("error.html", 400, errors=["-:1:1: the company's id is required"])
        try:
            service.assessment_of(model, gradable(document), "new assessment")
        except QmgradeError as error:
            return _page("error.html", 400, errors=_errors_of(error))
        ident = store.new_draft(document, str(document["company"]["id"]), _now())
        if upload is not None and upload.filename:
            return redirect(url_for("result", ident=ident))
        return redirect(url_for("stave", ident=ident, dim=model.dimensions[0].id))

    @app.route("/a/<ident>/stave/<dim>", methods=["GET", "POST"])
    @signed_in()
    def stave(ident, dim):
        model, store = _ctx()["model"], _ctx()["store"]
        draft = _draft_for(ident)
        ids = model.dimension_ids
        if dim not in ids:
            abort(404)
        criteria = sorted((c for c in model.criteria.values() if c.dimension == dim), key=lambda c: c.level)
        document = draft["document"]
        problems = []
        if request.method == "POST":
            ratings, evidence = dict(document.get("ratings", {})), dict(document.get("evidence", {}))
            for criterion in criteria:
                field = f"rating-{criterion.id}"
                if field in request.form:
                    ratings[criterion.id] = request.form[field].strip()
                refs = [line.strip() for line in request.form.get(f"evidence-{criterion.id}", "").splitlines()
                        if line.strip()]
                if refs:
                    evidence[criterion.id] = refs
                else:
                    evidence.pop(criterion.id, None)
            candidate = {**document, "ratings": ratings, "evidence": evidence}
            try:
                service.assessment_of(model, gradable(candidate), f"stave {dim}")
            except QmgradeError as error:
                problems = _errors_of(error)
            if not problems:
                store.save_draft(ident, candidate, _now())
                if request.headers.get("X-Autosave"):
                    return "", 204
                step = request.form.get("go", "save")
                position = ids.index(dim)
                if step == "next" and position + 1 < len(ids):
                    return redirect(url_for("stave", ident=ident, dim=ids[position + 1]))
                if step == "result":
                    return redirect(url_for("result", ident=ident))
                return redirect(url_for("stave", ident=ident, dim=dim, saved=1))
            if request.headers.get("X-Autosave"):
                return jsonify({"errors": problems}), 400
            document = candidate
        na_off = set()
        profile = model.profiles_by_id.get(document.get("company", {}).get("profile", ""))
        if profile:
            na_off = set(profile.not_applicable)
        return _page("stave.html", 400 if problems else 200, draft=draft, document=document, dim=dim,
                     dimension=model.dimensions_by_id[dim], criteria=criteria, ids=ids,
                     position=ids.index(dim), errors=problems, saved=request.args.get("saved"),
                     profile_na=na_off, ratings=RATINGS, rating_word=rating_word)

    @app.get("/a/<ident>")
    @signed_in()
    def result(ident):
        model = _ctx()["model"]
        draft = _draft_for(ident)
        try:
            assessment = service.assessment_of(model, gradable(draft["document"]), f"assessment {ident}")
            grade = service.graded(model, assessment)
            data = grade.as_dict(trace=False)
            whatif = None
            settings = [s for s in request.args.getlist("set") if s and not s.endswith("=")]
            if request.args.get("set_criterion") and request.args.get("set_rating"):
                settings.append(f"{request.args['set_criterion']}={request.args['set_rating']}")
            if settings:
                whatif = {"result": service.whatif(model, assessment, settings, trace=False),
                          "roadmap": service.whatif_roadmap(model, assessment, settings),
                          "settings": settings}
            plan = service.roadmap(model, assessment)
        except QmgradeError as error:
            return _page("error.html", 400, errors=_errors_of(error))
        return _page("result.html", draft=draft, result=data, plan=plan, whatif=whatif,
                     shortest=grade.shortest, ratings=RATINGS,
                     criteria_by_dim=[(d, [c for c in model.criteria.values() if c.dimension == d.id])
                                      for d in model.dimensions],
                     current=assessment.ratings, submitted=request.args.get("submitted"))

    @app.post("/a/<ident>/submit")
    @signed_in()
    def submit(ident):
        from engine.ledger import History, row_of
        model = _ctx()["model"]
        draft = _draft_for(ident)
        try:
            assessment = service.assessment_of(model, gradable(draft["document"]), f"assessment {ident}")
            data = service.assess(model, assessment, trace=False)
            with History(_ctx()["db"]) as history:
                history.add(row_of(model, assessment, data))
                history.commit()
        except QmgradeError as error:
            return _page("error.html", 400, errors=_errors_of(error))
        return redirect(url_for("result", ident=ident, submitted=1))

    @app.get("/a/<ident>/download/<kind>")
    @signed_in()
    def download(ident, kind):
        model = _ctx()["model"]
        draft = _draft_for(ident)
        lang = _lang()
        company = str(draft["document"].get("company", {}).get("id", "assessment"))
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in company)[:60] or "assessment"
        try:
            assessment = service.assessment_of(model, gradable(draft["document"]), f"assessment {ident}")
            if kind in ("report.html", "view.html"):
                focus = request.args.get("focus", "assess")
                body, mime = service.report_html(model, assessment, lang, focus if focus in (
                    "assess", "explain", "roadmap") else "assess"), "text/html"
            elif kind == "report.md":
                body, mime = service.report_markdown(model, assessment, lang), "text/markdown"
            elif kind == "result.json":
                body, mime = dumps(service.assess(model, assessment)), "application/json"
            elif kind == "explain.json":
                body, mime = dumps(service.explain(model, assessment)), "application/json"
            elif kind == "roadmap.json":
                body, mime = dumps(service.roadmap(model, assessment)), "application/json"
            elif kind == "trace.json":
                body, mime = dumps(service.trace(model, assessment)), "application/json"
            elif kind == "trace.txt":
                body, mime = service.trace_text(model, assessment, lang), "text/plain"
            elif kind == "questionnaire.yaml":
                body = yaml.safe_dump(gradable(draft["document"]), allow_unicode=True, sort_keys=False)
                mime = "application/yaml"
            elif kind == "questionnaire.json":
                body, mime = dumps(gradable(draft["document"])), "application/json"
            elif kind == "template.xlsx":
                from engine.spreadsheet import template_workbook
                body = template_workbook(model, lang)
                mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            else:
                abort(404)
        except QmgradeError as error:
            return _page("error.html", 400, errors=_errors_of(error))
        response = Response(body, mimetype=mime)
        if kind == "view.html":   # the report shown inside the result page: no script, no network
            response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                                           "img-src data:; frame-ancestors 'self'")
        else:
            response.headers["Content-Disposition"] = f'attachment; filename="{safe}-{kind}"'
        return response

    # -- the bureau ---------------------------------------------------------------------------------
    @app.route("/bureau/batch", methods=["GET", "POST"])
    @signed_in("bureau")
    def batch_page():
        store = _ctx()["store"]
        if request.method == "POST":
            files = [f for f in request.files.getlist("batch") if f.filename]
            if len(files) != 1:
                return _page("error.html", 400, errors=["-:1:1: choose one batch file"])
            try:
                ident = start_batch(app, files[0].filename, files[0].read())
            except QmgradeError as error:
                return _page("error.html", 400, errors=_errors_of(error))
            return redirect(url_for("batch_status", ident=ident))
        return _page("batch.html", batches=store.batches())

    @app.get("/bureau/batch/<ident>")
    @signed_in("bureau")
    def batch_status(ident):
        batch = _ctx()["store"].batch(ident)
        if batch is None:
            abort(404)
        if request.args.get("download"):
            return Response(batch["results"], mimetype="application/x-ndjson",
                            headers={"Content-Disposition": f'attachment; filename="batch-{ident}.jsonl"'})
        return _page("batch_status.html", batch=batch)

    @app.get("/bureau/stats")
    @signed_in("bureau")
    def stats_page():
        model = _ctx()["model"]
        data = _stats(request.args.get("batch"))
        if request.args.get("view"):
            response = Response(service.stats_html(model, data, _lang()), mimetype="text/html")
            response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                                           "img-src data:; frame-ancestors 'self'")
            return response
        return _page("stats.html", stats=data, batch=request.args.get("batch"))

    @app.get("/history")
    @signed_in()
    def history_list():
        store = _ctx()["store"]
        companies = store.companies(None if g.user["role"] == "bureau" else g.user["company_id"])
        return _page("history.html", companies=companies)

    @app.get("/history/<company>")
    @signed_in()
    def history_company(company):
        if not _may_see(g.user, company):
            abort(404)
        try:
            data = _trend(company)
        except QmgradeError as error:
            if any(problem.code == "unknown-id" for problem in error.problems):
                abort(404)
            return _page("error.html", 400, errors=_errors_of(error))
        return _page("history_company.html", trend=data, text=service.history_text(_ctx()["model"], data, _lang()))


def _trend(company: str) -> dict:
    return service.history_trend(_ctx()["model"], _ctx()["db"], company)


def _stats(batch_id: Optional[str]) -> dict:
    """``qmgrade stats`` over a batch's results, or over every company's latest round in the history."""
    store, model = _ctx()["store"], _ctx()["model"]
    if batch_id:
        batch = store.batch(batch_id)
        if batch is None:
            abort(404)
        lines = [line for line in batch["results"].splitlines() if line.strip()]
    else:
        lines = [json.dumps(c["result"], ensure_ascii=False) for c in store.companies()]
    return service.stats_of_results(model, lines)


# -- batches ----------------------------------------------------------------------------------------
def _unzip(content: bytes, folder: Path, limits: UploadLimits) -> Path:
    """Extract a zip of questionnaires (flat: base names only), refusing bombs and too many members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise InputError(Problem("upload.zip", 1, 1, "not a readable zip archive")) from None
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > limits.zip_members:
        raise InputError(Problem("upload.zip", 1, 1, f"more than {limits.zip_members} files in the zip"))
    total = sum(m.file_size for m in members)
    if total > limits.zip_bytes:
        raise InputError(Problem("upload.zip", 1, 1, f"the zip expands to more than {limits.zip_bytes} bytes"))
    target = folder / "questionnaires"
    target.mkdir()
    names = set()
    for member in members:
        if member.file_size > limits.zip_ratio * max(member.compress_size, 1) and member.file_size > 1_000_000:
            raise InputError(Problem(member.filename, 1, 1, "expands too far for its size (a zip bomb?)"))
        name = Path(member.filename.replace("\\", "/")).name
        if not name or name.startswith(".") or name in names:
            continue
        names.add(name)
        with archive.open(member) as source, open(target / name, "wb") as out:
            remaining = member.file_size + 1
            chunk = source.read(min(remaining, 1 << 20))
            while chunk:
                remaining -= len(chunk)
                if remaining <= 0:
                    raise InputError(Problem(member.filename, 1, 1, "larger than the zip says"))
                out.write(chunk)
                chunk = source.read(min(remaining, 1 << 20))
    return target


def start_batch(app: Flask, filename: str, content: bytes) -> str:
    """Store the upload, grade it in a background thread (``qmgrade batch``); returns the batch id."""
    ctx = app.extensions["qmgrade"]
    store, model, limits = ctx["store"], ctx["model"], ctx["limits"]
    name = Path(filename).name or "batch"
    if not name.lower().endswith((".jsonl", ".ndjson", ".csv", ".xlsx", ".zip")):
        raise InputError(Problem(name, 1, 1, "expected JSON Lines (.jsonl), a wide CSV or XLSX, or a .zip "
                                             "of questionnaires"))
    folder = Path(tempfile.mkdtemp(prefix="qmgrade-batch-"))
    if name.lower().endswith(".zip"):
        path = _unzip(content, folder, limits)
    else:
        path = folder / name
        path.write_bytes(content)
    ident = store.new_batch(name, _now())
    thread = threading.Thread(target=_run_batch, args=(ctx, ident, str(path), folder), daemon=True,
                              name=f"qmgrade-batch-{ident}")
    thread.start()
    ctx.setdefault("threads", []).append(thread)
    return ident


def _unprefixed(text: str, folder) -> str:
    """Messages name the uploaded file as the user knows it, not the server's temporary folder."""
    prefix = str(folder).rstrip("/") + "/"
    return text.replace(json.dumps(prefix)[1:-1], "").replace(prefix, "")


def _run_batch(ctx, ident: str, path: str, folder: Path) -> None:
    import shutil
    from engine.ledger import History
    store, model = ctx["store"], ctx["model"]
    lines, errors, state = [], [], {"done": 0, "last": 0.0}
    history = History(ctx["db"])

    def on_result(summary, row):
        if summary.get("error"):
            errors.append(_unprefixed(str(summary.get("message") or summary.get("error")), folder))
        if row is not None:
            history.add(row)

    def on_progress(units):
        state["done"] += units
        if time.monotonic() - state["last"] > 0.5:
            state["last"] = time.monotonic()
            store.update_batch(ident, done=state["done"])

    try:
        total, report = service.batch_file(model, path, on_line=lines.append, on_result=on_result,
                                           on_progress=on_progress, with_db=True,
                                           on_total=lambda units: store.update_batch(ident, total=units))
        history.commit()
        store.update_batch(ident, status="done", done=total, records=report.records, failed=report.failed,
                           results=_unprefixed("".join(lines), folder),
                           errors=json.dumps(errors[:1000], ensure_ascii=False))
    except QmgradeError as error:
        store.update_batch(ident, status="failed", errors=json.dumps([_unprefixed(e, folder) for e in
                                                                     _errors_of(error)], ensure_ascii=False))
    except Exception as error:  # a bug: the page says so instead of spinning for ever
        store.update_batch(ident, status="failed",
                           errors=json.dumps([f"-:1:1: internal error ({type(error).__name__}: {error})"]))
    finally:
        history.close()
        shutil.rmtree(folder, ignore_errors=True)


# -- the JSON API -----------------------------------------------------------------------------------
def _api_error(message, status: int = 400, problems=None):
    body = {"error": message}
    if problems:
        body["problems"] = problems
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def _json_response(data) -> Response:
    """The bytes ``--format json`` prints (``engine.export.dumps``)."""
    return Response(dumps(data), mimetype="application/json")


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        abort(_api_error("the body is not JSON", 400))
    return data


def _assessment_from_body(data, key: Optional[str] = None):
    document = data.get(key) if key else data
    if key and not isinstance(document, dict):
        abort(_api_error(f"the body needs {key!r}: an assessment object", 400))
    if g.user["role"] == "company":
        company = document.get("company") if isinstance(document, dict) else None
        if not isinstance(company, dict) or str(company.get("id")) != g.user["company_id"]:
            abort(_api_error("a company account grades only its own company (company.id)", 403))
    return service.assessment_of(_ctx()["model"], document, "request")


def _int_arg(name: str) -> Optional[int]:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        abort(_api_error(f"{name} must be a whole number", 400))


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes")


def _register_api(app: Flask) -> None:  # noqa: C901
    def api(rule, methods=("POST",), role=None):
        def decorate(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                try:
                    return view(*args, **kwargs)
                except QmgradeError as error:
                    return _api_error(str(error.problems[0]), 400, _errors_of(error))
            return app.route(rule, methods=list(methods), endpoint="api_" + view.__name__)(
                signed_in(role)(wrapper))
        return decorate

    @app.get("/api/openapi.json")
    def api_openapi():
        from .openapi import openapi
        return jsonify(openapi())

    @api("/api/kb", methods=("GET",))
    def kb():
        return _json_response(service.kb_export(_ctx()["model"]))

    @api("/api/assess")
    def assess():
        return _json_response(service.assess(_ctx()["model"], _assessment_from_body(_body()),
                                             trace=_flag("trace", True)))

    @api("/api/explain")
    def explain():
        return _json_response(service.explain(_ctx()["model"], _assessment_from_body(_body()), _int_arg("level")))

    @api("/api/roadmap")
    def roadmap():
        return _json_response(service.roadmap(_ctx()["model"], _assessment_from_body(_body()), _int_arg("target")))

    @api("/api/whatif")
    def whatif():
        data = _body()
        settings = data.get("set") if isinstance(data, dict) else None
        if not isinstance(settings, list) or not settings or not all(isinstance(s, str) for s in settings):
            return _api_error("the body needs 'set': a list of \"ID=RATING\" strings", 400)
        return _json_response(service.whatif(_ctx()["model"], _assessment_from_body(data, "assessment"),
                                             settings, trace=_flag("trace", True)))

    @api("/api/trace")
    def trace():
        return _json_response(service.trace(_ctx()["model"], _assessment_from_body(_body())))

    @api("/api/trace/verify")
    def trace_verify():
        data = _body()
        record = data.get("record") if isinstance(data, dict) else None
        if not isinstance(record, dict) or "firings" not in record:
            return _api_error("the body needs 'record': a trace record (qmgrade trace --format json)", 400)
        difference = service.trace_verify(_ctx()["model"], record, _assessment_from_body(data, "assessment"))
        return _json_response({"ok": difference is None, "difference": difference})

    @api("/api/batch", role="bureau")
    def batch():
        """JSON Lines in (one assessment per line), ``qmgrade batch --format jsonl`` out."""
        model = _ctx()["model"]
        with tempfile.TemporaryDirectory(prefix="qmgrade-web-") as folder:
            path = Path(folder) / "batch.jsonl"
            path.write_bytes(request.get_data())
            lines = []
            service.batch_file(model, str(path), on_line=lines.append)
        return Response(_unprefixed("".join(lines), folder), mimetype="application/x-ndjson")

    @api("/api/stats", role="bureau")
    def stats():
        """Batch results in (JSON Lines), ``qmgrade stats --format json`` out; a JSON body ``{}``: over every
        company's latest round in the history."""
        body = "" if request.is_json else request.get_data(as_text=True)
        if body.strip():
            return _json_response(service.stats_of_results(_ctx()["model"], body.splitlines()))
        return _json_response(_stats(None))

    @api("/api/assessments", methods=("GET",))
    def assessments():
        drafts = _ctx()["store"].drafts(None if g.user["role"] == "bureau" else g.user["company_id"])
        return jsonify([{"id": d["id"], "company": d["document"].get("company", {})} for d in drafts])

    @api("/api/assessments/<ident>", methods=("GET", "PUT", "POST"))
    def assessment(ident):
        draft = _draft_for(ident)
        if request.method == "GET":
            return _json_response(gradable(draft["document"]))
        document = _body()
        if not isinstance(document, dict) or not isinstance(document.get("company"), dict) \
                or str(document["company"].get("id")) != draft["company_id"]:
            return _api_error("the assessment must keep its company id", 400)
        service.assessment_of(_ctx()["model"], gradable(document), "request")
        _ctx()["store"].save_draft(ident, document, _now())
        return _json_response(gradable(document))

    @api("/api/assessments/<ident>/<kind>", methods=("GET",))
    def assessment_result(ident, kind):
        model = _ctx()["model"]
        draft = _draft_for(ident)
        assessment = service.assessment_of(model, gradable(draft["document"]), f"assessment {ident}")
        if kind == "assess":
            return _json_response(service.assess(model, assessment, trace=_flag("trace", True)))
        if kind == "explain":
            return _json_response(service.explain(model, assessment, _int_arg("level")))
        if kind == "roadmap":
            return _json_response(service.roadmap(model, assessment, _int_arg("target")))
        if kind == "trace":
            return _json_response(service.trace(model, assessment))
        abort(404)

    @api("/api/history/<company>", methods=("GET",))
    def history(company):
        if not _may_see(g.user, company):
            abort(404)
        return _json_response(_trend(company))

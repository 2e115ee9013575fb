"""``qmgrade serve``: the company's questionnaire and result, the bureau's batches, statistics and
history, and the JSON API, on the public engine API (see :mod:`engine.web.service`).

Pages are rendered on the server and work without JavaScript; ``static/app.js`` only saves
drafts as they are filled.  Every form carries a CSRF token; the API takes JSON bodies only
(a cross-site page cannot send ``application/json`` without a CORS preflight, which this
server never grants).  A company user sees only the assessments of its own company id.
"""
from __future__ import annotations

import time
from typing import Optional, cast

import yaml
from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, session, url_for
from flask.json.provider import DefaultJSONProvider

from engine.errors import QmgradeError
from engine.export import dumps
from engine.words import criterion_title, level_name, rating_label

from . import service
from .access import (LOOPBACK, check_csrf, check_host, csrf_token, ctx, current_user, draft_for, errors_of,
                     may_see, password_tag, signed_in, wants_json, api_error)
from .batches import start_batch
from .documents import RATINGS, document_of, gradable, rating_word
from .store import Store
from .queries import company_trend, stats_over  # the pages' and the API's one source
from .words import make_word

__all__ = ["create_app", "UploadLimits", "RATINGS", "LOOPBACK", "company_trend", "stats_over"]


class UploadLimits:
    """What one upload may be: bytes of a request, files of a form, members and bytes of a zip."""

    def __init__(self, request_bytes: int = 20 * 1024 * 1024, files: int = 5, zip_members: int = 2000,
                 zip_bytes: int = 200 * 1024 * 1024, zip_ratio: int = 200):
        self.request_bytes, self.files = request_bytes, files
        self.zip_members, self.zip_bytes, self.zip_ratio = zip_members, zip_bytes, zip_ratio


def _now() -> int:
    return int(time.time())


def create_app(model, db_path: str, *, login: Optional[bool] = None, secure_cookies: bool = False,
               limits: Optional[UploadLimits] = None) -> Flask:
    """The web application over ``model`` with its store (and history) at ``db_path``.

    ``login`` None means: required exactly when the database holds accounts.
    """
    limits = limits or UploadLimits()
    store = Store(db_path)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=store.secret_key(), MAX_CONTENT_LENGTH=limits.request_bytes,
        # multipart parts: an upload form holds its files and a few fields; a stave's form two per criterion
        MAX_FORM_PARTS=limits.files + 10 + 2 * max((len([c for c in model.criteria.values() if c.dimension == d])
                                                    for d in model.dimension_ids), default=0),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="qmgrade_session", JSON_AS_ASCII=False,
    )
    provider = cast(DefaultJSONProvider, app.json)   # Flask's default provider: no json_provider_class is set
    provider.ensure_ascii = False
    provider.sort_keys = False
    app.extensions["qmgrade"] = {"model": model, "store": store, "db": str(db_path), "limits": limits,
                                 "login": store.has_users() if login is None else login}
    from .api import register_api
    _register_pages(app)
    register_api(app)
    return app


# -- pages ------------------------------------------------------------------------------------------
def _lang() -> str:
    lang = request.args.get("lang")
    if lang in ("zh", "en"):
        session["lang"] = lang
        return lang
    return session.get("lang", "zh")


def _page(template: str, status: int = 200, **context):
    lang = _lang()
    model = ctx()["model"]
    html = render_template(template, lang=lang, w=make_word(lang), user=g.get("user") or current_user(),
                           login=ctx()["login"], csrf_token=csrf_token(), model=model,
                           level_name=lambda rank: level_name(model, rank, lang),
                           rating_label=lambda value: rating_label(value, lang),
                           ctitle=lambda cid: criterion_title(model, cid, lang),
                           dim_name=lambda did: model.dimensions_by_id[did].name[lang]
                           if did in model.dimensions_by_id else did, **context)
    return html, status


def _register_pages(app: Flask) -> None:  # noqa: C901 (one route table, read top to bottom)
    app.before_request(check_host)
    app.before_request(check_csrf)

    @app.before_request
    def model_words():   # every page, report and questionnaire of this request speaks the model's words
        from ..words import use_model_words
        use_model_words(ctx()["model"])

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
            limit = ctx()["limits"].request_bytes
            size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
            message = (f"the upload is larger than {size}"
                       if (request.content_length or 0) > limit else "too many files or fields in one form")
        if wants_json():
            return api_error(message, error.code)
        g.user = current_user()
        return _page("error.html", error.code, errors=[f"{error.code}: {message}"])

    @app.route("/login", methods=["GET", "POST"])
    def login():
        failed = False
        if request.method == "POST":
            user = ctx()["store"].authenticate(request.form.get("username", ""), request.form.get("password", ""))
            if user:
                session.clear()
                session["user"], session["pw"] = user["username"], password_tag(user)
                target = request.args.get("next", "")
                local_path = target.startswith("/") and not target.startswith(("//", "/\\"))
                return redirect(target if local_path else "/")
            failed = True
        return _page("login.html", 401 if failed else 200, failed=failed)

    @app.post("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.get("/")
    @signed_in()
    def home():
        store = ctx()["store"]
        drafts = store.drafts(None if g.user["role"] == "bureau" else g.user["company_id"])
        return _page("home.html", drafts=drafts, profiles=ctx()["model"].profiles)

    @app.post("/new")
    @signed_in()
    def new():
        model, store = ctx()["model"], ctx()["store"]
        upload = request.files.get("questionnaire")
        if upload is not None and upload.filename:
            try:
                document = document_of(service.read_upload(model, upload.filename, upload.read()))
            except QmgradeError as error:
                return _page("error.html", 400, errors=errors_of(error))
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
            return _page("error.html", 400, errors=errors_of(error))
        ident = store.new_draft(document, str(document["company"]["id"]), _now())
        if upload is not None and upload.filename:
            return redirect(url_for("result", ident=ident))
        return redirect(url_for("stave", ident=ident, dim=model.dimensions[0].id))

    @app.route("/a/<ident>/stave/<dim>", methods=["GET", "POST"])
    @signed_in()
    def stave(ident, dim):
        model, store = ctx()["model"], ctx()["store"]
        draft = draft_for(ident)
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
                problems = errors_of(error)
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
        model = ctx()["model"]
        draft = draft_for(ident)
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
            plan = service.roadmap(model, assessment, graded=grade)   # graded once for the page
        except QmgradeError as error:
            return _page("error.html", 400, errors=errors_of(error))
        return _page("result.html", draft=draft, result=data, plan=plan, whatif=whatif,
                     shortest=grade.shortest, ratings=RATINGS,
                     criteria_by_dim=[(d, [c for c in model.criteria.values() if c.dimension == d.id])
                                      for d in model.dimensions],
                     current=assessment.ratings, submitted=request.args.get("submitted"))

    @app.post("/a/<ident>/submit")
    @signed_in()
    def submit(ident):
        from engine.ledger import History, row_of
        model = ctx()["model"]
        draft = draft_for(ident)
        try:
            assessment = service.assessment_of(model, gradable(draft["document"]), f"assessment {ident}")
            data = service.assess(model, assessment, trace=False)
            with History(ctx()["db"]) as history:
                history.add(row_of(model, assessment, data))
                history.commit()
        except QmgradeError as error:
            return _page("error.html", 400, errors=errors_of(error))
        return redirect(url_for("result", ident=ident, submitted=1))

    @app.get("/a/<ident>/download/<kind>")
    @signed_in()
    def download(ident, kind):
        model = ctx()["model"]
        draft = draft_for(ident)
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
                body, mime = service.trace_json_text(model, assessment), "application/json"
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
            return _page("error.html", 400, errors=errors_of(error))
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
        store = ctx()["store"]
        if request.method == "POST":
            files = [f for f in request.files.getlist("batch") if f.filename]
            if len(files) != 1:
                return _page("error.html", 400, errors=["-:1:1: choose one batch file"])
            try:
                ident = start_batch(app, files[0].filename, files[0].read())
            except QmgradeError as error:
                return _page("error.html", 400, errors=errors_of(error))
            return redirect(url_for("batch_status", ident=ident))
        return _page("batch.html", batches=store.batches())

    @app.get("/bureau/batch/<ident>")
    @signed_in("bureau")
    def batch_status(ident):
        batch = ctx()["store"].batch(ident)
        if batch is None:
            abort(404)
        if request.args.get("download"):
            return Response(batch["results"], mimetype="application/x-ndjson",
                            headers={"Content-Disposition": f'attachment; filename="batch-{ident}.jsonl"'})
        return _page("batch_status.html", batch=batch)

    @app.get("/bureau/stats")
    @signed_in("bureau")
    def stats_page():
        model = ctx()["model"]
        data = stats_over(request.args.get("batch"))
        if request.args.get("view"):
            response = Response(service.stats_html(model, data, _lang()), mimetype="text/html")
            response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                                           "img-src data:; frame-ancestors 'self'")
            return response
        return _page("stats.html", stats=data, batch=request.args.get("batch"))

    @app.get("/history")
    @signed_in()
    def history_list():
        store = ctx()["store"]
        companies = store.companies(None if g.user["role"] == "bureau" else g.user["company_id"])
        return _page("history.html", companies=companies)

    @app.get("/history/<company>")
    @signed_in()
    def history_company(company):
        if not may_see(g.user, company):
            abort(404)
        try:
            data = company_trend(company)
        except QmgradeError as error:
            if any(problem.code == "unknown-id" for problem in error.problems):
                abort(404)
            return _page("error.html", 400, errors=errors_of(error))
        return _page("history_company.html", trend=data, text=service.history_text(ctx()["model"], data, _lang()))



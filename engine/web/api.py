"""The JSON API under ``/api/``: the objects the CLI prints with ``--format json``, one contract, two doors.

POST bodies are JSON (or JSON Lines for batch and stats): a page on another site cannot send
them without a CORS preflight, which this server never grants, so the API needs no CSRF token.
"""
from __future__ import annotations

import tempfile
import time
from functools import wraps
from pathlib import Path
from typing import Optional

from flask import Flask, Response, abort, g, jsonify, request

from engine.errors import QmgradeError
from engine.export import dumps

from . import service
from .queries import company_trend, stats_over
from .access import api_error, ctx, draft_for, errors_of, may_see, signed_in
from .batches import unprefixed
from .documents import gradable

__all__ = ["register_api"]


def _json_response(data) -> Response:
    """The bytes ``--format json`` prints (``engine.export.dumps``)."""
    return Response(dumps(data), mimetype="application/json")


def _body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        abort(api_error("the body is not JSON", 400))
    return data


def _assessment_from_body(data, key: Optional[str] = None):
    document = data.get(key) if key else data
    if key and not isinstance(document, dict):
        abort(api_error(f"the body needs {key!r}: an assessment object", 400))
    if g.user["role"] == "company":
        company = document.get("company") if isinstance(document, dict) else None
        if not isinstance(company, dict) or str(company.get("id")) != g.user["company_id"]:
            abort(api_error("a company account grades only its own company (company.id)", 403))
    return service.assessment_of(ctx()["model"], document, "request")


def _int_arg(name: str) -> Optional[int]:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        abort(api_error(f"{name} must be a whole number", 400))


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() in ("1", "true", "yes")


def register_api(app: Flask) -> None:  # noqa: C901
    def api(rule, methods=("POST",), role=None):
        def decorate(view):
            @wraps(view)
            def wrapper(*args, **kwargs):
                try:
                    return view(*args, **kwargs)
                except QmgradeError as error:
                    return api_error(str(error.problems[0]), 400, errors_of(error))
            return app.route(rule, methods=list(methods), endpoint="api_" + view.__name__)(
                signed_in(role)(wrapper))
        return decorate

    @app.get("/api/openapi.json")
    def api_openapi():
        from .openapi import openapi
        return jsonify(openapi())

    @api("/api/kb", methods=("GET",))
    def kb():
        return _json_response(service.kb_export(ctx()["model"]))

    @api("/api/assess")
    def assess():
        return _json_response(service.assess(ctx()["model"], _assessment_from_body(_body()),
                                             trace=_flag("trace", True)))

    @api("/api/explain")
    def explain():
        return _json_response(service.explain(ctx()["model"], _assessment_from_body(_body()), _int_arg("level")))

    @api("/api/roadmap")
    def roadmap():
        return _json_response(service.roadmap(ctx()["model"], _assessment_from_body(_body()), _int_arg("target")))

    @api("/api/whatif")
    def whatif():
        data = _body()
        settings = data.get("set") if isinstance(data, dict) else None
        if not isinstance(settings, list) or not settings or not all(isinstance(s, str) for s in settings):
            return api_error("the body needs 'set': a list of \"ID=RATING\" strings", 400)
        return _json_response(service.whatif(ctx()["model"], _assessment_from_body(data, "assessment"),
                                             settings, trace=_flag("trace", True)))

    @api("/api/trace")
    def trace():
        return _json_response(service.trace(ctx()["model"], _assessment_from_body(_body())))

    @api("/api/trace/verify")
    def trace_verify():
        data = _body()
        record = data.get("record") if isinstance(data, dict) else None
        if not isinstance(record, dict) or "firings" not in record:
            return api_error("the body needs 'record': a trace record (qmgrade trace --format json)", 400)
        difference = service.trace_verify(ctx()["model"], record, _assessment_from_body(data, "assessment"))
        return _json_response({"ok": difference is None, "difference": difference})

    @api("/api/batch", role="bureau")
    def batch():
        """JSON Lines in (one assessment per line), ``qmgrade batch --format jsonl`` out."""
        model = ctx()["model"]
        with tempfile.TemporaryDirectory(prefix="qmgrade-web-") as folder:
            path = Path(folder) / "batch.jsonl"
            path.write_bytes(request.get_data())
            lines = []
            service.batch_file(model, str(path), on_line=lines.append)
        return Response(unprefixed("".join(lines), folder), mimetype="application/x-ndjson")

    @api("/api/stats", role="bureau")
    def stats():
        """Batch results in (JSON Lines), ``qmgrade stats --format json`` out; a JSON body ``{}``: over every
        company's latest round in the history."""
        body = "" if request.is_json else request.get_data(as_text=True)
        if body.strip():
            return _json_response(service.stats_of_results(ctx()["model"], body.splitlines()))
        return _json_response(stats_over(None))

    @api("/api/assessments", methods=("GET",))
    def assessments():
        drafts = ctx()["store"].drafts(None if g.user["role"] == "bureau" else g.user["company_id"])
        return jsonify([{"id": d["id"], "company": d["document"].get("company", {})} for d in drafts])

    @api("/api/assessments/<ident>", methods=("GET", "PUT", "POST"))
    def assessment(ident):
        draft = draft_for(ident)
        if request.method == "GET":
            return _json_response(gradable(draft["document"]))
        document = _body()
        if not isinstance(document, dict) or not isinstance(document.get("company"), dict) \
                or str(document["company"].get("id")) != draft["company_id"]:
            return api_error("the assessment must keep its company id", 400)
        service.assessment_of(ctx()["model"], gradable(document), "request")
        ctx()["store"].save_draft(ident, document, int(time.time()))
        return _json_response(gradable(document))

    @api("/api/assessments/<ident>/<kind>", methods=("GET",))
    def assessment_result(ident, kind):
        model = ctx()["model"]
        draft = draft_for(ident)
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
        if not may_see(g.user, company):
            abort(404)
        return _json_response(company_trend(company))

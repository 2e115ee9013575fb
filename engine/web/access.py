"""Who is asking, and what they may see: accounts, roles, the CSRF token, the Host check.

Without accounts (a consultant's laptop on 127.0.0.1) everyone is the local bureau user; with
accounts everyone signs in, a *bureau* account sees every company and a *company* account only
its own company id.  Anything a user may not see answers 404, as if it did not exist.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from functools import wraps
from typing import Optional

from flask import Response, abort, current_app, g, redirect, request, session, url_for

from engine.errors import QmgradeError

__all__ = ["LOOPBACK", "ctx", "current_user", "signed_in", "may_see", "draft_for", "csrf_token", "check_host",
           "check_csrf", "api_error", "errors_of", "wants_json", "password_tag"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def ctx():
    """What the application was made with: model, store, db path, limits, whether login is on."""
    return current_app.extensions["qmgrade"]


def current_user() -> Optional[dict]:
    """The signed-in user; without accounts (a consultant's laptop) everyone is the local bureau user."""
    settings = ctx()
    if not settings["login"]:
        return {"username": None, "role": "bureau", "company_id": None}
    name = session.get("user")
    if not name:
        return None
    user = settings["store"].user(name)
    if user is None or password_tag(user) != session.get("pw"):
        return None   # the account was removed or its password changed: the session ends
    return {"username": user["username"], "role": user["role"], "company_id": user["company_id"]}


def password_tag(user: dict) -> str:
    """A tag of the stored password hash: a session ends when the password changes (the cookie is
    signed, not encrypted, so it carries a hash of the hash, never the hash)."""
    return hashlib.sha256(user["password"].encode()).hexdigest()[:16]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def signed_in(role: Optional[str] = None):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                if wants_json():
                    return api_error("sign in first", 401)
                return redirect(url_for("login", next=request.full_path))
            if role and user["role"] != role:
                if wants_json():
                    return api_error("not allowed for this account", 403)
                abort(403)
            g.user = user
            return view(*args, **kwargs)
        return wrapper
    return decorate


def may_see(user: dict, company_id: Optional[str]) -> bool:
    return user["role"] == "bureau" or (company_id is not None and company_id == user["company_id"])


def draft_for(ident: str) -> dict:
    """The draft ``ident`` if the user may see it; otherwise 404 (never saying whether it exists)."""
    draft = ctx()["store"].draft(ident)
    if draft is None or not may_see(g.user, draft["company_id"]):
        abort(404)
    return draft


# -- CSRF -------------------------------------------------------------------------------------------
def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_host() -> None:
    """Without accounts the server trusts whoever reaches it, so only loopback names may: a page on
    another site cannot rebind its own name to 127.0.0.1 and read the answers (DNS rebinding)."""
    if not ctx()["login"] and (request.host.rsplit(":", 1)[0].strip("[]") not in LOOPBACK):
        abort(400, description=f"this server without accounts answers only to 127.0.0.1 or localhost, "
                               f"not {request.host!r}")


def check_csrf() -> None:
    if request.method in ("PUT", "DELETE") and wants_json() and not request.is_json:
        abort(Response(json.dumps({"error": "send a JSON body (Content-Type: application/json)"}),
                       415, mimetype="application/json"))
    if request.method != "POST":
        return
    if wants_json():
        # JSON only: a form on another site cannot send it, and no CORS preflight is ever granted
        if not request.is_json and request.mimetype not in ("application/x-ndjson",):
            abort(Response(json.dumps({"error": "send a JSON body (Content-Type: application/json)"}),
                           415, mimetype="application/json"))
        return
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400, description="the form has expired or did not come from this site (CSRF token); reload it")


def api_error(message, status: int = 400, problems=None):
    body = {"error": message}
    if problems:
        body["problems"] = problems
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def errors_of(error: QmgradeError):
    return [str(p) for p in error.problems]

"""The OpenAPI 3.1 description of ``/api/``: the JSON objects of the CLI's ``--format json``."""
from __future__ import annotations

__all__ = ["openapi"]

_ASSESSMENT = {"$ref": "#/components/schemas/Assessment"}


def _post(summary: str, cli: str, body=None, params=(), response="object", mime="application/json") -> dict:
    operation = {
        "summary": summary,
        "description": f"The same JSON object as `{cli}` prints.",
        "parameters": list(params),
        "requestBody": {"required": True, "content": {mime: {"schema": body or _ASSESSMENT}}},
        "responses": {
            "200": {"description": f"what `{cli}` prints",
                    "content": {"application/x-ndjson" if response == "ndjson" else "application/json":
                                {"schema": {"type": "object"} if response == "object" else {"type": "string"}}}},
            "400": {"description": "invalid input: `error` is `path:line:col: message`, `problems` lists all",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "401": {"description": "sign in first (when the server has accounts)"},
            "403": {"description": "not allowed for this account"},
            "415": {"description": "the body must be JSON (Content-Type: application/json)"},
        },
    }
    return {"post": operation}


def _query(name: str, description: str, kind: str = "integer") -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": {"type": kind}}


def _get(summary: str, cli: str, params=()) -> dict:
    return {"get": {"summary": summary, "description": f"The same JSON object as `{cli}` prints.",
                    "parameters": list(params),
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"type": "object"}}}}, "404": {"description": "no such thing you may see"}}}}


def openapi() -> dict:
    from engine import __version__
    ident = {"name": "ident", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "qmgrade", "version": __version__,
                 "description": "Grading manufacturers' quality-management capability (经验级 … 卓越级). "
                                "Every response is the object the CLI prints with `--format json` for the "
                                "same input: one contract, two doors. POST bodies must be JSON."},
        "paths": {
            "/api/kb": _get("The model", "qmgrade kb export --format json"),
            "/api/assess": _post("Grade an assessment", "qmgrade assess FILE --format json",
                                 params=[_query("trace", "include the rule-firing trace (default true)", "boolean")]),
            "/api/explain": _post("Why a level is (not) reached", "qmgrade explain FILE --format json",
                                  params=[_query("level", "the level to explain (default: the next)")]),
            "/api/roadmap": _post("The improvement plan", "qmgrade roadmap FILE --format json",
                                  params=[_query("target", "the level to reach (default: the next)")]),
            "/api/whatif": _post("Grade before and after changed ratings", "qmgrade whatif FILE --set ... --format json",
                                 body={"type": "object", "required": ["assessment", "set"], "properties": {
                                     "assessment": _ASSESSMENT,
                                     "set": {"type": "array", "items": {"type": "string",
                                                                        "description": "ID=RATING"}}}},
                                 params=[_query("trace", "include the traces (default true)", "boolean")]),
            "/api/trace": _post("The auditor's record", "qmgrade trace FILE --format json"),
            "/api/trace/verify": _post("Does the record reproduce?", "qmgrade trace verify TRACE FILE",
                                       body={"type": "object", "required": ["record", "assessment"],
                                             "properties": {"record": {"type": "object"},
                                                            "assessment": _ASSESSMENT}}),
            "/api/batch": _post("Grade many (bureau)", "qmgrade batch FILE.jsonl --format jsonl",
                                body={"type": "string", "description": "JSON Lines, one assessment a line"},
                                response="ndjson", mime="application/x-ndjson"),
            "/api/stats": _post("Statistics over batch results (bureau)", "qmgrade stats RESULTS --format json",
                                body={"type": "string", "description": "JSON Lines of batch results"},
                                mime="application/x-ndjson"),
            "/api/assessments": _get("The assessments in progress you may see", "—"),
            "/api/assessments/{ident}": {
                **_get("One assessment document", "—", [ident]),
                "put": {"summary": "Replace the assessment document (its company id stays)",
                        "parameters": [ident],
                        "requestBody": {"required": True,
                                        "content": {"application/json": {"schema": _ASSESSMENT}}},
                        "responses": {"200": {"description": "the stored document"},
                                      "400": {"description": "invalid input",
                                              "content": {"application/json": {
                                                  "schema": {"$ref": "#/components/schemas/Error"}}}},
                                      "404": {"description": "no such assessment you may see"}}}},
            "/api/assessments/{ident}/assess": _get("Grade a stored assessment", "qmgrade assess --format json",
                                                    [ident]),
            "/api/assessments/{ident}/explain": _get("Explain a stored assessment",
                                                     "qmgrade explain --format json", [ident]),
            "/api/assessments/{ident}/roadmap": _get("Plan for a stored assessment",
                                                     "qmgrade roadmap --format json", [ident]),
            "/api/assessments/{ident}/trace": _get("Trace a stored assessment", "qmgrade trace --format json",
                                                   [ident]),
            "/api/history/{company}": _get("A company's rounds", "qmgrade history COMPANY --db PATH --format json",
                                           [{"name": "company", "in": "path", "required": True,
                                             "schema": {"type": "string"}}]),
        },
        "components": {"schemas": {
            "Assessment": {"type": "object", "description": "CONTRACT §2: company, assessed_on, ratings, "
                                                            "evidence, facts",
                           "required": ["company", "ratings"],
                           "properties": {"company": {"type": "object"}, "assessed_on": {"type": "string"},
                                          "ratings": {"type": "object"}, "evidence": {"type": "object"},
                                          "facts": {"type": "object"}}},
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}, "problems": {"type": "array",
                                                                              "items": {"type": "string"}}}},
        }},
    }

"""The auditor's record of one grading, and its verification.

A record says which rule decided what from which evidence, and lets anyone
prove later that it was not altered and still reproduces:

``{"format", "input_sha256", "model": {"id", "version", "sha256", "files": [{"path", "sha256"}]},
"company", "assessed_on", "level", "firings": [...], "digest"[, "signature"]}``

- ``format`` is ``qmgrade-trace/2``; records of format 1 (digest over Python's
  JSON text) still verify, and say so;
- ``input_sha256`` hashes the assessment's canonical form (key order free);
- ``model.files`` fingerprints every model file (one entry each), ``model.sha256`` all of them;
- ``firings`` are the firings of the ``assess`` trace, in order, each with the
  rule's description in Chinese and English;
- ``digest`` is the SHA-256 of the RFC 8785 canonical JSON of everything but
  ``digest`` and ``signature`` (docs/trace-digest.md; docs/verify-trace.js
  recomputes it without qmgrade), so altering any part of the record shows;
- ``signature`` (optional) is an Ed25519 signature over those same bytes by
  the assessing body (:mod:`engine.keys`).

The schema is strict: a field the format does not define, a missing
``model.files`` or a file listed twice makes the file "not a qmgrade trace record".

:func:`verify` re-runs the grading and reports the first difference.  The
record is written as one JSON document or as JSON Lines (a header line, one
line per firing, a final ``{"digest"}`` line); :func:`read_record` reads both.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import rfc8785

from . import present, schema
from .assessment import Assessment
from .errors import InputError, Problem
from .grading import Grade, grade, level_object
from .present import level_label, text_of
from .report import tr
from .limits import DEFAULT as DEFAULT_LIMITS, check_lines
from .yamlio import MAX_BYTES, load_text, read_text
from .report import safe_text

__all__ = ["FORMAT", "FORMAT_1", "FORMATS", "RECORD_SCHEMA", "Difference", "make_record", "record_digest",
           "signed_bytes", "sign_record", "check_record_signature", "format_note", "canonical_json",
           "verify", "verify_model", "read_record", "render_json", "render_jsonl", "render_text"]

FORMAT = "qmgrade-trace/2"
FORMAT_1 = "qmgrade-trace/1"      # digest over Python's JSON text (sorted keys, no spaces)
FORMATS = (FORMAT_1, FORMAT)
HEADER_FIELDS = ("format", "input_sha256", "model", "company", "assessed_on", "level")
UNSIGNED = ("digest", "signature")   # the fields the digest and the signature do not cover

_HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_TEXT = {"type": "object", "additionalProperties": {"type": "string"}}   # a text per language the model declares
RECORD_SCHEMA = {
    "type": "object",
    "required": ["format", "input_sha256", "model", "company", "assessed_on", "level", "firings", "digest"],
    "additionalProperties": False,
    "properties": {
        "format": {"enum": list(FORMATS)},
        "input_sha256": _HEX64,
        "model": {
            "type": "object",
            "required": ["id", "version", "sha256", "files"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"}, "version": {"type": "string"}, "sha256": _HEX64,
                "files": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["path", "sha256"], "additionalProperties": False,
                    "properties": {"path": {"type": "string", "minLength": 1}, "sha256": _HEX64}}},
            },
        },
        "company": {"type": "object"},
        "assessed_on": {"type": ["string", "null"]},
        "level": {"type": "object", "required": ["rank", "id", "name"], "additionalProperties": False,
                  "properties": {"rank": {"type": "integer"}, "id": {"type": "string"}, "name": _TEXT}},
        "firings": {"type": "array", "items": {
            "type": "object", "required": ["seq", "rule", "facts", "conclusion", "description"],
            "additionalProperties": False,
            "properties": {"seq": {"type": "integer"}, "rule": {"type": "string"},
                           "facts": {"type": "array", "items": {"type": "object"}},
                           "conclusion": {"type": "object"}, "description": _TEXT}}},
        "digest": _HEX64,
        "signature": {"type": "object", "required": ["algorithm", "public_key", "value"],
                      "additionalProperties": False,
                      "properties": {"algorithm": {"const": "Ed25519"}, "public_key": {"type": "string"},
                                     "value": {"type": "string"}}},
    },
}


# -- making a record ------------------------------------------------------------------
def canonical_json(data: Any) -> str:
    """Python's canonical JSON text (sorted keys, no spaces): what format 1 digests, and how values compare."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def signed_bytes(record: dict) -> bytes:
    """The bytes the digest and the signature are taken over.

    Format 2: the RFC 8785 (JSON Canonicalization Scheme) form of the record
    without ``digest`` and ``signature``; format 1: Python's canonical JSON text
    of the record without ``digest``, in UTF-8.

    Raises
    ------
    ValueError (rfc8785.CanonicalizationError) for a value RFC 8785 cannot carry
    (an integer beyond ±2^53, NaN); TypeError for a value JSON cannot carry.
    """
    if record.get("format") == FORMAT_1:
        content = {key: value for key, value in record.items() if key != "digest"}
        return canonical_json(content).encode("utf-8")
    return rfc8785.dumps({key: value for key, value in record.items() if key not in UNSIGNED})


def record_digest(record: dict) -> str:
    """SHA-256 (hex) of :func:`signed_bytes` of ``record``, by the rules of its format."""
    return hashlib.sha256(signed_bytes(record)).hexdigest()


def format_note(record: dict) -> str:
    """How the record's digest was made, for the verify report."""
    if record.get("format") == FORMAT_1:
        return "record format 1: digest over Python JSON"
    return "record format 2: digest over RFC 8785 canonical JSON"


def sign_record(record: dict, private_key) -> dict:
    """The record with an Ed25519 ``signature`` (:mod:`engine.keys`) over :func:`signed_bytes`."""
    from .keys import signature_block
    if record.get("format") != FORMAT:
        raise ValueError("only records of the current format are signed")
    return {**record, "signature": signature_block(private_key, signed_bytes(record))}


def check_record_signature(record: dict, public_key, key_name: str) -> Optional[str]:
    """Why the record's signature does not verify with ``public_key``, or None when it does."""
    from .keys import check_signature
    block = record.get("signature")
    if block is None:
        return "the record is not signed (sign it with `qmgrade trace FILE --format json --sign KEYFILE`)"
    try:
        signed = signed_bytes(record)
    except (TypeError, ValueError):
        return "the record cannot be canonicalised, so its signature cannot match"
    return check_signature(block, signed, public_key, key_name)


def model_fingerprint(model) -> dict:
    return {"id": model.id, "version": model.version, "sha256": model.sha256,
            "files": [{"path": path.replace("\\", "/"), "sha256": sha} for path, sha in model.files]}


def make_record(model, assessment: Assessment, graded: Optional[Grade] = None, fmt: str = FORMAT) -> dict:
    """The auditor's record of grading ``assessment`` against ``model``.

    ``graded`` is the :class:`~engine.grading.Grade` when the caller already has
    it (graded with ``detail=True``); otherwise the assessment is graded here.

    ``fmt`` is the record format (format 1 only to re-make an old record).

    Raises
    ------
    EngineError when the rules fail; InputError when the assessment holds a
    value RFC 8785 cannot carry (an integer beyond ±2^53).
    """
    graded = graded if graded is not None else grade(model, assessment)
    descriptions = {rule.id: dict(rule.description) for rule in model.rules}
    record = {
        "format": fmt,
        "input_sha256": assessment.sha256,
        "model": model_fingerprint(model),
        "company": dict(assessment.company),
        "assessed_on": assessment.assessed_on,
        "level": level_object(model, graded.level),
        "firings": [{**firing.as_dict(), "description": descriptions[firing.rule]} for firing in graded.firings],
    }
    try:
        record["digest"] = record_digest(record)
    except (TypeError, ValueError) as exc:
        raise InputError(Problem(assessment.path, 1, 1, f"the record cannot be written as canonical JSON "
                                                        f"(RFC 8785): {exc}")) from None
    return record


def render_json(record: dict) -> str:
    """The record as one stable JSON document."""
    return json.dumps(record, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render_jsonl(record: dict) -> str:
    """The record as JSON Lines: the header, one line per firing, then ``{"digest"}``."""
    lines = [{key: record[key] for key in HEADER_FIELDS if key in record}]
    lines.extend(record["firings"])
    lines.append({key: record[key] for key in UNSIGNED if key in record})
    return "".join(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n" for line in lines)


# -- reading a record -----------------------------------------------------------------
def read_record(path: str, line_bytes: int = DEFAULT_LIMITS.line_bytes) -> dict:
    """Read a record written as JSON or JSON Lines, no line longer than ``line_bytes``
    (``--max-line-bytes``; the file read in bounded pieces before it is parsed).

    Raises
    ------
    InputError when the file cannot be read, holds an over-long line or is not a qmgrade trace record.
    """
    check_lines(path, line_bytes, stop=MAX_BYTES)
    text = read_text(path, InputError)
    stripped = text.strip()
    if not stripped.startswith("{"):
        raise InputError(Problem(path, 1, 1, "not a qmgrade trace record: expected the JSON or JSONL record "
                                             "written by `qmgrade trace FILE --format json` (or jsonl)"))
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    jsonl = len(lines) > 1 and all(line.lstrip().startswith("{") and line.rstrip().endswith("}")
                                   for _, line in lines) and _is_object_line(lines[0][1])
    if jsonl:
        record = _from_jsonl(lines, path)
    else:
        record = load_text(text, path, InputError, json_mode=True)
    problems = schema.check(record, RECORD_SCHEMA, path) or _format_problems(record, path)
    if problems:
        raise InputError([Problem(p.path, p.line, p.col, f"not a qmgrade trace record: {p.message}", p.code)
                          for p in problems])
    return record


def _format_problems(record: dict, path: str) -> List[Problem]:
    """What the schema cannot say: a model file listed twice; a signature on a record of format 1."""
    if record["format"] == FORMAT_1 and "signature" in record:
        return [Problem(path, 1, 1, f"a record of format {FORMAT_1} cannot carry a signature")]
    seen: set = set()
    for entry in record["model"]["files"]:
        if entry["path"] in seen:
            return [Problem(path, 1, 1, f"model file {entry['path']} is listed twice in model.files")]
        seen.add(entry["path"])
    return []


def _is_object_line(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def _from_jsonl(lines: List[Tuple[int, str]], path: str) -> dict:
    parsed = []
    for number, line in lines:
        try:
            item = load_text(line, path, InputError, json_mode=True)
        except InputError as exc:
            raise InputError([Problem(path, number, p.col, p.message, p.code) for p in exc.problems]) from None
        if not isinstance(item, dict):
            raise InputError(Problem(path, number, 1,
                                     "not a qmgrade trace record: every line must be a JSON object"))
        parsed.append((number, item))
    (_, header), (last_number, last) = parsed[0], parsed[-1]
    if "input_sha256" not in header:
        raise InputError(Problem(path, 1, 1, "not a qmgrade trace record: the first line has no 'input_sha256'"))
    if "digest" not in last or not set(last) <= set(UNSIGNED):
        raise InputError(Problem(path, last_number, 1,
                                 "not a qmgrade trace record: the last line must be {\"digest\": ...}"))
    record = dict(header)
    record["firings"] = [item for _, item in parsed[1:-1]]
    record.update(last)
    return record


# -- verifying a record ---------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    """The first way a record differs from a re-run (``part``: model, input, firing, result or digest)."""

    part: str
    message: str


def verify(record: dict, assessment: Assessment, model) -> Optional[Difference]:
    """Re-run the grading and compare it with ``record``; None when it reproduces exactly.

    Checked in this order: the model (id, version, each file's fingerprint), the
    input hash, every firing in order, the remaining fields (company, level),
    and last the digest against the record's own content.  A firing of an older
    record format that differs says so: an earlier qmgrade's rules may have fired differently.
    """
    found = _verify(record, assessment, model)
    if found is not None and found.part in ("firing", "result") and record.get("format") != FORMAT:
        return Difference(found.part, f"{found.message} ({format_note(record)}: made by an earlier qmgrade, "
                                      f"whose inference may have fired differently)")
    return found


def _verify(record: dict, assessment: Assessment, model) -> Optional[Difference]:
    found = verify_model(record, model)
    if found:
        return found
    fresh = make_record(model, assessment, fmt=record.get("format", FORMAT))
    tampered = record.get("digest") != record_digest_safe(record)
    note = _TAMPERED if tampered else ""
    if record.get("input_sha256") != fresh["input_sha256"]:
        return Difference("input", f"the assessment is not the one recorded: input sha256 recorded "
                                   f"{_short(record.get('input_sha256'))}, found {_short(fresh['input_sha256'])}"
                          + note)
    recorded, reproduced = record.get("firings") or [], fresh["firings"]
    for index, (old, new) in enumerate(zip(recorded, reproduced)):
        if not _same(old, new):
            where, was, now = _first_difference(old, new)
            seq = new.get("seq", index + 1)
            return Difference("firing", f"firing {seq} ({new['rule']}) differs at {where or 'the firing'}: "
                                        f"recorded {_show(was)}, reproduced {_show(now)}" + note)
    if len(recorded) != len(reproduced):
        if len(recorded) > len(reproduced):
            extra = recorded[len(reproduced)]
            rule = extra.get("rule") if isinstance(extra, dict) else None
            return Difference("firing", f"the record has {len(recorded)} firings, the re-run {len(reproduced)}: "
                                        f"firing {len(reproduced) + 1} ({rule}) is not reproduced" + note)
        missing = reproduced[len(recorded)]
        return Difference("firing", f"the record has {len(recorded)} firings, the re-run {len(reproduced)}: "
                                    f"firing {missing['seq']} ({missing['rule']}) is missing from the record"
                          + note)
    for key in HEADER_FIELDS:
        if key != "model" and not _same(record.get(key), fresh.get(key)):
            where, was, now = _first_difference(record.get(key), fresh.get(key), key)
            return Difference("result", f"{where} differs: recorded {_show(was)}, reproduced {_show(now)}" + note)
    extra = sorted(set(record) - set(fresh) - {"signature"})
    if extra:
        return Difference("result", f"the record has fields the re-run does not: {', '.join(extra)}" + note)
    if tampered:
        return Difference("digest", f"the digest {_short(record.get('digest'))} does not match the record's "
                                    f"content ({_short(fresh['digest'])}): the record was altered")
    return None


_TAMPERED = "; the record's digest does not match its content either: it was altered after it was written"


def verify_model(record: dict, model) -> Optional[Difference]:
    """The first way ``model`` differs from the model the record names (id, version, files), or None.

    Worth checking before the assessment is even read: with another model its
    criterion ids would not resolve.
    """
    found = _model_difference(record.get("model"), model_fingerprint(model))
    if found is None:
        return None
    tampered = record.get("digest") != record_digest_safe(record)
    return Difference("model", found + (_TAMPERED if tampered else ""))


def record_digest_safe(record: dict) -> Optional[str]:
    try:
        return record_digest(record)
    except (TypeError, ValueError):
        return None


def _model_difference(recorded, fresh: dict) -> Optional[str]:
    recorded = recorded if isinstance(recorded, dict) else {}
    if (recorded.get("id"), recorded.get("version")) != (fresh["id"], fresh["version"]):
        return (f"the record was made with model {recorded.get('id')} {recorded.get('version')}, not "
                f"{fresh['id']} {fresh['version']} (pass that model with --model DIR)")
    files = recorded.get("files")
    if isinstance(files, list):
        old = {f.get("path"): f.get("sha256") for f in files if isinstance(f, dict)}
        new = {f["path"]: f["sha256"] for f in fresh["files"]}
        for path in sorted(set(old) | set(new), key=str):
            if path not in new:
                return f"model file {path} is in the record but not in the model"
            if path not in old:
                return f"model file {path} is in the model but not in the record"
            if old[path] != new[path]:
                return (f"model file {path} differs: recorded sha256 {_short(old[path])}, "
                        f"found {_short(new[path])}")
    if recorded.get("sha256") != fresh["sha256"]:
        return (f"the model fingerprint differs: recorded sha256 {_short(recorded.get('sha256'))}, "
                f"found {_short(fresh['sha256'])}")
    return None


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON: ``0`` is not ``false`` and ``1`` is not ``1.0`` (Python's == says they are)."""
    try:
        return canonical_json(old) == canonical_json(new)
    except (TypeError, ValueError):
        return False


def _first_difference(old: Any, new: Any, where: str = "") -> Tuple[str, Any, Any]:
    """The path (``facts[0].criteria[1].rating``) and both values of the first difference."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(new) + sorted((k for k in old if k not in new), key=str):
            if (key in old) != (key in new) or not _same(old.get(key), new.get(key)):
                return _first_difference(old.get(key, _MISSING), new.get(key, _MISSING),
                                         f"{where}.{key}" if where else str(key))
    elif isinstance(old, list) and isinstance(new, list):
        for index, (a, b) in enumerate(zip(old, new)):
            if not _same(a, b):
                return _first_difference(a, b, f"{where}[{index}]")
        if len(old) != len(new):
            return where, _Count(len(old)), _Count(len(new))
    return where, old, new


class _Missing:
    def __repr__(self) -> str:
        return "(nothing)"


_MISSING = _Missing()


@dataclass(frozen=True)
class _Count:
    items: int

    def __repr__(self) -> str:
        return f"{self.items} items"


def _short(value) -> str:
    return value[:12] + "…" if isinstance(value, str) and len(value) > 12 else repr(value)


def _show(value) -> str:
    if isinstance(value, (_Missing, _Count)):
        return repr(value)
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 160 else text[:159] + "…"


# -- the text a person reads ------------------------------------------------------------
_WORDS = {
    "title": ("qmgrade 审核追溯记录", "qmgrade audit trace"),
    "input": ("输入 sha256", "Input sha256"),
    "files": ("个文件", "files"),
    "rules_fired": ("触发的规则", "Rules that fired"),
    "firings": ("规则触发记录", "Firings"),
    "digest": ("摘要 (sha256)", "Digest (sha256)"),
    "verify": ("核验：qmgrade trace verify 记录.json 评估文件（记录须为 json 或 jsonl 格式）",
               "Check with: qmgrade trace verify RECORD.json FILE (a json or jsonl record)"),
    "evidence": ("证据", "evidence"),
    "reaches": ("达到第 {k} 级", "reaches L{k}"),
    "reached": ("已达到第 {k} 级", "has reached L{k}"),
    "meets": ("满足第 {k} 级", "meets L{k}"),
    "misses": ("未满足第 {k} 级", "misses L{k}"),
    "stands": ("等级为 {k}", "stands at L{k}"),
    "barrel_is": ("木桶等级 {k}", "barrel level {k}"),
    "cap_is": ("封顶等级 {k}", "cap at level {k}"),
    "capped": ("等级封顶于 {level}", "level capped at {level}"),
    "company_is": ("企业等级 {level}", "company level {level}"),
    "barrel_level": ("木桶等级 {level}", "barrel level {level}"),
    "stave_level": ("等级为 {level}", "stands at {level}"),
    "no_applicable": ("无适用条款", "no applicable criteria"),
    "keys_ok": ("关键条款均达标", "key criteria all met"),
    "keys_below": ("{n} 项关键条款低于关键最低分 {m}", "{n} key {criteria} below the key minimum {m}"),
    "company_facts": ("企业事实均为默认值", "company facts all at their defaults"),
    "not_rated": ("未评分", "not rated"),
}
_SEP = {"zh": "，", "en": ", "}


def _w(word: str, lang: str, **values) -> str:
    from .report import pick   # in the model's own words (issue 12)
    return pick(_WORDS[word], lang).format(**values)


class _Writer:
    """Turns one record into sentences, given the model for names and the method."""

    def __init__(self, model, lang: str):
        self.model = model
        self.lang = lang
        self.dims = {d.id: d for d in model.dimensions}
        self.facts = {f.id: f for f in model.facts}

    def ratio(self, value, threshold=None) -> str:
        return present.score(value, threshold)   # the one score rule (issue 10)

    def dim(self, ident, seen: set) -> str:
        if ident in seen or ident not in self.dims:
            return safe_text(ident)
        seen.add(ident)
        return f"{safe_text(text_of(self.dims[ident].name, self.lang))} ({ident})"

    def level(self, rank) -> str:
        if isinstance(rank, int) and 1 <= rank <= len(self.model.levels):
            return level_label(level_object(self.model, rank), self.lang)
        return safe_text(rank)

    def generic(self, fact: dict) -> str:
        fields = ", ".join(f"{k}={safe_text(v)}" for k, v in fact.items() if k != "fact" and k != "criteria")
        return f"{safe_text(fact.get('fact'))}({fields})"

    def premise(self, fact: dict, seen: set) -> Optional[str]:
        kind, lang = fact.get("fact"), self.lang
        try:
            if kind == "phase":
                return None
            if kind == "cell":
                where = f"{self.dim(fact['dimension'], seen)} L{fact['level']}"
                if not fact.get("applicable"):
                    return f"{where} {_w('no_applicable', lang)}" if lang == "zh" else \
                        f"{where}: {_w('no_applicable', lang)}"
                score = fact.get("score")
                threshold = self.model.threshold
                sign = "≥" if score is not None and round(score * 1e6) >= round(threshold * 1e6) else "<"
                shown = f"{tr('score', lang)} {self.ratio(score, threshold)} {sign} {tr('threshold', lang)} " \
                        f"{present.number(threshold)}"
                text = f"{where} {shown}" if lang == "zh" else f"{where}: {shown}"
                if fact.get("keys_below"):
                    minimum = self.model.key_minimum_for(fact["level"])   # the key minimum of its level
                    keys = _w("keys_below", lang, n=fact["keys_below"], m=present.number(minimum),
                              criteria="criterion" if fact["keys_below"] == 1 else "criteria")
                else:
                    keys = _w("keys_ok", lang)
                return text + _SEP[lang] + keys
            if kind == "dimension":
                return self.dim(fact["dimension"], seen)
            if kind in ("reached", "met", "unmet", "dimension_level"):
                verb = {"reached": "reached", "met": "meets", "unmet": "misses", "dimension_level": "stands"}[kind]
                return f"{self.dim(fact['dimension'], seen)} {_w(verb, lang, k=fact['level'])}"
            if kind == "barrel":
                return _w("barrel_is", lang, k=fact["level"])
            if kind == "cap":
                return _w("cap_is", lang, k=fact["level"])
            if kind == "company":
                listed: List[str] = []
                for ident, value in fact.items():
                    declared = self.facts.get(ident)
                    if ident == "fact" or declared is None or value == declared.default:
                        continue
                    listed.append(f"{safe_text(text_of(declared.name, lang))} ({ident}) = "
                                 f"{json.dumps(value, ensure_ascii=False)}")
                return _SEP[lang].join(listed) if listed else _w("company_facts", lang)
        except (KeyError, TypeError, ValueError):
            pass
        return self.generic(fact)

    def conclusion(self, fact: dict, seen: set) -> str:
        kind, lang = fact.get("fact"), self.lang
        try:
            if kind in ("met", "unmet"):
                return tr("met" if kind == "met" else "unmet", lang)  # the premise says why
            if kind == "reached":
                return f"{self.dim(fact['dimension'], seen)} {_w('reaches', lang, k=fact['level'])}"
            if kind == "dimension_level":
                return f"{self.dim(fact['dimension'], seen)} " \
                       f"{_w('stave_level', lang, level=self.level(fact['level']))}"
            if kind == "barrel":
                return _w("barrel_level", lang, level=self.level(fact["level"]))
            if kind == "cap":
                return _w("capped", lang, level=self.level(fact["level"]))
            if kind == "company_level":
                return _w("company_is", lang, level=self.level(fact["level"]))
        except (KeyError, TypeError, ValueError):
            pass
        return self.generic(fact)

    def rating(self, entry: dict) -> str:
        lang = self.lang
        if entry.get("not_rated"):   # it counts 0 in the score: the trace says so
            return f"{present.rating_label(None, lang, not_rated=True)} (0)"
        value = entry.get("rating")
        if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
            return present.rating_label(value, lang)
        return safe_text(value)

    def criteria_lines(self, fact: dict) -> List[str]:
        lines = []
        for entry in fact.get("criteria") or []:
            if not isinstance(entry, dict):
                continue
            key = f" [{tr('key', self.lang)}]" if entry.get("key") else ""
            line = f"       - {safe_text(entry.get('criterion'))}{key}: {self.rating(entry)}"
            evidence = entry.get("evidence")
            if evidence:
                refs = "; ".join(safe_text(ref) for ref in evidence)
                line += f"；{_w('evidence', self.lang)}：{refs}" if self.lang == "zh" else \
                    f"; {_w('evidence', self.lang)}: {refs}"
            lines.append(line)
        return lines


def render_text(record: dict, model, lang: str = "en") -> str:
    """The record as a justification a person can follow, firing by firing, in zh or en."""
    writer = _Writer(model, lang)
    out: List[str] = [_w("title", lang)]
    out.append(f"{tr('company', lang)}: {present.for_terminal(present.company_title(record.get('company')))}")
    if record.get("assessed_on"):
        out.append(f"{tr('assessed_on', lang)}: {safe_text(record['assessed_on'])}")
    out.append(f"{_w('input', lang)}: {record['input_sha256']}")
    fingerprint = record["model"]
    out.append(f"{tr('model', lang)}: {fingerprint['id']} {fingerprint['version']}, "
               f"sha256 {fingerprint['sha256']} ({len(fingerprint.get('files', []))} {_w('files', lang)})")
    if record.get("level"):
        out.append(f"{tr('level', lang)}: {level_label(record['level'], lang)}")
    firings = record["firings"]
    counts: dict = {}
    for firing in firings:
        counts[firing["rule"]] = counts.get(firing["rule"], 0) + 1
    descriptions = {rule.id: rule.description for rule in model.rules}
    out.append("")
    out.append(f"{_w('rules_fired', lang)} ({len(counts)}):")
    for rule, count in counts.items():
        out.append(f"  {rule} ×{count}: {text_of(descriptions.get(rule), lang)}")
    out.append("")
    out.append(f"{_w('firings', lang)} ({len(firings)}):")
    for firing in firings:
        seen: set = set()
        premises = [p for p in (writer.premise(f, seen) for f in firing["facts"]) if p]
        sentence = _SEP[lang].join(premises)
        arrow = f" → {writer.conclusion(firing['conclusion'], seen)}"
        out.append(f"  {firing['seq']}. {firing['rule']}: {sentence}{arrow}")
        for fact in firing["facts"]:
            if fact.get("fact") == "cell":
                out.extend(writer.criteria_lines(fact))
    out.append("")
    out.append(f"{_w('digest', lang)}: {record['digest']}")
    out.append(_w("verify", lang))
    return "\n".join(out) + "\n"

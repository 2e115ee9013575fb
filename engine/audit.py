"""The auditor's record of one grading, and its verification.

A record says which rule decided what from which evidence, and lets anyone
prove later that it was not altered and still reproduces:

``{"format", "input_sha256", "model": {"id", "version", "sha256", "files": [{"path", "sha256"}]},
"company", "assessed_on", "level", "firings": [...], "digest"[, "signature"]}``

- ``format`` is ``qmgrade-trace/3`` (issue 13: one rule per stave level, firings batched per
  rule); records of format 2 (the same digest, made under the old rules that climbed each stave
  level by level) say so when they no longer reproduce; records of format 1 (digest over Python's
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

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import rfc8785

from . import schema
from .assessment import Assessment
from .errors import InputError, Problem
from .grading import Grade, grade, level_object
from .limits import DEFAULT as DEFAULT_LIMITS, check_lines
from .yamlio import MAX_BYTES, load_text, read_text

__all__ = ["FORMAT", "FORMAT_1", "FORMAT_2", "FORMATS", "RECORD_SCHEMA", "TraceRecord", "Difference", "make_record",
           "record_digest", "signed_bytes", "sign_record", "check_record_signature", "format_note", "canonical_json",
           "verify", "verify_model", "read_record", "HEADER_FIELDS", "UNSIGNED"]

FORMAT = "qmgrade-trace/3"        # issue 13: the stave decision table, firings batched per rule
FORMAT_2 = "qmgrade-trace/2"      # the same digest; made under the old rules (stave floor/climb/level/top)
FORMAT_1 = "qmgrade-trace/1"      # digest over Python's JSON text (sorted keys, no spaces)
FORMATS = (FORMAT_1, FORMAT_2, FORMAT)
_OLD_RULES = (FORMAT_1, FORMAT_2)   # records made under the rules before the stave decision table
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


# -- the record ----------------------------------------------------------------------
@dataclass(frozen=True)
class TraceRecord:
    """The auditor's record of one grading: the result of :func:`make_record` (``qmgrade trace``).

    ``model`` is the :class:`~engine.model.Model` graded with (its rule descriptions and names
    are what :mod:`engine.render.trace` prints); the other fields are the record's JSON, in its
    order, with ``fingerprint`` as its ``model`` field.  :meth:`as_dict` is the record the digest
    and the signature are taken over (:func:`signed_bytes`); :meth:`to_json` and :meth:`to_jsonl`
    are the bytes ``--format json`` and ``--format jsonl`` write.

    Attributes
    ----------
    format : str
        ``qmgrade-trace/3`` (``/1`` or ``/2`` only for a record re-made to verify an old one).
    input_sha256 : str
        The hash of the assessment's canonical form.
    fingerprint : dict
        The model: ``id``, ``version``, ``sha256`` and each file's ``path`` and ``sha256``.
    company, assessed_on, level
        The assessment's company and date, and the level object the rules concluded.
    firings : list of dict
        Every firing in order (``seq``, ``rule``, ``facts``, ``conclusion``, ``description``).
    digest : str
        SHA-256 of :func:`signed_bytes`.
    signature : dict, optional
        The Ed25519 signature block (:func:`sign_record`).
    """

    model: Any = field(repr=False, compare=False)
    format: str
    input_sha256: str
    fingerprint: Dict[str, Any]
    company: Dict[str, Any]
    assessed_on: Optional[str]
    level: Dict[str, Any]
    firings: List[Dict[str, Any]]
    digest: str
    signature: Optional[Dict[str, Any]] = None

    @classmethod
    def from_dict(cls, model, record: Mapping[str, Any]) -> "TraceRecord":
        """The result from a record's JSON object (as :meth:`as_dict` gives it) and its model."""
        return cls(model=model, format=record["format"], input_sha256=record["input_sha256"],
                   fingerprint=record["model"], company=record["company"], assessed_on=record["assessed_on"],
                   level=record["level"], firings=record["firings"], digest=record["digest"],
                   signature=record.get("signature"))

    def as_dict(self) -> dict:
        """The record as plain data, in the order it is written."""
        record = {"format": self.format, "input_sha256": self.input_sha256, "model": self.fingerprint,
                  "company": self.company, "assessed_on": self.assessed_on, "level": self.level,
                  "firings": self.firings, "digest": self.digest}
        if self.signature is not None:
            record["signature"] = self.signature
        return record

    def to_json(self) -> str:
        """The record as one stable JSON document (``qmgrade trace FILE --format json``)."""
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    def to_jsonl(self) -> str:
        """The record as JSON Lines: the header, one line per firing, then ``{"digest"}`` (and the signature)."""
        record = self.as_dict()
        lines = [{key: record[key] for key in HEADER_FIELDS if key in record}]
        lines.extend(record["firings"])
        lines.append({key: record[key] for key in UNSIGNED if key in record})
        return "".join(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n" for line in lines)


RecordLike = Union[TraceRecord, Mapping[str, Any]]


def _plain(record: RecordLike) -> dict:
    """A record as plain data, whether a :class:`TraceRecord` or a record read from a file."""
    return record.as_dict() if isinstance(record, TraceRecord) else dict(record)


# -- making a record ------------------------------------------------------------------
def canonical_json(data: Any) -> str:
    """Python's canonical JSON text (sorted keys, no spaces): what format 1 digests, and how values compare."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def signed_bytes(record: RecordLike) -> bytes:
    """The bytes the digest and the signature are taken over.

    Format 2: the RFC 8785 (JSON Canonicalization Scheme) form of the record
    without ``digest`` and ``signature``; format 1: Python's canonical JSON text
    of the record without ``digest``, in UTF-8.

    Raises
    ------
    ValueError (rfc8785.CanonicalizationError) for a value RFC 8785 cannot carry
    (an integer beyond ±2^53, NaN); TypeError for a value JSON cannot carry.
    """
    record = _plain(record)
    if record.get("format") == FORMAT_1:
        content = {key: value for key, value in record.items() if key != "digest"}
        return canonical_json(content).encode("utf-8")
    return rfc8785.dumps({key: value for key, value in record.items() if key not in UNSIGNED})


def record_digest(record: RecordLike) -> str:
    """SHA-256 (hex) of :func:`signed_bytes` of ``record``, by the rules of its format."""
    return hashlib.sha256(signed_bytes(record)).hexdigest()


def format_note(record: dict) -> str:
    """How the record's digest was made, for the verify report."""
    if record.get("format") == FORMAT_1:
        return "record format 1: digest over Python JSON"
    if record.get("format") == FORMAT_2:
        return "record format 2: digest over RFC 8785 canonical JSON"
    return "record format 3: digest over RFC 8785 canonical JSON"


def sign_record(record: RecordLike, private_key) -> TraceRecord:
    """The record with an Ed25519 ``signature`` (:mod:`engine.keys`) over :func:`signed_bytes`.

    ``record`` is a :class:`TraceRecord` or a record's JSON object (then the result has no ``model``).
    """
    from .keys import signature_block
    if not isinstance(record, TraceRecord):
        record = TraceRecord.from_dict(None, record)
    if record.format != FORMAT:
        raise ValueError("only records of the current format are signed")
    return dataclasses.replace(record, signature=signature_block(private_key, signed_bytes(record)))


def check_record_signature(record: RecordLike, public_key, key_name: str) -> Optional[str]:
    """Why the record's signature does not verify with ``public_key``, or None when it does."""
    from .keys import check_signature
    record = _plain(record)
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


def make_record(model, assessment: Assessment, graded: Optional[Grade] = None, fmt: str = FORMAT) -> TraceRecord:
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
    return TraceRecord.from_dict(model, record)


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


def verify(record: RecordLike, assessment: Assessment, model) -> Optional[Difference]:
    """Re-run the grading and compare it with ``record``; None when it reproduces exactly.

    Checked in this order: the model (id, version, each file's fingerprint), the
    input hash, every firing in order, the remaining fields (company, level),
    and last the digest against the record's own content.  A firing of an older
    record format that differs says so: an earlier qmgrade's rules may have fired differently.
    """
    record = _plain(record)
    found = _verify(record, assessment, model)
    if found is not None and found.part in ("firing", "result") and record.get("format") != FORMAT:
        return Difference(found.part, f"{found.message} ({format_note(record)}: made by an earlier qmgrade, "
                                      f"whose inference may have fired differently)")
    return found


def _rules_changed(record: dict, model) -> bool:
    """Whether the record names rule files the model does not have (or lacks ones it has)."""
    files = (record.get("model") or {}).get("files") if isinstance(record.get("model"), dict) else None
    if not isinstance(files, list):
        return False
    old = {f.get("path") for f in files if isinstance(f, dict) and str(f.get("path", "")).startswith("rules/")}
    new = {f["path"] for f in model_fingerprint(model)["files"] if f["path"].startswith("rules/")}
    return old != new


def _verify(record: dict, assessment: Assessment, model) -> Optional[Difference]:
    found = verify_model(record, model)
    if found:
        return found
    fresh = make_record(model, assessment, fmt=record.get("format", FORMAT)).as_dict()
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


def verify_model(record: RecordLike, model) -> Optional[Difference]:
    """The first way ``model`` differs from the model the record names (id, version, files), or None.

    Worth checking before the assessment is even read: with another model its
    criterion ids would not resolve.
    """
    record = _plain(record)
    found = _model_difference(record.get("model"), model_fingerprint(model))
    if found is None:
        return None
    tampered = record.get("digest") != record_digest_safe(record)
    if record.get("format") in _OLD_RULES and _rules_changed(record, model):
        found += (f" — this record was made under the old rules ({format_note(record)}): qmgrade-trace/3 "
                  f"replaced the rules that climbed each stave level by level (stave-floor, stave-climb, "
                  f"stave-level, stave-top) with one rule per stave level; verify the record with the qmgrade "
                  f"that made it, or grade the assessment again")
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


"""qmgrade's public Python API: what every command computes, as a library (issue 10).

Each function is a thin wrapper over the functions the command line calls, and
returns the same data the command's ``--format json`` prints (``to_json``
gives those bytes).  Nothing here prints or exits; bad input raises a
:class:`~engine.errors.QmgradeError` (``InputError``, ``ModelError``, …) whose
``problems`` carry ``path:line:col: message``.

>>> import pathlib, yaml
>>> from engine import api
>>> examples = pathlib.Path(api.__file__).resolve().parent.parent / "examples"
>>> expected = yaml.safe_load((examples / "expected.yaml").read_text(encoding="utf-8"))
>>> model = api.load_model()
>>> assessment = api.read_assessment(examples / "level-3-assurance.yaml", model)
>>> result = api.grade(model, assessment)
>>> result.level == expected["level-3-assurance.yaml"]["level"]
True
>>> result.as_dict()["level"]["rank"] == result.level
True
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Iterable, List, Optional, Union

from .assessment import Assessment
from .grading import Grade
from .model import Model

if TYPE_CHECKING:
    from .audit import TraceRecord
    from .diagnosis import Explanation
    from .roadmap import Roadmap
    from .whatif import WhatIf

__all__ = ["load_model", "read_assessment", "grade", "explain", "roadmap", "whatif", "trace", "verify",
           "batch", "to_json"]

PathLike = Union[str, "os.PathLike[str]"]


def load_model(path_or_name: Optional[PathLike] = None, allow_outside: bool = False) -> Model:
    """Load a model: the shipped one, a model directory, or an installed pack by name.

    The reports rendered afterwards speak the model's own words (its subject,
    report titles), as they do on the command line.

    Parameters
    ----------
    path_or_name : str or path, optional
        A model directory (``knowledge/`` and ``rules/``) or the name of an
        installed model pack (``qmgrade kb list``); default: the shipped model.
    allow_outside : bool
        Accept model files that resolve outside the directory (symbolic links).

    Returns
    -------
    Model
        The validated model, its rules compiled for durable_rules.

    Raises
    ------
    ModelError
        With every problem of every file of the model.

    Examples
    --------
    >>> model = load_model()
    >>> model.id
    'qmgrade-default'
    >>> [level.rank for level in model.levels]
    [1, 2, 3, 4, 5]
    """
    from .model import load_model as load
    from .words import use_model_words
    model = load(path_or_name, allow_outside=allow_outside)
    use_model_words(model)
    return model


def read_assessment(path: PathLike, model: Model) -> Assessment:
    """Read an assessment file (YAML, JSON or the XLSX questionnaire) against ``model``.

    Parameters
    ----------
    path : str or path
        The file.
    model : Model
        From :func:`load_model`; criterion ids and facts are checked against it.

    Returns
    -------
    Assessment
        Its ``notes`` say what was read through the model's ``supersedes`` map
        (the command line prints them to standard error).

    Raises
    ------
    InputError
        With every problem of the file, each ``path:line:col: message``.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> assessment = read_assessment(examples / "level-3-assurance.yaml", load_model())
    >>> assessment.company["id"]
    'demo-l3-001'
    """
    from .inputs.reader import read_assessment as read
    return read(os.fspath(path), model)


def grade(model: Model, assessment: Assessment) -> Grade:
    """Grade ``assessment`` against ``model`` in durable_rules (``qmgrade assess``).

    Parameters
    ----------
    model : Model
    assessment : Assessment

    Returns
    -------
    Grade
        ``.level``, ``.barrel``, ``.shortest``; ``.as_dict(trace=True)`` is the
        object ``qmgrade assess --format json`` prints and ``.to_json()`` its text.

    Raises
    ------
    EngineError
        When the rules reach no conclusion (a broken model).

    Examples
    --------
    >>> import pathlib, yaml
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> expected = yaml.safe_load((examples / "expected.yaml").read_text(encoding="utf-8"))
    >>> model = load_model()
    >>> for name, want in sorted(expected.items()):
    ...     result = grade(model, read_assessment(examples / name, model))
    ...     assert (result.level, result.barrel) == (want["level"], want["barrel"]), name
    """
    from .grading import grade as run
    return run(model, assessment)


def explain(model: Model, assessment: Assessment, level: Optional[int] = None,
            graded: Optional[Grade] = None) -> "Explanation":
    """Why the company's level holds and why ``level`` does not (``qmgrade explain``).

    Parameters
    ----------
    model, assessment
        As for :func:`grade`.
    level : int, optional
        The level to explain (default: the next level).
    graded : Grade, optional
        The grade when the caller already has it (saves grading again).

    Returns
    -------
    Explanation
        A frozen value: ``level``, ``holds``, ``target`` and ``why_not``
        (failing cells, caps, the minimal fix); its ``to_json()`` is what
        ``qmgrade explain --format json`` prints, ``as_dict()`` the same as data.

    Raises
    ------
    InputError
        When ``level`` is outside the model's levels.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> assessment = read_assessment(examples / "level-3-assurance.yaml", model)
    >>> why = explain(model, assessment)
    >>> why.target["rank"] == grade(model, assessment).level + 1
    True
    >>> all(cell["score"] is None or cell["score"] < cell["threshold"] or cell["keys_below"]
    ...     for cell in why.why_not["failing"])
    True
    >>> why.to_json() == to_json(why.as_dict())
    True
    """
    from .diagnosis import explain as run
    return run(model, assessment, level=level, graded=graded)


def roadmap(model: Model, assessment: Assessment, target: Optional[int] = None,
            graded: Optional[Grade] = None) -> "Roadmap":
    """The improvement plan to level ``target`` (``qmgrade roadmap``).

    Parameters
    ----------
    model, assessment, graded
        As for :func:`explain`.
    target : int, optional
        The level to reach (default: the next level).

    Returns
    -------
    Roadmap
        One milestone per level, each with its actions in dependency order, dated
        from the assessment day; ``.to_json()`` is what ``qmgrade roadmap --format json``
        prints, :func:`engine.render.roadmap.render_text` the text.

    Raises
    ------
    InputError
        When ``target`` is outside the model's levels.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> plan = roadmap(model, read_assessment(examples / "level-3-assurance.yaml", model))
    >>> plan.target == plan.from_rank + 1 == plan.as_dict()["from"] + 1
    True
    >>> all(action in model.actions for milestone in plan.milestones for action in milestone["actions"])
    True
    >>> from engine.render.roadmap import render_text
    >>> render_text(plan, "en").startswith("Improvement roadmap: ")
    True
    """
    from .roadmap import plan_roadmap
    return plan_roadmap(model, assessment, target=target, graded=graded)


def whatif(model: Model, assessment: Assessment, settings: Iterable[str], trace: bool = True) -> "WhatIf":
    """Grade before and after changing some ratings (``qmgrade whatif``).

    Parameters
    ----------
    model, assessment
        As for :func:`grade`.
    settings : iterable of str
        ``ID=RATING`` changes (``full``, ``largely``, ``partial``, ``none``,
        ``na``, ``全部满足`` … or a number in [0, 1]).
    trace : bool
        Include the rule-firing traces in ``before`` and ``after``.

    Returns
    -------
    WhatIf
        A frozen value: ``changed``, ``before`` and ``after`` (each a Grade,
        exactly what :func:`grade` gives) and ``diff``; its ``to_json()`` is
        what ``qmgrade whatif --format json`` prints.

    Raises
    ------
    InputError
        For an unknown criterion id or a rating that cannot be read.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> assessment = read_assessment(examples / "level-3-assurance.yaml", model)
    >>> first = sorted(model.criteria)[0]
    >>> change = whatif(model, assessment, [f"{first}=full"], trace=False)
    >>> change.changed[0]["criterion"] == first, change.before.level == grade(model, assessment).level
    (True, True)
    >>> change.as_dict()["after"]["level"]["rank"] == change.after.level
    True
    """
    from .whatif import whatif as run
    return run(model, assessment, list(settings), trace=trace)


def trace(model: Model, assessment: Assessment) -> "TraceRecord":
    """The auditor's record of grading ``assessment`` (``qmgrade trace FILE --format json``).

    Returns
    -------
    TraceRecord
        The input hash, the model and a fingerprint of each of its files, every
        firing in order, the level, and a digest over it all; ``.to_json()`` and
        ``.to_jsonl()`` are the files ``qmgrade trace`` writes,
        :func:`engine.render.trace.render_text` the text.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> record = trace(model, read_assessment(examples / "level-3-assurance.yaml", model))
    >>> len(record.digest), record.firings[0]["seq"]
    (64, 1)
    """
    from .audit import make_record
    return make_record(model, assessment)


def verify(record: Union["TraceRecord", dict, PathLike], assessment: Union[Assessment, PathLike],
           model: Model) -> Optional[str]:
    """Whether ``assessment`` still reproduces ``record`` exactly (``qmgrade trace verify``).

    Parameters
    ----------
    record : TraceRecord, dict or path
        A record from :func:`trace` (or its ``as_dict()``), or a file written by
        ``qmgrade trace --format json`` (or jsonl).
    assessment : Assessment or path
        The assessment the record was made from.
    model : Model

    Returns
    -------
    str or None
        None when the re-run reproduces the record; else what differs first
        (a model file, the input hash, a firing, the result or the digest).

    Raises
    ------
    InputError
        When the record or the assessment cannot be read.

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> assessment = read_assessment(examples / "level-3-assurance.yaml", model)
    >>> record = trace(model, assessment)
    >>> verify(record, assessment, model) is None
    True
    >>> verify({**record.as_dict(), "digest": "0" * 64}, assessment, model)[:46]
    'the digest 000000000000… does not match the re'
    """
    from . import audit
    if not isinstance(record, (dict, audit.TraceRecord)):
        record = audit.read_record(os.fspath(record))
    difference = audit.verify_model(record, model)   # before the assessment: another model's ids would not resolve
    if difference is None:
        if not isinstance(assessment, Assessment):
            assessment = read_assessment(assessment, model)
        difference = audit.verify(record, assessment, model)
    return None if difference is None else difference.message


def batch(path: PathLike, model: Model, jobs: Optional[int] = 1, trace: bool = False,
          require_complete: bool = False, encoding: Optional[str] = None) -> List[dict]:
    """Grade many companies (``qmgrade batch INPUT``): one result or error entry per record, in input order.

    Parameters
    ----------
    path : str or path
        A folder of YAML/JSON assessments, JSON Lines, or a wide CSV/XLSX.
    model : Model
    jobs : int, optional
        Worker processes (default 1: grade in this process; None: as many as the CLI uses).
    trace : bool
        Include each company's rule-firing trace.
    require_complete : bool
        A provisional grade (coverage below the model's ``min_coverage``) becomes an error entry.
    encoding : str, optional
        The text encoding of CSV input (``batch --encoding``), e.g. ``gb18030``; default:
        UTF-8 with or without a BOM, else GB18030 (what Excel and WPS save in China).

    Returns
    -------
    list of dict
        What ``qmgrade batch INPUT`` prints, one object per line: an ``assess``
        result, or ``{"company": ..., "error": ..., "errors": [...]}`` for a bad record
        (the company as far as it could be read; ``error`` is the first of ``errors``,
        each ``path:line:col: message``).

    Raises
    ------
    InputError
        When the input cannot be read as a whole (a bad record is an error entry).

    Examples
    --------
    >>> import pathlib
    >>> examples = pathlib.Path(__file__).resolve().parent.parent / "examples"
    >>> model = load_model()
    >>> import yaml
    >>> expected = yaml.safe_load((examples / "expected.yaml").read_text(encoding="utf-8"))
    >>> results = batch(examples / "batch" / "companies.jsonl", model)   # the nine examples, one a line
    >>> sorted(r["level"]["rank"] for r in results) == sorted(e["level"] for e in expected.values())
    True

    A wide CSV saved by Chinese Excel (GB18030) reads the same, found or forced:

    >>> import tempfile
    >>> wide = (examples / "batch" / "wide.csv").read_text(encoding="utf-8-sig")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     gb = pathlib.Path(folder) / "gb.csv"
    ...     _ = gb.write_bytes(wide.encode("gb18030"))
    ...     found, forced = batch(gb, model), batch(gb, model, encoding="gb18030")
    >>> found == forced == batch(examples / "batch" / "wide.csv", model)
    True

    A bad record is an error entry that keeps the company as far as it could be read:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     bad = pathlib.Path(folder) / "bad.jsonl"
    ...     _ = bad.write_text('{"company": {"id": "c-9"}, "ratings": {"qms-3-internal-audit": "ful"}}\\n')
    ...     [entry] = batch(bad, model)
    >>> entry["company"], entry["error"] == entry["errors"][0], "did you mean 'full'?" in entry["error"]
    ({'id': 'c-9'}, True, True)
    """
    from .batch import open_source, run_batch
    lines: List[str] = []
    source = open_source(os.fspath(path), model, encoding=encoding)
    run_batch(source, model, jobs=jobs, trace=trace, sink=lines.append, require_complete=require_complete)
    return [json.loads(line) for line in "".join(lines).splitlines() if line.strip()]


def to_json(data) -> str:
    """``data`` (a result of this module) as the stable JSON text the command line prints.

    >>> to_json({"level": 3, "name": "保证级"})
    '{\\n  "level": 3,\\n  "name": "保证级"\\n}\\n'
    """
    from .export import dumps
    if not isinstance(data, dict) and hasattr(data, "to_json"):   # a typed result: Grade, Explanation, WhatIf …
        return data.to_json()
    return dumps(data)

"""The model: levels, staves, criteria, actions, facts and rules, loaded and validated.

A model is a directory with ``knowledge/`` and ``rules/`` (see
``knowledge/FORMAT.md``).  :func:`load_model` reads every file with safe YAML
loading, checks each against its schema, then checks the model as a whole and
raises :class:`~engine.errors.ModelError` listing *every* problem found, each
as ``path:line:col: message``.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple, TypeVar, Union

from . import schema
from .errors import ModelError, Problem, suggestion
from .yamlio import LocDict, load_file, position, value_position

if TYPE_CHECKING:  # imported where used (action_graph): networkx costs a third of a second at start-up
    import networkx as nx

    from .rules import RuleSet

__all__ = [
    "Level", "Pillar", "Dimension", "Fact", "Criterion", "Action", "Source", "Profile", "Model",
    "load_model", "default_model_dir", "action_graph",
]

SINGLE_SECTIONS = ("model", "method", "effort_scale")   # top-level keys that one file alone may define
SCALE = 1_000_000       # ratios (ratings, scores, thresholds) are asserted as millionths
WEIGHT_SCALE = 1_000    # weights are kept to three decimals
# the Python types a fact's value (or default) of each declared type may have
_PYTHON_TYPES: Dict[str, Union[type, Tuple[type, ...]]] = {
    "boolean": bool, "number": (int, float), "string": str, "date": str, "record": list}
_FIELD_DEFAULT_TYPES = {k: _PYTHON_TYPES[k] for k in ("boolean", "number", "string")}   # record fields' defaults


@dataclass(frozen=True)
class Level:
    rank: int
    id: str
    name: dict
    description: Optional[dict] = None


@dataclass(frozen=True)
class Pillar:
    id: str
    name: dict
    description: Optional[dict] = None


@dataclass(frozen=True)
class Dimension:
    id: str
    pillar: str
    name: dict
    description: Optional[dict] = None


@dataclass(frozen=True)
class Source:
    id: str
    title: dict


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    default: object
    name: dict
    description: Optional[dict] = None
    sources: tuple = ()
    fields: tuple = ()              # record facts: ((name, type), ...) of each event
    optional: tuple = ()            # record fields an event may leave out
    period_months: Optional[int] = None   # record facts: months a cap holds from the event
    period_from: Optional[str] = None     # the date field the period runs from, when given (else `date`)
    choices: tuple = ()             # record fields of type string: ((name, (allowed values)), ...)
    defaults: tuple = ()            # record fields an event may leave out, with the value they then take


@dataclass(frozen=True)
class Criterion:
    id: str
    dimension: str
    level: int
    weight: float
    key: bool
    text: dict
    evidence: dict
    sources: tuple
    where: Tuple[str, int, int] = ("", 1, 1)
    na_allowed: bool = False
    red_flag: bool = False
    anchors: Optional[dict] = None      # {full, largely, partial, none: {zh, en}}
    title: Optional[dict] = None        # a display label, apart from the id (a UUID says nothing to a reader)

    @property
    def weight_units(self) -> int:
        return max(1, round(self.weight * WEIGHT_SCALE))


@dataclass(frozen=True)
class Action:
    id: str
    name: dict
    addresses: tuple
    depends_on: tuple
    effort: int
    description: Optional[dict] = None
    lead_time_months: Optional[int] = None
    strengthen_effort: Optional[int] = None
    kind: str = "intervention"


@dataclass(frozen=True)
class Profile:
    """A business profile: criteria that do not apply to that kind of business."""

    id: str
    name: dict
    not_applicable: tuple
    description: Optional[dict] = None
    where: Tuple[str, int, int] = ("", 1, 1)


_Derived = TypeVar("_Derived")


@dataclass
class Model:
    """A loaded, validated model.  Everything is in declaration order."""

    id: str
    version: str
    name: dict
    description: Optional[dict]
    threshold: float
    key_minimum: float
    levels: List[Level]
    sources: List[Source]
    pillars: List[Pillar]
    dimensions: List[Dimension]
    facts: List[Fact]
    criteria: Dict[str, Criterion]
    actions: Dict[str, Action]
    path: str
    files: List[Tuple[str, str]] = field(default_factory=list)   # (relative path, sha256)
    rules: "RuleSet" = field(default_factory=lambda: _no_rules())  # engine.rules.RuleSet
    key_minimum_by_level: Dict[int, float] = field(default_factory=dict)   # only the levels declared
    min_coverage: Optional[float] = None
    effort_scale: Dict[int, dict] = field(default_factory=dict)   # {1..5: {zh, en, person_weeks: (a, b)}}
    profiles: List[Profile] = field(default_factory=list)
    supersedes: Optional[dict] = None                             # {version, criteria: {old id: new id|None}}
    warnings: List[Problem] = field(default_factory=list)         # kb validate prints them; they never fail
    languages: Tuple[str, ...] = ("zh", "en")                     # the languages the model's texts are in
    words: Dict[str, dict] = field(default_factory=dict)          # the model's own words (subject, titles, …)

    @property
    def floor(self) -> int:
        """The lowest rank: every subject stands at least there; it has no criteria (1, or 0 with a "not yet")."""
        return self.levels[0].rank

    @property
    def criteria_ranks(self) -> range:
        """The ranks that hold criteria: floor + 1 .. top (2..5 for the shipped model)."""
        return range(self.floor + 1, self.top_rank + 1)

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for rel, sha in self.files:
            digest.update(f"{rel}\0{sha}\n".encode())
        return digest.hexdigest()

    @property
    def top_rank(self) -> int:
        return self.levels[-1].rank

    @property
    def threshold_units(self) -> int:
        return round(self.threshold * SCALE)

    @property
    def key_minimum_units(self) -> int:
        return round(self.key_minimum * SCALE)

    def key_minimum_for(self, level: int) -> float:
        """The minimum rating a key criterion of ``level`` needs (method.key_minimum_by_level, else key_minimum)."""
        return self.key_minimum_by_level.get(level, self.key_minimum)

    def key_minimum_units_for(self, level: int) -> int:
        return round(self.key_minimum_for(level) * SCALE)

    def derived(self, name: str, build: Callable[["Model"], _Derived], basis: object = None) -> _Derived:
        """``build(self)``, worked out once per model and kept on it under ``name`` (a batch asks per company);
        worked out again when ``basis`` — the part it is made from, where that part may be replaced (e.g.
        ``self.criteria``) — is another object than the one it was made from."""
        cached = self.__dict__.get(name)
        if cached is None or cached[0] is not basis:
            cached = self.__dict__[name] = (basis, build(self))
        return cached[1]

    @cached_property
    def profiles_by_id(self) -> Dict[str, Profile]:
        return {p.id: p for p in self.profiles}

    def level(self, rank: int) -> Level:
        return self.levels[rank - self.floor]

    @cached_property
    def dimension_ids(self) -> List[str]:
        return [d.id for d in self.dimensions]

    @cached_property
    def dimensions_by_id(self) -> Dict[str, Dimension]:
        return {d.id: d for d in self.dimensions}

    @cached_property
    def cells(self) -> Dict[Tuple[str, int], List[Criterion]]:
        """Criteria of every (dimension, level 2..top), empty cells included, in model order."""
        cells: Dict[Tuple[str, int], List[Criterion]] = {(d.id, k): [] for d in self.dimensions
                                                         for k in self.criteria_ranks}
        for criterion in self.criteria.values():
            cells[(criterion.dimension, criterion.level)].append(criterion)
        return cells

    @cached_property
    def graph(self) -> nx.DiGraph:
        return action_graph(self.actions.values())

    def action_level(self, action_id: str) -> int:
        return min(self.criteria[c].level for c in self.actions[action_id].addresses)


def action_graph(actions) -> nx.DiGraph:
    """Directed graph prerequisite -> action, nodes in declaration order."""
    import networkx as nx  # imported where used: it costs a third of a second at start-up

    graph = nx.DiGraph()
    for action in actions:
        graph.add_node(action.id)
    for action in actions:
        for prerequisite in action.depends_on:
            graph.add_edge(prerequisite, action.id)
    return graph


def _record_fact_problems(name, item) -> list:
    """(position, message, code) of what is wrong with a fact's record declaration (issue 9)."""
    found = []
    fields = item.get("fields") or {}
    if item["type"] == "record":
        if not fields:
            found.append((position(item), f"record fact {item['id']!r} declares no 'fields'", "fact-type"))
        elif fields.get("date") != "date":
            found.append((position(item), f"record fact {item['id']!r} needs a field 'date' of type date "
                                          f"(the day of the event)", "fact-type"))
        for key in ("optional", "period_from", "choices", "defaults"):
            for ident in ([item[key]] if isinstance(item.get(key), str) else item.get(key, [])):
                if ident not in fields:
                    found.append((value_position(item, key), f"{key} names {ident!r}, which is not a field of "
                                                             f"{item['id']!r}{suggestion(ident, fields)}", "fact-type"))
        for ident, value in (item.get("defaults") or {}).items():
            wanted = _FIELD_DEFAULT_TYPES.get(fields.get(ident, ""))
            if wanted and (not isinstance(value, wanted) or (wanted is not bool and isinstance(value, bool))):
                found.append((value_position(item["defaults"], ident),
                              f"default {value!r} of {item['id']}.{ident} is not a {fields[ident]}", "fact-type"))
        if item.get("period_from") and fields.get(item["period_from"]) != "date":
            found.append((value_position(item, "period_from"), "period_from must name a date field", "fact-type"))
    else:
        for key in ("fields", "optional", "period_months", "period_from", "choices", "defaults"):
            if key in item:
                found.append((position(item, key), f"{key!r} belongs to record facts only", "fact-type"))
    return found


def default_model_dir() -> Path:
    """The model shipped with qmgrade (inside the installed package, or the checkout)."""
    here = Path(__file__).resolve().parent
    packaged = here / "model_data"
    if (packaged / "knowledge").is_dir():
        return packaged
    return here.parent


# folders under knowledge/ that are not model files (the calibration corpus)
SKIPPED_KNOWLEDGE_DIRS = ("calibration",)


def _model_files(root: Path, sub: str, allow_outside: bool = False) -> List[Path]:
    """The YAML files of ``root/sub``, sorted.

    A file that resolves outside the model directory (a symbolic link to
    /etc/passwd, a linked folder) is refused unless ``allow_outside``, and so
    is anything that is not a regular file (a pipe would hang the load) —
    before a byte of it is read, so no message can quote it.

    Raises
    ------
    ModelError naming every such file.
    """
    base = root / sub
    if not base.is_dir():
        return []
    found, refused = [], []
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(base):
        if sub == "knowledge" and Path(dirpath) == base:
            dirnames[:] = [d for d in dirnames if d not in SKIPPED_KNOWLEDGE_DIRS]
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = Path(dirpath) / name
            real = os.path.realpath(path)
            if not allow_outside and os.path.commonpath([real, real_root]) != real_root:
                refused.append(Problem(str(path), 1, 1, "resolves outside the model directory (a link?); "
                                                        "refused unless --allow-outside", "outside-model"))
            elif not os.path.isfile(real):
                refused.append(Problem(str(path), 1, 1, "is not a regular file", "outside-model"))
            else:
                found.append(path)
    if refused:
        raise ModelError(refused)
    return sorted(found)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Collector:
    """Collects problems while the model loads."""

    def __init__(self):
        self.problems: List[Problem] = []

    def add(self, path: str, pos: Tuple[int, int], message: str, code: str = "") -> None:
        self.problems.append(Problem(path, pos[0], pos[1], message, code))

    def unknown(self, path, pos, what, name, known, code="unknown-id", broken=()):
        if name in broken:
            return  # already reported where it is defined
        suffix = suggestion(name, known)
        self.add(path, pos, f"unknown {what} {name!r}{suffix}", code)


FEW_CELL_CRITERIA = 3   # a cell with fewer criteria (even with a key one) is graded on very little
DEEP_MODEL_LEVELS = 3   # a model with this many levels of criteria is "deep": its actions usually build on others


def _weak_model_warnings(singles, dimensions, criteria, actions, floor, top, knowledge) -> List[Problem]:
    """Warnings (never errors) on a model that loads but grades on thin ground (issue 12): criteria with no
    evidence guidance, cells with fewer than three criteria or none, and, in a deep model, actions above the
    first level that depend on nothing."""
    found: List[Problem] = []
    cells: Dict[Tuple[str, int], list] = {(d, k): [] for d in dimensions for k in range(floor + 1, top + 1)}
    for ident, (name, item, pos) in criteria.items():
        cells.setdefault((item["dimension"], item["level"]), []).append((name, item, pos))
        if "evidence" not in item:
            found.append(Problem(name, pos[0], pos[1], f"criterion {ident!r} gives no evidence guidance (what an "
                                                       f"assessor looks at to rate it)", "missing-evidence"))
    for (dimension, level), members in sorted(cells.items()):
        if not members:
            name, item, pos = dimensions[dimension]
            found.append(Problem(name, pos[0], pos[1], f"cell {dimension} level {level} holds no criteria: it is "
                                                       f"met by every one assessed", "empty-cell"))
        elif len(members) < FEW_CELL_CRITERIA and any(item.get("key", False) for _, item, _ in members):
            name, item, pos = members[0]   # cells without a key criterion get the thin-cell warning
            found.append(Problem(name, pos[0], pos[1], f"cell {dimension} level {level} holds {len(members)} "
                                                       f"criteria (fewer than {FEW_CELL_CRITERIA})", "few-criteria"))
    levels_with_criteria = {item["level"] for _, item, _ in criteria.values()}
    if len(levels_with_criteria) >= DEEP_MODEL_LEVELS:
        first = floor + 1
        for ident, (name, item, pos) in actions.items():
            own = [criteria[c][1]["level"] for c in item["addresses"] if c in criteria]
            if own and min(own) > first + 1 and not item.get("depends_on"):
                found.append(Problem(name, pos[0], pos[1], f"action {ident!r} (level {min(own)}) depends on no "
                                                           f"other action: in a model of {len(levels_with_criteria)} "
                                                           f"levels, is nothing needed first?", "no-dependency"))
    return found


def _declared_languages(documents) -> Tuple[str, ...]:
    """The ``model.languages`` some file declares (in the order of schema.LANGUAGES), else zh and en."""
    for _, document in documents:
        header = document.get("model") if isinstance(document, dict) else None
        declared = header.get("languages") if isinstance(header, dict) else None
        if isinstance(declared, list) and declared and all(lang in schema.LANGUAGES for lang in declared):
            return tuple(lang for lang in schema.LANGUAGES if lang in declared)
    return schema.LANGUAGES


def model_major(version: str) -> int:
    """The major number of a model version ("2.0.0" -> 2; 0 when it does not start with a number)."""
    head = str(version).split(".")[0].strip().lstrip("vV")
    return int(head) if head.isdigit() else 0


MIN_CELL_CRITERIA = 5   # a cell with fewer criteria and no key criterion swings on one rating


def _check_method_v2(singles, criteria, profiles, broken, issues, warnings, top) -> None:
    """Model-2.0 checks: rating anchors, na only where allowed, profiles, supersedes, thin cells.

    Anchors on key and level 2-3 criteria are required from model version 2 on;
    a 1.x model (written before anchors existed) gets a warning instead.
    """
    header = singles.get("model", (None, {}))[1]
    strict = model_major(header.get("version", "0")) >= 2

    def warn(path, pos, message, code):
        warnings.append(Problem(path, pos[0], pos[1], message, code))

    cells: Dict[Tuple[str, int], list] = {}
    for ident, (name, item, pos) in criteria.items():
        cells.setdefault((item["dimension"], item["level"]), []).append((name, item, pos))
        key = bool(item.get("key", False))
        if key and item.get("na_allowed", False):
            issues.add(name, value_position(item, "na_allowed"),
                       f"criterion {ident!r} is a key criterion: it cannot allow na (set na_allowed: false, "
                       f"or make it not key)", "na-on-key")
        if "anchors" not in item and (key or item["level"] in (2, 3)):
            why = "a key criterion" if key else f"a level-{item['level']} criterion"
            message = (f"criterion {ident!r} has no rating anchors (full, largely, partial, none): "
                       f"{why} needs them")
            if strict:
                issues.add(name, pos, message, "missing-anchors")
            else:
                warn(name, pos, message + " from model version 2 on", "missing-anchors")
    for (dimension, level), members in sorted(cells.items()):
        if len(members) < MIN_CELL_CRITERIA and not any(item.get("key", False) for _, item, _ in members):
            name, item, pos = members[0]
            warn(name, pos, f"cell {dimension} level {level} holds {len(members)} criteria and no key "
                            f"criterion: one rating can swing it (give it {MIN_CELL_CRITERIA} or more, or "
                            f"mark its must-haves key)", "thin-cell")
    for ident, (name, item, _pos) in profiles.items():
        listed = item.get("not_applicable", [])
        for index, criterion_id in enumerate(listed):
            where = position(listed, index)
            if criterion_id not in criteria:
                issues.unknown(name, where, "criterion", criterion_id, criteria, broken=broken["criteria"])
            elif not criteria[criterion_id][1].get("na_allowed", False):
                issues.add(name, where, f"profile {ident!r} lists criterion {criterion_id!r}, which does not "
                                        f"allow na (give it na_allowed: true, or drop it from the profile)",
                           "profile-na")
    supersedes = header.get("supersedes") if isinstance(header, dict) else None
    if supersedes:
        name = singles["model"][0]
        mapping = supersedes.get("criteria") or {}
        for old, new in mapping.items():
            if old in criteria and new != old:
                warn(name, position(mapping, old),
                     f"supersedes maps {old!r} to {new!r}, but {old!r} is still a criterion of this model: a rating "
                     f"of {old!r} rates the current criterion and the map is never used for it", "supersedes-kept")
            if new is not None and new not in criteria:
                issues.unknown(name, value_position(mapping, old), "criterion", new, criteria,
                               broken=broken["criteria"])


def load_model(directory: Union[str, os.PathLike, None] = None, allow_outside: bool = False) -> Model:
    """Load and validate the model in ``directory`` (default: the shipped model).

    Files that resolve outside ``directory`` are refused unless ``allow_outside``.
    A model loaded before from exactly the same files comes from the cache
    (engine/cache.py; ``QMGRADE_NO_CACHE=1`` turns it off).

    Raises
    ------
    ModelError
        With every problem of every file, each ``path:line:col: message``.
    """
    from .cache import cached_load
    from .packs import resolve_model
    directory = resolve_model(directory)   # an installed pack's name becomes its directory (issue 12)
    root = Path(directory) if directory is not None else default_model_dir()
    return cached_load(directory, allow_outside, root, _load_model, _model_files)


def _no_rules() -> "RuleSet":
    from .rules import RuleSet
    return RuleSet()


def _load_model(directory: Optional[os.PathLike] = None, allow_outside: bool = False) -> Model:
    """:func:`load_model` without the cache, in steps: the knowledge files read and checked against the
    schema, each section's ids made unique, the levels, the references between sections, the action
    graph, the method, the rules — and, when nothing is wrong, the :class:`Model` built."""
    root = Path(directory) if directory is not None else default_model_dir()
    shown = _shown_paths(root, directory is not None)
    issues = _Collector()
    files: List[Tuple[str, str]] = []
    sections, singles, broken, languages = _read_knowledge(root, shown, allow_outside, issues, files)
    known = {section: _unique(entries, section, issues) for section, entries in sections.items()}
    floor, top = _check_levels(known["levels"], singles, issues)
    _check_references(known, broken, floor, top, issues)
    _check_action_graph(known["actions"], known["criteria"], issues)
    warnings: List[Problem] = []
    _check_method_v2(singles, known["criteria"], known["profiles"], broken, issues, warnings, top)
    if not issues.problems:
        warnings.extend(_weak_model_warnings(singles, known["dimensions"], known["criteria"], known["actions"],
                                             floor, top, shown(root / "knowledge")))
    rules = _model_rules(root, shown, allow_outside, known, (floor, top), languages, issues, files)
    if issues.problems:
        raise ModelError(sorted(set(issues.problems)))
    return _build_model(root, files, rules, singles, known, languages, warnings)


_SECTIONS = {"levels": "level", "sources": "source", "pillars": "pillar", "dimensions": "dimension",
             "facts": "fact", "criteria": "criterion", "actions": "action", "profiles": "profile"}


def _shown_paths(root: Path, as_given: bool) -> Callable[[Path], str]:
    """How problems name a model file: relative to the model, or as given on the command line."""
    for folder in ("knowledge", "rules"):
        if not (root / folder).is_dir():
            raise ModelError(Problem(str(root), 1, 1, f"not a model directory: it has no {folder}/ folder"))

    def shown(path: Path) -> str:
        return str(path) if as_given else str(path.relative_to(root))
    return shown


def _read_knowledge(root: Path, shown, allow_outside: bool, issues: "_Collector", files: list):
    """Every knowledge file read and checked against the schema: (sections, singles, broken ids, languages)."""
    sections: Dict[str, list] = {k: [] for k in _SECTIONS}
    singles: Dict[str, Tuple[str, LocDict]] = {}
    broken: Dict[str, set] = {k: set() for k in sections}
    knowledge_files = _model_files(root, "knowledge", allow_outside)
    unreadable = False
    if not knowledge_files:
        issues.add(str(root / "knowledge"), (1, 1), "knowledge/ holds no YAML files")
    documents = []
    for path in knowledge_files:
        files.append((str(path.relative_to(root)), _sha256_file(path)))
        name = shown(path)
        try:
            document = load_file(str(path), ModelError)
        except ModelError as exc:
            issues.problems.extend(Problem(name, p.line, p.col, p.message, p.code) for p in exc.problems)
            unreadable = True
            continue
        if document is not None:
            documents.append((name, document))
    languages = _declared_languages(documents)
    file_schema = schema.model_file_schema(languages)
    for name, document in documents:
        bad: set = set()
        issues.problems.extend(schema.check(document, file_schema, name, bad))
        if (None, None) not in bad:
            _sort_sections(name, document, bad, sections, singles, broken, issues)
    if unreadable:
        # a file that does not parse would make every reference into it look unknown
        raise ModelError(sorted(set(issues.problems)))
    if "model" not in singles and not issues.problems:
        issues.add(shown(root / "knowledge"), (1, 1), "no file defines 'model' (id, version, name)")
    return sections, singles, broken, languages


def _sort_sections(name, document, bad, sections, singles, broken, issues: "_Collector") -> None:
    """One checked file's items into their sections (a single section defined once)."""
    for key, value in document.items():
        if key in SINGLE_SECTIONS:
            if (key, None) in bad:
                continue
            if key in singles:
                issues.add(name, position(document, key),
                           f"'{key}' is already defined in {singles[key][0]}", "duplicate-id")
            else:
                singles[key] = (name, value)
            continue
        for index, item in enumerate(value):
            if (key, index) in bad:
                # keep its id known, so references to it do not cascade into more errors
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    broken[key].add(item["id"])
                continue
            sections[key].append((name, item, position(value, index)))


def _unique(entries: list, section: str, issues: "_Collector") -> Dict[str, tuple]:
    """``{id: (file, item, position)}`` of a section; a repeated id is a problem."""
    what = _SECTIONS[section]
    seen: Dict[str, tuple] = {}
    for name, item, pos in entries:
        ident = item["id"]
        if ident in seen:
            first = seen[ident]
            issues.add(name, value_position(item, "id"),
                       f"duplicate {what} id {ident!r} (first defined at {first[0]}:{first[2][0]})",
                       "duplicate-id")
        else:
            seen[ident] = (name, item, pos)
    return seen


def _check_levels(levels: Dict[str, tuple], singles, issues: "_Collector") -> Tuple[int, int]:
    """The levels' ranks run floor..top without gaps: (floor, top)."""
    ranks = sorted(item["rank"] for _, item, _ in levels.values())
    floor = ranks[0] if ranks and ranks[0] == 0 else 1   # a level 0 ("not yet") lets level 1 hold criteria
    if levels and ranks != list(range(floor, floor + len(ranks))):
        name, item, pos = next(iter(levels.values()))
        issues.add(name, pos, f"level ranks must be {floor}..N without gaps or repeats, found {ranks}", "levels")
    if not levels and "model" in singles:
        issues.add(singles["model"][0], (1, 1), "the model declares no levels", "levels")
    return floor, (max(ranks) if ranks else 5)


def _check_references(known: Dict[str, Dict[str, tuple]], broken, floor: int, top: int,
                      issues: "_Collector") -> None:
    """Every id a section names exists; pillars hold dimensions; criteria sit within the levels; facts'
    defaults have their type; every criterion is addressed by an action."""
    sources, pillars, dimensions = known["sources"], known["pillars"], known["dimensions"]
    criteria, actions = known["criteria"], known["actions"]

    def check_sources(name, item):
        for ref in item.get("sources", []):
            if ref["source"] not in sources:
                issues.unknown(name, value_position(ref, "source"), "source", ref["source"], sources)

    for name, item, _pos in dimensions.values():
        if item["pillar"] not in pillars:
            issues.unknown(name, value_position(item, "pillar"), "pillar", item["pillar"], pillars,
                           broken=broken["pillars"])
    used_pillars = {item["pillar"] for _, item, _ in dimensions.values()}
    for name, item, pos in pillars.values():
        if item["id"] not in used_pillars:
            issues.add(name, pos, f"pillar {item['id']!r} has no dimension", "empty-pillar")
    for name, item, _pos in known["facts"].values():
        check_sources(name, item)
        _check_fact(name, item, issues)
    for name, item, _pos in criteria.values():
        if item["dimension"] not in dimensions:
            issues.unknown(name, value_position(item, "dimension"), "dimension", item["dimension"], dimensions,
                           broken=broken["dimensions"])
        _check_criterion_level(name, item, floor, top, bool(known["levels"]), issues)
        check_sources(name, item)
    addressed = set()
    for name, item, _pos in actions.values():
        for index, ident in enumerate(item["addresses"]):
            if ident not in criteria:
                issues.unknown(name, position(item["addresses"], index), "criterion", ident, criteria,
                               broken=broken["criteria"])
            addressed.add(ident)
        for index, ident in enumerate(item.get("depends_on", [])):
            if ident not in actions:
                issues.unknown(name, position(item["depends_on"], index), "action", ident, actions,
                               broken=broken["actions"])
            elif ident == item["id"]:
                issues.add(name, position(item["depends_on"], index),
                           f"action {ident!r} depends on itself", "cycle")
    for name, item, pos in criteria.values():
        if item["id"] not in addressed and not (broken["actions"] and issues.problems):
            issues.add(name, pos, f"criterion {item['id']!r} is addressed by no action", "unaddressed")


def _check_fact(name, item, issues: "_Collector") -> None:
    for problem in _record_fact_problems(name, item):
        issues.add(name, *problem)
    if "default" in item:
        expected = _PYTHON_TYPES[item["type"]]
        value = item["default"]
        if not isinstance(value, expected) or (item["type"] == "number" and isinstance(value, bool)):
            issues.add(name, value_position(item, "default"),
                       f"default {value!r} of fact {item['id']!r} is not a {item['type']}", "fact-type")


def _check_criterion_level(name, item, floor: int, top: int, has_levels: bool, issues: "_Collector") -> None:
    if item["level"] > top:
        issues.add(name, value_position(item, "level"),
                   f"level {item['level']} is above the top level {top}", "level-range")
    elif item["level"] <= floor and has_levels:
        issues.add(name, value_position(item, "level"),
                   f"level {item['level']} is the floor of this model (every one assessed stands at least "
                   f"there) and holds no criteria; to give level 1 criteria, declare a level of rank 0 "
                   f"('not yet') below it", "level-range")


def _check_action_graph(actions: Dict[str, tuple], criteria: Dict[str, tuple], issues: "_Collector") -> None:
    """Dependency cycles and level inversions, only on a graph whose ids resolve."""
    import networkx as nx  # imported where used: it costs a third of a second at start-up

    graph = nx.DiGraph()
    for ident, (_name, item, _pos) in actions.items():
        graph.add_node(ident)
        for prerequisite in item.get("depends_on", []):
            if prerequisite in actions and prerequisite != ident:
                graph.add_edge(prerequisite, ident)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        start = cycle[0][0]
        loop = " -> ".join([start] + [edge[1] for edge in cycle])
        name, item, pos = actions[start]
        issues.add(name, pos, f"dependency cycle: {loop} (each depends on the one before it)", "cycle")

    def action_level(item) -> Optional[int]:
        levels_ = [criteria[c][1]["level"] for c in item["addresses"] if c in criteria]
        return min(levels_) if levels_ else None

    for ident, (name, item, _pos) in actions.items():
        own = action_level(item)
        for index, prerequisite in enumerate(item.get("depends_on", [])):
            if prerequisite not in actions or own is None:
                continue
            theirs = action_level(actions[prerequisite][1])
            if theirs is not None and theirs > own:
                issues.add(name, position(item["depends_on"], index),
                           f"level inversion: action {ident!r} (level {own}) depends on {prerequisite!r}, "
                           f"whose criteria all sit at level {theirs} or above", "level-inversion")


def _model_rules(root: Path, shown, allow_outside: bool, known, ranks: Tuple[int, int], languages, issues: "_Collector",
                 files: list) -> "RuleSet":
    """The rules, checked against the model's facts and sources (skipped when the knowledge is broken and
    there are no rule files)."""
    from .rules import load_rules  # rules need the model's facts first

    rules = _no_rules()
    rule_files = _model_files(root, "rules", allow_outside)
    for path in rule_files:
        files.append((str(path.relative_to(root)), _sha256_file(path)))
    fact_types = {ident: dict(item.get("fields", {})) if item["type"] == "record" else item["type"]
                  for ident, (_, item, _) in known["facts"].items()}
    if not issues.problems or rule_files:
        floor, top = ranks
        rules, rule_problems = load_rules(rule_files, shown, fact_types, set(known["sources"]), top,
                                          languages=languages, floor=floor)
        issues.problems.extend(rule_problems)
    if not rule_files:
        issues.add(shown(root / "rules"), (1, 1), "rules/ holds no rule files", "no-rules")
    return rules


def _text(item, key, languages):
    """A bilingual text; a model written in one language shows that text whichever language is asked for."""
    value = item.get(key)
    if not value:
        return None
    return {lang: value.get(lang) or next(value[x] for x in languages if value.get(x))
            for lang in schema.LANGUAGES}


def _refs(item) -> tuple:
    return tuple({k: ref[k] for k in ("source", "clause", "note") if k in ref} for ref in item.get("sources", []))


def _build_model(root: Path, files: list, rules, singles, known, languages, warnings: List[Problem]) -> Model:
    """The :class:`Model` of a checked model directory."""
    header = singles["model"][1]
    method: dict = singles.get("method", (None, {}))[1]

    def text(item, key):
        return _text(item, key, languages)

    def anchors(item):
        value = item.get("anchors")
        return {r: text(value, r) for r in schema.ANCHOR_RATINGS} if value else None

    supersedes = header.get("supersedes")
    return Model(
        id=header["id"], version=header["version"], name=text(header, "name"),
        description=text(header, "description"),
        threshold=float(method.get("threshold", 0.8)), key_minimum=float(method.get("key_minimum", 0.8)),
        levels=[Level(item["rank"], item["id"], text(item, "name"), text(item, "description"))
                for _, item, _ in sorted(known["levels"].values(), key=lambda t: t[1]["rank"])],
        sources=[Source(item["id"], text(item, "title")) for _, item, _ in known["sources"].values()],
        pillars=[Pillar(item["id"], text(item, "name"), text(item, "description"))
                 for _, item, _ in known["pillars"].values()],
        dimensions=[Dimension(item["id"], item["pillar"], text(item, "name"), text(item, "description"))
                    for _, item, _ in known["dimensions"].values()],
        facts=[Fact(item["id"], item["type"],
                    [] if item["type"] == "record" else   # a plain list (the loader's is located)
                    item.get("default", {"boolean": False, "number": 0, "string": "", "date": None}[item["type"]]),
                    text(item, "name"), text(item, "description"), _refs(item),
                    tuple(item.get("fields", {}).items()), tuple(item.get("optional", [])),
                    item.get("period_months"), item.get("period_from"),
                    tuple((k, tuple(v)) for k, v in item.get("choices", {}).items()),
                    tuple(item.get("defaults", {}).items()))
               for _, item, _ in known["facts"].values()],
        criteria={ident: Criterion(ident, item["dimension"], item["level"], float(item.get("weight", 1)),
                                   bool(item.get("key", False)), text(item, "text"), text(item, "evidence"),
                                   _refs(item), (name, pos[0], pos[1]),
                                   bool(item.get("na_allowed", False)), bool(item.get("red_flag", False)),
                                   anchors(item), text(item, "title"))
                  for ident, (name, item, pos) in known["criteria"].items()},
        actions={ident: Action(ident, text(item, "name"), tuple(item["addresses"]),
                               tuple(item.get("depends_on", [])), item["effort"], text(item, "description"),
                               item.get("lead_time_months"), item.get("strengthen_effort"),
                               item.get("kind", "intervention"))
                 for ident, (name, item, pos) in known["actions"].items()},
        path=str(root),
        files=sorted(files),
        rules=rules,
        key_minimum_by_level={int(k): float(v) for k, v in sorted(
            method.get("key_minimum_by_level", {}).items(), key=lambda kv: int(kv[0]))},
        min_coverage=float(method["min_coverage"]) if "min_coverage" in method else None,
        effort_scale={int(k): {**text({"w": v}, "w"), "person_weeks": tuple(v["person_weeks"])}
                      for k, v in sorted(singles.get("effort_scale", (None, {}))[1].items(),
                                         key=lambda kv: int(kv[0]))},
        profiles=[Profile(ident, text(item, "name"), tuple(item.get("not_applicable", [])),
                          text(item, "description"), (name, pos[0], pos[1]))
                  for ident, (name, item, pos) in known["profiles"].items()],
        supersedes={"version": str(supersedes["version"]), "criteria": dict(supersedes["criteria"])}
        if supersedes else None,
        warnings=sorted(set(warnings)),
        languages=languages,
        words={key: text(header.get("words", {}), key) for key in header.get("words", {})},
    )

"""Shared fixtures: small hand-built models written to tmp_path, and the CLI runner."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent

# Every record engine.assessment's fast path accepts is read by its full path too and must come out the same,
# or the call fails (issue 13): the whole suite — the catalogue, the hostile inputs, the fuzzers — checks the
# fast path against the full one; subprocesses inherit the setting.
os.environ.setdefault("QMGRADE_CHECK_FAST_PATH", "1")

# Hypothesis profiles: "ci" (CI=true, or HYPOTHESIS_PROFILE=ci, as `make test` sets) runs a quarter of each
# property test's examples; "full" (HYPOTHESIS_PROFILE=full, `make test-full`) runs them all.
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "full")
settings.register_profile("full", deadline=None)
settings.register_profile("ci", deadline=None, max_examples=25)
settings.load_profile(HYPOTHESIS_PROFILE if HYPOTHESIS_PROFILE in ("ci", "full") else "full")


def examples(n: int) -> int:
    """``n`` examples for a property test, a quarter of them (at least 10) under the ci profile."""
    return max(10, n // 4) if HYPOTHESIS_PROFILE == "ci" else n

CORE_RULES = ["cell-met", "cell-empty", "cell-below-threshold", "key-gate", "stave-level-1", "stave-level-2",
              "stave-level-3", "stave-level-4", "stave-level-5", "barrel", "company-level", "company-level-capped"]

LEVELS = [
    {"rank": 1, "id": "experience", "name": {"zh": "经验级", "en": "Experience"}},
    {"rank": 2, "id": "inspection", "name": {"zh": "检验级", "en": "Inspection"}},
    {"rank": 3, "id": "assurance", "name": {"zh": "保证级", "en": "Assurance"}},
    {"rank": 4, "id": "prevention", "name": {"zh": "预防级", "en": "Prevention"}},
    {"rank": 5, "id": "excellence", "name": {"zh": "卓越级", "en": "Excellence"}},
]

def cap_rule(level: int, description: str = "近三年发生产品召回，等级封顶。") -> str:
    """A rule capping the level at ``level`` while ``product_recall_3y`` is true."""
    return textwrap.dedent(f"""\
        description: {{zh: {description}, en: A product recall in the last three years caps the level at {level}.}}
        sources: [{{source: seed}}]
        when:
          - fact: company
            where:
              product_recall_3y: true
        then:
          conclude: cap
          set:
            level: {level}
        """)


CAP_RULE = cap_rule(2, "近三年发生产品召回，等级封顶于检验级。")


def t(zh, en):
    return {"zh": zh, "en": en}


def build_model(root: Path, dimensions=("alpha", "beta", "gamma"), per_cell=2, weights=None, keys=(),
                threshold=0.8, key_minimum=0.8, actions=None, extra_rules=None, with_cap=True) -> Path:
    """Write a small model: ``per_cell`` criteria in every (dimension, level 2..5) cell.

    Criterion ids are ``<dim>-<level>-<n>``; one action per criterion (``do-<id>``),
    each depending on the action of the criterion one level below in its stave.
    """
    knowledge = root / "knowledge"
    rules = root / "rules"
    knowledge.mkdir(parents=True)
    rules.mkdir()
    weights = weights or {}
    criteria, default_actions = [], []
    for dim in dimensions:
        for level in range(2, 6):
            for n in range(1, per_cell + 1):
                cid = f"{dim}-{level}-{n}"
                criteria.append({
                    "id": cid, "dimension": dim, "level": level, "weight": weights.get(cid, 1),
                    "key": cid in keys, "text": t(f"条款 {cid}", f"Criterion {cid}"),
                    "evidence": t(f"证据 {cid}", f"Evidence for {cid}"), "sources": [{"source": "seed"}]})
                action = {"id": f"do-{cid}", "name": t(f"措施 {cid}", f"Action {cid}"), "addresses": [cid],
                          "effort": 1 + (n % 5)}
                if level > 2:
                    action["depends_on"] = [f"do-{dim}-{level - 1}-{n}"]
                default_actions.append(action)
    document = {
        "model": {"id": "tiny", "version": "0.1", "name": t("小模型", "Tiny model")},
        "method": {"threshold": threshold, "key_minimum": key_minimum},
        "levels": LEVELS,
        "sources": [{"id": "seed", "title": t("实施意见", "The opinions")},
                    {"id": "gbt19004", "title": t("GB/T 19004", "GB/T 19004")}],
        "pillars": [{"id": "p1", "name": t("支柱一", "Pillar one")}],
        "dimensions": [{"id": d, "pillar": "p1", "name": t(f"维度{d}", f"Dimension {d}")} for d in dimensions],
        "facts": [{"id": "product_recall_3y", "type": "boolean", "default": False,
                   "name": t("近三年产品召回", "Product recall in the last 3 years")}],
    }
    (knowledge / "model.yaml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    (knowledge / "criteria.yaml").write_text(
        yaml.safe_dump({"criteria": criteria}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (knowledge / "actions.yaml").write_text(
        yaml.safe_dump({"actions": actions if actions is not None else default_actions},
                       allow_unicode=True, sort_keys=False), encoding="utf-8")
    for rule in CORE_RULES:
        shutil.copy(ROOT / "rules" / f"{rule}.yaml", rules / f"{rule}.yaml")
    if with_cap:
        (rules / "cap-recall.yaml").write_text(CAP_RULE, encoding="utf-8")
    for name, text in (extra_rules or {}).items():
        (rules / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def write_assessment(path: Path, ratings: dict, facts=None, company=None, evidence=None) -> Path:
    document = {"company": company or {"id": "c-1", "name": "测试公司"}, "ratings": ratings}
    if facts:
        document["facts"] = facts
    if evidence:
        document["evidence"] = evidence
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ratings_up_to(model, k: int, low="none") -> dict:
    """All criteria of levels <= k rated full, the rest ``low``."""
    return {cid: ("full" if c.level <= k else low) for cid, c in model.criteria.items()}


def run(runner, *args):
    """Invoke the CLI with every argument as a string."""
    from cli import main
    return runner.invoke(main, [str(a) for a in args])


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model")


@pytest.fixture
def model(model_dir):
    import engine
    return engine.load_model(model_dir)


@pytest.fixture
def tiny_model_dir(tmp_path):
    return build_model(tmp_path / "model")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(autouse=True, scope="session")
def _private_model_cache(tmp_path_factory):
    """The tests' loaded models are cached in a folder of their own, never in the user's ~/.cache (issue 13)."""
    import os
    if "QMGRADE_CACHE_DIR" not in os.environ:
        os.environ["QMGRADE_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))
    yield

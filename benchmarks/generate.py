"""Synthetic companies over a model, seeded, with a realistic spread of levels.

Each company gets a *maturity* (the level its practice mostly reaches, drawn
from a distribution shaped like a provincial survey: many at 检验级 and 保证级,
few at 卓越级), then every criterion is rated from it: mostly full at or below
the maturity with one or two weaker staves (the short staves that hold a real
company back), mixed just above it, mostly partial or none beyond.  A few
criteria are left unrated or marked na, and a few companies carry a veto fact.

    python benchmarks/generate.py 10000 --seed 1 > companies.jsonl
    python benchmarks/generate.py 50 --format csv > survey.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402

MATURITY = {1: 0.18, 2: 0.34, 3: 0.28, 4: 0.14, 5: 0.06}
REGIONS = ["浙江", "江苏", "广东", "山东", "福建", "安徽", "湖北", "四川", "河南", "辽宁"]
INDUSTRIES = ["C13", "C17", "C26", "C29", "C33", "C34", "C35", "C36", "C38", "C39", "C40"]


def _choice(rng: random.Random, weights: dict):
    point = rng.random() * sum(weights.values())
    for value, weight in weights.items():
        point -= weight
        if point < 0:
            return value
    return value


KINDS = ("realistic", "random")
RANDOM_RATINGS = ("full", "largely", "partial", "none")


def generate(model, count: int, seed: int = 1, kind: str = "realistic") -> Iterator[dict]:
    """``count`` assessment documents (CONTRACT §2), the same for the same seed, kind and model.

    ``kind`` "realistic" draws a maturity per company (most at levels 1-3); "random" rates every
    criterion uniformly at random (nearly every company then stops at level 1 or 2).  Either way
    na is used only where the model allows it (``na_allowed``; every criterion of a 1.x model).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    rng = random.Random(seed)
    dims = [d.id for d in model.dimensions]
    boolean_facts = [f.id for f in model.facts if f.type == "boolean"]
    na_ok = {cid: getattr(c, "na_allowed", True) or str(model.version).split(".")[0] in ("0", "1")
             for cid, c in model.criteria.items()}
    for index in range(count):
        maturity = _choice(rng, MATURITY)
        weak = set(rng.sample(dims, k=rng.choice([0, 0, 1, 1, 2])))
        ratings = {}
        for cid, criterion in model.criteria.items():
            roll = rng.random()
            if roll < 0.002:
                continue                                   # not rated
            if roll < 0.02 and na_ok[cid]:
                ratings[cid] = "na"
                continue
            if kind == "random":
                ratings[cid] = RANDOM_RATINGS[rng.randrange(4)]
                continue
            reach = maturity - (1 if criterion.dimension in weak else 0)
            if criterion.level <= reach:
                ratings[cid] = _choice(rng, {"full": 0.95, "largely": 0.045, "partial": 0.005})
            elif criterion.level == reach + 1:
                ratings[cid] = _choice(rng, {"full": 0.35, "largely": 0.3, "partial": 0.25, "none": 0.10})
            else:
                ratings[cid] = _choice(rng, {"largely": 0.1, "partial": 0.35, "none": 0.55})
        document = {
            "company": {"id": f"syn-{seed}-{index:06d}", "name": f"合成企业{index:06d}",
                        "industry": rng.choice(INDUSTRIES), "region": rng.choice(REGIONS)},
            "assessed_on": f"2026-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}",
            "ratings": ratings,
        }
        if boolean_facts and rng.random() < 0.03:
            document["facts"] = {rng.choice(boolean_facts): True}
        yield document


def write_jsonl(model, count: int, seed: int, stream, kind: str = "realistic") -> None:
    for document in generate(model, count, seed, kind):
        stream.write(json.dumps(document, ensure_ascii=False) + "\n")


def csv_rows(model, count: int, seed: int, kind: str = "realistic") -> Iterator[list]:
    """The header, then one row per company, of the wide layout of survey tools (facts as yes/blank)."""
    facts = [f.id for f in model.facts if f.type == "boolean"]
    yield ["company_id", "company_name", "industry", "region", "assessed_on", *model.criteria, *facts]
    for d in generate(model, count, seed, kind):
        c = d["company"]
        yield [c["id"], c["name"], c["industry"], c["region"], d["assessed_on"],
               *[d["ratings"].get(cid, "") for cid in model.criteria],
               *["yes" if d.get("facts", {}).get(f) else "" for f in facts]]


def write_csv(model, count: int, seed: int, stream, kind: str = "realistic") -> None:
    """The wide layout of survey tools (facts as yes/blank)."""
    csv.writer(stream, lineterminator="\n").writerows(csv_rows(model, count, seed, kind))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.add_argument("--kind", choices=KINDS, default="realistic",
                        help="realistic spread of levels (default) or every rating at random")
    parser.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    parser.add_argument("--out", default=None, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    model = engine.load_model(args.model)
    write = write_jsonl if args.format == "jsonl" else write_csv
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as stream:
            write(model, args.count, args.seed, stream, args.kind)
    else:
        write(model, args.count, args.seed, sys.stdout, args.kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())

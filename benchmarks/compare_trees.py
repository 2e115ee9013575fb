"""Do two qmgrade source trees grade byte for byte alike?  (Issue 13: speed work must not change a result.)

Grades, with each tree's ``cli.py`` and the same model: every example in
``examples/`` (``assess --format json --no-trace``) and a seeded sample of
synthetic companies of both kinds (``batch --jobs 1``, whose lines are the
``assess --format json --no-trace`` objects), and compares the outputs byte
for byte.  Exit 0 when all are identical.

    git worktree add /tmp/qm-base HEAD~3      # the tree before a change
    python benchmarks/compare_trees.py /tmp/qm-base --model /tmp/model-copy --count 200
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import engine  # noqa: E402
from generate import KINDS, generate  # noqa: E402


def run(tree: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(tree / "cli.py"), *map(str, args)], capture_output=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the other source tree (e.g. a git worktree of an older commit)")
    parser.add_argument("--new", default=str(ROOT), help="this tree (default)")
    parser.add_argument("--model", default=None, help="model directory both trees use (default: this tree's)")
    parser.add_argument("--count", type=int, default=200, help="seeded companies of each kind")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    old, new = Path(args.old).resolve(), Path(args.new).resolve()
    model_dir = Path(args.model).resolve() if args.model else engine.default_model_dir()
    model = engine.load_model(model_dir)
    flag = ["--model", model_dir]
    differences = compared = 0
    with tempfile.TemporaryDirectory(prefix="qmgrade-compare-") as tmp:
        for original in sorted((ROOT / "examples").glob("*.yaml")):
            if original.name == "expected.yaml":
                continue
            example = Path(tmp) / original.name        # a copy: both trees read the same bytes
            example.write_bytes(original.read_bytes())
            outputs = [run(tree, "assess", example, "--format", "json", "--no-trace", *flag) for tree in (old, new)]
            compared += 1
            same = all((a.stdout, a.stderr, a.returncode) == (outputs[0].stdout, outputs[0].stderr,
                                                              outputs[0].returncode) for a in outputs)
            if not same:
                differences += 1
                print(f"DIFFERENT: {example.name}")
        for kind in KINDS if args.count else ():
            source = Path(tmp) / f"{kind}.jsonl"
            with open(source, "w", encoding="utf-8") as stream:
                for document in generate(model, args.count, args.seed, kind):
                    stream.write(json.dumps(document, ensure_ascii=False) + "\n")
            results = []
            for tree in (old, new):
                out = Path(tmp) / f"{kind}-{tree.name}.jsonl"
                done = run(tree, "batch", source, "--out", out, "--jobs", "1", *flag)
                results.append(out.read_bytes().splitlines() if out.exists() else [done.stderr])
            compared += args.count
            for index, (a, b) in enumerate(zip(*results)):
                if a != b:
                    differences += 1
                    if differences <= 5:
                        print(f"DIFFERENT: {kind} company {index}")
            if len(results[0]) != len(results[1]):
                differences += 1
                print(f"DIFFERENT: {kind}: {len(results[0])} vs {len(results[1])} results")
    print(f"{compared} gradings compared ({old} vs {new}, model {model.id} {model.version}): "
          f"{'identical' if not differences else f'{differences} different'}")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())

"""What a newcomer reads and installs (issue 10, items 6 and 7).

The README points at nothing outside the repository, every file its commands read is shipped (or
made by an earlier command of the same block), it says how to get `qmgrade` on PATH, draws the
layers and gives the test time; pyproject.toml states ranges and constraints.txt pins each one.
"""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(?:sh|bash)\n(.*?)```", README, re.S)

# the repository's own top-level folders: a backticked path starting with one of these must exist
TOP = ("docs", "knowledge", "examples", "engine", "tests", "benchmarks", "rules")


def commands():
    """Each qmgrade command line of the README's shell blocks, with the files earlier lines wrote."""
    for block in BLOCKS:
        written: set = set()
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if not line:
                continue
            words = shlex.split(line)
            if words[0] in (".venv/bin/qmgrade", "qmgrade"):
                yield line, words[1:], set(written)
            for flag in ("--out", "--db"):
                if flag in words:
                    target = words[words.index(flag) + 1]
                    written |= {target, f"{target}.key", f"{target}.pub"}     # keys new --out BODY


def test_the_readme_points_at_nothing_outside_the_repository():
    assert "../" not in README
    named = set(re.findall(r"`((?:%s)/[^`\s]*)`" % "|".join(TOP), README))
    assert {"docs/CONTRACT.md", "docs/api.md", "examples/batch/"} <= named
    for path in sorted(named):
        assert list(ROOT.glob(path.rstrip("/"))), f"README names {path}, which is not in the repository"


@pytest.mark.parametrize("line, words, written", list(commands()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_file_a_readme_command_reads_is_there(line, words, written):
    reads = [w for w in words if re.search(r"\.(ya?ml|jsonl?|csv|xlsx)$", w) and not w.startswith("-")]
    options = {words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("--")}
    for word in reads:
        if word in options and words[words.index(word) - 1] in ("--out", "--db"):
            continue                                       # written by this command
        assert (ROOT / word).exists() or word in written, f"{line}: {word} is neither shipped nor made above"


def test_the_readme_says_how_to_run_qmgrade_and_draws_the_layers():
    assert "source .venv/bin/activate" in README and "pipx install ." in README
    bare = [line for line, words, _ in commands() if line.startswith("qmgrade")]
    assert bare and README.index("source .venv/bin/activate") < README.index(bare[0])
    architecture = README.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    for layer in ("cli.py", "engine/api.py", "inputs", "inference", "engine/render/"):
        assert layer in architecture
    # the measured time of `make test`, written down (seconds or minutes of wall-clock time)
    assert re.search(r"`make test`[^.]*?\b\d+(?:\.\d+)? ?(?:s|seconds|min|minutes)\b[^.]*?wall", README, re.S)


def test_dependencies_are_ranges_and_the_constraints_pin_each():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")
        assert "==" not in requirement, f"pyproject pins {requirement}: use a range"
        assert re.search(r">=", requirement), f"{requirement}: no lower bound"
        assert name in pins, f"constraints.txt does not pin {name}"
    assert "-c constraints.txt" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_the_import_sample_the_readme_uses_makes_a_model_that_validates(runner, tmp_path):
    from conftest import run
    out = tmp_path / "my-model"
    made = run(runner, "kb", "import", ROOT / "examples/import/criteria.csv", "--actions",
               ROOT / "examples/import/actions.csv", "--id", "my-model", "--name", "My maturity model", "--out", out)
    assert made.exit_code == 0, made.output
    validated = run(runner, "kb", "validate", "--model", out)
    assert validated.exit_code == 0 and validated.stdout.startswith("OK: my-model 0.1.0"), validated.output
    assert "2 dimensions, 18 criteria (6 key), 6 actions (4 dependencies)" in validated.stdout


def test_the_python_examples_of_the_docs_name_shipped_files():
    for page in ("README.md", "docs/api.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        blocks = re.findall(r"```python\n(.*?)```", text, re.S)
        assert blocks, page
        named = re.findall(r"[\"']([^\"'\s]+\.(?:ya?ml|jsonl?|csv|xlsx))[\"']", "".join(blocks))
        assert named, page
        for path in named:
            assert (ROOT / path).exists(), f"{page}: {path} is not shipped"


def test_the_readme_s_python_example_runs(monkeypatch):
    block = re.search(r"## Python API.*?```python\n(.*?)```", README, re.S).group(1)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)     # noqa: S102 (the README's own example)
    assert scope["result"].level == 3 and scope["plan"].to_json()

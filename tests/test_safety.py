"""Safety: safe YAML only, no eval or dynamic import, user text escaped in HTML and Markdown,
output written atomically and never over an input."""
from __future__ import annotations

import ast
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import engine
from conftest import build_model, ratings_up_to, write_assessment, run
from engine.errors import InputError
from engine.export import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "engine").rglob("*.py")) + [ROOT / "cli.py"]
SCRIPT = "<script>alert(1)</script>"
MARKDOWN = "*bold* _it_ `code` [link](http://evil.example) ![img](x.png) | pipe | # hash > quote ~~s~~ \\ &amp;"


# -- safe YAML -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system",
                                 "!!python/name:os.system", "!!python/module:os"])
def test_python_tags_are_refused_and_never_run(runner, tiny_model_dir, tmp_path, tag):
    marker = tmp_path / "pwned"
    path = tmp_path / "a.yaml"
    path.write_text(f"company: {tag} ['touch {marker}']\nratings: {{}}\n", encoding="utf-8")
    result = run(runner, "assess", path, "--model", tiny_model_dir)
    assert result.exit_code == 1
    assert result.output == (f"Error: {path}:1:10: malformed YAML: could not determine a constructor for the tag "
                             f"'tag:yaml.org,2002:{tag[2:]}'\n")
    assert not marker.exists()


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            yield node, owner, name


def test_no_eval_exec_or_dynamic_import_anywhere_in_the_engine_or_the_cli():
    found = []
    for source in SOURCES:
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
        for node, owner, name in _calls(tree):
            dangerous = (
                (owner == "" and name in {"eval", "exec", "compile", "__import__"} and isinstance(node.func, ast.Name))
                or (owner == "importlib") or name == "import_module"
                or (owner in {"pickle", "marshal", "shelve", "dill"})
                or (owner == "yaml" and name in {"load", "load_all", "unsafe_load", "full_load", "unsafe_load_all"})
                or (owner == "os" and name in {"system", "popen", "execv", "execvp", "spawnl"})
                or (owner == "subprocess")
                or any(k.arg == "shell" for k in node.keywords))
            if dangerous:
                found.append(f"{source.relative_to(ROOT)}:{node.lineno}: {owner + '.' if owner else ''}{name}")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for module in modules:
                    if module.split(".")[0] in {"importlib", "pickle", "marshal", "shelve", "dill", "subprocess"}:
                        found.append(f"{source.relative_to(ROOT)}:{node.lineno}: import {module}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml" \
                    and node.attr in {"Loader", "UnsafeLoader", "FullLoader", "CLoader", "CUnsafeLoader",
                                      "CFullLoader"}:
                found.append(f"{source.relative_to(ROOT)}:{node.lineno}: yaml.{node.attr}")
    # The model cache (engine/cache.py) stores the loaded model as a pickle in a folder that must be the
    # user's own and writable by nobody else (tests/test_cache.py checks a shared folder is never read).
    allowed = {"engine/cache.py": ("pickle",)}
    found = [f for f in found
             if not any(f.startswith(path + ":") and any(word in f.split(": ", 1)[1] for word in words)
                        for path, words in allowed.items())]
    assert found == []


def test_the_yaml_loader_is_a_safe_loader():
    import yaml
    from engine import yamlload
    assert issubclass(yamlload._Loader, (yaml.SafeLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    constructors = set(yamlload._Loader.yaml_constructors) | set(yamlload._Loader.yaml_multi_constructors)
    assert not [tag for tag in constructors if tag and "python" in tag]


def test_html_templates_escape_by_default():
    for source in SOURCES:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node, owner, name in _calls(tree):
            if name == "Environment":
                autoescape = [k for k in node.keywords if k.arg == "autoescape"]
                assert autoescape and not (isinstance(autoescape[0].value, ast.Constant)
                                           and autoescape[0].value.value is False), source
            if name == "from_string" or name == "Template":
                pytest.fail(f"{source}:{node.lineno}: a template built from a string")


# -- escaping in HTML and Markdown -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_model_dir(tmp_path_factory):
    """A custom model whose own texts carry markup: model files are user input too."""
    root = build_model(tmp_path_factory.mktemp("hostile") / "model", keys=("beta-3-1",))
    criteria = root / "knowledge" / "criteria.yaml"
    text = criteria.read_text(encoding="utf-8")
    text = text.replace("en: Criterion beta-3-1", f"en: 'Criterion {SCRIPT} {MARKDOWN}'")
    text = text.replace("en: Evidence for beta-3-1", "en: 'Evidence <img src=x onerror=alert(2)> | x'")
    criteria.write_text(text, encoding="utf-8")
    model_file = root / "knowledge" / "model.yaml"
    model_file.write_text(model_file.read_text(encoding="utf-8").replace(
        "en: Dimension beta", "en: '<b>Beta</b> | [x](javascript:alert(3))'"), encoding="utf-8")
    return root


@pytest.fixture
def hostile_assessment(hostile_model_dir, tmp_path):
    model = engine.load_model(hostile_model_dir)
    ratings = ratings_up_to(model, 5)
    ratings["beta-3-1"] = "partial"
    return write_assessment(tmp_path / "a.yaml", ratings,
                            company={"id": f"id{SCRIPT}", "name": f"{SCRIPT}{MARKDOWN}",
                                     "industry": "<iframe src=//evil>", "region": "\u202e<svg onload=alert(4)>"},
                            evidence={"beta-3-1": [f"{SCRIPT} [x](http://evil.example)"]})


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.parametrize("command", ["assess", "explain", "roadmap"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_user_and_model_text_is_escaped_in_html(runner, hostile_model_dir, hostile_assessment, command, lang):
    result = run(runner, command, hostile_assessment, "--model", hostile_model_dir, "--format", "html",
                 "--lang", lang)
    assert result.exit_code == 0, result.output
    page = _Page()
    page.feed(result.output)
    assert not {"script", "iframe", "img", "b"} & set(page.tags)
    assert not [a for a in page.attributes if a.startswith("on")]
    assert "javascript:" not in " ".join(v for v in re.findall(r'href="([^"]*)"', result.output))
    assert SCRIPT in "".join(page.text)                          # shown as text, exactly as written
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.output


@pytest.mark.parametrize("command", ["assess", "explain", "roadmap"])
def test_user_and_model_text_is_escaped_in_markdown(runner, hostile_model_dir, hostile_assessment, command):
    result = run(runner, command, hostile_assessment, "--model", hostile_model_dir, "--format", "markdown")
    assert result.exit_code == 0, result.output
    markdown = re.sub(r"`[^`\n]*`", "`code`", result.output)    # a code span shows its text literally
    assert not re.search(r"(?<!\\)<(script|iframe|img|svg|b)\b", markdown)       # no raw HTML
    assert not re.search(r"(?<!\\)\]\((http|javascript)", markdown)              # no live link or image
    assert "\u202e" not in markdown or "\\<svg" in markdown
    tables, current = [], []
    for line in result.output.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    assert tables
    for table in tables:                                     # user text never adds a column to a table
        assert len({len(re.findall(r"(?<!\\)\|", row)) for row in table}) == 1, table


def test_user_text_stays_data_in_json(runner, hostile_model_dir, hostile_assessment):
    result = run(runner, "trace", hostile_assessment, "--model", hostile_model_dir, "--format", "json")
    record = json.loads(result.output)
    assert record["company"]["name"] == f"{SCRIPT}{MARKDOWN}"
    cell = next(f for f in record["firings"] if f["facts"] and f["facts"][0].get("dimension") == "beta"
                and f["facts"][0].get("level") == 3)
    assert cell["facts"][0]["criteria"][0]["evidence"] == [f"{SCRIPT} [x](http://evil.example)"]


# -- output files ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [("assess",), ("explain",), ("roadmap",), ("trace",),
                                     ("whatif", "--set", "alpha-2-1=none")])
def test_no_command_writes_over_its_input(runner, tiny_model_dir, tmp_path, command):
    model = engine.load_model(tiny_model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    before = path.read_bytes()
    link = tmp_path / "link.yaml"
    os.link(path, link)
    for target in (path, link):
        result = run(runner, command[0], path, *command[1:], "--model", tiny_model_dir, "--out", target)
        assert result.exit_code == 1
        named = "" if target == path else f" ({path})"     # a hard link: both paths are named
        assert result.output == f"Error: {target}:1:1: refusing to write the output over an input file{named}\n"
    assert path.read_bytes() == before


def test_no_command_writes_over_a_model_file(runner, tmp_path):
    model_dir = build_model(tmp_path / "model")
    model = engine.load_model(model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 2))
    rule = model_dir / "rules" / "barrel.yaml"
    before = rule.read_bytes()
    result = run(runner, "assess", path, "--model", model_dir, "--format", "json", "--out", rule)
    assert result.exit_code == 1
    assert result.output == f"Error: {rule}:1:1: refusing to write the output over an input file\n"
    assert rule.read_bytes() == before


def test_batch_never_writes_over_one_of_its_inputs(runner, tiny_model_dir, tmp_path):
    model = engine.load_model(tiny_model_dir)
    folder = tmp_path / "in"
    folder.mkdir()
    first = write_assessment(folder / "a.yaml", ratings_up_to(model, 2))
    write_assessment(folder / "b.yaml", ratings_up_to(model, 3))
    before = first.read_bytes()
    result = run(runner, "batch", folder, "--model", tiny_model_dir, "--out", first)
    assert result.exit_code == 1
    assert f"Error: {first}:1:1: refusing to write the output over an input file\n" in result.output
    assert first.read_bytes() == before


def test_an_output_file_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    out.write_text("old report\n", encoding="utf-8")
    write_atomic(str(out), "new report\n")
    assert out.read_text(encoding="utf-8") == "new report\n"

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError) as caught:
        write_atomic(str(out), "x" * 1_000_000)
    assert str(caught.value) == f"{out}:1:1: cannot write: no space left on device"
    assert out.read_text(encoding="utf-8") == "new report\n"      # the old file, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]   # no temporary file left


def test_the_out_file_is_complete_and_nothing_else_is_left(runner, tiny_model_dir, tmp_path):
    model = engine.load_model(tiny_model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3))
    out = tmp_path / "trace.json"
    assert run(runner, "trace", path, "--model", tiny_model_dir, "--format", "json", "--out", out).exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))["digest"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "model") == ["a.yaml", "trace.json"]

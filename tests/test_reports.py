"""Markdown and HTML reports of assess, explain and roadmap, and `qmgrade kb graph` (DOT, Mermaid)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import engine
from conftest import build_model, ratings_up_to, write_assessment, run
from engine.present import for_markdown as escape

ROOT = Path(__file__).resolve().parent.parent
NASTY = "*ACME* | <script>alert(1)</script> [x](http://evil.example) & _co_"


@pytest.fixture
def model_dir(tmp_path):
    return build_model(tmp_path / "model", keys=("beta-3-1",))


@pytest.fixture
def stuck(model, tmp_path):
    ratings = ratings_up_to(model, 5)
    ratings["beta-3-1"] = "partial"
    return write_assessment(tmp_path / "a.yaml", ratings,
                            company={"id": "c-9", "name": NASTY, "industry": "C34", "region": "浙江"})


# -- Markdown ----------------------------------------------------------------------------------------------
def test_escape_makes_user_text_literal():
    assert escape(NASTY) == r"\*ACME\* \| \<script\>alert(1)\</script\> \[x\](http://evil.example) \& \_co\_"
    assert escape("line one\nline two") == "line one line two"
    assert escape("1. first") == r"1\. first"


@pytest.mark.parametrize("command", ["assess", "explain", "roadmap"])
def test_markdown_reports_escape_the_company_and_are_deterministic(runner, model_dir, stuck, command):
    first = run(runner, command, stuck, "--model", model_dir, "--format", "markdown")
    assert first.exit_code == 0, first.output
    assert first.output == run(runner, command, stuck, "--model", model_dir, "--format", "markdown").output
    assert "<script>" not in first.output and not re.search(r"(?<!\\)\]\(http", first.output)   # no live link
    assert r"**Company:** \*ACME\* \| \<script\>alert(1)\</script\>" in first.output


def test_markdown_assess_has_the_table_blockers_and_minimal_fix(runner, model_dir, stuck):
    md = run(runner, "assess", stuck, "--model", model_dir, "--format", "markdown").output
    assert md.startswith("# Quality-management capability assessment\n")
    assert "## Level: 2 Inspection" in md
    assert "| Dimension | Level | L2 | L3 | L4 | L5 |\n|---|--:|--:|--:|--:|--:|" in md
    assert "| Dimension beta (`beta`) \\* | 2 | 1.00 ✓ | 0.75 ✗ | 1.00 ✓ | 1.00 ✓ |" in md
    assert "- `beta-3-1` **[key]** L3 (partial (0.5)) ★: Criterion beta-3-1" in md
    assert "### Minimal fix (1)\n\n- Criterion beta-3-1 (`beta-3-1`)" in md
    zh = run(runner, "assess", stuck, "--model", model_dir, "--format", "markdown", "--lang", "zh").output
    assert "## 等级: 2 检验级" in zh


def test_markdown_explain_lists_failing_cells_and_evidence(runner, model_dir, stuck):
    md = run(runner, "explain", stuck, "--model", model_dir, "--format", "markdown").output
    assert "## Why it does not reach 3 Assurance" in md
    assert ("| Dimension beta (`beta`) | 3 | 0.75 | 0.80 | Criterion beta-3-1 (`beta-3-1`) (partial (0.5)) | "
            "Criterion beta-3-1 (`beta-3-1`) |") in md
    assert "  - *addressed by:* Action beta-3-1 (`do-beta-3-1`)" in md
    assert "⇒" not in md and "key-gate" not in md          # no rule notation for people
    assert "  - *Evidence:* Evidence for beta-3-1" in md
    assert "**After the minimal fix:** 5 Excellence — reaches 3 Assurance" in md


def test_out_writes_the_report_and_refuses_to_overwrite_the_input(runner, model_dir, stuck, tmp_path):
    out = tmp_path / "report.md"
    result = run(runner, "roadmap", stuck, "--model", model_dir, "--format", "markdown", "--out", out)
    assert result.exit_code == 0 and result.output == ""
    assert out.read_text(encoding="utf-8").startswith("# Quality-management capability roadmap\n")
    result = run(runner, "explain", stuck, "--model", model_dir, "--format", "html", "--out", stuck)
    assert result.exit_code == 1
    assert result.output == f"Error: {stuck}:1:1: refusing to write the output over an input file\n"


# -- HTML (structure; the browser test renders it) -----------------------------------------------------
class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    collector = _Collector()
    collector.feed(html)
    return collector


@pytest.mark.parametrize("command", ["assess", "explain", "roadmap"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_is_one_self_contained_escaped_file(runner, model_dir, stuck, command, lang):
    result = run(runner, command, stuck, "--model", model_dir, "--format", "html", "--lang", lang)
    assert result.exit_code == 0, result.output
    html = result.output
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    page = parse(html)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    # no network at view time: the only URLs are SVG namespaces and in-document references
    urls = [value for name, value in page.attrs if name in ("src", "href") and value]
    assert urls == []
    assert set(re.findall(r"https?://[^\s\"'<)]+", html)) <= {"http://www.w3.org/2000/svg"} | (
        {"http://evil.example"} if "evil.example" in html else set())
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "default-src 'none'" in html
    assert 'id="company-level" data-rank="2"' in html
    assert ("Inspection" if lang == "en" else "检验级") in html
    assert html == run(runner, command, stuck, "--model", model_dir, "--format", "html", "--lang", lang).output
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        ET.fromstring(svg)                      # every chart is well-formed SVG


def test_html_holds_the_ladder_radar_table_fix_and_roadmap(runner, model_dir, stuck):
    html = run(runner, "assess", stuck, "--model", model_dir, "--format", "html").output
    text = " ".join(" ".join(parse(html).text).split())
    for heading in ("The five-level ladder", "Stave levels (the barrel)", "Why it does not reach 3 Assurance",
                    "Minimal fix (1)", "Why the level holds — 2 Inspection", "Improvement roadmap",
                    "Action dependency graph"):
        assert heading in text
    assert text.count("you are here") == 1
    assert html.count('class="step') == 5
    assert "@page { size: A4" in html and "@media print" in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    radar = ET.fromstring(svgs[0])
    namespace = "{http://www.w3.org/2000/svg}"
    assert len(radar.findall(f"{namespace}line")) == 3          # one axis per stave
    graph = ET.fromstring(svgs[-1])
    assert [t.text for t in graph.iter(f"{namespace}text") if t.text and t.text.startswith("do-")] == ["do-beta-3-1"]


def test_html_for_a_capped_company_and_the_top_level(runner, model_dir, model, tmp_path):
    capped = write_assessment(tmp_path / "c.yaml", ratings_up_to(model, 4), facts={"product_recall_3y": True})
    html = run(runner, "roadmap", capped, "--model", model_dir, "--format", "html").output
    # caps by their reason and lift date, not by rule id (issue 11)
    assert "capped at 2 Inspection" in html and "No action lifts a cap." in html
    assert "cap-recall" not in html.split("<footer>")[0].split("</header>", 1)[1]
    top = write_assessment(tmp_path / "t.yaml", ratings_up_to(model, 5))
    html = run(runner, "explain", top, "--model", model_dir, "--format", "html", "--lang", "zh").output
    assert "已达最高等级，无需诊断下一级。" in html


def test_html_on_the_default_model_examples(runner, tmp_path):
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        if example.name == "expected.yaml":
            continue
        out = tmp_path / f"{example.stem}.html"
        result = run(runner, "assess", example, "--format", "html", "--out", out)
        assert result.exit_code == 0, (example, result.output)
        html = out.read_text(encoding="utf-8")
        for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
            ET.fromstring(svg)
        radar = ET.fromstring(re.findall(r"<svg.*?</svg>", html, flags=re.S)[0])
        assert len(radar.findall("{http://www.w3.org/2000/svg}line")) == 12


# -- kb graph ----------------------------------------------------------------------------------------------
def test_kb_graph_dot_has_every_action_and_edge_grouped_by_level(runner, model_dir, model, tmp_path):
    result = run(runner, "kb", "graph", "--model", model_dir)
    assert result.exit_code == 0
    dot = result.output
    assert dot.startswith('digraph "tiny actions" {\n') and dot.endswith("}\n")
    for rank in (2, 3, 4, 5):
        assert f"subgraph cluster_L{rank} {{" in dot
    assert 'label="L3 Assurance (保证级)";' in dot
    nodes = re.findall(r'^    "([^"]+)" \[label=', dot, flags=re.M)
    assert sorted(nodes) == sorted(model.actions)
    edges = re.findall(r'^  "([^"]+)" -> "([^"]+)";', dot, flags=re.M)
    assert sorted(edges) == sorted((p, a.id) for a in model.actions.values() for p in a.depends_on)
    assert '"do-alpha-3-1" [label="do-alpha-3-1\\nAction alpha-3-1", fillcolor="#fff3b0"' in dot
    out = tmp_path / "g.dot"
    assert run(runner, "kb", "graph", "--model", model_dir, "--out", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == dot


def test_kb_graph_mermaid(runner, model_dir, model):
    result = run(runner, "kb", "graph", "--model", model_dir, "--format", "mermaid", "--lang", "zh")
    assert result.exit_code == 0
    mermaid = result.output
    assert mermaid.startswith("flowchart LR\n")
    assert '  subgraph L2["L2 检验级"]\n' in mermaid
    assert '    a_do_alpha_2_1["do-alpha-2-1<br/>措施 alpha-2-1"]\n' in mermaid
    assert "  a_do_alpha_2_1 --> a_do_alpha_3_1\n" in mermaid
    assert mermaid.count(" --> ") == sum(len(a.depends_on) for a in model.actions.values())
    assert "  classDef level3 fill:#fff3b0,stroke:#b59a00,color:#111111\n" in mermaid


def test_kb_graph_escapes_names(runner, tmp_path):
    actions = []
    for d in ("alpha", "beta", "gamma"):
        for level in range(2, 6):
            for n in (1, 2):
                actions.append({"id": f"do-{d}-{level}-{n}", "addresses": [f"{d}-{level}-{n}"], "effort": 1,
                                "name": {"zh": "措施", "en": 'Say "hi" <b>#1</b> \\ done'}})
    model_dir = build_model(tmp_path / "m", actions=actions)
    dot = run(runner, "kb", "graph", "--model", model_dir).output
    assert '[label="do-alpha-2-1\\nSay \\"hi\\" <b>#1</b> \\\\ done"' in dot
    mermaid = run(runner, "kb", "graph", "--model", model_dir, "--format", "mermaid").output
    assert '["do-alpha-2-1<br/>Say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt; \\ done"]' in mermaid


def test_kb_graph_of_the_default_model_and_a_bad_format(runner):
    dot = run(runner, "kb", "graph").output
    model = engine.load_model()
    assert len(re.findall(r'^    "[^"]+" \[label=', dot, flags=re.M)) == len(model.actions)
    result = run(runner, "kb", "graph", "--format", "svg")
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.output


def test_new_commands_have_help(runner):
    for args in (["explain"], ["roadmap"], ["whatif"], ["kb", "graph"]):
        result = run(runner, *args, "--help")
        assert result.exit_code == 0 and len(result.output.splitlines()) > 8


def test_html_with_two_staves_draws_bars_instead_of_a_radar(runner, tmp_path):
    model_dir = build_model(tmp_path / "m", dimensions=("alpha", "beta"))
    model = engine.load_model(model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 3))
    html = run(runner, "assess", path, "--model", model_dir, "--format", "html").output
    chart = ET.fromstring(re.findall(r"<svg.*?</svg>", html, flags=re.S)[0])
    assert len(chart.findall("{http://www.w3.org/2000/svg}rect")) == 2

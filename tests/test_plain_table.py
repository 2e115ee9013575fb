"""The staves table of `assess` text is laid out without rich when it can be (issue 13: importing rich cost a
tenth of a second at every start), and then reads exactly as rich draws it."""
from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, examples
from engine import present
from engine.render import text as render_text


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


def _both(header, rows):
    cells = [header, *([present.for_terminal(cell) for cell in row] for row in rows)]
    return render_text._plain_table(cells, right=set(range(2, len(header)))), render_text._rich_table(header, rows)


names = st.text(alphabet=st.sampled_from("Quality 质量管理体系（）·–—…、ABCxyz0123456789-[]/*&<>\"'✓"), min_size=1,
                max_size=30)


@settings(max_examples=examples(200), deadline=None)
@given(rows=st.lists(st.tuples(names, names, st.sampled_from(["1", "3", "5 (n/a above L3)", "2（L3 以上不适用）"])),
                     min_size=1, max_size=14),
       lang=st.sampled_from(["zh", "en"]))
def test_the_plain_table_reads_as_rich_draws_it(rows, lang):
    header = ["维度" if lang == "zh" else "Dimension", "Pillar", "Level", "L2", "L3", "L4", "L5"]
    table = [[name, pillar, level, "0.86 ✓", "0.79 ✗", "不适用", "1.00 ✓"] for name, pillar, level in rows]
    plain, rich = _both(header, table)
    if plain is None:      # wider than the report: rich shrinks the columns, and is used
        assert max(len(line) for line in rich.splitlines()) <= render_text.WIDTH
        return
    assert _strip(plain) == _strip(rich)


def test_a_table_too_wide_or_with_other_characters_goes_through_rich(monkeypatch):
    header = ["Dimension", "Pillar", "Level", "L2"]
    assert _both(header, [["x" * 200, "p", "1", "0.50 ✗"]])[0] is None       # rich shrinks it
    result = {"barrel": {"rank": 1, "shortest": []}, "dimensions": []}
    called = []
    monkeypatch.setattr(render_text, "_rich_table", lambda h, r: called.append(r) or "table")

    class Model:   # the smallest model the table reads
        criteria_ranks = range(2, 3)
        top_rank = 2
        threshold = 0.7
        pillars = [type("P", (), {"id": "p", "name": {"en": "Pillar 🚀", "zh": "Pillar 🚀"}})()]
        dimensions_by_id = {"d": type("D", (), {"name": {"en": "Emoji", "zh": "Emoji"}})()}

    result["dimensions"] = [{"id": "d", "pillar": "p", "level": 1, "scores": {"2": 0.5}, "met": {"2": False}}]
    assert render_text._stave_table(result, Model(), "en") == "table" and called


def test_assess_text_starts_without_importing_rich():
    code = ("import sys, io, contextlib\n"
            "from click.testing import CliRunner\n"
            "import cli\n"
            f"result = CliRunner().invoke(cli.main, ['assess', {str(ROOT / 'examples' / 'level-3-assurance.yaml')!r}])\n"
            "assert result.exit_code == 0, result.output\n"
            "assert 'Dimension' in result.output\n"
            "print('rich' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

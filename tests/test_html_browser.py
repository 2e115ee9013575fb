"""The HTML report in a real headless browser (Debian's `chromium`): it renders with no console
errors and no network, shows the company's level, prints on A4, and a screenshot is saved.

The fixture installs chromium with apt-get where it is missing (as `.ci/run` does in CI) and
skips, saying why, only when that is impossible.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cli import main
from conftest import build_model, ratings_up_to, write_assessment
import engine

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
         "--host-resolver-rules=MAP * ~NOTFOUND"]     # no network at view time


def _find_chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _install_chromium() -> str:
    """Try apt-get (as root, or through password-less sudo); return why it failed, or ''."""
    if not shutil.which("apt-get"):
        return "apt-get is not available"
    prefix = []
    if os.geteuid() != 0:
        if not shutil.which("sudo") or subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode:
            return "not root and no password-less sudo"
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(prefix + command, capture_output=True, text=True, env=env, timeout=1500)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(command)} failed: {exc}"
        if done.returncode:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return ""


@pytest.fixture(scope="session")
def chromium():
    path = _find_chromium()
    if not path:
        reason = _install_chromium()
        path = _find_chromium()
        if not path:
            pytest.skip(f"headless Chromium is missing and could not be installed ({reason or 'unknown reason'}); "
                        f"install Debian's `chromium` package to run the browser test")
    return path


def browse(chromium, page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def console_messages(stderr: str):
    """Every console message the page produced (errors, warnings, CSP violations), as logged."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def check_renders(chromium, page: Path, tmp_path: Path, rank: int, level_text: str):
    shown = browse(chromium, page, tmp_path, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert console_messages(shown.stderr) == []
    dom = shown.stdout
    assert f'id="company-level" data-rank="{rank}"' in dom
    badge = re.search(r'id="company-level".*?</div>\s*</div>', dom, flags=re.S).group(0)
    assert f'<div class="rank">{rank}</div>' in badge and level_text in badge
    screenshot = tmp_path / "report.png"
    shot = browse(chromium, page, tmp_path, f"--screenshot={screenshot}", "--window-size=1240,1754")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert console_messages(shot.stderr) == []
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000   # a real, non-blank page
    return screenshot


def test_the_html_report_renders_in_headless_chromium(chromium, runner, tmp_path):
    example = ROOT / "examples" / "stuck-at-assurance-one-stave.yaml"
    page = tmp_path / "report.html"
    result = runner.invoke(main, ["assess", str(example), "--format", "html", "--out", str(page)])
    assert result.exit_code == 0, result.output
    model = engine.load_model()
    graded = engine.grade(model, engine.read_assessment(str(example), model))
    screenshot = check_renders(chromium, page, tmp_path, graded.level, model.level(graded.level).name["en"])
    assert screenshot.parent == tmp_path


@pytest.mark.parametrize("command", ["explain", "roadmap"])
def test_explain_and_roadmap_reports_render_in_chinese(chromium, runner, tmp_path, command):
    model_dir = build_model(tmp_path / "model", keys=("beta-3-1",))
    model = engine.load_model(model_dir)
    ratings = ratings_up_to(model, 2)
    ratings["alpha-3-1"] = "partial"
    path = write_assessment(tmp_path / "a.yaml", ratings, company={"id": "c-1", "name": "<b>测试</b> & Co"})
    page = tmp_path / f"{command}.html"
    result = runner.invoke(main, [command, str(path), "--model", str(model_dir), "--format", "html",
                                  "--lang", "zh", "--out", str(page)])
    assert result.exit_code == 0, result.output
    check_renders(chromium, page, tmp_path, 2, "检验级")


def test_the_report_prints_on_a4(chromium, runner, tmp_path):
    example = ROOT / "examples" / "level-3-assurance.yaml"
    page = tmp_path / "report.html"
    assert runner.invoke(main, ["assess", str(example), "--format", "html", "--out", str(page)]).exit_code == 0
    pdf = tmp_path / "report.pdf"
    printed = browse(chromium, page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert printed.returncode == 0, printed.stderr[-2000:]
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes()))
    assert boxes and all(abs(float(w) - 595.28) < 2 and abs(float(h) - 841.89) < 2 for w, h in boxes)


def test_the_console_check_catches_errors(chromium, tmp_path):
    """The check above is not vacuous: a page with a script error and a blocked request is caught."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
                    '<p>x</p><script>undefinedFunction()</script>', encoding="utf-8")
    shown = browse(chromium, page, tmp_path, "--dump-dom")
    assert shown.returncode == 0
    assert console_messages(shown.stderr)


def test_the_roadmap_gantt_and_chinese_render_and_print_on_a4(chromium, runner, tmp_path):
    """A level-1 company aiming at 5, in Chinese: one Gantt chart per milestone, printed on A4 with a CJK font
    (the PDF embeds Noto Sans CJK only when Chromium found it for the Chinese text; .ci/run installs it)."""
    model_dir = build_model(tmp_path / "model")
    model = engine.load_model(model_dir)
    path = write_assessment(tmp_path / "a.yaml", ratings_up_to(model, 1), company={"id": "c-1", "name": "某某机械厂"})
    path.write_text(path.read_text(encoding="utf-8") + "assessed_on: 2026-11-15\n", encoding="utf-8")
    page = tmp_path / "roadmap.html"
    result = runner.invoke(main, ["roadmap", str(path), "--model", str(model_dir), "--target", "5", "--format",
                                  "html", "--lang", "zh", "--out", str(page)])
    assert result.exit_code == 0, result.output
    check_renders(chromium, page, tmp_path, 1, "经验级")
    shown = browse(chromium, page, tmp_path, "--dump-dom").stdout
    charts = re.findall(r'<svg class="gantt-chart" data-level="(\d)"', shown)
    assert charts == ["2", "3", "4", "5"]
    assert "时间表（甘特图）" in shown and "各等级最早可申报时间" in shown
    pdf = tmp_path / "roadmap.pdf"
    printed = browse(chromium, page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    assert boxes and all(abs(float(w) - 595.28) < 2 and abs(float(h) - 841.89) < 2 for w, h in boxes)
    assert b"NotoSansCJK" in data, "no CJK font: install fonts-noto-cjk (as .ci/run does)"

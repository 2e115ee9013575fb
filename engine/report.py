"""Text reports for people, in Chinese or English (rendered to strings; never printed here)."""
from __future__ import annotations

import io
from typing import TYPE_CHECKING, List, Optional, cast

# The words, the (zh, en) picker and the level and cap sentences live in engine.words (below the renderers
# in the import graph, issue 10); re-exported here for the modules that import them from report.
from .words import cap_sentence, level_label, pick, safe_text, text_of, tr

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["render_assess", "render_model", "tr", "pick", "safe_text", "level_label", "WIDTH"]

WIDTH = 140


def _console() -> "Console":
    from rich.console import Console  # rich is imported where used: it costs a seventh of a second at start-up

    return Console(file=io.StringIO(), width=WIDTH, force_terminal=False, color_system=None,
                   legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)


def _fmt_score(score, threshold=None) -> str:
    from .present import score as shown   # the one score rule (issue 10): truncated, never read as met
    return shown(score, threshold)


def render_assess(result: dict, model, lang: str = "en") -> str:
    """The assess result as a report a quality manager reads."""
    console = _console()
    out: List[str] = []
    from . import present
    out.append(f"{tr('company', lang)}: {present.for_terminal(present.company_title(result.get('company')))}")
    if result.get("assessed_on"):
        out.append(f"{tr('assessed_on', lang)}: {safe_text(result['assessed_on'])}")
    out.append(f"{tr('model', lang)}: {result['model']['id']} {result['model']['version']}")
    if result.get("profile"):
        profile = result["profile"]
        out.append(("企业类型" if lang == "zh" else "Profile") + f": {text_of(profile['name'], lang)} "
                   f"({profile['id']})" + (f" — {len(profile['not_applicable'])} "
                   + ("项准则按不适用计" if lang == "zh" else "criteria counted as not applicable")
                   if profile.get("not_applicable") else ""))
    out.extend(_red_flag_block(result, model, lang))
    out.append("")
    provisional = f" — {_words('provisional', lang)}" if result.get("provisional") else ""
    out.append(f"{tr('level', lang)}: {level_label(result['level'], lang)}{provisional}")
    if result.get("coverage"):
        from .words import coverage_text
        out.append(f"{_words('coverage', lang)}: "
                   f"{coverage_text({**result['coverage'], 'provisional': result.get('provisional')}, lang)}")
    barrel = result.get("barrel")
    dims = {d.id: d for d in model.dimensions}
    if barrel:
        names = ", ".join(f"{text_of(dims[d].name, lang)} ({d})" for d in barrel["shortest"])
        out.append(f"{tr('barrel', lang)}: {barrel['rank']} — {tr('shortest', lang)}: {names}")
    out.append("")

    top = model.top_rank
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(tr("dimension", lang), no_wrap=True)
    table.add_column(tr("pillar", lang), no_wrap=True)
    table.add_column(tr("level", lang), justify="right")
    for k in model.criteria_ranks:
        table.add_column(f"L{k}", justify="right")
    pillars = {p.id: p for p in model.pillars}
    for row in result["dimensions"]:
        marks = []
        for k in model.criteria_ranks:
            score = row["scores"][str(k)]
            ok = row.get("met", {}).get(str(k))
            marks.append(f"{_fmt_score(score, model.threshold)} {'✓' if ok else '✗'}")
        label = f"{text_of(dims[row['id']].name, lang)} ({row['id']})"
        short = "*" if barrel and row["id"] in barrel["shortest"] else ""
        stave = str(row["level"])
        if row.get("applicable_to") is not None and row["applicable_to"] < top:
            # issue 11: na above some level is not excellence: say how far the stave applies
            from .words import na_above
            stave = f"{stave} ({na_above(row['applicable_to'], lang)})"
            marks = [m if k <= row["applicable_to"] else tr("na", lang) for k, m in zip(model.criteria_ranks, marks)]
        table.add_row(label + short, text_of(pillars[row["pillar"]].name, lang), stave, *marks)
    console.print(table)
    out.append(cast(io.StringIO, console.file).getvalue().rstrip("\n"))   # _console() writes to a StringIO

    nxt = result.get("next_level")
    lines: List[str] = [""]
    if nxt is None:
        lines.append(f"{tr('next', lang)}: {tr('top', lang)}")
    else:
        lines.append(f"{tr('next', lang)}: {level_label(nxt, lang)}")
        if nxt.get("caps"):
            lines.append(f"  {tr('caps', lang)}:")
            lines.extend(f"  - {cap_sentence(cap, model, lang)}" for cap in nxt["caps"])
            from .diagnosis import cap_relation
            lines.append(f"  {cap_relation(result['level']['rank'], (barrel or {}).get('rank', 0), lang)}")
        blockers = nxt["blockers"]
        lines.append(f"  {tr('blockers', lang)} ({len(blockers)}):")
        current = None
        for blocker in blockers:
            cell = (blocker["dimension"], blocker["level"])
            if cell != current:
                current = cell
                row = next(r for r in result["dimensions"] if r["id"] == blocker["dimension"])
                score = row["scores"][str(blocker["level"])]
                lines.append(f"    {text_of(dims[cell[0]].name, lang)} L{cell[1]}: {tr('score', lang)} "
                             f"{_fmt_score(score, model.threshold)} / {tr('threshold', lang)} "
                             f"{present.number(model.threshold)}")
            criterion = model.criteria[blocker["criterion"]]
            rating = present.rating_label(blocker["rating"], lang, blocker.get("not_rated", False))
            key = f" [{tr('key', lang)}]" if criterion.key else ""
            lines.append(f"      - {criterion.id}{key} ({rating}): {text_of(criterion.text, lang)}")
        fix = nxt["minimal_fix"]
        from .words import criterion_title
        lines.append(f"  {tr('minimal_fix', lang)} ({len(fix)}):" + ("" if fix else f" {tr('none', lang)}"))
        lines.extend(f"    - {criterion_title(model, cid, lang)}" for cid in fix)
    not_rated = result.get("not_rated") or []
    lines.append("")
    lines.append(f"{tr('not_rated', lang)} ({len(not_rated)}): {', '.join(not_rated) if not_rated else tr('none', lang)}")
    # plain lines, not rich: long criterion texts must not wrap into the margin
    return _strip("\n".join(out + lines))


def _words(key: str, lang: str) -> str:
    from .words import word
    return word(key, lang)


def _red_flag_block(result: dict, model, lang: str) -> List[str]:
    """Red flags first, whatever the next level needs (issue 11)."""
    from .diagnosis import red_flag_lines
    return red_flag_lines(model, result.get("red_flags") or [], lang)


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


_ANCHOR_LABELS = {"full": ("full", "全部满足"), "largely": ("largely", "大部分满足"),
                  "partial": ("partial", "部分满足"), "none": ("none", "不满足")}


def render_criterion(model, criterion_id: str, lang: str = "en") -> str:
    """``kb show --criterion ID``: one criterion in full, with what each rating looks like."""
    c = model.criteria[criterion_id]
    zh = lang == "zh"
    dim = model.dimensions_by_id[c.dimension]
    flags = [("关键" if zh else "key") if c.key else "",
             ("可填不适用" if zh else "na allowed") if c.na_allowed else "",
             ("红线" if zh else "red flag") if c.red_flag else ""]
    out = [f"{c.id}: {text_of(c.text, lang)}",
           f"  {tr('dimension', lang)}: {text_of(dim.name, lang)} ({dim.id}) · L{c.level} "
           f"{text_of(model.level(c.level).name, lang)} · {'权重' if zh else 'weight'} {c.weight:g}"
           + "".join(f" · {f}" for f in flags if f),
           f"  {'证据' if zh else 'evidence'}: {text_of(c.evidence, lang)}"]
    if c.anchors:
        out.append(f"  {'评分标尺' if zh else 'rating anchors'}:")
        out.extend(f"    {_ANCHOR_LABELS[r][zh]}: {text_of(c.anchors[r], lang)}" for r in _ANCHOR_LABELS)
    sources = {s.id: s for s in model.sources}
    for ref in c.sources:
        title = text_of(sources[ref["source"]].title, lang) if ref["source"] in sources else ref["source"]
        out.append(f"  {'依据' if zh else 'source'}: {title}" + (f" {ref['clause']}" if ref.get("clause") else ""))
    return "".join(safe_text(line) + "\n" for line in out)


def render_model(model, lang: str = "en", dimension: Optional[str] = None) -> str:
    """``kb show``: the model, level by level and stave by stave."""
    console = _console()
    head = [f"{text_of(model.name, lang)} — {model.id} {model.version}"]
    if model.description:
        head.append(text_of(model.description, lang))
    by_level = "".join(f", L{k} {model.key_minimum_for(k)}" for k in model.criteria_ranks
                       if model.key_minimum_for(k) != model.key_minimum)
    head.append(f"threshold {model.threshold} · key_minimum {model.key_minimum}"
                + (f" ({by_level[2:]})" if by_level else "") + " · "
                f"{len(model.dimensions)} {tr('dimension', lang).lower()} · {len(model.criteria)} "
                f"{tr('criteria', lang).lower()} · {len(model.actions)} {tr('actions', lang).lower()} · "
                f"{len(model.rules)} {tr('rules', lang).lower()}")
    console.print("\n".join(head), markup=False)
    console.print()
    from rich import box
    from rich.table import Table

    levels = Table(title=tr("levels", lang), box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
    levels.add_column("#", justify="right")
    levels.add_column("id")
    levels.add_column(tr("level", lang))
    levels.add_column("")
    for level in model.levels:
        levels.add_row(str(level.rank), level.id, text_of(level.name, lang), text_of(level.description, lang))
    console.print(levels)
    for pillar in model.pillars:
        console.print()
        console.print(f"■ {text_of(pillar.name, lang)} ({pillar.id})", markup=False)
        for dim in model.dimensions:
            if dim.pillar != pillar.id or (dimension and dim.id != dimension):
                continue
            console.print(f"  ▌{text_of(dim.name, lang)} ({dim.id})", markup=False)
            if dim.description:
                console.print(f"    {text_of(dim.description, lang)}", markup=False)
            table = Table(box=box.SIMPLE, show_edge=False, show_header=False, pad_edge=False)
            table.add_column("L", justify="right")
            table.add_column("id")
            table.add_column("k")
            table.add_column("w", justify="right")
            table.add_column("text", overflow="fold")
            for k in model.criteria_ranks:
                for criterion in model.cells[(dim.id, k)]:
                    text = text_of(criterion.text, lang)
                    if dimension:   # one stave: the rating anchors too
                        text += "".join(f"\n  {_ANCHOR_LABELS[r][lang == 'zh']}: {text_of(criterion.anchors[r], lang)}"
                                        for r in _ANCHOR_LABELS if criterion.anchors)
                    table.add_row(f"L{k}", criterion.id, "★" if criterion.key else "",
                                  f"{criterion.weight:g}", text)
            console.print(table)
    if model.facts:
        console.print()
        console.print(f"{tr('facts', lang)}:", markup=False)
        for fact in model.facts:
            console.print(f"  {fact.id} ({fact.type}, default {fact.default!r}): {text_of(fact.name, lang)}",
                          markup=False)
    console.print()
    console.print(f"{tr('rules', lang)}:", markup=False)
    for rule in model.rules:
        console.print(f"  {rule.id}: {text_of(rule.description, lang)}", markup=False)
    console.print()
    console.print(f"{tr('actions', lang)}: {len(model.actions)}  (★ = {tr('key', lang)})", markup=False)
    return _strip(cast(io.StringIO, console.file).getvalue())

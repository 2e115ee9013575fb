"""``kb show``: the model level by level and stave by stave, one stave with its rating anchors, or one criterion."""
from __future__ import annotations

from typing import Optional

from ..present import for_terminal, text_of, word
from .text import WIDTH, console, console_text, strip_lines

MIN_WIDTH = 60   # narrower than this, the staves' tables cannot show a criterion at all

__all__ = ["render_model", "render_criterion"]

_ANCHORS = ("full", "largely", "partial", "none")    # the ratings a criterion's anchors describe


def render_criterion(model, criterion_id: str, lang: str = "en") -> str:
    """``kb show --criterion ID``: one criterion in full, with what each rating looks like."""
    c = model.criteria[criterion_id]
    dim = model.dimensions_by_id[c.dimension]
    flags = [word(flag, lang) for flag, on in (("key", c.key), ("na_allowed", c.na_allowed), ("red_flag", c.red_flag))
             if on]
    out = [f"{c.id}: {text_of(c.text, lang)}",
           f"  {word('dimension', lang)}: {text_of(dim.name, lang)} ({dim.id}) · L{c.level} "
           f"{text_of(model.level(c.level).name, lang)} · {word('weight', lang)} {c.weight:g}"
           + "".join(f" · {f}" for f in flags),
           f"  {word('evidence_needed', lang)}: {text_of(c.evidence, lang)}"]
    if c.anchors:
        out.append(f"  {word('rating_anchors', lang)}:")
        out.extend(f"    {word('rating_' + r, lang)}: {text_of(c.anchors[r], lang)}" for r in _ANCHORS)
    sources = {s.id: s for s in model.sources}
    for ref in c.sources:
        title = text_of(sources[ref["source"]].title, lang) if ref["source"] in sources else ref["source"]
        out.append(f"  {word('source', lang)}: {title}" + (f" {ref['clause']}" if ref.get("clause") else ""))
    return "".join(for_terminal(line) + "\n" for line in out)


def render_model(model, lang: str = "en", dimension: Optional[str] = None, width: int = WIDTH) -> str:
    """``kb show``: the model, level by level and stave by stave, its tables ``width`` columns wide."""
    out = console(max(width, MIN_WIDTH))
    head = [f"{text_of(model.name, lang)} — {model.id} {model.version}"]
    if model.description:
        head.append(text_of(model.description, lang))
    by_level = "".join(f", L{k} {model.key_minimum_for(k)}" for k in model.criteria_ranks
                       if model.key_minimum_for(k) != model.key_minimum)
    head.append(f"threshold {model.threshold} · key_minimum {model.key_minimum}"
                + (f" ({by_level[2:]})" if by_level else "") + " · "
                f"{len(model.dimensions)} {word('dimension', lang).lower()} · {len(model.criteria)} "
                f"{word('criteria', lang).lower()} · {len(model.actions)} {word('actions', lang).lower()} · "
                f"{len(model.rules)} {word('rules', lang).lower()}")
    out.print("\n".join(head), markup=False)
    out.print()
    from rich import box
    from rich.table import Table
    from rich.text import Text   # model texts as written: "[...]" in a pack's words is not markup

    levels = Table(title=word("levels", lang), box=box.SIMPLE_HEAD, show_edge=False, title_justify="left")
    levels.add_column("#", justify="right")
    levels.add_column("id")
    levels.add_column(word("level", lang))
    levels.add_column("", overflow="fold")       # a level's description in full, never cut off with "…"
    for level in model.levels:
        levels.add_row(str(level.rank), Text(level.id), Text(text_of(level.name, lang)),
                       Text(text_of(level.description, lang)))
    out.print(levels)
    for pillar in model.pillars:
        out.print()
        out.print(f"■ {text_of(pillar.name, lang)} ({pillar.id})", markup=False)
        for dim in model.dimensions:
            if dim.pillar != pillar.id or (dimension and dim.id != dimension):
                continue
            out.print(f"  ▌{text_of(dim.name, lang)} ({dim.id})", markup=False)
            if dim.description:
                out.print(f"    {text_of(dim.description, lang)}", markup=False)
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
                        text += "".join(f"\n  {word('rating_' + r, lang)}: {text_of(criterion.anchors[r], lang)}"
                                        for r in _ANCHORS if criterion.anchors)
                    table.add_row(f"L{k}", Text(criterion.id), "★" if criterion.key else "",
                                  f"{criterion.weight:g}", Text(text))
            out.print(table)
    if model.facts:
        out.print()
        out.print(f"{word('facts', lang)}:", markup=False)
        for fact in model.facts:
            out.print(f"  {fact.id} ({fact.type}, default {fact.default!r}): {text_of(fact.name, lang)}",
                      markup=False)
    out.print()
    out.print(f"{word('rules', lang)}:", markup=False)
    for rule in model.rules:
        out.print(f"  {rule.id}: {text_of(rule.description, lang)}", markup=False)
    out.print()
    out.print(f"{word('actions', lang)}: {len(model.actions)}  (★ = {word('key', lang)})", markup=False)
    return strip_lines(console_text(out))

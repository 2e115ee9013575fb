"""The action dependency graph of a model, drawn as Graphviz DOT or Mermaid, grouped and coloured by level.

An action's level is the lowest level of the criteria it addresses; an edge
runs from a prerequisite to the action that depends on it.
"""
from __future__ import annotations

import re
from typing import Dict, List

__all__ = ["render_graph", "LEVEL_COLOURS", "LEVEL_BORDERS"]

# fill and border colours per rank (fills light enough for black text); the HTML report uses them too
LEVEL_COLOURS = {1: "#eeeeee", 2: "#fde2c4", 3: "#fff3b0", 4: "#cfe8cf", 5: "#c9def5"}
LEVEL_BORDERS = {1: "#888888", 2: "#c7772b", 3: "#b59a00", 4: "#3d8b3d", 5: "#2f6db5"}


def _groups(model) -> Dict[int, List[str]]:
    groups: Dict[int, List[str]] = {}
    for aid in model.actions:
        groups.setdefault(model.action_level(aid), []).append(aid)
    return dict(sorted(groups.items()))


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _dot_quote(text: str) -> str:
    return '"' + _dot_escape(text) + '"'


def _mermaid_text(text: str) -> str:
    # Mermaid entity codes keep quotes and markup characters literal inside a label
    replacements = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "`": "#96;"}
    out = []
    for char in text.replace("\n", " "):
        out.append(replacements.get(char, char))
    return "".join(out)


def _mermaid_ids(model) -> Dict[str, str]:
    ids, used = {}, set()
    for aid in model.actions:
        base = "a_" + re.sub(r"[^A-Za-z0-9_]", "_", aid)
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        ids[aid] = name
    return ids


def render_graph(model, fmt: str = "dot", lang: str = "en") -> str:
    """The dependency graph of ``model``'s actions as DOT (``fmt="dot"``) or Mermaid (``"mermaid"``).

    Nodes are grouped in one cluster (DOT) or subgraph (Mermaid) per level and
    filled with that level's colour; labels show the action id and its name in
    ``lang``.  Output is deterministic: model order throughout.
    """
    groups = _groups(model)
    edges = [(p, a.id) for a in model.actions.values() for p in a.depends_on]
    if fmt == "dot":
        lines = [f"digraph {_dot_quote(model.id + ' actions')} {{",
                 "  rankdir=LR;",
                 '  graph [fontname="Helvetica", fontsize=11, labeljust=l];',
                 '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
                 '  edge [color="#777777"];']
        for rank, aids in groups.items():
            level = model.level(rank)
            title = f"L{rank} {level.name[lang]}" + ("" if level.name["zh"] == level.name["en"] else
                                                     f" ({level.name['zh']})" if lang == "en" else
                                                     f"（{level.name['en']}）")
            lines.append(f"  subgraph cluster_L{rank} {{")
            lines.append(f"    label={_dot_quote(title)};")
            lines.append(f'    style="rounded"; color="{LEVEL_BORDERS.get(rank, "#888888")}";')
            for aid in aids:
                action = model.actions[aid]
                label = _dot_escape(aid) + "\\n" + _dot_escape(action.name[lang])
                lines.append(f'    {_dot_quote(aid)} [label="{label}", '
                             f'fillcolor="{LEVEL_COLOURS.get(rank, "#ffffff")}", '
                             f'color="{LEVEL_BORDERS.get(rank, "#888888")}", tooltip="effort {action.effort}"];')
            lines.append("  }")
        for prerequisite, aid in edges:
            lines.append(f"  {_dot_quote(prerequisite)} -> {_dot_quote(aid)};")
        lines.append("}")
        return "\n".join(lines) + "\n"
    if fmt == "mermaid":
        ids = _mermaid_ids(model)
        lines = ["flowchart LR"]
        for rank, aids in groups.items():
            level = model.level(rank)
            title = f"L{rank} {level.name[lang]}"
            lines.append(f'  subgraph L{rank}["{_mermaid_text(title)}"]')
            for aid in aids:
                action = model.actions[aid]
                lines.append(f'    {ids[aid]}["{_mermaid_text(aid)}<br/>{_mermaid_text(action.name[lang])}"]')
            lines.append("  end")
        for prerequisite, aid in edges:
            lines.append(f"  {ids[prerequisite]} --> {ids[aid]}")
        for rank, aids in groups.items():
            lines.append(f"  classDef level{rank} fill:{LEVEL_COLOURS.get(rank, '#ffffff')},"
                         f"stroke:{LEVEL_BORDERS.get(rank, '#888888')},color:#111111")
            lines.append(f"  class {','.join(ids[a] for a in aids)} level{rank}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown graph format {fmt!r}")

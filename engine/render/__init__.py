"""Renderers: every output for people, each taking one result (and a language), never recomputing it.

A command's computation returns a typed result (a :class:`~engine.grading.Grade`, an
:class:`~engine.diagnosis.Explanation`, a :class:`~engine.whatif.WhatIf`, a
:class:`~engine.roadmap.Roadmap`, a :class:`~engine.fullreport.FullReport` …); a renderer turns
it into text, Markdown or HTML: ``render_x(result, lang)``.
Scores, levels, ratings, company titles, the zh/en words and the escaping of user text all
come from :mod:`engine.present`, so every format says the same thing the same way.

- :mod:`engine.render.text` — ``assess``, ``explain`` (with ``--rules``) and ``whatif`` as plain text.
- :mod:`engine.render.markdown` — ``assess``, ``explain`` and ``roadmap`` as Markdown (GFM tables).
- :mod:`engine.render.html` — the full HTML report (ladder, radar, scores, explanation, roadmap)
  from a :class:`~engine.fullreport.FullReport`; its Jinja2 templates are in ``engine/templates``.
- :mod:`engine.render.kb` — ``kb show``: the model, a stave or one criterion.
- :mod:`engine.render.graph` — ``kb graph``: the action dependency graph as DOT or Mermaid, and the
  level colours the HTML report shares.
- :mod:`engine.render.gantt` — the geometry of the HTML report's Gantt charts of a roadmap.

- :mod:`engine.render.roadmap` — ``roadmap`` as text, from a :class:`~engine.roadmap.Roadmap`.
- :mod:`engine.render.trend` — ``history COMPANY``: the trend between rounds, from a :class:`~engine.trend.Trend`.
- :mod:`engine.render.stats` — ``stats`` and ``batch --summary`` as text or an HTML page, from
  :class:`~engine.stats.Statistics`.
- :mod:`engine.render.trace` — ``trace FILE``: the audit record as text, JSON or JSON Lines.
- :mod:`engine.render.calibration` — ``kb calibrate`` as text or Markdown.

Nothing is re-exported here: import the module you need.
"""

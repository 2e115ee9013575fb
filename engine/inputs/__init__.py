"""The inputs people have, one module per kind (issue 10).

- :mod:`.coerce` — ratings, facts, dates and company fields as written in any input (one place for all);
- :mod:`.kind` — what a file is, told from its first bytes;
- :mod:`.document` — a YAML or JSON assessment;
- :mod:`.layout` and :mod:`.questionnaire` — the XLSX questionnaire read back;
- :mod:`.lines` — input read line by line, each line's bytes bounded (JSON Lines and CSV);
- :mod:`.jsonl` — JSON Lines, one assessment a line;
- :mod:`.wide` — wide CSV/XLSX tables, one row per company;
- :mod:`.folder` — what ``qmgrade batch`` reads, told apart: a file, a table or a folder of any of these;
- :mod:`.reader` — :func:`read_assessment`, one file of any kind.

This package module imports nothing: :mod:`.coerce` sits below :mod:`engine.assessment` and the readers
above it, and importing one of them must not load the others (no import cycle).
"""

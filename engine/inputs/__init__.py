"""The inputs people have, one module per kind (issue 10).

- :mod:`.coerce` — ratings, facts, dates and company fields as written in any input (one place for all);
- :mod:`.kind` — what a file is, told from its first bytes;
- :mod:`.document` — a YAML or JSON assessment;
- :mod:`.layout` and :mod:`.questionnaire` — the XLSX questionnaire read back;
- :mod:`.rows` — the records of ``qmgrade batch``: JSON Lines, wide CSV/XLSX rows, files and folders;
- :mod:`.reader` — :func:`read_assessment`, one file of any kind.

This package module imports nothing: :mod:`.coerce` sits below :mod:`engine.assessment` and the readers
above it, and importing one of them must not load the others (no import cycle).
"""

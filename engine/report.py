"""Former home of the assess text report and ``kb show`` (now :mod:`engine.render.text` and
:mod:`engine.render.kb`).

What is left are the word helpers some modules still import from here; they live in
:mod:`engine.words` and are read through :mod:`engine.present`: import them from there.
"""
from __future__ import annotations

from .words import cap_sentence, level_label, pick, safe_text, text_of, tr

__all__ = ["tr", "pick", "safe_text", "level_label", "cap_sentence", "text_of"]

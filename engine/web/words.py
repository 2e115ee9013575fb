"""The web pages' words: read from the one catalogue (``web.*`` in :mod:`engine.words`) through
:mod:`engine.present`, in the model's own words (its subject, its titles)."""
from __future__ import annotations

from .. import present

__all__ = ["make_word"]


def make_word(lang: str):
    """``w(key, **values)``: the page word ``key`` in ``lang`` (``present.word("web." + key, lang)``)."""
    def w(key: str, **values) -> str:
        return present.word(f"web.{key}", lang, **values)
    return w

"""The assessment history: every graded assessment kept, tamper-evident, and the trend between rounds.

The storage is :mod:`engine.ledger` (SQLite, a hash chain of append-only rows
holding the company id, name and assessment date, the level and barrel, the
model's id, version and fingerprint, the input's sha256, the result and the
assessment itself).  This module reads it for people:

A *round* is one stored assessment of a company; rounds are ordered by
``assessed_on`` (undated ones first) and then by the order they were stored.
The same input graded under the same model is stored once (histories made
before the ledger may hold it twice: it is shown once).
"""
from __future__ import annotations

from .ledger import History, row_of
from .trend import Trend, trend     # the trend between rounds, re-graded (issue 11); rendered by engine.render.trend

__all__ = ["History", "row_of", "Trend", "trend"]

"""The history and statistics queries the pages and the JSON API share (apart from both: no import cycle)."""
from __future__ import annotations

import json
from typing import Optional

from flask import abort

from . import service
from .access import ctx

__all__ = ["company_trend", "stats_over"]


def company_trend(company: str) -> dict:
    return service.history_trend(ctx()["model"], ctx()["db"], company)


def stats_over(batch_id: Optional[str]) -> dict:
    """``qmgrade stats`` over a batch's results, or over every company's latest round in the history."""
    store, model = ctx()["store"], ctx()["model"]
    if batch_id:
        batch = store.batch(batch_id)
        if batch is None:
            abort(404)
        lines = [line for line in batch["results"].splitlines() if line.strip()]
    else:
        lines = [json.dumps(c["result"], ensure_ascii=False) for c in store.companies()]
    return service.stats_of_results(model, lines)

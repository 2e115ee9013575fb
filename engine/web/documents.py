"""Drafts are assessment documents (CONTRACT §2) as the questionnaire pages fill them."""
from __future__ import annotations

__all__ = ["RATINGS", "rating_word", "document_of", "gradable"]

RATINGS = ("full", "largely", "partial", "none", "na")
_RATING_VALUES = {1.0: "full", 0.8: "largely", 0.5: "partial", 0.0: "none"}


def rating_word(value) -> str:
    """A stored rating as the form's value: full … none, na, '' (not rated), or the number."""
    if value is None:
        return "na"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ""
    return _RATING_VALUES.get(round(float(value), 6), f"{float(value):g}")


def document_of(assessment) -> dict:
    """The draft document of a checked assessment (an upload)."""
    profile_na = set(assessment.profile_na)
    document: dict = {"company": dict(assessment.company),
                "ratings": {cid: rating_word(value) for cid, value in assessment.ratings.items()
                            if cid not in profile_na},
                "evidence": {cid: list(refs) for cid, refs in assessment.evidence.items()},
                "facts": dict(assessment.facts)}
    if assessment.assessed_on:
        document["assessed_on"] = str(assessment.assessed_on)
    return document


def gradable(document: dict) -> dict:
    """The document without the ratings left blank (not rated)."""
    out = {k: v for k, v in document.items() if k not in ("ratings", "evidence")}
    out["ratings"] = {cid: r for cid, r in document.get("ratings", {}).items() if r not in ("", None)}
    evidence = {cid: refs for cid, refs in document.get("evidence", {}).items() if refs}
    if evidence:
        out["evidence"] = evidence
    return out

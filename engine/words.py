"""The words of the diagnosis, roadmap, what-if and report outputs, in Chinese and English.

Kept apart from :mod:`engine.report` (the assess text report) so that each
output module reads its labels from one table; :func:`word` falls back to
``engine.report.tr`` for the words both share.
"""
from __future__ import annotations

from .textsafe import terminal

__all__ = ["word", "level_name", "rating_label", "criterion_title", "effort_words", "month_text", "coverage_text", "na_above",
           "use_model_words", "localise"]

import contextvars
import re

# The model's own words (model.words, issue 12): (pattern, replacement) per language, applied to every
# label a renderer takes from the tables.  None for the shipped model, whose words are the tables' own.
_MODEL_WORDS: contextvars.ContextVar = contextvars.ContextVar("qmgrade_model_words", default=None)


REPORT_WORDS = {
    "level": ("等级", "Level"),
    "company": ("企业", "Company"),
    "model": ("模型", "Model"),
    "barrel": ("木桶短板", "Barrel"),
    "shortest": ("最短的板", "shortest staves"),
    "dimension": ("维度", "Dimension"),
    "pillar": ("支柱", "Pillar"),
    "next": ("下一级", "Next level"),
    "blockers": ("阻碍项", "Blockers"),
    "minimal_fix": ("最少整改项", "Minimal fix"),
    "not_rated": ("未评分条款", "Not rated"),
    "caps": ("封顶规则", "Caps"),
    "top": ("已达最高级。", "This is the top level."),
    "score": ("得分", "score"),
    "threshold": ("阈值", "threshold"),
    "key_below": ("关键条款未达标", "key criterion below minimum"),
    "met": ("满足", "met"),
    "unmet": ("未满足", "not met"),
    "none": ("无", "none"),
    "criteria": ("条款", "Criteria"),
    "actions": ("改进措施", "Actions"),
    "rules": ("规则", "Rules"),
    "levels": ("等级", "Levels"),
    "facts": ("事实", "Facts"),
    "key": ("关键", "key"),
    "weight": ("权重", "weight"),
    "rating": ("评分", "rating"),
    "not_rated_mark": ("未评", "not rated"),
    "cap_note": ("封顶规则使企业等级低于木桶等级；整改条款无法解除封顶。",
                 "A cap holds the company below its barrel level; no criterion fix lifts a cap."),
    "assessed_on": ("评估日期", "Assessed on"),
    "na": ("不适用", "n/a"),
}


def safe_text(value) -> str:
    """A user-supplied string made safe for a terminal: control and format characters escaped."""
    return terminal(value)


def pick(pair, lang: str) -> str:
    """The Chinese or English half of a (zh, en) pair."""
    zh, en = pair
    return localise(zh if lang == "zh" else en, lang)


def tr(word: str, lang: str) -> str:
    return pick(REPORT_WORDS[word], lang)


def text_of(bilingual, lang: str) -> str:
    if not bilingual:
        return ""
    return bilingual.get(lang) or bilingual.get("en") or bilingual.get("zh") or ""


def cap_sentence(cap: dict, model, lang: str) -> str:
    """When a cap lifts, in plain words (issue 9): ``capped at 3 Assurance until 2028-06-01: <reason>``."""
    name = level_name(model, cap["level"], lang)
    reason = safe_text(text_of(cap["reason"], lang)) if cap.get("reason") else cap["rule"]
    since = cap.get("since")
    if lang == "zh":
        when = f"，至 {cap['until']} 解除" if cap.get("until") else "，解除日期未知"
        dated = f"（事件日期 {since}）" if since else ""
        return f"封顶于{name}{when}：{reason}{dated}"
    when = f" until {cap['until']}" if cap.get("until") else ", lift date not known"
    dated = f" (event of {since})" if since else ""
    return f"capped at {name}{when}: {reason}{dated}"


def level_label(level: dict, lang: str) -> str:
    """A result's level object in both languages: ``3 Assurance (保证级)``, ``3 保证级（Assurance）`` (one name
    for a one-language model)."""
    name = level["name"]
    if name["zh"] == name["en"]:   # a one-language model (issue 12)
        return f"{level['rank']} {name['en']}"
    if lang == "zh":
        return f"{level['rank']} {name['zh']}（{name['en']}）"
    return f"{level['rank']} {name['en']} ({name['zh']})"



def _subject_substitutions(words: dict, lang: str) -> list:
    def say(key):
        return (words.get(key) or {}).get(lang)

    found = []
    for phrase, key in (("assessment", "assessment"), ("diagnosis", "diagnosis"), ("roadmap", "roadmap")):
        if say(key):
            found.append((re.compile(f"Quality-management capability {phrase}" if lang != "zh" else
                                     {"assessment": "质量管理能力评估报告", "diagnosis": "质量管理能力诊断报告",
                                      "roadmap": "质量管理能力改进路线图"}[phrase]), say(key)))
    if say("assessment"):
        found.append((re.compile("Quality-management( capability)? self-assessment" if lang != "zh" else
                                 "质量管理能力自评"), say("assessment")))
    if say("facts"):
        label = say("facts")
        found.append((re.compile(r"\b[Vv]eto facts?\b" if lang != "zh" else "否决事实"), label if lang == "zh"
                      else label[:1].lower() + label[1:]))
    subject, subjects = say("subject"), say("subjects") or (say("subject") and say("subject") + ("" if lang == "zh" else "s"))
    if subject and lang == "zh":
        found.append((re.compile("企业"), subject))
    elif subject:
        for old, new in (("companies", subjects), ("company's", f"{subject}'s"), ("company", subject)):
            found.append((re.compile(rf"\b{old}\b(?! sheet)"), new))   # the sheet keeps its name
            found.append((re.compile(rf"\b{old[:1].upper() + old[1:]}\b"), new[:1].upper() + new[1:]))
    return found


def use_model_words(model) -> None:
    """Make every renderer speak ``model``'s words (its subject, report titles, what its facts are called).

    The shipped model declares none: its output stays the tables' own, byte for byte.
    """
    words = getattr(model, "words", None) or {}
    _MODEL_WORDS.set({lang: _subject_substitutions(words, lang) for lang in ("zh", "en")} if words else None)


def localise(text: str, lang: str) -> str:
    """``text`` in the current model's words (unchanged for the shipped model)."""
    table = _MODEL_WORDS.get()
    if table and isinstance(text, list):
        return [localise(line, lang) for line in text]
    if not table or not isinstance(text, str):
        return text
    for pattern, new in table["zh" if lang == "zh" else "en"]:
        text = pattern.sub(new, text)
    return text

_WORDS = {
    # explain
    "explain_title": ("等级诊断", "Diagnosis"),
    "why_holds": ("为什么达到当前等级", "Why the level holds"),
    "why_not": ("为什么未达到", "Why it does not reach"),
    "reached_already": ("已达到该等级", "is reached"),
    "rules_fired": ("触发的规则", "Rules that fired"),
    "cells_met": ("L{k} 及以下已满足的（维度，级别）", "(dimension, level) cells met up to L{k}"),
    "staves_below": ("低于目标等级的维度", "Staves below the target"),
    "failing_cells": ("未满足的维度级别", "Failing (dimension, level) cells"),
    "keys_below_min": ("关键条款低于最低分", "key criteria below the minimum"),
    "key_minimum": ("关键最低分", "key minimum"),
    "reason_key": ("关键条款否决", "a key criterion is below the minimum"),
    "reason_threshold": ("得分低于阈值", "the score is below the threshold"),
    "after_fix": ("完成最少整改后", "After the minimal fix"),
    "reaches": ("可达到", "reaches"),
    "does_not_reach": ("仍不能达到", "does not reach"),
    "evidence": ("证据要求", "Evidence"),
    "addressed_by": ("对应措施", "addressed by"),
    "caps_block": ("封顶规则阻止达到该等级（整改条款无法解除）",
                   "Caps that keep the company below this level (no criterion fix lifts them)"),
    "top_reached": ("已达最高等级，无需诊断下一级。", "The company is at the top level; there is no next level."),
    "gain": ("提升", "gain"),
    "shortest_stave": ("最短的板", "a shortest stave"),
    "to_meet_it": ("满足该级最少需提升", "To meet it, raise at least"),
    "cap_below_barrel": ("封顶规则使企业停留在 {level} 级，低于木桶等级 {barrel} 级；整改条款无法解除封顶。",
                         "The cap holds the company at level {level}, below its barrel level {barrel}; no criterion fix lifts a cap."),
    "cap_at_barrel": ("封顶规则与木桶等级同为 {level} 级：即使各维度提升，封顶解除前企业也不能高于 {level} 级。",
                      "The cap is at the barrel level {level}: even with the staves raised, the company cannot rise above level {level} until the cap lifts."),
    # roadmap
    "roadmap_title": ("改进路线图", "Improvement roadmap"),
    "from": ("当前", "From"),
    "to": ("目标", "To"),
    "target": ("目标等级", "Target"),
    "needed": ("需要提升的条款（目标等级的最少整改项）", "Criteria to raise (the minimal fix for the target)"),
    "phase": ("阶段", "Phase"),
    "unlocks": ("解锁", "unlocks"),
    "no_unlock": ("（尚未解锁新等级）", "(no new level yet)"),
    "effort": ("工作量", "effort"),
    "addresses": ("覆盖条款", "addresses"),
    "after": ("前置", "after"),
    "check": ("PDCA 检查：以下条款的证据证明本里程碑完成",
              "PDCA check: the evidence of these criteria proves the milestone done"),
    "total": ("合计", "Total"),
    "actions_count": ("项措施", "actions"),
    "total_effort": ("总工作量", "total effort"),
    "plan_reaches": ("全部完成后达到", "Doing them all reaches"),
    "plan_blocked": ("全部完成后仍为", "Doing them all still leaves the company at"),
    "empty_plan": ("无需改进措施。", "No action is needed."),
    "already_at": ("企业已处于该等级或更高等级", "The company is already at or above this level"),
    "at_top": ("企业已处于最高等级", "The company is already at the top level"),
    "capped_plan": ("封顶规则使企业停留在", "A cap holds the company at"),
    "dependency_graph": ("措施依赖关系图", "Action dependency graph"),
    "legend_done": ("虚线：经由已完成措施的间接依赖", "dashed: indirect dependency through a done action"),
    "cap_no_action": ("没有措施能解除封顶规则。", "No action lifts a cap."),
    "mode_start": ("启动", "start"),
    "mode_complete": ("完善", "complete"),
    "mode_strengthen": ("加强", "strengthen"),
    "close_gaps": ("补齐差距", "close the gaps in"),
    "evidence_after": ("完成后 {n} 个月证据方可计入", "evidence counts {n} months after the work"),
    "earliest": ("最早", "earliest"),
    "person_weeks": ("人周", "person-weeks"),
    "milestone": ("里程碑", "Milestone"),
    "milestone_empty": ("无需新增措施（前面的里程碑已满足本级）。",
                        "No further action (the earlier milestones already meet this level)."),
    "milestone_capped": ("各维度已满足本级，但封顶规则使企业停留在较低等级。",
                         "The staves already meet this level, but a cap keeps the company below it."),
    "milestone_reaches": ("评级确认：完成本里程碑及之前各里程碑后达到", "Graded: with this and the earlier milestones done, the company reaches"),
    "milestone_short": ("评级确认：完成后仍为", "Graded: with them done the company is still at"),
    "level_dates": ("各等级最早可申报时间", "Each level can first be claimed"),
    "dates_from": ("日期自评估日 {day} 起按关键路径推算，为证据最早可计入的月份。",
                   "Dates run from the assessment day {day} along the critical path: the earliest month the evidence counts."),
    "months_after": ("评估后第 {n} 个月", "month {n} after the assessment"),
    "red_flags": ("红旗项（安全、合规或数据真实性关键条款，评为部分满足或更低）",
                  "Red flags (safety-, legality- or integrity-critical criteria rated partial or below)"),
    "red_flag_actions": ("消除红旗项的措施（与里程碑分开列出）", "Actions that clear them (apart from the milestones)"),
    "also_in_milestone": ("也在里程碑", "also in milestone"),
    "clears": ("消除红旗项", "clears"),
    "gantt": ("时间表（甘特图）", "Timeline (Gantt chart)"),
    "gantt_work": ("实施", "work"),
    "gantt_lead": ("证据积累", "evidence accrues"),
    "provisional": ("暂定（评分覆盖率不足）", "provisional (too few criteria rated)"),
    "coverage": ("评分覆盖率", "Coverage"),
    "coverage_line": ("已评 {rated}/{applicable} 项适用条款（{pct}%）", "{rated} of {applicable} applicable criteria rated ({pct}%)"),
    "coverage_below": ("低于模型要求的 {pct}%：等级为暂定", "below the model's {pct}%: the grade is provisional"),
    "na_above": ("L{k} 以上不适用", "not applicable above L{k}"),
    # whatif
    "whatif_title": ("假设分析", "What if"),
    "changed": ("改动的评分", "Changed ratings"),
    "before": ("改动前", "before"),
    "after_": ("改动后", "after"),
    "no_change": ("无变化", "no change"),
    "staves": ("维度等级", "Staves"),
    "blockers_next": ("下一级阻碍项", "Blockers of the next level"),
    "resolved": ("已消除", "resolved"),
    "new": ("新增", "new"),
    "unchanged": ("不变", "unchanged"),
    # the sentences of the assess and explain reports (engine.render)
    "profile": ("企业类型", "Profile"),
    "profile_na": ("{n} 项准则按不适用计", "{n} criteria counted as not applicable"),
    "barrel_stands": ("木桶等级为 {level}：最短的板是 {shortest}。", "The barrel stands at {level}: the shortest staves are {shortest}."),
    "staves_heading": ("各维度等级：", "Staves:"),
    "cell_fails": ("{dimension} 的 L{level} 要求未满足：得分 {score}，阈值 {threshold}",
                   "{dimension} does not meet level {level}: it scores {score} against the threshold {threshold}"),
    "cell_fails_key": ("，且有关键条款低于最低要求", ", and a key criterion is below its minimum"),
    "key_rated_below": ("关键条款 {criterion} 评为 {rating}，低于关键最低分 {minimum}",
                        "key criterion {criterion} is rated {rating}, below the key minimum {minimum}"),
    "list_sep": ("；", "; "),
    "na_allowed": ("可填不适用", "na allowed"),
    "red_flag": ("红线", "red flag"),
    "evidence_needed": ("证据", "evidence"),
    "rating_anchors": ("评分标尺", "rating anchors"),
    "source": ("依据", "source"),
    "rating_full": ("全部满足", "full"),
    "rating_largely": ("大部分满足", "largely"),
    "rating_partial": ("部分满足", "partial"),
    "rating_none": ("不满足", "none"),
    "full_stop": ("。", "."),
    # html / markdown
    "report_assess": ("质量管理能力评估报告", "Quality-management capability assessment"),
    "report_explain": ("质量管理能力诊断报告", "Quality-management capability diagnosis"),
    "report_roadmap": ("质量管理能力改进路线图", "Quality-management capability roadmap"),
    "ladder": ("五级阶梯", "The five-level ladder"),
    "radar": ("各维度等级（木桶的板）", "Stave levels (the barrel)"),
    "per_dimension": ("各维度得分", "Scores by dimension"),
    "you_are_here": ("当前位置", "you are here"),
    "barrel_level": ("木桶等级", "barrel level"),
    "generated_from": ("依据", "Based on"),
    "input_sha": ("输入指纹", "Input fingerprint"),
    "model_sha": ("模型指纹", "Model fingerprint"),
    "nothing_blocks": ("无阻碍项。", "Nothing blocks."),
    "not_rated_note": ("未评分", "not rated"),
    "phases": ("分阶段计划", "Phases"),
    "legend": ("图例", "Legend"),
    "legend_prereq": ("虚线框：前置措施（本身不覆盖所需条款）",
                      "dashed box: a prerequisite (covers no needed criterion itself)"),
    "company_id": ("企业编号", "Company ID"),
    "industry": ("行业", "Industry"),
    "region": ("地区", "Region"),
}

_RATING_NAMES = {1.0: ("全部满足", "full"), 0.8: ("大部分满足", "largely"), 0.5: ("部分满足", "partial"),
                 0.0: ("不满足", "none")}


def word(key: str, lang: str) -> str:
    """The label ``key`` in ``lang`` (``zh`` or ``en``)."""
    return pick(_WORDS.get(key) or REPORT_WORDS[key], lang)


def level_name(model, rank: int, lang: str) -> str:
    """``3 Assurance`` / ``3 保证级``."""
    level = model.level(rank)
    return f"{rank} {level.name['zh'] if lang == 'zh' else level.name['en']}"


def rating_label(rating, lang: str, not_rated: bool = False) -> str:
    """A rating as people say it: ``partial (0.5)``, ``n/a`` or ``not rated``."""
    if not_rated:
        return "未评" if lang == "zh" else "not rated"
    if rating is None:
        return "不适用" if lang == "zh" else "n/a"
    names = _RATING_NAMES.get(round(float(rating), 6))
    if names:
        return f"{names[0] if lang == 'zh' else names[1]} ({float(rating):g})"
    return f"{float(rating):g}"


def effort_words(person_weeks, lang: str) -> str:
    """``[1, 4]`` -> ``1–4 person-weeks`` / ``1–4 人周``."""
    low, high = person_weeks
    return f"{low}–{high} {word('person_weeks', lang)}"


def month_text(months: int, lang: str) -> str:
    """An offset in months when the assessment has no date."""
    return word("months_after", lang).format(n=months)


def coverage_text(coverage: dict, lang: str) -> str:
    """``150 of 159 applicable criteria rated (94%)``, with the provisional note when below the minimum."""
    pct = int(coverage["share"] * 100 + 1e-9)
    text = word("coverage_line", lang).format(rated=coverage["rated"], applicable=coverage["applicable"], pct=pct)
    if coverage.get("provisional"):
        floor = int(round(coverage.get("min_coverage", 0.9) * 100))
        text += ("；" if lang == "zh" else "; ") + word("coverage_below", lang).format(pct=floor)
    return text


def na_above(level: int, lang: str) -> str:
    return word("na_above", lang).format(k=level)


_TITLE_MAX = {"zh": 28, "en": 64}


def criterion_title(model, criterion_id: str, lang: str, with_id: bool = True) -> str:
    """A criterion as a person names it: its title (``title`` when the model gives one, else the opening of
    its text up to the first colon, comma or semicolon, shortened to a line) with its id beside it."""
    criterion = model.criteria.get(criterion_id)
    if criterion is None:
        return criterion_id
    title = getattr(criterion, "title", None)
    text = (title or criterion.text).get(lang) or criterion.text.get("en") or ""
    if not title:
        for mark in ("：", ":", "；", ";", "，", ",", "。", ". "):
            head = text.split(mark, 1)[0].strip()
            if len(head) >= (6 if lang == "zh" else 16):
                text = head
                break
        limit = _TITLE_MAX["zh" if lang == "zh" else "en"]
        if len(text) > limit:
            cut = text[:limit]
            if lang != "zh" and " " in cut:
                cut = cut.rsplit(" ", 1)[0]
            text = cut.rstrip(" ,;:，；：") + "…"
    return f"{text} ({criterion_id})" if with_id else text

"""The one zh/en catalogue of every output's words, read through :mod:`engine.present`.

:func:`word` finds a report word (assess, explain, roadmap, what-if, Markdown and HTML:
``REPORT_WORDS`` and ``_WORDS``) by its key, and the words of one output by ``area.key``:
``stats.*`` (statistics), ``trend.*`` (the history between rounds), ``trace.*`` (the audit
trace), ``calibration.*`` (``kb calibrate``) and ``web.*`` (the web pages' chrome).  Every word
comes out in the current model's own words (:func:`use_model_words`, issue 12).
"""
from __future__ import annotations

from .textsafe import terminal

__all__ = ["word", "level_name", "rating_label", "criterion_title", "effort_words", "month_text", "coverage_text", "na_above",
           "use_model_words", "localise"]

import contextvars
import re
from typing import Dict

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


def word(key: str, lang: str, **values) -> str:
    """The label ``key`` in ``lang`` (``zh`` or ``en``), its ``{placeholders}`` filled from ``values``.

    ``key`` is a report word (``roadmap_title``) or, for the words of one output, ``area.key``
    (``stats.title``, ``trend.round``, ``trace.digest``, ``calibration.agree``, ``web.home``).
    """
    if "." in key:
        area, name = key.split(".", 1)
        text = pick(AREAS[area][name], lang)
    else:
        text = pick(_WORDS.get(key) or REPORT_WORDS[key], lang)
    return text.format(**values) if values else text


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


# -- the words of one output each (``word("stats.title", lang)``): statistics, the trend between rounds,
# the audit trace, the calibration report and the web pages' chrome -----------------------------------
STATS_WORDS = {
    "title": ("分级统计", "Grading statistics"),
    "companies": ("企业数", "Companies"),
    "graded": ("已分级", "graded"),
    "errors": ("错误记录", "records with errors"),
    "levels": ("等级分布", "Level distribution"),
    "level": ("等级", "Level"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "by_region": ("按地区", "By region"),
    "by_industry": ("按行业", "By industry"),
    "region": ("地区", "Region"),
    "industry": ("行业", "Industry"),
    "unknown": ("（未填）", "(not given)"),
    "shortest": ("最常见的短板", "Most frequent shortest staves"),
    "blockers": ("最常见的阻碍项", "Most frequent blockers"),
    "minimal_fix": ("最常见的最少整改项", "Most frequent minimal-fix criteria"),
    "dimension": ("维度", "Dimension"),
    "criterion": ("条款", "Criterion"),
    "model": ("模型", "Model"),
    "none": ("无", "none"),
    "provisional": ("暂定等级（评分覆盖率不足）", "Provisional grades (too few criteria rated)"),
    "provisional_note": ("另行计数，不计入下列分布与排名", "counted apart, not in the tables below"),
}

TREND_WORDS = {
    "history": ("复核记录", "History"),
    "round": ("轮次", "Round"),
    "level": ("等级", "level"),
    "barrel": ("木桶", "barrel"),
    "Level": ("等级", "Level"),
    "Barrel": ("木桶", "Barrel"),
    "undated": ("未注明日期", "undated"),
    "model": ("模型", "model"),
    "stave": ("维度", "stave"),
    "cleared": ("已消除", "cleared"),
    "still": ("仍阻碍", "still blocks"),
    "worse": ("变差", "worse"),
    "done": ("看来已完成", "looks done"),
    "no_change": ("无变化", "no change"),
    "one_round": ("只有一轮评估，尚无变化可比。", "Only one round: no changes to compare yet."),
    "stored": ("（按存储结果，当前模型无法重新评级）", "(as stored: the current model cannot re-grade it)"),
    "not_rated": ("未评", "not rated"),
    "versions": ("两轮按不同模型版本评级（{a} → {b}），只比较两者共有的 {n} 条准则",
                 "graded under different model versions ({a} → {b}): compared on the {n} criteria they share"),
}

TRACE_WORDS = {
    "title": ("qmgrade 审核追溯记录", "qmgrade audit trace"),
    "input": ("输入 sha256", "Input sha256"),
    "files": ("个文件", "files"),
    "rules_fired": ("触发的规则", "Rules that fired"),
    "firings": ("规则触发记录", "Firings"),
    "digest": ("摘要 (sha256)", "Digest (sha256)"),
    "verify": ("核验：qmgrade trace verify 记录.json 评估文件（记录须为 json 或 jsonl 格式）",
               "Check with: qmgrade trace verify RECORD.json FILE (a json or jsonl record)"),
    "evidence": ("证据", "evidence"),
    "reaches": ("达到第 {k} 级", "reaches L{k}"),
    "reached": ("已达到第 {k} 级", "has reached L{k}"),
    "meets": ("满足第 {k} 级", "meets L{k}"),
    "misses": ("未满足第 {k} 级", "misses L{k}"),
    "stands": ("等级为 {k}", "stands at L{k}"),
    "barrel_is": ("木桶等级 {k}", "barrel level {k}"),
    "cap_is": ("封顶等级 {k}", "cap at level {k}"),
    "capped": ("等级封顶于 {level}", "level capped at {level}"),
    "company_is": ("企业等级 {level}", "company level {level}"),
    "barrel_level": ("木桶等级 {level}", "barrel level {level}"),
    "stave_level": ("等级为 {level}", "stands at {level}"),
    "no_applicable": ("无适用条款", "no applicable criteria"),
    "keys_ok": ("关键条款均达标", "key criteria all met"),
    "keys_below": ("{n} 项关键条款低于关键最低分 {m}", "{n} key {criteria} below the key minimum {m}"),
    "company_facts": ("企业事实均为默认值", "company facts all at their defaults"),
    "not_rated": ("未评分", "not rated"),
    "separator": ("，", ", "),
}

CALIBRATION_WORDS = {
    "title": ("模型校准", "Calibration of"),
    "companies": ("家参考企业", "reference companies"),
    "agree": ("一致", "agree"),
    "disagree": ("不一致", "disagree"),
    "company": ("企业", "Company"),
    "kind": ("类型", "Kind"),
    "expected": ("预期", "Expected"),
    "graded": ("评定", "Graded"),
    "shortest": ("最短板", "Shortest staves"),
    "capped": ("封顶", "capped"),
    "disagreements": ("与预期不一致", "Disagreements"),
    "expected_graded": ("预期 {e}，评定 {g}", "expected {e}, graded {g}"),
    "sensitivity": ("敏感性（改变等级的单档评分变化）", "Sensitivity (one-notch rating changes that move the level)"),
    "no_change": ("没有单档变化改变等级", "no one-notch change moves the level"),
    "changes": ("处变化", "changes"),
    "key": ("关键", "key"),
    "findings": ("模型整体发现", "Model findings"),
    "all_largely": ("全部评为“大部分满足”时的等级", "All criteria rated largely grade"),
    "top_warning": ("（最高级：过于容易达到）", " (the top level: too easy to reach)"),
    "thin": ("适用准则少于 {n} 条的维度级别", "Cells with fewer than {n} applicable criteria"),
    "criteria": ("条准则", "criteria"),
    "cliffs": ("从“全部大部分满足”出发、单条降为“部分满足”即降两级及以上的准则",
               "Criteria whose drop from largely to partial (all others largely) costs two levels or more"),
    "na_keys": ("允许不适用的关键准则", "Key criteria that may be rated na"),
    "none": ("无", "none"),
    "summary": ("汇总", "Summary"),
    "moving": ("改变等级的单档变化", "level-moving one-notch changes"),
    "drops2": ("降两级及以上", "drops of two levels or more"),
    "non_key": ("其中非关键准则", "of them on non-key criteria"),
}

WEB_WORDS = {
    "app": ("qmgrade 质量管理能力分级评估", "qmgrade quality-management capability grading"),
    "home": ("首页", "Home"),
    "assessments": ("评估", "Assessments"),
    "start": ("开始新的评估", "Start an assessment"),
    "start_hint": ("填写企业信息后逐项（按维度）填写问卷；也可以上传已填好的 XLSX 问卷或 YAML/JSON。",
                   "Enter the company's details, then fill the questionnaire stave by stave; or upload a filled "
                   "XLSX questionnaire or a YAML/JSON assessment instead."),
    "company_id": ("企业编号", "Company id"), "company_name": ("企业名称", "Company name"),
    "industry": ("行业代码（GB/T 4754）", "Industry code (GB/T 4754)"), "region": ("地区", "Region"),
    "profile": ("业务类型", "Business profile"), "no_profile": ("（无）", "(none)"),
    "assessed_on": ("评估日期", "Assessed on"), "facts": ("否决事项", "Veto facts"),
    "create": ("创建并开始填写", "Create and start the questionnaire"),
    "upload": ("上传问卷", "Upload a questionnaire"), "upload_file": ("问卷文件（XLSX、YAML 或 JSON）",
                                                                     "Questionnaire file (XLSX, YAML or JSON)"),
    "upload_button": ("上传并评估", "Upload and grade"),
    "questionnaire": ("问卷", "Questionnaire"), "stave": ("维度", "Stave"),
    "level": ("级别", "Level"), "key": ("关键项", "key"), "red_flag": ("红线项", "red flag"),
    "guidance": ("证据指引", "Evidence guidance"), "anchors": ("评分锚点", "Rating anchors"),
    "rating": ("评分", "Rating"), "not_rated": ("未评", "not rated"),
    "evidence": ("证据（每行一条）", "Evidence references (one per line)"),
    "save": ("保存草稿", "Save draft"), "save_next": ("保存并进入下一维度", "Save and go to the next stave"),
    "save_result": ("保存并查看结果", "Save and see the result"), "saved": ("已保存", "Saved"),
    "result": ("结果", "Result"), "company_level": ("企业级别", "Company level"),
    "barrel": ("木桶级别（未计封顶）", "Barrel level (before caps)"),
    "shortest": ("最短板", "Shortest staves"), "provisional": ("暂定结果", "Provisional"),
    "coverage": ("覆盖率", "Coverage"), "red_flags": ("红线项", "Red flags"),
    "caps": ("封顶规则", "Caps"), "none": ("无", "none"),
    "staves": ("各维度", "Staves"), "report": ("完整报告（雷达图、解释、路线图、里程碑与时间线）",
                                               "Full report (radar, explanation, roadmap, milestones and timeline)"),
    "whatif": ("假设分析（不保存）", "What if (not saved)"), "whatif_go": ("试算", "Try it"),
    "criterion": ("评估项", "Criterion"), "before": ("之前", "Before"), "after": ("之后", "After"),
    "roadmap_after": ("变更后的路线图", "The roadmap after the change"),
    "roadmap": ("路线图", "Roadmap"), "milestone": ("里程碑", "Milestone"), "earliest": ("最早", "earliest"),
    "downloads": ("下载", "Downloads"), "report_html": ("HTML 报告", "HTML report"),
    "report_md": ("Markdown 报告", "Markdown report"), "result_json": ("JSON 结果", "JSON result"),
    "trace_json": ("规则追踪（JSON）", "Rule trace (JSON)"), "trace_txt": ("规则追踪（文本）", "Rule trace (text)"),
    "questionnaire_yaml": ("问卷（YAML）", "Questionnaire (YAML)"),
    "questionnaire_xlsx": ("空白问卷（XLSX）", "Blank questionnaire (XLSX)"),
    "submit": ("提交本轮评估（记入历史）", "Submit this round (into the history)"),
    "submitted": ("已记入历史", "Stored in the history"),
    "edit": ("编辑问卷", "Edit the questionnaire"),
    "bureau": ("主管部门", "Bureau"), "batch": ("批量上传", "Batch upload"),
    "batch_hint": ("JSON Lines、宽表 CSV/XLSX，或问卷的 zip 压缩包。", "JSON Lines, a wide CSV/XLSX, or a zip of questionnaires."),
    "batch_file": ("批量文件", "Batch file"), "batch_go": ("上传并评估", "Upload and grade"),
    "progress": ("进度", "Progress"), "records": ("记录", "Records"), "failed": ("失败", "Failed"),
    "errors": ("错误", "Errors"), "running": ("评估中…（页面自动刷新）", "Grading… (the page refreshes itself)"),
    "done": ("完成", "Done"), "results_jsonl": ("结果（JSON Lines）", "Results (JSON Lines)"),
    "stats": ("统计", "Statistics"), "stats_hint": ("各企业最近一轮评估的统计。", "Over each company's latest round."),
    "history": ("复核历史", "History"), "rounds": ("轮次", "Rounds"), "no_data": ("暂无数据", "Nothing yet"),
    "login": ("登录", "Log in"), "logout": ("退出", "Log out"), "username": ("用户名", "User name"),
    "password": ("密码", "Password"), "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "lang_switch": ("English", "中文"), "error": ("错误", "Error"),
    "api": ("JSON API（OpenAPI）", "JSON API (OpenAPI)"), "signed_in": ("已登录", "Signed in as"),
    "local": ("本机模式（无需登录）", "Local mode (no login)"), "skip": ("跳到正文", "Skip to content"),
    "na": ("不适用", "n/a"), "stave_of": ("维度 {i}/{n}", "Stave {i} of {n}"),
}


# The questionnaire workbook and YAML template (engine/spreadsheet.py): company rows, the rating prompt,
# the instructions sheet (a list of lines).
QUESTIONNAIRE_WORDS = {
    "id": ("企业编号（必填，用于历史记录）", "company id (needed for the history)"),
    "name": ("企业名称", "company name"),
    "industry": ("行业（如国民经济行业分类代码 C34）", "industry (e.g. the GB/T 4754 code C34)"),
    "region": ("地区（省、市）", "region (province, city)"),
    "assessed_on": ("评估日期（YYYY-MM-DD）", "date of the assessment (YYYY-MM-DD)"),
    "profile": ("企业类型（可选），其不适用的准则按不适用计：", "business profile (optional); its criteria that do not apply "
                                                   "count as na:"),
    "prompt_title": ("评分", "Rating"),
    "prompt": ("全部满足=1.0，大部分满足=0.8，部分满足=0.5，不满足=0，不适用=不计分；也可填 0 到 1 之间的数。留空=未评分（按 0 计）。",
               "full=1.0, largely=0.8, partial=0.5, none=0, na=left out; or a number in [0, 1]. "
               "Blank = not rated (counts as 0)."),
    "error_title": ("评分无效", "Not a rating"),
    "error": ("请从列表中选择，或填 0 到 1 之间的数。", "Pick a label from the list, or type a number in [0, 1]."),
    "fact": ("近三年事实（填 是/否，留空=否）", "veto fact (yes/no; blank = default)"),
    "instructions": (
        ["质量管理能力分级自评问卷",
         "1. 在 questionnaire 表的“评分”列为每条准则选择评分：全部满足 / 大部分满足 / 部分满足 / 不满足 / 不适用，"
         "或填 0 到 1 之间的数（或百分数，如 80%）；留空表示未评分（按 0 计分）。",
         "2. 在“证据”列填写证据（文件名、记录编号），每行一条。",
         "3. 在 company 表填写企业编号、名称、行业、地区、评估日期，以及近三年的否决事实（是/否）。",
         "4. 保存后运行：qmgrade assess 本文件.xlsx",
         "请勿修改“准则编号”列和表头。"],
        ["Quality-management capability self-assessment questionnaire",
         "1. In the questionnaire sheet, rate each criterion in the rating column: full / largely / partial / "
         "none / na (or 全部满足 / 大部分满足 / 部分满足 / 不满足 / 不适用, or a number in [0, 1]); blank = not rated "
         "(counts as 0).",
         "2. Put the evidence (document names, record numbers) in the evidence column, one per line.",
         "3. In the company sheet fill in the company id, name, industry, region, the date, and the veto facts "
         "of the last three years (yes/no).",
         "4. Save, then run: qmgrade assess THIS-FILE.xlsx",
         "Do not change the criterion column or the header row."]),
}


AREAS: Dict[str, Dict[str, tuple]] = {
    "stats": STATS_WORDS, "trend": TREND_WORDS, "trace": TRACE_WORDS, "calibration": CALIBRATION_WORDS,
    "web": WEB_WORDS, "questionnaire": QUESTIONNAIRE_WORDS}


def area_words(area: str, lang: str) -> dict:
    """Every word of one output (``stats``, ``web`` …) in ``lang``, by key: for a template."""
    return {key: word(f"{area}.{key}", lang) for key in AREAS[area]}

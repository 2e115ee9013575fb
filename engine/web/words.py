"""The words of the web pages (zh, en).  Report words stay in engine.words; these are only the chrome."""
from __future__ import annotations

_WORDS = {
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


def make_word(lang: str):
    """``w(key, **values)``: the page word in ``lang``, in the model's own words (its subject, its titles)."""
    from ..words import localise
    index = 0 if lang == "zh" else 1

    def w(key: str, **values) -> str:
        text = _WORDS[key][index]
        return localise(text.format(**values) if values else text, lang)
    return w

"""The one catalogue of labels: every code the domain stores (roles, states, categories,
cards, library levels, stages, content kinds, ...) with its word in Simplified Chinese and
in English, side by side, so that a missing translation cannot exist. The console, the
command line, the refusals, the stats and the report all take their words from here.

``LABELS[kind][code] = (chinese, english)``. ``label(kind, code, lang)`` gives one word (the
code itself when the map lacks it); ``code_of(kind, text)`` reads a code back from what
people type (the code, either label, or an alias of ``ALIASES``). Plain Python: no textual.
"""
from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")

LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "state": {
        "submitted": ("待分派", "submitted"),
        "assigned": ("已交办", "assigned"),
        "accepted": ("已签收", "accepted"),
        "answered": ("已答复", "answered"),
        "disputed": ("有异议", "disputed"),
        "returned": ("已退回", "returned"),
        "closed": ("已办结", "closed"),
    },
    "category": {
        "approval": ("立项", "approval"),
        "planning": ("规划", "planning"),
        "land": ("土地", "land"),
        "energy": ("能耗", "energy"),
        "environment": ("环评", "env. impact"),
        "infrastructure": ("配套", "utilities"),
        "other": ("其他", "other"),
    },
    "card": {
        "blue": ("蓝牌", "blue card"),
        "yellow": ("黄牌", "yellow card"),
        "red": ("红牌", "red card"),
        "": ("无", "none"),
        "none": ("无牌", "no card"),
    },
    "card_short": {
        "blue": ("蓝", "B"),
        "yellow": ("黄", "Y"),
        "red": ("红", "R"),
        "": ("", ""),
    },
    "role": {
        "admin": ("管理员", "admin"),
        "liaison": ("联络员", "liaison"),
        "leader": ("领导", "leader"),
        "supervisor": ("督查室", "supervisor"),
        "discipline": ("纪委监委", "discipline"),
        "editor": ("编辑", "editor"),
        "system": ("系统", "system"),
    },
    "scope": {
        "city": ("全市", "city"),
        "unit": ("本单位", "unit"),
    },
    "rating": {
        "满意": ("满意", "satisfied"),
        "基本满意": ("基本满意", "mostly satisfied"),
        "不满意": ("不满意", "dissatisfied"),
    },
    "ext_state": {
        "pending": ("待审批", "pending"),
        "approved": ("已批准", "approved"),
        "rejected": ("已驳回", "rejected"),
    },
    "order_origin": {
        "yellow": ("黄牌自动督办", "yellow card"),
        "dispute": ("不满意复核", "dispute review"),
        "manual": ("人工督办", "manual"),
    },
    "action": {
        "submit": ("提交诉求", "submitted"),
        "assign": ("分派", "assigned"),
        "reassign": ("改派", "reassigned"),
        "accept": ("签收", "accepted"),
        "reply": ("答复", "replied"),
        "return": ("退回", "returned"),
        "extension.request": ("申请延期", "extension requested"),
        "extension.approve": ("批准延期", "extension approved"),
        "extension.reject": ("驳回延期", "extension rejected"),
        "evaluate": ("企业评价", "evaluated"),
        "dispute.at_fault": ("复核：单位有责，开督办单", "review: unit at fault, order opened"),
        "dispute.not_at_fault": ("复核：单位无责，办结", "review: unit not at fault, closed"),
        "order.open": ("开督办单", "order opened"),
        "order.edit": ("修改督办单", "order changed"),
        "red.take_up": ("红牌已接办", "red card taken up"),
        "card.blue": ("挂蓝牌", "blue card"),
        "card.yellow": ("挂黄牌", "yellow card"),
        "card.red": ("挂红牌", "red card"),
        "escalate": ("挂牌", "cards"),
    },
    "actor": {
        "system:intake": ("企业端", "enterprise app"),
        "system:escalate": ("自动挂牌", "card sweep"),
        "system:import": ("导入", "import"),
    },
    "library": {
        "applied": ("待审核", "applied"),
        "city": ("市重点", "city key"),
        "province": ("省重点", "provincial key"),
        "rejected": ("未入库", "rejected"),
    },
    "stage": {
        "前期": ("前期", "preparing"),
        "在建": ("在建", "building"),
        "竣工": ("竣工", "completed"),
        "投产": ("投产", "operating"),
    },
    "project_category": {
        "新旧动能转换项目": ("新旧动能", "new growth"),
        "市重点建设项目": ("市重点建设", "city key build"),
        "省儒商大会签约项目": ("儒商大会", "Confucian fair"),
        "固定资产投资500万以上项目": ("500万以上", "over 5M CNY"),
        "其他": ("其他", "other"),
    },
    "content_kind": {
        "policy": ("惠企政策", "policy"),
        "investment": ("招商资讯", "investment"),
        "department": ("部门动态", "department"),
        "news": ("新闻", "news"),
    },
    "content_level": {
        "中央": ("中央", "central"),
        "省": ("省", "provincial"),
        "市": ("市", "city"),
        "县": ("县", "county"),
    },
    "content_state": {
        "draft": ("草稿", "draft"),
        "published": ("已发布", "published"),
        "archived": ("已归档", "archived"),
    },
    "instruction_status": {
        "new": ("待签收", "new"),
        "acknowledged": ("已签收", "acknowledged"),
        "answered": ("已答复", "answered"),
    },
    "history_field": {
        "reply": ("答复", "reply"),
        "reason": ("理由", "reason"),
        "note": ("备注", "note"),
        "rating": ("评价", "rating"),
        "comment": ("意见", "comment"),
        "rating_comment": ("意见", "comment"),
        "days": ("天数", "days"),
        "due_at": ("期限", "due"),
        "order_due": ("督办期限", "order due"),
        "deadline": ("期限", "deadline"),
        "unit_code": ("单位", "unit"),
        "threshold_at": ("阈值时间", "threshold"),
        "return_reason": ("理由", "reason"),
        "close_note": ("说明", "note"),
    },
    "unit_kind": {
        "county": ("县（市、区）", "county"),
        "zone": ("功能区", "zone"),
        "department": ("部门", "department"),
        "supervision": ("督查室", "supervision"),
        "discipline": ("纪委监委", "discipline"),
        "platform": ("平台", "platform"),
    },
    "sort": {
        "deadline": ("期限", "deadline"),
        "submitted": ("提交时间", "submitted"),
        "ref": ("编号", "ref"),
    },
    "field": {
        "ref": ("编号", "ref"),
        "title": ("标题", "title"),
        "body": ("正文", "body"),
        "reply": ("答复内容", "reply"),
        "reason": ("理由", "reason"),
        "note": ("说明", "note"),
        "comment": ("评价意见", "comment"),
        "instruction": ("批示内容", "instruction"),
        "name": ("名称", "name"),
        "username": ("用户名", "username"),
        "investment_wan": ("总投资（万元）", "investment_wan"),
        "invested_wan": ("已完成投资（万元）", "invested_wan"),
        "planned_start": ("计划开工日期", "planned_start"),
        "planned_finish": ("计划竣工日期", "planned_finish"),
        "date": ("日期", "date"),
        "day": ("日期", "day"),
        "percent": ("进度百分比", "percent"),
        "days": ("天数", "days"),
        "kind": ("类别", "kind"),
        "level": ("层级", "level"),
        "source_unit": ("来源单位", "source_unit"),
        "tags": ("标签", "tags"),
        "mobile": ("手机号", "mobile"),
        "role": ("角色", "role"),
        "scope": ("范围", "scope"),
        "rating": ("评价", "rating"),
    },
    "task": {
        "submit_appeals": ("提交诉求", "submit appeals"),
        "assign_appeals": ("分派或改派诉求", "assign or reassign appeals"),
        "accept_appeals": ("签收诉求", "accept (签收) appeals"),
        "reply_appeals": ("答复诉求", "reply to (答复) appeals"),
        "return_appeals": ("退回诉求", "return (退回) appeals"),
        "request_extensions": ("申请延期", "request extensions (延期)"),
        "decide_extensions": ("审批延期申请", "approve or reject extensions"),
        "record_evaluations": ("录入企业评价", "record evaluations"),
        "review_disputes": ("复核不满意评价", "review 不满意 evaluations"),
        "open_orders": ("开督办单", "open supervision orders"),
        "edit_orders": ("修改督办单", "edit supervision orders"),
        "take_up_red_cards": ("接办红牌", "take up red cards"),
        "issue_instructions": ("作出领导批示", "issue instructions (领导批示)"),
        "apply_projects": ("登记项目入库申请", "register project applications"),
        "review_projects": ("审核项目入库申请", "review project-library applications"),
        "report_progress": ("填报项目进度", "report project progress"),
        "visualise_projects": ("设置项目可视化标记", "mark projects as visualised (可视化)"),
        "write_content": ("撰写内容", "write content"),
        "edit_content": ("修改内容", "edit content"),
        "publish_content": ("发布内容", "publish content"),
        "unpublish_content": ("撤回已发布的内容", "unpublish content"),
        "archive_content": ("归档内容", "archive content"),
        "daily_listen": ("选定每日一听", "choose the daily listen (每日一听)"),
        "build_listen": ("生成每日一听音频", "build the daily listen's sound"),
        "import_registry": ("导入企业名录", "import enterprises"),
        "feed_intake": ("导入企业端事件", "feed the enterprise app's events (intake)"),
        "release_sms": ("重新发送或确认短信", "release SMS or mark them sent"),
        "manage_units": ("管理单位", "manage units"),
        "manage_users": ("管理用户", "manage users"),
        "routing_rules": ("修改分派规则", "change routing rules"),
        "import_calendars": ("导入工作日历", "import calendars"),
    },
    "verb": {
        "assign": ("分派", "assign"),
        "accept": ("签收", "accept"),
        "reply": ("答复", "reply to"),
        "return": ("退回", "return"),
        "request_extension": ("申请延期", "request an extension for"),
        "extend": ("延期", "extend"),
        "evaluate": ("评价", "evaluate"),
        "review": ("复核", "review"),
        "open_order": ("开督办单", "open a supervision order on"),
        "acknowledge": ("签收", "acknowledge"),
        "publish": ("发布", "publish"),
        "unpublish": ("撤回发布", "unpublish"),
        "archive": ("归档", "archive"),
    },
    "rate": {
        "response": ("响应率", "response rate"),
        "resolution": ("解决率", "resolution rate"),
        "satisfaction": ("满意率", "satisfaction rate"),
    },
}


#: Other words people type for a code (spreadsheets, the command line), besides the code and
#: its two labels.
ALIASES: dict[str, dict[str, str]] = {
    "role": {"督查": "supervisor", "督查员": "supervisor", "纪委": "discipline", "市领导": "leader",
             "县区领导": "leader", "联络人": "liaison"},
    "unit_kind": {"县": "county", "县区": "county", "县市区": "county", "市直部门": "department"},
    "scope": {"市": "city", "全市": "city", "单位": "unit", "本单位": "unit"},
}


def label(kind: str, code: Any, lang: str = "zh") -> str:
    """The word for ``code`` (a code of ``kind``) in ``lang`` (``zh``, else English); the
    code itself, as text, when the map does not hold it."""
    entry = LABELS.get(kind, {}).get(code if isinstance(code, str) else "" if code is None else code)
    if entry is None:
        return "" if code is None else str(code)
    return entry[0] if lang == "zh" else entry[1]


def labels(kind: str, lang: str = "zh") -> dict[str, str]:
    """``{code: word}`` of ``kind`` in ``lang``, in the catalogue's order."""
    i = 0 if lang == "zh" else 1
    return {code: pair[i] for code, pair in LABELS[kind].items()}


def code_of(kind: str, text: str | None) -> str | None:
    """The code of ``kind`` that ``text`` names: the code (any case), its Chinese or English
    label, or an alias; ``None`` when it names none."""
    value = (text or "").strip()
    if not value:
        return None
    table = LABELS.get(kind, {})
    if value in table:
        return value
    if value.lower() in table:
        return value.lower()
    for code, (zh, en) in table.items():
        if value == zh or value.lower() == en.lower():
            return code
    return ALIASES.get(kind, {}).get(value)

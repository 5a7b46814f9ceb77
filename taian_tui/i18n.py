"""Every string the console shows, in Simplified Chinese (default) and English.

``t(key, **kw)`` looks a key up in the active language (``set_lang``), falls back to
Chinese and then to the key itself, and fills ``{placeholders}`` with ``str.format``.
Label maps turn codes into words: ``state_label``, ``category_label``, ``card_label``,
``role_label``, ``rating_label``, ``action_label``... The screens show labels, never codes.

Strings here are *plain text* for the console: the screens never parse them as markup
(they contain no ``[...]`` markup on purpose), and user data is never formatted into a
markup string.
"""
from __future__ import annotations

from typing import Any

from .models import CATEGORIES

LANGS = ("zh", "en")
_lang = "zh"


def set_lang(lang: str) -> None:
    global _lang
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
    _lang = lang


def get_lang() -> str:
    return _lang


ZH: dict[str, str] = {
    # -- application ---------------------------------------------------------------------------
    "app.title": "泰安市重大项目督导服务平台",
    "app.sub": "政府端控制台",
    "header.user": "{name}（{role}·{unit}）",
    "header.user_nounit": "{name}（{role}）",
    "header.counts": "在办 {open} · 今日到期 {due} · 挂牌 {carded}",
    "header.counts_loading": "统计中…",
    "weekday.0": "周一", "weekday.1": "周二", "weekday.2": "周三", "weekday.3": "周四",
    "weekday.4": "周五", "weekday.5": "周六", "weekday.6": "周日",
    "err.unknown_user": "无法以 {user} 登录：{msg}",
    "err.load": "读取数据失败：{msg}",
    "err.unexpected": "意外错误：{msg}",
    "no_role_appeals": "当前角色（{role}）不处理诉求。",
    # -- bindings ------------------------------------------------------------------------------
    "k.help": "帮助",
    "k.quit": "退出",
    "quit.title": "要退出吗？",
    "quit.hint": "按 Ctrl+Q 退出控制台。",
    "palette": "命令",
    "k.inbox": "诉求",
    "k.board": "督办看板",
    "k.redcards": "红牌",
    "k.accept": "签收",
    "k.reply": "答复",
    "k.return": "退回",
    "k.extend": "延期",
    "k.reassign": "改派",
    "k.search": "搜索",
    "k.filter": "筛选",
    "k.due_today": "今日到期",
    "k.overdue": "已超期",
    "k.clear": "清除筛选",
    "k.detail": "详情",
    "k.next_page": "下页",
    "k.prev_page": "上页",
    "k.sort": "排序",
    "k.refresh": "刷新",
    "k.order": "督办单",
    "k.approve": "批准",
    "k.reject": "驳回",
    "k.review": "复核",
    "k.take_up": "接办",
    "k.save": "保存",
    "k.cancel": "取消",
    "k.close": "关闭",
    "k.tab_cards": "挂牌",
    "k.tab_ext": "延期",
    "k.tab_disputes": "不满意",
    "k.next_col": "右列",
    "k.prev_col": "左列",
    "k.back": "返回列表",
    "k.choose": "选择",
    # -- command palette -----------------------------------------------------------------------
    "palette.placeholder": "搜索命令…",
    "cmd.help": "显示本页按键说明",
    "cmd.quit": "退出控制台",
    "cmd.theme": "主题",
    "cmd.theme.help": "更换配色",
    "cmd.keys": "按键面板",
    "cmd.keys.help": "显示或隐藏按键面板",
    "cmd.screenshot": "截图",
    "cmd.screenshot.help": "把当前屏幕保存为 SVG 图片",
    "cmd.goto_inbox": "打开诉求收件箱",
    "cmd.goto_board": "打开督办看板",
    "cmd.goto_redcards": "打开红牌线索",
    "cmd.filter_state": "按状态筛选：{label}",
    "cmd.filter_category": "按类别筛选：{label}",
    "cmd.filter_card": "按挂牌筛选：{label}",
    "cmd.sort": "排序：{label}",
    # -- inbox ---------------------------------------------------------------------------------
    "inbox.title": "诉求收件箱",
    "col.card": "牌",
    "col.ref": "编号",
    "col.category": "类别",
    "col.enterprise": "企业",
    "col.title": "标题",
    "col.unit": "承办单位",
    "col.arrived": "到达",
    "col.deadline": "期限",
    "col.days_left": "剩余",
    "col.state": "状态",
    "filter.state": "状态",
    "filter.todo": "待办",
    "filter.all_states": "全部状态",
    "filter.category": "类别",
    "filter.all_categories": "全部类别",
    "filter.card": "挂牌",
    "filter.all_cards": "全部挂牌",
    "filter.any_card": "任一挂牌",
    "filter.no_card": "未挂牌",
    "filter.unit": "单位",
    "filter.all_units": "全部单位",
    "filter.due": "期限",
    "filter.all_due": "全部期限",
    "filter.due_today": "今日到期",
    "filter.overdue": "已超期",
    "search.placeholder": "搜索标题、内容、企业（按 / ）",
    "sort.deadline": "按期限",
    "sort.submitted": "按提交时间",
    "sort.ref": "按编号",
    "status.page": "第 {page}/{pages} 页 · 第 {first}–{last} 条，共 {total} 条 · {sort}",
    "status.page_nototal": "第 {page} 页 · 第 {first}–{last} 条 · 计数中… · {sort}",
    "status.loading": "加载中…",
    "status.empty": "没有符合条件的诉求",
    "status.search": "搜索“{text}”",
    "days.left": "{n}",
    "days.today": "今天",
    "days.overdue": "超{n}",
    # -- detail --------------------------------------------------------------------------------
    "detail.empty": "选中一条诉求查看详情。",
    "detail.loading": "读取中…",
    "detail.title": "标题",
    "detail.state": "状态",
    "detail.card": "挂牌",
    "detail.no_card": "未挂牌",
    "detail.category": "类别",
    "detail.county": "县区",
    "detail.unit": "承办单位",
    "detail.no_unit": "（待分派）",
    "detail.submitted": "提交时间",
    "detail.arrived": "到达单位",
    "detail.deadline": "答复期限",
    "detail.deadline_estimated": "（无该年节假日数据，按周一至周五估算）",
    "detail.days_left": "剩余 {n} 个工作日",
    "detail.days_overdue": "已超期 {n} 个工作日",
    "detail.due_today": "今日到期",
    "detail.body": "诉求内容",
    "detail.reply": "答复",
    "detail.answered": "答复时间",
    "detail.return_reason": "退回理由",
    "detail.rating": "评价",
    "detail.close_note": "办结说明",
    "detail.enterprise": "企业",
    "detail.uscc": "统一社会信用代码",
    "detail.industry": "行业",
    "detail.tags": "标签",
    "detail.contact": "联系人",
    "detail.address": "地址",
    "detail.project": "项目",
    "detail.no_project": "（未关联项目）",
    "detail.project_line": "{category} · 总投资 {investment} 万元 · {stage} · 进度 {percent}%",
    "detail.orders": "督办单",
    "detail.order_line": "#{id} {origin} · {opened} 开 · 期限 {due} · {state}",
    "detail.extensions": "延期申请",
    "detail.ext_line": "#{id} {days} 个工作日 · {state} · {reason}",
    "detail.cards": "挂牌记录",
    "detail.card_line": "{card} · 达到阈值 {threshold} · 记录于 {applied}",
    "detail.taken_up": " · {by} 于 {at} 接办",
    "detail.timeline": "办理过程",
    "detail.none": "无",
    "order.open": "办理中",
    "order.closed": "已关闭",
    # -- forms ---------------------------------------------------------------------------------
    "form.saving": "正在保存…",
    "form.refused": "未能保存：{msg}",
    "form.hint": "Ctrl+S 保存 · Esc 取消",
    "form.state_now": "当前状态：{state}",
    "form.accept.title": "签收诉求 {ref}",
    "form.accept.text": "确认签收？签收后请在答复期限前答复。",
    "form.reply.title": "答复诉求 {ref}",
    "form.return.title": "退回诉求 {ref}",
    "form.return.text": "退回须在到达后 2 个工作日内；退回后由管理员重新分派。",
    "form.extend.title": "申请延期 {ref}",
    "form.reassign.title": "改派诉求 {ref}",
    "form.order_open.title": "开督办单 {ref}",
    "form.order_edit.title": "修改督办单 #{id}（{ref}）",
    "form.decide.title": "审批延期申请 #{id}（{ref}）",
    "form.decide.text": "申请延期 {days} 个工作日，理由：",
    "form.review.title": "复核不满意评价 {ref}",
    "form.review.text": "企业评价：{rating}",
    "form.takeup.title": "记录红牌接办 {ref}",
    "field.reply": "答复内容",
    "field.reason": "理由",
    "field.days": "延期工作日数（1–20）",
    "field.unit": "改派至",
    "field.note": "备注",
    "field.note_optional": "备注（可选）",
    "field.due": "督办期限（YYYY-MM-DD 或 YYYY-MM-DD HH:MM）",
    "field.decision": "决定",
    "field.fault": "复核结论",
    "field.order_days": "督办期限（工作日）",
    "field.opinion": "复核意见",
    "opt.approve": "批准延期",
    "opt.reject": "驳回申请",
    "opt.at_fault": "单位有责：开督办单，退回单位重新办理",
    "opt.not_at_fault": "单位无责：办结并附说明",
    "opt.choose": "请选择",
    "err.required": "请填写{field}",
    "err.choose": "请选择{field}",
    "err.days": "天数须为 {lo}–{hi} 的整数",
    "err.date": "日期格式应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM",
    "err.future": "督办期限须晚于当前时间",
    "done.accept": "已签收 {ref}",
    "done.reply": "已答复 {ref}",
    "done.return": "已退回 {ref}",
    "done.extend": "已提交 {ref} 的延期申请",
    "done.reassign": "已改派 {ref}",
    "done.order_open": "已为 {ref} 开督办单",
    "done.order_edit": "已修改 {ref} 的督办单",
    "done.approve": "已批准 {ref} 的延期申请",
    "done.reject": "已驳回 {ref} 的延期申请",
    "done.review": "已复核 {ref}",
    "done.take_up": "已记录 {ref} 的红牌接办",
    "nothing_selected": "请先选中一条记录",
    # -- escalation board ----------------------------------------------------------------------
    "board.title": "督办看板",
    "board.col": "{card}（{n}）",
    "board.more": "… 还有 {n} 条（PgDn 下页）",
    "board.page": "第 {page}/{pages} 页",
    "board.due_today": "今日到期",
    "board.overdue": "超期{n}工作日",
    "board.order_due": "督办至{due}",
    "board.no_order": "未开督办单",
    "board.empty": "（无）",
    "tab.cards": "挂牌看板",
    "tab.extensions": "延期申请（{n}）",
    "tab.disputes": "不满意复核（{n}）",
    "ext.col.ref": "编号",
    "ext.col.unit": "承办单位",
    "ext.col.days": "天数",
    "ext.col.reason": "理由",
    "ext.col.requested": "申请时间",
    "ext.col.deadline": "现期限",
    "dis.col.ref": "编号",
    "dis.col.unit": "承办单位",
    "dis.col.title": "标题",
    "dis.col.comment": "企业意见",
    "dis.col.evaluated": "评价时间",
    # -- red cards -----------------------------------------------------------------------------
    "red.title": "红牌线索",
    "red.col.ref": "编号",
    "red.col.unit": "承办单位",
    "red.col.title": "标题",
    "red.col.red_at": "挂红牌",
    "red.col.order_due": "督办期限",
    "red.col.state": "状态",
    "red.col.taken": "接办",
    "red.taken": "已接办",
    "red.not_taken": "待接办",
    "red.status": "共 {total} 条红牌 · 第 {page}/{pages} 页",
    # -- sign-in and help ----------------------------------------------------------------------
    "signin.title": "选择登录用户",
    "signin.hint": "上下键选择，回车登录。",
    "help.title": "帮助 · {screen}",
    "help.keys": "按键",
    "help.inbox": ("收件箱按期限排序显示您职责范围内的诉求，每页 50 条，PgUp/PgDn 翻页。"
                   "上方筛选栏按状态、类别、挂牌、单位、期限筛选；按 / 输入关键词全文搜索"
                   "（可搜两个字的词，如“土地”“环评”）。下方详情显示诉求全文、企业、项目与办理过程。"),
    "help.board": ("督办看板按蓝、黄、红牌分列显示未答复的挂牌诉求、逾期天数和督办期限。"
                   "数字键 1/2/3 切换挂牌看板、延期申请、不满意复核。"),
    "help.redcards": "红牌线索列出全部挂红牌的诉求及其完整办理过程；按 u 记录接办。",
    "help.live": "数据每 2 秒自动检查更新；打开的表单不会被刷新。Ctrl+P 打开命令面板。",
}

EN: dict[str, str] = {
    "app.title": "Tai'an Major Project Supervision",
    "app.sub": "government console",
    "header.user": "{name} ({role}, {unit})",
    "header.user_nounit": "{name} ({role})",
    "header.counts": "open {open} · due today {due} · carded {carded}",
    "header.counts_loading": "counting…",
    "weekday.0": "Mon", "weekday.1": "Tue", "weekday.2": "Wed", "weekday.3": "Thu",
    "weekday.4": "Fri", "weekday.5": "Sat", "weekday.6": "Sun",
    "err.unknown_user": "cannot sign in as {user}: {msg}",
    "err.load": "could not read the data: {msg}",
    "err.unexpected": "unexpected error: {msg}",
    "no_role_appeals": "Your role ({role}) does not handle appeals.",
    "k.help": "Help",
    "k.quit": "Quit",
    "quit.title": "Do you want to quit?",
    "quit.hint": "Press Ctrl+Q to quit the console.",
    "palette": "Commands",
    "k.inbox": "Appeals",
    "k.board": "Board",
    "k.redcards": "Red cards",
    "k.accept": "Accept",
    "k.reply": "Reply",
    "k.return": "Return",
    "k.extend": "Extend",
    "k.reassign": "Reassign",
    "k.search": "Search",
    "k.filter": "Filter",
    "k.due_today": "Due today",
    "k.overdue": "Overdue",
    "k.clear": "Clear",
    "k.detail": "Detail",
    "k.next_page": "Next pg",
    "k.prev_page": "Prev pg",
    "k.sort": "Sort",
    "k.refresh": "Refresh",
    "k.order": "Order",
    "k.approve": "Approve",
    "k.reject": "Reject",
    "k.review": "Review",
    "k.take_up": "Take up",
    "k.save": "Save",
    "k.cancel": "Cancel",
    "k.close": "Close",
    "k.tab_cards": "Cards",
    "k.tab_ext": "Extensions",
    "k.tab_disputes": "Disputes",
    "k.next_col": "Right",
    "k.prev_col": "Left",
    "k.back": "Back",
    "k.choose": "Choose",
    "palette.placeholder": "Search for commands…",
    "cmd.help": "Show the keys of this screen",
    "cmd.quit": "Quit the console",
    "cmd.theme": "Theme",
    "cmd.theme.help": "Change the colours",
    "cmd.keys": "Keys panel",
    "cmd.keys.help": "Show or hide the keys panel",
    "cmd.screenshot": "Screenshot",
    "cmd.screenshot.help": "Save the screen as an SVG image",
    "cmd.goto_inbox": "Open the appeal inbox",
    "cmd.goto_board": "Open the escalation board",
    "cmd.goto_redcards": "Open the red-card leads",
    "cmd.filter_state": "Filter by state: {label}",
    "cmd.filter_category": "Filter by category: {label}",
    "cmd.filter_card": "Filter by card: {label}",
    "cmd.sort": "Sort: {label}",
    "inbox.title": "Appeal inbox",
    "col.card": "Cd",
    "col.ref": "Ref",
    "col.category": "Category",
    "col.enterprise": "Enterprise",
    "col.title": "Title",
    "col.unit": "Unit",
    "col.arrived": "Arrived",
    "col.deadline": "Due",
    "col.days_left": "Left",
    "col.state": "State",
    "filter.state": "State",
    "filter.todo": "To do",
    "filter.all_states": "All states",
    "filter.category": "Category",
    "filter.all_categories": "Any category",
    "filter.card": "Card",
    "filter.all_cards": "All cards",
    "filter.any_card": "Any card",
    "filter.no_card": "No card",
    "filter.unit": "Unit",
    "filter.all_units": "All units",
    "filter.due": "Due",
    "filter.all_due": "Any due date",
    "filter.due_today": "Due today",
    "filter.overdue": "Overdue",
    "search.placeholder": "Search title, text, enterprise (press /)",
    "sort.deadline": "by deadline",
    "sort.submitted": "by submission",
    "sort.ref": "by ref",
    "status.page": "Page {page}/{pages} · rows {first}–{last} of {total} · {sort}",
    "status.page_nototal": "Page {page} · rows {first}–{last} · counting… · {sort}",
    "status.loading": "Loading…",
    "status.empty": "No appeals match",
    "status.search": "search “{text}”",
    "days.left": "{n}",
    "days.today": "today",
    "days.overdue": "-{n}",
    "detail.empty": "Select an appeal to see it here.",
    "detail.loading": "Loading…",
    "detail.title": "Title",
    "detail.state": "State",
    "detail.card": "Card",
    "detail.no_card": "none",
    "detail.category": "Category",
    "detail.county": "County",
    "detail.unit": "Unit",
    "detail.no_unit": "(awaiting dispatch)",
    "detail.submitted": "Submitted",
    "detail.arrived": "Reached unit",
    "detail.deadline": "Deadline",
    "detail.deadline_estimated": "(no holiday data for that year: counted Monday-Friday)",
    "detail.days_left": "{n} working days left",
    "detail.days_overdue": "{n} working days overdue",
    "detail.due_today": "due today",
    "detail.body": "Appeal",
    "detail.reply": "Reply",
    "detail.answered": "Answered",
    "detail.return_reason": "Return reason",
    "detail.rating": "Evaluation",
    "detail.close_note": "Closing note",
    "detail.enterprise": "Enterprise",
    "detail.uscc": "Credit code",
    "detail.industry": "Industry",
    "detail.tags": "Tags",
    "detail.contact": "Contact",
    "detail.address": "Address",
    "detail.project": "Project",
    "detail.no_project": "(no project)",
    "detail.project_line": "{category} · investment {investment} (10k CNY) · {stage} · {percent}% done",
    "detail.orders": "Supervision orders",
    "detail.order_line": "#{id} {origin} · opened {opened} · due {due} · {state}",
    "detail.extensions": "Extensions",
    "detail.ext_line": "#{id} {days} working days · {state} · {reason}",
    "detail.cards": "Cards",
    "detail.card_line": "{card} · threshold {threshold} · applied {applied}",
    "detail.taken_up": " · taken up by {by} at {at}",
    "detail.timeline": "History",
    "detail.none": "none",
    "order.open": "open",
    "order.closed": "closed",
    "form.saving": "Saving…",
    "form.refused": "Not saved: {msg}",
    "form.hint": "Ctrl+S save · Esc cancel",
    "form.state_now": "Current state: {state}",
    "form.accept.title": "Accept appeal {ref}",
    "form.accept.text": "Accept this appeal? Reply before its deadline.",
    "form.reply.title": "Reply to appeal {ref}",
    "form.return.title": "Return appeal {ref}",
    "form.return.text": "Returns are allowed within 2 working days of arrival; the admin then reassigns it.",
    "form.extend.title": "Request an extension for {ref}",
    "form.reassign.title": "Reassign appeal {ref}",
    "form.order_open.title": "Open a supervision order on {ref}",
    "form.order_edit.title": "Edit supervision order #{id} ({ref})",
    "form.decide.title": "Decide extension request #{id} ({ref})",
    "form.decide.text": "{days} working days requested, because:",
    "form.review.title": "Review the dissatisfied evaluation of {ref}",
    "form.review.text": "Enterprise's evaluation: {rating}",
    "form.takeup.title": "Record take-up of the red card of {ref}",
    "field.reply": "Reply",
    "field.reason": "Reason",
    "field.days": "Working days (1-20)",
    "field.unit": "Reassign to",
    "field.note": "Note",
    "field.note_optional": "Note (optional)",
    "field.due": "Due (YYYY-MM-DD or YYYY-MM-DD HH:MM)",
    "field.decision": "Decision",
    "field.fault": "Finding",
    "field.order_days": "Order due in (working days)",
    "field.opinion": "Finding note",
    "opt.approve": "Approve the extension",
    "opt.reject": "Reject the request",
    "opt.at_fault": "Unit at fault: supervision order, back to the unit",
    "opt.not_at_fault": "Unit not at fault: close with a note",
    "opt.choose": "Choose",
    "err.required": "{field} is required",
    "err.choose": "Choose the {field}",
    "err.days": "days must be a whole number from {lo} to {hi}",
    "err.date": "use YYYY-MM-DD or YYYY-MM-DD HH:MM",
    "err.future": "the due time must be in the future",
    "done.accept": "Accepted {ref}",
    "done.reply": "Replied to {ref}",
    "done.return": "Returned {ref}",
    "done.extend": "Extension requested for {ref}",
    "done.reassign": "Reassigned {ref}",
    "done.order_open": "Supervision order opened on {ref}",
    "done.order_edit": "Supervision order of {ref} changed",
    "done.approve": "Extension of {ref} approved",
    "done.reject": "Extension of {ref} rejected",
    "done.review": "Reviewed {ref}",
    "done.take_up": "Red card of {ref} recorded as taken up",
    "nothing_selected": "Select a row first",
    "board.title": "Escalation board",
    "board.col": "{card} ({n})",
    "board.more": "… {n} more (PgDn for the next page)",
    "board.page": "page {page}/{pages}",
    "board.due_today": "due today",
    "board.overdue": "{n}wd late",
    "board.order_due": "order {due}",
    "board.no_order": "no supervision order",
    "board.empty": "(none)",
    "tab.cards": "Cards",
    "tab.extensions": "Extensions ({n})",
    "tab.disputes": "Disputes ({n})",
    "ext.col.ref": "Ref",
    "ext.col.unit": "Unit",
    "ext.col.days": "Days",
    "ext.col.reason": "Reason",
    "ext.col.requested": "Requested",
    "ext.col.deadline": "Deadline",
    "dis.col.ref": "Ref",
    "dis.col.unit": "Unit",
    "dis.col.title": "Title",
    "dis.col.comment": "Comment",
    "dis.col.evaluated": "Evaluated",
    "red.title": "Red-card leads",
    "red.col.ref": "Ref",
    "red.col.unit": "Unit",
    "red.col.title": "Title",
    "red.col.red_at": "Red since",
    "red.col.order_due": "Order due",
    "red.col.state": "State",
    "red.col.taken": "Taken up",
    "red.taken": "taken up",
    "red.not_taken": "pending",
    "red.status": "{total} red cards · page {page}/{pages}",
    "signin.title": "Sign in as",
    "signin.hint": "Arrow keys to choose, Enter to sign in.",
    "help.title": "Help · {screen}",
    "help.keys": "Keys",
    "help.inbox": ("The inbox lists the appeals within your scope, by deadline, 50 to a page "
                   "(PgUp/PgDn). The filter bar narrows by state, category, card, unit and due "
                   "date; press / to search the text (two-character Chinese words such as 土地 "
                   "or 环评 work). The detail pane shows the appeal, its enterprise, project "
                   "and history."),
    "help.board": ("The board shows unanswered carded appeals in blue, yellow and red columns, "
                   "with days overdue and the supervision order's due time. Keys 1/2/3 switch "
                   "between cards, extension requests and disputes."),
    "help.redcards": "Every red-carded appeal with its whole history; press u to record take-up.",
    "help.live": "Data is checked for changes every 2 s; an open form is never refreshed. Ctrl+P opens the command palette.",
}

CATALOGUE: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}


def t(key: str, **kw: Any) -> str:
    """The text for ``key`` in the active language, formatted with ``kw``."""
    text = CATALOGUE[_lang].get(key)
    if text is None:
        text = ZH.get(key, key)
    if kw:
        try:
            return text.format(**kw)
        except (KeyError, IndexError, ValueError):
            return text
    return text


# -- label maps -----------------------------------------------------------------------------------
STATES = {
    "zh": {"submitted": "待分派", "assigned": "已交办", "accepted": "已签收", "answered": "已答复",
           "disputed": "有异议", "returned": "已退回", "closed": "已办结"},
    "en": {"submitted": "submitted", "assigned": "assigned", "accepted": "accepted",
           "answered": "answered", "disputed": "disputed", "returned": "returned", "closed": "closed"},
}
CATEGORY_LABELS = {
    "zh": dict(CATEGORIES),
    "en": {"approval": "approval", "planning": "planning", "land": "land", "energy": "energy",
           "environment": "env. impact", "infrastructure": "utilities", "other": "other"},
}
CARDS = {
    "zh": {"blue": "蓝牌", "yellow": "黄牌", "red": "红牌", "": "无"},
    "en": {"blue": "blue card", "yellow": "yellow card", "red": "red card", "": "none"},
}
CARDS_SHORT = {
    "zh": {"blue": "蓝", "yellow": "黄", "red": "红", "": ""},
    "en": {"blue": "B", "yellow": "Y", "red": "R", "": ""},
}
ROLES = {
    "zh": {"admin": "管理员", "liaison": "联络员", "leader": "市领导", "supervisor": "督查室",
           "discipline": "纪委监委", "editor": "编辑", "system": "系统"},
    "en": {"admin": "admin", "liaison": "liaison", "leader": "leader", "supervisor": "supervisor",
           "discipline": "discipline", "editor": "editor", "system": "system"},
}
RATINGS = {
    "zh": {"满意": "满意", "基本满意": "基本满意", "不满意": "不满意"},
    "en": {"满意": "satisfied", "基本满意": "mostly satisfied", "不满意": "dissatisfied"},
}
EXTENSION_STATES = {
    "zh": {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"},
    "en": {"pending": "pending", "approved": "approved", "rejected": "rejected"},
}
ORDER_ORIGINS = {
    "zh": {"yellow": "黄牌自动督办", "dispute": "不满意复核", "manual": "人工督办"},
    "en": {"yellow": "yellow card", "dispute": "dispute review", "manual": "manual"},
}
ACTIONS = {
    "zh": {"submit": "提交诉求", "assign": "分派", "reassign": "改派", "accept": "签收",
           "reply": "答复", "return": "退回", "extension.request": "申请延期",
           "extension.approve": "批准延期", "extension.reject": "驳回延期", "evaluate": "企业评价",
           "dispute.at_fault": "复核：单位有责，开督办单", "dispute.not_at_fault": "复核：单位无责，办结",
           "order.open": "开督办单", "order.edit": "修改督办单", "red.take_up": "红牌已接办",
           "card.blue": "挂蓝牌", "card.yellow": "挂黄牌", "card.red": "挂红牌",
           "escalate": "挂牌"},
    "en": {"submit": "submitted", "assign": "assigned", "reassign": "reassigned", "accept": "accepted",
           "reply": "replied", "return": "returned", "extension.request": "extension requested",
           "extension.approve": "extension approved", "extension.reject": "extension rejected",
           "evaluate": "evaluated", "dispute.at_fault": "review: unit at fault, order opened",
           "dispute.not_at_fault": "review: unit not at fault, closed",
           "order.open": "order opened", "order.edit": "order changed",
           "red.take_up": "red card taken up", "card.blue": "blue card", "card.yellow": "yellow card",
           "card.red": "red card", "escalate": "cards"},
}
ACTORS = {
    "zh": {"system:intake": "企业端", "system:escalate": "自动挂牌", "system:import": "导入"},
    "en": {"system:intake": "enterprise app", "system:escalate": "card sweep", "system:import": "import"},
}
# Keys of the audit ``after`` dict worth showing in the history, with their labels.
DETAIL_FIELDS = {
    "zh": {"reply": "答复", "reason": "理由", "note": "备注", "rating": "评价", "comment": "意见",
           "rating_comment": "意见", "days": "天数", "due_at": "期限", "order_due": "督办期限",
           "deadline": "期限", "unit_code": "单位", "threshold_at": "阈值时间", "return_reason": "理由",
           "close_note": "说明"},
    "en": {"reply": "reply", "reason": "reason", "note": "note", "rating": "rating",
           "comment": "comment", "rating_comment": "comment", "days": "days", "due_at": "due",
           "order_due": "order due", "deadline": "deadline", "unit_code": "unit",
           "threshold_at": "threshold", "return_reason": "reason", "close_note": "note"},
}


def _label(table: dict[str, dict[str, str]], code: str | None) -> str:
    code = code or ""
    return table[_lang].get(code) or table["zh"].get(code) or code


def state_label(code: str | None) -> str:
    return _label(STATES, code)


def category_label(code: str | None) -> str:
    return _label(CATEGORY_LABELS, code)


def card_label(code: str | None) -> str:
    return _label(CARDS, code)


def card_short(code: str | None) -> str:
    return _label(CARDS_SHORT, code) if code else ""


def role_label(code: str | None) -> str:
    return _label(ROLES, code)


def rating_label(code: str | None) -> str:
    return _label(RATINGS, code)


def extension_state_label(code: str | None) -> str:
    return _label(EXTENSION_STATES, code)


def order_origin_label(code: str | None) -> str:
    return _label(ORDER_ORIGINS, code)


def action_label(code: str | None) -> str:
    return _label(ACTIONS, code)


def actor_label(code: str | None) -> str:
    return _label(ACTORS, code)


def field_label(code: str) -> str | None:
    return DETAIL_FIELDS[_lang].get(code)


def weekday(day) -> str:
    return t(f"weekday.{day.weekday()}")

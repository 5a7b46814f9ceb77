"""Every message of a refused domain action (``DomainError``), in English and Simplified
Chinese. Plain Python: no textual (the domain layer imports it).

``MESSAGES[key] = (english, chinese)``: two ``str.format`` templates with the same
``{named}`` placeholders. The English one is the text ``str(exc)`` and the CLI show; the
console shows ``exc.localized(lang)``.

A placeholder whose value is a code (a state, a role, an action...) names a label map
in its format spec, so that each language shows its own word for it:

* ``{state:state}`` one code through the ``state`` map (English: the code itself,
  or the English phrase the map holds; Chinese: the label);
* ``{states:state/slash}`` a sequence of codes, each through the map, joined
  (``/`` in English, ``、`` in Chinese); ``/or`` joins with `` or `` / ``或``, ``/comma``
  with ``, `` / ``、``;
* the map ``raw`` leaves the values as they are (only the joining differs);
* ``who`` takes ``(username, role or None)`` and ``unit`` a unit's name or ``None``.

Any other spec (``{percent:g}``) and conversions (``{value!r}``) are plain
``str.format``. A code a map does not hold is shown as it is, in both languages.
"""
from __future__ import annotations

import string
from typing import Any, Iterable, Self

from taian_tui.domain import labels

LANGS = ("en", "zh")
#: Label kinds of a placeholder's spec that are not maps of ``labels.LABELS``: ``raw`` (the
#: value as it is), ``unit`` (a unit's name or ``None``), ``who`` (``(username, role)``),
#: ``category_pair`` (``approval/立项`` in English, ``立项`` in Chinese).
#: ``system`` (a system actor: its code in English, as typed on the command line; its label
#: in Chinese).
SPECIAL_KINDS = ("raw", "unit", "who", "category_pair", "system")

JOINS: dict[str, tuple[str, str]] = {
    "or": (" or ", "或"),
    "comma": (", ", "、"),
    "slash": ("/", "、"),
}

NO_UNIT = ("(no unit)", "（无单位）")


# -- the catalogue: key -> (English, Chinese) -------------------------------------------------------
MESSAGES: dict[str, tuple[str, str]] = {
    # actors, roles and scope
    "unknown_user": (
        "unknown user {user!r}: sign in as an existing user",
        "未知用户“{user}”：请以已有用户的身份登录"),
    "user_deactivated": (
        "user {user!r} is deactivated",
        "用户“{user}”已停用"),
    "system_not_allowed": (
        "rule: {task:task} is not done by {user:system}",
        "规则：{user:system}不能{task:task}"),
    "role_required": (
        "rule: only {roles:role/or} may {task:task}; {who:who} may not",
        "规则：只有{roles:role/or}可以{task:task}；{who:who}无此权限"),
    "own_unit": (
        "rule: a liaison handles only their own unit's appeals; {user} ({user_unit:unit}) may not "
        "{verb:verb} {ref}, which is with {unit:unit}",
        "规则：联络员只能办理本单位的诉求；诉求 {ref} 由{unit:unit}办理，{user}（{user_unit:unit}）"
        "不能{verb:verb}"),
    "out_of_scope": (
        "rule: {who:who} may not read appeal {ref} (outside their scope)",
        "规则：{who:who}无权查看诉求 {ref}（超出其办理范围）"),
    # appeals
    "wrong_state": (
        "cannot {verb:verb} appeal {ref}: it is {state:state}; that is done only while an appeal is "
        "{states:state/slash}",
        "诉求 {ref} 当前为{state:state}状态，不能{verb:verb}；只有处于{states:state/slash}状态的诉求"
        "才能{verb:verb}"),
    "unknown_category": (
        "unknown category {value!r}: use one of {choices:category_pair/comma}",
        "未知的诉求类别“{value}”：可选{choices:category_pair/comma}"),
    "unknown_county": (
        "unknown county {county!r}",
        "未知的县（市、区）“{county}”"),
    "appeal_exists": (
        "appeal {ref} already exists",
        "诉求 {ref} 已存在"),
    "unit_cannot_handle": (
        "appeals are handled by counties, zones and departments, not {unit}",
        "诉求由县（市、区）、功能区和部门办理，不能交给{unit}"),
    "already_with_unit": (
        "appeal {ref} is already with {unit}",
        "诉求 {ref} 已由{unit}办理"),
    "return_window": (
        "rule: an appeal may be returned only within {days} working days of its arrival; "
        "{ref} arrived {arrived}, the window closed {closed}",
        "规则：诉求只能在交办后 {days} 个工作日内退回；{ref} 于 {arrived} 交办，退回期限已于 "
        "{closed} 届满"),
    "days_not_whole": (
        "days must be a whole number, not {value!r}",
        "天数必须是整数，不能是“{value}”"),
    "days_range": (
        "days must be between 1 and {max}",
        "天数必须在 1 到 {max} 之间"),
    "extension_too_late": (
        "rule: an extension must be requested before the deadline; {ref} was due {deadline}",
        "规则：延期须在办理期限届满前申请；{ref} 的期限为 {deadline}"),
    "approval_too_late": (
        "rule: an extension is approved before the deadline it moves; {ref} was due {deadline} "
        "and its card is judged at that time: reject the request with a reason (the supervision "
        "order the yellow card opens can be given another due time)",
        "规则：延期须在期限届满前批准；{ref} 的期限 {deadline} 已过，挂牌以该期限为准："
        "请驳回并说明理由（黄牌开出的督办单可另定期限）"),
    "last_liaison": (
        "{user} is the last active liaison (with a mobile) of {unit}, which has {n} open appeals: "
        "their reminders would reach nobody; add or activate another liaison first",
        "{user} 是{unit}最后一位在岗（有手机号）的联络员，该单位尚有 {n} 件在办诉求，停用后提醒短信将无人接收："
        "请先新增或启用另一位联络员"),
    "extension_pending": (
        "appeal {ref} already has an extension request waiting for a decision",
        "诉求 {ref} 已有一份待审批的延期申请"),
    "no_extension": (
        "no such extension request: {id}",
        "没有这份延期申请：#{id}"),
    "extension_decided": (
        "extension {id} was already {state:ext_state}",
        "延期申请 #{id} 已处理（{state:ext_state}）"),
    "rating_choice": (
        "rating must be one of {choices:raw/comma}, not {value!r}",
        "评价必须是{choices:raw/comma}之一，不能是“{value}”"),
    # supervision orders and red cards
    "order_due_past": (
        "the order's due time must be in the future",
        "督办单的期限必须晚于现在"),
    "order_due_range": (
        "the order's due day {due} is too far: at most {days} working days from today, by {latest}",
        "督办单期限 {due} 太远：最多为今天起 {days} 个工作日，即不晚于 {latest}"),
    "order_exists": (
        "appeal {ref} already has an open supervision order; edit it instead",
        "诉求 {ref} 已有一份未关闭的督办单，请修改该督办单"),
    "no_order": (
        "no such supervision order: {id}",
        "没有这份督办单：#{id}"),
    "order_closed": (
        "supervision order {id} is closed",
        "督办单 #{id} 已关闭"),
    "no_red_card": (
        "appeal {ref} has no red card",
        "诉求 {ref} 没有红牌"),
    "red_card_taken_up": (
        "the red card of {ref} was already taken up by {user}",
        "{ref} 的红牌已由 {user} 接办"),
    # leader instructions
    "instruction_subject": (
        "an instruction is about exactly one project or one appeal",
        "一条批示只能针对一个项目或一条诉求"),
    "target_deactivated": (
        "user {user} is deactivated",
        "用户 {user} 已停用"),
    "instruct_scope": (
        "rule: {who:who} may instruct only on projects of {unit:unit}",
        "规则：{who:who}只能对{unit:unit}的项目作出批示"),
    "no_instruction": (
        "no such instruction: {id}",
        "没有这条批示：#{id}"),
    "instruction_not_yours": (
        "rule: only {target}, to whom instruction {id} was written, may {verb:verb} it",
        "规则：批示 #{id} 是写给 {target} 的，只有其本人可以{verb:verb}"),
    "instruction_acknowledged": (
        "instruction {id} was already acknowledged",
        "批示 #{id} 已签收"),
    "instruction_answered": (
        "instruction {id} was already answered",
        "批示 #{id} 已答复"),
    # projects
    "unknown_project_category": (
        "unknown project category {value!r}: one of {choices:raw/comma}",
        "未知的项目类别“{value}”：可选{choices:raw/comma}"),
    "unknown_stage_choice": (
        "unknown stage {value!r}: one of {choices:raw/comma}",
        "未知的项目阶段“{value}”：可选{choices:raw/comma}"),
    "unknown_stage": (
        "unknown stage {value!r}",
        "未知的项目阶段“{value}”"),
    "not_number": (
        "{field:field} must be a number, not {value!r}",
        "{field:field}必须是数字，不能是“{value}”"),
    "number_range": (
        "{field:field} must be a finite number from {low:,.0f} to {high:,.0f}, not {value!r}",
        "{field:field}须为 {low:,.0f} 至 {high:,.0f} 之间的有限数值，不能是“{value}”"),
    "not_date": (
        "{field:field} must be a date YYYY-MM-DD, not {value!r}",
        "{field:field}必须是形如 2026-09-29 的日期，不能是“{value}”"),
    "bad_day": (
        "{field:field} must be YYYY-MM-DD, not {value!r}",
        "{field:field}应形如 2026-09-29，不能是“{value}”"),
    "finish_before_start": (
        "planned_finish is before planned_start",
        "计划竣工日期早于计划开工日期"),
    "project_exists": (
        "project {ref} already exists",
        "项目 {ref} 已存在"),
    "decision_choice": (
        "decision must be city, province or rejected, not {value!r}",
        "审核结论必须是市重点、省重点或未入库，不能是“{value}”"),
    "rejection_reason": (
        "a rejection needs a reason",
        "不予入库须说明理由"),
    "project_decided": (
        "project {ref} was already decided ({library:library})",
        "项目 {ref} 已审核（{library:library}）"),
    "progress_numbers": (
        "percent and invested_wan must be numbers",
        "进度百分比和已完成投资必须是数字"),
    "progress_over_total": (
        "completed investment {invested:,.10g} 万元 is above {ref}'s total investment {total:,.10g} 万元: "
        "say why in the note",
        "完成投资 {invested:,.10g} 万元超过项目 {ref} 的总投资 {total:,.10g} 万元：请在说明中写明原因"),
    "progress_backwards": (
        "progress on {ref} goes back ({before_percent:g}% / {before_invested:,.10g} 万元 before, "
        "{percent:g}% / {invested:,.10g} 万元 now): say why in the note",
        "项目 {ref} 的进度倒退（原为 {before_percent:g}% / {before_invested:,.10g} 万元，现填 "
        "{percent:g}% / {invested:,.10g} 万元）：请在说明中写明原因"),
    "stage_backwards": (
        "{ref} goes back from {before} to {stage}: say why in the note",
        "项目 {ref} 的阶段由{before}退回{stage}：请在说明中写明原因"),
    "progress_future_day": (
        "a progress report's date {day} is after today ({today})",
        "进度日期 {day} 晚于今天（{today}）"),
    "percent_range": (
        "percent must be between 0 and 100, not {value:g}",
        "进度百分比必须在 0 到 100 之间，不能是 {value:g}"),
    "progress_own_unit": (
        "rule: a liaison reports progress only on their own unit's projects; {user} "
        "({user_unit:unit}) may not report on {ref} ({unit:unit})",
        "规则：联络员只能填报本单位项目的进度；项目 {ref} 属于{unit:unit}，{user}（{user_unit:unit}）"
        "不能填报"),
    # content
    "no_content": (
        "no such content item: {id}",
        "没有这条内容：#{id}"),
    "content_kind_choice": (
        "kind must be one of {choices:content_kind/comma}, not {value!r}",
        "内容类别必须是{choices:content_kind/comma}之一，不能是“{value}”"),
    "content_level_choice": (
        "level must be one of {choices:raw/comma}, not {value!r}",
        "内容层级必须是{choices:raw/comma}之一，不能是“{value}”"),
    "unknown_content_fields": (
        "unknown content fields: {fields:field/comma}",
        "未知的内容字段：{fields:field/comma}"),
    "content_archived": (
        "content {id} is archived and can no longer be edited",
        "内容 #{id} 已归档，不能再修改"),
    "content_wrong_state": (
        "cannot {verb:verb} content {id}: it is {state:content_state}",
        "内容 #{id} 当前为{state:content_state}状态，不能{verb:verb}"),
    "daily_listen_unpublished": (
        "only published content can be the daily listen; {id} is {state:content_state}",
        "只有已发布的内容才能设为每日一听；内容 #{id} 当前为{state:content_state}状态"),
    "content_published_revise": (
        "content {id} is published: its text changes through a revision (save it as a draft "
        "revision, then publish the revision)",
        "内容 #{id} 已发布：修改须存为修订稿，再发布修订，已发布的文字在此之前不变"),
    "content_revision_unpublished": (
        "content {id} is {state:content_state}: only a published item has revisions (edit the item itself)",
        "内容 #{id} 当前为{state:content_state}状态：只有已发布的内容才有修订稿（请直接修改该内容）"),
    "no_content_revision": (
        "content {id} has no revision waiting to be published",
        "内容 #{id} 没有待发布的修订稿"),
    "content_is_daily_listen": (
        "content {id} is the daily listen (每日一听) of {days}: to {verb:verb} it, clear those picks "
        "with it (or choose another item for those days first)",
        "内容 #{id} 是 {days} 的每日一听：要{verb:verb}，须同时取消这些天的每日一听（或先为这些天另选内容）"),
    "daily_listen_past": (
        "cannot choose the daily listen of {day}: that day is past (today is {today})",
        "不能为 {day} 选定每日一听：这一天已过（今天是 {today}）"),
    "daily_listen_far": (
        "cannot choose the daily listen of {day}: at most {days} days ahead (until {latest})",
        "不能为 {day} 选定每日一听：最多提前 {days} 天（至 {latest}）"),
    "no_daily_listen": (
        "no daily listen (每日一听) is chosen for {day}",
        "{day} 没有选定每日一听"),
    "daily_listen_changed": (
        "the daily listen of {day} changed while its sound was being built: build it again",
        "{day} 的每日一听在生成音频期间被改动：请重新生成"),
    # administration
    "unit_code_name": (
        "a unit needs a code and a name",
        "单位须有代码和名称"),
    "unit_kind_choice": (
        "unit kind must be one of {choices:unit_kind/comma}, not {value!r}",
        "单位类型必须是{choices:unit_kind/comma}之一，不能是“{value}”"),
    "unit_exists": (
        "a unit with code {code!r} or name {name!r} already exists",
        "代码为“{code}”或名称为“{name}”的单位已存在"),
    "county_unit_fixed": (
        "unit {code!r} is the county or zone {name!r}: its name and kind stay as they are "
        "(enterprises, projects, appeals and routing rules refer to it by name)",
        "单位“{code}”是县区/功能区“{name}”，名称和类型不能修改（企业、项目、诉求和分派规则按名称引用它）"),
    "unit_kind_in_use": (
        "unit {code!r} ({name}) cannot change from {before:unit_kind} to {kind:unit_kind}: appeals are "
        "handled by counties, zones and departments, and {appeals} appeals ({open} not closed), "
        "{rules} routing rules and {accounts} user accounts depend on its kind",
        "单位“{code}”（{name}）不能由{before:unit_kind}改为{kind:unit_kind}：诉求由县（市、区）、功能区和部门办理，"
        "已有 {appeals} 条诉求（{open} 条未办结）、{rules} 条分派规则和 {accounts} 个用户账号依赖其类型"),
    "username_chars": (
        "username {value!r} is not allowed: at most 64 characters, without spaces, commas, semicolons, "
        "quotes, backslashes or control characters (it stands in SSH forced commands and the audit trail)",
        "用户名“{value}”不可用：最多 64 个字符，不能含空格、逗号、分号、引号、反斜杠或控制字符"
        "（用户名会写入登录密钥的强制命令和审计记录）"),
    "key_removed": (
        "the key this session was opened with ({fingerprint}) is no longer registered for {user}: "
        "nothing more is done with it (sign in again with a registered key)",
        "本次登录所用的密钥（{fingerprint}）已不再登记给 {user}：不能再用它办理（请用已登记的密钥重新登录）"),
    "instruction_target": (
        "an instruction is not written to {user!r} ({role:role}): it goes to another active "
        "{roles:role/or}",
        "批示不能发给“{user}”（{role:role}）：批示只发给另一位在岗的{roles:role/or}"),
    "username_case": (
        "username {value!r} is not allowed: the account {other!r} differs from it only in upper and "
        "lower case (give that account's name to change it)",
        "用户名“{value}”不可用：已有账号“{other}”，两者只差大小写（要修改该账号请用它的名称）"),
    "username_reserved": (
        "username {value!r} is not allowed: names beginning with {prefix!r} are reserved for the system "
        "actors of the audit trail",
        "用户名“{value}”不可用：以“{prefix}”开头的名称保留给审计记录中的系统操作者"),
    "admin_own_role": (
        "rule: an admin does not change their own role or deactivate their own account ({user} stays an "
        "active admin): another admin does it",
        "规则：管理员不能修改自己的角色或停用自己的账号（{user} 仍为启用的管理员）：须由另一位管理员操作"),
    "last_admin": (
        "rule: {user} is the only active admin: the change would leave no one to manage users, units, "
        "routing rules and imports; make another user admin first",
        "规则：{user} 是唯一启用的管理员，此项修改将使平台没有管理员（无人能管理用户、单位、分派规则和导入）；"
        "请先将另一位用户设为管理员"),
    "calendar_conflict": (
        "the calendar rows say {day} is both a holiday and a workday",
        "日历数据中 {day} 既是节假日又是工作日"),
    "field_required": (
        "{field:field} is required",
        "{field:field}不能为空"),
    "field_too_long": (
        "{field:field} is too long ({length} characters, at most {limit})",
        "{field:field}过长（{length} 个字符，最多 {limit} 个）"),
    "role_choice": (
        "role must be one of {choices:role/comma}, not {value!r}",
        "角色必须是{choices:role/comma}之一，不能是“{value}”"),
    "liaison_needs_unit": (
        "a liaison belongs to a unit",
        "联络员必须隶属于一个单位"),
    "scope_choice": (
        "scope must be city or unit, not {value!r}",
        "范围必须是全市或本单位，不能是“{value}”"),
    "mobile_digits": (
        "mobile {value!r} is not a mobile number: 11 digits beginning with 1 (the reminder SMS go "
        "to it; a number that lost a digit or its leading 0 in Excel is not one)",
        "手机号“{value}”不是有效的手机号码：应为以 1 开头的 11 位数字（提醒短信发往此号）"),
    # list filters (queries)
    "unknown_state": (
        "unknown state {value!r}: one of {choices:state/comma}",
        "未知的诉求状态“{value}”：可选{choices:state/comma}"),
    "card_choice": (
        "card must be blue, yellow, red, any or none, not {value!r}",
        "挂牌筛选必须是蓝牌、黄牌、红牌、任意挂牌或未挂牌，不能是“{value}”"),
    "sort_choice": (
        "sort must be one of {choices:sort/comma}",
        "排序方式必须是{choices:sort/comma}之一"),
    # the store
    "wal_failed": (
        "{path}: could not switch the database to WAL mode ({mode})",
        "{path}：无法将数据库切换到 WAL 模式（{mode}）"),
    "no_user": (
        "no such user: {value!r}",
        "没有这个用户：“{value}”"),
    "no_unit": (
        "no such unit: {value!r}",
        "没有这个单位：“{value}”"),
    "no_enterprise": (
        "no such enterprise: {value!r}",
        "没有这家企业：“{value}”"),
    "no_project": (
        "no such project: {value!r}",
        "没有这个项目：“{value}”"),
    "no_appeal": (
        "no such appeal: {value!r}",
        "没有这条诉求：“{value}”"),
    "no_appeal_id": (
        "no such appeal id: {id}",
        "没有内部编号为 {id} 的诉求"),
    "backup_exists": (
        "{path}: already exists; choose a new file name",
        "{path}：文件已存在，请换一个文件名"),
    "backup_no_folder": (
        "cannot write the backup {path}: the folder {folder} does not exist",
        "无法写入备份 {path}：文件夹 {folder} 不存在"),
    # SMS delivery
    "webhook_url": (
        "webhook URL must start with {schemes:raw/or}, not {url!r}",
        "短信网关地址必须以{schemes:raw/or}开头，不能是“{url}”"),
    "no_sms": (
        "no SMS #{id} in the outbox",
        "发件箱中没有短信 #{id}"),
    "sms_not_stuck_release": (
        "SMS #{id} is {status}: only sending or unknown SMS can be released",
        "短信 #{id} 的状态是 {status}：只有发送中或结果未知的短信才能重新发送"),
    "sms_not_stuck_mark": (
        "SMS #{id} is {status}: only sending or unknown SMS can be marked sent",
        "短信 #{id} 的状态是 {status}：只有发送中或结果未知的短信才能确认为已发送"),
    # the read side: periods, filters, scope
    "month_format": (
        "month must be YYYY-MM (for example 2026-10), not {value!r}",
        "月份应形如 2026-10，不能是“{value}”"),
    "month_not_begun": (
        "month {month} has not begun yet (as of {day})",
        "{month} 尚未开始（截至 {day}）"),
    "library_choice": (
        "library must be one of {choices:raw/comma}, not {value!r}",
        "入库状态必须是{choices:raw/comma}之一，不能是“{value}”"),
    "project_out_of_scope": (
        "rule: {who:who} may not read project {ref} (outside their scope)",
        "规则：{who:who}无权查看项目 {ref}（超出其办理范围）"),
    "instruction_view_choice": (
        "view must be one of {choices:raw/comma}, not {value!r}",
        "批示列表必须是{choices:raw/comma}之一，不能是“{value}”"),
    "instruction_view_denied": (
        "rule: {who:who} has no {view!r} list of instructions",
        "规则：{who:who}没有“{view}”批示列表"),
    "instruction_state_choice": (
        "state must be one of {choices:raw/comma}, not {value!r}",
        "批示状态必须是{choices:raw/comma}之一，不能是“{value}”"),
    "instruction_out_of_scope": (
        "rule: {who:who} may not read instruction {id}",
        "规则：{who:who}无权查看批示 #{id}"),
    "content_state_choice": (
        "state must be one of {choices:content_state/comma}, not {value!r}",
        "内容状态必须是{choices:content_state/comma}之一，不能是“{value}”"),
}


# -- the refusals -----------------------------------------------------------------------------------
class DomainError(Exception):
    """A refused action: the message names the rule. CLI exit code 2.

    ``str(exc)`` is the English message (the CLI's). A refusal built with
    ``DomainError.of(key, **params)`` (or any subclass's ``of``) also carries its catalogue
    ``key`` and ``params`` (``MESSAGES`` below), so that ``exc.localized(lang)`` gives the
    same message in ``zh`` or ``en``. Without a key, ``localized`` is ``str(exc)``."""

    exit_code = 2

    def __init__(self, message: str = "", key: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        params = dict(params or {})
        if key is not None and not message:
            message = render(key, "en", **params)
        super().__init__(message)
        self.key = key
        self.params = params

    @classmethod
    def of(cls, key: str, **params: Any) -> Self:
        """The refusal ``key`` of the catalogue, its English text as the message."""
        return cls(render(key, "en", **params), key=key, params=params)

    def localized(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``); ``str(self)`` when it has no key."""
        if self.key is None:
            return str(self)
        try:
            return render(self.key, lang, **self.params)
        except Exception:  # a translation problem must not hide the refusal
            return str(self)


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class ValidationError(DomainError):
    pass


# -- rendering --------------------------------------------------------------------------------------
def label(kind: str, code: Any, lang: str) -> str:
    """One code through a label map of ``labels.LABELS`` or a special kind."""
    zh = lang == "zh"
    if kind == "unit":
        return NO_UNIT[1 if zh else 0] if code is None or code == "" else str(code)
    if kind == "who":
        username, role = code if isinstance(code, (tuple, list)) else (code, None)
        if role is None:
            return label("system", username, lang)
        return (f"{username}（{labels.label('role', role, lang)}）" if zh
                else f"{username} ({labels.label('role', role, lang)})")
    if kind == "system":
        return labels.label("actor", code, "zh") if zh else str(code)
    if kind == "category_pair":
        return labels.label("category", code, "zh") if zh else f"{code}/{labels.label('category', code, 'zh')}"
    return labels.label(kind, code, "zh" if zh else "en")


def _is_label_spec(spec: str) -> bool:
    kind, _, join = spec.partition("/")
    return (kind in labels.LABELS or kind in SPECIAL_KINDS) and (not join or join in JOINS)


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if not _is_label_spec(format_spec):
            return super().format_field(value, format_spec)
        kind, _, join = format_spec.partition("/")
        one = (lambda v: str(v)) if kind == "raw" else (lambda v: label(kind, v, self.lang))
        if not join:
            return one(value)
        sep = JOINS[join][1 if self.lang == "zh" else 0]
        return sep.join(one(v) for v in value)


_FORMATTERS = {lang: _Formatter(lang) for lang in LANGS}


def render(key: str, lang: str, **params: Any) -> str:
    """The message ``key`` in ``lang`` (``en`` or ``zh``; anything else: English), its
    placeholders filled from ``params``. KeyError for an unknown key."""
    en, zh = MESSAGES[key]
    lang = lang if lang in LANGS else "en"
    return _FORMATTERS[lang].format(zh if lang == "zh" else en, **params)


def placeholders(template: str) -> dict[str, str]:
    """``{name: format spec}`` of a template (conversions such as ``!r`` left out)."""
    out: dict[str, str] = {}
    for _, name, spec, _ in string.Formatter().parse(template):
        if name is not None:
            out[name] = spec or ""
    return out


def localize(exc: BaseException, lang: str) -> str:
    """The text to show for any exception: a keyed ``DomainError`` in ``lang``, anything
    else as ``str(exc)``."""
    localized = getattr(exc, "localized", None)
    if callable(localized):
        try:
            return localized(lang)
        except Exception:  # never let a translation problem hide the refusal itself
            return str(exc)
    return str(exc)


def keys() -> Iterable[str]:
    return MESSAGES.keys()

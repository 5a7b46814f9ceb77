"""The domain's refusals in two languages (taian_tui/messages.py).

* the catalogue: every key has an English and a Chinese template with the same
  placeholders; every label map has both words; the Chinese text has no English left;
* the code: every refusal raised by workflow, store and queries is keyed, with a key the
  catalogue holds (and the catalogue holds no key nobody raises);
* real refusals, driven through the domain functions: ``str(exc)`` is the English text
  (unchanged, the CLI's), ``exc.localized("zh")`` is Chinese, ``exc.localized("en")``
  is ``str(exc)``.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from taian_tui.domain import actors
from taian_tui.domain import refusals as messages, operations as wf
from taian_tui.read import appeals
from taian_tui.domain.labels import LABELS
from taian_tui.domain.refusals import MESSAGES, SPECIAL_KINDS, placeholders, render
from taian_tui.domain.refusals import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationError

PKG = Path(wf.__file__).resolve().parent.parent
T_ACCEPT = "2026-09-29T11:00:00+08:00"
ASCII_LETTER = re.compile(r"[A-Za-z]")


def assert_chinese(text: str, *allowed: str) -> None:
    """No ASCII letter in ``text`` other than those of the ``allowed`` values (refs, user
    names, codes the caller passed in)."""
    rest = text
    for token in sorted(allowed, key=len, reverse=True):
        rest = rest.replace(token, "")
    assert not ASCII_LETTER.search(rest), f"English left in {text!r}: {rest!r}"
    assert re.search(r"[\u4e00-\u9fff]", text), f"no Chinese in {text!r}"


# -- the catalogue ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_key_has_both_languages_with_the_same_placeholders(key):
    en, zh = MESSAGES[key]
    assert en.strip() and zh.strip()
    assert placeholders(en) == placeholders(zh), key
    # the Chinese template itself is Chinese: no English outside its placeholders
    bare = re.sub(r"\{[^{}]*\}", "", zh)
    assert_chinese(bare, "WAL")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_placeholder_spec_is_a_label_map_or_plain_format(key):
    for name, spec in placeholders(MESSAGES[key][0]).items():
        if not spec:
            continue
        kind, _, join = spec.partition("/")
        if kind in LABELS or kind in SPECIAL_KINDS:
            assert not join or join in messages.JOINS, (key, name, spec)
        else:
            format(1.5, spec)  # a standard format spec (e.g. "g")


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_every_label_has_both_languages(kind):
    for code, (zh, en) in LABELS[kind].items():
        if code == "" and kind == "card_short":
            assert (zh, en) == ("", ""), "no card: no mark"
            continue
        assert en and zh, (kind, code)
        assert_chinese(zh), (kind, code)


def test_render_falls_back_to_english_and_unknown_codes_stay_as_they_are():
    assert render("order_closed", "fr", id=3) == "supervision order 3 is closed"
    assert render("wrong_state", "zh", verb="fly", ref="A-1", state="odd", states=("odd",)) == \
        "诉求 A-1 当前为odd状态，不能fly；只有处于odd状态的诉求才能fly"
    with pytest.raises(KeyError):
        render("no such key", "en")


def test_wal_message_is_the_one_the_store_always_gave():
    path, mode = "/x/taian.db", "delete"
    assert render("wal_failed", "en", path=path, mode=mode) == \
        f"{path}: could not switch the database to WAL mode ({mode})"
    assert render("wal_failed", "zh", path=path, mode=mode) == \
        "/x/taian.db：无法将数据库切换到 WAL 模式（delete）"


# -- the code -------------------------------------------------------------------------------------
SOURCES = [*sorted((PKG / "domain").glob("*.py")), PKG / "store.py", *sorted((PKG / "read").glob("*.py"))]
ERRORS = r"(?:DomainError|NotFound|PermissionDenied|InvalidTransition|ValidationError)"


def test_every_refusal_in_the_domain_is_keyed():
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        plain = re.findall(rf"raise {ERRORS}\((?!\s*key=)", text)
        assert not plain, f"{path.name}: unkeyed refusals: {plain}"


def test_every_key_raised_is_in_the_catalogue_and_every_key_is_raised():
    used: set[str] = set()
    for path in SOURCES:
        used |= set(re.findall(rf'{ERRORS}\.of\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert used <= set(MESSAGES), used - set(MESSAGES)
    assert set(MESSAGES) <= used, f"keys nobody raises: {set(MESSAGES) - used}"


def test_every_task_and_verb_code_used_is_in_the_label_maps():
    from taian_tui.domain.rules import ACTIONS

    tasks = {a.task for a in ACTIONS.values()}
    verbs = {a.verb for a in ACTIONS.values() if a.verb}
    text = "".join(path.read_text(encoding="utf-8") for path in SOURCES)
    verbs |= set(re.findall(r'verb="(\w+)"', text))
    assert len(tasks) == len(LABELS["task"]) and len(verbs) > 8
    assert tasks == set(LABELS["task"]), tasks ^ set(LABELS["task"])
    assert verbs <= set(LABELS["verb"]), verbs - set(LABELS["verb"])
    for verb in ("publish", "unpublish", "archive"):  # _content_transition: f"{verb}_content"
        assert f"{verb}_content" in ACTIONS and verb in LABELS["verb"]


# -- DomainError ------------------------------------------------------------------------------------
def test_domain_error_without_a_key_is_as_before():
    exc = ValidationError("something odd")
    assert str(exc) == "something odd"
    assert exc.key is None and exc.params == {}
    assert exc.localized("zh") == exc.localized("en") == "something odd"
    assert exc.exit_code == 2 and isinstance(exc, DomainError)


def test_of_builds_the_subclass_with_the_english_message():
    exc = InvalidTransition.of("order_closed", id=7)
    assert type(exc) is InvalidTransition
    assert str(exc) == "supervision order 7 is closed"
    assert exc.args == ("supervision order 7 is closed",)
    assert (exc.key, exc.params) == ("order_closed", {"id": 7})
    assert exc.localized("zh") == "督办单 #7 已关闭"
    assert exc.localized("en") == str(exc)
    assert exc.localized("xx") == str(exc)
    # a key alone is enough too
    assert str(NotFound(key="no_order", params={"id": 3})) == "no such supervision order: 3"


def test_a_keyed_refusal_survives_pickling():
    exc = pickle.loads(pickle.dumps(PermissionDenied.of("user_deactivated", user="bob")))
    assert type(exc) is PermissionDenied
    assert str(exc) == "user 'bob' is deactivated"
    assert exc.localized("zh") == "用户“bob”已停用"


def test_localize_any_exception():
    assert messages.localize(NotFound.of("no_instruction", id=4), "zh") == "没有这条批示：#4"
    assert messages.localize(ValueError("plain"), "zh") == "plain"
    broken = ValidationError.of("order_closed", id=1)
    broken.params = {}  # a missing parameter must not hide the refusal
    assert broken.localized("zh") == "supervision order 1 is closed"


# -- real refusals --------------------------------------------------------------------------------------
def refusal(kind, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(kind) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert exc.key in MESSAGES
    assert exc.localized("en") == str(exc)
    return exc


def test_wrong_unit(store, make_appeal):
    a = make_appeal("assigned")  # with zrzy
    exc = refusal(PermissionDenied, wf.accept_appeal, store, "sthj1", a.ref, at=T_ACCEPT)
    assert str(exc) == (f"rule: a liaison handles only their own unit's appeals; sthj1 (市生态环境局) "
                        f"may not accept {a.ref}, which is with 市自然资源和规划局")
    zh = exc.localized("zh")
    assert zh == (f"规则：联络员只能办理本单位的诉求；诉求 {a.ref} 由市自然资源和规划局办理，"
                  f"sthj1（市生态环境局）不能签收")
    assert_chinese(zh, a.ref, "sthj1")


def test_wrong_unit_reply(store, make_appeal):
    a = make_appeal("accepted")
    exc = refusal(PermissionDenied, wf.reply_appeal, store, "daiyue1", a.ref, "答复")
    assert "may not reply to" in str(exc)
    assert_chinese(exc.localized("zh"), a.ref, "daiyue1")
    assert exc.localized("zh").endswith("不能答复")


def test_wrong_role(store, make_appeal):
    a = make_appeal("assigned")
    exc = refusal(PermissionDenied, wf.accept_appeal, store, "bianji", a.ref)
    assert str(exc) == "rule: only liaison or admin may accept (签收) appeals; bianji (editor) may not"
    assert exc.localized("zh") == "规则：只有联络员或管理员可以签收诉求；bianji（编辑）无此权限"
    assert_chinese(exc.localized("zh"), "bianji")


def test_wrong_actor(store, make_appeal):
    a = make_appeal("accepted")
    exc = refusal(PermissionDenied, wf.reply_appeal, store, "system:escalate", a.ref, "x")
    assert str(exc) == "rule: reply to (答复) appeals is not done by system:escalate"
    assert exc.localized("zh") == "规则：自动挂牌不能答复诉求"
    exc = refusal(PermissionDenied, wf.accept_appeal, store, "nobody", a.ref)
    assert str(exc) == "unknown user 'nobody': sign in as an existing user"
    assert_chinese(exc.localized("zh"), "nobody")


def test_wrong_state(store, make_appeal):
    a = make_appeal("answered")
    exc = refusal(InvalidTransition, wf.reply_appeal, store, "zrzy1", a.ref, "again")
    assert str(exc) == (f"cannot reply to appeal {a.ref}: it is answered; "
                        "that is done only while an appeal is accepted")
    zh = exc.localized("zh")
    assert zh == f"诉求 {a.ref} 当前为已答复状态，不能答复；只有处于已签收状态的诉求才能答复"
    assert_chinese(zh, a.ref)
    exc = refusal(InvalidTransition, wf.return_appeal, store, "zrzy1", a.ref, "不是我们的")
    assert str(exc).endswith("; that is done only while an appeal is assigned/accepted")
    assert "已交办、已签收" in exc.localized("zh")
    assert_chinese(exc.localized("zh"), a.ref)


def test_return_window(store, make_appeal):
    a = make_appeal("assigned")
    exc = refusal(InvalidTransition, wf.return_appeal, store, "zrzy1", a.ref, "不属于本单位",
                  at="2026-12-01T09:00:00+08:00")
    assert str(exc).startswith("rule: an appeal may be returned only within 2 working days")
    assert_chinese(exc.localized("zh"), a.ref)


@pytest.mark.parametrize("call, english", [
    (lambda s, a: wf.reply_appeal(s, "zrzy1", a.ref, "   "), "reply is required"),
    (lambda s, a: wf.request_extension(s, "zrzy1", a.ref, 99, "r"), "days must be between 1 and 20"),
    (lambda s, a: wf.request_extension(s, "zrzy1", a.ref, "two", "r"),
     "days must be a whole number, not 'two'"),
    (lambda s, a: wf.evaluate_appeal(s, "admin", a.ref, "good"),
     "rating must be one of 满意, 基本满意, 不满意, not 'good'"),
    (lambda s, a: wf.upsert_user(s, "admin", "u1", "n", "boss"),
     "role must be one of admin, liaison, leader, supervisor, discipline, editor, not 'boss'"),
    (lambda s, a: wf.add_unit(s, "admin", "c1", "n1", "planet"),
     "unit kind must be one of county, zone, department, supervision, discipline, platform, not 'planet'"),
    (lambda s, a: wf.report_progress(s, "admin", "P-0001", 150, 1),
     "percent must be between 0 and 100, not 150"),
    (lambda s, a: wf.draft_content(s, "bianji", kind="blog", level="市", title="t"),
     "kind must be one of policy, investment, department, news, not 'blog'"),
    (lambda s, a: wf.set_routing_rule(s, "admin", "fishing", "岱岳区", "zrzy"),
     "unknown category 'fishing': use one of approval/立项, planning/规划, land/土地, energy/能耗, "
     "environment/环评, infrastructure/配套, other/其他"),
    (lambda s, a: appeals.list_appeals(s, actors.actor(s, "admin"), appeals.AppealFilter(states=("lost",))),
     "unknown state 'lost': one of submitted, assigned, accepted, answered, disputed, returned, closed"),
    (lambda s, a: appeals.list_appeals(s, actors.actor(s, "admin"), appeals.AppealFilter(card="green")),
     "card must be blue, yellow, red, any or none, not 'green'"),
])
def test_validation(store, make_appeal, call, english):
    a = make_appeal("accepted")
    exc = refusal(ValidationError, call, store, a)
    assert str(exc) == english
    typed = exc.params.get("value")  # what the user typed is shown back as it is
    assert_chinese(exc.localized("zh"), *([str(typed)] if typed is not None else []))


@pytest.mark.parametrize("call, english, zh", [
    (lambda s: s.appeal("A-404"), "no such appeal: 'A-404'", "没有这条诉求：“A-404”"),
    (lambda s: s.unit("nowhere"), "no such unit: 'nowhere'", "没有这个单位：“nowhere”"),
    (lambda s: wf.decide_extension(s, "ducha1", 999, True), "no such extension request: 999",
     "没有这份延期申请：#999"),
    (lambda s: wf.edit_supervision_order(s, "ducha1", 998), "no such supervision order: 998",
     "没有这份督办单：#998"),
    (lambda s: wf.publish_content(s, "bianji", 997), "no such content item: 997", "没有这条内容：#997"),
])
def test_not_found(store, call, english, zh):
    exc = refusal(NotFound, call, store)
    assert str(exc) == english
    assert exc.localized("zh") == zh


def test_instruction_and_content_refusals(store, make_appeal):
    a = make_appeal("assigned")
    ins = wf.issue_instruction(store, "shizhang", "zrzy1", "请尽快办理", appeal_ref=a.ref)
    exc = refusal(PermissionDenied, wf.reply_instruction, store, "sthj1", ins.id, "x")
    assert str(exc) == f"rule: only zrzy1, to whom instruction {ins.id} was written, may reply to it"
    assert exc.localized("zh") == f"规则：批示 #{ins.id} 是写给 zrzy1 的，只有其本人可以答复"
    item = wf.draft_content(store, "bianji", kind="policy", level="市", title="减税")
    exc = refusal(InvalidTransition, wf.unpublish_content, store, "bianji", item.id)
    assert str(exc) == f"cannot unpublish content {item.id}: it is draft"
    assert exc.localized("zh") == f"内容 #{item.id} 当前为草稿状态，不能撤回发布"
    exc = refusal(InvalidTransition, wf.pick_daily_listen, store, "bianji", "2026-10-01", item.id)
    assert_chinese(exc.localized("zh"))
    elsewhere = make_appeal("submitted", category="能耗", county="泰山区")
    exc = refusal(PermissionDenied, wf.issue_instruction, store, "daiyue-lead", "zrzy1", "x",
                  appeal_ref=elsewhere.ref)
    assert str(exc) == f"rule: daiyue-lead (leader) may not read appeal {elsewhere.ref} (outside their scope)"
    assert exc.localized("zh") == f"规则：daiyue-lead（领导）无权查看诉求 {elsewhere.ref}（超出其办理范围）"


def test_project_refusals(store):
    exc = refusal(ValidationError, wf.apply_project, store, "admin", ref="P-9", enterprise_uscc="x",
                  name="n", county="岱岳区", category="其他", investment_wan=1, planned_start="soon")
    assert str(exc) == "planned_start must be a date YYYY-MM-DD, not 'soon'"
    assert exc.localized("zh") == "计划开工日期必须是形如 2026-09-29 的日期，不能是“soon”"
    exc = refusal(PermissionDenied, wf.report_progress, store, "sthj1", "P-0001", 10, 1)
    assert str(exc) == ("rule: a liaison reports progress only on their own unit's projects; sthj1 "
                        "(市生态环境局) may not report on P-0001 (岱岳区)")
    assert_chinese(exc.localized("zh"), "sthj1", "P-0001")
    wf.review_project(store, "admin", "P-0001", "province")
    exc = refusal(InvalidTransition, wf.review_project, store, "admin", "P-0001", "city")
    assert str(exc) == "project P-0001 was already decided (provincial key)"
    assert exc.localized("zh") == "项目 P-0001 已审核（省重点）"

"""每日一听: what the voice reads, from a title and a Markdown body (``dataio.speech``).

The expected sentences are written by hand from the rules in the module's docstring: no
markup symbol is read, a table is read row by row under its headers, dates, percentages,
amounts, ranges and telephone numbers are written as a Mandarin listener hears them."""
from __future__ import annotations

from taian_tui.dataio import audio, speech

BODY = """# 关于支持重大项目的**若干**措施

自2026-12-10起施行，详见[通知](http://x.gov.cn/a)。![图片](a.png)

1. 投资18.3亿元，完成12,500万元；
2. 增长12.5%，期限3-5年。

| 项目名称 | 投资 |
|---|---|
| 泰山新材料 | 3.5亿元 |
| 岱岳物流园 | 12亿元 |

联系电话：0538-8231234。

```
print("code is not read")
```
"""


def test_markdown_is_read_as_plain_sentences_with_numbers_spoken():
    assert speech.spoken("泰安市惠企政策 2026/12/3", BODY) == [
        "泰安市惠企政策 二零二六年十二月三日。",
        "关于支持重大项目的若干措施。",
        "自二零二六年十二月十日起施行，详见通知。",
        "投资十八点三亿元，完成一万二千五百万元；",
        "增长百分之十二点五，期限三至五年。",
        "项目名称：泰山新材料，投资：三点五亿元。",
        "项目名称：岱岳物流园，投资：十二亿元。",
        "联系电话：零五三八 八二三一二三四。",
    ]


def test_dates_as_offices_write_them_and_references():
    assert speech.read_numbers("2026年12月10日、2026/12/10、2026-12-10") == \
        "二零二六年十二月十日、二零二六年十二月十日、二零二六年十二月十日"
    assert speech.read_numbers("诉求A-2026-1875已办结") == "诉求A 二零二六 一八七五已办结"
    assert speech.read_numbers("手机13805381234") == "手机一三八零五三八一二三四"


def test_markup_and_tags_are_never_read():
    assert speech.spoken("", "正文<b>加粗</b>和`代码`，[/x]不是标记") == ["正文加粗和代码，[/x]不是标记。"]


def test_the_hash_follows_the_sentences_and_the_voice():
    one = speech.text_hash(["第一句。"], audio.SETTINGS)
    assert one == speech.text_hash(["第一句。"], audio.SETTINGS)
    assert one != speech.text_hash(["第一句。", "第二句。"], audio.SETTINGS)
    assert one != speech.text_hash(["第一句。"], audio.SETTINGS + "x")


def test_a_body_opening_with_the_title_as_its_heading_reads_it_once():
    """Most items repeat their title as the body's first heading: said once (每日一听 read
    it twice); a heading that differs is read."""
    from taian_tui.dataio.speech import spoken

    assert spoken("泰安市35个重大项目集中开工", "# 泰安市35个重大项目集中开工\n\n总投资455亿元。") == [
        "泰安市三十五个重大项目集中开工。", "总投资四百五十五亿元。"]
    assert spoken("集中开工", "# 开工仪式\n\n正文。") == ["集中开工。", "开工仪式。", "正文。"]

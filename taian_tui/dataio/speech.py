"""每日一听: what the voice says, from an item's title and Markdown body.

The body is parsed as Markdown (``markdown-it-py``, CommonMark with tables) and read as
plain text: headings, paragraphs and list items each become a sentence; no markup symbol
(``#``, ``*``, ``|``, link targets, images, code fences, raw HTML) is spoken; a table is
read row by row, each cell after its column's header (「项目名称：…，投资：…。」).

Numbers are then written out as a Mandarin listener expects to hear them (``cn2an``, the
field's converter of Arabic numerals to Chinese ones, after a few rewrites of what it
reads wrongly): ``2026-12-10``, ``2026/12/10`` and ``2026年12月10日`` all become
二零二六年十二月十日; 12.5% 百分之十二点五; 18.3亿元 十八点三亿元; 12,500万元
一万二千五百万元; a range 3-5 三至五; telephone numbers digit by digit (零五三八 八二三一二三四).
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

#: Where a sentence ends (the voice pauses there; progress counts sentences).
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n+")
_SPACES = re.compile(r"[ \t\u3000]+")


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _inline(token) -> str:
    """The words of an inline token: text, code and link text; no image, no markup."""
    out: list[str] = []
    for child in token.children or ():
        if child.type == "image":
            continue
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("，" if out and not out[-1].endswith(("，", "。")) else "")
    return "".join(out).strip()


def _end(sentence: str) -> str:
    sentence = sentence.strip().rstrip("，,、：:")
    if not sentence:
        return ""
    return sentence if sentence[-1] in "。！？；!?;" else sentence + "。"


# -- numbers as they are read --------------------------------------------------------------------
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:\s*日|(?![\d]))")
_MONTH = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})(?![\d/.-])")
_THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d,])")
_PHONE = re.compile(r"(?<![\d.])(?:0\d{2,3}-\d{7,8}|1[3-9]\d{9}|\d{3,4}-\d{7,8}|400-?\d{3}-?\d{4})(?![\d.])")
_LONG_DIGITS = re.compile(r"(?<![\d.])\d{9,}(?![\d.])")
_CODE = re.compile(r"(?<![A-Za-z\d])[A-Za-z]{1,4}-\d+(?:-\d+)*(?![\d])")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
_RANGE = re.compile(r"(?<=\d)\s*[-—–~～]\s*(?=\d)")
_DIGITS = "零一二三四五六七八九"


def _digit_by_digit(match: re.Match) -> str:
    return "".join(_DIGITS[int(c)] if c.isdigit() else " " for c in match.group()).strip()


def _code(match: re.Match) -> str:
    """A reference such as A-2026-1875: its letters, then its digits one by one."""
    letters, digits = match.group().split("-", 1)
    return letters + " " + " ".join(
        "".join(_DIGITS[int(c)] for c in part) for part in digits.split("-"))


def _date(match: re.Match) -> str:
    year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group()
    return f"{year}年{month}月{day}日"


def read_numbers(text: str) -> str:
    """``text`` with its numbers, dates, percentages and amounts written as they are read."""
    import cn2an

    text = text.replace("％", "%")
    text = _DATE.sub(_date, text)
    text = _MONTH.sub(lambda m: f"{m.group(1)}年{int(m.group(2))}月" if 1 <= int(m.group(2)) <= 12
                      else m.group(), text)
    text = _TAG.sub("", text)
    text = _CODE.sub(_code, text)
    text = _PHONE.sub(_digit_by_digit, text)
    text = _LONG_DIGITS.sub(_digit_by_digit, text)
    text = _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text)
    text = _RANGE.sub("至", text)
    # a hyphen left between letters or after a code is not a minus sign
    text = re.sub(r"(?<=[A-Za-z])-(?=\d)", " ", text)
    try:
        text = cn2an.transform(text, "an2cn")
    except (ValueError, KeyError, IndexError):      # an odd numeral: read the rest as it is
        pass
    return _SPACES.sub(" ", text).strip()


def spoken(title: str, body: str) -> list[str]:
    """The sentences the voice reads for an item: its title, then its body (a body that
    opens with the title again as its heading, as most items do, reads it once)."""
    tokens = _parser().parse(body or "")
    sentences = [_end(title)] if title.strip() else []
    body_sentences = _sentences_of(tokens)
    if sentences and body_sentences and _bare(body_sentences[0]) == _bare(sentences[0]):
        body_sentences = body_sentences[1:]
    sentences += body_sentences
    return [read_numbers(s) for s in sentences if s]


def _bare(sentence: str) -> str:
    """A sentence without its spaces and closing punctuation, to compare two of them."""
    return re.sub(r"[\s。．.！!？?；;：:，,]+$", "", re.sub(r"\s+", "", sentence))


def _sentences_of(tokens) -> list[str]:
    out: list[str] = []
    table_head: list[str] = []
    row: list[str] | None = None
    in_head = in_cell = False
    for tok in tokens:
        kind = tok.type
        if kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("_open")
        elif kind == "thead_open":
            in_head, table_head = True, []
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            cells = row or []
            if in_head:
                table_head = cells
            else:
                heads = table_head + [""] * max(0, len(cells) - len(table_head))
                said = [f"{h}：{c}" if h and c else c for h, c in zip(heads, cells) if c]
                if said:
                    out.append(_end("，".join(said)))
            row = None
        elif kind == "inline":
            words = _inline(tok)
            if row is not None and in_cell:
                row.append(words)
                continue
            for part in _SENTENCE_END.split(words):
                if part and part.strip():
                    out.append(_end(part))
    return [s for s in out if s]


def text_hash(sentences: list[str], voice: str) -> str:
    """What a built file was made from (the sentences and the voice's settings): building
    again for the same hash writes nothing."""
    digest = hashlib.sha256(voice.encode())
    for s in sentences:
        digest.update(b"\x00" + s.encode())
    return digest.hexdigest()

"""``taian report``: the dashboard as ONE self-contained HTML page for a leader who does
not use a terminal.

Inline CSS and inline SVG bar charts drawn here (no JavaScript, no external URL, no web
font); ``lang="zh-CN"``; every string that comes from the database is escaped with
``html.escape``. The figures are those of :func:`stats.dashboard` (the same numbers as
``taian stats --json``). No textual here.
"""
from __future__ import annotations

import html
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from taian_tui.read import stats
from taian_tui.domain import timeutil
from taian_tui.read.stats import CARD_LABELS, RATE_LABELS, Dashboard, Rate, UnitRates

FONT = ('"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC",'
        '"Source Han Sans SC","WenQuanYi Zen Hei","WenQuanYi Micro Hei",sans-serif')
CARD_COLOURS = {"blue": "#2f6fde", "yellow": "#e3b30b", "red": "#d2362b", "none": "#b8bec7"}
BAR = "#3b7dd8"
BAR2 = "#2a9d8f"
GOOD, WARN = 0.9, 0.7        # rate colours: >= 90% green, >= 70% amber, else red
FONT_PX = 13


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text_width(text: str, px: float = FONT_PX) -> float:
    """A rough rendered width: CJK and full-width characters one em, others 0.6 em."""
    return sum(px if ord(ch) >= 0x2E80 else px * 0.6 for ch in text)


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _num(x: float) -> str:
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at least ``value`` (1 for 0)."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * exp >= value:
            return m * exp
    return 10 * exp


# -- charts -------------------------------------------------------------------------------------
def figure(title: str, *parts: str, wide: bool = False) -> str:
    return (f'<figure class="chart{" wide" if wide else ""}"><figcaption>{esc(title)}</figcaption>'
            + "".join(parts) + "</figure>")


def hbar_chart(title: str, rows: Sequence[tuple[str, float, str]], *, colour: str = BAR,
               colours: Sequence[str] | None = None, width: int = 520) -> str:
    """Horizontal bars: one row per (label, value, value text), in a ``<figure>``."""
    return figure(title, hbar_svg(title, rows, colour=colour, colours=colours, width=width))


def hbar_svg(title: str, rows: Sequence[tuple[str, float, str]], *, colour: str = BAR,
             colours: Sequence[str] | None = None, width: int = 520) -> str:
    """Horizontal bars as an ``<svg>``; bar lengths are proportional to the largest value."""
    row_h, bar_h, top = 26, 16, 6
    labels = [_short(label) for label, _, _ in rows]
    label_w = max([_text_width(t) for t in labels] + [24]) + 10
    value_w = max([_text_width(t, 12) for _, _, t in rows] + [12]) + 8
    plot_w = max(width - label_w - value_w - 4, 60)
    top_value = max([v for _, v, _ in rows] + [0])
    height = top + row_h * len(rows) + 4
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">']
    for i, ((label, value, text), short) in enumerate(zip(rows, labels)):
        y = top + i * row_h
        w = 0 if top_value <= 0 else plot_w * value / top_value
        if value > 0:
            w = max(w, 1.5)
        fill = colours[i] if colours else colour
        parts.append(f'<g><title>{esc(label)}：{esc(text)}</title>'
                     f'<text x="{label_w - 8:.1f}" y="{y + bar_h - 3}" text-anchor="end" '
                     f'class="lbl">{esc(short)}</text>'
                     f'<rect x="{label_w:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" '
                     f'fill="{fill}"/>'
                     f'<text x="{label_w + w + 5:.1f}" y="{y + bar_h - 3}" class="val">{esc(text)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(title: str, cols: Sequence[tuple[str, float, str]], *, every: int = 4,
                 width: int = 1040, height: int = 250, colour: str = BAR) -> str:
    """Vertical columns: (x label, value, tooltip); an x label on every ``every``-th column
    and the last. Returns a ``<figure>``."""
    left, right, top, bottom = 40, 10, 18, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for _, v, _ in cols] + [0])
    top_value = _nice_max(peak)
    n = max(len(cols), 1)
    slot = plot_w / n
    bar_w = slot * 0.68
    parts = [f'<svg width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">']
    for k in range(5):
        v = top_value * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">{_num(v)}</text>')
    for i, (label, value, tip) in enumerate(cols):
        x = left + i * slot + (slot - bar_w) / 2
        h = plot_h * value / top_value
        y = top + plot_h - h
        parts.append(f'<g><title>{esc(tip)}</title><rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                     f'height="{h:.1f}" rx="1.5" fill="{colour}"/>')
        if value:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                         f'class="cval">{_num(value)}</text>')
        parts.append("</g>")
        if i % every == 0 or i == len(cols) - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'class="axis">{esc(label)}</text>')
    parts.append("</svg>")
    return figure(title, "".join(parts), wide=True)


# -- the page -------------------------------------------------------------------------------------
CSS = f"""
*{{box-sizing:border-box}}
body{{margin:0;background:#f3f5f8;color:#1f2733;font-family:{FONT};font-size:14px;line-height:1.5}}
main{{max-width:1120px;margin:0 auto;padding:24px 28px 40px}}
header{{border-bottom:3px solid #b5262b;margin-bottom:18px;padding-bottom:10px}}
h1{{font-size:24px;margin:0 0 4px;color:#8e1b1f}}
h2{{font-size:18px;margin:26px 0 10px;border-left:4px solid #b5262b;padding-left:8px}}
.sub{{color:#5a6472;font-size:13px}}
.tiles{{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px}}
.tile{{background:#fff;border-radius:6px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}}
.tile .k{{color:#5a6472;font-size:13px}}
.tile .v{{font-size:24px;font-weight:600}}
.tile .n{{color:#5a6472;font-size:12px}}
.grid2{{display:grid;grid-template-columns:repeat(auto-fit,minmax(500px,1fr));gap:14px}}
figure.chart{{background:#fff;margin:0;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08);overflow-x:auto}}
figure.wide{{grid-column:1/-1}}
figcaption{{font-weight:600;margin-bottom:6px}}
.subcap{{color:#5a6472;font-size:13px;margin:6px 0 2px}}
svg{{display:block;max-width:100%;height:auto;font-family:{FONT}}}
svg .lbl{{font-size:{FONT_PX}px;fill:#1f2733}}
svg .val{{font-size:12px;fill:#3d4652}}
svg .axis{{font-size:11px;fill:#5a6472}}
svg .cval{{font-size:10px;fill:#3d4652}}
svg .grid{{stroke:#e2e6ec;stroke-width:1}}
table{{width:100%;border-collapse:collapse;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.08)}}
th,td{{padding:6px 8px;border-bottom:1px solid #e6e9ee;text-align:left;vertical-align:middle}}
th{{background:#eef1f5;font-weight:600;font-size:13px}}
td.num{{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}}
td.rank{{text-align:center;width:3em}}
.rate{{display:flex;align-items:center;gap:6px;white-space:nowrap}}
.rate .bar{{display:inline-block;width:70px;height:8px;background:#e6e9ee;border-radius:4px;overflow:hidden}}
.rate .bar i{{display:block;height:100%}}
.rate .p{{min-width:4.2em;text-align:right;font-variant-numeric:tabular-nums;font-weight:600}}
.rate .f{{color:#6b7480;font-size:12px}}
.good{{color:#1f8a4c}} .good i{{background:#2fa360}}
.warn{{color:#a86b00}} .warn i{{background:#e3a008}}
.bad{{color:#c0262d}} .bad i{{background:#d2362b}}
.none{{color:#9aa3ad}}
.nodata{{color:#5a6472;font-size:13px;margin-top:8px}}
.notes{{color:#3d4652;font-size:13px}}
.notes li{{margin:3px 0}}
footer{{margin-top:24px;color:#8a939e;font-size:12px}}
@media print{{body{{background:#fff}} main{{padding:0}} figure.chart,.tile,table{{box-shadow:none;border:1px solid #d8dde3}}
  h2{{break-after:avoid}} figure,tr{{break-inside:avoid}}}}
"""


def _level(value: float | None) -> str:
    if value is None:
        return "none"
    return "good" if value >= GOOD else "warn" if value >= WARN else "bad"


def _rate_cell(r: Rate) -> str:
    v = r.value
    if v is None:
        return '<td><span class="rate none">—<span class="f">（无）</span></span></td>'
    return (f'<td><span class="rate {_level(v)}"><span class="p">{stats.pct(v)}</span>'
            f'<span class="bar"><i style="width:{v * 100:.1f}%"></i></span>'
            f'<span class="f">{r.numerator}/{r.denominator}</span></span></td>')


def _ranking(units: list[UnitRates], month_label: str) -> str:
    rows = [u for u in units if u.score is not None]
    nodata = [u for u in units if u.score is None]
    out = ['<table class="ranking"><thead><tr><th>排名</th><th>单位</th>'
           + "".join(f"<th>{esc(v)}</th>" for v in RATE_LABELS.values())
           + "<th>综合（三率平均）</th></tr></thead><tbody>"]
    for u in rows:
        score = u.score
        out.append(f'<tr><td class="rank">{u.rank}</td><td>{esc(u.name)}</td>'
                   + "".join(_rate_cell(getattr(u, k)) for k in RATE_LABELS)
                   + f'<td class="num {_level(score)}">{stats.pct(score)}</td></tr>')
    if not rows:
        out.append(f'<tr><td colspan="6" class="none">{esc(month_label)}没有到期、办结或评价的诉求。</td></tr>')
    out.append("</tbody></table>")
    if nodata:
        out.append(f'<p class="nodata">{esc(month_label)}无到期、办结或评价诉求的单位（{len(nodata)}个，无数据，列于排名最后）：'
                   + "、".join(esc(u.name) for u in nodata) + "</p>")
    return "".join(out)


def _tile(key: str, value: str, note: str = "") -> str:
    return (f'<div class="tile"><div class="k">{esc(key)}</div><div class="v">{esc(value)}</div>'
            f'<div class="n">{esc(note)}</div></div>')


def _month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{y}年{int(m)}月"


def render(d: Dashboard, *, generated_at: str | None = None) -> str:
    """The whole page as one string."""
    p = d.period
    month = _month_label(p.month)
    generated_at = generated_at or timeutil.iso()
    span = "整月" if p.complete else f"截至 {p.last_day.isoformat()}"
    total_projects = sum(c.projects for c in d.projects_by_county)
    total_inv = sum(c.investment_wan for c in d.projects_by_county)
    cards_open = d.cards.open
    carded = sum(v for k, v in cards_open.items() if k != "none")
    open_total = sum(cards_open.values())
    in_month = sum(c.in_month for c in d.appeals_by_category)
    city = d.city_rates

    tiles = [
        _tile("入库项目（市重点+省重点）", _num(total_projects), f"总投资 {_num(total_inv)} 万元"),
        _tile(f"{month}新受理诉求", _num(in_month), f"累计 {_num(sum(c.appeals for c in d.appeals_by_category))} 件"),
        _tile("在办诉求挂牌", _num(carded), f"在办 {open_total} 件，其中红牌 {cards_open.get('red', 0)} 件"),
    ] + [_tile(f"全市{RATE_LABELS[k]}", stats.pct(r), f"{r.numerator}/{r.denominator}")
         for k, r in city.items()]

    def pair(items: Iterable, count_title: str, inv_title: str, key: str) -> str:
        items = list(items)
        return (hbar_chart(count_title, [(getattr(x, key), x.projects, f"{x.projects} 个") for x in items])
                + hbar_chart(inv_title, [(getattr(x, key), x.investment_wan, f"{_num(x.investment_wan)} 万元")
                                         for x in items], colour=BAR2))

    weeks = d.appeals_per_week
    charts = [
        pair(d.projects_by_county, "各县市区项目数（入库项目）", "各县市区总投资（万元）", "county"),
        pair(d.projects_by_stage, "各阶段项目数（入库项目）", "各阶段总投资（万元）", "stage"),
        hbar_chart("项目入库情况（全部项目）",
                   [(x.label, x.projects, f"{x.projects} 个 · {_num(x.investment_wan)} 万元")
                    for x in d.projects_by_library]),
        hbar_chart("诉求类别（累计件数）",
                   [(c.label, c.appeals, f"{c.appeals} 件（本月 {c.in_month}，未办结 {c.unresolved}）")
                    for c in d.appeals_by_category]),
        figure("红黄蓝挂牌",
               '<div class="subcap">在办诉求（已分派、已签收）当前挂牌</div>',
               hbar_svg("在办诉求当前挂牌", [(CARD_LABELS[k], v, f"{v} 件") for k, v in cards_open.items()],
                        colours=[CARD_COLOURS[k] for k in cards_open]),
               f'<div class="subcap">{esc(month)}挂牌（按达到阈值的时间）</div>',
               hbar_svg(f"{month}挂牌", [(CARD_LABELS[k], v, f"{v} 张") for k, v in d.cards.raised.items()],
                        colours=[CARD_COLOURS[k] for k in d.cards.raised])),
        column_chart(f"近{len(weeks)}周诉求受理量（{weeks[0].week_start} 至 {weeks[-1].week_end}，按周一起算）",
                     [(w.week_start[5:], w.appeals,
                       f"{w.iso_week}（{w.week_start} 至 {w.week_end}）：{w.appeals} 件") for w in weeks]),
    ]

    notes = [
        f"统计月份：{month}（{span}）；数据截至 {p.at}。项目、累计诉求和在办挂牌为当前数据。",
        "响应率 = 在答复期限内答复的诉求 ÷ 答复期限落在本月（且已到期）的诉求；期限以批准延期后的期限为准，"
        "改派的诉求只计入现承办单位（按其新期限），不满意经复核属单位责任的，以督办单期限为新的答复期限。",
        "解决率 = 本月办结且在现承办单位办理期间未被督办（黄牌督办、不满意复核督办、人工督办）的诉求 ÷ 本月办结的诉求。",
        "满意率 = 本月评价为“满意”“基本满意”的诉求 ÷ 本月评价的诉求（以每件诉求最近一次评价为准）。",
        "排名：按已有各率的平均值从低到高（最差在前），平均值相同看最低的单项率，再按单位名称；"
        "本月没有到期、办结或评价诉求的单位无数据，列于最后。颜色：≥90% 绿，≥70% 黄，其余红。",
        "挂牌：在办诉求（已分派、已签收）的当前挂牌；本月挂牌按达到阈值的时间统计。",
    ]

    body = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(f"泰安市重大项目督导数据看板 · {month}")}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header>
<h1>泰安市新动能重大项目可视化督导服务平台 · 数据看板</h1>
<div class="sub">统计月份 {esc(month)}（{esc(span)}） · 数据截至 {esc(p.at)} · 生成于 {esc(generated_at)}</div>
</header>
<section class="tiles">{"".join(tiles)}</section>
<h2>项目</h2>
<section class="grid2">{charts[0]}{charts[1]}{charts[2]}</section>
<h2>诉求与挂牌</h2>
<section class="grid2">{charts[5]}{charts[3]}{charts[4]}</section>
<h2>{esc(month)}各单位“三率”排名（最差在前）</h2>
{_ranking(d.unit_rates, month)}
<h2>口径说明</h2>
<ul class="notes">{"".join(f"<li>{esc(n)}</li>" for n in notes)}</ul>
<footer>本页由 taian report 生成，为独立文件，无需联网即可查看和打印。</footer>
</main>
</body>
</html>
"""
    return body


def write_report(path: str | os.PathLike, d: Dashboard, *, generated_at: str | None = None) -> int:
    """Write the page to ``path`` atomically (a temporary file in the same folder, then a
    rename), readable by its owner only (it names units and their figures; share it on
    purpose). Returns the number of bytes written."""
    target = Path(path)
    data = render(d, generated_at=generated_at).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(data)

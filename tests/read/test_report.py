"""``taian report``: one self-contained HTML page with the dashboard's charts and the 三率
ranking (taian_tui/report.py), on the small city of test_stats.py."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from taian_tui.read import report, stats
from taian_tui.domain import operations as wf

VOID = {"meta", "br", "img", "hr", "input", "link", "rect", "line", "col", "wbr"}
EVIL = '<script>alert("x")</script>区'

AT = "2026-11-05T12:00:00+08:00"     # the scenario's as-of (tests/read/conftest.py)
OCT = "2026-10"


def t(day: str, hm: str = "10:00") -> str:
    return f"2026-{day}T{hm}:00+08:00"


class Page(HTMLParser):
    """Checks that every element is closed in order, and collects the ranking table's rows
    and the SVG texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self.texts: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_ranking = False
        self._svg_text = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "table" and "ranking" in (attrs.get("class") or ""):
            self._in_ranking = True
        if self._in_ranking and tag == "tr":
            self._row = []
        if self._row is not None and tag == "td":
            self._cell = []
        if tag == "text":
            self._svg_text = True
            self.texts.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._in_ranking = False
        elif tag == "text":
            self._svg_text = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._svg_text:
            self.texts[-1] += data


def parse(page: str) -> Page:
    p = Page()
    p.feed(page)
    p.close()
    assert not p.errors, p.errors[:5]
    assert p.stack == [], p.stack
    return p


@pytest.fixture
def _write(run_cli):
    def _write(db_path, out, *extra):
        return run_cli("report", str(out), "--db", str(db_path), "--month", OCT, "--at", AT, *extra)
    return _write


def test_report_is_one_self_contained_page(_write, scenario, db_path, tmp_path):
    out = tmp_path / "r.html"
    code, stdout, err = _write(db_path, out)
    assert code == 0, err
    assert f"report for 2026-10 written to {out}" in stdout
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page and '<meta charset="utf-8">' in page
    low = page.lower()
    for external in ("<script", "<link", "src=", "url(", "@import", "://", "<iframe", "<img"):
        assert external not in low, external
    p = parse(page)
    assert {"style", "svg", "rect", "table"} <= p.tags
    assert page.count("<svg") == 9      # county x2, stage x2, library, category, cards x2, weeks


def test_report_shows_the_figures(_write, scenario, db_path, tmp_path):
    out = tmp_path / "r.html"
    assert _write(db_path, out)[0] == 0
    page = out.read_text(encoding="utf-8")
    p = parse(page)
    # the ranking, worst first, with the rates and their fractions
    ranked = [r for r in p.rows if len(r) == 6]
    assert [r[1] for r in ranked] == ["岱岳区", "市自然资源和规划局", "市生态环境局"]
    assert [r[0] for r in ranked] == ["1", "2", "3"]
    assert ranked[0][2:] == ["100.0%1/1", "0.0%0/1", "100.0%1/1", "66.7%"]
    assert ranked[1][2:] == ["50.0%2/4", "50.0%1/2", "100.0%2/2", "66.7%"]
    assert ranked[2][2:] == ["100.0%3/3", "100.0%3/3", "66.7%2/3", "88.9%"]
    assert "2026年10月无到期、办结或评价诉求的单位（55个" in page
    # the whole city's rates
    for value, frac in (("75.0%", "6/8"), ("66.7%", "4/6"), ("83.3%", "5/6")):
        assert re.search(rf'<div class="v">{re.escape(value)}</div><div class="n">{frac}</div>', page)
    # the charts' value labels
    texts = p.texts
    assert "2 个" in texts and "15,000.5 万元" in texts and "5,000 万元" in texts
    assert texts.count("0 个") == 8 + 2                 # 8 counties/zones without, 竣工 and 投产
    assert "1 个 · 2,000 万元" in texts                  # 待审核
    assert "5 件（本月 0，未办结 2）" in texts           # 土地
    assert "4 件（本月 1，未办结 2）" in texts           # 其他
    assert texts.count("3 张") == 2 and "1 张" in texts  # blue, yellow; red
    assert "2026-W40（2026-09-28 至 2026-10-04）：8 件" in page
    assert "近26周诉求受理量（2026-05-04 至 2026-10-31" in page       # (counted to the 31st)
    assert "统计月份 2026年10月（整月）" in page


def test_bar_lengths_are_proportional():
    svg = report.hbar_svg("t", [("甲", 4, "4"), ("乙", 2, "2"), ("丙", 0, "0"), ("丁", 0.01, "0.01")])
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1], abs=0.11)
    assert widths[2] == 0
    assert widths[3] > 0                                 # a non-zero value stays visible
    col = report.column_chart("w", [("a", 10, "a"), ("b", 5, "b"), ("c", 0, "c")])
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', col)]
    assert heights[0] == pytest.approx(2 * heights[1], abs=0.11) and heights[2] == 0


def test_report_escapes_names_from_the_database(_write, scenario, db_path, tmp_path):
    s = scenario
    wf.add_unit(s, "admin", "evil", EVIL, "zone", head_name="<b>头</b>", at=t("09-02"))
    wf.upsert_user(s, "admin", "evil1", "<i>联络员</i>", "liaison", unit_code="evil", mobile="13900000000",
                   at=t("09-02"))
    wf.set_routing_rule(s, "admin", "energy", "岱岳区", "evil", at=t("09-02"))
    wf.apply_project(s, "system:intake", ref="P-EVIL", enterprise_uscc=s.scalar("SELECT uscc FROM enterprises"),
                     name="<script>p</script>", county=EVIL, category="其他", investment_wan=100,
                     at=t("09-02"))
    wf.review_project(s, "admin", "P-EVIL", "city", at=t("09-03"))
    with s.transaction():
        s.conn.execute("UPDATE enterprises SET name = ?", ("<script>企业</script>&",))
    a = wf.submit_appeal(s, "system:intake", ref="<script>E1</script>", enterprise_uscc=s.scalar(
        "SELECT uscc FROM enterprises"), category="能耗", county="岱岳区", title="<script>t</script>",
        at=t("09-29"))
    assert a.unit_code == "evil"
    wf.accept_appeal(s, "evil1", a.ref, at=t("09-29", "11:00"))
    wf.reply_appeal(s, "evil1", a.ref, "<script>r</script>", at=t("09-30"))
    out = tmp_path / "evil.html"
    code, _, err = _write(db_path, out)
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<b>" not in page and "<i>" not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;区"
    assert page.count(escaped) >= 3                     # two county charts, the ranking
    p = parse(page)
    assert EVIL in [r[1] for r in p.rows]               # in the table, read back as text
    assert EVIL[:13] + "…" in p.texts                   # an SVG label (long ones shortened)


def test_existing_file_is_not_replaced_without_force(_write, scenario, db_path, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "r.html"
    out.write_text("keep me", encoding="utf-8")
    code, _, err = _write(db_path, out)
    assert code == 2 and "--force" in err
    assert out.read_text(encoding="utf-8") == "keep me"
    code, _, err = _write(db_path, out, "--force")
    assert code == 0, err
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]       # no temporary file left


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "abc"])
def test_bad_month_exits_2_and_writes_nothing(run_cli, db_path, tmp_path, bad):
    out = tmp_path / "r.html"
    code, _, err = run_cli("report", str(out), "--db", str(db_path), "--month", bad)
    assert code == 2 and "YYYY-MM" in err
    assert not out.exists()


def test_bad_targets(run_cli, db_path, tmp_path):
    code, _, err = run_cli("report", str(tmp_path), "--db", str(db_path), "--at", AT)
    assert code == 2 and "is a directory" in err
    code, _, err = run_cli("report", str(tmp_path / "no" / "r.html"), "--db", str(db_path), "--at", AT)
    assert code == 2 and "no such folder" in err
    code, _, err = run_cli("report", str(tmp_path / "r.html"), "--db", str(tmp_path / "x.db"))
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "r.html").exists()


def test_report_numbers_are_the_stats_numbers(scenario):
    d = stats.dashboard(scenario, OCT, AT)
    page = report.render(d, generated_at=AT)
    p = parse(page)
    rows = {r[1]: r for r in p.rows if len(r) == 6}
    for u in d.unit_rates:
        if u.score is None:
            continue
        row = rows[u.name]
        assert row[0] == str(u.rank)
        for i, key in enumerate(("response", "resolution", "satisfaction"), start=2):
            r = getattr(u, key)
            assert row[i] == (f"{stats.pct(r)}{r.numerator}/{r.denominator}" if r.denominator else "—（无）")
    assert report.render(d, generated_at=AT) == page                 # deterministic


def test_empty_city_renders(store):
    page = report.render(stats.dashboard(store, OCT, AT), generated_at=AT)
    parse(page)
    assert "2026年10月没有到期、办结或评价的诉求。" in page

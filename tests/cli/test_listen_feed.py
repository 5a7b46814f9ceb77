"""``taian listen build`` (每日一听 as sound) and ``taian feed export`` (what the website and
the apps read), run as cron runs them, then the files read back with a decoder
(``miniaudio``) and a feed parser (``feedparser``)."""
from __future__ import annotations

import array
import json
import math
import os

import feedparser
import miniaudio
import pytest

from taian_tui.domain import operations as wf
from taian_tui.domain import timeutil

TITLE = "泰安市惠企政策"
BODY = "第一句话说的是用地保障。\n\n第二句话说的是能耗指标。"      # with the title: three sentences
BASE = "https://fgw.taian.gov.cn/feeds"


@pytest.fixture
def today():
    return timeutil.iso()[:10]


def _published(store, title=TITLE, body=BODY, kind="policy"):
    c = wf.draft_content(store, "bianji", kind=kind, level="市", title=title, body=body, source_unit="市发展改革委",
                         tags="用地,能耗")
    return wf.publish_content(store, "bianji", c.id)


def _listen(run_cli, db_path, *args):
    return run_cli("listen", "build", "--db", str(db_path), *args, env={"TAIAN_USER": "bianji"})


def test_the_days_pick_becomes_mp3_speech_of_a_few_seconds_a_sentence(store, db_path, run_cli, tmp_path, today):
    c = _published(store)
    wf.pick_daily_listen(store, "bianji", today, c.id)
    out = tmp_path / "listen"
    code, stdout, stderr = _listen(run_cli, db_path, "--out", str(out), "--json")
    assert (code, stderr) == (0, "")
    report = json.loads(stdout)
    target = out / f"listen-{today}.mp3"
    assert (report["day"], report["content_id"], report["file"], report["sentences"], report["sample_rate"],
            report["unchanged"]) == (today, c.id, str(target), 3, 22050, False)
    assert report["bytes"] == target.stat().st_size

    decoded = miniaudio.mp3_read_file_s16(str(target))
    assert (decoded.sample_rate, decoded.nchannels) == (22050, 1)
    seconds = decoded.num_frames / decoded.sample_rate
    assert 1.0 * 3 <= seconds <= 4.0 * 3                     # a few seconds a sentence
    assert abs(seconds - report["seconds"]) < 0.2           # the stored duration is the file's
    samples = array.array("h", decoded.samples)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    assert rms > 300 and max(map(abs, samples)) > 3000      # speech, not silence

    row = store.one("SELECT audio_path, audio_seconds, audio_bytes, audio_built_at IS NOT NULL AS built "
                    "FROM daily_listen WHERE date = ?", (today,))
    assert tuple(row) == (str(target), report["seconds"], target.stat().st_size, 1)
    action = store.audit_rows("daily_listen", today)[-1]
    assert (action.actor, action.action) == ("bianji", "content.listen_built")


def test_building_again_for_unchanged_text_writes_nothing(store, db_path, run_cli, tmp_path, today):
    c = _published(store)
    wf.pick_daily_listen(store, "bianji", today, c.id)
    out = tmp_path / "listen"
    assert _listen(run_cli, db_path, "--out", str(out))[0] == 0
    target = out / f"listen-{today}.mp3"
    stat = target.stat()
    audits = store.scalar("SELECT COUNT(*) FROM audit")
    code, stdout, _ = _listen(run_cli, db_path, "--out", str(out))
    assert code == 0 and f": unchanged {target} (" in stdout
    assert (target.stat().st_mtime_ns, target.stat().st_ino) == (stat.st_mtime_ns, stat.st_ino)
    assert store.scalar("SELECT COUNT(*) FROM audit") == audits
    # a published revision changes what is read: built again
    wf.save_content_revision(store, "bianji", c.id, body="只有一句话。")
    wf.publish_content_revision(store, "bianji", c.id)
    code, stdout, _ = _listen(run_cli, db_path, "--out", str(out), "--json")
    assert (code, json.loads(stdout)["sentences"], json.loads(stdout)["unchanged"]) == (0, 2, False)


def test_a_day_without_a_pick_says_so(db_path, run_cli, tmp_path):
    out = tmp_path / "listen"
    code, stdout, stderr = _listen(run_cli, db_path, "--day", "2030-01-02", "--out", str(out))
    assert (code, stdout) == (1, "")
    assert stderr == "error: no daily listen (每日一听) is chosen for 2030-01-02\n"
    assert not out.exists()
    code, _, stderr = _listen(run_cli, db_path, "--day", "12/10")
    assert (code, stderr) == (2, "error: --day '12/10': give YYYY-MM-DD, today or tomorrow\n")


def _export(run_cli, db_path, folder):
    return run_cli("feed", "export", str(folder), "--base-url", BASE, "--db", str(db_path))


def test_feeds_per_column_and_the_podcast(store, db_path, run_cli, tmp_path, today):
    policy = _published(store)
    news = _published(store, title="重大项目集中开工", body="## 开工\n\n共**12**个项目。", kind="news")
    wf.pick_daily_listen(store, "bianji", today, policy.id)
    assert _listen(run_cli, db_path)[0] == 0
    built = store.one("SELECT audio_bytes, audio_seconds FROM daily_listen WHERE date = ?", (today,))
    site = tmp_path / "site"
    code, stdout, stderr = _export(run_cli, db_path, site)
    assert (code, stderr) == (0, "")
    assert sorted(p.name for p in site.iterdir()) == ["audio", "daily-listen.rss", "department.atom",
                                                      "investment.atom", "news.atom", "policy.atom"]

    feed = feedparser.parse(str(site / "policy.atom"))
    assert (feed.bozo, feed.feed.title, [e.title for e in feed.entries]) == \
        (False, "惠企政策 · 泰安市新动能重大项目可视化督导服务平台", [TITLE])
    entry = feed.entries[0]
    assert (entry.id, entry.link, entry.updated) == (f"{BASE}/content/{policy.id}", f"{BASE}/content/{policy.id}",
                                                     policy.revised_at)
    assert entry.content[0].value == "<p>第一句话说的是用地保障。</p>\n<p>第二句话说的是能耗指标。</p>"
    news_feed = feedparser.parse(str(site / "news.atom"))
    assert [(e.title, e.content[0].value) for e in news_feed.entries] == \
        [("重大项目集中开工", "<h2>开工</h2>\n<p>共<strong>12</strong>个项目。</p>")]
    assert feedparser.parse(str(site / "investment.atom")).entries == []

    podcast = feedparser.parse(str(site / "daily-listen.rss"))
    assert podcast.bozo is False
    (episode,) = podcast.entries
    url = f"{BASE}/audio/listen-{today}.mp3"
    assert episode.title == f"{today} {TITLE}"
    assert episode.enclosures == [{"href": url, "length": str(built["audio_bytes"]), "type": "audio/mpeg"}]
    whole = round(built["audio_seconds"])
    assert episode.itunes_duration == f"00:00:{whole:02d}"
    assert ([t.term for t in podcast.feed.tags], podcast.feed.author) == \
        (["Government"], "泰安市新动能重大项目可视化督导服务平台")
    assert (site / "audio" / f"listen-{today}.mp3").stat().st_size == built["audio_bytes"]


def test_running_twice_changes_no_file_and_withdrawn_items_drop_out(store, db_path, run_cli, tmp_path, today):
    policy = _published(store)
    kept = _published(store, title="另一条政策", body="正文。")
    wf.pick_daily_listen(store, "bianji", today, policy.id)
    assert _listen(run_cli, db_path)[0] == 0
    site = tmp_path / "site"
    assert _export(run_cli, db_path, site)[0] == 0
    files = sorted(p for p in site.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    code, stdout, _ = _export(run_cli, db_path, site)
    assert code == 0 and "written" not in stdout
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before

    wf.unpublish_content(store, "bianji", policy.id, clear_picks=True)
    code, stdout, _ = _export(run_cli, db_path, site)
    assert code == 0
    # the sound no longer offered is said removed (it read "written")
    assert f"removed\t{site / 'audio' / f'listen-{today}.mp3'}" in stdout.splitlines()
    assert [e.title for e in feedparser.parse(str(site / "policy.atom")).entries] == ["另一条政策"]
    assert feedparser.parse(str(site / "daily-listen.rss")).entries == []
    assert list((site / "audio").iterdir()) == []
    wf.archive_content(store, "bianji", kept.id)
    assert _export(run_cli, db_path, site)[0] == 0
    assert feedparser.parse(str(site / "policy.atom")).entries == []


def test_a_base_url_that_is_not_one_is_refused(db_path, run_cli, tmp_path):
    code, stdout, stderr = run_cli("feed", "export", str(tmp_path / "site"), "--base-url", "fgw.taian",
                                   "--db", str(db_path))
    assert (code, stdout) == (2, "")
    assert stderr.startswith("error: --base-url 'fgw.taian': give the site's address")
    assert not (tmp_path / "site").exists()

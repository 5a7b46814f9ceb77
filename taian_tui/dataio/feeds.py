"""What the website and the apps read: ``taian feed export DIR --base-url URL``.

Written with ``feedgen`` (no string templates), into ``DIR``:

* ``policy.atom``, ``investment.atom``, ``department.atom``, ``news.atom``: an Atom feed per
  column (惠企政策, 招商资讯, 部门动态, 新闻) of its published items, the most recently
  (re)published first; an entry's ``updated`` is when its current text was published (a
  revision's publication), ``published`` when the item first was; its content is the
  Markdown body as HTML (raw HTML in a body is escaped, never passed through).
* ``daily-listen.rss``: the 每日一听 podcast (RSS 2.0 with the iTunes tags podcast apps
  read): an episode a day whose sound is built and whose item is still published, with its
  enclosure (``BASE/audio/listen-YYYY-MM-DD.mp3``, its length in bytes, ``audio/mpeg``) and
  duration; the built files are copied to ``DIR/audio/``.

Withdrawn and archived items drop out (and their sound files from ``DIR/audio/``). Every
date in a feed comes from the data (none is "now"), and a file is replaced only when its
bytes change, at once (a temporary file renamed): running it twice on unchanged content
changes no file.
"""
from __future__ import annotations

import datetime as _dt
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from taian_tui.dataio.listen import file_name, replace_file
from taian_tui.domain import labels
from taian_tui.domain.models import CONTENT_KINDS
from taian_tui.store import private_output

PUBLISHER = "泰安市新动能重大项目可视化督导服务平台"
LISTEN_FEED = "daily-listen.rss"
AUDIO_FOLDER = "audio"
#: An empty feed's date (a feed must have one; "now" would change the file every run).
EPOCH = "2026-01-01T00:00:00+08:00"
_LISTEN_FILE = re.compile(r"listen-\d{4}-\d{2}-\d{2}\.mp3")


class FeedError(ValueError):
    """A base URL that cannot serve as one."""


@dataclass(frozen=True)
class Written:
    name: str             # the file, relative to DIR
    changed: bool         # written (or removed) this run
    removed: bool = False  # removed this run (a sound no longer offered)


def check_base_url(base_url: str) -> str:
    url = (base_url or "").strip()
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise FeedError(f"--base-url {base_url!r}: give the site's address, such as https://fgw.taian.gov.cn/feeds")
    return url.rstrip("/")


def atom_name(kind: str) -> str:
    return f"{kind}.atom"


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _time(value: str | None) -> _dt.datetime:
    return _dt.datetime.fromisoformat(value or EPOCH)


def column_feed(kind: str, items: Iterable[dict[str, Any]], base_url: str) -> bytes:
    """The Atom feed of the column ``kind``: ``items`` as ``read.content.published_content``."""
    from feedgen.feed import FeedGenerator

    label = labels.label("content_kind", kind)
    fg = FeedGenerator()
    fg.id(f"{base_url}/{atom_name(kind)}")
    fg.title(f"{label} · {PUBLISHER}")
    fg.subtitle(label)
    fg.link(href=f"{base_url}/{atom_name(kind)}", rel="self")
    fg.link(href=base_url, rel="alternate")
    fg.language("zh-CN")
    fg.author({"name": PUBLISHER})
    fg.generator("taian-tui")
    newest = EPOCH
    for item in items:
        revised = item["revised_at"] or item["published_at"]
        newest = max(newest, revised, key=lambda v: _time(v))
        fe = fg.add_entry(order="append")
        fe.id(f"{base_url}/content/{item['id']}")
        fe.title(item["title"])
        fe.link(href=f"{base_url}/content/{item['id']}")
        fe.updated(_time(revised))
        fe.published(_time(item["published_at"] or revised))
        fe.author({"name": item["source_unit"] or PUBLISHER})
        fe.category([{"term": labels.label("content_level", item["level"])}]
                    + [{"term": tag} for tag in re.split(r"[,，、;；\s]+", item["tags"] or "") if tag])
        fe.content(_markdown().render(item["body"] or ""), type="html")
    fg.updated(_time(newest))
    return fg.atom_str(pretty=True)


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def listen_feed(episodes: Iterable[Any], base_url: str) -> bytes:
    """The 每日一听 podcast: ``episodes`` as ``read.content.listen_episodes`` (newest first)."""
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(f"每日一听 · {PUBLISHER}")
    fg.link(href=f"{base_url}/{LISTEN_FEED}", rel="self")
    fg.link(href=base_url, rel="alternate")          # the last link is RSS's <link>
    fg.description("泰安市重点政策资讯，每日一条，语音播报。")
    fg.language("zh-cn")
    fg.generator("taian-tui")
    fg.podcast.itunes_author(PUBLISHER)
    fg.podcast.itunes_category("Government")
    fg.podcast.itunes_explicit("no")
    fg.podcast.itunes_summary("泰安市重点政策资讯，每日一条，语音播报。")
    fg.podcast.itunes_type("episodic")
    newest = EPOCH
    for ep in episodes:
        aired = f"{ep.date}T00:00:00+08:00"
        newest = max(newest, aired)
        url = f"{base_url}/{AUDIO_FOLDER}/{file_name(ep.date)}"
        fe = fg.add_entry(order="append")
        fe.id(f"{url}#{ep.audio_hash[:16]}")
        fe.guid(f"{url}#{ep.audio_hash[:16]}", permalink=False)
        fe.title(f"{ep.date} {ep.title}")
        fe.description(ep.title)
        fe.link(href=f"{base_url}/content/{ep.content_id}")
        fe.enclosure(url, str(ep.audio_bytes), "audio/mpeg")
        fe.published(_time(aired))
        fe.podcast.itunes_duration(_duration(ep.audio_seconds))
        fe.podcast.itunes_title(ep.title)
    fg.lastBuildDate(_time(newest))
    return fg.rss_str(pretty=True)


def export(folder: Path, base_url: str, columns: dict[str, list[dict[str, Any]]],
           episodes: list[Any]) -> list[Written]:
    """Write the column feeds and the podcast into ``folder`` (and the episodes' sound into
    ``folder/audio``); returns each file and whether it changed."""
    base_url = check_base_url(base_url)
    out: list[Written] = []
    for kind in CONTENT_KINDS:
        name = atom_name(kind)
        out.append(Written(name, replace_file(folder / name, column_feed(kind, columns.get(kind, []), base_url))))
    audio_dir = folder / AUDIO_FOLDER
    audio_dir.mkdir(exist_ok=True)
    wanted = set()
    present = []
    for ep in episodes:
        source = Path(ep.audio_path)
        if not source.is_file() or source.stat().st_size != ep.audio_bytes:
            continue                # built elsewhere, or gone: not offered until built again
        present.append(ep)
        name = file_name(ep.date)
        wanted.add(name)
        target = audio_dir / name
        if not (target.is_file() and target.stat().st_size == ep.audio_bytes
                and target.read_bytes() == source.read_bytes()):
            with private_output(target, force=True) as partial:
                shutil.copyfile(source, partial)
            out.append(Written(f"{AUDIO_FOLDER}/{name}", True))
        else:
            out.append(Written(f"{AUDIO_FOLDER}/{name}", False))
    for stale in sorted(audio_dir.iterdir()):
        if _LISTEN_FILE.fullmatch(stale.name) and stale.name not in wanted:
            stale.unlink()
            out.append(Written(f"{AUDIO_FOLDER}/{stale.name}", True, removed=True))
    out.append(Written(LISTEN_FEED, replace_file(folder / LISTEN_FEED, listen_feed(present, base_url))))
    return out

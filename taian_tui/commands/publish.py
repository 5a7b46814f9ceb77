"""What leaves for the website and the apps: ``taian listen build`` (每日一听 as sound) and
``taian feed export`` (the columns' Atom feeds and the 每日一听 podcast).

``taian listen build [--day YYYY-MM-DD|today|tomorrow] [--out DIR]`` renders the day's pick
to ``DIR/listen-YYYY-MM-DD.mp3`` (default ``listen/`` beside the database) and stores its
duration and size with the pick, as the acting user (``--as``/``TAIAN_USER``; cron, on the
service account: the operator). Unchanged text writes nothing ("unchanged", exit 0). A day
with no pick says so and exits 1.

``taian feed export DIR --base-url URL`` writes the feeds (``dataio.feeds``) and copies the
episodes' sound into ``DIR/audio/``; it only reads the database.
"""
from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from taian_tui.commands.common import AsOpt, DbOpt, Fail, JsonOpt, emit_json, open_store, shown

app = typer.Typer()
listen_app = typer.Typer(help="每日一听 (the daily listen) as sound.", no_args_is_help=True,
                         rich_markup_mode=None)
feed_app = typer.Typer(help="Feeds for the website and the apps.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(listen_app, name="listen")
app.add_typer(feed_app, name="feed")


def _day(value: str | None) -> str:
    from taian_tui.domain import timeutil

    today = _dt.date.fromisoformat(timeutil.iso()[:10])
    word = (value or "today").strip().lower()
    if word == "today":
        return today.isoformat()
    if word == "tomorrow":
        return (today + _dt.timedelta(days=1)).isoformat()
    try:
        return _dt.date.fromisoformat(word).isoformat()
    except ValueError:
        raise Fail(f"--day {value!r}: give YYYY-MM-DD, today or tomorrow", 2) from None


def _folder(value: Optional[Path], default: Path, option: str) -> Path:
    folder = value if value is not None else default
    if folder.exists() and not folder.is_dir():
        raise Fail(f"{option} {folder}: is not a folder", 2)
    if value is not None and not folder.parent.is_dir():
        raise Fail(f"{option} {folder}: no such folder {folder.parent}", 2)
    return folder


@listen_app.command("build", short_help="Build a day's 每日一听 as an MP3 file.")
def listen_build(db: DbOpt = None, as_user: AsOpt = None,
                 day: Annotated[Optional[str], typer.Option(
                     "--day", help="YYYY-MM-DD, today or tomorrow (default: today, Asia/Shanghai).",
                     show_default=False)] = None,
                 out: Annotated[Optional[Path], typer.Option(
                     "--out", help="Folder of the MP3 files (default: listen/ beside the database).",
                     show_default=False)] = None,
                 as_json: JsonOpt = False) -> None:
    """Read the day's 每日一听 (its title, then its body as plain text) with a Mandarin voice
    (eSpeak NG, offline) into DIR/listen-YYYY-MM-DD.mp3, and store its duration and size with
    the pick. Unchanged text writes nothing. No pick for the day: exit 1."""
    from taian_tui.dataio import listen
    from taian_tui.domain import actors
    from taian_tui.domain.refusals import NotFound
    from taian_tui.read import content

    when = _day(day)
    store = open_store(db)
    try:
        folder = _folder(out, listen.default_folder(store.path), "--out")
        try:
            pick, item = content.listen_to_build(store, when)
        except NotFound as exc:
            raise Fail(str(exc), 1) from None
        user = as_user or os.environ.get("TAIAN_USER") or actors.OPERATOR
        built = listen.build(store, user, pick, item, folder)
    finally:
        store.close()
    if as_json:
        emit_json({"day": built.day, "content_id": built.content_id, "title": built.title,
                   "file": str(built.path), "seconds": built.seconds, "bytes": built.size,
                   "sample_rate": built.sample_rate, "sentences": built.sentences,
                   "unchanged": built.unchanged})
        return
    state = "unchanged" if built.unchanged else "built"
    typer.echo(f"{built.day} 每日一听 #{built.content_id} {shown(built.title)}: {state} {shown(built.path)} "
               f"({built.seconds:.1f} s, {built.size} bytes, {built.sample_rate} Hz mono)")


@feed_app.command("export", short_help="Write the Atom feeds and the 每日一听 podcast into DIR.")
def feed_export(folder: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to write into (made if missing).")],
                base_url: Annotated[str, typer.Option("--base-url", help="Where DIR is served, e.g. "
                                                                       "https://fgw.taian.gov.cn/feeds")],
                db: DbOpt = None) -> None:
    """Atom feeds of the published items per column (policy, investment, department, news
    .atom) and the 每日一听 podcast (daily-listen.rss, its MP3 files in DIR/audio/). Episodes
    up to tomorrow's whose sound is built. Unchanged content changes no file."""
    from taian_tui.dataio import feeds
    from taian_tui.domain import timeutil
    from taian_tui.domain.models import CONTENT_KINDS
    from taian_tui.read import content, stats

    try:
        base = feeds.check_base_url(base_url)
    except feeds.FeedError as exc:
        raise Fail(str(exc), 2) from None
    if folder.exists() and not folder.is_dir():
        raise Fail(f"{folder}: is not a folder", 2)
    if not folder.parent.is_dir():
        raise Fail(f"{folder}: no such folder {folder.parent}", 2)
    store = open_store(db, read_only=True)
    try:
        with stats.snapshot(store):
            columns = {kind: content.published_content(store, kind) for kind in CONTENT_KINDS}
            through = (_dt.date.fromisoformat(timeutil.iso()[:10]) + _dt.timedelta(days=1)).isoformat()
            episodes = content.listen_episodes(store, through)
    finally:
        store.close()
    folder.mkdir(exist_ok=True)
    written = feeds.export(folder, base, columns, episodes)
    for w in written:
        typer.echo(f"{'removed' if w.removed else 'written' if w.changed else 'unchanged'}\t{shown(folder / w.name)}")

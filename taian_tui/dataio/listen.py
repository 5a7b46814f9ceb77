"""每日一听 built as sound: ``taian listen build`` and the editor's build key.

The day's pick (``read.content.listen_to_build``: a published item) is read as sentences
(``speech.spoken``: title, then the Markdown body as plain text, numbers as they are said),
rendered by the Mandarin voice (``audio.render``) and written to ``listen-YYYY-MM-DD.mp3``
in the folder given (default: ``listen/`` beside the database), replacing the file at once
(a temporary file renamed). Its path, hash, duration and size are then stored with the pick
(``operations.record_listen_audio``, audited as the acting user).

Building again writes nothing when the sentences and the voice are those of the stored
hash and the stored file is still there, at its size.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from taian_tui.dataio import audio, speech
from taian_tui.domain import operations, rules
from taian_tui.domain.actors import actor
from taian_tui.store import Store

FOLDER = "listen"


@dataclass(frozen=True)
class Built:
    day: str
    content_id: int
    title: str
    path: Path
    seconds: float
    size: int
    sample_rate: int
    sentences: int
    unchanged: bool          # nothing was written: the stored file says the same


def default_folder(db_path: str | os.PathLike) -> Path:
    """``listen/`` beside the database."""
    return Path(db_path).resolve().parent / FOLDER


def file_name(day: str) -> str:
    return f"listen-{day}.mp3"


def build(store: Store, who: str, pick: Any, item: dict, folder: Path,
          progress: Callable[[int, int], None] | None = None) -> Built:
    """Build the sound of ``pick`` (a ``read.content.DailyListen``) whose item is ``item``
    (``read.content.content_item``) into ``folder``, unless the stored one is current."""
    rules.require_role("build_listen", actor(store, who))
    sentences = speech.spoken(item["title"], item["body"])
    digest = speech.text_hash(sentences, audio.SETTINGS)
    target = folder / file_name(pick.date)
    if (pick.audio_hash == digest and pick.audio_path == str(target) and target.is_file()
            and target.stat().st_size == pick.audio_bytes):
        return Built(pick.date, pick.content_id, item["title"], target, pick.audio_seconds, pick.audio_bytes,
                     audio.SAMPLE_RATE, len(sentences), True)
    rendered = audio.render(sentences, progress)
    folder.mkdir(parents=True, exist_ok=True)
    replace_file(target, rendered.mp3)
    operations.record_listen_audio(store, who, pick.date, pick.content_id, item["revision"], path=str(target),
                                   text_hash=digest, seconds=rendered.seconds, size=len(rendered.mp3))
    return Built(pick.date, pick.content_id, item["title"], target, round(rendered.seconds, 2),
                 len(rendered.mp3), rendered.sample_rate, len(sentences), False)


def replace_file(target: Path, data: bytes) -> bool:
    """Write ``data`` to ``target`` at once (a temporary file beside it, renamed), unless it
    already holds exactly ``data``: returns whether it wrote."""
    try:
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            return False
    except OSError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True

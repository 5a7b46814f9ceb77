"""The one way a console screen (or form, or the app) reads or writes: in a worker thread,
on a ``Store`` lent to it alone by the app's pool, as the signed-in user, posting one
message back.

``run_in_store(node, task, fn)`` runs ``fn(job)`` in a thread of the app's pool, started at
once, under a Textual worker that waits for it (exclusive within ``task`` by default, so a
newer read cancels an older one); ``job.store`` is a store that no other thread uses
meanwhile, ``job.actor`` the signed-in user as the store sees them now.
The pool (``StorePool``) keeps a few connections open between reads, so that a reload does
not open the file, read its schema and start with an empty page cache each time. ``fn`` returns the
message to post to ``node`` (or ``None``); it may also ``job.post(...)`` earlier messages
(a page before its count). Nothing is posted once the worker was cancelled. Any exception
becomes one ``WorkFailed(task, text, refused)`` message to ``node``, the text in the
console's language (a domain refusal names its rule): the errors are handled here, and a
screen only decides where to show ``WorkFailed.text``.
"""
from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker

from taian_tui.console.messages import WorkFailed
from taian_tui.console.strings import error_text, t
from taian_tui.domain.actors import Actor
from taian_tui.domain.refusals import DomainError
from taian_tui.store import Store, is_locked

if TYPE_CHECKING:
    from taian_tui.console.app import TaianApp


#: The page cache of each kept connection, in KiB (SQLite's default is 2000).
CACHE_KIB = 512
#: How long a console's write waits for another writer (an import, a sweep) before it says
#: so (the form keeps what was typed): a person waits this long, not the command line's minute.
BUSY_MS = 15_000
#: Threads running a console's reads and writes at once (a page, its count, its detail, the
#: header's counts and a form's write fit; more wait their turn).
THREADS = 6


class StorePool:
    """Connections to one file, lent to one worker thread at a time and kept (at most
    ``keep``) for the next: a console's reads run on warm connections. A store whose use
    ended in an unexpected error is closed rather than lent again. The pool's threads
    (``submit``) run the work that uses them."""

    def __init__(self, path: str, keep: int = 3) -> None:
        self.path = path
        self.keep = keep
        self._idle: list[Store] = []
        self._lock = threading.Lock()
        self._closed = False
        self._threads: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[[], None]) -> Future:
        """Start ``fn`` in one of the pool's threads now (made on first use)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the store pool is closed")
            if self._threads is None:
                self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="taian-store")
            threads = self._threads
        return threads.submit(fn)

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        with self._lock:
            store = self._idle.pop() if self._idle else None
        if store is None:
            store = Store(self.path, migrate=False)
            # a small page cache: another process's commit empties it anyway (WAL), and a
            # hundred consoles on one server each keep a few of these all day
            store.conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            store.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        reusable = False
        try:
            yield store
            reusable = True
        except DomainError:
            reusable = True         # a refusal: the store's transaction was rolled back
            raise
        finally:
            if store.conn.in_transaction:
                reusable = False
            with self._lock:
                if reusable and not self._closed and len(self._idle) < self.keep:
                    self._idle.append(store)
                    store = None
            if store is not None:
                store.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)
        for store in idle:
            store.close()


@dataclass
class Job:
    """What a worker function gets: its store, the acting user, and a way to post early."""

    store: Store
    node: MessagePump
    worker: Worker
    _actor: Actor | None = None
    _app: "TaianApp | None" = None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            self._actor = self._app.session.actor(self.store)
        return self._actor

    @property
    def username(self) -> str:
        return self._app.session.username

    @property
    def cancelled(self) -> bool:
        return self.worker.is_cancelled

    def post(self, message: Message) -> bool:
        """Post ``message`` to the node now, unless the worker was cancelled (then ``False``)."""
        if self.worker.is_cancelled:
            return False
        self.node.post_message(message)
        return True


def run_in_store(node: MessagePump, task: str, fn: Callable[[Job], Message | None], *,
                 exclusive: bool = True) -> Worker:
    """Run ``fn`` in a thread of the app's pool, under a worker of ``node`` (see the module's
    docstring). The thread starts now: a Textual thread worker starts its thread when its
    task first runs, after the UI thread's work in hand (a filter chosen in a list started its
    read 25 ms later, behind the redraw of the list closing). The worker waits for the thread:
    it is what cancels (a newer read of the same task, the screen gone) and what
    ``app.workers`` waits for."""
    app = node.app
    started: list[Future] = []

    async def waiting() -> None:
        await asyncio.wrap_future(started[0])

    worker = node.run_worker(waiting, name=task, group=task, exclusive=exclusive, exit_on_error=False)

    def work() -> None:
        if worker.is_cancelled:
            return
        try:
            with app.stores.store() as store:
                job = Job(store=store, node=node, worker=worker, _app=app)
                message = fn(job)
        except DomainError as exc:
            message = WorkFailed(task, error_text(exc), refused=True)
        except Exception as exc:    # a locked or broken file, a bug: said, never raised into the UI
            message = WorkFailed(task, t("err.locked") if is_locked(exc)
                                 else t("err.unexpected", msg=f"{type(exc).__name__}: {exc}"))
        if message is not None and not worker.is_cancelled:
            node.post_message(message)

    try:
        started.append(app.stores.submit(work))
    except RuntimeError:                # the console is closing
        worker.cancel()
        done: Future = Future()
        done.set_result(None)
        started.append(done)
    return worker


def write_before_exit(app: "TaianApp", fn: Callable[[Store, str], None]) -> bool:
    """Run the write ``fn(store, username)`` now, on the calling thread: only for what must be
    on disk before the console exits (a worker could be stopped by the exit). ``True`` when it
    was written; a failure is swallowed (the console is leaving anyway)."""
    try:
        with Store(app.db_path, migrate=False) as store:
            fn(store, app.session.username)
        return True
    except Exception:
        return False

"""The schema, as sqlite-utils ``Migrations``: an old file is upgraded in place.

Never edit a migration that has shipped; add a new one.
"""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("taian")


def _run(db: Database, script: str) -> None:
    # executescript() would COMMIT the surrounding transaction; run statement by statement.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    _run(db, """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('county','zone','department','supervision','discipline','platform')),
    head_name TEXT NOT NULL DEFAULT '',
    head_mobile TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin','liaison','leader','supervisor','discipline','editor')),
    unit_code TEXT REFERENCES units(code),
    mobile TEXT NOT NULL DEFAULT '',
    scope TEXT NOT NULL DEFAULT 'city' CHECK (scope IN ('city','unit')),
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX users_unit ON users(unit_code, role);
CREATE TABLE calendar (
    date TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday','workday')),
    source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE calendar_years (year INTEGER PRIMARY KEY, source TEXT NOT NULL DEFAULT '');
CREATE TABLE routing_rules (
    category TEXT NOT NULL,
    county TEXT NOT NULL,
    unit_code TEXT NOT NULL REFERENCES units(code),
    PRIMARY KEY (category, county)
);
CREATE TABLE enterprises (
    uscc TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    county TEXT NOT NULL,
    industry TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    contact TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    certified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX enterprises_county ON enterprises(county);
CREATE TABLE projects (
    ref TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    enterprise_uscc TEXT NOT NULL REFERENCES enterprises(uscc),
    county TEXT NOT NULL,
    category TEXT NOT NULL,
    investment_wan REAL NOT NULL DEFAULT 0,
    planned_start TEXT,
    planned_finish TEXT,
    stage TEXT NOT NULL DEFAULT '前期',
    library TEXT NOT NULL DEFAULT 'applied' CHECK (library IN ('applied','city','province','rejected')),
    library_reason TEXT NOT NULL DEFAULT '',
    visualised INTEGER NOT NULL DEFAULT 0,
    unit_code TEXT REFERENCES units(code),
    applied_at TEXT NOT NULL,
    percent REAL NOT NULL DEFAULT 0,
    invested_wan REAL NOT NULL DEFAULT 0
);
CREATE INDEX projects_library ON projects(library, stage);
CREATE INDEX projects_unit ON projects(unit_code);
CREATE INDEX projects_enterprise ON projects(enterprise_uscc);
CREATE TABLE progress_reports (
    id INTEGER PRIMARY KEY,
    project_ref TEXT NOT NULL REFERENCES projects(ref),
    date TEXT NOT NULL,
    percent REAL NOT NULL,
    invested_wan REAL NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    reported_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX progress_project ON progress_reports(project_ref, date);
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    enterprise_uscc TEXT NOT NULL REFERENCES enterprises(uscc),
    project_ref TEXT REFERENCES projects(ref),
    category TEXT NOT NULL CHECK (category IN ('approval','planning','land','energy','environment','infrastructure','other')),
    county TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('submitted','assigned','accepted','answered','disputed','returned','closed')),
    unit_code TEXT REFERENCES units(code),
    submitted_at TEXT NOT NULL,
    arrived_at TEXT,
    blue_at TEXT,
    deadline TEXT,
    deadline_estimated INTEGER NOT NULL DEFAULT 0,
    card TEXT NOT NULL DEFAULT '' CHECK (card IN ('','blue','yellow','red')),
    accepted_at TEXT,
    answered_at TEXT,
    reply TEXT NOT NULL DEFAULT '',
    returned_at TEXT,
    return_reason TEXT NOT NULL DEFAULT '',
    rating TEXT,
    rating_comment TEXT NOT NULL DEFAULT '',
    evaluated_at TEXT,
    closed_at TEXT,
    close_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX appeals_unit_state ON appeals(unit_code, state, deadline);
CREATE INDEX appeals_state_deadline ON appeals(state, deadline);
CREATE INDEX appeals_card ON appeals(card) WHERE card != '';
CREATE INDEX appeals_open_blue ON appeals(blue_at) WHERE state IN ('assigned','accepted');
CREATE INDEX appeals_project ON appeals(project_ref);
CREATE INDEX appeals_enterprise ON appeals(enterprise_uscc);
CREATE TABLE extensions (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    requested_by TEXT NOT NULL REFERENCES users(username),
    requested_at TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days > 0),
    reason TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','approved','rejected')),
    decided_by TEXT REFERENCES users(username),
    decided_at TEXT,
    decision_note TEXT NOT NULL DEFAULT '',
    old_deadline TEXT,
    new_deadline TEXT
);
CREATE INDEX extensions_appeal ON extensions(appeal_id);
CREATE INDEX extensions_pending ON extensions(state) WHERE state = 'pending';
CREATE TABLE supervision_orders (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    origin TEXT NOT NULL CHECK (origin IN ('yellow','dispute','manual')),
    opened_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    due_at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','closed')),
    closed_at TEXT
);
CREATE INDEX orders_appeal ON supervision_orders(appeal_id);
CREATE INDEX orders_open_due ON supervision_orders(due_at) WHERE state = 'open';
CREATE TABLE card_events (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    card TEXT NOT NULL CHECK (card IN ('blue','yellow','red')),
    previous TEXT NOT NULL DEFAULT '',
    threshold_at TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    taken_up_by TEXT REFERENCES users(username),
    taken_up_at TEXT,
    taken_up_note TEXT NOT NULL DEFAULT '',
    UNIQUE (appeal_id, card)
);
CREATE INDEX card_events_card ON card_events(card, applied_at);
CREATE TABLE instructions (
    id INTEGER PRIMARY KEY,
    leader TEXT NOT NULL REFERENCES users(username),
    target_user TEXT NOT NULL REFERENCES users(username),
    project_ref TEXT REFERENCES projects(ref),
    appeal_ref TEXT REFERENCES appeals(ref),
    text TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    reply TEXT NOT NULL DEFAULT '',
    replied_at TEXT
);
CREATE INDEX instructions_target ON instructions(target_user, replied_at);
CREATE INDEX instructions_leader ON instructions(leader, replied_at);
CREATE TABLE content (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('policy','investment','department','news')),
    level TEXT NOT NULL CHECK (level IN ('中央','省','市','县')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    source_unit TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','published','archived')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    archived_at TEXT
);
CREATE INDEX content_state ON content(state, kind, level);
CREATE TABLE daily_listen (
    date TEXT PRIMARY KEY,
    content_id INTEGER NOT NULL REFERENCES content(id),
    chosen_by TEXT NOT NULL,
    chosen_at TEXT NOT NULL
);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sending','sent','failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TEXT,
    UNIQUE (recipient, reason, entity)
);
CREATE INDEX outbox_status ON outbox(status, next_attempt_at);
CREATE TABLE intake_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    processed_at TEXT NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '{}',
    after TEXT NOT NULL DEFAULT '{}',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit(entity, entity_id);
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL
)
""")


@migrations(name="0002_appeal_search")
def _appeal_search(db: Database) -> None:
    """Bigram full-text index of appeal title, body and enterprise name (see search.py)."""
    from taian_tui.domain.search import grams

    db.execute("CREATE VIRTUAL TABLE appeal_search USING fts5(grams, tokenize = 'unicode61 remove_diacritics 0')")
    rows = db.execute("SELECT a.id, a.title, a.body, COALESCE(e.name, '') FROM appeals a "
                      "LEFT JOIN enterprises e ON e.uscc = a.enterprise_uscc").fetchall()
    db.conn.executemany("INSERT INTO appeal_search(rowid, grams) VALUES (?, ?)",
                        [(r[0], grams(f"{r[1]}\n{r[2]}\n{r[3]}")) for r in rows])


@migrations(name="0003_sweep_indexes")
def _sweep_indexes(db: Database) -> None:
    """The sweep's warning about estimated deadlines reads a tiny partial index instead of
    the whole table; the card-history index nobody queried is dropped (it slowed the sweep)."""
    db.execute("CREATE INDEX IF NOT EXISTS appeals_estimated ON appeals(state) WHERE deadline_estimated = 1")
    db.execute("DROP INDEX IF EXISTS card_events_card")


@migrations(name="0004_card_events_keyed_by_appeal")
def _card_events_keyed(db: Database) -> None:
    """A card event's id is ``appeal_id * 4 + rank`` (blue 1, yellow 2, red 3): the primary
    key itself guarantees a card is never raised twice for an appeal, an appeal's history is
    one rowid range, and the sweep writes one B-tree instead of a table and a unique index."""
    _run(db, """
CREATE TABLE card_events_new (
    id INTEGER PRIMARY KEY,
    appeal_id INTEGER NOT NULL REFERENCES appeals(id),
    card TEXT NOT NULL CHECK (card IN ('blue','yellow','red')),
    previous TEXT NOT NULL DEFAULT '',
    threshold_at TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    taken_up_by TEXT REFERENCES users(username),
    taken_up_at TEXT,
    taken_up_note TEXT NOT NULL DEFAULT '',
    CHECK (id = appeal_id * 4 + CASE card WHEN 'blue' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END)
);
INSERT INTO card_events_new(id, appeal_id, card, previous, threshold_at, applied_at, taken_up_by,
                            taken_up_at, taken_up_note)
SELECT appeal_id * 4 + CASE card WHEN 'blue' THEN 1 WHEN 'yellow' THEN 2 ELSE 3 END, appeal_id, card,
       previous, threshold_at, applied_at, taken_up_by, taken_up_at, taken_up_note FROM card_events;
DROP TABLE card_events;
ALTER TABLE card_events_new RENAME TO card_events
""")


@migrations(name="0005_editor_autosave")
def _editor_autosave(db: Database) -> None:
    """The policy editor's autosave: what a user has typed into a content form, kept until
    saved or discarded, so a crash or a failed save loses nothing. One row per user and item
    (``item`` is the content id, or ``new``)."""
    _run(db, """
CREATE TABLE editor_autosave (
    username TEXT NOT NULL REFERENCES users(username),
    item TEXT NOT NULL,
    fields TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (username, item)
)
""")


@migrations(name="0006_inbox_order_indexes")
def _inbox_order_indexes(db: Database) -> None:
    """The inbox's default order (deadline, appeals without one last) as an indexed virtual
    column, so a page is an index walk instead of a sort of every matching row; the open
    appeals (a unit's 待办 view) have a partial index of their own, so have the admin's 待办
    (open and waiting for dispatch), and the carded ones another (the header's count of
    carded appeals); a category filter's count is an index count."""
    _run(db, """
ALTER TABLE appeals ADD COLUMN due_sort TEXT GENERATED ALWAYS AS (COALESCE(deadline, '9999')) VIRTUAL;
CREATE INDEX appeals_due_sort ON appeals(due_sort);
CREATE INDEX appeals_open_due ON appeals(due_sort) WHERE state IN ('assigned','accepted');
CREATE INDEX appeals_admin_todo ON appeals(due_sort) WHERE state IN ('submitted','assigned','accepted','returned');
CREATE INDEX appeals_carded ON appeals(state) WHERE card != '';
CREATE INDEX appeals_category_state ON appeals(category, state)
""")


@migrations(name="0007_drop_enterprises_county_index")
def _drop_enterprises_county_index(db: Database) -> None:
    """No query looks enterprises up by county (they are found by credit code, by name for
    a project search, or listed whole), and with a dozen counties and zones it would not
    narrow much: the index only cost writes (a quarter of an import's write time)."""
    _run(db, "DROP INDEX IF EXISTS enterprises_county")


@migrations(name="0008_audit_principal")
def _audit_principal(db: Database) -> None:
    """Who really acted, beside the application user: the operating-system account, the SSH
    key's fingerprint and the client's address (``store.Principal``). Older rows keep them
    empty (and their hash as it was)."""
    _run(db, """
ALTER TABLE audit ADD COLUMN os_user TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN key_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN client TEXT NOT NULL DEFAULT '';
""")


@migrations(name="0009_outbox_unknown")
def _outbox_unknown(db: Database) -> None:
    """An SMS whose request the gateway may have received but did not answer (a timeout, a
    connection dropped after the request was sent) gets the status ``unknown``: it is never
    retried automatically (``domain/notify.py``). SQLite cannot alter a CHECK constraint, so
    the outbox is rebuilt by the documented procedure (https://sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes"), inside this migration's transaction: note
    the table's indexes and triggers, create the new table, copy every row (ids kept), drop
    the old table, rename the new one, recreate the indexes and triggers, check the foreign
    keys. Same columns in the same order, the same UNIQUE (recipient, reason, entity), the
    same ``outbox_status`` index; no table refers to the outbox and it refers to none, so
    foreign-key enforcement need not be switched off (it cannot be, inside a transaction)."""
    extras = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'outbox' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name").fetchall()]
    _run(db, """
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','sending','sent','failed','unknown')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    sent_at TEXT,
    UNIQUE (recipient, reason, entity)
);
INSERT INTO outbox_new(id, recipient, phone, text, reason, entity, status, attempts, created_at,
                       next_attempt_at, last_error, sent_at)
SELECT id, recipient, phone, text, reason, entity, status, attempts, created_at,
       next_attempt_at, last_error, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox
""")
    for sql in extras:
        db.execute(sql)
    db.execute("CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, next_attempt_at)")
    problems = db.execute("PRAGMA foreign_key_check(outbox)").fetchall()
    if problems:
        raise RuntimeError(f"0009_outbox_unknown: foreign key problems in the outbox: {problems}")


@migrations(name="0010_intake_event_hash")
def _intake_event_hash(db: Database) -> None:
    """Each applied intake event's canonical hash (``dataio/intake.event_hash``), so that an
    event_id sent again with other content is a conflict, not a repeat. Rows written before
    keep it empty: intake compares their type and time only."""
    db.execute("ALTER TABLE intake_events ADD COLUMN content_hash TEXT NOT NULL DEFAULT ''")


@migrations(name="0011_board_card_index")
def _board_card_index(db: Database) -> None:
    """The escalation board's columns (open appeals holding one card, by deadline) read from
    the carded appeals' index alone: it holds the card and the deadline beside the state
    (a column on a million appeals: 1.6 s -> 25 ms), and the header's count of carded
    appeals still counts in it. ``appeals_card`` (the card alone, same rows) goes: every
    query that could use it (``card != ''`` written out) finds the card in this one, and a
    sweep that cards 360,000 appeals then keeps one partial index up to date, not two."""
    _run(db, """
DROP INDEX IF EXISTS appeals_carded;
DROP INDEX IF EXISTS appeals_card;
CREATE INDEX appeals_carded ON appeals(state, card, deadline) WHERE card != ''
""")


@migrations(name="0012_content_revisions_and_listen_audio")
def _content_revisions_and_listen_audio(db: Database) -> None:
    """A published item is changed through a revision: ``content_revisions`` holds the one
    pending (saved, not yet published) revision of an item, and the item's own row keeps
    the published text until the revision is published; ``content.revision`` counts the
    published texts and ``revised_at`` says when the current one was published (the feeds'
    entry time). A 每日一听 pick remembers the sound built for it: the file, its hash (of
    the sentences read and the voice's settings: the same hash is not built again), its
    length in seconds and bytes, and when it was built."""
    _run(db, """
ALTER TABLE content ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE content ADD COLUMN revised_at TEXT;
UPDATE content SET revised_at = published_at WHERE published_at IS NOT NULL;
CREATE TABLE content_revisions (
    content_id INTEGER PRIMARY KEY REFERENCES content(id),
    kind TEXT NOT NULL CHECK (kind IN ('policy','investment','department','news')),
    level TEXT NOT NULL CHECK (level IN ('中央','省','市','县')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    source_unit TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
ALTER TABLE daily_listen ADD COLUMN audio_path TEXT;
ALTER TABLE daily_listen ADD COLUMN audio_hash TEXT;
ALTER TABLE daily_listen ADD COLUMN audio_seconds REAL;
ALTER TABLE daily_listen ADD COLUMN audio_bytes INTEGER;
ALTER TABLE daily_listen ADD COLUMN audio_built_at TEXT;
CREATE INDEX content_published ON content(kind, revised_at) WHERE state = 'published'
""")


# -- 0013: the dashboard's figures per day, kept by triggers -----------------------------------------
FIGURE_COLUMNS = ("submitted", "due", "due_met", "closed", "closed_clean", "evaluated", "satisfied")


def _clean(r: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM supervision_orders o WHERE o.appeal_id = {r}.id "
            f"AND o.opened_at >= COALESCE({r}.arrived_at, ''))")


#: The moments an appeal counts at: name -> (its day, when the appeal has it, the counts it
#: adds, the columns they depend on). ``{r}`` is the appeal's row.
_ANCHORS = {
    "submitted": ("substr({r}.submitted_at, 1, 10)", "1", {"submitted": "1"}, ("submitted_at",)),
    "due": ("COALESCE(substr({r}.deadline, 1, 10), '')", "{r}.deadline IS NOT NULL",
            {"due": "1", "due_met": "IFNULL({r}.answered_at <= {r}.deadline, 0)"}, ("deadline", "answered_at")),
    "closed": ("COALESCE(substr({r}.closed_at, 1, 10), '')", "{r}.state = 'closed'",
               {"closed": "1", "closed_clean": _clean("{r}")}, ("state", "closed_at", "arrived_at")),
    "evaluated": ("COALESCE(substr({r}.evaluated_at, 1, 10), '')", "{r}.rating IS NOT NULL",
                  {"evaluated": "1", "satisfied": "{r}.rating IN ('满意', '基本满意')"}, ("rating", "evaluated_at")),
}


def _anchor_row(anchor: str, r: str, sign: str, source: str = "") -> str:
    """The row the appeal ``r`` (``a`` of ``source``, or ``OLD``/``NEW`` in a trigger) adds to
    ``appeal_day_figures`` at one of its moments, each count multiplied by ``sign``: keyed by
    that moment's local day (the first ten characters of a +08:00 timestamp), its unit (''
    for none) and category; no row when the appeal has no such moment. A closing or an
    evaluation without a time is kept under the day ''."""
    day, where, counts, _ = _ANCHORS[anchor]
    values = ", ".join((f"{sign} * ({counts[c]})" if c in counts else "0") + f" AS {c}" for c in FIGURE_COLUMNS)
    return (f"SELECT {day} AS day, COALESCE({{r}}.unit_code, '') AS unit_code, {{r}}.category AS category, "
            f"{values} {source} WHERE {where}").replace("{r}", r)


def _figure_rows(r: str, sign: str, source: str = "") -> str:
    """Every row one appeal adds to ``appeal_day_figures`` (one per moment it has)."""
    return "\nUNION ALL\n".join(_anchor_row(a, r, sign, source) for a in _ANCHORS)


def _order_qualifies(order: str, others_than: str) -> str:
    """The key of the closed appeal whose 解决 the order ``order`` spoils, when no other of its
    orders (than the one with id ``others_than``) already does; no row otherwise."""
    return (f"SELECT COALESCE(substr(a.closed_at, 1, 10), ''), COALESCE(a.unit_code, ''), a.category "
            f"FROM appeals a WHERE a.id = {order}.appeal_id AND a.state = 'closed' "
            f"AND {order}.opened_at >= COALESCE(a.arrived_at, '') AND NOT EXISTS (SELECT 1 FROM "
            f"supervision_orders o WHERE o.appeal_id = a.id AND o.id != {others_than}.id "
            f"AND o.opened_at >= COALESCE(a.arrived_at, ''))")


def _category_rows(r: str, sign: str, source: str = "") -> str:
    """The row one appeal adds to ``appeal_category_figures``: one appeal of its category, and
    one closed when it is."""
    return (f"SELECT {r}.category AS category, {sign} AS appeals, {sign} * ({r}.state = 'closed') AS closed "
            f"{source} WHERE 1")


#: The tables of sums the triggers keep: name -> (key columns, count columns).
FIGURE_TABLES = {
    "appeal_day_figures": (("day", "unit_code", "category"), FIGURE_COLUMNS),
    "appeal_category_figures": (("category",), ("appeals", "closed")),
}


def _add(table: str, row: str) -> str:
    """The statement adding one row of counts (a SELECT with a WHERE, as an upsert from a
    SELECT needs: ``_anchor_row``, ``_category_rows``) to ``table``'s sums."""
    keys, counts = FIGURE_TABLES[table]
    updates = ", ".join(f"{c} = {c} + excluded.{c}" for c in counts)
    return (f"INSERT INTO {table}({', '.join(keys + counts)}) {row} "
            f"ON CONFLICT({', '.join(keys)}) DO UPDATE SET {updates}")


def figures_sql(table: str) -> str:
    """The rows of ``table`` (one of ``FIGURE_TABLES``) computed afresh from the appeals, rows of
    all zeros left out: what ``taian audit verify`` compares the table with, and what
    ``rebuild_figures`` writes. The same rows as migration 0013 fills it with and its
    triggers keep."""
    keys, counts = FIGURE_TABLES[table]
    rows = (_figure_rows("a", "1", "FROM appeals a") if table == "appeal_day_figures"
            else _category_rows("a", "1", "FROM appeals a"))
    sums = ", ".join(f"SUM({c}) AS {c}" for c in counts)
    nonzero = " OR ".join(f"SUM({c}) != 0" for c in counts)
    return (f"SELECT {', '.join(keys)}, {sums} FROM ({rows}) GROUP BY {', '.join(keys)} HAVING {nonzero}")


def rebuild_figures(conn) -> int:
    """Fill the tables of sums afresh from the appeals (inside the caller's transaction):
    ``taian migrate --rebuild-figures``, after ``taian audit verify`` found them differing.
    Returns the number of rows written."""
    written = 0
    for table, (keys, counts) in FIGURE_TABLES.items():
        conn.execute(f"DELETE FROM {table}")
        written += conn.execute(f"INSERT INTO {table}({', '.join(keys + counts)}) {figures_sql(table)}").rowcount
    return written


@migrations(name="0013_appeal_day_figures")
def _appeal_day_figures(db: Database) -> None:
    """The dashboard's month of 三率, appeals per category and per week, read from sums per
    day instead of every appeal (on a million appeals: 6 s -> tens of milliseconds).
    ``appeal_category_figures`` holds, per category, how many appeals there are and how many
    of them are closed.
    ``appeal_day_figures`` holds, per local day, unit and category, how many appeals were
    submitted, fell due (and were answered by then), were closed (with no supervision order
    opened while with that unit) and were evaluated (满意 or 基本满意) on that day. Triggers
    keep it equal to the appeals, statement by statement: an appeal's rows are taken off with
    its old values and added with its new ones (the sweep's card changes do not touch it), and
    an order opened on (or removed from) a closed appeal moves its 解决. The stats read whole
    days from here and the part of today up to the moment from the appeals, through the new
    indexes on the moments."""
    cols = ", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in FIGURE_COLUMNS)
    db.execute(f"CREATE TABLE appeal_day_figures (day TEXT NOT NULL, unit_code TEXT NOT NULL, "
               f"category TEXT NOT NULL, {cols}, PRIMARY KEY (day, unit_code, category)) WITHOUT ROWID")
    db.execute("CREATE TABLE appeal_category_figures (category TEXT PRIMARY KEY, appeals INTEGER NOT NULL "
               "DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID")
    rebuild_figures(db.conn)
    # an appeal added or removed: each of its moments; changed: only the moments whose columns
    # (or its unit or category) changed, each taken off with the old values and added with the
    # new, so that an acceptance or a card costs nothing and an answer one moment
    for event, r, sign in (("INSERT", "NEW", "1"), ("DELETE", "OLD", "-1")):
        body = "; ".join([*(_add("appeal_day_figures", _anchor_row(a, r, sign)) for a in _ANCHORS),
                          _add("appeal_category_figures", _category_rows(r, sign))])
        db.execute(f"CREATE TRIGGER appeal_figures_{event.lower()} AFTER {event} ON appeals BEGIN {body}; END")
    for anchor, (_, where, _, columns) in _ANCHORS.items():
        columns = (*columns, "unit_code", "category")
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        has = "(" + " OR ".join(where.replace("{r}", r) for r in ("OLD", "NEW")) + ")"
        db.execute(f"CREATE TRIGGER appeal_figures_{anchor} AFTER UPDATE OF {', '.join(columns)} ON appeals "
                   f"WHEN ({changed}) AND {has} BEGIN {_add('appeal_day_figures', _anchor_row(anchor, 'OLD', '-1'))}; "
                   f"{_add('appeal_day_figures', _anchor_row(anchor, 'NEW', '1'))}; END")
    db.execute("CREATE TRIGGER appeal_figures_category AFTER UPDATE OF category, state ON appeals "
               "WHEN OLD.category IS NOT NEW.category OR (OLD.state = 'closed') != (NEW.state = 'closed') BEGIN "
               f"{_add('appeal_category_figures', _category_rows('OLD', '-1'))}; "
               f"{_add('appeal_category_figures', _category_rows('NEW', '1'))}; END")
    spoil = ("UPDATE appeal_day_figures SET closed_clean = closed_clean {op} 1 "
             "WHERE (day, unit_code, category) = ({key})")
    db.execute("CREATE TRIGGER order_figures_insert AFTER INSERT ON supervision_orders BEGIN "
               + spoil.format(op="-", key=_order_qualifies("NEW", "NEW")) + "; END")
    db.execute("CREATE TRIGGER order_figures_delete AFTER DELETE ON supervision_orders BEGIN "
               + spoil.format(op="+", key=_order_qualifies("OLD", "OLD")) + "; END")
    db.execute("CREATE TRIGGER order_figures_update AFTER UPDATE OF appeal_id, opened_at ON supervision_orders "
               "BEGIN " + spoil.format(op="+", key=_order_qualifies("OLD", "OLD")) + "; "
               + spoil.format(op="-", key=_order_qualifies("NEW", "NEW")) + "; END")
    # the part of today up to the moment is read from the appeals: by these
    _run(db, """
CREATE INDEX appeals_submitted ON appeals(submitted_at, category);
CREATE INDEX appeals_closed ON appeals(closed_at) WHERE state = 'closed';
CREATE INDEX appeals_evaluated ON appeals(evaluated_at) WHERE rating IS NOT NULL
""")


@migrations(name="0014_open_appeal_clock_indexes")
def _open_appeal_clock_indexes(db: Database) -> None:
    """The cards ahead (the board's forecast strip, ``taian stats --json``) read from two
    indexes of the open appeals that hold everything the sweep's rule reads of an appeal
    (its Day N, deadline, unit and card), by Day N and by deadline, instead of looking up
    every appeal whose threshold falls in the next five working days (on a million appeals,
    260,000 rows: about 1 s -> 0.2 s). ``appeals_open_blue`` (Day N alone, same rows) is
    widened into the first."""
    _run(db, """
DROP INDEX IF EXISTS appeals_open_blue;
CREATE INDEX appeals_open_blue ON appeals(blue_at, deadline, unit_code, card) WHERE state IN ('assigned','accepted');
CREATE INDEX appeals_open_deadline ON appeals(deadline, blue_at, unit_code, card) WHERE state IN ('assigned','accepted')
""")


@migrations(name="0015_red_card_and_due_order_indexes")
def _red_card_and_due_order_indexes(db: Database) -> None:
    """The red cards' list reads its page, in its order (not yet taken up first, then by
    when the card was earned), and its count from an index of the red card events alone,
    instead of reading and sorting every card event (after a catch-up sweep on a million
    appeals, 120,000 red among 480,000 events: 0.4 s -> a few ms; the card is in the index
    so that the count reads nothing else). The open supervision orders by due day also
    hold the appeal, the origin and the state, which is all that the cards ahead and the
    sweep read of an order due in a window: the index alone is read, not each order's row
    (160,000 orders due within the week: 56 -> 15 ms)."""
    _run(db, """
CREATE INDEX card_events_red ON card_events(taken_up_at IS NOT NULL, threshold_at, appeal_id, card) WHERE card = 'red';
DROP INDEX IF EXISTS orders_open_due;
CREATE INDEX orders_open_due ON supervision_orders(due_at, appeal_id, origin, state) WHERE state = 'open'
""")


@migrations(name="0016_search_marks_appeal_states")
def _search_marks_appeal_states(db: Database) -> None:
    """The search index marks each appeal's state with a word of its own
    (``search.STATE_WORDS``), changed by a trigger with the state: a search among some states
    (the inbox's 待办) intersects word lists inside the index instead of looking up every
    matching appeal's state (on a million appeals, the count of 环评 in the admin's 待办:
    136 -> about 15 ms). On a million appeals this migration rewrites every index row and
    merges the index (some 30 s)."""
    from taian_tui.domain.search import STATE_WORDS

    def word(state: str) -> str:
        cases = " ".join(f"WHEN '{s}' THEN {ord(w)}" for s, w in STATE_WORDS.items())
        return f"' ' || char(CASE {state} {cases} END)"
    db.execute(f"UPDATE appeal_search SET grams = grams || COALESCE("
               f"(SELECT {word('a.state')} FROM appeals a WHERE a.id = appeal_search.rowid), '')")
    # every row was rewritten (deleted and written again): merged into one segment, or every
    # search reads the old rows' segments and markers too (on a million appeals, a count of
    # 环评 in 待办 took 42 ms before the merge and 15 ms after)
    db.execute("INSERT INTO appeal_search(appeal_search) VALUES ('optimize')")
    # (one statement: _run would split the trigger's body at its semicolon)
    db.execute(f"""
CREATE TRIGGER appeal_search_state AFTER UPDATE OF state ON appeals WHEN OLD.state != NEW.state
BEGIN
  UPDATE appeal_search SET grams = replace(grams, {word('OLD.state')}, {word('NEW.state')})
  WHERE rowid = NEW.id;
END""")


@migrations(name="0017_card_events_by_colour_and_time")
def _card_events_by_colour_and_time(db: Database) -> None:
    """The cards raised in a period (the dashboard's, ``taian stats``) are counted from an
    index of the card events by colour and threshold, each colour's range of the period,
    instead of reading every card event ever raised (after a catch-up sweep on a million
    appeals, 360,000 events: 95 -> about 30 ms)."""
    _run(db, "CREATE INDEX card_events_card_threshold ON card_events(card, threshold_at)")


@migrations(name="0018_outbox_by_phone")
def _outbox_by_phone(db: Database) -> None:
    """The SMS sent to a phone, by when: ``notify send`` does not send a text that phone
    already got today (a card raised again after a restore, the same words queued twice)."""
    _run(db, "CREATE INDEX outbox_phone_sent ON outbox(phone, sent_at) WHERE status = 'sent'")

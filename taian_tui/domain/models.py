"""Plain dataclasses returned by the store and the domain (no textual, no sqlite rows)."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping, TypeVar

from taian_tui.domain import labels

T = TypeVar("T")

ROLES = ("admin", "liaison", "leader", "supervisor", "discipline", "editor")
UNIT_KINDS = ("county", "zone", "department", "supervision", "discipline", "platform")

# The appeal's states and which of them are on a unit's clock: see ``rules`` (the lifecycle
# table). Every code here has its words in ``labels``.
CATEGORIES = ("approval", "planning", "land", "energy", "environment", "infrastructure", "other")

CARDS = ("blue", "yellow", "red")

RATINGS = ("满意", "基本满意", "不满意")

PROJECT_CATEGORIES = ("新旧动能转换项目", "市重点建设项目", "省儒商大会签约项目",
                      "固定资产投资500万以上项目", "其他")
PROJECT_STAGES = ("前期", "在建", "竣工", "投产")
LIBRARY_LEVELS = ("applied", "city", "province", "rejected")

CONTENT_KINDS = ("policy", "investment", "department", "news")
CONTENT_LEVELS = ("中央", "省", "市", "县")
CONTENT_STATES = ("draft", "published", "archived")


def category_code(value: str) -> str:
    """Either spelling (``land`` or ``土地``) to the code; ValueError otherwise."""
    code = labels.code_of("category", value)
    if code is None:
        raise ValueError(f"unknown category {value!r}: use one of "
                         + ", ".join(f"{c}/{labels.label('category', c)}" for c in CATEGORIES))
    return code


def from_row(cls: type[T], row: Mapping[str, Any] | None) -> T | None:
    if row is None:
        return None
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    keys = row.keys() if hasattr(row, "keys") else row
    return cls(**{k: row[k] for k in keys if k in names})


@dataclass
class Unit:
    code: str
    name: str
    kind: str                 # county | zone | department | supervision | discipline
    head_name: str = ""
    head_mobile: str = ""


@dataclass
class User:
    username: str
    name: str
    role: str
    unit_code: str | None = None
    mobile: str = ""
    scope: str = "city"       # leaders: "city" or "unit"
    active: int = 1


@dataclass
class Enterprise:
    uscc: str
    name: str
    county: str
    industry: str = ""
    tags: str = ""            # comma-separated
    contact: str = ""
    phone: str = ""
    address: str = ""
    certified_at: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass
class Project:
    ref: str
    name: str
    enterprise_uscc: str
    county: str
    category: str
    investment_wan: float = 0.0
    planned_start: str | None = None
    planned_finish: str | None = None
    stage: str = "前期"
    library: str = "applied"
    library_reason: str = ""
    visualised: int = 0
    unit_code: str | None = None
    applied_at: str = ""
    percent: float = 0.0
    invested_wan: float = 0.0


@dataclass
class ProgressReport:
    id: int
    project_ref: str
    date: str
    percent: float
    invested_wan: float
    note: str
    reported_by: str
    created_at: str


@dataclass
class Appeal:
    id: int
    ref: str
    enterprise_uscc: str
    project_ref: str | None
    category: str
    county: str
    title: str
    body: str
    state: str
    unit_code: str | None
    submitted_at: str
    arrived_at: str | None = None
    blue_at: str | None = None
    deadline: str | None = None
    deadline_estimated: int = 0
    card: str = ""
    accepted_at: str | None = None
    answered_at: str | None = None
    reply: str = ""
    returned_at: str | None = None
    return_reason: str = ""
    rating: str | None = None
    rating_comment: str = ""
    evaluated_at: str | None = None
    closed_at: str | None = None
    close_note: str = ""


@dataclass
class Extension:
    id: int
    appeal_id: int
    requested_by: str
    requested_at: str
    days: int
    reason: str
    state: str                 # pending | approved | rejected
    decided_by: str | None = None
    decided_at: str | None = None
    decision_note: str = ""
    old_deadline: str | None = None
    new_deadline: str | None = None


@dataclass
class SupervisionOrder:
    id: int
    appeal_id: int
    origin: str                # yellow | dispute | manual
    opened_at: str
    opened_by: str
    due_at: str
    note: str = ""
    state: str = "open"        # open | closed
    closed_at: str | None = None


@dataclass
class CardEvent:
    id: int
    appeal_id: int
    card: str
    previous: str
    threshold_at: str
    applied_at: str
    taken_up_by: str | None = None
    taken_up_at: str | None = None
    taken_up_note: str = ""


@dataclass
class Instruction:
    id: int
    leader: str
    target_user: str
    project_ref: str | None
    appeal_ref: str | None
    text: str
    created_at: str
    acknowledged_at: str | None = None
    reply: str = ""
    replied_at: str | None = None


@dataclass
class Content:
    id: int
    kind: str
    level: str
    title: str
    body: str
    source_unit: str = ""
    tags: str = ""
    state: str = "draft"
    created_by: str = ""
    created_at: str = ""
    updated_at: str = ""
    published_at: str | None = None
    archived_at: str | None = None
    revision: int = 1                    # how many texts were published (1: the first)
    revised_at: str | None = None        # when the text now published was published


#: The fields of a content item that an editor writes (a draft's, or a revision's).
CONTENT_FIELDS = ("title", "kind", "level", "body", "source_unit", "tags")


@dataclass
class Notification:
    id: int
    recipient: str
    phone: str
    text: str
    reason: str
    status: str                # queued | sending | sent | failed | unknown
    attempts: int
    created_at: str
    next_attempt_at: str | None = None
    last_error: str = ""
    sent_at: str | None = None
    entity: str = ""


@dataclass
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str
    after: str
    prev_hash: str
    hash: str
    os_user: str = ""
    key_fingerprint: str = ""
    client: str = ""

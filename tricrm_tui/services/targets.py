"""Who a plan or care rule is for: ``tier:high``, ``segment:at_risk``, ``lifecycle:new``,
``level:gold``, ``all``, or any expression of the customer filter language.

The simple forms read the indexed classification columns directly; anything else goes to
:func:`tricrm_tui.services.filters.customer_filter`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tricrm_tui.models import Customer
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.filters import SegmentResolver, customer_filter
from tricrm_tui.services.normalize import clean_text

C = Customer.__table__.c

TARGET_COLUMNS = {
    "tier": C.value_tier,
    "segment": C.rfm_segment,
    "rfm_segment": C.rfm_segment,
    "lifecycle": C.lifecycle,
    "level": C.member_level,
}


def split_target(target: str) -> tuple[str, str]:
    """``tier:high`` → (``tier``, ``high``); ``all``/empty → (``all``, ``""``); else a filter."""
    text = clean_text(target)
    if text.lower() in ("", "all", "*"):
        return "all", ""
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if sep and kind in TARGET_COLUMNS and value.strip() and " " not in value.strip():
        return ("segment" if kind == "rfm_segment" else kind), value.strip()
    return "filter", text


def join_target(kind: str, value: str) -> str:
    if kind == "all":
        return "all"
    return value if kind == "filter" else f"{kind}:{value}"


def target_condition(
    kind: str, value: str, *, today: dt.date, resolve: SegmentResolver
) -> sa.ColumnElement[bool]:
    """Active customers the target names, as a WHERE condition over ``customers``.

    ``resolve`` reads ``saved:NAME`` terms (:func:`~tricrm_tui.services.segments.segment_resolver`)."""
    if kind == "all":
        return active_condition()
    if kind in TARGET_COLUMNS:
        return sa.and_(active_condition(), TARGET_COLUMNS[kind] == value)
    return sa.and_(active_condition(), customer_filter(value, today=today, resolve=resolve))


def check_target(target: str, *, today: dt.date, resolve: SegmentResolver) -> tuple[str, str]:
    """Validate a target now (a typo should fail when the rule is saved, not when it runs)."""
    kind, value = split_target(target)
    target_condition(kind, value, today=today, resolve=resolve)
    return kind, value

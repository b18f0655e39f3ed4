"""Shared helpers for the interaction tests: a settable clock, UTC local time, raw updates."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from tricrm_tui.models import Customer


class Clock:
    """A clock the test moves by hand (the services read ``ctx.now()``)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, day: str, hhmm: str = "08:00") -> None:
        self.now = dt.datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


@pytest.fixture
def utc_local(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Local time is UTC, so "today" and 09:00 are the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def clock(ctx, utc_local):  # type: ignore[no-untyped-def]
    c = Clock(dt.datetime(2026, 3, 15, 8, 0, tzinfo=dt.UTC))
    ctx.clock = c
    return c


def set_customer(ctx, code: str, **values) -> None:  # type: ignore[no-untyped-def]
    """Classification columns (tier, segment…) that other services normally maintain."""
    C = Customer.__table__.c  # noqa: N806
    with ctx.transaction() as s:
        s.execute(sa.update(Customer.__table__).where(C.code == code).values(**values))

"""Column types shared by every table.

Money is ``Numeric(14, 2)`` read back as :class:`decimal.Decimal`: never a float, so a sum of
a million order amounts is exact on SQLite and PostgreSQL alike.

Personal data (phone, email, birthday, address, notes) is declared with the ``Personal*``
types below. They are the one place personal values cross between Python and the database,
so encrypting them at rest later means giving :data:`FIELD_CIPHER` a real cipher here and
nothing else in the code base.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

MONEY = sa.Numeric(14, 2, asdecimal=True)
"""Amounts in the currency's major unit, two decimals (¥1,234.50)."""

MONEY_TOTAL = sa.Numeric(20, 2, asdecimal=True).with_variant(
    sa.Numeric(14, 2, asdecimal=True), "sqlite"
)
"""Sums of amounts (a customer's spend, its lifetime value): one order may hold up to
999,999,999,999.99, so a customer's total needs more digits than :data:`MONEY` on
PostgreSQL, which refused the second such order's total and left the import unfinished.
SQLite keeps any number of digits whatever a column declares, so its declaration stays
(changing it would rebuild the customers table)."""

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
"""JSON on SQLite, JSONB on PostgreSQL (indexable, compact)."""


class FieldCipher(Protocol):
    """What an at-rest cipher for personal fields must offer."""

    def encrypt(self, plain: str) -> str: ...

    def decrypt(self, stored: str) -> str: ...


class _Identity:
    def encrypt(self, plain: str) -> str:
        return plain

    def decrypt(self, stored: str) -> str:
        return stored


FIELD_CIPHER: FieldCipher = _Identity()
"""The cipher personal fields pass through. Identity until encryption at rest is switched on."""


class PersonalText(TypeDecorator[str]):
    """A personal text field (phone, email, address, notes)."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else FIELD_CIPHER.encrypt(str(value))

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else FIELD_CIPHER.decrypt(value)


class PersonalDate(TypeDecorator[dt.date]):
    """A personal date (birthday). Stored as a date until encryption needs text."""

    impl = sa.Date
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> dt.date | None:
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.date | None:
        return value


def utcnow() -> dt.datetime:
    """Aware UTC now. Every stored datetime is timezone-aware UTC (SQLModel's ``UTCDateTime``:
    ``timestamptz`` on PostgreSQL, UTC text on SQLite); the faces show local time."""
    return dt.datetime.now(dt.UTC)


def money(value: Any) -> Decimal:
    """Coerce to an exact two-decimal amount (ints, strings and Decimals; floats refused)."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(Decimal("0.01"))

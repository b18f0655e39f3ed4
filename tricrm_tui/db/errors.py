"""Database failures turned into errors a person can act on (one line, no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc


class DatabaseError(Exception):
    """Base for database problems the faces show as one line."""

    exit_code = 6


class DatabaseUnavailable(DatabaseError):
    pass


class SchemaTooNew(DatabaseError):
    pass


@contextmanager
def translate_db_errors(where: str) -> Iterator[None]:
    try:
        yield
    except sqlalchemy.exc.OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot use database {where}: {detail}") from exc
    except sqlalchemy.exc.InterfaceError as exc:
        raise DatabaseUnavailable(f"cannot use database {where}: {exc.orig}") from exc

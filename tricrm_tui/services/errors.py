"""Errors the service layer raises for the faces to show as one clear line.

Each carries the process exit code the CLI uses (documented in the README):
1 general, 2 usage, 3 not found, 4 invalid input, 5 conflict, 6 database, 7 permission.
"""

from __future__ import annotations

from tricrm_tui.db.errors import DatabaseError, DatabaseUnavailable, SchemaTooNew


class TricrmError(Exception):
    exit_code = 1


class NotFound(TricrmError):
    exit_code = 3


class InvalidInput(TricrmError):
    """Bad input, naming the field (and the row, for files) and the reason."""

    exit_code = 4

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid_value"):
        super().__init__(message)
        self.field = field
        self.code = code


def cannot_write(path: object, error: OSError | str, field: str) -> InvalidInput:
    """The one message for a file the operator named that cannot be written (a folder not
    there or not theirs, a full disk): exports, rejects files and campaign lists."""
    from tricrm_tui.i18n import _

    reason = error if isinstance(error, str) else (error.strerror or str(error))
    return InvalidInput(
        _("cannot write {file}: {reason}").format(file=path, reason=reason), field=field
    )


class Conflict(TricrmError):
    """Someone else changed the record since it was read (optimistic locking)."""

    exit_code = 5

    def __init__(self, message: str, changes: dict[str, tuple[object, object]] | None = None):
        super().__init__(message)
        self.changes = changes or {}


class PermissionDenied(TricrmError):
    exit_code = 7


class Stopped(TricrmError):
    """Long work (an import, an export) stopped because its operator asked, between two of
    its steps: what it had committed stays, what it was writing is not kept."""


__all__ = [
    "Conflict",
    "DatabaseError",
    "DatabaseUnavailable",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "SchemaTooNew",
    "Stopped",
    "TricrmError",
    "cannot_write",
]

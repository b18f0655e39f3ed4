"""The data layer: engine and sessions, migrations, backend-specific search."""

from tricrm_tui.db.engine import Database, open_database

__all__ = ["Database", "open_database"]

"""Turning ``--db URL_OR_PATH`` into an SQLAlchemy URL.

Precedence, the same for every command: the ``--db`` option, then ``TRICRM_DB``, then
``tricrm.db`` in the user data directory. A plain path means SQLite.
"""

from __future__ import annotations

import os
from pathlib import Path

from tricrm_tui.locations import default_db_path


def resolve_db_url(value: str | None = None) -> str:
    raw = value or os.environ.get("TRICRM_DB") or str(default_db_path())
    if "://" in raw:
        if raw.startswith("postgresql://") or raw.startswith("postgres://"):
            # psycopg 3 is the driver we ship; accept the short spelling people paste.
            raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
        return raw
    path = Path(raw).expanduser()
    return f"sqlite:///{path}"


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

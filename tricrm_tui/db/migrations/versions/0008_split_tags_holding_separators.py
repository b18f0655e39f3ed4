"""Tags holding a character that separates tags in files are split into their parts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 01:00:00

Before, ``customers tag C1 'c,d'`` stored one tag ``c,d``; an export wrote it as it was and
the import, which splits a tags cell on , ; ， ； 、 and |, read it back as ``c`` and ``d``
beside ``c,d``. Tags may no longer hold those characters, and the ones stored are split
here, so every customer's tags export and import back as they are.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEPARATORS = re.compile(r"[,;，；、|]")


def _parts(tag: str) -> list[str]:
    """As the tag service cleans a tag: NFC, whitespace runs folded, ends trimmed."""
    out = []
    for part in SEPARATORS.split(tag):
        text = " ".join(unicodedata.normalize("NFC", part).split())
        if text:
            out.append(text[:64])
    return out


def upgrade() -> None:
    bind = op.get_bind()
    tags = sa.table("customer_tags", sa.column("customer_id"), sa.column("tag"))
    held = sa.or_(*(tags.c.tag.contains(ch) for ch in ",;，；、|"))
    rows = bind.execute(sa.select(tags.c.customer_id, tags.c.tag).where(held)).all()
    for customer_id, tag in rows:
        have = set(
            bind.execute(sa.select(tags.c.tag).where(tags.c.customer_id == customer_id)).scalars()
        )
        bind.execute(sa.delete(tags).where(tags.c.customer_id == customer_id, tags.c.tag == tag))
        have.discard(tag)
        for part in _parts(tag):
            if part not in have:
                bind.execute(sa.insert(tags).values(customer_id=customer_id, tag=part))
                have.add(part)


def downgrade() -> None:
    """The parts stay: which of them came from one tag is not kept."""

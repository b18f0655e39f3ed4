"""Rows of figures for the output helpers: percentages and means print as plain numbers.

``cli.output.cell`` shows every Decimal as money, which suits amounts; rates such as
CSAT 66.7 or a response rate of 12.5 must not read "¥66.70".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def as_numbers(record: Any, *, money: Sequence[str] = ()) -> dict[str, Any]:
    """A dataclass as a dict whose Decimals print as plain numbers, except the ``money`` keys."""
    is_instance = dataclasses.is_dataclass(record) and not isinstance(record, type)
    data = dataclasses.asdict(record) if is_instance else dict(record)
    return {k: str(v) if isinstance(v, Decimal) and k not in money else v for k, v in data.items()}

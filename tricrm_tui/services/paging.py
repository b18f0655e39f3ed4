"""One page of a list: what every list service returns, with the total for "41–90 of 100,000"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE = 1000
"""No list fetches more rows than this at once (the faces page beyond it)."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    total_capped: bool = False
    """True when counting stopped at ``total``: there are at least that many ("1,000+").
    A search as you type needs the page, not the exact size of a vague match."""

    @property
    def has_more(self) -> bool:
        if self.total_capped and len(self.items) == self.limit:
            return True
        return self.offset + len(self.items) < self.total


def clamp_limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_PAGE))

"""The loyalty rules as plain data and pure functions: configuration, points per order, lots.

Kept apart from the database code so every rule can be read (and tested) on its own:

* **Points per order** = ``amount × points_per_unit × category multiplier × level multiplier
  × birthday multiplier``, computed exactly in :class:`~decimal.Decimal` and rounded **down**
  to whole points once, at the end (never per factor, so ¥99.99 at 1 point/¥ earns 99, not
  100, and multipliers never compound rounding errors). Orders with an amount ≤ 0 earn 0.
* **Lots.** Every positive ledger entry (an ``earn`` or a positive ``adjust``) opens a lot that
  expires on its ``expires_on`` (``expiry_months`` calendar months after the order date or the
  adjustment, clamped to the month's last day; ``expiry_months = 0`` means points never
  expire). Replaying the ledger in append order (``id``), every debit that is not an expiry
  (``redeem``, negative ``adjust``) consumes the open lots **soonest-expiring first** (ties and
  never-expiring lots by id, never-expiring last); an ``expire`` entry takes exactly the
  remainder of the one lot it names. The remainders therefore always add up to the balance.
* **Levels** are reached by activity in a rolling window (see :func:`target_level`).

Configuration: :data:`DEFAULTS`, overridden by ``loyalty.toml`` in the config folder.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput


@dataclass(frozen=True)
class LevelRule:
    """A member level: reached when *either* window threshold above zero is met.

    The lowest level (rank 0) is everyone's floor and needs nothing.
    """

    name: str
    rank: int
    min_points: int = 0
    min_spend: Decimal = Decimal("0")
    multiplier: Decimal = Decimal("1")

    def reached_by(self, points: int, spend: Decimal) -> bool:
        if self.min_points <= 0 and self.min_spend <= 0:
            return True
        return (self.min_points > 0 and points >= self.min_points) or (
            self.min_spend > 0 and spend >= self.min_spend
        )


DEFAULT_LEVELS: tuple[LevelRule, ...] = (
    LevelRule("普通", 0, 0, Decimal("0"), Decimal("1")),
    LevelRule("银卡", 1, 1000, Decimal("1000"), Decimal("1.1")),
    LevelRule("金卡", 2, 5000, Decimal("5000"), Decimal("1.25")),
    LevelRule("钻石", 3, 20000, Decimal("20000"), Decimal("1.5")),
)


@dataclass(frozen=True)
class LoyaltyConfig:
    points_per_unit: Decimal = Decimal("1")
    """Points per unit of order currency (1 = one point per ¥1)."""
    category_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    """Category name → multiplier (categories not listed: 1)."""
    birthday_multiplier: Decimal = Decimal("2")
    """Applied to orders placed in the customer's birthday month."""
    expiry_months: int = 24
    """Earned points expire this many calendar months after they were earned (0: never)."""
    window_months: int = 12
    """Level review looks at points earned and spend in this many months up to the run date."""
    hold_months: int = 12
    """A level, once reached, is kept at least this long before a review may lower it."""
    excluded_statuses: tuple[str, ...] = ("cancelled", "refunded")
    """Orders in these statuses earn nothing and count for no spend."""
    levels: tuple[LevelRule, ...] = DEFAULT_LEVELS


DEFAULTS = LoyaltyConfig()


def _decimal(value: Any, key: str) -> Decimal:
    try:
        out = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001  (any unparsable value is the same input error)
        raise InvalidInput(
            _("loyalty.toml: {key} must be a number").format(key=key), field=key
        ) from exc
    if not out.is_finite() or out < 0:
        raise InvalidInput(_("loyalty.toml: {key} must be a number ≥ 0").format(key=key), field=key)
    return out


def config_from_mapping(data: Mapping[str, Any], base: LoyaltyConfig = DEFAULTS) -> LoyaltyConfig:
    """Defaults overridden by the keys present (the shape of ``loyalty.toml``)."""
    values: dict[str, Any] = {}
    for key in ("points_per_unit", "birthday_multiplier"):
        if key in data:
            values[key] = _decimal(data[key], key)
    for key in ("expiry_months", "window_months", "hold_months"):
        if key in data:
            n = data[key]
            if not isinstance(n, int) or n < 0:
                raise InvalidInput(
                    _("loyalty.toml: {key} must be a whole number ≥ 0").format(key=key), field=key
                )
            values[key] = n
    if "category_multipliers" in data:
        values["category_multipliers"] = {
            str(k): _decimal(v, f"category_multipliers.{k}")
            for k, v in dict(data["category_multipliers"]).items()
        }
    if "excluded_statuses" in data:
        values["excluded_statuses"] = tuple(str(s) for s in data["excluded_statuses"])
    if "levels" in data:
        levels = []
        for i, item in enumerate(data["levels"]):
            levels.append(
                LevelRule(
                    name=str(item["name"]),
                    rank=int(item.get("rank", i)),
                    min_points=int(item.get("min_points", 0)),
                    min_spend=_decimal(item.get("min_spend", 0), "levels.min_spend"),
                    multiplier=_decimal(item.get("multiplier", 1), "levels.multiplier"),
                )
            )
        if not levels:
            raise InvalidInput(_("loyalty.toml: levels must not be empty"), field="levels")
        values["levels"] = tuple(sorted(levels, key=lambda lv: lv.rank))
    return LoyaltyConfig(**{**base.__dict__, **values})


def load_config(folder: Path | None = None) -> LoyaltyConfig:
    """:data:`DEFAULTS` overridden by ``loyalty.toml`` in the config folder, when present."""
    if folder is None:
        from tricrm_tui.locations import config_dir

        folder = config_dir()
    path = folder / "loyalty.toml"
    if not path.is_file():
        return DEFAULTS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            _("{path}: not valid TOML: {error}").format(path=path, error=exc), field="loyalty.toml"
        ) from exc
    return config_from_mapping(data)


@functools.lru_cache(maxsize=8192)
def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb).

    Cached: a run over a million orders asks for the same few hundred dates again and again.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def expiry_for(day: dt.date, config: LoyaltyConfig) -> dt.date | None:
    return add_months(day, config.expiry_months) if config.expiry_months > 0 else None


def order_points(
    amount: Decimal,
    config: LoyaltyConfig,
    *,
    category: str | None = None,
    level_multiplier: Decimal = Decimal("1"),
    birthday_month: bool = False,
) -> int:
    """Whole points one order earns (see the module docstring for the formula and rounding)."""
    if amount <= 0:
        return 0
    value = amount * config.points_per_unit * level_multiplier
    if category is not None:
        value *= config.category_multipliers.get(category, Decimal("1"))
    if birthday_month:
        value *= config.birthday_multiplier
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


@dataclass
class Lot:
    id: int
    points: int
    expires_on: dt.date | None
    remaining: int


@dataclass(frozen=True)
class Entry:
    """What the lot replay needs of a ledger entry."""

    id: int
    kind: str
    points: int
    source_key: str
    expires_on: dt.date | None


def expired_lot_id(source_key: str) -> int:
    """The lot an ``expire:<lot id>:<date>`` key names."""
    return int(source_key.split(":")[1])


def _fifo_key(lot: Lot) -> tuple[int, dt.date, int]:
    return (lot.expires_on is None, lot.expires_on or dt.date.max, lot.id)


def replay_lots(entries: Iterable[Entry]) -> list[Lot]:
    """The lots of one customer with their remainders, from the ledger in ``id`` order.

    A debit the open lots cannot cover, or an expiry larger than what its lot has left, is
    carried as a debt that the next lots pay first. A ledger written by tricrm's guarded
    debits never has one; a ledger split by an unmerge can: on the merged ledger a debit
    drew on the other customer's lot. Carried, the lots' remainders still add up to the
    balance, so no run expires points the customer no longer has."""
    lots: dict[int, Lot] = {}
    debt = 0
    for e in entries:
        if e.points > 0 and e.kind in ("earn", "adjust"):
            paid = min(debt, e.points)
            debt -= paid
            lots[e.id] = Lot(e.id, e.points, e.expires_on, e.points - paid)
        elif e.kind == "expire":
            lot = lots.get(expired_lot_id(e.source_key))
            if lot is None:
                debt -= e.points  # its lot is another customer's now
                continue
            lot.remaining += e.points  # e.points is negative
            if lot.remaining < 0:
                debt, lot.remaining = debt - lot.remaining, 0
        elif e.points < 0:
            due = -e.points
            for lot in sorted((lot for lot in lots.values() if lot.remaining > 0), key=_fifo_key):
                take = min(due, lot.remaining)
                lot.remaining -= take
                due -= take
                if due == 0:
                    break
            debt += due
    return sorted(lots.values(), key=lambda lot: lot.id)


def target_level(levels: tuple[LevelRule, ...], points: int, spend: Decimal) -> LevelRule:
    """The highest level the window's earned points or spend reach."""
    best = levels[0]
    for level in levels:
        if level.reached_by(points, spend):
            best = level
    return best

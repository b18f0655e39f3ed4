"""Settings of the value dimension: defaults here, overridden by ``value.toml``.

The file lives in :func:`tricrm_tui.locations.config_dir` (``TRICRM_CONFIG_DIR`` in tests).
Every key is optional; see ``docs/VALUE.md`` for the meaning of each. Example::

    time_unit = "weeks"          # model clock: "days" or "weeks"
    horizon_months = 12          # CLV horizon
    discount_rate = 0.01         # per month
    expected_days = 90           # "expected purchases in the next N days"

    [tiers]
    high_share = 0.20            # customers making the top 20% of value
    medium_share = 0.30          # … and the next 30%
    names = { high = "高价值", medium = "中价值", low = "低价值" }

    [lifecycle]
    at_risk_factor = 2.0         # gap > usual interval × 2 → at risk
    churn_factor = 4.0           # gap > usual interval × 4 → churned
    at_risk_p_alive = 0.5
    churn_p_alive = 0.15

    [rfm]
    method = "quintile"          # or "fixed" with the thresholds below
    recency_days = [30, 90, 180, 365]
    frequency = [2, 3, 5, 8]
    monetary = [100, 500, 2000, 10000]

    [rfm.segments]               # replaces the R×F map (R digit first, then F)
    "Champions" = ["54", "55"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from typing import Any

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.services.errors import InvalidInput

PROSPECT = N_("Prospect")
"""The segment of customers with no order as of the date (not scored: nothing to score)."""

# The R×F grid (R first): the widely used map of the 5×5 recency × frequency scores to
# segment names, as in the RFM segmentation of the R package ``rfm`` (rsquaredacademy/rfm,
# R/rfm-segment.R) and the "R×F" segment map copied across RFM tutorials:
# [1-2][1-2] Hibernating, [1-2][3-4] At Risk, [1-2]5 Can't Lose Them, 3[1-2] About to Sleep,
# 33 Need Attention, [3-4][4-5] Loyal Customers, 41 Promising, 51 New Customers,
# [4-5][2-3] Potential Loyalists, 5[4-5] Champions. ``rfm``'s "Lost" (lowest recency and
# frequency) is carved out of the hibernating corner: R = 1 with F ≤ 2.
DEFAULT_SEGMENTS: dict[str, tuple[str, ...]] = {
    N_("Champions"): ("54", "55"),
    N_("Loyal Customers"): ("34", "35", "44", "45"),
    N_("Potential Loyalists"): ("42", "43", "52", "53"),
    N_("New Customers"): ("51",),
    N_("Promising"): ("41",),
    N_("Need Attention"): ("33",),
    N_("About to Sleep"): ("31", "32"),
    N_("At Risk"): ("13", "14", "23", "24"),
    N_("Can't Lose Them"): ("15", "25"),
    N_("Hibernating"): ("21", "22"),
    N_("Lost"): ("11", "12"),
}

TIERS = ("high", "medium", "low")
DEFAULT_TIER_NAMES = {
    "high": N_("high value"),
    "medium": N_("medium value"),
    "low": N_("low value"),
}

LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "churned", "won_back")
LIFECYCLE_NAMES = {
    "prospect": N_("prospect"),
    "new": N_("new"),
    "active": N_("active"),
    "at_risk": N_("at risk"),
    "churned": N_("churned"),
    "won_back": N_("won back"),
}

TIME_UNITS = {"days": 1.0, "weeks": 7.0}
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class RfmSettings:
    method: str = "quintile"
    recency_days: tuple[float, ...] = (30, 90, 180, 365)
    frequency: tuple[float, ...] = (2, 3, 5, 8)
    monetary: tuple[float, ...] = (100, 500, 2000, 10000)
    segments: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SEGMENTS))


@dataclass(frozen=True)
class LifecycleSettings:
    at_risk_factor: float = 2.0
    churn_factor: float = 4.0
    at_risk_p_alive: float = 0.5
    churn_p_alive: float = 0.15
    default_interval_days: float | None = None
    """Rhythm of one-time buyers; ``None``: the median interval of the base's repeat buyers."""


@dataclass(frozen=True)
class ValueSettings:
    time_unit: str = "weeks"
    horizon_months: int = 12
    discount_rate: float = 0.01
    expected_days: int = 90
    high_share: float = 0.20
    medium_share: float = 0.30
    tier_names: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TIER_NAMES))
    rfm: RfmSettings = field(default_factory=RfmSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)

    @property
    def unit_days(self) -> float:
        return TIME_UNITS[self.time_unit]

    def tier_name(self, key: str | None) -> str:
        if key is None:
            return ""
        return _(self.tier_names.get(key, key))


def _bad(key: str, why: str) -> InvalidInput:
    return InvalidInput(
        _("value.toml: {key}: {why}").format(key=key, why=why), field=key, code="config"
    )


def _thresholds(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != 4:
        raise _bad(key, _("give four ascending numbers"))
    nums = tuple(float(v) for v in value)
    if list(nums) != sorted(nums):
        raise _bad(key, _("give four ascending numbers"))
    return nums


def _segments(value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _bad("rfm.segments", _("a table of name = [cells]"))
    out: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for name, cells in value.items():
        for c in cells:
            if len(c) != 2 or not all(ch in "12345" for ch in c) or c in seen:
                raise _bad("rfm.segments", _("bad or repeated cell {cell}").format(cell=c))
            seen.add(c)
        out[str(name)] = tuple(cells)
    if len(seen) != 25:
        raise _bad("rfm.segments", _("every one of the 25 R×F cells needs a segment"))
    return out


def settings_from_mapping(data: dict[str, Any]) -> ValueSettings:
    """Checked settings from a parsed ``value.toml``; unknown keys are refused."""
    s = ValueSettings()
    top: dict[str, Any] = {}
    for key, value in data.items():
        if key == "time_unit":
            if value not in TIME_UNITS:
                raise _bad(key, _("days or weeks"))
            top[key] = value
        elif key in ("horizon_months", "expected_days"):
            if int(value) < 1:
                raise _bad(key, _("a positive whole number"))
            top[key] = int(value)
        elif key == "discount_rate":
            if not 0 <= float(value) < 1:
                raise _bad(key, _("a rate between 0 and 1 per month"))
            top[key] = float(value)
        elif key == "tiers":
            high = float(value.get("high_share", s.high_share))
            medium = float(value.get("medium_share", s.medium_share))
            if not (high > 0 and medium >= 0 and high + medium <= 1):
                raise _bad("tiers", _("shares must be positive and add up to at most 1"))
            names = dict(s.tier_names)
            names.update({k: str(v) for k, v in value.get("names", {}).items() if k in TIERS})
            top.update(high_share=high, medium_share=medium, tier_names=names)
        elif key == "lifecycle":
            known = LifecycleSettings.__dataclass_fields__
            extra = set(value) - set(known)
            if extra:
                raise _bad("lifecycle", _("unknown keys {keys}").format(keys=sorted(extra)))
            changes: dict[str, Any] = {k: None if v is None else float(v) for k, v in value.items()}
            life = replace(s.lifecycle, **changes)
            if life.churn_factor < life.at_risk_factor or life.churn_p_alive > life.at_risk_p_alive:
                raise _bad("lifecycle", _("churn thresholds must be beyond the at-risk ones"))
            top["lifecycle"] = life
        elif key == "rfm":
            rfm = s.rfm
            if "method" in value:
                if value["method"] not in ("quintile", "fixed"):
                    raise _bad("rfm.method", _("quintile or fixed"))
                rfm = replace(rfm, method=value["method"])
            cuts: dict[str, Any] = {
                name: _thresholds(f"rfm.{name}", value[name])
                for name in ("recency_days", "frequency", "monetary")
                if name in value
            }
            rfm = replace(rfm, **cuts)
            if "segments" in value:
                rfm = replace(rfm, segments=_segments(value["segments"]))
            top["rfm"] = rfm
        else:
            raise _bad(key, _("unknown setting"))
    return replace(s, **top)


def load_settings() -> ValueSettings:
    """Defaults, overridden by ``value.toml`` in the config folder when it exists."""
    from tricrm_tui.locations import config_dir

    path = config_dir() / "value.toml"
    if not path.is_file():
        return ValueSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            _("{path}: not valid TOML: {error}").format(path=path, error=exc), code="config"
        ) from exc
    return settings_from_mapping(data)

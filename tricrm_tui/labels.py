"""Display names of fields and coded values, shared by the CLI and the TUI.

The English text is the gettext msgid; ``N_`` marks it for the catalog check without
translating at import time, and :func:`field_label` translates when shown.
"""

from __future__ import annotations

from tricrm_tui.i18n import _


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name)
    return message


FIELD_LABELS = {
    "code": N_("Code"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "industry": N_("Industry"),
    "size": N_("Size"),
    "size_text": N_("Size as given"),
    "province": N_("Province"),
    "city": N_("City"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "email": N_("Email"),
    "birthday": N_("Birthday"),
    "registered": N_("Registered"),
    "source": N_("Source"),
    "owner": N_("Owner"),
    "tags": N_("Tags"),
    "notes": N_("Notes"),
    "custom_fields": N_("Custom fields"),
    "consent": N_("Consent"),
    "region": N_("Region"),
    "frequency_band": N_("Purchase frequency"),
    "favourite_category": N_("Favourite category"),
    "preferred_channel": N_("Preferred channel"),
    "aov_band": N_("Order value band"),
    "order_count": N_("Orders"),
    "total_spent": N_("Total spent"),
    "first_order": N_("First order"),
    "last_order": N_("Last order"),
    "rfm_segment": N_("RFM segment"),
    "value_tier": N_("Value tier"),
    "lifecycle": N_("Lifecycle"),
    "member_level": N_("Member level"),
    "points": N_("Points"),
    "merged_into": N_("Merged into"),
    "created_at": N_("Created"),
    "updated_at": N_("Updated"),
    "version": N_("Version"),
}

VALUE_LABELS = {
    "individual": N_("individual"),
    "enterprise": N_("enterprise"),
}


SIZE_BAND_LABELS = {
    "micro": N_("micro business"),
    "small": N_("small business"),
    "medium": N_("medium business"),
    "large": N_("large business"),
}
"""The enterprise size bands of the shipped ``classify.toml``. Bands an operator names in
their own ``classify.toml`` are shown as written."""


FREQUENCY_BAND_LABELS = {
    "no_orders": N_("no orders"),
    "one_time": N_("one-time buyer"),
    "occasional": N_("occasional buyer"),
    "regular": N_("regular buyer"),
    "frequent": N_("frequent buyer"),
}
"""Purchase-frequency bands: the two fixed ones and those of the shipped ``classify.toml``."""

AOV_BAND_LABELS = {
    "low": N_("low order value"),
    "medium": N_("medium order value"),
    "high": N_("high order value"),
    "premium": N_("premium order value"),
}
"""Average-order-value bands of the shipped ``classify.toml``. As with size bands, bands an
operator names in their own ``classify.toml`` are shown as written, and the stored name is
what filters match and JSON/CSV carry."""


def field_label(key: str) -> str:
    return _(FIELD_LABELS.get(key, key))


def value_label(value: str | None) -> str:
    if value is None:
        return ""
    msgid = VALUE_LABELS.get(value)
    return _(msgid) if msgid else value


def size_label(band: str | None) -> str:
    """An enterprise size band (or ``individual``) in the operator's language."""
    if band is None:
        return ""
    msgid = SIZE_BAND_LABELS.get(band)
    return _(msgid) if msgid else value_label(band)


def _band_label(labels: dict[str, str], band: str | None) -> str:
    if band is None:
        return ""
    msgid = labels.get(band)
    return _(msgid) if msgid else band


def frequency_label(band: str | None) -> str:
    """A purchase-frequency band in the operator's language."""
    return _band_label(FREQUENCY_BAND_LABELS, band)


def aov_label(band: str | None) -> str:
    """An average-order-value band in the operator's language."""
    return _band_label(AOV_BAND_LABELS, band)


BAND_LABELLERS = {
    "size": size_label,
    "behaviour": frequency_label,
    "aov": aov_label,
}
"""Breakdown groupings (``report breakdown --by``) whose stored names have display names."""

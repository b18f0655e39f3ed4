"""Where every screen is reached from: number keys, palette entries and customer-detail tabs.

One place wires the feature screens into the app, so a screen module stays self-contained
(it knows nothing of the keys that open it) and the keymap is visible at a glance. Number
keys are used because every terminal and tmux passes them through, and screens keep letters
for their own actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from tricrm_tui.labels import N_

ScreenFactory = Callable[[], Screen[Any]]


def _customers() -> Screen[Any]:
    from tricrm_tui.tui.screens.customer_list import CustomerListScreen

    return CustomerListScreen()


def _today() -> Screen[Any]:
    from tricrm_tui.tui.screens.today import TodayScreen

    return TodayScreen()


def _import() -> Screen[Any]:
    from tricrm_tui.tui.screens.import_screen import ImportScreen

    return ImportScreen()


def _value() -> Screen[Any]:
    from tricrm_tui.tui.screens.value import ValueScreen

    return ValueScreen()


def _duplicates() -> Screen[Any]:
    from tricrm_tui.tui.screens.duplicates import DuplicatesScreen

    return DuplicatesScreen()


def _campaigns() -> Screen[Any]:
    from tricrm_tui.tui.screens.campaigns import CampaignsScreen

    return CampaignsScreen()


def _complaints() -> Screen[Any]:
    from tricrm_tui.tui.screens.complaints import ComplaintsScreen

    return ComplaintsScreen()


def _dashboard() -> Screen[Any]:
    from tricrm_tui.tui.screens.dashboard import DashboardScreen

    return DashboardScreen()


# (key, binding id, title msgid, help msgid, factory); the order is the order on the keys.
SCREENS: list[tuple[str, str, str, str, ScreenFactory]] = [
    ("1", "nav.customers", N_("Customers"), N_("Open the customer list"), _customers),
    ("2", "nav.today", N_("Today"), N_("Follow-ups and complaints due"), _today),
    ("3", "nav.value", N_("Value"), N_("RFM grid, segments, tiers and customers at risk"), _value),
    ("4", "nav.duplicates", N_("Duplicates"), N_("Review probable duplicates"), _duplicates),
    ("5", "nav.import", N_("Import"), N_("Import customers, orders or interactions"), _import),
    ("6", "nav.campaigns", N_("Campaigns"), N_("Preview, send and report campaigns"), _campaigns),
    ("7", "nav.complaints", N_("Complaints"), N_("Complaint tickets and their SLA"), _complaints),
    (
        "8",
        "nav.dashboard",
        N_("Dashboard"),
        N_("Key figures, revenue trend, customers at risk, revenue by tier and region"),
        _dashboard,
    ),
]


def _timeline_tab(code: str) -> Widget:
    from tricrm_tui.tui.widgets.timeline import TimelineView

    return TimelineView(code)


def _value_tab(code: str) -> Widget:
    from tricrm_tui.tui.widgets.value_tab import ValueTab

    return ValueTab(code)


def _points_tab(code: str) -> Widget:
    from tricrm_tui.tui.widgets.loyalty_panel import LoyaltyPanel

    return LoyaltyPanel(code)


def _recommendations_tab(code: str) -> Widget:
    from tricrm_tui.tui.widgets.recommendations import RecommendationsPanel

    return RecommendationsPanel(code)


DETAIL_TABS: list[tuple[str, Callable[[str], Widget]]] = [
    (N_("Timeline"), _timeline_tab),
    (N_("Value"), _value_tab),
    (N_("Points"), _points_tab),
    (N_("Recommendations"), _recommendations_tab),
]


def navigation_bindings() -> list[Binding]:
    return [
        Binding(key, f"open_screen('{bid}')", title, id=bid, show=False)
        for key, bid, title, _help, _factory in SCREENS
    ]


def screen_factory(binding_id: str) -> ScreenFactory:
    for _key, bid, _title, _help, factory in SCREENS:
        if bid == binding_id:
            return factory
    raise KeyError(binding_id)


def register() -> None:
    """Add the palette entries and detail tabs (idempotent: the app may be built twice)."""
    from tricrm_tui.tui import app as app_module
    from tricrm_tui.tui.screens import customer_detail

    for _key, bid, title, help_text, _factory in SCREENS[1:]:
        entry = (title, help_text, lambda app, bid=bid: app.action_open_screen(bid))
        if all(existing[0] != title for existing in app_module.SCREEN_COMMANDS):
            app_module.SCREEN_COMMANDS.append(entry)
    for tab in DETAIL_TABS:
        if all(existing[0] != tab[0] for existing in customer_detail.DETAIL_TABS):
            customer_detail.DETAIL_TABS.append(tab)

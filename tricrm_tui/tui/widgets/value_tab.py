"""The Value tab of the customer detail: scores, segment, tier, lifecycle, predictions,
points and level, and the stored snapshot history.

It shows what the last ``tricrm value refresh`` stored (no model is fitted here), and the
points and member level straight from the customer record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _, format_date, format_money, format_number

if TYPE_CHECKING:
    from tricrm_tui.services.customers import CustomerRecord
    from tricrm_tui.services.paging import Page
    from tricrm_tui.services.value import SnapshotRecord


class ValueTab(Vertical):
    """Mount with the customer's code; call :meth:`reload` after a refresh."""

    DEFAULT_CSS = """
    ValueTab { height: 1fr; }
    ValueTab #value-facts { height: auto; padding: 0 1; }
    ValueTab #value-history { height: 1fr; }
    """

    def __init__(self, code: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.code = code

    def compose(self) -> ComposeResult:
        yield Static(_("Loading…"), id="value-facts")
        yield DataTable(id="value-history", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#value-history", DataTable).add_columns(
            _("As of"), _("R F M"), _("Segment"), _("Tier"), _("Lifecycle"), _("P(alive)"), _("CLV")
        )
        self.reload()

    def reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="value-tab", exit_on_error=False)
    def load(self) -> None:
        from tricrm_tui.services import customers, value

        ctx = self.app.ctx  # type: ignore[attr-defined]
        record = customers.get_customer(ctx, self.code)
        history = value.value_history(ctx, self.code, limit=100)
        self.app.call_from_thread(self._show, record, history)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.query_one("#value-facts", Static).update(str(event.worker.error))

    def _show(self, record: CustomerRecord, history: Page[SnapshotRecord]) -> None:
        from tricrm_tui.services.value import lifecycle_label, segment_label
        from tricrm_tui.services.value_config import load_settings

        settings = load_settings()
        points = _("Points {points} · Level {level}").format(
            points=format_number(record.points), level=record.member_level or "—"
        )
        if not history.items:
            facts = _("No value snapshot yet: run tricrm value refresh.") + "\n" + points
            self.query_one("#value-facts", Static).update(facts)
            return
        s = history.items[0]
        scores = "—" if s.r is None else f"R{s.r} F{s.f} M{s.m}"
        lines = [
            _("As of {date}: {scores} · {segment}").format(
                date=format_date(s.as_of), scores=scores, segment=segment_label(s.segment)
            ),
            _("Tier {tier} · Lifecycle {stage}").format(
                tier=settings.tier_name(s.tier), stage=lifecycle_label(s.lifecycle)
            ),
            _("P(alive) {p} · Expected purchases {e} · CLV {clv}").format(
                p="—" if s.p_alive is None else f"{s.p_alive:.2f}",
                e="—" if s.expected_purchases is None else f"{s.expected_purchases:.2f}",
                clv="—" if s.clv is None else format_money(s.clv),
            ),
            _("Orders {n} · Spend {spend} · Last order {days} days ago").format(
                n=s.frequency,
                spend=format_money(s.monetary),
                days="—" if s.recency_days is None else s.recency_days,
            ),
            points,
        ]
        self.query_one("#value-facts", Static).update("\n".join(lines))
        table = self.query_one("#value-history", DataTable)
        table.clear()
        for h in history.items:
            table.add_row(
                format_date(h.as_of),
                "" if h.r is None else f"{h.r} {h.f} {h.m}",
                segment_label(h.segment),
                settings.tier_name(h.tier),
                lifecycle_label(h.lifecycle),
                "" if h.p_alive is None else f"{h.p_alive:.2f}",
                "" if h.clv is None else format_money(h.clv),
                key=h.as_of.isoformat(),
            )

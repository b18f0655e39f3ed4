"""Today: the agent's landing screen — what is overdue, what is due today, which complaints
have broken their SLA.

Opening it first runs the communication plans and care rules for today (idempotent: the
tasks they create carry a unique key), so the day's work appears without a scheduled job.
Every database call runs in a thread worker; the table holds at most one page per section.

Keys: ``l`` logs the contact and closes the task, ``z`` snoozes it (1 day, or a choice),
``x`` cancels it, Enter opens the customer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from tricrm_tui.i18n import _, format_date, format_datetime, format_money
from tricrm_tui.labels import N_
from tricrm_tui.models import CHANNELS
from tricrm_tui.services import care, followups, plans, value
from tricrm_tui.services.followups import FollowUpRow, OverdueComplaint
from tricrm_tui.tui.widgets.footer import TranslatedFooter as Footer

PAGE = 200
AT_RISK_SHOWN = 5
CHANNEL_NAMES = {
    "phone": N_("Phone"),
    "email": N_("Email"),
    "wechat": N_("WeChat"),
    "sms": N_("SMS"),
    "chat": N_("Online chat"),
    "visit": N_("Visit"),
    "social": N_("Social media"),
    "other": N_("Other"),
}
SNOOZE_CHOICES = [
    ("4h", N_("4 hours")),
    ("1d", N_("1 day")),
    ("2d", N_("2 days")),
    ("1w", N_("1 week")),
    ("2w", N_("2 weeks")),
]


@dataclass(frozen=True)
class TodayData:
    overdue: list[FollowUpRow]
    due_today: list[FollowUpRow]
    complaints: list[OverdueComplaint]
    generated: int
    at_risk: list[Any] | None = None
    """None: not read yet (the tasks are shown first), so the at-risk list stays as it is."""


@dataclass(frozen=True)
class LogResult:
    channel: str
    outcome: str
    notes: str


class LogContactModal(ModalScreen[LogResult | None]):
    """Channel, outcome and notes of the contact that closes a task."""

    DEFAULT_CSS = """
    LogContactModal { align: center middle; }
    LogContactModal > Vertical {
        width: 64; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    LogContactModal Input, LogContactModal Select { margin-bottom: 1; }
    LogContactModal Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", N_("Cancel"), id="log.cancel"),
    ]

    def __init__(self, customer: str, channel: str = "phone") -> None:
        super().__init__()
        self.customer = customer
        self.channel = channel if channel in CHANNELS else "phone"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("Log contact with {customer}").format(customer=self.customer))
            yield Select(
                [(_(CHANNEL_NAMES[c]), c) for c in CHANNELS],
                value=self.channel,
                allow_blank=False,
                id="channel",
            )
            yield Input(placeholder=_("Outcome"), id="outcome")
            yield Input(placeholder=_("Notes"), id="notes")
            with Horizontal():
                yield Button(_("Save and close task"), variant="primary", id="save")
                yield Button(_("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#outcome", Input).focus()

    def _result(self) -> LogResult:
        channel = self.query_one("#channel", Select).value
        return LogResult(
            channel=str(channel),
            outcome=self.query_one("#outcome", Input).value,
            notes=self.query_one("#notes", Input).value,
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "outcome":
            self.query_one("#notes", Input).focus()
        else:
            self.dismiss(self._result())

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss(self._result())

    @on(Button.Pressed, "#cancel")
    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class SnoozeModal(ModalScreen[str | None]):
    """How long to push a task back; Enter takes the highlighted choice (1 day)."""

    DEFAULT_CSS = """
    SnoozeModal { align: center middle; }
    SnoozeModal > Vertical {
        width: 36; height: auto; padding: 1 2; border: thick $accent; background: $surface;
    }
    SnoozeModal OptionList { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", N_("Cancel"), id="snooze.cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("Snooze for"))
            yield OptionList(*[Option(_(label), id=key) for key, label in SNOOZE_CHOICES])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 1
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class TodayScreen(Screen):
    """Overdue tasks first, then today's, then overdue complaints."""

    DEFAULT_CSS = """
    TodayScreen #today-title { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    TodayScreen #tasks { height: 1fr; }
    TodayScreen #complaints-title { height: 1; padding: 0 1; color: $error; }
    TodayScreen #complaints { height: auto; max-height: 6; }
    TodayScreen #at-risk-title { height: 1; padding: 0 1; color: $warning; display: none; }
    TodayScreen #at-risk { height: auto; max-height: 6; display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", N_("Log & close"), id="today.log"),
        Binding("z", "snooze", N_("Snooze"), id="today.snooze"),
        Binding("x", "cancel_task", N_("Cancel task"), id="today.cancel"),
        Binding("enter", "open_customer", N_("Open"), id="today.open"),
        Binding("m", "toggle_mine", N_("Mine/all"), id="today.mine"),
        Binding("r", "reload", N_("Refresh"), id="today.refresh"),
    ]

    class OpenCustomer(Message):
        """Posted when the app has no ``open_customer``: the host decides what opens."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(self, *, mine: bool = False, generate: bool = True) -> None:
        super().__init__()
        self.mine = mine
        self.generate = generate
        self.tasks: dict[str, FollowUpRow] = {}
        self.complaint_codes: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(_("Today"), id="today-title")
        tasks: DataTable[Any] = DataTable(id="tasks", cursor_type="row", zebra_stripes=True)
        tasks.add_column("", width=1, key="flag")
        tasks.add_column(_("Due"), width=11, key="due")
        tasks.add_column(_("Customer"), width=10, key="customer")
        tasks.add_column(_("Tier"), width=6, key="tier")
        tasks.add_column(_("Last contact"), width=12, key="last")
        tasks.add_column(_("Reason"), key="reason")
        yield tasks
        yield Static("", id="complaints-title")
        complaints: DataTable[Any] = DataTable(id="complaints", cursor_type="row")
        complaints.add_column(_("SLA due"), width=11, key="sla")
        complaints.add_column(_("Customer"), width=12, key="customer")
        complaints.add_column(_("Severity"), width=8, key="severity")
        complaints.add_column(_("Category"), key="category")
        yield complaints
        yield Static("", id="at-risk-title")
        at_risk: DataTable[Any] = DataTable(id="at-risk", cursor_type="row")
        at_risk.add_column(_("Customer"), width=12, key="customer")
        at_risk.add_column(_("Tier"), width=7, key="tier")
        at_risk.add_column(_("P(alive)"), width=8, key="p_alive")
        at_risk.add_column(_("CLV"), width=15, key="clv")
        at_risk.add_column(_("Last order"), key="last_order")
        yield at_risk
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tasks", DataTable).focus()
        self.load(generate=self.generate)

    @property
    def ctx(self) -> Any:
        return self.app.ctx  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="today", exit_on_error=False)
    def load(self, generate: bool = False) -> None:
        """Show what is stored first, then, when asked, generate the day's plan and care
        follow-ups and show again: generating walks every customer's contact history (about
        a second at 100k customers), and the operator should not wait on it to see the list."""
        ctx = self.ctx
        tasks = self._read(ctx, 0)
        self._post(tasks)  # the tasks first: the at-risk list is read after they show
        if get_current_worker().is_cancelled:
            return
        at_risk = value.at_risk_from_snapshot(ctx, limit=AT_RISK_SHOWN, count=False).items
        self._post(dataclasses.replace(tasks, at_risk=at_risk))
        if not generate or get_current_worker().is_cancelled:
            return
        generated = len(plans.run_plans(ctx).created) + len(care.run_care(ctx).created)
        if generated:
            self._post(dataclasses.replace(self._read(ctx, generated), at_risk=at_risk))

    def _read(self, ctx: Any, generated: int) -> TodayData:
        overdue = followups.list_followups(ctx, mine=self.mine, overdue=True, limit=PAGE).items
        seen = {t.id for t in overdue}
        today = [
            t
            for t in followups.list_followups(ctx, mine=self.mine, due="today", limit=PAGE).items
            if t.id not in seen
        ]
        complaints = followups.overdue_complaints(ctx, ctx.now())
        return TodayData(overdue, today, complaints, generated)

    def _post(self, data: TodayData) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, data)

    def _show(self, data: TodayData) -> None:
        table = self.query_one("#tasks", DataTable)
        row = table.cursor_row
        table.clear()
        self.tasks = {}
        for task, late in [(t, True) for t in data.overdue] + [(t, False) for t in data.due_today]:
            key = f"task-{task.id}"
            self.tasks[key] = task
            style = "bold red" if late else ""
            due = task.due.astimezone()
            table.add_row(
                Text("!" if late else "·", style=style),
                Text(due.strftime("%m-%d %H:%M") if late else due.strftime("%H:%M"), style=style),
                task.customer_name,
                task.tier or "—",
                task.last_contact.astimezone().strftime("%Y-%m-%d") if task.last_contact else "—",
                task.reason,
                key=key,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self.query_one("#today-title", Static).update(
            _("Today {date} · {overdue} overdue · {today} due today{scope}").format(
                date=format_date(self.ctx.today()),
                overdue=len(data.overdue),
                today=len(data.due_today),
                scope=" · " + _("mine") if self.mine else "",
            )
        )
        complaints = self.query_one("#complaints", DataTable)
        complaints.clear()
        # The at-risk rows' keys stay while that list is still the one on screen.
        self.complaint_codes = (
            {k: v for k, v in self.complaint_codes.items() if k.startswith("risk-")}
            if data.at_risk is None
            else {}
        )
        for c in data.complaints:
            self.complaint_codes[f"complaint-{c.id}"] = c.customer_code
            complaints.add_row(
                c.sla_due_at.astimezone().strftime("%m-%d %H:%M"),
                c.customer_name,
                c.severity or "—",
                c.category or "—",
                key=f"complaint-{c.id}",
            )
        complaints.display = bool(data.complaints)
        self.query_one("#complaints-title", Static).update(
            _("Overdue complaints: {count}").format(count=len(data.complaints))
            if data.complaints
            else _("No overdue complaints")
        )
        if data.at_risk is not None:
            self._show_at_risk(data.at_risk)
        if data.generated:
            self.notify(
                _("{count} new follow-ups from plans and care dates").format(count=data.generated)
            )

    def _show_at_risk(self, rows: list[Any]) -> None:
        at_risk = self.query_one("#at-risk", DataTable)
        at_risk.clear()
        for r in rows:
            self.complaint_codes[f"risk-{r.code}"] = r.code
            at_risk.add_row(
                r.name,
                r.tier or "—",
                "—" if r.p_alive is None else f"{r.p_alive:.0%}",
                format_money(r.clv) if r.clv is not None else "—",
                format_date(r.last_order),
                key=f"risk-{r.code}",
            )
        at_risk.display = bool(rows)
        title = self.query_one("#at-risk-title", Static)
        title.update(_("Most valuable customers at risk: {count}").format(count=len(rows)))
        title.display = bool(rows)

    def _current(self) -> FollowUpRow | None:
        table = self.query_one("#tasks", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.tasks.get(str(key))

    def action_log(self) -> None:
        task = self._current()
        if task is None:
            return

        def logged(result: LogResult | None) -> None:
            if result is not None:
                self._close(task.id, result)

        self.app.push_screen(LogContactModal(task.customer_name), logged)

    @work(thread=True, group="today-write", exit_on_error=False)
    def _close(self, task_id: int, result: LogResult) -> None:
        followups.done(
            self.ctx,
            task_id,
            log="",
            channel=result.channel,
            outcome=result.outcome or None,
            notes=result.notes or None,
        )
        self.app.call_from_thread(self.notify, _("Contact logged; task closed"))
        self.app.call_from_thread(self.load)

    def action_snooze(self) -> None:
        task = self._current()
        if task is None:
            return

        def chosen(period: str | None) -> None:
            if period:
                self._snooze(task.id, period)

        self.app.push_screen(SnoozeModal(), chosen)

    @work(thread=True, group="today-write", exit_on_error=False)
    def _snooze(self, task_id: int, period: str) -> None:
        row = followups.snooze(self.ctx, task_id, period)
        due = format_datetime(row.due.astimezone())
        self.app.call_from_thread(self.notify, _("Snoozed until {due}").format(due=due))
        self.app.call_from_thread(self.load)

    def action_cancel_task(self) -> None:
        task = self._current()
        if task is not None:
            self._cancel(task.id)

    @work(thread=True, group="today-write", exit_on_error=False)
    def _cancel(self, task_id: int) -> None:
        followups.cancel(self.ctx, task_id)
        self.app.call_from_thread(self.notify, _("Task cancelled"))
        self.app.call_from_thread(self.load)

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        self.load()

    def action_reload(self) -> None:
        self.load(generate=True)

    def _open(self, code: str) -> None:
        opener = getattr(self.app, "open_customer", None)
        if callable(opener):
            opener(code)
        else:
            self.post_message(self.OpenCustomer(code))

    def action_open_customer(self) -> None:
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id in ("complaints", "at-risk"):
            if focused.row_count:
                key = focused.coordinate_to_cell_key(focused.cursor_coordinate).row_key.value
                self._open(self.complaint_codes[str(key)])
            return
        task = self._current()
        if task is not None:
            self._open(task.customer_code)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_customer()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(str(event.worker.error), title=_("Database"), severity="error", timeout=8)

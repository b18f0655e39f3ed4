"""Campaigns: the list, a new campaign (``c``), each recipient's message before sending,
send (confirmed), report.

``n``/``p`` walk the recipients one message at a time, so the operator reads what each
customer will receive (and whether consent or the contact cap will skip them) before
pressing ``s``. Sending runs in a thread worker; email goes over SMTP, call and SMS lists
are written as CSV into the data folder's ``exports``.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tricrm_tui.i18n import _, format_money
from tricrm_tui.labels import N_
from tricrm_tui.tui.widgets.confirm import ConfirmDialog
from tricrm_tui.tui.widgets.footer import TranslatedFooter as Footer

PAGE = 200
PREVIEW_STATUS = {
    "ready": N_("will be sent"),
    "skipped_consent": N_("skipped: no consent for this channel"),
    "skipped_cap": N_("skipped: contact cap reached"),
    "no_address": N_("fails: no address for this channel"),
    "sent": N_("already sent"),
    "exported": N_("already exported"),
    "not_in_segment": N_("not in the segment"),
}
CHANNEL_LABELS = {"email": N_("email"), "sms": N_("SMS"), "phone": N_("phone")}
CAMPAIGN_STATUS = {"draft": N_("draft"), "sent": N_("sent")}
OUTCOMES = {
    "sent": N_("sent"),
    "exported": N_("exported"),
    "failed": N_("failed"),
    "skipped_consent": N_("skipped (consent)"),
    "skipped_cap": N_("skipped (cap)"),
    "already_sent": N_("already sent"),
    "already_exported": N_("already exported"),
    "ready": N_("ready"),
}


class CampaignsScreen(Screen[None]):
    """Campaign list with a per-recipient preview pane; ``s`` sends, ``r`` shows the report."""

    DEFAULT_CSS = """
    CampaignsScreen #title { height: 1; background: $boost; padding: 0 1; }
    CampaignsScreen DataTable { height: 8; }
    CampaignsScreen #pane { height: 1fr; border-top: solid $accent; padding: 0 1; }
    """
    BINDINGS = [
        Binding("c", "create", N_("New"), id="campaigns.create"),
        Binding("n", "next_recipient", N_("Next"), id="campaigns.next"),
        Binding("p", "previous_recipient", N_("Previous"), id="campaigns.previous"),
        Binding("s", "send", N_("Send"), id="campaigns.send"),
        Binding("r", "report", N_("Report"), id="campaigns.report"),
        Binding("g", "reload", N_("Reload"), id="campaigns.reload"),
        Binding("escape", "app.pop_screen", N_("Back"), id="campaigns.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.campaigns: dict[str, Any] = {}
        self.recipient = 0
        self.recipients = 0
        self.select_after_load: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Campaigns"), id="title")
        table: DataTable[str] = DataTable(id="campaigns", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="pane", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Fixed widths: auto-sized columns are measured lazily (a first frame could be narrow).
        table.add_column(_("Name"), key="name", width=18)
        table.add_column(_("Channel"), key="channel", width=8)
        table.add_column(_("Segment"), key="segment", width=16)
        table.add_column(_("Status"), key="status", width=10)
        table.add_column(_("Delivered"), key="delivered", width=10)
        self.action_reload()

    def selected(self) -> Any | None:
        table = self.query_one(DataTable)
        if not self.campaigns or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.campaigns.get(key) if key is not None else None

    def _error(self, exc: Exception) -> None:
        self.app.call_from_thread(self.notify, str(exc), severity="error")

    # -- list ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="campaigns")
    def _load(self) -> None:
        from tricrm_tui.services import campaigns
        from tricrm_tui.services.errors import TricrmError

        try:
            page = campaigns.list_campaigns(self.app.ctx, limit=PAGE)
        except TricrmError as exc:
            self._error(exc)
            return
        self.app.call_from_thread(self._show_list, page)

    def action_create(self) -> None:
        from tricrm_tui.tui.screens.campaign_form import CampaignForm

        self.app.push_screen(CampaignForm(), self._created)

    def _created(self, name: str | None) -> None:
        if not name:
            return
        self.select_after_load = name
        self.notify(_("created campaign {name}").format(name=name))
        self.action_reload()

    def _show_list(self, page: Any) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        if self.select_after_load in {c.name for c in page.items}:
            keep = [c.name for c in page.items].index(self.select_after_load)
        self.select_after_load = None
        table.clear()
        self.campaigns = {c.name: c for c in page.items}
        for c in page.items:
            table.add_row(
                c.name,
                _(CHANNEL_LABELS.get(c.channel, c.channel)),
                c.segment or _("all"),
                _(CAMPAIGN_STATUS.get(c.status, c.status)),
                str(c.delivered),
                key=c.name,
            )
        self.query_one("#title", Static).update(
            _("Campaigns — {n} of {total}").format(n=len(page.items), total=page.total)
        )
        if page.items:
            table.move_cursor(row=min(max(keep, 0), len(page.items) - 1))
        else:
            self.query_one("#pane", Static).update(
                _("No campaigns yet: press c to create one (or tricrm campaigns create).")
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.recipient = 0
        self._preview_current()

    # -- preview ------------------------------------------------------------------------

    def action_next_recipient(self) -> None:
        if self.recipient + 1 < self.recipients:
            self.recipient += 1
            self._preview_current()

    def action_previous_recipient(self) -> None:
        if self.recipient > 0:
            self.recipient -= 1
            self._preview_current()

    def _preview_current(self) -> None:
        if (c := self.selected()) is not None:
            self._preview(c.name, self.recipient)

    @work(thread=True, exclusive=True, group="campaign-pane")
    def _preview(self, name: str, index: int) -> None:
        from tricrm_tui.services import campaigns
        from tricrm_tui.services.errors import TricrmError

        try:
            page = campaigns.preview_page(self.app.ctx, name, limit=1, offset=index)
        except TricrmError as exc:
            self.app.call_from_thread(
                self.query_one("#pane", Static).update,
                _("Cannot preview: {error}").format(error=exc),
            )
            return
        self.app.call_from_thread(self._show_preview, page)

    def _show_preview(self, page: Any) -> None:
        self.recipients = page.total
        pane = self.query_one("#pane", Static)
        if not page.items:
            pane.update(_("No recipients in this campaign's segment."))
            return
        p = page.items[0]
        head = _("Recipient {i} of {n}: {code} {name} <{address}>").format(
            i=page.offset + 1, n=page.total, code=p.code, name=p.name, address=p.address or "—"
        )
        lines = [head, "[" + _(PREVIEW_STATUS.get(p.status, p.status)) + "]"]
        if p.subject:
            lines.append(_("Subject: {subject}").format(subject=p.subject))
        lines += ["", p.body.rstrip("\n")]
        pane.update("\n".join(lines))

    # -- send and report ----------------------------------------------------------------

    def action_send(self) -> None:
        c = self.selected()
        if c is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._send(c.name, c.channel)

        question = _("Send campaign {name} to {n} recipients (consent and cap honoured)?").format(
            name=c.name, n=self.recipients
        )
        self.app.push_screen(ConfirmDialog(question), confirmed)

    @work(thread=True, exclusive=True, group="campaign-send")
    def _send(self, name: str, channel: str) -> None:
        from tricrm_tui.services import campaigns
        from tricrm_tui.services.errors import TricrmError

        export = None
        if channel != "email":
            from tricrm_tui.locations import data_dir

            folder = data_dir() / "exports"
            folder.mkdir(parents=True, exist_ok=True)
            stamp = self.app.ctx.now().strftime("%Y%m%d-%H%M%S")
            export = folder / f"{name}-{stamp}.csv"
        try:
            result = campaigns.send(self.app.ctx, name, export=export)
        except TricrmError as exc:
            self._error(exc)
            return
        summary = ", ".join(
            f"{_(OUTCOMES.get(k, k))} {v}" for k, v in sorted(result.counts.items())
        )
        message = _("Campaign {name}: {summary}").format(name=name, summary=summary or "—")
        if result.export_path:
            message += "\n" + _("wrote {path}").format(path=result.export_path)
        self.app.call_from_thread(self.notify, message, timeout=8)
        self.app.call_from_thread(self.action_reload)

    def action_report(self) -> None:
        if (c := self.selected()) is not None:
            self._report(c.name)

    @work(thread=True, exclusive=True, group="campaign-pane")
    def _report(self, name: str) -> None:
        from tricrm_tui.services import campaigns
        from tricrm_tui.services.errors import TricrmError

        try:
            rep = campaigns.report(self.app.ctx, name)
        except TricrmError as exc:
            self._error(exc)
            return
        self.app.call_from_thread(self._show_report, rep)

    def _show_report(self, rep: Any) -> None:
        def pct(value: Any) -> str:
            return "—" if value is None else f"{value}%"

        lines = [
            _("Report: {name} ({channel})").format(
                name=rep.name, channel=_(CHANNEL_LABELS.get(rep.channel, rep.channel))
            ),
            _("Delivered {delivered} (sent {sent}, exported {exported}) · failed {failed}").format(
                delivered=rep.delivered, sent=rep.sent, exported=rep.exported, failed=rep.failed
            ),
            _("Skipped: consent {consent}, contact cap {cap}").format(
                consent=rep.skipped_consent, cap=rep.skipped_cap
            ),
            _("Responses {n} ({rate})").format(n=rep.responses, rate=pct(rep.response_rate)),
            _("Conversions within {days} days: {n} ({rate}), revenue {revenue}").format(
                days=rep.attribution_days,
                n=rep.conversions,
                rate=pct(rep.conversion_rate),
                revenue=format_money(rep.revenue),
            ),
        ]
        self.query_one("#pane", Static).update("\n".join(lines))

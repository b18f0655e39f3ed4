"""The new-campaign form of the Campaigns screen (``c``): what ``tricrm campaigns create``
takes — name, saved segment, channel, subject, template, attribution days.

The form runs :func:`tricrm_tui.services.campaigns.create_campaign` itself in a thread
worker, so the service's refusal (an unknown segment, a misspelt template field, a missing
subject) is shown inline under the fields, with the cursor on the field at fault, and the
operator corrects it without retyping the rest. The service audits the creation as for the
CLI. It dismisses with the new campaign's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Static, TextArea

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_

CHANNELS = ("email", "sms", "phone")
FIELD_WIDGETS = {
    "name": "#campaign-name",
    "segment": "#campaign-segment",
    "channel": "#campaign-channel",
    "subject": "#campaign-subject",
    "template": "#campaign-template",
    "attribution_days": "#campaign-days",
}
"""Service error field → the widget that takes the cursor."""


def template_text(value: str) -> str:
    """The template as the CLI reads it: a file when the value names one, else the text."""
    path = Path(value.strip())
    if value.strip() and len(value) < 1024 and "\n" not in value.strip() and path.is_file():
        return path.read_text(encoding="utf-8")
    return value


class CampaignForm(ModalScreen[str | None]):
    """A draft campaign; ``ctrl+s`` creates it, Escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "create", N_("Create"), id="campaigns.form.create"),
        Binding("escape", "cancel", N_("Cancel"), id="campaigns.form.cancel"),
    ]

    DEFAULT_CSS = """
    CampaignForm { align: center middle; }
    CampaignForm > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: thick $accent; background: $surface;
    }
    CampaignForm .title { text-style: bold; margin-bottom: 1; }
    CampaignForm Grid { grid-size: 2; grid-columns: 16 1fr; grid-rows: 1; grid-gutter: 0 1;
        height: auto; }
    CampaignForm Input { border: none; height: 1; padding: 0 1; background: $boost; }
    CampaignForm Input:focus { background: $accent 30%; }
    CampaignForm TextArea { height: 7; margin-top: 1; }
    CampaignForm #campaign-error { color: $error; height: auto; }
    CampaignForm .hint { color: $text-muted; height: 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(_("New campaign"), classes="title")
            with Grid():
                yield Label(_("Name"))
                yield Input(id="campaign-name", max_length=100)
                yield Label(_("Segment"))
                yield Input(id="campaign-segment", placeholder=_("saved segment; empty = all"))
                yield Label(_("Channel"))
                yield Input(
                    "sms",
                    id="campaign-channel",
                    placeholder="email, sms, phone",
                    suggester=SuggestFromList(CHANNELS, case_sensitive=False),
                )
                yield Label(_("Subject"))
                yield Input(id="campaign-subject", placeholder=_("email only; a template too"))
                yield Label(_("Attribution days"))
                yield Input("14", id="campaign-days", type="integer")
            yield Label(_("Template (Jinja2: {{ name }}, {{ code }}, {{ tier }}, {{ city }}…)"))
            yield TextArea(id="campaign-template")
            yield Static("", id="campaign-error", markup=False)
            yield Static(_("ctrl+s create · tab next field · esc cancel"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#campaign-name", Input).focus()

    def values(self) -> dict[str, Any]:
        def typed(selector: str) -> str:
            return self.query_one(selector, Input).value.strip()

        days = typed("#campaign-days")
        return {
            "name": typed("#campaign-name"),
            "segment": typed("#campaign-segment") or None,
            "channel": typed("#campaign-channel").lower(),
            "subject": typed("#campaign-subject") or None,
            "template": self.query_one("#campaign-template", TextArea).text,
            "attribution_days": int(days) if days.lstrip("-").isdigit() else -1,
        }

    def show_error(self, message: str, field: str | None) -> None:
        self.query_one("#campaign-error", Static).update(message)
        selector = FIELD_WIDGETS.get(field or "")
        if selector:
            self.query_one(selector).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_create()

    def action_create(self) -> None:
        self.query_one("#campaign-error", Static).update(_("Creating…"))
        self._create(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="campaign-create")
    def _create(self, values: dict[str, Any]) -> None:
        from tricrm_tui.services import campaigns
        from tricrm_tui.services.errors import NotFound, TricrmError

        name = values.pop("name")
        try:
            values["template"] = template_text(values["template"])
            record = campaigns.create_campaign(self.app.ctx, name, **values)  # type: ignore[attr-defined]
        except NotFound as exc:  # the only lookup is the segment
            self.app.call_from_thread(self.show_error, str(exc), "segment")
            return
        except TricrmError as exc:
            field = getattr(exc, "field", None)
            self.app.call_from_thread(self.show_error, str(exc), field)
            return
        except OSError as exc:
            self.app.call_from_thread(self.show_error, str(exc), "template")
            return
        self.app.call_from_thread(self.dismiss, record.name)

"""Editing a few of a customer's fields in a form over the detail screen.

Saving sends only the fields that changed, with the version the form was filled from: if
someone saved the customer in between (another operator, an import), the service refuses
with a Conflict and the form says so plainly instead of overwriting their change.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_, field_label
from tricrm_tui.services import customers
from tricrm_tui.services.customers import CustomerRecord
from tricrm_tui.services.errors import Conflict, InvalidInput, NotFound
from tricrm_tui.tui.workers import ReportsWorkerErrors

EDIT_FIELDS = ("name", "phone", "email", "province", "city", "address", "owner", "tags", "notes")
"""What the form offers: contact and ownership details operators correct by hand."""


def form_value(record: CustomerRecord, key: str) -> str:
    value = getattr(record, key)
    if key == "tags":
        return ", ".join(value)
    return "" if value is None else str(value)


class CustomerEditScreen(ReportsWorkerErrors, ModalScreen[CustomerRecord | None]):
    """Edit ``record``; dismisses with the saved record, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="edit.cancel"),
    ]

    def __init__(self, record: CustomerRecord) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="edit-form"):
            yield Static(
                _("Edit {name} ({code})").format(name=self.record.name, code=self.record.code),
                id="edit-title",
                markup=False,
            )
            for key in EDIT_FIELDS:
                yield Label(field_label(key), classes="edit-label")
                yield Input(form_value(self.record, key), id=f"edit-{key}", classes="edit-input")
            yield Static("", id="edit-error", markup=False)
            with Horizontal(id="edit-buttons"):
                yield Button(_("Save"), variant="primary", id="edit-save")
                yield Button(_("Cancel"), id="edit-cancel")

    def on_mount(self) -> None:
        self.query_one("#edit-name", Input).focus()

    def changes(self) -> dict[str, str]:
        out = {}
        for key in EDIT_FIELDS:
            value = self.query_one(f"#edit-{key}", Input).value.strip()
            if value != form_value(self.record, key):
                out[key] = value
        return out

    @on(Input.Submitted)
    @on(Button.Pressed, "#edit-save")
    def save(self) -> None:
        changes = self.changes()
        if not changes:
            self.dismiss(None)
            return
        self.query_one("#edit-error", Static).update(_("saving…"))
        self._save(changes)

    @on(Button.Pressed, "#edit-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="customer-edit", exit_on_error=False)
    def _save(self, changes: dict[str, str]) -> None:
        try:
            saved = customers.edit_customer(
                self.app.ctx,  # type: ignore[attr-defined]
                self.record.code,
                changes,
                expected_version=self.record.version,
            )
        except (InvalidInput, Conflict, NotFound) as error:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._refused, error)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.dismiss, saved)

    def _refused(self, error: Exception) -> None:
        message = self.query_one("#edit-error", Static)
        if isinstance(error, Conflict):
            message.update(_("Not saved: {reason}").format(reason=error))
            message.add_class("-conflict")
            return
        message.update(str(error))
        field = getattr(error, "field", None)
        if field in EDIT_FIELDS:
            self.query_one(f"#edit-{field}", Input).focus()

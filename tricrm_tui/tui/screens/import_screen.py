"""The import screen: choose a file, check what tricrm understood, adjust, run, fix.

The operator sees, before anything is written, the encoding that was detected, which column
feeds which field and the first rows; they can point any column at another field; the run
shows progress and ends on the rejected rows with their line numbers and reasons. Reading
the file and importing happen in thread workers, so the screen stays live on a large file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _, format_number
from tricrm_tui.labels import N_
from tricrm_tui.services.errors import InvalidInput, Stopped
from tricrm_tui.services.mapping import CUSTOM_PREFIX, KINDS, ColumnMapping, fields_for
from tricrm_tui.tui.widgets.confirm import ConfirmDialog
from tricrm_tui.tui.widgets.footer import TranslatedFooter
from tricrm_tui.tui.workers import IMPORT_GROUP, STOP_IMPORT, error_message, running_work

IGNORE = "__ignore__"
CUSTOM = "__custom__"
PREVIEW_GROUP = "import-preview"
REJECTS_SHOWN = 1000
"""Rejected rows the Rejected tab lists; the service keeps no more than this anyway."""
WARNINGS_SHOWN = 5
"""Import warnings listed in the notification after a run."""


class ImportScreen(Screen[None]):
    """Import customers, orders or interactions from a file, with a preview first."""

    DEFAULT_CSS = """
    ImportScreen #import-top { height: 3; }
    ImportScreen #import-path { width: 1fr; }
    ImportScreen #import-encoding { width: 14; }
    ImportScreen #import-kind { width: 22; }
    ImportScreen #import-status { height: 1; padding: 0 1; }
    ImportScreen #import-field { width: 100%; }
    ImportScreen TabbedContent { height: 1fr; }
    ImportScreen DataTable { height: 1fr; }
    ImportScreen #import-rejects-note { height: auto; padding: 0 1; color: $warning; }
    ImportScreen #import-progress { height: 1; padding: 0 1; }
    """

    BINDINGS = [
        Binding("ctrl+o", "preview", N_("Preview"), id="import.preview"),
        Binding("ctrl+r", "run", N_("Import"), id="import.run"),
        Binding("ctrl+t", "dry_run", N_("Dry run"), id="import.dry_run"),
        Binding("escape", "back", N_("Back"), id="import.back"),
    ]

    def __init__(self, path: str | None = None, kind: str = "customers") -> None:
        super().__init__()
        self.initial_path = path or ""
        self.kind = kind
        self.mapping: ColumnMapping | None = None
        self.source_path: Path | None = None
        self.encoding: str | None = None
        self.read_as = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="import-top"):
            yield Input(
                self.initial_path,
                placeholder=_("File to import (.csv, .xlsx, .xls, .xml, .jsonl); Enter to preview"),
                id="import-path",
            )
            yield Input(placeholder=_("encoding"), id="import-encoding")
            yield Select(
                [(_(k), k) for k in KINDS], value=self.kind, allow_blank=False, id="import-kind"
            )
        yield Label(_("Choose a file and press Enter."), id="import-status", markup=False)
        with TabbedContent(id="import-tabs"):
            with TabPane(_("Mapping"), id="tab-mapping"):
                yield DataTable(id="import-mapping", cursor_type="row", zebra_stripes=True)
                yield Select([], prompt=_("Field for the highlighted column"), id="import-field")
            with TabPane(_("First rows"), id="tab-preview"):
                yield DataTable(id="import-preview", zebra_stripes=True)
            with TabPane(_("Rejected"), id="tab-rejects"):
                yield Label("", id="import-rejects-note", markup=False)
                yield DataTable(id="import-rejects", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(total=1, id="import-progress", show_eta=False)
        yield TranslatedFooter()

    def on_mount(self) -> None:
        mapping = self.query_one("#import-mapping", DataTable)
        # Fixed widths: the table is filled from a worker, and fixed columns do not jump.
        for label, width in ((_("Column"), 16), (_("Field"), 18), (_("How"), 24)):
            mapping.add_column(label, width=width)
        rejects = self.query_one("#import-rejects", DataTable)
        for label, width in (
            (_("Line"), 6),
            (_("Key"), 10),
            (_("Field"), 12),
            (_("Error"), 16),
            (_("Reason"), 40),
        ):
            rejects.add_column(label, width=width)
        self._fill_field_choices()
        self.query_one("#import-rejects-note", Label).display = False
        if self.initial_path:
            self.action_preview()
        else:
            self.query_one("#import-path", Input).focus()

    # -- status

    def _status(self, text: str) -> None:
        self.query_one("#import-status", Label).update(text)

    def _fill_field_choices(self) -> None:
        options = [(f, f) for f in fields_for(self.kind)]
        if self.kind == "customers":
            options.append((_("custom field"), CUSTOM))
        options.append((_("ignore"), IGNORE))
        self.query_one("#import-field", Select).set_options(options)

    # -- preview

    @on(Input.Submitted, "#import-path")
    @on(Input.Submitted, "#import-encoding")
    def _path_submitted(self) -> None:
        self.action_preview()

    @on(Select.Changed, "#import-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if event.value != self.kind and isinstance(event.value, str):
            self.kind = event.value
            self._fill_field_choices()
            if self.query_one("#import-path", Input).value.strip():
                self.action_preview()

    def action_preview(self) -> None:
        # What an earlier preview understood no longer holds: a run started before this one
        # lands (or after it failed) would import another file, or with another kind's mapping.
        self.source_path = None
        self.mapping = None
        self.encoding = None
        self.read_as = ""
        self.query_one("#import-mapping", DataTable).clear()
        self.query_one("#import-preview", DataTable).clear(columns=True)
        self.query_one("#import-field", Select).disabled = True
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._status(_("Choose a file and press Enter."))
            return
        encoding = self.query_one("#import-encoding", Input).value.strip() or None
        self._status(_("Reading {file}…").format(file=text))
        self._load_preview(Path(text).expanduser(), self.kind, encoding)

    @work(thread=True, exclusive=True, group=PREVIEW_GROUP, exit_on_error=False)
    def _load_preview(self, path: Path, kind: str, encoding: str | None) -> None:
        from textual.worker import get_current_worker

        from tricrm_tui.services.importing import preview_file

        preview = preview_file(path, kind, encoding=encoding, limit=10)
        if not get_current_worker().is_cancelled:  # a newer preview replaced this one
            self.app.call_from_thread(self._show_preview, path, kind, preview)

    def _show_preview(self, path: Path, kind: str, preview: Any) -> None:
        if kind != self.kind:
            return  # the kind changed while the file was read: its own preview follows
        self.source_path = path
        self.encoding = preview.encoding
        self.read_as = preview.read_as
        self.mapping = preview.mapping
        self._render_mapping()
        table = self.query_one("#import-preview", DataTable)
        table.clear(columns=True)
        table.add_columns(_("Line"), *preview.headers)
        for line, row in preview.rows:
            table.add_row(str(line), *[_cell(row.get(h)) for h in preview.headers])
        self._status_for_mapping()
        if preview.warnings:  # formulas with no saved result: blank cells in the first rows
            self.notify("\n".join(preview.warnings), severity="warning", timeout=20)

    def _status_for_mapping(self) -> None:
        if self.mapping is None:
            return
        if not self.mapping.columns:
            self._status(
                _("{file} has no columns: it is empty, or its first sheet is").format(
                    file=self.source_path.name if self.source_path else ""
                )
            )
            return
        missing = self.mapping.missing_required()
        text = _("{file} · encoding {encoding} · {n} columns").format(
            file=self.source_path.name if self.source_path else "",
            encoding=self.read_as,
            n=len(self.mapping.columns),
        )
        if missing:
            text += " · " + _("missing: {fields}").format(fields=", ".join(missing))
        self._status(text)

    def _render_mapping(self) -> None:
        table = self.query_one("#import-mapping", DataTable)
        keep = table.cursor_row
        table.clear()
        assert self.mapping is not None
        for c in self.mapping.columns:
            table.add_row(c.column, c.target or "—", _(c.how), key=c.column)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        # Nothing to point at a field: an empty file has no columns.
        self.query_one("#import-field", Select).disabled = not self.mapping.columns

    # -- adjusting the mapping

    @on(DataTable.RowHighlighted, "#import-mapping")
    def _column_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.mapping is None or event.row_key.value is None:
            return
        target = next(c.target for c in self.mapping.columns if c.column == event.row_key.value)
        choice = (
            IGNORE if target is None else CUSTOM if target.startswith(CUSTOM_PREFIX) else target
        )
        select = self.query_one("#import-field", Select)
        with select.prevent(Select.Changed):
            select.value = choice

    @on(Select.Changed, "#import-field")
    def _field_chosen(self, event: Select.Changed) -> None:
        column = self._highlighted_column()
        if column is None or not isinstance(event.value, str):
            return
        self.choose_field(column, event.value)

    def _highlighted_column(self) -> str | None:
        """The mapping row under the cursor; None before a preview or for a file without
        columns (an empty file, a blank sheet)."""
        if self.mapping is None:
            return None
        row = self.query_one("#import-mapping", DataTable).cursor_row
        if not 0 <= row < len(self.mapping.columns):
            return None
        return self.mapping.columns[row].column

    def choose_field(self, column: str, choice: str) -> None:
        """Point ``column`` at a field, a custom field (``__custom__``) or nowhere."""
        assert self.mapping is not None
        target = (
            None if choice == IGNORE else CUSTOM_PREFIX + column if choice == CUSTOM else choice
        )
        mapping = self.mapping
        if target and not target.startswith(CUSTOM_PREFIX):
            # One column per field: whichever held it lets go.
            for c in mapping.columns:
                if c.target == target and c.column != column:
                    mapping = mapping.with_choice(c.column, None)
        self.mapping = mapping.with_choice(column, target)
        self._render_mapping()
        self._status_for_mapping()

    # -- running

    def action_run(self) -> None:
        self._start(dry_run=False)

    def action_dry_run(self) -> None:
        self._start(dry_run=True)

    def _start(self, *, dry_run: bool) -> None:
        if running_work(self, IMPORT_GROUP):
            # A second run would cancel the first silently, leaving it marked running.
            self.notify(
                _("An import is running; wait for it, or press Escape to stop it."),
                severity="warning",
            )
            return
        if running_work(self, PREVIEW_GROUP):
            self._status(_("The file is still being read; run it once its preview shows."))
            return
        if self.mapping is None or self.source_path is None:
            self._status(_("Preview a file first (Enter in the file box)."))
            return
        missing = self.mapping.missing_required()
        if missing:
            self.notify(
                _("No column for: {fields}").format(fields=", ".join(missing)), severity="error"
            )
            return
        self.query_one("#import-progress", ProgressBar).update(total=None, progress=0)
        self._status(_("Importing {file}…").format(file=self.source_path.name))
        self._run_import(self.source_path, self.kind, self.mapping, self.encoding, dry_run)

    @work(thread=True, exclusive=True, group=IMPORT_GROUP, exit_on_error=False)
    def _run_import(
        self, path: Path, kind: str, mapping: ColumnMapping, encoding: str | None, dry_run: bool
    ) -> None:
        from textual.worker import get_current_worker

        from tricrm_tui.services.importing import import_file

        bar = self.query_one("#import-progress", ProgressBar)
        worker = get_current_worker()

        def progress(done: int, total: int | None) -> None:
            self.app.call_from_thread(bar.update, total=total, progress=done)

        result = import_file(
            self.app.ctx,  # type: ignore[attr-defined]
            kind,
            path,
            mapping=mapping,
            dry_run=dry_run,
            encoding=encoding,
            progress=progress,
            # Cancelled when the operator leaves this screen or tricrm, having said yes.
            stop=lambda: worker.is_cancelled,
        )
        self.app.call_from_thread(self._show_result, result)

    def _show_result(self, result: Any) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(bar.total or 1, 1), progress=bar.total or 1)
        prefix = _("Dry run") if result.dry_run else _("Import {id}").format(id=result.import_id)
        said = _(
            "{prefix}: {rows} rows, {inserted} new, {updated} updated, "
            "{unchanged} unchanged, {rejected} rejected"
        ).format(
            prefix=prefix,
            rows=result.rows,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged + result.skipped + result.duplicates,
            rejected=result.rejected_count,
        )
        if result.kind == "interactions":
            said += _(", {created} follow-ups created, {moved} moved").format(
                created=result.follow_ups_created, moved=result.follow_ups_moved
            )
        self._status(said)
        if result.warnings:
            # As the command line prints them (a follow-up closed since, a rejects file
            # written in UTF-8): the first few, and how many more.
            shown = result.warnings[:WARNINGS_SHOWN]
            more = len(result.warnings) - len(shown)
            if more:
                shown = [*shown, _("… and {n} more warnings").format(n=format_number(more))]
            self.notify("\n".join(shown), severity="warning", timeout=20)
        table = self.query_one("#import-rejects", DataTable)
        table.clear()
        shown = result.rejected[:REJECTS_SHOWN]
        for r in shown:
            table.add_row(str(r.line), r.key or "", r.field or "", r.code, r.reason)
        note = self.query_one("#import-rejects-note", Label)
        note.display = result.rejected_count > len(shown)
        if note.display:
            note.update(
                _(
                    "{shown} of {total} rejected rows listed; the command line's "
                    "tricrm import --rejects FILE writes them all."
                ).format(
                    shown=format_number(len(shown)), total=format_number(result.rejected_count)
                )
            )
        if result.rejected:
            self.query_one(TabbedContent).active = "tab-rejects"
            # Focus left in the hidden Mapping pane would bring its tab straight back.
            table.focus()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == IMPORT_GROUP and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            # Back to still: a bar left spinning says the import is still going.
            self.query_one("#import-progress", ProgressBar).update(total=1, progress=0)
        if event.state == WorkerState.ERROR and isinstance(event.worker.error, Stopped):
            return  # the operator stopped it, leaving the screen: nothing to tell
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = error_message(error)
            if isinstance(error, InvalidInput) and error.field == "encoding":
                message += " · " + _(
                    "On this screen: type the encoding (gbk, big5, utf-16…) in the box "
                    "beside the file, or leave it blank to have it detected."
                )
            self._status(_("Failed: {error}").format(error=message))
            self.notify(message, title=_("Import"), severity="error", timeout=8, markup=False)

    def action_back(self) -> None:
        if len(self.app.screen_stack) < 2:
            return
        if not running_work(self, IMPORT_GROUP):
            self.app.pop_screen()
            return

        def answered(stop: bool | None) -> None:
            # Leaving cancels the screen's workers: the import stops after its batch.
            if stop and self.is_current:
                self.app.pop_screen()

        self.app.push_screen(ConfirmDialog(_(STOP_IMPORT)), answered)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 30 else text[:29] + "…"

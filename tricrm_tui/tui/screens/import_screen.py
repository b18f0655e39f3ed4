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
    Footer,
    Input,
    Label,
    ProgressBar,
    Select,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import Stopped
from tricrm_tui.services.mapping import CUSTOM_PREFIX, KINDS, ColumnMapping, fields_for
from tricrm_tui.tui.widgets.confirm import ConfirmDialog
from tricrm_tui.tui.workers import IMPORT_GROUP, STOP_IMPORT, running_work

IGNORE = "__ignore__"
CUSTOM = "__custom__"


class ImportScreen(Screen[None]):
    """Import customers, orders or interactions from a file, with a preview first."""

    DEFAULT_CSS = """
    ImportScreen #import-top { height: 3; }
    ImportScreen #import-path { width: 1fr; }
    ImportScreen #import-kind { width: 22; }
    ImportScreen #import-status { height: 1; padding: 0 1; }
    ImportScreen #import-field { width: 100%; }
    ImportScreen TabbedContent { height: 1fr; }
    ImportScreen DataTable { height: 1fr; }
    ImportScreen #import-progress { height: 1; padding: 0 1; }
    """

    BINDINGS = [
        Binding("ctrl+o", "preview", _("Preview"), id="import.preview"),
        Binding("ctrl+r", "run", _("Import"), id="import.run"),
        Binding("ctrl+t", "dry_run", _("Dry run"), id="import.dry_run"),
        Binding("escape", "back", _("Back"), id="import.back"),
    ]

    def __init__(self, path: str | None = None, kind: str = "customers") -> None:
        super().__init__()
        self.initial_path = path or ""
        self.kind = kind
        self.mapping: ColumnMapping | None = None
        self.source_path: Path | None = None
        self.encoding: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="import-top"):
            yield Input(
                self.initial_path,
                placeholder=_("File to import (.csv, .tsv, .xlsx, .jsonl); Enter to preview"),
                id="import-path",
            )
            yield Select(
                [(_(k), k) for k in KINDS], value=self.kind, allow_blank=False, id="import-kind"
            )
        yield Label(_("Choose a file and press Enter."), id="import-status")
        with TabbedContent(id="import-tabs"):
            with TabPane(_("Mapping"), id="tab-mapping"):
                yield DataTable(id="import-mapping", cursor_type="row", zebra_stripes=True)
                yield Select([], prompt=_("Field for the highlighted column"), id="import-field")
            with TabPane(_("First rows"), id="tab-preview"):
                yield DataTable(id="import-preview", zebra_stripes=True)
            with TabPane(_("Rejected"), id="tab-rejects"):
                yield DataTable(id="import-rejects", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(total=1, id="import-progress", show_eta=False)
        yield Footer()

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
    def _path_submitted(self) -> None:
        self.action_preview()

    @on(Select.Changed, "#import-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if event.value != self.kind and isinstance(event.value, str):
            self.kind = event.value
            self._fill_field_choices()
            if self.source_path:
                self.action_preview()

    def action_preview(self) -> None:
        text = self.query_one("#import-path", Input).value.strip()
        if not text:
            self._status(_("Choose a file and press Enter."))
            return
        self._status(_("Reading {file}…").format(file=text))
        self._load_preview(Path(text).expanduser(), self.kind)

    @work(thread=True, exclusive=True, group="import-preview", exit_on_error=False)
    def _load_preview(self, path: Path, kind: str) -> None:
        from tricrm_tui.services.importing import preview_file

        preview = preview_file(path, kind, limit=10)
        self.app.call_from_thread(self._show_preview, path, preview)

    def _show_preview(self, path: Path, preview: Any) -> None:
        self.source_path = path
        self.encoding = preview.encoding
        self.mapping = preview.mapping
        self._render_mapping()
        table = self.query_one("#import-preview", DataTable)
        table.clear(columns=True)
        table.add_columns(_("Line"), *preview.headers)
        for line, row in preview.rows:
            table.add_row(str(line), *[_cell(row.get(h)) for h in preview.headers])
        self._status_for_mapping()

    def _status_for_mapping(self) -> None:
        if self.mapping is None:
            return
        missing = self.mapping.missing_required()
        text = _("{file} · encoding {encoding} · {n} columns").format(
            file=self.source_path.name if self.source_path else "",
            encoding=self.encoding or "xlsx",
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
        if self.mapping is None or not isinstance(event.value, str):
            return
        self.choose_field(self._highlighted_column(), event.value)

    def _highlighted_column(self) -> str:
        assert self.mapping is not None
        table = self.query_one("#import-mapping", DataTable)
        return self.mapping.columns[table.cursor_row].column

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
        self._run_import(self.source_path, self.kind, self.mapping, dry_run)

    @work(thread=True, exclusive=True, group=IMPORT_GROUP, exit_on_error=False)
    def _run_import(self, path: Path, kind: str, mapping: ColumnMapping, dry_run: bool) -> None:
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
            encoding=self.encoding,
            progress=progress,
            # Cancelled when the operator leaves this screen or tricrm, having said yes.
            stop=lambda: worker.is_cancelled,
        )
        self.app.call_from_thread(self._show_result, result)

    def _show_result(self, result: Any) -> None:
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=max(bar.total or 1, 1), progress=bar.total or 1)
        prefix = _("Dry run") if result.dry_run else _("Import {id}").format(id=result.import_id)
        self._status(
            _(
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
        )
        table = self.query_one("#import-rejects", DataTable)
        table.clear()
        for r in result.rejected[:1000]:
            table.add_row(str(r.line), r.key or "", r.field or "", r.code, r.reason)
        if result.rejected:
            self.query_one(TabbedContent).active = "tab-rejects"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and isinstance(event.worker.error, Stopped):
            return  # the operator stopped it, leaving the screen: nothing to tell
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self._status(_("Failed: {error}").format(error=error))
            self.notify(str(error), title=_("Import"), severity="error", timeout=8)

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

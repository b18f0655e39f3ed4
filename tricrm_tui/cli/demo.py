"""``tricrm demo``: build a realistic demo database, then open the TUI on it."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Any

import typer

from tricrm_tui.cli.output import Format, emit_record, info
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _, format_number

# Stage names the service reports progress under (table names) → what the operator reads.
_STAGES = {
    "customers": _("customers"),
    "orders": _("orders"),
    "order_lines": _("order lines"),
    "loyalty_ledger": _("loyalty points"),
    "interactions": _("interactions"),
    "stage_events": _("journey events"),
}


class _Progress:
    """A Rich progress bar on a terminal; one line per finished table otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.reported: set[str] = set()

    def __enter__(self) -> _Progress:
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(
                TextColumn("{task.description:>16}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        label = _STAGES.get(stage)
        if label is None:
            return
        if self.bar is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(label, total=total)
            self.bar.update(self.tasks[stage], completed=done)
        elif done == total and stage not in self.reported:
            self.reported.add(stage)
            info(_("  {stage}: {n}").format(stage=label, n=format_number(total)))


def demo(
    customers: Annotated[
        int,
        typer.Option("--customers", "-c", min=1, help=_("How many customers to create.")),
    ] = 3000,
    seed: Annotated[
        int, typer.Option("--seed", help=_("Random seed: the same seed gives the same data."))
    ] = 2026,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            help=_("Anchor date: orders fall in the two years before it (default: today)."),
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            "--force",
            help=_("Empty a database that already holds data (the audit trail is kept)."),
        ),
    ] = False,
    no_open: Annotated[
        bool, typer.Option("--no-open", help=_("Build the data only; do not open the TUI."))
    ] = False,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help=_("Output format of the summary."))
    ] = Format.table,
) -> None:
    from tricrm_tui.services.demo import build_demo
    from tricrm_tui.services.normalize import parse_date

    anchor: dt.date | None = parse_date(as_of, field="as_of") if as_of else None
    context = ctx()
    info(
        _("Building demo data: {n} customers into {db} …").format(
            n=format_number(customers), db=context.db.display_url
        )
    )
    with _Progress() as progress:
        counts = build_demo(
            context,
            customers=customers,
            seed=seed,
            as_of=anchor,
            replace=replace,
            progress=progress,
        )
    from tricrm_tui.services.classify import classify_customers
    from tricrm_tui.services.value import value_refresh

    # What an import would trigger: classification, and value as of the demo's last day.
    info(_("Classifying customers and computing their value …"))
    classify_customers(context)
    value_refresh(context, anchor or context.today())
    info(
        _(
            "Demo ready in {seconds:.1f} s: {customers} customers, {orders} orders, "
            "{interactions} interactions, {feedback} feedback entries."
        ).format(
            seconds=counts.seconds,
            customers=format_number(counts.customers),
            orders=format_number(counts.orders),
            interactions=format_number(counts.interactions),
            feedback=format_number(counts.feedback),
        )
    )
    if fmt is not Format.table or no_open:
        emit_record(counts, fmt, title=_("Demo data"))
    if not no_open:
        from tricrm_tui.cli.tui import has_terminal, launch

        if has_terminal():
            launch()
        else:
            info(_("Not opening the TUI: this is not a terminal. Open it with: tricrm tui"))


demo.__tricrm_help__ = _(  # type: ignore[attr-defined]
    "Build a realistic demo database (customers, orders, interactions, feedback, journeys, "
    "loyalty) into --db, then open the TUI on it."
)
demo.__tricrm_epilog__ = _(  # type: ignore[attr-defined]
    "Example: tricrm --db ./demo.db demo --customers 5000 --seed 7 --no-open"
)

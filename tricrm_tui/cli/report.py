"""``tricrm report``: reports over the customer base."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_json, emit_rows, parse_as_of
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _, format_date
from tricrm_tui.labels import N_

app = typer.Typer(help=_("Reports over the customer base."), no_args_is_help=True)

BREAKDOWN_COLUMNS = [
    ("group", _("Group")),
    ("customers", _("Customers")),
    ("share", _("Share %")),
    ("orders", _("Orders")),
    ("revenue", _("Revenue")),
    ("revenue_share", _("Revenue %")),
    ("revenue_per_customer", _("Revenue per customer")),
]


@app.command(
    "breakdown",
    help=_(
        "Customers, share and revenue per group: region, province, city, industry, size, "
        "behaviour (purchase frequency), category, channel, aov, segment, tier or lifecycle."
    ),
    epilog=_(
        "Example: tricrm report breakdown --by region --where 'kind:enterprise' --format json"
    ),
)
def breakdown_cmd(
    by: Annotated[str, typer.Option("--by", help=_("What to group by."))] = "region",
    where: Annotated[
        str | None, typer.Option("--where", "-w", help=_("Only customers matching this filter."))
    ] = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help=_("Only customers in this saved segment."))
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))] = Format.table,
) -> None:
    from tricrm_tui.services.breakdown import breakdown

    rows = breakdown(ctx(), by, where=where, segment=segment)
    from tricrm_tui.labels import BAND_LABELLERS

    label = BAND_LABELLERS.get(by)
    if label is not None and fmt is Format.table:  # JSON and CSV keep the stored band names
        from dataclasses import replace

        rows = [replace(r, group=label(r.group)) for r in rows]
    title = _("Customers by {field}").format(field=by)
    emit_rows(rows, fmt, columns=BREAKDOWN_COLUMNS, title=title)


AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help=_("Figures as of this date: only orders on or before it count (default: today)."),
        metavar="DATE",
    ),
]


KPI_COLUMNS = [
    ("label", _("Figure")),
    ("value", _("Now")),
    ("previous", _("Previous")),
    ("change", _("Change")),
]


@app.command(
    "kpis",
    help=_(
        "Key figures as of a date beside the previous period: customers, buyers, orders, "
        "revenue, average order value, repeat rate, customers at risk, open work and members "
        "per loyalty level. This month means the month to date, compared with the same days "
        "of last month."
    ),
    epilog=_("Example: tricrm report kpis --as-of 2026-03-31 --format json"),
)
def kpis_cmd(as_of: AsOfOpt = None, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services.kpis import display_change, display_number, kpi_report

    report = kpi_report(ctx(), parse_as_of(as_of))
    if fmt is Format.json:
        emit_json(report)
        return
    if fmt is Format.csv:
        emit_rows([k.to_dict() for k in report.kpis], fmt)
        return
    rows = [
        {
            "label": k.label,
            "value": display_number(k.kind, k.value),
            "previous": "" if k.previous is None else display_number(k.kind, k.previous),
            "change": display_change(k),
        }
        for k in report.kpis
    ]
    title = _("Key figures as of {date}").format(date=format_date(report.as_of))
    footer = _("previous: {start} – {end} (same days of last month)").format(
        start=format_date(report.previous_start), end=format_date(report.previous_end)
    )
    emit_rows(rows, fmt, columns=KPI_COLUMNS, title=title, footer=footer)


TREND_COLUMNS = [
    ("month", _("Month")),
    ("revenue", _("Revenue")),
    ("orders", _("Orders")),
    ("new_customers", _("New customers")),
    ("active_customers", _("Active customers")),
]
METRIC_NAMES = {
    "revenue": N_("Revenue"),
    "orders": N_("Orders"),
    "new": N_("New customers"),
    "active": N_("Active customers"),
}


class Metric(enum.StrEnum):
    revenue = "revenue"
    orders = "orders"
    new = "new"
    active = "active"


@app.command(
    "trend",
    help=_(
        "Revenue, orders, new customers (first order) and active customers (who bought) per "
        "month for the last N months; months without orders show 0. On a terminal the table "
        "is followed by a bar chart of --metric."
    ),
    epilog=_("Example: tricrm report trend --months 24 --metric active"),
)
def trend_cmd(
    months: Annotated[
        int, typer.Option("--months", "-m", min=1, max=120, help=_("How many months."))
    ] = 12,
    metric: Annotated[
        Metric, typer.Option("--metric", help=_("What the chart shows."))
    ] = Metric.revenue,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services.trends import monthly_trend

    rows = monthly_trend(ctx(), months, parse_as_of(as_of))
    title = _("The last {n} months").format(n=months)
    emit_rows(rows, fmt, columns=TREND_COLUMNS, title=title)
    if fmt is Format.table and sys.stdout.isatty():
        sys.stdout.write(
            bar_chart(
                [r.month for r in rows],
                [float(r.metric(metric.value)) for r in rows],
                _(METRIC_NAMES[metric.value]),
            )
            + "\n"
        )


def bar_chart(months: list[str], values: list[float], title: str, *, height: int = 15) -> str:
    """A plotext bar chart as text, as wide as the terminal (at most 120 columns)."""
    import shutil

    import plotext as plt

    from tricrm_tui.charts import draw_month_bars

    width = min(shutil.get_terminal_size().columns, 120)
    draw_month_bars(plt, months, values, title, max_labels=max(2, width // 12))
    plt.plotsize(width, height)
    return str(plt.build())


@app.command(
    "cohorts",
    help=_(
        "Retention by cohort: customers grouped by the month of their first order, and the "
        "share of each cohort who bought again 1, 2 … N months later."
    ),
    epilog=_("Example: tricrm report cohorts --months 6 --format csv"),
)
def cohorts_cmd(
    months: Annotated[
        int, typer.Option("--months", "-m", min=1, max=120, help=_("How many cohorts and months."))
    ] = 6,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services.cohorts import cohorts

    rows = cohorts(ctx(), months, parse_as_of(as_of))
    if fmt is Format.json:
        emit_json(rows)
        return
    flat = [
        {
            "cohort": r.cohort,
            "customers": r.customers,
            **{
                f"month_{k}": ("" if v is None else f"{v}%") if fmt is Format.table else v
                for k, v in enumerate(r.retention, start=1)
            },
        }
        for r in rows
    ]
    columns = [("cohort", _("Cohort")), ("customers", _("Customers"))]
    columns += [(f"month_{k}", f"+{k}") for k in range(1, months + 1)]
    title = _("Share of each first-order cohort buying again, by month")
    emit_rows(flat, fmt, columns=columns, title=title)

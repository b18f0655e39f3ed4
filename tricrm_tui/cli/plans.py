"""``tricrm plans``: communication plans per tier or segment — list, set, remove, run."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_json, emit_rows, info
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Communication plans: how often each tier or segment is contacted, and at most."),
    no_args_is_help=True,
)

DateOpt = Annotated[
    str | None,
    typer.Option("--date", help=_("Run as of this date (default: today).")),
]

PLAN_COLUMNS = [
    ("name", _("Name")),
    ("target", _("Target")),
    ("every_days", _("Every (days)")),
    ("channel", _("Channel")),
    ("quiet", _("Quiet hours")),
    ("cap", _("Cap")),
    ("active", _("Active")),
]
RUN_COLUMNS = [
    ("id", _("ID")),
    ("rule", _("Rule")),
    ("customer_code", _("Code")),
    ("customer_name", _("Name")),
    ("due", _("Due")),
    ("reason", _("Reason")),
]


def emit_run_report(report: Any, fmt: Format) -> None:
    """What a plans or care run created (and whom a cap held back)."""
    if fmt is Format.json:
        emit_json(
            {
                "date": report.date,
                "created": report.created,
                "capped": [{"rule": r, "customer_code": c} for r, c in report.capped],
            }
        )
        return
    emit_rows(report.created, fmt, columns=RUN_COLUMNS)
    info(
        _("{created} follow-ups created for {date}; {capped} customers skipped by a cap").format(
            created=len(report.created), date=report.date.isoformat(), capped=len(report.capped)
        )
    )


@app.command(
    "list",
    help=_("List the communication plans."),
    epilog=_("Example: tricrm plans list --format json"),
)
def list_cmd(fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import plans

    emit_rows(plans.list_plans(ctx()), fmt, columns=PLAN_COLUMNS)


@app.command(
    "set",
    help=_("Create or change a plan (or, with --defaults, add the shipped plans)."),
    epilog=_(
        "Example: tricrm plans set vip-call --target tier:high --every 30d --channel phone "
        "--cap 4/30d --quiet 21:00-09:00"
    ),
)
def set_cmd(
    name: Annotated[str | None, typer.Argument(help=_("Plan name."))] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help=_("tier:VALUE, segment:VALUE, lifecycle:VALUE, level:VALUE, all, or a filter."),
        ),
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", help=_("Cadence, e.g. 30d, 8w or 30天."))
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help=_("Preferred channel."))] = "phone",
    cap: Annotated[
        str | None,
        typer.Option("--cap", help=_("At most N contacts per period, e.g. 4/30d or 4/30天.")),
    ] = None,
    quiet: Annotated[
        str | None, typer.Option("--quiet", help=_("Quiet hours, e.g. 21:00-09:00."))
    ] = None,
    inactive: Annotated[
        bool, typer.Option("--inactive", help=_("Save the plan switched off."))
    ] = False,
    defaults: Annotated[
        bool, typer.Option("--defaults", help=_("Add the shipped default plans."))
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import plans
    from tricrm_tui.services.errors import InvalidInput

    if defaults:
        emit_rows(plans.seed_default_plans(ctx()), fmt, columns=PLAN_COLUMNS)
        return
    if not name or not target or not every:
        raise InvalidInput(_("give a plan name, --target and --every (or --defaults)"))
    record = plans.set_plan(
        ctx(),
        name,
        target=target,
        every=every,
        channel=channel,
        cap=cap,
        quiet=quiet,
        active=not inactive,
    )
    emit_rows([record], fmt, columns=PLAN_COLUMNS)


@app.command(
    "remove",
    help=_("Remove a plan (tasks it created stay)."),
    epilog=_("Example: tricrm plans remove vip-call"),
)
def remove_cmd(name: Annotated[str, typer.Argument(help=_("Plan name."))]) -> None:
    from tricrm_tui.services import plans

    plans.remove_plan(ctx(), name)
    info(_("removed plan {name}").format(name=name))


@app.command(
    "run",
    help=_("Create the follow-ups the plans call for (running twice creates nothing new)."),
    epilog=_("Example: tricrm plans run --date 2026-12-01 --format json"),
)
def run_cmd(date: DateOpt = None, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import plans
    from tricrm_tui.services.normalize import parse_date

    day = parse_date(date, field="date") if date else None
    emit_run_report(plans.run_plans(ctx(), day), fmt)

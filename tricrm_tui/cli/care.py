"""``tricrm care``: birthday, anniversary and holiday care rules — rules list|set|remove, run."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_rows, info
from tricrm_tui.cli.plans import DateOpt, emit_run_report
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Care dates: birthdays, anniversaries and festivals turned into care tasks."),
    no_args_is_help=True,
)
rules_app = typer.Typer(help=_("Care rules: list, set, remove."), no_args_is_help=True)
app.add_typer(rules_app, name="rules")

RULE_COLUMNS = [
    ("name", _("Name")),
    ("kind", _("Kind")),
    ("occasion_name", _("Occasion")),
    ("days_ahead", _("Days ahead")),
    ("target", _("Target")),
    ("channel", _("Channel")),
    ("message", _("Message")),
    ("active", _("Active")),
]


@rules_app.command(
    "list",
    help=_("List the care rules."),
    epilog=_("Example: tricrm care rules list --format json"),
)
def list_cmd(fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import care

    emit_rows(care.list_care_rules(ctx()), fmt, columns=RULE_COLUMNS)


@rules_app.command(
    "set",
    help=_("Create or change a care rule."),
    epilog=_(
        "Example: tricrm care rules set 中秋礼品 --kind lunar --occasion mid_autumn "
        "--days-ahead 7 --target tier:high"
    ),
)
def set_cmd(
    name: Annotated[str, typer.Argument(help=_("Rule name."))],
    kind: Annotated[str, typer.Option("--kind", help=_("birthday, anniversary, lunar or solar."))],
    occasion: Annotated[
        str | None,
        typer.Option(
            "--occasion",
            help=_(
                "Lunar: spring_festival, lantern, dragon_boat, qixi, mid_autumn, double_ninth. "
                "Solar: MM-DD such as 10-01."
            ),
        ),
    ] = None,
    days_ahead: Annotated[
        int,
        typer.Option(
            "--days-ahead", min=0, max=60, help=_("Create the task this many days before.")
        ),
    ] = 3,
    target: Annotated[
        str, typer.Option("--target", help=_("all, tier:VALUE, segment:VALUE, or a filter."))
    ] = "all",
    channel: Annotated[str, typer.Option("--channel", help=_("Channel."))] = "phone",
    message: Annotated[
        str | None, typer.Option("--message", help=_("What to say or send."))
    ] = None,
    inactive: Annotated[
        bool, typer.Option("--inactive", help=_("Save the rule switched off."))
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import care

    record = care.set_care_rule(
        ctx(),
        name,
        kind=kind,
        occasion=occasion,
        days_ahead=days_ahead,
        target=target,
        channel=channel,
        message=message,
        active=not inactive,
    )
    emit_rows([record], fmt, columns=RULE_COLUMNS)


@rules_app.command(
    "remove",
    help=_("Remove a care rule (tasks it created stay)."),
    epilog=_("Example: tricrm care rules remove 中秋礼品"),
)
def remove_cmd(name: Annotated[str, typer.Argument(help=_("Rule name."))]) -> None:
    from tricrm_tui.services import care

    care.remove_care_rule(ctx(), name)
    info(_("removed care rule {name}").format(name=name))


@app.command(
    "run",
    help=_("Create the care tasks due (running twice creates nothing new)."),
    epilog=_("Example: tricrm care run --date 2027-02-01"),
)
def run_cmd(date: DateOpt = None, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import care
    from tricrm_tui.services.normalize import parse_date

    day = parse_date(date, field="date") if date else None
    emit_run_report(care.run_care(ctx(), day), fmt)

"""``tricrm loyalty``: points balance and ledger, redemptions, adjustments, levels, the daily run."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_record, emit_rows, info, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Loyalty: points, redemptions, adjustments and member levels."), no_args_is_help=True
)

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
CodeArg = Annotated[str, typer.Argument(help=_("Customer code."))]
ReasonOpt = Annotated[
    str, typer.Option("--reason", help=_("Why (required; kept in the ledger and audit trail)."))
]

LEDGER_COLUMNS = [
    ("at", _("When")),
    ("kind", _("Kind")),
    ("points", _("Points")),
    ("source_key", _("Source")),
    ("reason", _("Reason")),
    ("expires_on", _("Expires")),
]
STATUS_LABELS = {
    "code": _("Code"),
    "name": _("Name"),
    "balance": _("Points balance"),
    "level": _("Level"),
    "level_rank": _("Rank"),
    "multiplier": _("Multiplier"),
    "window_from": _("Window from"),
    "as_of": _("As of"),
    "window_points": _("Points earned in window"),
    "window_spend": _("Spend in window"),
    "next_level": _("Next level"),
    "points_to_next": _("Points to next level"),
    "spend_to_next": _("Spend to next level"),
    "next_expiry": _("Next expiry"),
    "next_expiry_points": _("Points expiring then"),
    "id": _("Entry"),
    "at": _("When"),
    "kind": _("Kind"),
    "points": _("Points"),
    "source_key": _("Source"),
    "reason": _("Reason"),
    "expires_on": _("Expires"),
    "actor": _("Operator"),
    "date": _("Date"),
    "customers": _("Customers reviewed"),
    "orders_accrued": _("Orders accrued"),
    "points_earned": _("Points earned"),
    "lots_expired": _("Lots expired"),
    "points_expired": _("Points expired"),
    "upgrades": _("Upgrades"),
    "downgrades": _("Downgrades"),
}
LEVEL_COLUMNS = [
    ("rank", _("Rank")),
    ("name", _("Level")),
    ("min_points", _("Points needed")),
    ("min_spend", _("Spend needed")),
    ("multiplier", _("Multiplier")),
    ("members", _("Members")),
]


@app.command(
    "balance",
    help=_("Show a customer's points, level, the next level and the next points to expire."),
    epilog=_("Example: tricrm loyalty balance C000123 --format json"),
)
def balance_cmd(code: CodeArg, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import loyalty

    status = loyalty.get_status(ctx(), code)
    _emit(status, fmt, title=f"{status.name} ({status.code})")


@app.command(
    "ledger",
    help=_("List a customer's points ledger, newest first."),
    epilog=_("Example: tricrm loyalty ledger C000123 --limit 20 --format csv"),
)
def ledger_cmd(
    code: CodeArg,
    limit: LimitOpt = 20,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import loyalty

    page = loyalty.list_ledger(ctx(), code, limit=limit, offset=offset)
    emit_rows(
        page.items,
        fmt,
        columns=LEDGER_COLUMNS,
        footer=page_caption(page),
    )


def _emit(record: object, fmt: Format, title: str | None = None) -> None:
    """JSON and CSV keep the field names; the table shows them translated."""
    if fmt is not Format.table:
        emit_record(record, fmt, title=title)
        return
    values = _for_table(dataclasses.asdict(record))  # type: ignore[call-overload]
    emit_record({STATUS_LABELS.get(k, k): v for k, v in values.items()}, fmt, title=title)


def _for_table(values: dict[str, object]) -> dict[str, object]:
    """A multiplier is a factor, not money: shown as ×1.25."""
    if values.get("multiplier") is not None:
        values["multiplier"] = f"×{values['multiplier']}"
    return values


def _posted(entry: object, code: str, fmt: Format) -> None:
    from tricrm_tui.services import loyalty

    status = loyalty.get_status(ctx(), code)
    if fmt is Format.table:
        info(_("{code}: balance {balance} points").format(code=code, balance=status.balance))
    _emit(entry, fmt)


@app.command(
    "redeem",
    help=_("Redeem points; more than the balance is refused."),
    epilog=_("Example: tricrm loyalty redeem C000123 500 --reason '兑换保温杯'"),
)
def redeem_cmd(
    code: CodeArg,
    points: Annotated[int, typer.Argument(help=_("Points to take (above zero)."))],
    reason: ReasonOpt,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import loyalty

    entry = loyalty.redeem_points(ctx(), code, points, reason)
    _posted(entry, code, fmt)


@app.command(
    "adjust",
    help=_("Add (positive) or remove (negative) points; the balance never goes below zero."),
    epilog=_("Example: tricrm loyalty adjust C000123 -200 --reason '重复积分更正'"),
    # so that a negative amount such as -200 reads as the argument, not as options -2 -0 -0
    context_settings={"ignore_unknown_options": True},
)
def adjust_cmd(
    code: CodeArg,
    points: Annotated[int, typer.Argument(help=_("Points to add, or remove when negative."))],
    reason: ReasonOpt,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import loyalty

    entry = loyalty.adjust_points(ctx(), code, points, reason)
    _posted(entry, code, fmt)


@app.command(
    "levels",
    help=_("List member levels with their thresholds, multipliers and member counts."),
    epilog=_("Example: tricrm loyalty levels --format json"),
)
def levels_cmd(fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import loyalty

    levels = loyalty.list_levels(ctx())
    if fmt is Format.table:
        emit_rows([_for_table(dataclasses.asdict(lv)) for lv in levels], fmt, columns=LEVEL_COLUMNS)
        return
    emit_rows(levels, fmt, columns=LEVEL_COLUMNS)


@app.command(
    "run",
    help=_(
        "Accrue points for orders up to the date, expire lots due by it and review levels. "
        "Running it again for the same date changes nothing."
    ),
    epilog=_("Example: tricrm loyalty run --date 2026-03-31 --format json"),
)
def run_cmd(
    date: Annotated[
        str | None, typer.Option("--date", help=_("Run as of this date (default: today)."))
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import loyalty
    from tricrm_tui.services.normalize import parse_date

    day = parse_date(date, field="date") if date else None
    summary = loyalty.run_loyalty(ctx(), day)
    _emit(summary, fmt, title=_("Loyalty run for {date}").format(date=summary.date))

"""``tricrm value``: RFM, value tiers, lifecycle, predicted lifetime value and churn risk."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tricrm_tui.cli.output import (
    Format,
    FormatOpt,
    emit_json,
    emit_record,
    emit_rows,
    info,
    page_caption,
    parse_as_of,
)
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Customer value: RFM segments, tiers, lifecycle, lifetime value and churn risk."),
    no_args_is_help=True,
)

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help=_("Value as of this date, using only orders on or before it (default: today)."),
        metavar="DATE",
    ),
]

RFM_COLUMNS = [
    ("code", _("Code")),
    ("name", _("Name")),
    ("rfm", _("R F M")),
    ("segment", _("Segment")),
    ("tier", _("Tier")),
    ("lifecycle", _("Lifecycle")),
    ("p_alive", _("P(alive)")),
    ("clv", _("CLV")),
]
"""The table keeps to what fits 80 columns; JSON and CSV carry every field."""


def _labelled(rows: list[Any]) -> list[dict[str, Any]]:
    """Table rows: display names for segment, tier and lifecycle; scores as one column."""
    from dataclasses import asdict

    from tricrm_tui.services.value import lifecycle_label, segment_label
    from tricrm_tui.services.value_config import load_settings

    settings = load_settings()
    out = []
    for row in rows:
        d = asdict(row)
        if "r" in d:
            d["rfm"] = "" if d["r"] is None else f"{d['r']} {d['f']} {d['m']}"
        if d.get("segment") is not None:
            d["segment"] = segment_label(d["segment"])
        if "tier" in d:
            d["tier"] = settings.tier_name(d["tier"])
        if "lifecycle" in d:
            d["lifecycle"] = lifecycle_label(d["lifecycle"])
        if d.get("p_alive") is not None:
            d["p_alive"] = f"{d['p_alive']:.2f}"
        if d.get("expected_purchases") is not None:
            d["expected_purchases"] = f"{d['expected_purchases']:.2f}"
        out.append(d)
    return out


@app.command(
    "rfm",
    help=_(
        "Recency, frequency and spend per customer with their 1–5 scores, segment, tier, "
        "lifecycle, P(alive), expected purchases and lifetime value."
    ),
    epilog=_("Example: tricrm value rfm --as-of 2025-06-30 --where 'province:广东' --format json"),
)
def rfm_cmd(
    as_of: AsOfOpt = None,
    where: Annotated[
        str | None,
        typer.Option("--where", "-w", help=_("Only customers matching this filter expression.")),
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import value

    page = value.value_rows(ctx(), parse_as_of(as_of), where=where, limit=limit, offset=offset)
    footer = page_caption(page)
    if fmt is Format.table:
        emit_rows(_labelled(page.items), fmt, columns=RFM_COLUMNS, footer=footer)
    else:
        emit_rows(page.items, fmt)


@app.command(
    "refresh",
    help=_(
        "Recompute every customer's value as of a date and store it in the history "
        "(re-running a date replaces it)."
    ),
    epilog=_("Example: tricrm value refresh --as-of 2025-06-30"),
)
def refresh_cmd(as_of: AsOfOpt = None) -> None:
    from tricrm_tui.services import value

    result = value.value_refresh(ctx(), parse_as_of(as_of))
    for message in result.messages:
        info(message)
    info(
        _("valued {n} customers ({buyers} with orders) as of {date}").format(
            n=result.customers, buyers=result.buyers, date=result.as_of
        )
    )
    if not result.current:
        info(_("a later snapshot exists: the customers' current value columns were kept"))


@app.command(
    "model",
    help=_("The fitted BG/NBD and Gamma-Gamma parameters as of a date."),
    epilog=_("Example: tricrm value model --as-of 1997-09-30 --format json"),
)
def model_cmd(as_of: AsOfOpt = None, fmt: FormatOpt = Format.json) -> None:
    from tricrm_tui.services import value

    report = value.model_report(ctx(), parse_as_of(as_of))
    for message in report["messages"]:
        info(message)
    if fmt is Format.json:
        emit_json(report)
        return
    flat: dict[str, Any] = {
        "as_of": report["as_of"],
        "customers": report["customers"],
        "time_unit": report["time_unit"],
    }
    for model in ("bgnbd", "gamma_gamma"):
        for key, val in (report[model] or {}).items():
            flat[f"{model}.{key}"] = round(val, 4)
    emit_record(flat, fmt)


@app.command(
    "tiers",
    help=_("Customers, value and value share per tier, with each tier's threshold."),
    epilog=_("Example: tricrm value tiers --format json"),
)
def tiers_cmd(as_of: AsOfOpt = None, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import value

    summary = value.tiers_summary(ctx(), parse_as_of(as_of))
    for message in summary.messages:
        info(message)
    if fmt is Format.json:
        emit_json(summary)
        return
    basis = _("predicted lifetime value") if summary.basis == "clv" else _("past spend")
    emit_rows(
        summary.tiers,
        fmt,
        columns=[
            ("name", _("Tier")),
            ("customers", _("Customers")),
            ("value", _("Value")),
            ("share", _("Share")),
            ("threshold", _("Threshold")),
        ],
        title=_("Value tiers as of {date} by {basis}").format(date=summary.as_of, basis=basis),
    )


@app.command(
    "at-risk",
    help=_(
        "Customers slipping away: P(alive) below the threshold or overdue against their own "
        "purchase rhythm, by value at stake, with the reason."
    ),
    epilog=_("Example: tricrm value at-risk --threshold 0.3 --factor 2 --format csv"),
)
def at_risk_cmd(
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", "-p", help=_("P(alive) below this is at risk (0–1).")),
    ] = None,
    factor: Annotated[
        float | None,
        typer.Option(
            "--factor", help=_("Overdue when the gap exceeds the usual interval times this.")
        ),
    ] = None,
    as_of: AsOfOpt = None,
    stored: Annotated[
        bool,
        typer.Option(
            "--stored",
            help=_(
                "Read the stored value refresh on or before --as-of (default: today) instead "
                "of refitting: the list the Dashboard shows."
            ),
        ),
    ] = False,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import value

    if stored:
        if threshold is not None or factor is not None:
            raise typer.BadParameter(
                _("--threshold and --factor need a refit: leave out --stored"),
                param_hint="--stored",
            )
        _stored_at_risk(parse_as_of(as_of), limit, offset, fmt)
        return
    page = value.at_risk(ctx(), threshold, factor, parse_as_of(as_of), limit=limit, offset=offset)
    footer = page_caption(page)
    if fmt is not Format.table:
        emit_rows(page.items, fmt)
        return
    emit_rows(
        _labelled(page.items),
        fmt,
        columns=[
            ("code", _("Code")),
            ("name", _("Name")),
            ("value_at_stake", _("At stake")),
            ("p_alive", _("P(alive)")),
            ("lifecycle", _("Lifecycle")),
            ("reason", _("Reason")),
        ],
        footer=footer,
    )


def _stored_at_risk(as_of: Any, limit: int, offset: int, fmt: Format) -> None:
    """``value at-risk --stored``: the snapshot on or before the date, as the Dashboard
    reads it (default: today, the Dashboard's default date)."""
    from tricrm_tui.i18n import format_date
    from tricrm_tui.services import value

    c = ctx()
    day = as_of or c.today()
    page = value.at_risk_from_snapshot(c, as_of=day, limit=limit, offset=offset)
    if fmt is not Format.table:
        emit_rows(page.items, fmt)
        return
    title = (
        _("At risk in the value refresh of {date}").format(date=format_date(page.items[0].as_of))
        if page.items
        else _("No customers at risk in the value refresh on or before {date}").format(
            date=format_date(day)
        )
    )
    emit_rows(
        _labelled(page.items),
        fmt,
        columns=[
            ("code", _("Code")),
            ("name", _("Name")),
            ("tier", _("Tier")),
            ("p_alive", _("P(alive)")),
            ("clv", _("CLV")),
            ("last_order", _("Last order")),
        ],
        title=title,
        footer=page_caption(page),
    )


@app.command(
    "history",
    help=_("A customer's stored value snapshots, newest first."),
    epilog=_("Example: tricrm value history C000123 --format json"),
)
def history_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import value

    page = value.value_history(ctx(), code, limit=limit, offset=offset)
    footer = page_caption(page)
    if fmt is not Format.table:
        emit_rows(page.items, fmt)
        return
    emit_rows(
        _labelled(page.items),
        fmt,
        columns=[
            ("as_of", _("As of")),
            ("rfm", _("R F M")),
            ("segment", _("Segment")),
            ("tier", _("Tier")),
            ("lifecycle", _("Lifecycle")),
            ("p_alive", _("P(alive)")),
            ("clv", _("CLV")),
        ],
        footer=footer,
    )

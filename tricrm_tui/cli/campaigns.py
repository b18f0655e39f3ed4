"""``tricrm campaigns``: create, preview, send and report personalised campaigns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tricrm_tui.cli.figures import as_numbers
from tricrm_tui.cli.output import (
    Format,
    FormatOpt,
    emit_json,
    emit_record,
    emit_rows,
    info,
    page_caption,
)
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Campaigns: personalised email, SMS and call campaigns to a segment."),
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(help=_("Campaign name."))]


@app.command(
    "create",
    help=_(
        "Create a campaign. The template is Jinja2 (sandboxed) with the fields name, code, "
        "tier, points, level, city, recommended and operator."
    ),
    epilog=_(
        "Example: tricrm campaigns create 春季回馈 --segment 高价值 --channel email "
        "--subject '{{ name }}，春季回馈' --template spring.txt --attribution-days 14"
    ),
)
def create_cmd(
    name: NameArg,
    channel: Annotated[str, typer.Option("--channel", help=_("email, sms or phone."))],
    template: Annotated[
        str, typer.Option("--template", help=_("Template file, or the template text itself."))
    ],
    segment: Annotated[
        str | None,
        typer.Option("--segment", help=_("Saved segment to target (default: all customers).")),
    ] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help=_("Email subject (a template too)."))
    ] = None,
    attribution_days: Annotated[
        int,
        typer.Option(
            "--attribution-days", min=0, max=365, help=_("Days after sending that orders count.")
        ),
    ] = 14,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import campaigns

    path = Path(template)
    text = path.read_text(encoding="utf-8") if len(template) < 1024 and path.is_file() else template
    rec = campaigns.create_campaign(
        ctx(),
        name,
        channel=channel,
        template=text,
        segment=segment,
        subject=subject,
        attribution_days=attribution_days,
    )
    if fmt is Format.table:
        info(_("created campaign {name}").format(name=rec.name))
    else:
        emit_record(rec, fmt)


@app.command(
    "list",
    help=_("List campaigns, newest first."),
    epilog=_("Example: tricrm campaigns list --format json"),
)
def list_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import campaigns

    page = campaigns.list_campaigns(ctx(), limit=limit, offset=offset)
    emit_rows(
        page.items,
        fmt,
        columns=[
            ("name", _("Name")),
            ("channel", _("Channel")),
            ("segment", _("Segment")),
            ("status", _("Status")),
            ("delivered", _("Delivered")),
            ("sent_at", _("Sent")),
        ],
        footer=page_caption(page),
    )


@app.command(
    "preview",
    help=_("Show the message as each recipient would get it, before sending."),
    epilog=_("Example: tricrm campaigns preview 春季回馈 --customer C000123"),
)
def preview_cmd(
    name: NameArg,
    customer: Annotated[
        str | None, typer.Option("--customer", help=_("Preview for this customer only."))
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100)] = 3,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import campaigns

    if customer:
        items = [campaigns.preview(ctx(), name, customer)]
        footer = None
    else:
        page = campaigns.preview_page(ctx(), name, limit=limit, offset=offset)
        items = page.items
        footer = page_caption(page)
    if fmt is not Format.table:
        emit_rows(items, fmt)
        return
    for p in items:
        typer.echo(f"── {p.code} {p.name} <{p.address or ''}> [{p.status}]")
        if p.subject:
            typer.echo(_("Subject: {subject}").format(subject=p.subject))
        typer.echo(p.body.rstrip("\n"))
        typer.echo("")
    if footer:
        info(footer)


@app.command(
    "send",
    help=_(
        "Send the campaign to everyone in its segment not yet reached (email over SMTP), or "
        "export the call or SMS list as CSV. Consent and the contact cap are honoured."
    ),
    epilog=_("Example: tricrm campaigns send 春季回馈 --dry-run"),
)
def send_cmd(
    name: NameArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=_("Count what would happen; send nothing."))
    ] = False,
    export: Annotated[
        str | None, typer.Option("--export", help=_("Write the list to this CSV file instead."))
    ] = None,
    cap: Annotated[
        int | None,
        typer.Option("--cap", min=1, help=_("Most contacts per customer in the cap window.")),
    ] = None,
    cap_days: Annotated[int, typer.Option("--cap-days", min=1, help=_("Cap window in days."))] = 30,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import campaigns

    result = campaigns.send(
        ctx(),
        name,
        dry_run=dry_run,
        export=export,
        cap=(cap, cap_days) if cap else None,
    )
    if fmt is Format.json:
        emit_json(result)
        return
    rows = [{"outcome": k, "customers": v} for k, v in sorted(result.counts.items())]
    emit_rows(rows, fmt, columns=[("outcome", _("Outcome")), ("customers", _("Customers"))])
    if result.export_path:
        info(_("wrote {path}").format(path=result.export_path))
    if dry_run:
        info(_("dry run: nothing was sent or recorded"))


@app.command(
    "report",
    help=_("Sent, failed and skipped counts, responses, conversions and revenue."),
    epilog=_("Example: tricrm campaigns report 春季回馈 --format json"),
)
def report_cmd(name: NameArg, fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import campaigns

    rep = campaigns.report(ctx(), name)
    emit_record(as_numbers(rep, money=("revenue",)), fmt, title=rep.name)

"""``tricrm segments``: saved customer filters (save, list, show, delete)."""

from __future__ import annotations

from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, FormatOpt, emit_json, emit_rows, info, page_caption
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Saved segments: customer filters kept under a name."), no_args_is_help=True
)


SEGMENT_COLUMNS = [
    ("name", _("Name")),
    ("expression", _("Expression")),
    ("description", _("Description")),
    ("created_by", _("Created by")),
]
MEMBER_COLUMNS = [
    ("code", _("Code")),
    ("name", _("Name")),
    ("province", _("Province")),
    ("city", _("City")),
    ("order_count", _("Orders")),
    ("total_spent", _("Total spent")),
]


@app.command(
    "save",
    help=_("Save a filter expression under a name (see 'tricrm segments syntax')."),
    epilog=_("Example: tricrm segments save south-vip 'region:华南 tag:vip orders>=3'"),
)
def save_cmd(
    name: Annotated[str, typer.Argument(help=_("Segment name (no spaces)."))],
    expression: Annotated[str, typer.Argument(help=_("Filter expression."))],
    description: Annotated[
        str | None, typer.Option("--description", "-d", help=_("What the segment is for."))
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help=_("Overwrite a segment of the same name."))
    ] = False,
) -> None:
    from tricrm_tui.services import segments

    rec = segments.save_segment(ctx(), name, expression, description=description, replace=replace)
    info(_("saved segment {name}: {expression}").format(name=rec.name, expression=rec.expression))


@app.command(
    "list",
    help=_("List saved segments."),
    epilog=_("Example: tricrm segments list --format json"),
)
def list_cmd(fmt: FormatOpt = Format.table) -> None:
    from tricrm_tui.services import segments

    emit_rows(segments.list_segments(ctx()), fmt, columns=SEGMENT_COLUMNS)


@app.command(
    "show",
    help=_("Show a segment: its expression in words, member count and first members."),
    epilog=_("Example: tricrm segments show south-vip --limit 20"),
)
def show_cmd(
    name: Annotated[str, typer.Argument(help=_("Segment name."))],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))
    ] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import segments
    from tricrm_tui.services.filters import describe_filter

    c = ctx()
    view = segments.show_segment(c, name, limit=limit, offset=offset)
    meaning = describe_filter(view.segment.expression, today=c.today())
    if fmt is Format.json:
        emit_json(
            {
                **view.segment.__dict__,
                "meaning": meaning,
                "count": view.count,
                "members": [m.to_dict() for m in view.members.items],
            }
        )
        return
    info(f"{view.segment.name}: {view.segment.expression}")
    info(_("means: {meaning}").format(meaning=meaning))
    info(_("{count} customers").format(count=view.count))
    page = view.members
    emit_rows(
        page.items,
        fmt,
        columns=MEMBER_COLUMNS,
        footer=page_caption(page),
    )


@app.command(
    "delete",
    help=_("Delete a saved segment (refused while another segment or a campaign uses it)."),
    epilog=_("Example: tricrm segments delete south-vip"),
)
def delete_cmd(name: Annotated[str, typer.Argument(help=_("Segment name."))]) -> None:
    from tricrm_tui.services import segments

    segments.delete_segment(ctx(), name)
    info(_("deleted segment {name}").format(name=name))


@app.command(
    "syntax",
    help=_("Explain the filter language, or check and explain one expression."),
    epilog=_("Example: tricrm segments syntax 'province:广东 last_order<90d'"),
)
def syntax_cmd(
    expression: Annotated[
        str | None, typer.Argument(help=_("An expression to check and explain."))
    ] = None,
) -> None:
    from tricrm_tui.services.filters import (
        describe_filter,
        filter_help,
        format_filter,
        parse_filter,
    )

    if expression is None:
        typer.echo(filter_help())
        return
    node = parse_filter(expression)
    typer.echo(format_filter(node))
    typer.echo(describe_filter(node, today=ctx().today()))

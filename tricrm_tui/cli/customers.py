"""``tricrm customers``: list, search, show, add, edit, delete."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tricrm_tui.cli.output import Format, emit_record, emit_rows, info, page_footer
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Customers: list, search, show, add, edit and delete."), no_args_is_help=True
)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help=_("Output format."))]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]

LIST_COLUMNS = [
    ("code", _("Code")),
    ("name", _("Name")),
    ("kind", _("Kind")),
    ("province", _("Province")),
    ("city", _("City")),
    ("phone", _("Phone")),
    ("order_count", _("Orders")),
    ("total_spent", _("Total spent")),
    ("value_tier", _("Value tier")),
]


@app.command(
    "list",
    help=_("List customers, one page at a time."),
    epilog=_("Example: tricrm customers list --search 张伟 --sort -spent --limit 20 --format json"),
)
def list_cmd(
    search: Annotated[
        str | None,
        typer.Option(
            "--search", "-s", help=_("Find by code, name, phone digits, email, tag or notes.")
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option("--sort", help=_("Sort field; prefix with - for descending (e.g. -spent).")),
    ] = "code",
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import customers

    page = customers.list_customers(ctx(), search=search, sort=sort, limit=limit, offset=offset)
    emit_rows(
        page.items,
        fmt,
        columns=LIST_COLUMNS,
        footer=page_footer(page.offset, len(page.items), page.total),
    )


@app.command(
    "show",
    help=_("Show everything stored about one customer."),
    epilog=_("Example: tricrm customers show C000123 --format json"),
)
def show_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import customers

    record = customers.get_customer(ctx(), code)
    emit_record(record, fmt, title=f"{record.name} ({record.code})")


def _fields(
    name: str | None,
    kind: str | None,
    industry: str | None,
    size: str | None,
    province: str | None,
    city: str | None,
    address: str | None,
    phone: str | None,
    email: str | None,
    birthday: str | None,
    registered: str | None,
    source: str | None,
    owner: str | None,
    tags: str | None,
    notes: str | None,
    custom: str | None,
) -> dict[str, object]:
    values = {
        "name": name,
        "kind": kind,
        "industry": industry,
        "size": size,
        "province": province,
        "city": city,
        "address": address,
        "phone": phone,
        "email": email,
        "birthday": birthday,
        "registered": registered,
        "source": source,
        "owner": owner,
        "tags": tags,
        "notes": notes,
    }
    out: dict[str, object] = {k: v for k, v in values.items() if v is not None}
    if custom is not None:
        from tricrm_tui.services.errors import InvalidInput

        try:
            parsed = json.loads(custom)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                _("--custom must be a JSON object: {error}").format(error=exc),
                field="custom_fields",
            ) from exc
        out["custom_fields"] = parsed
    return out


NameOpt = Annotated[str | None, typer.Option(help=_("Name."))]
KindOpt = Annotated[str | None, typer.Option(help=_("individual or enterprise (个人/企业)."))]
TextOpt = Annotated[str | None, typer.Option()]
CustomOpt = Annotated[
    str | None, typer.Option("--custom", help=_("Custom fields as a JSON object."))
]


@app.command(
    "add",
    help=_("Add a customer. Phone, email and dates are checked and normalised."),
    epilog=_("Example: tricrm customers add C9001 --name 李娜 --phone '138 1234 5678' --city 深圳"),
)
def add_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code (unique)."))],
    name: Annotated[str, typer.Option("--name", help=_("Name."))],
    kind: KindOpt = None,
    industry: TextOpt = None,
    size: TextOpt = None,
    province: TextOpt = None,
    city: TextOpt = None,
    address: TextOpt = None,
    phone: TextOpt = None,
    email: TextOpt = None,
    birthday: TextOpt = None,
    registered: TextOpt = None,
    source: TextOpt = None,
    owner: TextOpt = None,
    tags: Annotated[str | None, typer.Option(help=_("Comma-separated tags."))] = None,
    notes: TextOpt = None,
    custom: CustomOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import customers

    data = _fields(
        name,
        kind,
        industry,
        size,
        province,
        city,
        address,
        phone,
        email,
        birthday,
        registered,
        source,
        owner,
        tags,
        notes,
        custom,
    )
    record = customers.add_customer(ctx(), {"code": code, **data})
    if fmt is Format.table:
        info(_("added customer {code}").format(code=record.code))
    else:
        emit_record(record, fmt)


@app.command(
    "edit",
    help=_("Change a customer's fields; only the options given are changed."),
    epilog=_("Example: tricrm customers edit C9001 --city 广州 --tags vip,重点 --if-version 3"),
)
def edit_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    name: NameOpt = None,
    kind: KindOpt = None,
    industry: TextOpt = None,
    size: TextOpt = None,
    province: TextOpt = None,
    city: TextOpt = None,
    address: TextOpt = None,
    phone: TextOpt = None,
    email: TextOpt = None,
    birthday: TextOpt = None,
    registered: TextOpt = None,
    source: TextOpt = None,
    owner: TextOpt = None,
    tags: Annotated[
        str | None, typer.Option(help=_("Comma-separated tags (replaces them)."))
    ] = None,
    notes: TextOpt = None,
    custom: CustomOpt = None,
    new_code: Annotated[str | None, typer.Option("--new-code", help=_("Rename the code."))] = None,
    if_version: Annotated[
        int | None,
        typer.Option("--if-version", help=_("Refuse if the record is no longer at this version.")),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import customers
    from tricrm_tui.services.errors import InvalidInput

    data = _fields(
        name,
        kind,
        industry,
        size,
        province,
        city,
        address,
        phone,
        email,
        birthday,
        registered,
        source,
        owner,
        tags,
        notes,
        custom,
    )
    if new_code:
        data["code"] = new_code
    if not data:
        raise InvalidInput(_("nothing to change: give at least one field option"))
    record = customers.edit_customer(ctx(), code, data, expected_version=if_version)
    if fmt is Format.table:
        info(
            _("updated customer {code} (version {version})").format(
                code=record.code, version=record.version
            )
        )
    else:
        emit_record(record, fmt)


@app.command(
    "delete",
    help=_("Delete a customer (kept in the history and the audit trail)."),
    epilog=_("Example: tricrm customers delete C9001 --yes"),
)
def delete_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help=_("Do not ask for confirmation."))
    ] = False,
) -> None:
    from tricrm_tui.services import customers

    if not yes and not typer.confirm(_("Delete customer {code}?").format(code=code)):
        raise typer.Exit(1)
    customers.delete_customer(ctx(), code)
    info(_("deleted customer {code}").format(code=code))


TIMELINE_COLUMNS = [
    ("at", _("When")),
    ("kind", _("Kind")),
    ("summary", _("Summary")),
]


@app.command(
    "timeline",
    help=_("Everything that happened with a customer, newest first."),
    epilog=_("Example: tricrm customers timeline C000123 --limit 20 --format json"),
)
def timeline_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services.timeline import customer_timeline

    page = customer_timeline(ctx(), code, limit=limit, offset=offset)
    emit_rows(
        page.items,
        fmt,
        columns=TIMELINE_COLUMNS,
        footer=page_footer(page.offset, len(page.items), page.total),
    )

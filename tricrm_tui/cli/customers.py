"""``tricrm customers``: list, search, show, add, edit, delete."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tricrm_tui.cli.output import (
    Format,
    FormatOpt,
    emit_json,
    emit_record,
    emit_rows,
    info,
    page_caption,
    page_footer,
)
from tricrm_tui.cli.state import ctx
from tricrm_tui.i18n import _

app = typer.Typer(
    help=_("Customers: list, search, show, add, edit and delete."), no_args_is_help=True
)

LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help=_("Rows per page."))]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help=_("Rows to skip."))]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        "-w",
        help=_(
            "Filter expression, e.g. 'province:广东 orders>=3 last_order<90d' "
            "(last_order<90d = ordered in the last 90 days; see 'tricrm segments syntax')."
        ),
    ),
]

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
    epilog=_(
        "Example: tricrm customers list --where 'province:广东 tag:vip' --sort -spent --format json"
    ),
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
    where: WhereOpt = None,
    segment: Annotated[
        str | None, typer.Option("--segment", help=_("Only customers in this saved segment."))
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import customers, segments

    c = ctx()
    cond = segments.condition_for(c, where=where, segment=segment)
    page = customers.list_customers(
        c, search=search, where=cond, sort=sort, limit=limit, offset=offset
    )
    emit_rows(
        page.items,
        fmt,
        columns=LIST_COLUMNS,
        footer=page_caption(page),
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


@app.command(
    "recommend",
    help=_("Products this customer has not bought, from what similar buyers bought."),
    epilog=_("Example: tricrm customers recommend C000123 --top 5 --format json"),
)
def recommend_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    top: Annotated[int, typer.Option("--top", min=1, max=100, help=_("How many."))] = 5,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import recommend

    items = recommend.recommend(ctx(), code, top=top)
    emit_rows(
        [r.to_dict() for r in items],
        fmt,
        columns=[
            ("sku", _("SKU")),
            ("name", _("Product")),
            ("score", _("Score")),
            ("reason", _("Reason")),
        ],
        footer=None if items else _("no recommendations yet"),
    )


@app.command(
    "tag",
    help=_("Add tags to a customer."),
    epilog=_("Example: tricrm customers tag C9001 vip 重点"),
)
def tag_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    tags: Annotated[list[str], typer.Argument(help=_("Tags to add."))],
) -> None:
    from tricrm_tui.services import classify

    now = classify.tag_customer(ctx(), code, tags)
    info(_("{code} tags: {tags}").format(code=code, tags=", ".join(now)))


@app.command(
    "untag",
    help=_("Remove tags from a customer."),
    epilog=_("Example: tricrm customers untag C9001 vip"),
)
def untag_cmd(
    code: Annotated[str, typer.Argument(help=_("Customer code."))],
    tags: Annotated[list[str], typer.Argument(help=_("Tags to remove."))],
) -> None:
    from tricrm_tui.services import classify

    now = classify.untag_customer(ctx(), code, tags)
    info(_("{code} tags: {tags}").format(code=code, tags=", ".join(now) or "-"))


@app.command(
    "duplicates",
    help=_(
        "Find probable duplicates: same phone or email, or a similar name (pinyin-aware: "
        "张伟 / 張偉 / Zhang Wei) with a matching birthday, city or industry."
    ),
    epilog=_("Example: tricrm customers duplicates --min-score 0.8 --format json"),
)
def duplicates_cmd(
    min_score: Annotated[
        float,
        typer.Option("--min-score", min=0.0, max=1.0, help=_("Lowest group score to show (0–1).")),
    ] = 0.7,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import dedupe

    scan = dedupe.scan_duplicates(ctx(), min_score=min_score)
    groups = scan.groups[offset : offset + limit]
    if fmt is Format.json:
        emit_json([g.to_dict() for g in groups])
        return
    rows = [
        {"codes": " ".join(g.codes), "score": f"{g.score:.2f}", "reasons": "; ".join(g.reasons)}
        for g in groups
    ]
    emit_rows(
        rows,
        fmt,
        columns=[("codes", _("Customers")), ("score", _("Score")), ("reasons", _("Reasons"))],
        footer=page_footer(offset, len(groups), len(scan.groups)),
    )
    for note in scan.capped_blocks:
        info(_("large block limited: {note}").format(note=note))


def _prefer(values: list[str] | None) -> dict[str, str]:
    from tricrm_tui.services.errors import InvalidInput

    out: dict[str, str] = {}
    for item in values or []:
        fname, sep, code = item.partition("=")
        if not sep or not fname.strip() or not code.strip():
            raise InvalidInput(
                _("--prefer takes FIELD=CODE, e.g. phone=C002: {value}").format(value=item),
                field="prefer",
            )
        out[fname.strip()] = code.strip()
    return out


@app.command(
    "merge",
    help=_(
        "Merge customers into the one kept: it takes their orders, interactions, follow-ups, "
        "feedback, points, journey events and tags, and fills its empty fields from theirs."
    ),
    epilog=_("Example: tricrm customers merge C001 C002 C003 --prefer phone=C002"),
)
def merge_cmd(
    keep: Annotated[str, typer.Argument(help=_("Code of the customer to keep."))],
    others: Annotated[list[str], typer.Argument(help=_("Codes of the customers merged into it."))],
    prefer: Annotated[
        list[str] | None,
        typer.Option("--prefer", help=_("FIELD=CODE: take this field from that customer.")),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import merge

    result = merge.merge_customers(ctx(), keep, others, _prefer(prefer))
    if fmt is not Format.table:  # JSON, or CSV as field,value rows for scripts
        emit_record(result, fmt)
        return
    info(
        _("merged {others} into {keep}; moved: {moved}; filled: {filled}").format(
            others=", ".join(result.merged),
            keep=result.kept,
            moved=", ".join(f"{k} {v}" for k, v in result.moved.items()) or "-",
            filled=", ".join(result.filled) or "-",
        )
    )


@app.command(
    "unmerge",
    help=_("Undo a merge: the customer and everything it brought come back."),
    epilog=_("Example: tricrm customers unmerge C002"),
)
def unmerge_cmd(
    code: Annotated[str, typer.Argument(help=_("Code of the merged customer."))],
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import merge

    result = merge.unmerge_customer(ctx(), code)
    if fmt is not Format.table:
        emit_record(result, fmt)
        return
    for line in result.lines():
        info(line)


@app.command(
    "merged",
    help=_("List the customers merged into one, latest first: those unmerge can give back."),
    epilog=_("Example: tricrm customers merged C001 --format json"),
)
def merged_cmd(
    code: Annotated[str, typer.Argument(help=_("Code of the customer kept."))],
    fmt: FormatOpt = Format.table,
) -> None:
    from tricrm_tui.services import merge

    emit_rows(
        merge.merged_in(ctx(), code),
        fmt,
        columns=[
            ("code", _("Code")),
            ("name", _("Name")),
            ("merged_at", _("Merged")),
            ("actor", _("By")),
        ],
    )


@app.command(
    "not-duplicate",
    help=_("Record that two customers are different people, so they are not offered again."),
    epilog=_("Example: tricrm customers not-duplicate C001 C002"),
)
def not_duplicate_cmd(
    first: Annotated[str, typer.Argument(help=_("Customer code."))],
    second: Annotated[str, typer.Argument(help=_("Customer code."))],
) -> None:
    from tricrm_tui.services import merge

    if merge.mark_not_duplicate(ctx(), first, second):
        info(_("recorded: {a} and {b} are different customers").format(a=first, b=second))
    else:
        info(_("already recorded: {a} and {b} are different customers").format(a=first, b=second))


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
        footer=page_caption(page),
    )

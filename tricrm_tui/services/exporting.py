"""Exporting customers, orders or a saved segment to CSV, XLSX or JSON Lines, page by page.

Spreadsheet safety: a cell a spreadsheet would evaluate (text starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) gets a leading ``'`` — OWASP's advice against CSV
injection — so a customer named ``=HYPERLINK(...)`` stays readable text. Numbers stay
numbers: a refund of -5.00 in the amount column is a number, not text to neutralise.

CSV is UTF-8 with a BOM by default (Excel then opens Chinese text correctly), or any
encoding asked for (``gbk`` for older Excel); XLSX uses openpyxl's write-only mode, which
streams rows to disk instead of building the workbook in memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, CustomerTag, Order, Product, ProductCategory, Segment
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.errors import InvalidInput, NotFound

C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
PAGE = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WHATS = ("customers", "orders", "segment")

CUSTOMER_COLUMNS: list[tuple[str, Any]] = [
    ("code", C.code),
    ("name", C.name),
    ("kind", C.kind),
    ("industry", C.industry),
    ("size", C.size_band),
    ("province", C.province),
    ("city", C.city),
    ("address", C.address),
    ("phone", C.phone),
    ("email", C.email),
    ("birthday", C.birthday),
    ("registered", C.registered_on),
    ("source", C.source_channel),
    ("owner", C.owner),
    ("notes", C.notes),
    ("region", C.region),
    ("order_count", C.order_count),
    ("total_spent", C.total_spent),
    ("first_order", C.first_order_on),
    ("last_order", C.last_order_on),
    ("rfm_segment", C.rfm_segment),
    ("value_tier", C.value_tier),
    ("custom_fields", C.custom_fields),
]


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class ExportResult:
    path: str
    format: str
    encoding: str | None
    rows: int


def _customer_condition(ctx: ServiceContext, where: str | None, segment: str | None) -> Any:
    conds = [active_condition()]
    expressions = []
    if segment:
        with ctx.session() as s:
            expr = s.execute(
                sa.select(Segment.__table__.c.expression).where(Segment.__table__.c.name == segment)
            ).scalar_one_or_none()
        if expr is None:
            raise NotFound(_("no segment named {name}").format(name=segment))
        expressions.append(expr)
    if where:
        expressions.append(where)
    if expressions:
        try:
            from tricrm_tui.services.filters import customer_filter
        except ImportError as exc:
            raise InvalidInput(
                _("filter expressions are not available in this version"), field="where"
            ) from exc
        conds += [customer_filter(e, today=ctx.today()) for e in expressions]
    return sa.and_(*conds)


def _customer_pages(ctx: ServiceContext, cond: Any, page: int) -> Iterator[dict[str, Any]]:
    T = CustomerTag.__table__.c
    cols = [c.label(name) for name, c in CUSTOMER_COLUMNS]
    last = 0
    while True:
        with ctx.session() as s:
            rows = s.execute(
                sa.select(C.id, *cols).where(cond, C.id > last).order_by(C.id).limit(page)
            ).all()
            if not rows:
                return
            ids = [r.id for r in rows]
            tags: dict[int, list[str]] = {}
            for cid, tag in s.execute(
                sa.select(T.customer_id, T.tag).where(T.customer_id.in_(ids)).order_by(T.tag)
            ):
                tags.setdefault(cid, []).append(tag)
        for r in rows:
            d = r._asdict()
            cid = d.pop("id")
            d["tags"] = ",".join(tags.get(cid, []))
            d["custom_fields"] = (
                json.dumps(d["custom_fields"], ensure_ascii=False) if d["custom_fields"] else ""
            )
            if d["total_spent"] is not None:
                d["total_spent"] = Decimal(d["total_spent"]).quantize(Decimal("0.01"))
            yield d
        last = rows[-1].id


def _order_pages(ctx: ServiceContext, cond: Any, page: int) -> Iterator[dict[str, Any]]:
    P = Product.__table__
    K = ProductCategory.__table__
    source = (
        Order.__table__.join(Customer.__table__, C.id == O.customer_id)
        .outerjoin(P, P.c.id == O.product_id)
        .outerjoin(K, K.c.id == O.category_id)
    )
    last = 0
    while True:
        q = (
            sa.select(
                O.id,
                O.order_no,
                C.code.label("customer_code"),
                O.order_date.label("date"),
                O.amount,
                O.currency,
                O.quantity,
                P.c.name.label("product"),
                K.c.name.label("category"),
                O.channel,
                O.status,
            )
            .select_from(source)
            .where(O.id > last)
            .order_by(O.id)
            .limit(page)
        )
        if cond is not None:
            q = q.where(cond)
        with ctx.session() as s:
            rows = s.execute(q).all()
        if not rows:
            return
        for r in rows:
            d = r._asdict()
            d.pop("id")
            d["amount"] = Decimal(d["amount"]).quantize(Decimal("0.01"))
            yield d
        last = rows[-1].id


ORDER_HEADERS = [
    "order_no",
    "customer_code",
    "date",
    "amount",
    "currency",
    "quantity",
    "product",
    "category",
    "channel",
    "status",
]


def export_file(
    ctx: ServiceContext,
    what: str,
    path: Path | str,
    *,
    segment: str | None = None,
    where: str | None = None,
    encoding: str | None = None,
    page_size: int = PAGE,
) -> ExportResult:
    """Write ``what`` (customers, orders, or the customers of ``segment``) to ``path``."""
    if what not in WHATS:
        raise InvalidInput(
            _("unknown export: {what} (customers, orders or segment)").format(what=what),
            field="what",
        )
    if what == "segment" and not segment:
        raise InvalidInput(_("name the segment to export"), field="segment")
    path = Path(path)
    if what == "orders":
        cond = None if not where else _customer_condition(ctx, where, None)
        rows = _order_pages(ctx, cond, page_size)
        headers = ORDER_HEADERS
    else:
        cond = _customer_condition(ctx, where, segment if what == "segment" else None)
        rows = _customer_pages(ctx, cond, page_size)
        headers = [name for name, _c in CUSTOMER_COLUMNS] + ["tags"]
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        n = _write_xlsx(path, headers, rows)
        return ExportResult(str(path), "xlsx", None, n)
    if suffix in (".jsonl", ".ndjson", ".json"):
        n = _write_jsonl(path, headers, rows)
        return ExportResult(str(path), "jsonl", "utf-8", n)
    enc = encoding or "utf-8-sig"
    n = _write_csv(path, headers, rows, enc)
    return ExportResult(str(path), "csv", enc, n)


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _write_csv(path: Path, headers: list[str], rows: Iterator[dict[str, Any]], enc: str) -> int:
    n = 0
    try:
        with path.open("w", encoding=enc, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            for row in rows:
                writer.writerow([neutralise(_text(row.get(h))) for h in headers])
                n += 1
    except UnicodeEncodeError as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput(
            _("a value cannot be written in {encoding}: {text}; use utf-8 or gb18030").format(
                encoding=enc, text=exc.object[exc.start : exc.end]
            ),
            field="encoding",
        ) from exc
    except LookupError as exc:
        path.unlink(missing_ok=True)
        raise InvalidInput(
            _("unknown encoding: {name}").format(name=enc), field="encoding"
        ) from exc
    return n


def _write_xlsx(path: Path, headers: list[str], rows: Iterator[dict[str, Any]]) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(headers)
    n = 0
    for row in rows:
        ws.append([neutralise(row.get(h)) for h in headers])
        n += 1
    wb.save(path)
    return n


def _write_jsonl(path: Path, headers: list[str], rows: Iterator[dict[str, Any]]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            data = {h: _json(row.get(h)) for h in headers}
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
            n += 1
    return n


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value

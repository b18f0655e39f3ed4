"""The CDNOW sample (tests/data/cdnow) as customers and orders in a test database.

Rows are written with Core inserts and the customer aggregates refreshed, as an import does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from tricrm_tui.db.search import search_text_for
from tricrm_tui.models import Customer, Order
from tricrm_tui.services.orders import refresh_customer_aggregates

DATA = Path(__file__).parent / "data" / "cdnow"
SAMPLE = DATA / "CDNOW_sample.txt"
SUMMARY = DATA / "cdnow_customers_summary_with_transactions.csv"


def transactions() -> list[tuple[str, dt.date, int, Decimal]]:
    """(sample customer id, date, CDs, dollars) per line of the sample."""
    out = []
    for line in SAMPLE.read_text().splitlines():
        if not line.strip():
            continue
        _master, sample_id, day, cds, dollars = line.split()
        out.append(
            (sample_id, dt.datetime.strptime(day, "%Y%m%d").date(), int(cds), Decimal(dollars))
        )
    return out


def load_cdnow(ctx) -> int:  # type: ignore[no-untyped-def]
    """Insert the sample: customer ``CD0001`` … and one order per transaction line."""
    rows = transactions()
    ids = sorted({r[0] for r in rows})
    with ctx.transaction() as s:
        s.execute(
            sa.insert(Customer.__table__),
            [
                {
                    "code": f"CD{sid}",
                    "name": f"CDNOW {sid}",
                    "search_text": search_text_for(f"CD{sid}", f"CDNOW {sid}"),
                    "custom_fields": {},
                }
                for sid in ids
            ],
        )
        id_of = dict(
            [
                tuple(r)
                for r in s.execute(sa.select(Customer.__table__.c.code, Customer.__table__.c.id))
            ]
        )
        seq: dict[str, int] = defaultdict(int)
        orders = []
        for sid, day, cds, dollars in rows:
            seq[sid] += 1
            orders.append(
                {
                    "order_no": f"CD{sid}-{seq[sid]:03d}",
                    "customer_id": id_of[f"CD{sid}"],
                    "order_date": day,
                    "amount": dollars,
                    "currency": "USD",
                    "quantity": cds,
                    "status": "completed",
                }
            )
        s.execute(sa.insert(Order.__table__), orders)
        refresh_customer_aggregates(s)
    return len(orders)


def import_cdnow(ctx, folder: Path) -> int:  # type: ignore[no-untyped-def]
    """The sample through the normal imports: a customers file, then the raw transactions.

    The raw lines become an orders CSV with a header (``order_no`` = customer + sequence);
    dates stay in the sample's ``19970101`` form and amounts as written, so the import's own
    date and money parsing is what the model sees.
    """
    from tricrm_tui.services import importing
    from tricrm_tui.services.import_hooks import value_after_import
    from tricrm_tui.services.importing import import_file

    rows = transactions()
    customers_csv = folder / "cdnow_customers.csv"
    orders_csv = folder / "cdnow_orders.csv"
    ids = sorted({r[0] for r in rows})
    customers_csv.write_text(
        "code,name\n" + "".join(f"CD{sid},CDNOW {sid}\n" for sid in ids), encoding="utf-8"
    )
    seq: dict[str, int] = defaultdict(int)
    lines = ["order_no,customer_code,order_date,quantity,amount"]
    for (sid, _day, cds, dollars), raw in zip(rows, _raw_lines(), strict=True):
        seq[sid] += 1
        lines.append(f"CD{sid}-{seq[sid]:03d},CD{sid},{raw[2]},{cds},{dollars}")
    orders_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported_customers = import_file(ctx, "customers", customers_csv)
    assert imported_customers.rejected_count == 0, imported_customers.rejected[:3]
    # The study values the base as of 1997-09-30; the import's own refresh "as of today"
    # would add a 2026 snapshot that then counts as the latest, so it is left out here.
    hooks = list(importing.after_import_hooks)
    importing.after_import_hooks[:] = [h for h in hooks if h is not value_after_import]
    try:
        result = import_file(ctx, "orders", orders_csv)
    finally:
        importing.after_import_hooks[:] = hooks
    assert result.rejected_count == 0, result.rejected[:3]
    return result.inserted


def _raw_lines() -> list[list[str]]:
    return [line.split() for line in SAMPLE.read_text().splitlines() if line.strip()]

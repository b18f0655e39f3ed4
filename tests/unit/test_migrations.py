"""The migrations build the schema the models describe, on both backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import BACKENDS
from tricrm_tui.db.engine import create_db_engine, open_database
from tricrm_tui.db.errors import SchemaTooNew
from tricrm_tui.db.migrate import SCHEMA_HEAD, current_revision, head_revision, upgrade
from tricrm_tui.db.search import is_search_object
from tricrm_tui.models import Customer, metadata
from tricrm_tui.services.context import Actor, ServiceContext, open_context
from tricrm_tui.services.customers import list_customers


def test_upgrade_from_empty_to_head_matches_the_models(db_url: str) -> None:
    db = open_database(db_url)
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        mc = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda o, name, *a: not is_search_object(name),
            },
        )
        diff = compare_metadata(mc, metadata)
    assert diff == []
    db.dispose()


def test_a_database_from_a_newer_tricrm_is_refused_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "new.db"
    open_database(str(path)).dispose()
    engine = create_db_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    engine.dispose()
    try:
        open_database(str(path))
    except SchemaTooNew as exc:
        assert "newer tricrm" in str(exc)
    else:
        raise AssertionError("expected SchemaTooNew")


def test_sqlite_opens_with_wal_foreign_keys_and_busy_timeout(sqlite_ctx) -> None:  # type: ignore[no-untyped-def]
    with sqlite_ctx.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_the_fast_path_constant_is_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_HEAD


@pytest.fixture(params=BACKENDS)
def url_at_0001(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to 0001 only: a new SQLite file, or a PostgreSQL schema of its own
    (first on the ``search_path``, so Alembic keeps its version table there)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        engine = create_db_engine(url)
        upgrade(engine, "0001")
        engine.dispose()
        yield url
        return
    base = request.getfixturevalue("pg_url")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS at_0001 CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA at_0001")
        conn.exec_driver_sql(
            "CREATE TABLE at_0001.alembic_version (version_num varchar(32) PRIMARY KEY)"
        )
    url = base + ("&" if "?" in base else "?") + "options=-csearch_path%3Dat_0001,public"
    engine = create_db_engine(url)
    upgrade(engine, "0001")
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA at_0001 CASCADE")
    admin.dispose()


def _customers_before_0003() -> sa.Table:
    """The customers table as revisions 0001 and 0002 have it (without ``purchase_days``),
    with the models' column defaults, for writing rows into an old database."""
    return sa.Table(
        "customers",
        sa.MetaData(),
        *(c._copy() for c in Customer.__table__.columns if c.name != "purchase_days"),
    )


def test_0002_adds_the_active_code_index_to_a_database_with_customers(url_at_0001: str) -> None:
    engine = create_db_engine(url_at_0001)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [
        {"code": code, "name": code, "kind": "individual", "search_text": code.lower()}
        for code in ("B2", "A1", "DEL", "MRG", "C3")
    ]
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        t = _customers_before_0003()
        conn.execute(t.insert(), rows)
        ids = dict(conn.execute(sa.select(t.c.code, t.c.id)).all())
        conn.execute(t.update().where(t.c.code == "DEL").values(deleted_at=now))
        conn.execute(t.update().where(t.c.code == "MRG").values(merged_into_id=ids["A1"]))
    engine.dispose()

    db = open_database(url_at_0001)  # opening upgrades
    assert current_revision(db.engine) == SCHEMA_HEAD
    with db.engine.connect() as conn:
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("customers")}
    assert "ix_customers_active_code" in names
    ctx = ServiceContext(db=db, actor=Actor("tester", "admin"))
    page = list_customers(ctx, limit=2)
    assert [c.code for c in page.items] == ["A1", "B2"] and page.total == 3
    assert [c.code for c in list_customers(ctx, offset=2).items] == ["C3"]
    db.dispose()


def test_0003_backfills_purchase_days_and_the_summary_reads_them(url_at_0001: str) -> None:
    """Customers with orders at 0002 get their distinct completed purchase days counted by
    the upgrade; the RFM summary read from the aggregates then equals the grouped one."""
    import numpy as np

    from tricrm_tui.models import Order
    from tricrm_tui.services import rfm

    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0002")
    t, o = _customers_before_0003(), Order.__table__
    orders = {
        # two orders on one day, a cancelled one on a day of its own: 2 purchase days
        "A": [("2025-01-01", "10", "completed"), ("2025-01-01", "5", "completed"),
              ("2025-02-01", "40", "completed"), ("2025-03-01", "7", "cancelled")],
        "B": [("2025-01-05", "20", "completed")],
        "C": [("2025-01-09", "30", "cancelled")],  # only a cancelled order: 0
        "D": [],
    }  # fmt: skip
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"
        conn.execute(
            t.insert(),
            [{"code": c, "name": c, "kind": "individual", "search_text": c} for c in orders],
        )
        ids = dict(conn.execute(sa.select(t.c.code, t.c.id)).all())
        conn.execute(
            o.insert(),
            [
                {"order_no": f"{code}{i}", "customer_id": ids[code], "currency": "CNY",
                 "order_date": dt.date.fromisoformat(day), "amount": amount, "quantity": 1,
                 "status": status}
                for code, rows in orders.items()
                for i, (day, amount, status) in enumerate(rows)
            ],
        )  # fmt: skip
    engine.dispose()

    db = open_database(url_at_0001)  # opening upgrades
    assert current_revision(db.engine) == SCHEMA_HEAD
    c = Customer.__table__.c
    with db.engine.begin() as conn:
        got = dict(conn.execute(sa.select(c.code, c.purchase_days)).all())
    assert got == {"A": 2, "B": 1, "C": 0, "D": 0}
    ctx = ServiceContext(db=db, actor=Actor("tester", "admin"))
    # The old rows' other aggregates were never filled in: the services' refresh does that.
    from tricrm_tui.services.orders import refresh_customer_aggregates

    with ctx.transaction() as s:
        refresh_customer_aggregates(s)
        assert dict(s.execute(sa.select(c.code, c.purchase_days)).all()) == got
        as_of = dt.date(2025, 6, 30)
        fast = rfm.order_summary(s, db.backend, as_of)
        s.execute(o.insert().values(order_no="LATE", customer_id=ids["D"], currency="CNY",
                                    order_date=dt.date(2025, 7, 1), amount=1, quantity=1,
                                    status="cancelled"))  # fmt: skip
        grouped = rfm.order_summary(s, db.backend, as_of)
        s.rollback()
    assert fast.from_aggregates and not grouped.from_aggregates
    for name in ("ids", "first_day", "last_day", "orders", "purchase_days", "monetary_cents",
                 "repeat_cents"):  # fmt: skip
        assert np.array_equal(getattr(fast, name), getattr(grouped, name)), name
    assert fast.purchase_days.tolist() == [2, 1, 0, 0]
    db.dispose()


def test_0004_makes_the_orders_customer_index_covering(url_at_0001: str) -> None:
    """The per-customer order index gains the columns the per-customer reads need, on a
    database with orders; the orders stay and the customer's orders read by date as before."""
    from tricrm_tui.models import Order

    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0003")
    o = Order.__table__
    with engine.begin() as conn:
        conn.execute(
            Customer.__table__.insert().values(
                code="A", name="A", kind="individual", search_text="a"
            )
        )
        cid = conn.execute(sa.text("SELECT id FROM customers")).scalar_one()
        conn.execute(
            o.insert(),
            [
                {"order_no": f"N{i}", "customer_id": cid, "currency": "CNY", "quantity": 1,
                 "order_date": dt.date(2025, 1, 1 + i), "amount": 10 + i, "status": "completed",
                 "channel": "shop"}
                for i in range(3)
            ],
        )  # fmt: skip
    engine.dispose()

    db = open_database(url_at_0001)  # opening upgrades
    assert current_revision(db.engine) == SCHEMA_HEAD
    with db.engine.connect() as conn:
        index = {ix["name"]: ix for ix in sa.inspect(conn).get_indexes("orders")}
        days = conn.execute(
            sa.select(o.c.order_date).where(o.c.customer_id == cid).order_by(o.c.order_date)
        ).scalars()
        assert [d.day for d in days] == [1, 2, 3]
    assert index["ix_orders_customer_date"]["column_names"] == [
        "customer_id", "order_date", "status", "amount", "channel", "category_id", "product_id"
    ]  # fmt: skip
    db.dispose()


def test_0005_counts_changes_to_what_a_customer_code_means(url_at_0001: str) -> None:
    """SQLite: the ``customer_keys`` counter moves when a code, a merge, a deletion changes
    or a row goes, by any SQL, and not when other fields change. PostgreSQL: the table is
    there, and no trigger on customers (every key change would queue on its row)."""
    db = open_database(url_at_0001)  # opening upgrades
    c = Customer.__table__
    if db.backend == "postgresql":
        with db.engine.connect() as conn:
            triggers = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass "
                "AND NOT tgisinternal"
            ).scalar_one()
            rows = conn.exec_driver_sql("SELECT name, value FROM change_counters").all()
        assert (triggers, rows) == (0, [("customer_keys", 0)])
        db.dispose()
        return

    def counter() -> int:
        with db.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT value FROM change_counters WHERE name = 'customer_keys'")
            ).scalar_one()

    def run(stmt: Any) -> None:
        with db.engine.begin() as conn:
            conn.execute(stmt)

    run(c.insert().values(code="A", name="A", kind="individual", search_text="a"))
    run(c.insert().values(code="B", name="B", kind="individual", search_text="b"))
    start = counter()
    run(c.update().where(c.c.code == "A").values(name="甲", order_count=3))
    assert counter() == start
    run(c.update().where(c.c.code == "A").values(code="A2"))
    assert counter() == start + 1
    b_id = sa.select(c.c.id).where(c.c.code == "B").scalar_subquery()
    run(c.update().where(c.c.code == "A2").values(merged_into_id=b_id))
    assert counter() == start + 2
    run(
        c.update().where(c.c.code == "A2").values(deleted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    )
    assert counter() == start + 3
    run(c.delete().where(c.c.code == "A2"))
    assert counter() == start + 4
    db.dispose()


def test_0006_takes_off_the_customer_keys_trigger_a_first_0005_left_on_postgresql(
    url_at_0001: str,
) -> None:
    """A PostgreSQL database that a first form of 0005 gave a trigger bumping the counter
    (every key change then queued on one row) loses it on opening."""
    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0005")
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("PostgreSQL only: SQLite keeps its triggers")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION tricrm_customer_keys_changed() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN UPDATE change_counters SET value = value + 1; RETURN NULL; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER customers_keys_changed BEFORE UPDATE OF code, merged_into_id, "
            "deleted_at OR DELETE OR TRUNCATE ON customers FOR EACH STATEMENT "
            "EXECUTE FUNCTION tricrm_customer_keys_changed()"
        )
    engine.dispose()
    db = open_database(url_at_0001)  # opening upgrades
    with db.engine.connect() as conn:
        left = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass "
            "AND NOT tgisinternal), (SELECT count(*) FROM pg_proc "
            "WHERE proname = 'tricrm_customer_keys_changed')"
        ).one()
    assert tuple(left) == (0, 0)
    db.dispose()


def test_0007_a_customer_may_spend_more_than_one_order_holds(
    url_at_0001: str, tmp_path: Path
) -> None:
    """Two orders of the largest amount for one customer: PostgreSQL's numeric(14,2) total
    overflowed, leaving the import unfinished and every later import failing on it."""
    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0006")
    engine.dispose()
    db = open_database(url_at_0001)  # opening upgrades
    ctx = ServiceContext(db, Actor("tester", "admin"))
    from tricrm_tui.services import customers, importing

    customers.add_customer(ctx, {"code": "BIG", "name": "Big"})
    path = tmp_path / "big.csv"
    path.write_text(
        "order_no,customer_code,order_date,amount\n"
        "B1,BIG,2026-01-01,999999999999.99\nB2,BIG,2026-01-02,999999999999.99\n",
        "utf-8",
    )
    result = importing.import_file(ctx, "orders", path)
    assert (result.inserted, result.rejected_count) == (2, 0)
    assert customers.get_customer(ctx, "BIG").total_spent == Decimal("1999999999999.98")
    assert [i.status for i in importing.list_imports(ctx).items] == ["done"]
    db.dispose()


def test_0008_splits_tags_holding_a_separator(url_at_0001: str) -> None:
    """A tag ``老,客户`` stored before tags were checked exported as one and imported back as
    two beside it; opening the database splits it."""
    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0007")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        cid = conn.execute(
            sa.insert(Customer.__table__).values(
                code="T1", name="Tee", kind="individual", search_text="t1",
                created_at=now, updated_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
        conn.execute(
            sa.text("INSERT INTO customer_tags (customer_id, tag) VALUES (:c, :t)"),
            [{"c": cid, "t": t} for t in ("老,客户", "vip", "a|b", "a", "x； y")],
        )
    engine.dispose()
    db = open_database(url_at_0001)  # opening upgrades
    with db.engine.connect() as conn:
        tags = sorted(conn.execute(sa.text("SELECT tag FROM customer_tags")).scalars())
    assert tags == ["a", "b", "vip", "x", "y", "客户", "老"]
    db.dispose()


def test_opening_a_database_upgraded_from_before_0009_classifies_its_customers_again(
    url_at_0001: str,
) -> None:
    """Customers stored by an older tricrm without a region (a province written 粤, or 未知
    with a city) get one when the upgraded database first opens; the next opening does
    nothing more."""
    _two_customers_without_region(url_at_0001)
    ctx = open_context(url_at_0001, Actor("tester", "admin"))
    assert ctx.db.upgraded_from == "0001"
    assert _regions(ctx) == {"YUE": "华南", "UNK": "西南"}
    ctx.db.dispose()
    again = open_context(url_at_0001, Actor("tester", "admin"))
    assert again.db.upgraded_from is None
    again.db.dispose()


def _two_customers_without_region(url: str) -> None:
    engine = create_db_engine(url)
    rows = [
        {"code": "YUE", "name": "甲", "kind": "individual", "search_text": "yue",
         "province": "粤", "city": None},
        {"code": "UNK", "name": "乙", "kind": "individual", "search_text": "unk",
         "province": "未知", "city": "成都"},
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(_customers_before_0003().insert(), rows)
    engine.dispose()


def _regions(ctx: ServiceContext) -> dict[str, str | None]:
    with ctx.session() as s:
        return dict(s.execute(sa.select(Customer.code, Customer.region)).all())  # type: ignore[arg-type]


def test_the_classification_an_upgrade_owes_waits_for_a_readable_classify_toml(
    url_at_0001: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An upgrade whose first opening could not classify (``classify.toml`` broken) says so
    and leaves it owed: the next opening with readable rules does it, and the one after
    that has nothing left to do."""
    from tricrm_tui.db import pending

    _two_customers_without_region(url_at_0001)
    config = tmp_path / "config"
    config.mkdir()
    (config / "classify.toml").write_text("[aov\n", encoding="utf-8")
    monkeypatch.setenv("TRICRM_CONFIG_DIR", str(config))
    ctx = open_context(url_at_0001, Actor("tester", "admin"))
    assert "customers not classified again" in caplog.text and "classify.toml" in caplog.text
    assert _regions(ctx) == {"YUE": None, "UNK": None}
    ctx.db.dispose()
    (config / "classify.toml").unlink()
    ctx = open_context(url_at_0001, Actor("tester", "admin"))
    assert ctx.db.upgraded_from is None
    assert _regions(ctx) == {"YUE": "华南", "UNK": "西南"}
    with ctx.db.engine.connect() as conn:
        assert pending.owed(conn) == set()
    ctx.db.dispose()


def test_an_upgrade_whose_opener_stopped_before_classifying_has_the_next_opener_do_it(
    url_at_0001: str,
) -> None:
    """The upgrade and the classification it owes are two steps; a process that ends after
    the first (here: one that upgraded without opening a service context) leaves it owed."""
    _two_customers_without_region(url_at_0001)
    db = open_database(url_at_0001)
    assert db.upgraded_from == "0001"
    db.dispose()
    ctx = open_context(url_at_0001, Actor("tester", "admin"))
    assert ctx.db.upgraded_from is None
    assert _regions(ctx) == {"YUE": "华南", "UNK": "西南"}
    ctx.db.dispose()


def test_an_upgrade_from_0009_on_owes_no_classification(url_at_0001: str) -> None:
    from tricrm_tui.db import pending

    engine = create_db_engine(url_at_0001)
    upgrade(engine, "0009")
    engine.dispose()
    db = open_database(url_at_0001)
    assert db.upgraded_from == "0009"
    with db.engine.connect() as conn:
        assert pending.owed(conn) == set()
    db.dispose()

"""Products, categories, orders and their lines. Money is exact (Numeric/Decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from tricrm_tui.models.types import MONEY, utcnow


class ProductCategory(SQLModel, table=True):
    __tablename__ = "product_categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True, "nullable": False})
    parent_id: int | None = Field(default=None, foreign_key="product_categories.id")


class Product(SQLModel, table=True):
    __tablename__ = "products"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    name: str = Field(max_length=200, index=True)
    category_id: int | None = Field(default=None, foreign_key="product_categories.id", index=True)
    price: Decimal | None = Field(default=None, sa_type=MONEY)
    currency: str = Field(default="CNY", max_length=3)
    active: bool = True


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        # Covering: the per-customer order reads (classification picks, aggregate refresh,
        # first-day spend) need no row from the table (migration 0004).
        sa.Index(
            "ix_orders_customer_date",
            "customer_id",
            "order_date",
            "status",
            "amount",
            "channel",
            "category_id",
            "product_id",
        ),
        sa.Index("ix_orders_order_date", "order_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=64, sa_column_kwargs={"unique": True, "nullable": False})
    customer_id: int = Field(foreign_key="customers.id")
    order_date: dt.date
    amount: Decimal = Field(sa_type=MONEY)
    currency: str = Field(default="CNY", max_length=3)
    quantity: int = 1
    channel: str | None = Field(default=None, max_length=32)
    status: str = Field(default="completed", max_length=16)
    product_id: int | None = Field(default=None, foreign_key="products.id", index=True)
    category_id: int | None = Field(default=None, foreign_key="product_categories.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class OrderLine(SQLModel, table=True):
    """Lines of an order. ``orders.product_id`` names the headline product for lists."""

    __tablename__ = "order_lines"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True, ondelete="CASCADE")
    product_id: int | None = Field(default=None, foreign_key="products.id", index=True)
    quantity: int = 1
    unit_price: Decimal = Field(sa_type=MONEY)
    amount: Decimal = Field(sa_type=MONEY)

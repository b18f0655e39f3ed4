"""Recommendations: "customers who bought X also bought Y", from order co-occurrence.

Item-to-item collaborative filtering in its plainest form (Linden, Smith & York, "Amazon.com
recommendations: item-to-item collaborative filtering", IEEE Internet Computing 2003): two
products co-occur once for every customer who bought both. A customer's candidates are the
products they have not bought, scored by the sum of their co-occurrence with the products
they have bought; the reason names the bought product that contributes most.

The co-occurrence table is built from ONE query over the orders' (customer, product) columns,
read straight into numpy arrays, as a sparse customer × product matrix ``B`` and ``Bᵀ·B``
(scipy.sparse: the matrix product is in C, and a catalogue of thousands of products stays
small because most pairs never co-occur). It is cached per database in memory and rebuilt
when the orders change (their count and highest id), so a campaign that renders thousands
of messages builds it once and then answers each customer from a few sparse rows.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tricrm_tui.i18n import _
from tricrm_tui.models import Order, Product
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import customer_id_for

if TYPE_CHECKING:
    import numpy as np

O = Order.__table__.c  # noqa: E741
P = Product.__table__.c


@dataclass(frozen=True)
class Recommendation:
    sku: str
    name: str
    score: int
    because_sku: str
    because_name: str

    @property
    def reason(self) -> str:
        return _("bought with {product}").format(product=self.because_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "score": self.score,
            "reason": self.reason,
            "because_sku": self.because_sku,
        }


@dataclass
class CooccurrenceModel:
    """Product ids (sorted), their co-occurrence counts (sparse, diagonal removed)."""

    product_ids: np.ndarray
    counts: Any  # scipy.sparse.csr_matrix, products × products
    version: tuple[int, int]
    engine: Callable[[], Any]  # weak reference to the engine it was built from

    def index_of(self, product_ids: list[int]) -> np.ndarray:
        import numpy as np

        ids = np.unique(np.asarray(product_ids, dtype=np.int64))
        pos = np.searchsorted(self.product_ids, ids)
        inside = pos < len(self.product_ids)
        pos, ids = pos[inside], ids[inside]
        return pos[self.product_ids[pos] == ids]

    def top_for(self, bought: list[int], top: int) -> list[tuple[int, int, int]]:
        """(product id, score, because product id) for the best ``top`` unbought products."""
        import numpy as np

        rows = self.index_of(bought)
        if not len(rows):
            return []
        sub = self.counts[rows]
        scores = np.asarray(sub.sum(axis=0)).ravel()
        scores[rows] = 0
        candidates = np.flatnonzero(scores)
        if not len(candidates):
            return []
        # Highest score first; ties broken by product id so results are stable.
        order = np.lexsort((self.product_ids[candidates], -scores[candidates]))[:top]
        chosen = candidates[order]
        because = np.asarray(sub[:, chosen].argmax(axis=0)).ravel()
        return [
            (int(self.product_ids[c]), int(scores[c]), int(self.product_ids[rows[b]]))
            for c, b in zip(chosen, because, strict=True)
        ]


_cache: dict[str, CooccurrenceModel] = {}
_lock = threading.Lock()


def _orders_version(ctx: ServiceContext) -> tuple[int, int]:
    """A cheap fingerprint of the orders (count and highest id). It misses orders moved
    between customers by a merge until the next order is written; the model is an
    estimate of taste, so that staleness is harmless."""
    with ctx.session() as s:
        n, last = s.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(O.id), 0)).select_from(
                Order.__table__
            )
        ).one()
    return int(n), int(last)


def build_model(ctx: ServiceContext) -> CooccurrenceModel:
    """Read (customer, product) of every order once and multiply ``Bᵀ·B``.

    The pairs are made distinct in numpy rather than with SQL ``DISTINCT``: at a million
    orders SQLite's DISTINCT sorts on disk (several seconds) while ``np.unique`` over one
    int64 key per order takes a fraction of a second.
    """
    import numpy as np
    from scipy import sparse

    version = _orders_version(ctx)
    query = sa.select(O.customer_id, O.product_id).where(
        O.product_id.is_not(None), O.status != "cancelled"
    )
    with ctx.session() as s:
        result = s.execute(query)
        flat = np.fromiter(chain.from_iterable(result), dtype=np.int64)
    pairs = flat.reshape(-1, 2)
    customers, cust_idx = np.unique(pairs[:, 0], return_inverse=True)
    products, prod_idx = np.unique(pairs[:, 1], return_inverse=True)
    basket = sparse.csr_matrix(
        (np.ones(len(pairs), dtype=np.int32), (cust_idx, prod_idx)),
        shape=(len(customers), len(products)),
    )
    basket.sum_duplicates()
    basket.data[:] = 1  # bought at all, however often
    counts = (basket.T @ basket).tocsr()
    counts.setdiag(0)
    counts.eliminate_zeros()
    return CooccurrenceModel(
        product_ids=products, counts=counts, version=version, engine=weakref.ref(ctx.db.engine)
    )


def cooccurrence(ctx: ServiceContext) -> CooccurrenceModel:
    """The cached model for this database, rebuilt when orders were added or removed."""
    version = _orders_version(ctx)
    with _lock:
        model = _cache.get(ctx.db.url)
        if model is None or model.version != version or model.engine() is not ctx.db.engine:
            model = build_model(ctx)
            _cache[ctx.db.url] = model
    return model


def recommend_for_id(
    ctx: ServiceContext,
    customer_id: int,
    *,
    top: int = 5,
    model: CooccurrenceModel | None = None,
) -> list[Recommendation]:
    """Recommendations for one customer; pass ``model`` when rendering many customers in a
    row, so the orders are not fingerprinted again for each of them."""
    model = model or cooccurrence(ctx)
    with ctx.session() as s:
        bought = list(
            s.execute(
                sa.select(O.product_id)
                .where(
                    O.customer_id == customer_id,
                    O.product_id.is_not(None),
                    O.status != "cancelled",
                )
                .distinct()
            ).scalars()
        )
        picks = model.top_for(bought, max(1, top))
        ids = {p for p, _s, _b in picks} | {b for _p, _s, b in picks}
        names = {
            r.id: (r.sku, r.name)
            for r in s.execute(sa.select(P.id, P.sku, P.name).where(P.id.in_(ids)))
        }
    return [
        Recommendation(
            sku=names[p][0],
            name=names[p][1],
            score=score,
            because_sku=names[b][0],
            because_name=names[b][1],
        )
        for p, score, b in picks
    ]


def recommend(ctx: ServiceContext, code: str, *, top: int = 5) -> list[Recommendation]:
    """Top-``top`` products the customer has not bought, best first, with the reason."""
    with ctx.session() as s:
        cid = customer_id_for(s, code)
    return recommend_for_id(ctx, cid, top=top)

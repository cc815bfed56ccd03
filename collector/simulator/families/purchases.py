"""`/purchases/{quantity,revenue}_series` and `/purchases/product_list` (braze-api.md §10).

Each app has one hour-atom stream of purchases, the all-products series. Products are the leaves
of a balanced binary split of it over the products in code-point order, each node sending a
hashed fraction left, so the products add up to the all-products value exactly, late data
included, and one product costs O(log n) whatever the catalogue's size.

Revenue is a second split of `floor(purchases × the catalogue's mean unit price)`: each node's
revenue fraction weighs its quantity fraction by the mean price of its two halves, so a
product's revenue is close to its quantity times its hashed unit price, and the products again
add up exactly. Revenue is counted in cents (written as a decimal) or, with
`revenue_format="int"`, in whole currency units. The list pages `product_page_size` names
(undocumented, 250 by default) in code-point order.

The series count in the pool `purchases_pool` selects (§10.4), the list in `export-lists`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from collector.simulator import params
from collector.simulator.buckets import Unit
from collector.simulator.context import BadRequest, Context
from collector.simulator.data import Metric, SplitStep, unit_hash
from collector.simulator.families.listing import list_body, paged
from collector.simulator.routes import Filters, Route, ScalarSeries
from collector.simulator.series import SeriesQuery, atoms_query

PURCHASES = Metric("purchases", scale=0.1)
PRICES = {"decimal": (99, 19_900), "int": (1, 199)}  # unit price low and span: cents, units

_SHARE = (0.25, 0.5)  # a node sends between 25 % and 75 % of its purchases left: low, span

Path = tuple[SplitStep, ...]


@dataclass(frozen=True)
class Split:
    """Where each product sits in the quantity and the revenue splits, and the mean price."""

    quantity: dict[str, Path]
    revenue: dict[str, Path]
    mean_price: float


@lru_cache(maxsize=64)
def split_of(seed: int, workspace: str, products: tuple[str, ...], prices: str) -> Split:
    """The splits of `products` (sorted, non-empty) for this seed, workspace and price unit."""
    low, span = PRICES[prices]

    def build(names: tuple[str, ...]) -> Split:
        if len(names) == 1:
            price = low + int(span * unit_hash(seed, workspace, "price", names[0]) ** 2)
            return Split({names[0]: ()}, {names[0]: ()}, float(price))
        left, right = build(names[: len(names) // 2]), build(names[len(names) // 2 :])
        share = _SHARE[0] + _SHARE[1] * unit_hash(seed, workspace, "split", *names)
        mean = share * left.mean_price + (1 - share) * right.mean_price
        money = share * left.mean_price / mean
        return Split(
            {**_down(share, True, left.quantity), **_down(share, False, right.quantity)},
            {**_down(money, True, left.revenue), **_down(money, False, right.revenue)},
            mean,
        )

    return build(products)


def _down(fraction: float, left: bool, paths: dict[str, Path]) -> dict[str, Path]:
    return {name: ((fraction, left), *path) for name, path in paths.items()}


def _query(ctx: Context, unit: Unit, filters: Filters, revenue: bool) -> SeriesQuery:
    products = ctx.workspace.product_names
    if filters.product is not None and not ctx.workspace.has_product(filters.product):
        raise BadRequest("Invalid product")
    if not products:
        query = atoms_query(ctx, unit, PURCHASES, filters.app_id)
        return replace(query, all_zero=True)
    tree = split_of(ctx.config.seed, ctx.workspace.id, products, ctx.config.revenue_format)
    paths = tree.revenue if revenue else tree.quantity
    path = () if filters.product is None else paths[filters.product]
    factor = tree.mean_price if revenue else 1
    return atoms_query(ctx, unit, replace(PURCHASES, factor=factor, path=path), filters.app_id)


def _quantity(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    return _query(ctx, unit, filters, revenue=False)


def _revenue(ctx: Context, unit: Unit, filters: Filters) -> SeriesQuery:
    return _query(ctx, unit, filters, revenue=True)


def _list(ctx: Context, query: params.Params) -> bytes:
    names = paged(ctx, query, ctx.workspace.product_names, ctx.config.product_page_size)
    return list_body("products", names)


SERIES = (
    ScalarSeries(
        "/purchases/quantity_series",
        "purchase_quantity",
        "purchases.quantity_series",
        _quantity,
        ("product", "app_id"),
        pool="purchases",
    ),
    ScalarSeries(
        "/purchases/revenue_series",
        "revenue",
        "purchases.revenue_series",
        _revenue,
        ("product", "app_id"),
        pool="purchases",
        money=True,
    ),
)
LIST = Route("/purchases/product_list", "purchases.product_list", "export-lists", _list)

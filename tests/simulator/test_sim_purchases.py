"""Purchases: quantity and revenue series, revenue as decimals, the product list (§10)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from collector.simulator import SimulatorConfig, Workspace
from collector.simulator.presets import family_workspace
from collector.simulator.render import money_text

from .support import Harness

QUANTITY = "/purchases/quantity_series"
REVENUE = "/purchases/revenue_series"
PRODUCTS = "/purchases/product_list"
APPS = ("ios", "android")
WORKSPACE = Workspace(apps=APPS, products=("gems", "pass+plus 50% & co"))
CONFIG = SimulatorConfig(workspaces=(WORKSPACE,), seed=4)
HOURS = {"length": "48", "unit": "hour", "ending_at": "2024-03-01T13:00:00Z"}


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1200, "12.0"),
        (1705, "17.05"),
        (1710, "17.1"),
        (0, "0.0"),
        (5, "0.05"),
        (10**12 + 1, "10000000000.01"),
    ],
)
def test_money_is_written_with_at_least_one_decimal_digit(cents: int, text: str) -> None:
    """Cents are written as the exact decimal amount, never as an integer or with a float tail."""
    assert money_text(cents) == text


async def test_revenue_is_a_decimal_number_in_the_body(braze: Harness) -> None:
    """Every revenue value is a JSON number with one or two decimal digits; quantities are ints."""
    sim = await braze.start(CONFIG)
    revenue = await braze.get(sim, HOURS, path=REVENUE)
    quantity = await braze.get(sim, HOURS, path=QUANTITY)
    values = re.findall(rb'"revenue": ([^,}]+)', revenue.body)
    assert len(values) == 48
    assert all(re.fullmatch(rb"[0-9]+\.[0-9]{1,2}", v) for v in values)
    assert all(isinstance(q, int) for q in quantity.series("purchase_quantity"))
    assert sum(quantity.series("purchase_quantity")) > 0


async def test_int_revenue_format_switch(braze: Harness) -> None:
    """With revenue_format="int" revenue values are JSON integers (whole currency units)."""
    sim = await braze.start(SimulatorConfig(workspaces=(WORKSPACE,), revenue_format="int"))
    revenue = await braze.get(sim, HOURS, path=REVENUE)
    assert all(isinstance(v, int) for v in revenue.series("revenue"))
    assert sum(revenue.series("revenue")) > 0


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("path", [QUANTITY, REVENUE])
async def test_all_products_is_sum_of_products_and_of_apps(
    braze: Harness, path: str, late: bool
) -> None:
    """All products = Σ products and all apps = Σ apps, exactly, late data included."""
    sim = await braze.start(SimulatorConfig(workspaces=(WORKSPACE,), seed=4, late_data=late))
    field = "revenue" if path == REVENUE else "purchase_quantity"
    total = (await braze.get(sim, HOURS, path=path)).series(field)
    products = [
        (await braze.get(sim, HOURS | {"product": p}, path=path)).series(field)
        for p in WORKSPACE.products
    ]
    apps = [(await braze.get(sim, HOURS | {"app_id": a}, path=path)).series(field) for a in APPS]
    assert total == [sum(c) for c in zip(*products, strict=True)]
    assert total == [sum(c) for c in zip(*apps, strict=True)]


async def test_revenue_tracks_quantity_at_a_price_per_product(braze: Harness) -> None:
    """A product's hourly revenue is its quantity times about its own price; prices differ."""
    sim = await braze.start(CONFIG)
    means = []
    for product in WORKSPACE.products:
        params = HOURS | {"product": product}
        revenue = (await braze.get(sim, params, path=REVENUE)).series("revenue")
        quantity = (await braze.get(sim, params, path=QUANTITY)).series("purchase_quantity")
        mean = sum(revenue, Decimal(0)) / sum(quantity)
        busy = [(r, q) for r, q in zip(revenue, quantity, strict=True) if q >= 20]
        assert len(busy) > 10
        assert all(abs(r / q / mean - 1) < Decimal("0.1") for r, q in busy)
        means.append(mean)
    assert abs(means[0] / means[1] - 1) > Decimal("0.1")


async def test_revenue_day_is_the_exact_sum_of_its_hours(braze: Harness) -> None:
    """A day's revenue equals the Decimal sum of its 24 hourly revenues, to the cent."""
    sim = await braze.start(CONFIG)
    day = await braze.get(sim, {"length": "1", "ending_at": "2024-02-20"}, path=REVENUE)
    hours = await braze.get(
        sim, {"length": "24", "unit": "hour", "ending_at": "2024-02-20"}, path=REVENUE
    )
    assert day.series("revenue") == [sum(hours.series("revenue"), Decimal(0))]


@pytest.mark.parametrize("path", [QUANTITY, REVENUE])
async def test_unknown_product_is_400_and_awkward_one_is_found(braze: Harness, path: str) -> None:
    """An unknown product is 400 "Invalid product"; one with `+ % &` is found when encoded."""
    sim = await braze.start(CONFIG)
    unknown = await braze.get(sim, {"length": "1", "product": "pass plus 50% & co"}, path=path)
    awkward = await braze.get(sim, {"length": "1", "product": WORKSPACE.products[1]}, path=path)
    assert (unknown.status, unknown.message) == (400, "Invalid product")
    assert awkward.status == 200


async def test_workspace_without_products_has_zero_purchases(braze: Harness) -> None:
    """With no products the all-products series is all zero."""
    sim = await braze.start(SimulatorConfig(workspaces=(Workspace(products=()),)))
    answer = await braze.get(sim, {"length": "3"}, path=QUANTITY)
    assert answer.series("purchase_quantity") == [0, 0, 0]


@pytest.mark.parametrize(("size", "pages"), [(250, [250, 10, 0]), (100, [100, 100, 60, 0])])
async def test_product_list_page_size_switch(braze: Harness, size: int, pages: list[int]) -> None:
    """The product list pages `product_page_size` names (250 by default) in code-point order."""
    workspace = family_workspace(products=260)
    config = SimulatorConfig(workspaces=(workspace,), product_page_size=size)
    sim = await braze.start(config)
    seen = []
    for n in range(len(pages)):
        seen.append((await braze.get(sim, {"page": str(n)}, path=PRODUCTS)).json()["products"])
    assert [len(p) for p in seen] == pages
    assert [name for page in seen for name in page] == sorted(workspace.products)

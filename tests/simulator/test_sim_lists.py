"""Lists under hostile switches, huge lists, and ids with quotes or control characters (§10.2)."""

from __future__ import annotations

from typing import Any

import pytest

from collector.simulator import SimulatorConfig
from collector.simulator.presets import AWKWARD, family_workspace

from .support import Harness

# path → (list key, page size)
LISTS: dict[str, tuple[str, int]] = {
    "/events/list": ("events", 250),
    "/purchases/product_list": ("products", 250),
    "/segments/list": ("segments", 100),
    "/campaigns/list": ("campaigns", 100),
    "/canvas/list": ("canvases", 100),
}
WORKSPACE = family_workspace(
    events=520, products=400, segments=230, campaigns=240, canvases=210, control_characters=True
)
MAX_PAGES = 60


def _name(item: Any) -> Any:
    return item if isinstance(item, str) else item["id"]


def _expected(path: str) -> list[str]:
    return {
        "/events/list": list(WORKSPACE.event_names),
        "/purchases/product_list": list(WORKSPACE.product_names),
        "/segments/list": [s.id for s in WORKSPACE.segments],
        "/campaigns/list": [c.id for c in WORKSPACE.campaigns],
        "/canvas/list": [c.id for c in WORKSPACE.canvases],
    }[path]


async def _pages(braze: Harness, behaviour: str, path: str) -> list[list[str]]:
    """Every page until the first empty one (at most MAX_PAGES)."""
    config = SimulatorConfig(workspaces=(WORKSPACE,), list_behaviour=behaviour)  # type: ignore[arg-type]
    sim = await braze.start(config)
    key, _ = LISTS[path]
    pages = []
    for n in range(MAX_PAGES):
        params = {"page": str(n), "include_archived": "true"}
        page = [_name(i) for i in (await braze.get(sim, params, path=path)).json()[key]]
        if not page:
            break
        pages.append(page)
    return pages


@pytest.mark.parametrize("path", LISTS)
async def test_normal_lists_page_everything_once(braze: Harness, path: str) -> None:
    """Honest paging yields full pages, then the rest, each item once, in list order."""
    pages = await _pages(braze, "normal", path)
    size = LISTS[path][1]
    assert all(len(p) == size for p in pages[:-1])
    assert [i for p in pages for i in p] == _expected(path)


@pytest.mark.parametrize("path", LISTS)
async def test_repeat_forever_serves_page_zero_for_every_page(braze: Harness, path: str) -> None:
    """With repeat_forever every page is the same non-empty page 0: paging never ends."""
    pages = await _pages(braze, "repeat_forever", path)
    assert len(pages) == MAX_PAGES
    assert all(p == pages[0] for p in pages) and pages[0]


@pytest.mark.parametrize("path", LISTS)
async def test_shrinking_pages_are_short_yet_complete(braze: Harness, path: str) -> None:
    """With shrinking, page n holds size >> n items (at least 1); all pages cover the list once."""
    pages = await _pages(braze, "shrinking", path)
    size = LISTS[path][1]
    assert len(pages[1]) == size // 2
    assert all(len(p) <= max(1, size >> n) for n, p in enumerate(pages))
    assert [i for p in pages for i in p] == _expected(path)


@pytest.mark.parametrize("path", LISTS)
async def test_repeating_pages_repeat_names(braze: Harness, path: str) -> None:
    """With repeating, consecutive pages overlap, so names repeat; the union is the list."""
    pages = await _pages(braze, "repeating", path)
    items = [i for p in pages for i in p]
    assert len(items) > len(set(items))
    assert pages[1][0] in pages[0]
    assert sorted(set(items)) == sorted(_expected(path))


async def test_ten_thousand_events_page_to_the_end(braze: Harness) -> None:
    """A 10,000-event list is 40 full pages, then an empty one."""
    workspace = family_workspace(events=10_000)
    sim = await braze.start(SimulatorConfig(workspaces=(workspace,)))
    last = (await braze.get(sim, {"page": "39"}, path="/events/list")).json()["events"]
    after = (await braze.get(sim, {"page": "40"}, path="/events/list")).json()["events"]
    assert (len(last), after) == (250, [])
    assert last[-1] == workspace.event_names[-1]


async def test_hostile_ids_round_trip_from_list_to_details(braze: Harness) -> None:
    """Ids with quotes or control characters come back JSON-escaped and open their details."""
    config = SimulatorConfig(workspaces=(WORKSPACE,))
    sim = await braze.start(config)
    listed = (await braze.get(sim, {"include_archived": "true"}, path="/campaigns/list")).json()
    ids = [c["id"] for c in listed["campaigns"]]
    hostile = [i for i in ids if '"' in i or "\x01" in i]
    assert any('"' in i for i in hostile) and any("\x01" in i for i in hostile)
    for campaign_id in hostile:
        details = await braze.get(sim, {"campaign_id": campaign_id}, path="/campaigns/details")
        assert details.status == 200, campaign_id


def test_family_names_carry_every_awkward_fragment() -> None:
    """The generated names include each awkward fragment, NUL, and leading/trailing spaces."""
    names = " ".join(WORKSPACE.events)
    assert all(fragment in names for fragment in AWKWARD)
    assert "\x00" in names
    assert any(n != n.strip() for n in WORKSPACE.events)
    assert {"Event", "event"} <= {n.strip()[:5] for n in WORKSPACE.events}

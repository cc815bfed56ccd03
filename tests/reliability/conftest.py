"""The reliability suite's recorder: each scenario reports its figures through the `reliability`
fixture; with RELIABILITY_REPORT set (`make reliability`), the session ends by writing them, with
each test's pass/fail outcome, as the markdown table RELIABILITY.md. Plain `make test` writes
nothing, so it never dirties the tree.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPORT_ENV = "RELIABILITY_REPORT"
SECTIONS = {
    "faults": "1. Fault matrix (in-process, embedded simulator, shared virtual clock)",
    "crash": "2. Crash and resume (the real CLI as a subprocess)",
    "store": "3. The store under stress",
    "hostile": "4. Hostile input",
    "secrets": "5. Secrets",
}


@dataclass
class Row:
    """One scenario's figures, as the table shows them."""

    nodeid: str
    section: str
    scenario: str
    parameters: str = ""
    runs: int | str = 1
    requests: str = "–"
    retries: str = "–"
    rate_limited: str = "–"
    checked: str = ""
    outcome: str = "not run"


@dataclass
class Ledger:
    rows: dict[str, Row] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


LEDGER = Ledger()


class Recorder:
    """`reliability(section=..., scenario=..., ...)` records the figures of the running test."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid

    def __call__(
        self,
        *,
        section: str,
        scenario: str,
        parameters: str = "",
        runs: int | str = 1,
        requests: int | None = None,
        minimum: int | None = None,
        bound: int | None = None,
        retries: int | str | None = None,
        rate_limited: int | str | None = None,
        checked: str = "",
    ) -> None:
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}; one of {', '.join(SECTIONS)}")
        text = "–"
        if requests is not None:
            text = str(requests)
            if minimum is not None:
                text += f" (min {minimum}"
                text += f", bound ≤ {bound})" if bound is not None else ")"
        LEDGER.rows[self.nodeid] = Row(
            nodeid=self.nodeid,
            section=section,
            scenario=scenario,
            parameters=parameters,
            runs=runs,
            requests=text,
            retries="–" if retries is None else str(retries),
            rate_limited="–" if rate_limited is None else str(rate_limited),
            checked=checked,
        )


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Recorder:
    """Record this scenario's figures for RELIABILITY.md."""
    return Recorder(request.node.nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report: pytest.TestReport = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            outcome = f"known defect (xfail): {report.wasxfail}"
        elif report.passed:
            outcome = "pass"
        elif report.skipped:
            outcome = "skipped"
        else:
            outcome = "**FAIL**"
        LEDGER.outcomes[item.nodeid] = outcome
        if item.nodeid not in LEDGER.rows:
            doc = (getattr(item, "function", None).__doc__ or item.name).strip()  # type: ignore[union-attr]
            scenario = doc.splitlines()[0]
            callspec = getattr(item, "callspec", None)
            if callspec is not None:
                scenario += f" [{callspec.id}]"
            module = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
            LEDGER.rows[item.nodeid] = Row(
                nodeid=item.nodeid, section=_section_of(module), scenario=scenario
            )
    return report


def _section_of(module: str) -> str:
    for key in SECTIONS:
        if key in module:
            return key
    return "faults"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get(REPORT_ENV)
    if not target or not LEDGER.rows:
        return
    path = Path(target)
    if not path.is_absolute():
        path = Path(session.config.rootpath) / path
    path.write_text(render(time.monotonic() - LEDGER.started), encoding="utf-8")


def _known_defects(rows: list[Row]) -> list[str]:
    reasons = sorted({r.outcome.split(": ", 1)[1] for r in rows if r.outcome.startswith("known")})
    if not reasons:
        return []
    return [
        "Known defects, each pinned by a strict xfail test (it fails the suite once the defect",
        "is fixed, so the marker is removed with the fix):",
        "",
        *(f"- {reason}" for reason in reasons),
        "",
    ]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(duration_s: float) -> str:
    rows = list(LEDGER.rows.values())
    for row in rows:
        row.outcome = LEDGER.outcomes.get(row.nodeid, "not run")
    passed = sum(r.outcome == "pass" for r in rows)
    xfailed = sum(r.outcome.startswith("known defect") for r in rows)
    failed = len(rows) - passed - xfailed
    out = [
        "# Reliability",
        "",
        "<!-- Generated by `make reliability` from tests/reliability; do not edit by hand. -->",
        "",
        "What `collector` has been shown to survive: injected faults, crashes, hostile bodies and",
        "flags, a shared database, and attempts to leak the API key. Every row below is one test",
        "in `tests/reliability/`; its figures were recorded by the test itself while it ran, and",
        "its outcome is the test's result. The whole suite also runs in `make test` (and so in CI);",
        "only `make reliability` rewrites this file.",
        "",
        "## How to re-run",
        "",
        "```",
        "make reliability                               # every scenario; rewrites this file",
        ".venv/bin/pytest -q tests/reliability          # the same checks, file left alone",
        ".venv/bin/pytest -q tests/reliability -k storm # one scenario, by name",
        "```",
        "",
        f"Last run: {len(rows)} scenarios, {passed} passed, {xfailed} known defects (xfail), "
        f"{failed} failed, in {duration_s:.1f} s on {os.cpu_count()} CPU(s), Python "
        f"{platform.python_version()} ({sys.platform}).",
        "",
        *_known_defects(rows),
        "Columns: **runs** is how many collector runs (or generated examples) the scenario made;",
        "**requests** is what the simulator received against the minimum the API allows",
        "(series × ⌈units/100⌉) and the bound the test enforces; **retries** and **429s** are",
        "the collector's own counts (summed over runs).",
        "",
    ]
    for key, title in SECTIONS.items():
        section = sorted((r for r in rows if r.section == key), key=lambda r: r.nodeid)
        if not section:
            continue
        out += [
            f"## {title}",
            "",
            "| scenario | parameters | runs | requests | retries | 429s | checked | outcome |",
            "|---|---|---|---|---|---|---|---|",
        ]
        out += [
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    r.scenario,
                    r.parameters,
                    r.runs,
                    r.requests,
                    r.retries,
                    r.rate_limited,
                    r.checked,
                    r.outcome,
                )
            )
            + " |"
            for r in section
        ]
        out.append("")
    out += [
        "Test ids, for `pytest <id>`:",
        "",
        *(f"- `{r.nodeid}`: {_cell(r.scenario)}" for r in sorted(rows, key=lambda r: r.nodeid)),
        "",
    ]
    return "\n".join(out)

"""The end-of-run summary: per series and overall, as a table on a terminal or plain lines."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from collector.core.models import RunReport, describe_key


def headline(report: RunReport) -> str:
    retries = sum(report.retries.values())
    causes = ", ".join(f"{k} {v}" for k, v in sorted(report.retries.items())) or "none"
    state = (
        "complete"
        if report.complete
        else f"STOPPED ({report.stopped})"
        if report.stopped
        else "INCOMPLETE"
    )
    return (
        f"{state}: {len(report.series)} series, {report.requests} requests "
        f"({report.planned_windows} planned), {retries} retries ({causes}), "
        f"{report.rate_limited} rate-limited (429), {report.inserted} new points, "
        f"{report.revised} revised, {report.failed_windows} failed windows, "
        f"{len(report.skipped)} skipped, "
        f"{report.achieved_rate:.1f} req/s of {report.rate_limit_per_s:.1f} allowed, "
        f"{report.duration_s:.1f}s, alignment {report.alignment}"
    )


def print_summary(report: RunReport, out: TextIO) -> None:
    """Plain lines: the headline, then every series that did not finish."""
    print(headline(report), file=out)
    for line in trouble(report):
        print(f"  {line}", file=out)


def trouble(report: RunReport) -> list[str]:
    """What the user must know beyond the headline: failures, refusals, skips, notices."""
    lines = [f"notice: {n}" for n in report.notices]
    lines += [f"discovery failed: {e}" for e in report.discovery_errors]
    refused = {s.refused for s in report.series.values() if s.refused}
    lines += [f"refused: {r}" for r in sorted(refused)]
    for key, s in report.series.items():
        if (s.failed_windows or s.missing) and not s.refused and not report.fatal:
            gaps = ", ".join(s.gaps[:5]) + (" …" if len(s.gaps) > 5 else "")
            error = f"; last error: {s.errors[-1]}" if s.errors else ""
            lines.append(
                f"{describe_key(key)}: {s.missing} bucket(s) missing ({gaps}), "
                f"{s.failed_windows} failed window(s){error}"
            )
    lines += [f"skipped: {why}" for why in report.skipped]
    return lines


def print_table(report: RunReport, console: Console) -> None:
    """A per-series table and the headline, for a terminal."""
    table = Table(title="by series", title_justify="left")
    for name, justify in (
        ("series", "left"),
        ("windows", "right"),
        ("new points", "right"),
        ("revised", "right"),
        ("failed", "right"),
        ("gaps left", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for key, s in report.series.items():
        label = describe_key(key)
        gaps = ", ".join(s.gaps[:3]) + (" …" if len(s.gaps) > 3 else "") if s.gaps else "none"
        table.add_row(
            label, str(s.windows), str(s.inserted), str(s.revised), str(s.failed_windows), gaps
        )
    console.print(table)
    console.print(headline(report), highlight=False)
    for line in trouble(report):
        console.print(f"  {line}", highlight=False, markup=False)


def series_fields(report: RunReport) -> dict[str, Any]:
    return {
        describe_key(key): {
            "outcome": report.outcome(key),
            "refused": s.refused,
            "removed": s.removed,
            "windows": s.windows,
            "failed_windows": s.failed_windows,
            "inserted": s.inserted,
            "revised": s.revised,
            "missing": s.missing,
            "gaps": s.gaps,
        }
        for key, s in report.series.items()
    }

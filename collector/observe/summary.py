"""The end-of-run summary: per series and overall, as a table on a terminal or plain lines."""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from collector.core.models import RunReport


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
        f"{report.achieved_rate:.1f} req/s of {report.rate_limit_per_s:.1f} allowed, "
        f"{report.duration_s:.1f}s, alignment {report.alignment}"
    )


def print_summary(report: RunReport, out: TextIO) -> None:
    """Plain lines: the headline, then every series that did not finish."""
    print(headline(report), file=out)
    for key, s in report.series.items():
        if s.failed_windows or s.missing:
            gaps = ", ".join(s.gaps[:5]) + (" …" if len(s.gaps) > 5 else "")
            error = f"; last error: {s.errors[-1]}" if s.errors else ""
            print(
                f"  {'/'.join(key)}: {s.missing} bucket(s) missing ({gaps}), "
                f"{s.failed_windows} failed window(s){error}",
                file=out,
            )


def print_table(report: RunReport, console: Console) -> None:
    """A per-series table and the headline, for a terminal."""
    table = Table(title="sessions by series", title_justify="left")
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
        _, app, segment, unit = key
        label = f"{app or '(total)'} · {segment or '(no segment)'} · {unit}"
        gaps = ", ".join(s.gaps[:3]) + (" …" if len(s.gaps) > 3 else "") if s.gaps else "none"
        table.add_row(
            label, str(s.windows), str(s.inserted), str(s.revised), str(s.failed_windows), gaps
        )
    console.print(table)
    console.print(headline(report), highlight=False)


def series_fields(report: RunReport) -> dict[str, Any]:
    return {
        "/".join(key): {
            "windows": s.windows,
            "failed_windows": s.failed_windows,
            "inserted": s.inserted,
            "revised": s.revised,
            "missing": s.missing,
            "gaps": s.gaps,
        }
        for key, s in report.series.items()
    }

"""`collector plot`: the stored timeline of every selected series as one line each, gaps left
visible (a missing bucket breaks the line). Needs the `plot` extra (matplotlib)."""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby
from pathlib import Path

from collector.core.streams import Stream
from collector.errors import ConfigError
from collector.readout.export import Selection
from collector.store.base import ReadStore

FIGSIZE_IN = (12.0, 6.0)
DPI = 100


def plot(
    store: ReadStore, workspace: str, streams: tuple[Stream, ...], selection: Selection, out: Path
) -> int:
    """Draw to `out` (PNG); returns the number of series (lines) drawn. Nested streams draw
    one line per series and metric of their totals."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plotting needs matplotlib: pip install 'collector[plot]'") from exc
    fig, ax = plt.subplots(figsize=FIGSIZE_IN, dpi=DPI)
    lines = 0
    try:
        points = (
            (stream, p)
            for stream in streams
            for p in selection.points(store, workspace, stream)
            if not p.facet
        )
        for (stream, dims, unit, metric), rows in groupby(
            points, key=lambda sp: (sp[0], sp[1].dims, sp[1].unit, sp[1].metric)
        ):
            xs: list[datetime] = []
            ys: list[float] = []
            previous: datetime | None = None
            for _, p in rows:
                time, value = p.time, p.value
                x = _instant(time, unit)
                if previous is not None and _step(previous, x, unit):
                    xs.append(previous + (x - previous) / 2)  # NaN breaks the line at a hole
                    ys.append(float("nan"))
                xs.append(x)
                ys.append(float(value))
                previous = x
            named = [f"{d}={v}" for d, v in zip(stream.dimensions, dims, strict=True) if v]
            label = " ".join([stream.name, *(named or ["(total)"]), metric, unit])
            ax.plot(xs, ys, label=label, linewidth=1)  # type: ignore[arg-type]  # dates are fine
            lines += 1
        if lines == 0:
            raise ConfigError("nothing to plot: no stored points match the selection")
        ax.set_title("Braze " + ", ".join(s.name for s in streams))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        fig.autofmt_xdate()
        fig.tight_layout()
        try:
            fig.savefig(out, format="png")
        except OSError as exc:
            raise ConfigError(f"--out {out}: cannot write it ({exc.strerror})") from exc
    finally:
        plt.close(fig)
    return lines


def _instant(time: str, unit: str) -> datetime:
    if unit == "day":
        return datetime.combine(date.fromisoformat(time), datetime.min.time())
    return datetime.fromisoformat(time.replace("Z", "+00:00")).replace(tzinfo=None)


def _step(previous: datetime, current: datetime, unit: str) -> bool:
    """True when `current` is not the bucket right after `previous` (a gap)."""
    seconds = (current - previous).total_seconds()
    return seconds > (90_000 if unit == "day" else 3_600)

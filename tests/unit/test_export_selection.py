"""Export's --start/--end are parsed, not compared as raw strings."""

from __future__ import annotations

import pytest

from collector.cli import main
from collector.core.streams import SESSIONS
from collector.errors import ConfigError
from collector.readout.export import Selection
from collector.store.base import StoredPoint

ROWS = [
    StoredPoint(("", ""), "day", "2024-01-09", "", "sessions", 1),
    StoredPoint(("", ""), "day", "2024-01-10", "", "sessions", 2),
    StoredPoint(("", ""), "hour", "2024-01-10T05:00:00Z", "", "sessions", 3),
    StoredPoint(("", ""), "hour", "2024-01-10T06:00:00Z", "", "sessions", 4),
]


class Store:
    def iter_points(self, workspace, stream):
        return iter(ROWS)


@pytest.mark.parametrize(
    ("start", "end", "values"),
    [
        ("2024-1-10", None, [2, 3, 4]),  # an unpadded date selects what the padded one does
        ("2024-1-9", "2024-1-10", [1]),
        ("2024-01-10T06:00:00+01:00", None, [3, 4]),  # an offset is converted to UTC hours
        ("2024-01-10T06:00:00Z", None, [4]),
    ],
)
def test_selection_times_are_normalised(start, end, values):
    """Dates and offset datetimes select by what they mean, whatever their spelling."""
    selection = Selection.of({}, None, start, end)
    rows = selection.rows(Store(), "default", SESSIONS)  # type: ignore[arg-type]
    assert [r[4] for r in rows] == values


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "2024-01-10T06:00:00", "10/01/2024"])
def test_an_unreadable_selection_time_is_a_usage_error_with_an_example(text):
    """Not a date, or a datetime without an offset: ConfigError (exit 2) naming an example."""
    with pytest.raises(ConfigError, match=r"e\.g\. --start 2024-01-10"):
        Selection.of({}, None, text, None)


def test_export_refuses_an_unreadable_start_with_exit_2(tmp_path, capsys):
    """`export --start yesterday` is a one-line usage error, not an empty export with exit 0."""
    assert main(["export", "--db", str(tmp_path / "none.db"), "--start", "yesterday"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "e.g. --start 2024-01-10" in err[0]

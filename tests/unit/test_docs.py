"""What the help and the Python API's docstring promise matches what the code does."""

from __future__ import annotations

from collector import api
from collector.cli import EXIT_BUDGET, build_parser


def test_help_epilog_lists_every_exit_code():
    """`collector --help` names exit 75 (a --max-requests/--deadline budget ran out)."""
    epilog = build_parser().epilog or ""
    for code in ("0", "1", "2", "3", "4", str(EXIT_BUDGET), "130", "143"):
        assert code in epilog.replace("/", " ").replace(",", " ").split(), code


async def test_api_key_file_beats_api_key_as_the_docstring_says(tmp_path, monkeypatch):
    """run(api_key=..., api_key_file=...) uses the file, and the docstring says so."""
    (tmp_path / "key").write_text("from-file\n", encoding="utf-8")
    seen = {}

    async def fake_collect(job, **kw):
        seen["key"] = job.api_key.get_secret_value()

    monkeypatch.setattr(api, "collect", fake_collect)
    await api.run(
        "backfill",
        api_key="from-argument",
        api_key_file=tmp_path / "key",
        endpoint="http://127.0.0.1:1",
        start="2024-01-01",
        end="2024-01-02",
        db=tmp_path / "x.db",
    )
    assert seen["key"] == "from-file"
    doc = " ".join((api.run.__doc__ or "").split())
    assert doc.index("api_key_file") < doc.index("else from `api_key`")

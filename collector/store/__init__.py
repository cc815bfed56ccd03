"""Where points, coverage and runs live: SQLite (the embedded default)."""

"""HTTP to Braze: the client (the only aiohttp importer) and the retry policy (the only tenacity importer)."""

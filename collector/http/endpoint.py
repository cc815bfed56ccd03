"""Where requests may go: the REST endpoint check, kept apart from the HTTP client so that
settings can be validated without importing aiohttp (a `--help` or a usage error stays fast)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from collector.errors import ConfigError

DEFAULT_TIMEOUT_S = 30.0


def check_endpoint(url: str) -> str:
    """A REST endpoint URL we may send a key to, without a trailing slash; else ConfigError."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018  (validates the port)
    except ValueError as exc:
        raise ConfigError(
            f"endpoint {url!r} is not a valid URL ({exc}): use your instance's REST endpoint, "
            "e.g. --endpoint https://rest.iad-01.braze.com"
        ) from exc
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError(
            f"endpoint {url!r} is not an http(s) URL: use your instance's REST endpoint, "
            "e.g. --endpoint https://rest.iad-01.braze.com"
        )
    if parts.scheme == "http" and not is_loopback(hostname):
        raise ConfigError(
            f"endpoint {url!r} uses plain http to a non-loopback host, which would expose the "
            "API key: use https://"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"endpoint {url!r} must be a bare scheme://host[:port][/path]")
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

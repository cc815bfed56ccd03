"""The API's answer to one request, before transport faults: status, headers and JSON body.

Checks run in this order (braze-api.md §9 rules 2–13), each failing with its own response:

1. key from `Authorization: Bearer` (any case), else the legacy `api_key` parameter: missing,
   unknown or quoted → 401 "Invalid API key", the only answer without `X-RateLimit-*` headers;
2. the key's workspace is inactive → 403 "Forbidden" (not counted);
3. the request is counted in its endpoint's pool (whatever happens next; the default pool for
   an unknown path or method); over that pool's limit → 429;
4. anything but `GET` on a known path → 404 "Not Found";
5. the key lacks the endpoint's permission → 403 "Access Denied";
6. the endpoint validates its parameters → 400 with a message;
7. 200 with the body.

The `X-RateLimit-*` headers describe the pool the request counted in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from collector.simulator.config import ApiKey, Pool, SimulatorConfig
from collector.simulator.context import BadRequest, Context
from collector.simulator.data import Dataset
from collector.simulator.endpoints import ROUTES
from collector.simulator.quota import Quota
from collector.simulator.routes import Route

JSON = "application/json"

_QUOTES = ("'", '"')


@dataclass(frozen=True)
class Reply:
    """A response to send. `charged` is true once the request counted against a workspace."""

    status: int
    body: bytes
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)
    charged: bool = False


def message(status: int, text: str, headers: dict[str, str], *, charged: bool = True) -> Reply:
    """A JSON `{"message": text}` reply."""
    body = json.dumps({"message": text}).encode()
    return Reply(status, body, headers=headers, charged=charged)


def pool_of(route: Route | None, config: SimulatorConfig) -> Pool:
    """The pool a request to `route` counts in (`default` when no route answers it)."""
    if route is None:
        return "default"
    return config.purchases_pool if route.pool == "purchases" else route.pool


class Api:
    """Answers requests from the configuration, the data set and the rate counters."""

    def __init__(self, config: SimulatorConfig, data: Dataset, quota: Quota) -> None:
        self._config = config
        self._data = data
        self._quota = quota
        self._keys = {k.key: k for k in config.keys}
        self._workspaces = {w.id: w for w in config.workspaces}

    def answer(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        authorization: str | None,
        now: float,
        *,
        omit_rate_headers: bool = False,
    ) -> Reply:
        """The reply to one request arriving at `now`."""
        key = self._key(authorization, params)
        if key is None:
            return message(401, "Invalid API key", {}, charged=False)
        workspace = self._workspaces[key.workspace]
        route = ROUTES.get(path) if method == "GET" else None
        pool = pool_of(route, self._config)
        if not workspace.active:
            state = self._quota.peek(workspace.id, pool, now)
            headers = {} if omit_rate_headers else state.headers()
            return message(403, "Forbidden", headers, charged=False)
        state = self._quota.charge(workspace.id, pool, now)
        headers = {} if omit_rate_headers else state.headers()
        if state.exceeded:
            if self._config.emit_retry_after:
                headers["Retry-After"] = str(state.retry_after)
            if self._config.emit_x_ratelimit_retry_after:
                headers["X-RateLimit-Retry-After"] = str(state.retry_after)
            return message(429, "Rate limit exceeded", headers)
        if route is None:
            return message(404, "Not Found", headers)
        if route.permission not in key.permissions:
            return message(403, "Access Denied", headers)
        try:
            body = route.handle(Context(self._config, self._data, workspace, now), params)
        except BadRequest as exc:
            return message(400, str(exc), headers)
        return Reply(200, body, headers=headers, charged=True)

    def _key(self, authorization: str | None, params: dict[str, str]) -> ApiKey | None:
        """The known, unquoted key the request presents, if any."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            text: str | None = token.strip()
        elif self._config.legacy_api_key_param:
            text = params.get("api_key")
        else:
            text = None
        if not text or text.startswith(_QUOTES) or text.endswith(_QUOTES):
            return None
        return self._keys.get(text)

"""Injected faults: which request gets which (seeded), and what the client receives instead.

The same seeded dice also decide each request's extra latency and whether its rate-limit headers
go missing. Every request consumes the same number of draws from each generator, in arrival
order, whatever it turns out to be, so a seed fixes the fault sequence of a request sequence
(braze-api.md §9 rule 22). Faults are drawn in a fixed order and the first that hits wins, so a
request has at most one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from collector.simulator.api import Reply, message
from collector.simulator.config import Faults

FaultKind = Literal["500", "502", "503", "504", "drop", "truncated", "hang"]

# (config field, fault kind), in the order they are drawn
_DRAW_ORDER: tuple[tuple[str, FaultKind], ...] = (
    ("error_500", "500"),
    ("error_502_html", "502"),
    ("error_503", "503"),
    ("error_504_empty", "504"),
    ("drop_connection", "drop"),
    ("truncated_json", "truncated"),
    ("hang", "hang"),
)

BAD_GATEWAY_HTML = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Roll:
    """What chance decided for one request."""

    fault: FaultKind | None
    cut: float  # where a truncated body is cut, as a share of its length
    latency_s: float  # extra real delay before answering
    omit_rate_headers: bool


class Dice:
    """The simulator's seeded generators: faults and cut points, latency, header omission."""

    def __init__(self, faults: Faults, *, seed: int, omit_headers_probability: float) -> None:
        self._faults = faults
        self._omit_p = omit_headers_probability
        self._fault_rng = random.Random(faults.seed)
        self._latency_rng = random.Random(f"{faults.seed}:latency")
        self._header_rng = random.Random(f"{seed}:headers")

    def roll(self) -> Roll:
        """Draw the fate of the next request to arrive."""
        hits = [self._fault_rng.random() < getattr(self._faults, f) for f, _ in _DRAW_ORDER]
        fault = next((kind for hit, (_, kind) in zip(hits, _DRAW_ORDER, strict=True) if hit), None)
        cut = self._fault_rng.random()
        mean_s = self._faults.latency_ms / 1000
        if self._faults.latency_distribution == "exponential" and mean_s > 0:
            latency_s = self._latency_rng.expovariate(1 / mean_s)
        else:
            latency_s = mean_s
        omit = self._header_rng.random() < self._omit_p
        return Roll(fault, cut, latency_s, omit)


def injected(fault: FaultKind, reply: Reply, cut: float) -> Reply:
    """What the client receives instead of `reply` under `fault` (not for "drop").

    Error faults keep the rate-limit headers: the request was counted. "truncated" is a 200 whose
    body is a strict prefix of the real one; "hang" only delays the real reply.
    """
    if fault == "500":
        return message(500, "Internal Server Error", reply.headers)
    if fault == "502":
        return Reply(502, BAD_GATEWAY_HTML, "text/html", reply.headers, charged=True)
    if fault == "503":
        return message(503, "Service Unavailable", reply.headers)
    if fault == "504":
        return Reply(504, b"", None, reply.headers, charged=True)
    if fault == "truncated":
        prefix = reply.body[: 1 + int(cut * (len(reply.body) - 1))]
        return Reply(200, prefix, reply.content_type, reply.headers, charged=True)
    return reply

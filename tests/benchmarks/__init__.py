"""Benchmarks of the real `collector` CLI against the embedded simulator (`make bench`).

Not tests: nothing here asserts on time. Each benchmark starts the simulator in its own process,
runs the CLI (and, for comparison, a bare aiohttp loop) as measured child processes, and returns
figures; `python -m tests.benchmarks` prints one JSON line per figure and a table. BENCHMARKS.md
at the top of the repository says what each one measures and holds the latest figures.

Modules: harness (processes, CPU and peak RSS via wait4), bare (the bare aiohttp loop and the
one-window-at-a-time naive client), storebench (SQLite commits alone), saturation, overhead,
scale, naive (one benchmark each), __main__ (runs them all).
"""

"""collector: bulk, resumable, rate-aware collection of Braze analytics time series."""

__version__ = "0.1.0"

"""collector: bulk, resumable, rate-aware collection of Braze analytics time series."""

__version__ = "0.1.0"

from collector.api import run
from collector.config import Settings
from collector.errors import CollectorError, ConfigError
from collector.models import RunReport

__all__ = ["CollectorError", "ConfigError", "RunReport", "Settings", "__version__", "run"]

"""collector: bulk, resumable, rate-aware collection of Braze analytics time series."""

__version__ = "0.1.0"

from collector.api import run
from collector.config import Settings
from collector.core.models import RunReport
from collector.errors import CollectorError, ConfigError

__all__ = ["CollectorError", "ConfigError", "RunReport", "Settings", "__version__", "run"]

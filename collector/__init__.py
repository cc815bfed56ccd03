"""collector: bulk, resumable, rate-aware collection of Braze analytics time series."""

__version__ = "0.1.0"

from collector.api import run  # noqa: E402
from collector.config import Settings  # noqa: E402
from collector.errors import CollectorError, ConfigError  # noqa: E402
from collector.models import RunReport  # noqa: E402

__all__ = ["CollectorError", "ConfigError", "RunReport", "Settings", "__version__", "run"]

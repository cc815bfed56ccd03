"""The request budget per (workspace, pool): in-process (aiolimiter) and, later, shared."""

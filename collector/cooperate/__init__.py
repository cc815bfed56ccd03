"""Several collector processes on one PostgreSQL: leases on windows, one shared budget per pool."""
